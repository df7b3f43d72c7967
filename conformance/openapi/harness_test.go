package openapi

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"

	"github.com/khipu-go/khipu/khiputest"
)

// The khiputest account.
const (
	receiverID = "4242"
	secret     = "conformance-secret"
	apiKey     = "conformance-api-key"
)

// harness is a khiputest server behind a proxy that checks, against the
// document, every request it passes on and every answer it passes back.
type harness struct {
	fake     *khiputest.Server
	contract *contract
	proxy    *httptest.Server // give clients proxy.URL
	// shop takes every notification and callback of the fake: URLs a
	// payment notifies must be on loopback.
	shop *httptest.Server

	mu   sync.Mutex
	log  []exchange
	read int // how much of log next has returned
}

// exchange is one request through the proxy and its answer.
type exchange struct {
	method, path string
	query        url.Values // the request's query
	operation    string     // the document's operationId; "" for none
	request      []byte     // the request body
	status       int
	answer       []byte
	undone       []string // the names of the listed deviations the answer carried
	problems     []error  // where the request or the answer departs from the document
}

func newHarness(t *testing.T, opts ...khiputest.ServerOption) *harness {
	t.Helper()
	h := &harness{
		fake:     khiputest.NewServer(receiverID, secret, append(opts, khiputest.WithAPIKey(apiKey))...),
		contract: loadContract(t, apiKey),
	}
	t.Cleanup(h.fake.Close)
	h.proxy = httptest.NewServer(http.HandlerFunc(h.serve))
	t.Cleanup(h.proxy.Close)
	h.shop = httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	t.Cleanup(h.shop.Close)
	return h
}

func (h *harness) serve(w http.ResponseWriter, r *http.Request) {
	x := exchange{method: r.Method, path: r.URL.Path, query: r.URL.Query()}
	defer func() {
		h.mu.Lock()
		h.log = append(h.log, x)
		h.mu.Unlock()
	}()
	fail := func(err error) {
		x.problems = append(x.problems, err)
		http.Error(w, err.Error(), http.StatusBadGateway)
	}
	var err error
	if x.request, err = io.ReadAll(r.Body); err != nil {
		fail(err)
		return
	}
	in, err := h.contract.checkRequest(r, x.request)
	if err != nil {
		x.problems = append(x.problems, fmt.Errorf("request: %w", err))
	}
	if in != nil {
		x.operation = in.Route.Operation.OperationID
	}

	out, err := http.NewRequestWithContext(r.Context(), r.Method, h.fake.V3URL()+r.URL.RequestURI(), bytes.NewReader(x.request))
	if err != nil {
		fail(err)
		return
	}
	out.Header = r.Header.Clone()
	resp, err := http.DefaultClient.Do(out)
	if err != nil {
		fail(err)
		return
	}
	defer resp.Body.Close()
	x.status = resp.StatusCode
	if x.answer, err = io.ReadAll(resp.Body); err != nil {
		fail(err)
		return
	}
	if in != nil {
		x.undone, err = h.contract.checkAnswer(r.Context(), in, resp.StatusCode, resp.Header, x.answer, all)
		if err != nil {
			x.problems = append(x.problems, fmt.Errorf("answer %d %s: %w", resp.StatusCode, x.answer, err))
		}
	}
	for k, vs := range resp.Header {
		w.Header()[k] = vs
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = w.Write(x.answer)
}

// next returns the exchanges since the last call, each of which must
// conform to the document (but for the listed deviations): it fails the
// test where one does not.
func (h *harness) next(t *testing.T) []exchange {
	t.Helper()
	h.mu.Lock()
	xs := h.log[h.read:]
	h.read = len(h.log)
	h.mu.Unlock()
	for _, x := range xs {
		for _, p := range x.problems {
			t.Errorf("%s %s departs from Khipu's document: %v", x.method, x.path, p)
		}
	}
	return xs
}

// one returns the one exchange since the last call, which must be of
// operation op, answered with status.
func (h *harness) one(t *testing.T, op string, status int) exchange {
	t.Helper()
	xs := h.next(t)
	if len(xs) != 1 {
		t.Fatalf("%d requests went through the proxy; want 1 (%s)", len(xs), op)
	}
	x := xs[0]
	if x.operation != op || x.status != status {
		t.Fatalf("%s %s was operation %q answered %d; want %s answered %d: %s", x.method, x.path, x.operation, x.status, op, status, x.answer)
	}
	return x
}

// exchanges is every exchange so far.
func (h *harness) exchanges() []exchange {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]exchange(nil), h.log...)
}
