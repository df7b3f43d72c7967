// Automatic payments (Khipu's Automatic Payments API v1): subscriptions,
// the mandate page where a customer authorizes one, and the status
// callbacks. Charges are in charges.go.

package khiputest

import (
	"crypto/rand"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"

	"github.com/khipu-go/khipu/internal/phpjson"
)

// The endpoints of Khipu's Automatic Payments API v1, as FailNext and
// Request.Endpoint name them. Their paths are below V3URL, as v3's are.
const (
	EndpointSubscriptionsCreate = "POST /v1/automatic-payment/subscription"
	EndpointSubscriptionsGet    = "GET /v1/automatic-payment/subscription/{id}"
	EndpointChargesCreate       = "POST /v1/automatic-payment/charge-intent"
)

// apiAutomatic is the Automatic Payments API v1: it speaks as v3 does (the
// same host, x-api-key, JSON bodies, error bodies and escaping) below its
// own root.
var apiAutomatic = &dialect{
	v3: true, name: "Automatic Payments API v1", prefix: "", root: "/v1/automatic-payment/",
	bodyType: jsonType, faultJSON: apiV3.faultJSON,
}

// mandatePagePath is where the mandate pages live: Khipu's redirect_url is
// https://khipu.com/pac-manager/<id>.
const mandatePagePath = "/pac-manager/"

// routeAutomaticPayments serves the Automatic Payments API and the mandate
// pages on mux.
func (s *Server) routeAutomaticPayments(mux *http.ServeMux) {
	s.route(mux, apiAutomatic, map[string]handlerFunc{
		EndpointSubscriptionsCreate: s.createSubscription,
		EndpointSubscriptionsGet:    s.getSubscription,
		EndpointChargesCreate:       s.createCharge,
	})
	mux.HandleFunc("GET "+mandatePagePath+"{id}", s.mandatePage)
	mux.HandleFunc("POST "+mandatePagePath+"{id}", s.authorizeFromPage)
}

// mandate is where a subscription's debit mandate stands.
type mandate int

const (
	mandateUnsigned mandate = iota // created, not signed yet
	mandateSigned                  // signed by the customer; the bank has not enabled it yet
	mandateEnabled                 // enabled by the bank: it can be charged
	mandateDisabled                // disabled after it was created, for good
)

// status is how Khipu reports m. Khipu has three statuses and a new
// subscription must have one of them: one that nobody has signed yet is
// DISABLED, as one that was disabled is, with customer_bank_code "no-bank".
func (m mandate) status() string {
	switch m {
	case mandateSigned:
		return "SIGNED"
	case mandateEnabled:
		return "ENABLED"
	}
	return "DISABLED"
}

// The customer_bank_code of a subscription nobody has signed, and of one
// signed here. Khipu's description says the code is one of its Payment API's
// (whose bank ids are like "Bawdf") but its example shows "8": this server
// answers what the example shows.
const (
	noBank     = "no-bank"
	signedBank = "8"
)

// subscription is an automatic-payment mandate as the server keeps it.
type subscription struct {
	id        string
	receiver  string     // the account that created it, and whose charges it pays
	params    url.Values // what POST /subscription received
	maxAmount amount     // the most one charge may take
	mandate   mandate
	bankCode  string // customer_bank_code
}

// createSubscriptionParams are the parameters of POST /subscription, with
// the limits of Khipu's description; the currency is one the account
// collects in, as a payment's.
var createSubscriptionParams = rules{
	"name":              required(maxChars(255)),
	"email":             required(maxChars(255), email),
	"max_amount":        required(positiveAmount).as(kindNumber),
	"currency":          required(currencyCode),
	"notify_url":        required(absoluteURL),
	"return_url":        required(absoluteURL),
	"cancel_url":        required(absoluteURL),
	"service_reference": optional(maxChars(255)),
	"image_url":         optional(absoluteURL),
	"description":       optional(),
}

func (s *Server) createSubscription(c *call) response {
	errs := c.validate(createSubscriptionParams)
	if errs == nil {
		maxAmount, _ := parseAmount(c.params.Get("max_amount"))
		if msg := collects(s.currencies, c.params.Get("currency")); msg != "" {
			errs = []fieldError{{"currency", msg}}
		} else if msg := precision(c.params.Get("currency"), maxAmount); msg != "" {
			errs = []fieldError{{"max_amount", msg}}
		}
	}
	if errs != nil {
		return validationResponse(errs)
	}
	sub := &subscription{
		id:       newUUID(),
		receiver: c.caller.id,
		params:   cloneValues(c.params),
		bankCode: noBank,
	}
	sub.maxAmount, _ = parseAmount(sub.params.Get("max_amount"))
	s.mu.Lock()
	s.subscriptions[sub.id] = sub
	s.mu.Unlock()
	return ok(struct {
		SubscriptionID string `json:"subscription_id"`
		RedirectURL    string `json:"redirect_url"`
	}{sub.id, s.base + mandatePagePath + sub.id})
}

