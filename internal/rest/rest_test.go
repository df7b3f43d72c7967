package rest

// What package khipu's tests do not reach: requests that cannot be built, a
// request without headers, an answer nobody wants decoded, and the edges of
// Retry-After and of waiting. The pipeline itself is tested through the
// clients, on loopback, in package khipu.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// plainErrors is an Errors that says what it got.
type plainErrors struct{}

func (plainErrors) Check(status int, body []byte) error {
	if status >= 200 && status <= 299 {
		return nil
	}
	return fmt.Errorf("HTTP %d: %s", status, body)
}

func (plainErrors) Unexpected(status int, body []byte, reason string, cause error) error {
	return fmt.Errorf("unexpected HTTP %d (%s, %v): %s", status, reason, cause, body)
}

func (plainErrors) LogAttr(err error) slog.Attr { return slog.String("error", err.Error()) }
func (plainErrors) LogText(err error) string    { return err.Error() }

func testClient(hc *http.Client) *Client {
	return &Client{HTTP: hc, UserAgent: "khipu-go/test", Retry: Policy{MaxRetries: 2, MinBackoff: time.Millisecond, MaxBackoff: time.Millisecond}, Errors: plainErrors{}}
}

func TestARequestWithoutHeadersStillSendsTheUserAgent(t *testing.T) {
	got := make(chan http.Header, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- r.Header.Clone()
		_, _ = w.Write([]byte(`{}`))
	}))
	defer srv.Close()
	req := &Request{Method: http.MethodGet, URL: srv.URL + "/banks", Path: "/banks"}
	require.NoError(t, testClient(srv.Client()).Do(context.Background(), req, nil))
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
		err := testClient(hc).Do(context.Background(), req, nil)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "building request")
		assert.Contains(t, err.Error(), req.Method+" /banks")
	}
	assert.Zero(t, calls.Load())
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestAnAnswerNobodyWantsIsNotDecoded(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`not JSON at all`))
	}))
	defer srv.Close()
	req := &Request{Method: http.MethodDelete, URL: srv.URL + "/payments/x", Path: "/payments/x"}
	assert.NoError(t, testClient(srv.Client()).Do(context.Background(), req, nil))

	var out struct{}
	err := testClient(srv.Client()).Do(context.Background(), req, &out)
	assert.ErrorContains(t, err, "malformed JSON", "the same answer, wanted, is an error")
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
		d, ok := p.Wait(1, header)
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
