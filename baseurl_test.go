package khipu_test

// A client pointed at the wrong API (v2 at v3's address, v3 at v2's, either
// at a server that is not Khipu's) gets an error that says to check the base
// URL and what it should be, still of the typed error its answer makes.
// Khipu's own answers, a missing payment's 404 included, get no such hint.

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/khipu-go/khipu"
	"github.com/khipu-go/khipu/khiputest"
	"github.com/khipu-go/khipu/khipuv3"
)

const (
	v2Hint = "check the base URL: API v2's is https://khipu.com/api/2.0 (a khiputest server's URL())"
	v3Hint = "check the base URL: API v3's is the host root, https://payment-api.khipu.com (a khiputest server's V3URL()), without API v2's /api/2.0"
)

func TestTheHintsNameEachAPIsDefaultBaseURL(t *testing.T) {
	assert.Contains(t, v2Hint, " "+khipu.DefaultBaseURL+" ")
	assert.Contains(t, v3Hint, " "+khipuv3.DefaultBaseURL+" ")
}

// calls makes each kind of call a client makes: a read with and without an
// id, and a write.
type calls map[string]func(ctx context.Context) error

func v2Calls(t *testing.T, base string) calls {
	c, err := khipu.NewClient(testReceiverID, testSecret, khipu.WithBaseURL(base), noRetries)
	require.NoError(t, err)
	return calls{
		"Banks.List":      func(ctx context.Context) error { _, err := c.Banks.List(ctx); return err },
		"Payments.Get":    func(ctx context.Context) error { _, err := c.Payments.Get(ctx, "gqzdy6chjne9"); return err },
		"Payments.Create": func(ctx context.Context) error { _, err := c.Payments.Create(ctx, createParams()); return err },
	}
}

func v3Calls(t *testing.T, base, apiKey string) calls {
	c, err := khipuv3.NewClient(apiKey, khipuv3.WithBaseURL(base), khipuv3.WithRetry(khipu.RetryPolicy{}))
	require.NoError(t, err)
	return calls{
		"Banks.List":   func(ctx context.Context) error { _, err := c.Banks.List(ctx); return err },
		"Payments.Get": func(ctx context.Context) error { _, err := c.Payments.Get(ctx, "gqzdy6chjne9"); return err },
		"Payments.Create": func(ctx context.Context) error {
			_, err := c.Payments.Create(ctx, &khipuv3.PaymentCreateParams{Subject: "x", Currency: "CLP", Amount: khipu.NewAmount(1000)})
			return err
		},
	}
}

// plain starts a server that answers every request with code, contentType
// and body (status's answer), as a web server that is not Khipu's API does.
func plain(t *testing.T, code int, contentType, body string, headers ...string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(status(code, body, append(headers, "Content-Type", contentType)...)))
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestAWrongBaseURLSaysWhichItShouldBe(t *testing.T) {
	srv := khiputest.NewServer(testReceiverID, testSecret)
	t.Cleanup(srv.Close)
	notFoundPage := httptest.NewServer(http.NotFoundHandler()) // net/http's (and KrakenD's) "404 page not found"
	t.Cleanup(notFoundPage.Close)
	v2Forbidden := `{"status":403,"message":"Cobrador no autorizado"}` // API v2's documented AuthorizationError

	type want struct {
		status int
		typed  func(error) bool // the type the answer makes, hint or not
	}
	unexpected := func(err error) bool { var e *khipu.UnexpectedResponseError; return errors.As(err, &e) }
	authorization := func(err error) bool { var e *khipu.AuthorizationError; return errors.As(err, &e) }
	validation := func(err error) bool { var e *khipu.ValidationError; return errors.As(err, &e) }
	cases := []struct {
		name  string
		calls calls
		hint  string
		want  map[string]want // by call; every call when it has one entry "*"
	}{
		{"v2 at a khiputest server's V3URL", v2Calls(t, srv.V3URL()), v2Hint,
			map[string]want{"*": {404, unexpected}}},
		{"v2 at a plain 404 page", v2Calls(t, notFoundPage.URL), v2Hint,
			map[string]want{"*": {404, unexpected}}},
		{"v2 at Khipu's v3 host (KrakenD's 404 for a path it does not route)", v2Calls(t, plain(t, 404, "text/plain; charset=utf-8", "404 page not found")), v2Hint,
			map[string]want{"*": {404, unexpected}}},
		{"v2 at a khiputest server's V3URL + /v3 (v3 answers 401 without an API key)", v2Calls(t, srv.V3URL()+"/v3"), v2Hint,
			map[string]want{"Banks.List": {401, authorization}, "Payments.Get": {401, authorization}}},
		{"v3 at a khiputest server's URL (/api/2.0)", v3Calls(t, srv.URL(), srv.APIKey()), v3Hint,
			map[string]want{"Banks.List": {403, authorization}, "Payments.Get": {403, authorization}, "Payments.Create": {400, validation}}},
		{"v3 at a plain 404 page", v3Calls(t, notFoundPage.URL, srv.APIKey()), v3Hint,
			map[string]want{"*": {404, unexpected}}},
		{"v3 at Khipu's v2 address, answering v2's 403", v3Calls(t, plain(t, 403, "application/json", v2Forbidden)+"/api/2.0", "key"), v3Hint,
			map[string]want{"*": {403, authorization}}},
		{"v3 at Khipu's v2 address, answering an HTML 404", v3Calls(t, plain(t, 404, "text/html", "<html>No encontrado</html>")+"/api/2.0", "key"), v3Hint,
			map[string]want{"*": {404, unexpected}}},
		{"v2 at http:// (redirected to https)", v2Calls(t, plain(t, 301, "text/html", "<a>Moved</a>", "Location", "https://khipu.com/api/2.0/banks")+"/api/2.0"), v2Hint,
			map[string]want{"*": {301, unexpected}}},
		{"v3 at http:// (redirected to https)", v3Calls(t, plain(t, 308, "text/plain", "", "Location", "https://payment-api.khipu.com/v3/banks"), "key"), v3Hint,
			map[string]want{"*": {308, unexpected}}},
		{"v3 at a web site that answers every path with a page", v3Calls(t, plain(t, 200, "text/html", "<!doctype html><title>Khipu</title>"), "key"), v3Hint,
			map[string]want{"*": {200, unexpected}}},
	}
	for _, tc := range cases {
		for name, call := range tc.calls {
			w, ok := tc.want[name]
			if !ok {
				w, ok = tc.want["*"]
			}
			if !ok {
				continue
			}
			t.Run(tc.name+"/"+name, func(t *testing.T) {
				err := call(context.Background())
				require.Error(t, err)
				t.Log(err)
				assert.True(t, w.typed(err), "%T: %v", err, err)
				assert.Contains(t, err.Error(), "; "+tc.hint, "says to check the base URL and what it is")
				assert.NotContains(t, err.Error(), "wrong JSON type", "nor why a page is not JSON")
				assertOneLine(t, err.Error())
				var ae *khipu.APIError
				require.ErrorAs(t, err, &ae)
				assert.Equal(t, w.status, ae.StatusCode)
			})
		}
	}
}