// subscriptionView is Khipu's answer to GET /subscription/{id}, its fields
// in the order of Khipu's example.
type subscriptionView struct {
	SubscriptionID   string `json:"subscription_id"`
	Status           string `json:"status"`    // upper case, as in Khipu's example
	Developer        bool   `json:"developer"` // a test server is a developer (sandbox) account
	CustomerBankCode string `json:"customer_bank_code"`
	ServiceReference string `json:"service_reference"`
}

func (s *Server) getSubscription(c *call) response {
	if errs := c.validate(nil); errs != nil {
		return validationResponse(errs)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sub := s.subscriptions[c.id]
	if sub == nil {
		return errorResponse(http.StatusNotFound, "no subscription has this id")
	}
	return ok(subscriptionView{
		SubscriptionID:   sub.id,
		Status:           sub.mandate.status(),
		Developer:        true,
		CustomerBankCode: sub.bankCode,
		ServiceReference: sub.params.Get("service_reference"),
	})
}

// SignSubscription plays a customer who has signed the subscription's
// mandate at their bank, which has not enabled it yet: its status becomes
// SIGNED and its customer_bank_code the bank's. Nothing is sent: Khipu's
// callbacks report only "enabled" and "disabled". It fails unless the
// subscription was never signed.
func (s *Server) SignSubscription(id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	sub, err := s.subscriptionIn(id, mandateUnsigned)
	if err != nil {
		return err
	}
	sub.mandate, sub.bankCode = mandateSigned, signedBank
	return nil
}

// AuthorizeSubscription plays the customer and their bank: the mandate of
// subscription id is signed and enabled, as the Authorize button of its
// mandate page does. Its status becomes ENABLED and its customer_bank_code
// the bank's, and then {"subscription_id": "...", "status": "enabled"} (in
// lower case, as Khipu's callbacks have it) is POSTed as JSON to the
// subscription's notify_url, waiting up to 30 s for the answer.
//
// It fails when there is no such subscription, when it is already ENABLED or
// was disabled (a disabled mandate is not signed again: create a new
// subscription), and with a *CallbackError when the callback was not answered
// with a 2xx status; the subscription stays ENABLED all the same, as at
// Khipu. A subscription that SignSubscription signed is enabled too.
func (s *Server) AuthorizeSubscription(id string) error {
	return s.changeMandate(id, mandateEnabled, "enabled", mandateUnsigned, mandateSigned)
}

// DisableSubscription plays the customer or their bank ending the mandate of
// subscription id: its status becomes DISABLED for good, and
// {"subscription_id": "...", "status": "disabled"} is POSTed as JSON to its
// notify_url. It fails when there is no such subscription or it was
// disabled already, and with a *CallbackError when the callback was not
// answered with a 2xx status (the subscription stays DISABLED).
func (s *Server) DisableSubscription(id string) error {
	return s.changeMandate(id, mandateDisabled, "disabled", mandateUnsigned, mandateSigned, mandateEnabled)
}

// changeMandate moves subscription id, which must be in one of the states
// from, to the state to, and sends the status callback that says so.
func (s *Server) changeMandate(id string, to mandate, callbackStatus string, from ...mandate) error {
	if err := s.closed(); err != nil {
		return err
	}
	s.mu.Lock()
	sub, err := s.subscriptionIn(id, from...)
	if err != nil {
		s.mu.Unlock()
		return err
	}
	sub.mandate = to
	if to == mandateEnabled {
		sub.bankCode = signedBank
	}
	notifyURL := sub.params.Get("notify_url")
	s.mu.Unlock()
	return s.callback(notifyURL, struct {
		SubscriptionID string `json:"subscription_id"`
		Status         string `json:"status"`
	}{id, callbackStatus}, CallbackError{SubscriptionID: id})
}

// subscriptionIn returns subscription id if it is in one of the states
// from. s.mu must be held.
func (s *Server) subscriptionIn(id string, from ...mandate) (*subscription, error) {
	sub := s.subscriptions[id]
	if sub == nil {
		return nil, fmt.Errorf("khiputest: no subscription %q", id)
	}
	for _, m := range from {
		if sub.mandate == m {
			return sub, nil
		}
	}
	switch sub.mandate {
	case mandateEnabled:
		return nil, fmt.Errorf("khiputest: subscription %s is ENABLED already", id)
	case mandateDisabled:
		return nil, fmt.Errorf("khiputest: subscription %s was disabled: a disabled mandate is not signed again; create a new subscription", id)
	}
	return nil, fmt.Errorf("khiputest: subscription %s is %s", id, sub.mandate.status())
}

// callback POSTs v as JSON to target, as Khipu sends the callbacks of
// automatic payments: unsigned. An answer other than 2xx, or none, is e
// completed with what happened.
func (s *Server) callback(target string, v any, e CallbackError) error {
	body, err := phpjson.Marshal(v)
	if err != nil { // strings always encode
		panic("khiputest: encoding a callback: " + err.Error())
	}
	status, answer, err := s.post(s.ctx, target, body, http.Header{"Content-Type": {jsonType}})
	if err != nil || !accepted(status) {
		what, attrs := "a status callback", []slog.Attr{slog.String("subscription_id", e.SubscriptionID)}
		if e.PaymentID != "" {
			what, attrs = "a charge error callback", append(attrs, slog.String("payment_id", e.PaymentID))
		}
		s.logUndelivered(s.ctx, what, status, answer, err, append(attrs, slog.String("url", target))...)
		e.URL, e.StatusCode, e.Body, e.Err = target, status, answer, err
		return &e
	}
	return nil
}

// CallbackError is a callback of automatic payments that was not delivered:
// a subscription's status callback (AuthorizeSubscription,
// DisableSubscription) or a charge's error callback (FailCharge). The shop's
// URL could not be reached (Err), or answered with a status other than 2xx.
// What the callback reports has happened all the same, as at Khipu.
type CallbackError struct {
	SubscriptionID string
	PaymentID      string // the failed charge's payment; "" for a status callback
	URL            string // the subscription's notify_url or the charge's error_response_url
	StatusCode     int    // 0 when no answer arrived
	Body           string // the start of the shop's answer
	Err            error  // why no answer arrived
}

// Error says which callback failed, where, and how.
func (e *CallbackError) Error() string {
	what := "the status callback of subscription " + e.SubscriptionID
	if e.PaymentID != "" {
		what = "the error callback of the charge of payment " + e.PaymentID
	}
	if e.Err != nil {
		return fmt.Sprintf("khiputest: %s to %s: %v", what, e.URL, e.Err)
	}
	return fmt.Sprintf("khiputest: %s to %s was answered %d: %.200q", what, e.URL, e.StatusCode, e.Body)
}

// Unwrap returns why no answer arrived, if that is what happened.
func (e *CallbackError) Unwrap() error { return e.Err }

var mandatePage = template.Must(template.New("mandate").Parse(`<!doctype html>
<meta charset="utf-8">
<title>khiputest: automatic payments for {{.Name}}</title>
<h1>Automatic payments: {{.Name}}</h1>
{{if .ImageURL}}<p><img src="{{.ImageURL}}" alt="" height="64"></p>{{end}}
{{if .Description}}<p>{{.Description}}</p>{{end}}
<p>Authorize charges of up to {{.MaxAmount}} {{.Currency}} each{{if .ServiceReference}} for {{.ServiceReference}}{{end}}, to the account of {{.Email}}.</p>
<p>Subscription {{.ID}} is <strong>{{.Status}}</strong>.</p>
{{if .Signable}}<form method="post"><button>Authorize with DemoBank</button></form>
<p><a href="{{.CancelURL}}">Cancel and go back to the shop</a></p>
{{else}}<p><a href="{{.ReturnURL}}">Back to the shop</a></p>{{end}}
<p><small>This is khiputest, an in-memory Khipu for tests: no mandate is signed and no money moves.</small></p>
`))

// mandatePage is the page at a subscription's redirect_url: what the
// customer sees at Khipu before signing with their bank, with a button that
// authorizes the mandate.
func (s *Server) mandatePage(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	sub := s.subscriptions[r.PathValue("id")]
	var data struct {
		ID, Name, Email, MaxAmount, Currency, Status                  string
		ServiceReference, Description, ImageURL, ReturnURL, CancelURL string
		Signable                                                      bool
	}
	if sub != nil {
		p := sub.params
		data.ID, data.Name, data.Email, data.Status = sub.id, p.Get("name"), p.Get("email"), sub.mandate.status()
		data.MaxAmount, data.Currency = sub.maxAmount.String(), p.Get("currency")
		data.ServiceReference, data.Description, data.ImageURL = p.Get("service_reference"), p.Get("description"), p.Get("image_url")
		data.ReturnURL, data.CancelURL = p.Get("return_url"), p.Get("cancel_url")
		data.Signable = sub.mandate == mandateUnsigned || sub.mandate == mandateSigned
	}
	s.mu.Unlock()
	if sub == nil {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = mandatePage.Execute(w, data)
}

// authorizeFromPage is the mandate page's Authorize button: it authorizes
// the subscription and sends the customer to its return_url. A callback the
// shop did not accept does not stop the customer; the server's logger
// (WithLogger), if any, hears of it.
func (s *Server) authorizeFromPage(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	s.mu.Lock()
	sub := s.subscriptions[id]
	s.mu.Unlock()
	if sub == nil {
		http.NotFound(w, r)
		return
	}
	err := s.AuthorizeSubscription(id)
	var ce *CallbackError
	if err != nil && !errors.As(err, &ce) {
		http.Error(w, err.Error(), http.StatusConflict)
		return
	}
	// return_url is never changed: no lock is needed to read it.
	http.Redirect(w, r, sub.params.Get("return_url"), http.StatusSeeOther)
}

// newUUID returns a random (version 4) UUID, as Khipu's subscription ids
// are.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails on supported platforms (crypto/rand's guarantee)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
