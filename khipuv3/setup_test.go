package khipuv3_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/khipu-go/khipu"
	"github.com/khipu-go/khipu/khipuv3"
)

// testAPIKey is the key every test client authenticates with. It looks like
// a real one so that a leak is easy to search for.
const testAPIKey = "kv3-TEST-api-key-7f3e9a1c5b2d4e6f"

// fake is a loopback Khipu: a mux the test registers answers on, behind a
// recorder that keeps what every request carried.
type fake struct {
	t    *testing.T
	mux  *http.ServeMux
	srv  *httptest.Server
	mu   sync.Mutex
	seen []received
}

// received is what the fake saw of one request.
type received struct {
	Method   string
	Path     string
	RawQuery string
	Query    url.Values
	Header   http.Header
	Body     string
	// ContentLength is what the request declared: -1 unknown, 0 none.
	ContentLength int64
}

func (f *fake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	raw, err := io.ReadAll(r.Body)
	assert.NoError(f.t, err) // the server's goroutine: never require
	f.mu.Lock()
	f.seen = append(f.seen, received{
		Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery, Query: r.URL.Query(),
		Header: r.Header.Clone(), Body: string(raw), ContentLength: r.ContentLength,
	})
	f.mu.Unlock()
	r.Body = io.NopCloser(bytes.NewReader(raw))
	f.mux.ServeHTTP(w, r)
}

// requests is every request the fake has received, in order.
func (f *fake) requests() []received {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]received(nil), f.seen...)
}

// count is how many requests the fake has received.
func (f *fake) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.seen)
}

// on answers requests matching pattern (a ServeMux pattern such as
// "GET /v3/banks") with status and body.
func (f *fake) on(pattern string, status int, body []byte) {
	f.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) { respond(w, status, body) })
}

// newFake starts a loopback Khipu.
func newFake(t *testing.T) *fake {
	t.Helper()
	f := &fake{t: t, mux: http.NewServeMux()}
	f.srv = httptest.NewServer(f)
	t.Cleanup(f.srv.Close)
	return f
}

// client is a Client for the fake, with retries that wait 1 ms.
func (f *fake) client(t *testing.T, opts ...khipuv3.Option) *khipuv3.Client {
	t.Helper()
	all := append([]khipuv3.Option{
		khipuv3.WithBaseURL(f.srv.URL),
		khipuv3.WithRetry(fastRetry),
	}, opts...)
	c, err := khipuv3.NewClient(testAPIKey, all...)
	require.NoError(t, err)
	return c
}

// fastRetry is the default number of retries with 1 ms waits.
var fastRetry = khipu.RetryPolicy{MaxRetries: 2, MinBackoff: time.Millisecond, MaxBackoff: time.Millisecond}

// setup starts a fake Khipu and a client for it.
func setup(t *testing.T, opts ...khipuv3.Option) (*fake, *khipuv3.Client) {
	t.Helper()
	f := newFake(t)
	return f, f.client(t, opts...)
}

// fixture returns the contents of name, a path under khipuv3/testdata, or
// under the module's testdata when it starts with "../".
func fixture(t testing.TB, name string) []byte {
	t.Helper()
	path := filepath.Join("testdata", name)
	if rest, ok := strings.CutPrefix(name, "../"); ok {
		path = filepath.Join("..", "testdata", rest)
	}
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return b
}

// realworld returns a body of ../testdata/realworld (see its SOURCES.md).
func realworld(t testing.TB, name string) []byte {
	t.Helper()
	return fixture(t, "../realworld/"+name)
}

// respond writes body with the given status as Khipu does.
func respond(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// rawFields decodes a JSON object into its members' raw text, so that a
// test sees how a number was written (1000, never 1000.0) and which members
// were left out.
func rawFields(t *testing.T, body string) map[string]string {
	t.Helper()
	var m map[string]json.RawMessage
	require.NoError(t, json.Unmarshal([]byte(body), &m), body)
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = string(v)
	}
	return out
}

// jsonDecode decodes a request's JSON body into v.
func jsonDecode(r *http.Request, v any) error {
	return json.NewDecoder(r.Body).Decode(v)
}

// within waits for a value on ch, or fails the test after 10 s: no wait of
// these tests can hang.
func within[T any](t testing.TB, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(10 * time.Second):
		t.Fatal("nothing arrived within 10 s")
		panic("unreachable")
	}
}
