// Package khiputest is an in-memory Khipu REST API v2 for tests, like
// net/http/httptest for Khipu: a real HTTP server on loopback, started by one
// call and closed by one call, that a khipu.Client talks to through
// khipu.WithBaseURL.
//
// The server checks every request as Khipu does: the Authorization signature
// (403 with Khipu's JSON error when it is wrong), the parameters (400 with
// field errors: required fields, amount format, booleans, dates, URLs), and
// who may see what (a payment or a merchant of another account is a 403). It
// keeps payments in memory through their life — pending, paid (Pay), deleted,
// confirmed, refunded — and answers the notification-token lookup a shop makes
// when Khipu notifies it. Pay plays the payer: it marks a payment done and
// POSTs Khipu's notification to the payment's notify_url.
//
//	srv := khiputest.NewServer("12345", "test-secret")
//	defer srv.Close()
//	client, _ := khipu.NewClient("12345", "test-secret", khipu.WithBaseURL(srv.URL()))
//
// Every payment also has a payment page at its payment_url, with a "Pay"
// button that pays it and sends the browser to its return_url, so that a shop
// can be tried by hand without a Khipu account.
//
// FailNext makes the next requests to an endpoint fail with a chosen status,
// to test a caller's error handling; Requests returns what the server
// received, to assert what a caller sent.
//
// A Server is safe for concurrent use.
package khiputest

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/khipu-go/khipu/internal/sign"
)

// APIPath is the path below the server's address where the API lives, as
// Khipu's lives at https://khipu.com/api/2.0. URL includes it.
const APIPath = "/api/2.0"

// The endpoints of Khipu's API v2, as FailNext and Request.Endpoint name
// them.
const (
	EndpointBanksList          = "GET /banks"
	EndpointPaymentByToken     = "GET /payments"
	EndpointPaymentsCreate     = "POST /payments"
	EndpointPaymentsGet        = "GET /payments/{id}"
	EndpointPaymentsDelete     = "DELETE /payments/{id}"
	EndpointPaymentsConfirm    = "POST /payments/{id}/confirm"
	EndpointPaymentsRefund     = "POST /payments/{id}/refunds"
	EndpointReceiversCreate    = "POST /receivers"
	EndpointPaymentMethodsList = "GET /merchants/{id}/paymentMethods"
)

// maxRequestBody caps a request body: Khipu's largest request, a payment
// with a 4096-character custom field, is a few KiB.
const maxRequestBody = 64 << 10

// Request is one API request the server received, for assertions.
type Request struct {
	Method   string // GET, POST or DELETE
	Path     string // below URL(), e.g. "/payments/abc123def456"
	Endpoint string // the endpoint it matched, e.g. EndpointPaymentsGet; empty for none
	// Params are the request's parameters: its query for GET and DELETE,
	// its decoded form body for POST.
	Params url.Values
	Header http.Header
	// ReceiverID is the account the Authorization header named, whether
	// or not its signature was valid.
	ReceiverID string
	Status     int // the status the server answered
}

// Server is an in-memory Khipu API v2 on loopback. Create it with NewServer
// and Close it when done.
type Server struct {
	srv      *httptest.Server
	notifier *http.Client // POSTs notifications to notify_url
	ctx      context.Context
	stop     context.CancelFunc // ends notifications in flight when the server closes

	mu        sync.Mutex
	accounts  map[string]*account // by receiver id
	payments  map[string]*payment // by payment id
	byToken   map[string]*payment // by notification token
	requests  []Request
	faults    map[string][]int // by endpoint: statuses the next requests get
	receivers int64            // receiver ids handed out by POST /receivers
}

// account is a collection account the server knows: the one NewServer was
// given and those created with POST /receivers.
type account struct {
	id     string
	signer *sign.Signer
	parent string // the integrator account that created it; "" for none
}