func TestAWrongBaseURLErrorKeepsStatusAndBody(t *testing.T) {
	page := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(page.Close)
	err := v2Calls(t, page.URL)["Payments.Get"](context.Background())
	var ue *khipu.UnexpectedResponseError
	require.ErrorAs(t, err, &ue)
	assert.Equal(t, 404, ue.StatusCode)
	assert.Equal(t, "404 page not found\n", string(ue.Body))
	assert.Equal(t, `khipu: unexpected response (HTTP 404): HTTP status 404 without Khipu's JSON error; `+v2Hint+`: body "404 page not found\n"`, err.Error())
	var ae *khipu.APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, "404 page not found\n", string(ae.Body))
	assert.Equal(t, "HTTP status 404 without Khipu's JSON error; "+v2Hint, ae.Message)

	srv := khiputest.NewServer(testReceiverID, testSecret)
	t.Cleanup(srv.Close)
	err = v3Calls(t, srv.URL(), srv.APIKey())["Banks.List"](context.Background())
	var az *khipu.AuthorizationError
	require.ErrorAs(t, err, &az)
	assert.Equal(t, 403, az.StatusCode)
	assert.Equal(t, "invalid credentials: the Authorization header is not a valid signature of this request", az.Message, "Message is Khipu's, as sent")
	assert.Equal(t, "khipu: authorization error (HTTP 403): invalid credentials: the Authorization header is not a valid signature of this request; "+v3Hint, err.Error())
	require.ErrorAs(t, err, &ae)
	assert.Contains(t, string(ae.Body), `"status":403`)
}

func TestKhipusOwnAnswersGetNoBaseURLHint(t *testing.T) {
	srv := khiputest.NewServer(testReceiverID, testSecret)
	t.Cleanup(srv.Close)
	ctx := context.Background()
	noHint := func(t *testing.T, err error) {
		t.Helper()
		require.Error(t, err)
		assert.NotContains(t, err.Error(), "base URL", "a genuine answer of the right API")
	}

	// v3: an unknown payment is Khipu's JSON 404, a NotFoundError.
	c3, err := khipuv3.NewClient(srv.APIKey(), khipuv3.WithBaseURL(srv.V3URL()))
	require.NoError(t, err)
	_, err = c3.Payments.Get(ctx, "nosuchpayment")
	var ne *khipu.NotFoundError
	require.ErrorAs(t, err, &ne)
	noHint(t, err)
	assert.Equal(t, "khipu: not found (HTTP 404): no payment has this id", err.Error())

	// v3 with a wrong API key: 401.
	bad, err := khipuv3.NewClient("not-the-key", khipuv3.WithBaseURL(srv.V3URL()))
	require.NoError(t, err)
	_, err = bad.Banks.List(ctx)
	var ae *khipu.AuthorizationError
	require.ErrorAs(t, err, &ae)
	noHint(t, err)

	// v2 with a wrong secret: 403.
	c2, err := khipu.NewClient(testReceiverID, "not-the-secret", khipu.WithBaseURL(srv.URL()))
	require.NoError(t, err)
	_, err = c2.Banks.List(ctx)
	require.ErrorAs(t, err, &ae)
	noHint(t, err)

	// Synthetic answers of the right API: Khipu's JSON 404 in v2, a proxy's
	// HTML 502, a 503.
	for name, c := range map[string]*khipu.Client{
		"404 with Khipu's JSON": answerOnce(t, 404, "application/json", []byte(`{"status":404,"message":"Pago no encontrado"}`)),
		"502 HTML":              answerOnce(t, 502, "text/html", fixture(t, "error-502.html")),
		"503":                   answerOnce(t, 503, "application/json", fixture(t, "error-503.json")),
		"400":                   answerOnce(t, 400, "application/json", fixture(t, "error-400.json")),
		"403":                   answerOnce(t, 403, "application/json", fixture(t, "error-403.json")),
		"418 with JSON":         answerOnce(t, 418, "application/json", []byte(`{"message":"teapot"}`)),
	} {
		t.Run(name, func(t *testing.T) {
			_, err := c.Payments.Get(ctx, "gqzdy6chjne9")
			noHint(t, err)
		})
	}
}
