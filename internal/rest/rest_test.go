package rest

// What package khipu's tests do not reach: requests that cannot be built, a
// request without headers, an answer nobody wants decoded, and the edges of
// Retry-After and of waiting. The pipeline itself is tested through the
// clients, on loopback, in package khipu.

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func testClient(hc *http.Client) *Client {
	return &Client{HTTP: hc, UserAgent: "khipu-go/test", Retry: Policy{MaxRetries: 2, MinBackoff: time.Millisecond, MaxBackoff: time.Millisecond}}
}

func TestARequestWithoutHeadersStillSendsTheUserAgent(t *testing.T) {
	got := make(chan http.Header, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- r.Header.Clone()
		_, _ = w.Write([]byte(`{}`))
	}))
	defer srv.Close()
	req := &Request{Method: http.MethodGet, URL: srv.URL + "/banks", Path: "/banks"}
	_, _, err := testClient(srv.Client()).Do(context.Background(), req)
	require.NoError(t, err)
	assert.Equal(t, "khipu-go/test", (<-got).Get("User-Agent"))
}

func TestARequestThatCannotBeBuiltIsNeitherSentNorRetried(t *testing.T) {
	var calls atomic.Int32
	hc := &http.Client{Transport: roundTripFunc(func(*http.Request) (*http.Response, error) {
		calls.Add(1)
		return nil, errors.New("sent")
	})}
	for _, req := range []*Request{
		{Method: "BAD METHOD", URL: "http://127.0.0.1/banks", Path: "/banks"},
		{Method: http.MethodGet, URL: "http://[::1/banks", Path: "/banks"},
	} {
		resp, body, err := testClient(hc).Do(context.Background(), req)
		require.Error(t, err)
		assert.Nil(t, resp)
		assert.Nil(t, body)
		assert.Contains(t, err.Error(), "building request")
		assert.Contains(t, err.Error(), req.Method+" /banks")
	}
	assert.Zero(t, calls.Load())
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestEveryStatusIsAnAnswerForTheClientToMap(t *testing.T) {
	for _, status := range []int{200, 302, 400, 404, 418, 503} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Location", "/elsewhere")
			w.WriteHeader(status)
			_, _ = fmt.Fprintf(w, "answer %d", status)
		}))
		req := &Request{Method: http.MethodGet, URL: srv.URL + "/payments/x", Path: "/payments/x", Header: http.Header{"X-Api-Key": {"k"}}}
		resp, body, err := testClient(HTTPClient(srv.Client())).Do(context.Background(), req)
		srv.Close()
		require.NoError(t, err, "HTTP %d", status)
		assert.Equal(t, status, resp.StatusCode)
		assert.Equal(t, fmt.Sprintf("answer %d", status), string(body))
		assert.Equal(t, http.NoBody, resp.Body, "the body is read and closed: Body is an empty one")
		require.NotNil(t, resp.Request, "the request sent, whose headers tell the client's mapping which API it was")
		assert.Equal(t, "k", resp.Request.Header.Get("X-Api-Key"))
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	for header, want := range map[string]struct {
		d  time.Duration
		ok bool
	}{
		"0":                             {0, true},
		"5":                             {5 * time.Second, true},
		"30":                            {30 * time.Second, true},
		"31":                            {MaxRetryAfter + time.Second, true}, // longer than the cap
		"99999999999999999999":          {MaxRetryAfter + time.Second, true},
		"-1":                            {0, false},
		"-99999999999999999999":         {0, false},
		"1.5":                           {0, false},
		"soon":                          {0, false},
		"":                              {0, false},
		"Wed, 02 Dec 2026 12:00:10 GMT": {10 * time.Second, true},
		"Wed, 02 Dec 2026 11:59:00 GMT": {0, true}, // in the past: no wait
	} {
		d, ok := parseRetryAfter(header, now)
		assert.Equal(t, want.ok, ok, "%q", header)
		assert.Equal(t, want.d, d, "%q", header)
	}
}

func TestANegativeOrUnreadableRetryAfterIsIgnored(t *testing.T) {
	p := Policy{MaxRetries: 1, MinBackoff: 10 * time.Millisecond, MaxBackoff: 20 * time.Millisecond}
	for _, header := range []string{"-1", "-99999999999999999999", "soon"} {
		d, ok := p.Wait(1, header, time.Now())
		assert.True(t, ok, header)
		assert.GreaterOrEqual(t, d, 10*time.Millisecond, header)
		assert.LessOrEqual(t, d, 20*time.Millisecond, header)
	}
}

func TestSleepingNoTimeReturnsAtOnceWithTheContextsError(t *testing.T) {
	assert.NoError(t, sleep(context.Background(), 0))
	assert.NoError(t, sleep(context.Background(), -time.Second))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	assert.ErrorIs(t, sleep(ctx, 0), context.Canceled)
	assert.ErrorIs(t, sleep(ctx, time.Hour), context.Canceled, "an ended context ends a long wait")
}