// NewServer starts an in-memory Khipu on loopback whose collection account
// is receiverID with secret. Close it when done.
func NewServer(receiverID, secret string) *Server {
	s := &Server{
		accounts:  make(map[string]*account),
		payments:  make(map[string]*payment),
		byToken:   make(map[string]*payment),
		faults:    make(map[string][]int),
		receivers: 100000,
	}
	s.accounts[receiverID] = &account{id: receiverID, signer: sign.New(receiverID, secret)}

	mux := http.NewServeMux()
	for endpoint, h := range map[string]handlerFunc{
		EndpointBanksList:          s.listBanks,
		EndpointPaymentByToken:     s.getPaymentByToken,
		EndpointPaymentsCreate:     s.createPayment,
		EndpointPaymentsGet:        s.getPayment,
		EndpointPaymentsDelete:     s.deletePayment,
		EndpointPaymentsConfirm:    s.confirmPayment,
		EndpointPaymentsRefund:     s.refundPayment,
		EndpointReceiversCreate:    s.createReceiver,
		EndpointPaymentMethodsList: s.listPaymentMethods,
	} {
		method, path, _ := strings.Cut(endpoint, " ")
		mux.Handle(method+" "+APIPath+path, s.api(endpoint, h))
	}
	mux.Handle(APIPath+"/", s.api("", func(*call) response {
		return errorResponse(http.StatusNotFound, "no such endpoint in Khipu's API v2")
	}))
	mux.HandleFunc("GET "+payPagePath+"{id}", s.paymentPage)
	mux.HandleFunc("POST "+payPagePath+"{id}", s.payFromPage)

	s.ctx, s.stop = context.WithCancel(context.Background())
	s.notifier = &http.Client{
		Timeout:   30 * time.Second, // what Khipu waits for a shop's answer
		Transport: http.DefaultTransport.(*http.Transport).Clone(),
		// A redirect is a misconfigured notify_url, reported rather than
		// followed: following a 301 or 302 would turn the POST into a GET.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	s.srv = httptest.NewServer(mux) // last: it serves at once
	return s
}

// URL returns the base URL of the API, to pass to khipu.WithBaseURL:
// "http://127.0.0.1:<port>/api/2.0".
func (s *Server) URL() string { return s.srv.URL + APIPath }

// Close shuts the server down, waiting for the requests in flight. A
// notification in flight is abandoned rather than waited for, and Pay and
// Notify fail once the server is closed.
func (s *Server) Close() {
	s.stop()
	s.srv.Close()
	s.notifier.CloseIdleConnections()
}

// Requests returns the API requests the server has received so far, oldest
// first. Payment pages and notifications are not included.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Request, len(s.requests))
	for i, r := range s.requests {
		r.Params = cloneValues(r.Params)
		r.Header = r.Header.Clone()
		out[i] = r
	}
	return out
}

// FailNext makes the next times requests to endpoint (one of the Endpoint
// constants, e.g. EndpointPaymentsCreate) fail with status, before the
// server looks at them: nothing is created, paid or changed. Calls add up:
// FailNext(e, 503, 1) then FailNext(e, 502, 1) fails the next two requests,
// with 503 and then 502.
//
// A 400, 403 or 503 is answered with Khipu's JSON error for that status; any
// other status with an HTML page, as a proxy in front of Khipu would answer.
//
// A khipu.Client retries a read (GET) that fails with 502, 503 or 504, twice
// by default: to make such a call fail, make times exceed its retries, or
// give the client WithRetry(khipu.RetryPolicy{}), which turns retries off.
func (s *Server) FailNext(endpoint string, status, times int) error {
	if !slices.Contains(endpoints, endpoint) {
		return fmt.Errorf("khiputest: unknown endpoint %q; use one of the Endpoint constants", endpoint)
	}
	if status < 400 || status > 599 {
		return fmt.Errorf("khiputest: status %d is not an error status (400-599)", status)
	}
	if times < 1 {
		return fmt.Errorf("khiputest: times is %d, want at least 1", times)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for range times {
		s.faults[endpoint] = append(s.faults[endpoint], status)
	}
	return nil
}

var endpoints = []string{
	EndpointBanksList, EndpointPaymentByToken, EndpointPaymentsCreate, EndpointPaymentsGet,
	EndpointPaymentsDelete, EndpointPaymentsConfirm, EndpointPaymentsRefund,
	EndpointReceiversCreate, EndpointPaymentMethodsList,
}

// call is one authenticated API request, as a handler sees it.
type call struct {
	caller *account   // the account whose signature the request carries
	params url.Values // query or form parameters
	id     string     // the {id} path value, if any
}

// response is what a handler answers: a status and a value to write as JSON.
type response struct {
	status int
	body   any
	html   bool // body is a string of HTML, not a value for JSON
}

type handlerFunc func(*call) response

// api wraps the handler of an endpoint with what every request goes
// through, in Khipu's order: the body is read, an injected fault answers
// first, then the signature is checked, then the handler runs. Every request
// is recorded.
func (s *Server) api(endpoint string, h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := Request{
			Method:   r.Method,
			Path:     strings.TrimPrefix(r.URL.Path, APIPath),
			Endpoint: endpoint,
			Header:   r.Header.Clone(),
		}
		rec.ReceiverID, _, _ = strings.Cut(r.Header.Get("Authorization"), ":")
		params, resp := readParams(r)
		rec.Params = params
		if resp.status == 0 {
			resp = s.serve(endpoint, r, params, h)
		}
		rec.Status = resp.status
		s.mu.Lock()
		s.requests = append(s.requests, rec)
		s.mu.Unlock()
		resp.write(w)
	})
}

// serve answers a request whose parameters have been read.
func (s *Server) serve(endpoint string, r *http.Request, params url.Values, h handlerFunc) response {
	if status, ok := s.takeFault(endpoint); ok {
		return faultResponse(status)
	}
	// Khipu checks a signature against its own address, whatever Host the
	// request carries: a client signs the URL it sends the request to, so a
	// request sent through a proxy at another address fails, as at Khipu.
	s.mu.Lock()
	caller := s.authenticate(r.Header.Get("Authorization"), r.Method, s.srv.URL+r.URL.EscapedPath(), params)
	s.mu.Unlock()
	if caller == nil {
		return errorResponse(http.StatusForbidden, "invalid credentials: the Authorization header is not a valid signature of this request")
	}
	if endpoint == "" {
		return errorResponse(http.StatusNotFound, "no such endpoint in Khipu's API v2")
	}
	if errs := duplicated(params); errs != nil {
		return validationResponse(errs)
	}
	return h(&call{caller: caller, params: params, id: r.PathValue("id")})
}

