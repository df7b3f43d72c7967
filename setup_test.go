package khipu_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/khipu-go/khipu"
	"github.com/khipu-go/khipu/internal/sign"
)

// Test credentials, the same as the signing vectors'.
const (
	testReceiverID = "12345"
	testSecret     = "abc123"
)

// setup starts a loopback server and returns its mux, a Client pointed at it
// and the server's base URL (what the client signs). Each test registers the
// handlers it needs on the mux. Retries wait 1 ms so retry tests run fast.
func setup(t *testing.T, opts ...khipu.Option) (*http.ServeMux, *khipu.Client, string) {
	t.Helper()
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	base := srv.URL + "/api/2.0"
	all := append([]khipu.Option{
		khipu.WithBaseURL(base),
		khipu.WithRetry(khipu.RetryPolicy{MaxRetries: 2, MinBackoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond}),
	}, opts...)
	c, err := khipu.NewClient(testReceiverID, testSecret, all...)
	require.NoError(t, err)
	return mux, c, base
}

// received is what a test server saw of one request.
type received struct {
	Method  string
	Path    string
	Query   url.Values
	Form    url.Values // the decoded POST body
	Header  http.Header
	RawBody string
	// SignatureOK says whether the Authorization header is the Khipu
	// signature of exactly what was received, checked by internal/sign.
	SignatureOK bool
	// HandSignature is the Authorization header an independent, hand-written
	// signer (benchHand in bench_test.go) computes for what was received.
	HandSignature string
}

// capture reads r as a Khipu server would and checks its signature against
// base, the URL prefix the client was given. It runs in the server's
// goroutine, so it reports problems with assert (t.Errorf), never require.
func capture(t *testing.T, r *http.Request, base string) received {
	t.Helper()
	raw, err := io.ReadAll(r.Body)
	assert.NoError(t, err)
	form, err := url.ParseQuery(string(raw))
	assert.NoError(t, err)
	params := r.URL.Query()
	if r.Method == http.MethodPost {
		params = form
	}
	u, err := url.Parse(base)
	if !assert.NoError(t, err) {
		return received{}
	}
	full := u.Scheme + "://" + u.Host + r.URL.Path
	ok := sign.New(testReceiverID, testSecret).Valid(r.Header.Get("Authorization"), r.Method, full, params)
	return received{
		Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Form: form,
		Header: r.Header.Clone(), RawBody: string(raw), SignatureOK: ok,
		HandSignature: newBenchHand(base).authorization(r.Method, full, params),
	}
}

// fixture returns the contents of testdata/name.
func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	return b
}

// respond writes body with the given status as Khipu does.
func respond(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
