package khiputest

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/khipu-go/khipu"
	"github.com/khipu-go/khipu/internal/phpjson"
	"github.com/khipu-go/khipu/internal/wire"
)

// ControlPath is where ControlHandler's routes live.
const ControlPath = "/khiputest/"

// ControlHandler returns the control API of cmd/khiputest: HTTP routes below
// ControlPath that do what Pay, Notify, SetStatus, AuthorizeSubscription,
// FailNext and Requests do, for tests written in languages that cannot call
// Go. Bodies are JSON, in and out:
//
//	GET  /khiputest/                              an index of these routes
//	POST /khiputest/payments/{id}/pay             as Pay; with {"notify": false}, as PayWithoutNotifying
//	POST /khiputest/payments/{id}/notify          as Notify
//	POST /khiputest/payments/{id}/status          as SetStatus: {"status": "done", "status_detail": "reversed"}
//	POST /khiputest/subscriptions/{id}/authorize  as AuthorizeSubscription
//	POST /khiputest/fail-next                     as FailNext: {"endpoint": "POST /payments", "status": 503, "times": 1}
//	GET  /khiputest/requests                      as Requests, credentials hidden
//	POST /khiputest/clock                         moves the server's clock: {"advance": "90m"}
//
// The index answers {"routes": [{"route": "POST /khiputest/...", "does":
// "..."}], "endpoints": ["GET /banks", ...]}, the endpoints being those
// fail-next takes. The payment routes answer 200 with the payment's
// payment_id, status and status_detail; pay and notify add, for a payment
// with a notify_url, its notify_url, notify_status (the status the shop
// answered, 0 for none, or not yet with WithAsyncNotifications) and
// notify_error when the shop did not answer 2xx: the payment is paid all the
// same, as at Khipu. pay with {"notify": false} answers no notify_status:
// nothing was sent. fail-next answers what it queued (times is 1 when left
// out, and at most MaxFailNextTimes); requests, a list of {method, path,
// endpoint, params, body, header, receiver_id, status, warnings}, with the
// credentials in the headers hidden: Authorization keeps the receiver id it
// names ("12345:[redacted]"), and x-api-key is "[redacted]". authorize
// answers the subscription's subscription_id, status (ENABLED) and
// notify_url, and, when the shop did not answer its status callback with a
// 2xx, callback_status (0 for no answer) and callback_error. clock moves the
// server's clock forward by a Go duration, on top of WithClock's, and
// answers {"now": "<RFC 3339>"}: payments past their expires_date can no
// longer be paid (see controlClock).
//
// A payment or subscription that does not exist is a 404, an action it is
// not in a state for (paying a paid payment, notifying a pending one,
// authorizing an enabled subscription) a 409, a malformed body,
// a status pair Khipu does not report or a FailNext that would panic a 400,
// a route called with another method a 405 with an Allow header, and a path
// that is no route a 404, each with {"error": "..."}.
//
// The control API has no authentication: serve it only where the tests
// reach it, as cmd/khiputest does beside the Server, on the same address.
func (s *Server) ControlHandler() http.Handler {
	mux := http.NewServeMux()
	routes := []struct {
		method, path string
		handler      http.HandlerFunc
	}{
		{http.MethodPost, "payments/{id}/pay", s.controlPay},
		{http.MethodPost, "payments/{id}/notify", s.controlPayment(s.Notify, true)},
		{http.MethodPost, "payments/{id}/status", s.controlStatus},
		{http.MethodPost, "subscriptions/{id}/authorize", s.controlAuthorize},
		{http.MethodPost, "fail-next", s.controlFailNext},
		{http.MethodGet, "requests", s.controlRequests},
		{http.MethodPost, "clock", s.controlClock},
	}
	index := controlIndex{Routes: []controlRoute{{"GET " + ControlPath, "this index of the routes"}}, Endpoints: endpoints}
	methods := map[string][]string{"{$}": {http.MethodGet, http.MethodHead}} // by path: the methods it takes
	for _, r := range routes {
		route := r.method + " " + ControlPath + r.path
		mux.HandleFunc(route, r.handler)
		index.Routes = append(index.Routes, controlRoute{route, controlDocs[r.method+" "+r.path]})
		methods[r.path] = append(methods[r.path], r.method)
		if r.method == http.MethodGet { // ServeMux serves HEAD with GET's handler
			methods[r.path] = append(methods[r.path], http.MethodHead)
		}
	}
	mux.HandleFunc("GET "+ControlPath+"{$}", func(w http.ResponseWriter, _ *http.Request) { controlJSON(w, index) })
	// A route called with another method is a 405 naming the ones it takes,
	// not the 404 of the catch-all below: the path was right.
	for path, allowed := range methods {
		mux.HandleFunc(ControlPath+path, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Allow", strings.Join(allowed, ", "))
			controlError(w, http.StatusMethodNotAllowed, r.Method+" "+r.URL.Path+": this route of the khiputest control API takes "+strings.Join(allowed, " or "))
		})
	}
	var names []string
	for _, r := range index.Routes {
		names = append(names, r.Route)
	}
	mux.HandleFunc(ControlPath, func(w http.ResponseWriter, r *http.Request) {
		controlError(w, http.StatusNotFound, "no route "+r.Method+" "+r.URL.Path+" in the khiputest control API; its routes are "+
			strings.Join(names, ", "))
	})
	return mux
}