func (s *Server) takeFault(endpoint string) (int, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	queue := s.faults[endpoint]
	if len(queue) == 0 {
		return 0, false
	}
	s.faults[endpoint] = queue[1:]
	return queue[0], true
}

// authenticate returns the account whose valid signature header carries, or
// nil. s.mu must be held.
func (s *Server) authenticate(header, method, fullURL string, params url.Values) *account {
	receiverID, _, ok := strings.Cut(header, ":")
	if !ok {
		return nil
	}
	acc := s.accounts[receiverID]
	if acc == nil || !acc.signer.Valid(header, method, fullURL, params) {
		return nil
	}
	return acc
}

// readParams returns the request's parameters: the query of a GET or
// DELETE, the form body of a POST. A non-zero response is the 400 that a
// malformed request gets.
func readParams(r *http.Request) (url.Values, response) {
	raw, err := io.ReadAll(io.LimitReader(r.Body, maxRequestBody+1))
	if err != nil {
		return nil, errorResponse(http.StatusBadRequest, "could not read the request body: "+err.Error())
	}
	if r.Method != http.MethodPost {
		q, err := url.ParseQuery(r.URL.RawQuery)
		if err != nil {
			return q, errorResponse(http.StatusBadRequest, "malformed query string: "+err.Error())
		}
		if len(raw) > 0 {
			return q, errorResponse(http.StatusBadRequest, "a "+r.Method+" request has no body")
		}
		return q, response{}
	}
	if r.URL.RawQuery != "" {
		return nil, errorResponse(http.StatusBadRequest, "a POST request sends its parameters in the body, not the query")
	}
	if len(raw) > maxRequestBody {
		return nil, errorResponse(http.StatusBadRequest, "request body larger than 64 KiB")
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); len(raw) > 0 && (err != nil || mt != "application/x-www-form-urlencoded") {
		return nil, errorResponse(http.StatusBadRequest, "the body must be application/x-www-form-urlencoded")
	}
	form, err := url.ParseQuery(string(raw))
	if err != nil {
		return form, errorResponse(http.StatusBadRequest, "malformed form body: "+err.Error())
	}
	return form, response{}
}

func (resp response) write(w http.ResponseWriter) {
	if resp.html {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(resp.status)
		_, _ = io.WriteString(w, resp.body.(string))
		return
	}
	body, err := json.Marshal(resp.body)
	if err != nil { // a bug in this package: say so rather than send half an answer
		http.Error(w, "khiputest: encoding the response: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(resp.status)
	_, _ = w.Write(body)
}

// ok answers 200 with v.
func ok(v any) response { return response{status: http.StatusOK, body: v} }

// khipuError is Khipu's JSON error body.
type khipuError struct {
	Status  int          `json:"status"`
	Message string       `json:"message"`
	Errors  []fieldError `json:"errors,omitempty"`
}

type fieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

func errorResponse(status int, message string) response {
	return response{status: status, body: khipuError{Status: status, Message: message}}
}

func validationResponse(errs []fieldError) response {
	return response{status: http.StatusBadRequest, body: khipuError{
		Status: http.StatusBadRequest, Message: "invalid parameters", Errors: errs,
	}}
}

// faultResponse is the answer to a request FailNext made fail.
func faultResponse(status int) response {
	switch status {
	case http.StatusBadRequest:
		return validationResponse([]fieldError{{Field: "khiputest", Message: "failure injected with FailNext"}})
	case http.StatusForbidden, http.StatusServiceUnavailable:
		return errorResponse(status, "failure injected with FailNext")
	}
	text := fmt.Sprintf("%d %s", status, http.StatusText(status))
	return response{status: status, html: true, body: "<html>\r\n<head><title>" + text +
		"</title></head>\r\n<body>\r\n<center><h1>" + text + "</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"}
}

// duplicated lists the parameters sent more than once: Khipu's parameters
// are single-valued, and only the first value of each is signed.
func duplicated(params url.Values) []fieldError {
	var errs []fieldError
	for _, k := range sortedKeys(params) {
		if len(params[k]) > 1 {
			errs = append(errs, fieldError{Field: k, Message: "sent more than once"})
		}
	}
	return errs
}

func sortedKeys(v url.Values) []string {
	keys := make([]string, 0, len(v))
	for k := range v {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func cloneValues(v url.Values) url.Values {
	if v == nil {
		return nil
	}
	out := make(url.Values, len(v))
	for k, vs := range v {
		out[k] = slices.Clone(vs)
	}
	return out
}

// randomString returns n random characters of alphabet.
func randomString(n int, alphabet string) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails on supported platforms (crypto/rand's guarantee)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

const (
	lowerDigits = "abcdefghijklmnopqrstuvwxyz0123456789"
	alnum       = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
)