// controlIndex is what GET /khiputest/ answers.
type controlIndex struct {
	Routes    []controlRoute `json:"routes"`
	Endpoints []string       `json:"endpoints"` // what POST /khiputest/fail-next takes
}

// controlRoute is a route of the control API, as the index lists it.
type controlRoute struct {
	Route string `json:"route"` // "POST /khiputest/payments/{id}/pay"
	Does  string `json:"does"`
}

// controlDocs say what each route of the control API does, by its method
// and path below ControlPath.
var controlDocs = map[string]string{
	"POST payments/{id}/pay":            `the payer pays: the payment is done and its notification is POSTed to its notify_url; answers how the shop answered (notify_status, notify_error); with {"notify": false} the notification is lost`,
	"POST payments/{id}/notify":         "POSTs the notification of a payment that is done again, as it now is",
	"POST payments/{id}/status":         `puts the payment in a status Khipu documents, sending nothing: {"status": "done", "status_detail": "reversed"}`,
	"POST subscriptions/{id}/authorize": "the customer and their bank authorize the mandate: ENABLED, and its callback is POSTed to its notify_url",
	"POST fail-next":                    `the next requests to an endpoint fail with a status: {"endpoint": "POST /v3/payments", "status": 503, "times": 1}; the endpoints are listed below`,
	"GET requests":                      "the API requests received, oldest first, credentials hidden, each with its warnings",
	"POST clock":                        `moves the server's clock forward by a Go duration, so that payments expire: {"advance": "90m"}; answers {"now": "..."}`,
}

// controlAnswer is what a payment route answers.
type controlAnswer struct {
	PaymentID    string `json:"payment_id"`
	Status       string `json:"status"`
	StatusDetail string `json:"status_detail"`
	NotifyURL    string `json:"notify_url,omitempty"`
	NotifyStatus *int   `json:"notify_status,omitempty"`
	NotifyError  string `json:"notify_error,omitempty"`
}

// controlPayment serves a route that acts on a payment: act is Pay or
// Notify, which send its notification (notifies), or PayWithoutNotifying,
// whose answer has no notify_status, as nothing was sent.
func (s *Server) controlPayment(act func(paymentID string) error, notifies bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		if !s.exists(id) {
			controlError(w, http.StatusNotFound, "no payment "+id)
			return
		}
		err := act(id)
		var ne *NotificationError
		if err != nil && !errors.As(err, &ne) {
			controlError(w, http.StatusConflict, err.Error())
			return
		}
		s.mu.Lock()
		p := s.payments[id]
		answer := controlAnswer{PaymentID: id, Status: p.status, StatusDetail: p.statusDetail}
		if p.params.Has("notify_url") {
			answer.NotifyURL = p.params.Get("notify_url")
			if notifies {
				status := p.notify.status
				answer.NotifyStatus = &status
				if p.notify.err != nil {
					answer.NotifyError = p.notify.err.Error()
				}
			}
		}
		s.mu.Unlock()
		controlJSON(w, answer)
	}
}

func (s *Server) controlStatus(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Status       khipu.PaymentStatus `json:"status"`
		StatusDetail khipu.StatusDetail  `json:"status_detail"`
	}
	if !controlRead(w, r, &in) {
		return
	}
	id := r.PathValue("id")
	if err := checkStatus(in.Status, in.StatusDetail); err != nil {
		controlError(w, http.StatusBadRequest, err.Error())
		return
	}
	if err := s.SetStatus(id, in.Status, in.StatusDetail); err != nil {
		controlError(w, http.StatusNotFound, err.Error()) // the pair is valid: the payment is missing
		return
	}
	controlJSON(w, controlAnswer{PaymentID: id, Status: string(in.Status), StatusDetail: string(in.StatusDetail)})
}

func (s *Server) controlAuthorize(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	s.mu.Lock()
	sub := s.subscriptions[id]
	s.mu.Unlock()
	if sub == nil {
		controlError(w, http.StatusNotFound, "no subscription "+id)
		return
	}
	err := s.AuthorizeSubscription(id)
	var ce *CallbackError
	if err != nil && !errors.As(err, &ce) {
		controlError(w, http.StatusConflict, err.Error())
		return
	}
	s.mu.Lock()
	answer := struct {
		SubscriptionID string `json:"subscription_id"`
		Status         string `json:"status"`
		NotifyURL      string `json:"notify_url"`
		CallbackStatus *int   `json:"callback_status,omitempty"`
		CallbackError  string `json:"callback_error,omitempty"`
	}{SubscriptionID: id, Status: sub.mandate.status(), NotifyURL: sub.params.Get("notify_url")}
	s.mu.Unlock()
	if ce != nil {
		answer.CallbackStatus, answer.CallbackError = &ce.StatusCode, ce.Error()
	}
	controlJSON(w, answer)
}

func (s *Server) controlFailNext(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Endpoint string `json:"endpoint"`
		Status   int    `json:"status"`
		Times    *int   `json:"times"`
	}
	if !controlRead(w, r, &in) {
		return
	}
	times := 1
	if in.Times != nil {
		times = *in.Times
	}
	if err := checkFault(in.Endpoint, in.Status, times); err != nil {
		controlError(w, http.StatusBadRequest, err.Error())
		return
	}
	s.FailNext(in.Endpoint, in.Status, times)
	controlJSON(w, map[string]any{"endpoint": in.Endpoint, "status": in.Status, "times": times})
}

// controlRequest is a Request as the control API lists it.
type controlRequest struct {
	Method     string      `json:"method"`
	Path       string      `json:"path"`
	Endpoint   string      `json:"endpoint"`
	Params     url.Values  `json:"params"`
	Body       string      `json:"body"`
	Header     http.Header `json:"header"`
	ReceiverID string      `json:"receiver_id"`
	Status     int         `json:"status"`
	Warnings   []string    `json:"warnings"`
}

func (s *Server) controlRequests(w http.ResponseWriter, _ *http.Request) {
	list := []controlRequest{}
	for _, r := range s.Requests() {
		if r.Params == nil {
			r.Params = url.Values{} // {} rather than null: a v3 POST has its parameters in body
		}
		if r.Warnings == nil {
			r.Warnings = []string{}
		}
		list = append(list, controlRequest{
			Method: r.Method, Path: r.Path, Endpoint: r.Endpoint, Params: r.Params, Body: string(r.Body),
			Header: redacted(r.Header), ReceiverID: r.ReceiverID, Status: r.Status, Warnings: r.Warnings,
		})
	}
	controlJSON(w, list)
}

// redacted is h, a copy, with its credentials hidden as Khipu's clients
// hide them in their logs: a v2 signature keeps the receiver id it names
// (public, and the account the request claims to act as) and loses the
// hash, which anyone could replay; an API key, a proxy's credentials and
// cookies are replaced whole. The control API has no authentication, and a
// request list is what a test prints when it fails.
func redacted(h http.Header) http.Header {
	for name, values := range h {
		switch http.CanonicalHeaderKey(name) {
		case "Authorization":
			for i, v := range values {
				values[i] = "[redacted]"
				if id, _, ok := strings.Cut(v, ":"); ok && wire.Digits(id) {
					values[i] = id + ":[redacted]"
				}
			}
		case "X-Api-Key", "Proxy-Authorization", "Cookie":
			for i := range values {
				values[i] = "[redacted]"
			}
		}
	}
	return h
}

// exists reports whether the payment id exists and was not deleted.
func (s *Server) exists(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.payments[id]
	return p != nil && !p.deleted
}

// controlRead decodes r's JSON body into v, refusing unknown fields, or
// answers a 400 and returns false.
func controlRead(w http.ResponseWriter, r *http.Request, v any) bool {
	if err := decodeControl(io.LimitReader(r.Body, maxRequestBody), v); err != nil {
		controlError(w, http.StatusBadRequest, "the body must be a JSON object of this route's fields: "+err.Error())
		return false
	}
	return true
}

// decodeControl decodes the one JSON value of body into v, refusing
// unknown fields and anything after the value but white space.
func decodeControl(body io.Reader, v any) error {
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("more after the JSON object")
	}
	return nil
}

// controlJSON answers 200 with v.
func controlJSON(w http.ResponseWriter, v any) { controlWrite(w, http.StatusOK, v) }

// controlError answers status with {"error": message}.
func controlError(w http.ResponseWriter, status int, message string) {
	controlWrite(w, status, map[string]string{"error": message})
}

// controlWrite answers status with v as JSON, with <, > and & as they are:
// a shop's answer quoted in notify_error reads as the shop wrote it.
func controlWrite(w http.ResponseWriter, status int, v any) {
	body, err := phpjson.Plain(v)
	if err != nil { // a bug in this package: say so rather than send half an answer
		http.Error(w, "khiputest: encoding the answer: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", jsonType)
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n'))
}
