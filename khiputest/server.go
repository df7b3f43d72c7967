// Package khiputest is an in-memory Khipu for tests, like net/http/httptest
// for Khipu: a real HTTP server on loopback, started by one call and closed by
// one call, that speaks Khipu's REST API v2 (to a khipu.Client, through
// khipu.WithBaseURL) and its API v3 (to any HTTP client, through V3URL and
// APIKey) on the same port, over one store of payments.
//
// The server checks every request as Khipu does: the v2 Authorization
// signature (403 with Khipu's JSON error when it is wrong) or the v3
// x-api-key header (401 when it is missing or wrong), the parameters (400
// with field errors: required fields, amount format, booleans, dates, URLs,
// and the currencies the account collects in), and who may see what (a
// payment or a merchant of another account is a 403). It accepts what
// Khipu's own official clients send: the PHP client's dates without a colon
// in the offset (2026-12-03T00:55:00+0000) and its booleans as 1 and 0. It
// keeps payments in memory through their life — pending, paid (Pay),
// deleted, confirmed, refunded — and answers the notification-token lookup a
// shop makes when Khipu notifies it. Pay plays the payer: it marks a payment
// done and POSTs Khipu's notification to the payment's notify_url.
//
//	srv := khiputest.NewServer("12345", "test-secret")
//	defer srv.Close()
//	client, _ := khipu.NewClient("12345", "test-secret", khipu.WithBaseURL(srv.URL()))
//
// The account is Chilean: it collects in CLP only (WithCurrencies sets
// others) and may refund (WithRefunds(false) makes it an account that
// cannot).
//
// Every payment also has a payment page at its payment_url that shows the
// payment as it is, with a "Pay" button that pays it and sends the browser
// to its return_url while it can be paid, and a link to its cancel_url while
// it is not paid, so that a shop can be tried by hand without a Khipu
// account.
//
// # Failure paths
//
// A shop's tests should see what goes wrong at Khipu too:
//
//   - WithAsyncNotifications makes Pay return before the shop is notified,
//     as at Khipu, and retries the notification while the shop answers
//     anything but 2xx; WaitNotified waits for the shop's 2xx. Without it,
//     Pay and Notify deliver once and return the shop's refusal as an error.
//   - SetStatus puts a payment in any status and detail Khipu documents
//     (verifying, rejected-by-payer, marked-as-abuse, reversed...), and
//     Notify sends its notification again as it now is.
//   - FailNext makes the next requests to an endpoint fail with a chosen
//     status (Khipu's JSON error, or a proxy's HTML page), to test a caller's
//     error handling; Requests returns what the server received, to assert
//     what a caller sent.
//   - WithClock sets the time the server dates payments and notifications
//     by and decides expiry by, so that a test makes a payment expire, or
//     a notification 3.0 carry an old signature time, without sleeping.
//   - WithLogger logs every notification and callback the shop did not
//     accept, including those sent from a payment or mandate page, which
//     have no caller to return the error to.
//
// # Shops in other languages
//
// cmd/khiputest runs this server as a program, with a control API over HTTP
// (ControlHandler) that pays, notifies, sets statuses, fails the next
// requests and lists them, for tests that cannot call Go. WithPublicURL
// makes a Server that the caller serves (ServeHTTP) at an address of its
// own, such as another container's name or a tunnel.
//
// # API v3
//
// Khipu's API v3 is a gateway in front of v2, and so it is here: its paths
// start with /v3 below V3URL (the server's root, so that a v3 client is given
// V3URL as its base URL and sends GET <V3URL>/v3/banks), every request must
// carry the header x-api-key: <APIKey()>, bodies are JSON, and a payment
// created through one API is the same payment through the other. A v3 JSON
// body is checked against the same rules as v2's form, after a check of each
// field's JSON type: amount is a JSON number, send_email and send_reminders
// are JSON booleans, every other field (integrator_fee too) a JSON string;
// null, an unknown field and a field sent twice are refused, and so is a
// body that is not a JSON object or not sent as application/json. The v3
// payment rules differ from v2's only where Khipu's v3 description differs:
// notify_api_version is "3.0" or "1.3", body may have 5120 characters,
// integrator_fee 16, and psp_client_merchant_name is accepted. A v3 payment
// with a notify_url and no notify_api_version is notified with 3.0.
//
// Khipu does not document v3's error bodies. This server answers every v3
// error with the body of v2's errors, {"status": 401, "message": "..."}, with
// "errors": [{"field": "...", "message": "..."}] for a 400 about fields: a
// gateway in front of v2 passes v2's bodies on, and a client that reads
// message (and errors, when present) reads both. A payment that does not
// exist or was deleted is a 404 in v3 (a 400 naming payment_id in v2).
//
// v3 answers are shaped as Khipu's real ones (not as its OpenAPI examples):
// payment amounts and discount are strings with four decimals ("1000.0000"),
// receiver_id is a number, banks' min_amount is a string, dates carry
// milliseconds in UTC ("2025-05-09T18:20:28.000Z"), there is no webpay_url,
// and the JSON is written as PHP's json_encode writes it, with '/' escaped as
// "\/" and non-ASCII characters as \uXXXX (a Content-Length Khipu sent
// suggests its v3 answers are escaped like its notifications).
//
// GET /v3/predict answers deterministically: max_amount_exceeded when the
// amount is above 5,000,000 (the max_amount it reports), ok otherwise, with
// new_destinatary_max_amount 100,000 and a cool_down_date a day after the
// request.
//
// A payment whose notify_api_version is 3.0 is notified as Khipu's
// notifications 3.0 are: a POST of the payment as JSON (payment_id,
// receiver_id, subject, amount, discount, currency, receipt_url, bank,
// bank_id, payer_name, payer_email, personal_identifier,
// bank_account_number, out_of_date_conciliation, transaction_id,
// responsible_user_email, payment_method, conciliation_date, in the order of
// Khipu's example), escaped as above, with the header
// x-khipu-signature: t=<unix ms>,s=<base64 HMAC-SHA256 of t + "." + body>
// under the secret of the payment's collection account (the one given to
// NewServer for payments created with APIKey). A receiver must verify the
// bytes it received: re-encoding them gives other bytes and a signature that
// does not match.
//
// # Automatic payments
//
// Khipu's Automatic Payments API v1 lives beside v3, below V3URL, with the
// same API key and JSON rules: POST /v1/automatic-payment/subscription asks
// for a debit mandate, GET /v1/automatic-payment/subscription/{id} reports
// it, and POST /v1/automatic-payment/charge-intent charges it. Each
// subscription has a mandate page at its redirect_url
// (<V3URL>/pac-manager/<id>, as Khipu's are) with an "Authorize" button that
// authorizes it and sends the browser to its return_url, and a link to its
// cancel_url.
//
// A subscription starts DISABLED with customer_bank_code "no-bank" (Khipu
// has three statuses, DISABLED, SIGNED and ENABLED, and one nobody has
// signed must be one of them). AuthorizeSubscription plays the customer and
// their bank: the subscription becomes ENABLED, and its status callback,
// {"subscription_id": "...", "status": "enabled"}, is POSTed as JSON to its
// notify_url. DisableSubscription disables it for good (callback
// "disabled"). SignSubscription stops halfway: SIGNED is taken to mean
// signed by the customer but not yet enabled by the bank, and Khipu's
// callbacks report only enabled and disabled, so nothing is sent. Answers
// write the status in upper case and customer_bank_code as a number in a
// string ("8"), as Khipu's example does; callbacks write the status in lower
// case, as Khipu's description does; developer is true, as for Khipu's
// developer accounts. Callbacks are unsigned, as Khipu's are.
//
// A charge of an ENABLED subscription, for at least 1 and at most the
// subscription's max_amount in its currency, makes a pending payment in the
// same store as every other: visible through v2 and v3, paid by Pay and
// notified by its notify_api_version (3.0 unless the charge asks for 1.3).
// FailCharge makes a charge fail instead: its payment stays pending with
// status_detail rejected-by-payer and can no longer be paid, and
// {"subscription_id", "transaction_id", "error_message"} is POSTed as JSON
// to the charge's error_response_url.
//
// Where Khipu's description is silent this server chooses, and a shop should
// not rely on the choice: a charge of a subscription that is not ENABLED, or
// that does not exist, is a 400 naming subscription_id (Khipu may answer
// otherwise); a charge is in the subscription's currency (Khipu says a
// charge is in the currency of the merchant's account); a failed charge's
// payment is pending and rejected-by-payer; a disabled subscription is never
// enabled again.
//
// # What it does differently from Khipu
//
// A test that passes against khiputest proves what it checks, and no more.
// This server differs from Khipu where Khipu is not documented or cannot be
// played in memory:
//
//   - Error messages are its own, in English; the statuses, the error body's
//     shape and the fields named match Khipu's. Test a shop's handling by
//     status and field, not by message.
//   - It is stricter where Khipu's documentation is vague: it refuses an
//     optional parameter sent empty, an unknown parameter and one sent twice,
//     which Khipu may ignore. It takes dates in RFC 3339 and PHP's ISO 8601
//     forms only, and amounts with at most 4 decimals (none in CLP); it does
//     not know the decimals of other currencies, nor minimum or maximum
//     amounts of a payment (banks' min_amount is listed, not enforced).
//   - A refund by an account WithRefunds(false) is a 403; Khipu's answer is
//     not documented.
//   - Nothing happens on its own: a payment is paid only by Pay, its page or
//     the control API, never moves to verifying but through SetStatus, stays
//     pending past its expires_date (it just cannot be paid; WithClock
//     moves time for it), is never settled (confirm_timeout_date is not
//     enforced) and never leaves the store. Which status goes with which
//     detail is not documented by Khipu: SetStatus takes the plausible
//     pairs it lists.
//   - Khipu notifies a payment once it is reconciled; here Pay does that, and
//     Notify sends the notification of any payment that is done, whatever
//     its detail, so that a shop's refusal can be tested. Without
//     WithAsyncNotifications a notification is sent once, synchronously;
//     with it, it is retried after 10 ms, doubling up to 1 s, until
//     answered, while Khipu retries on a schedule it does not publish (for
//     up to two days, says its v3 description). A notification 1.2 is
//     1.3's form with api_version=1.2, and notification tokens never
//     expire.
//   - A paid payment always has the same payer: DemoBank, "Test Payer"
//     (unless payer_name was sent), 11.111.111-1, account 000012345678,
//     paid by simplified_transfer; its receipt_url leads nowhere and
//     attachment_urls is empty. No e-mail is sent (send_email,
//     send_reminders).
//   - The banks and payment methods are fixed lists; GET /v3/predict
//     answers from a fixed limit; integrator_fee and collect_account_uuid
//     are checked for form only.
//   - The payment page is one page for every method: there is no bank to
//     choose, simplified_transfer_url, transfer_url and webpay_url lead to
//     it, and app_url (khipu:///pos/<id>) opens nothing.
//   - POST /receivers makes an account usable at once, with a random
//     secret, that collects in the same currencies as the server's; in v3
//     only the server's API key exists, acting for the account NewServer was
//     given (and, as an integrator, for the accounts it created).
//   - Which secret signs notifications 3.0 is not certain at Khipu: here it
//     is the payment's collection account's secret.
//   - Automatic payments make the choices their section lists. Their status
//     and error callbacks are sent once and waited for, even with
//     WithAsyncNotifications (AuthorizeSubscription, DisableSubscription and
//     FailCharge return the shop's refusal), where Khipu's retries, if any,
//     are not documented.
//   - It speaks plain HTTP, has no rate limits, no latency and no
//     Retry-After, and forgets everything when closed.
//
// A Server is safe for concurrent use.
package khiputest

import (
	"cmp"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
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

// APIPath is the path below the server's address where the API v2 lives, as
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

// The endpoints of Khipu's API v3, as FailNext and Request.Endpoint name
// them. Their paths are below V3URL, which is the server's root.
const (
	EndpointV3BanksList          = "GET /v3/banks"
	EndpointV3PaymentsCreate     = "POST /v3/payments"
	EndpointV3PaymentsGet        = "GET /v3/payments/{id}"
	EndpointV3PaymentsDelete     = "DELETE /v3/payments/{id}"
	EndpointV3PaymentsConfirm    = "POST /v3/payments/{id}/confirm"
	EndpointV3PaymentsRefund     = "POST /v3/payments/{id}/refunds"
	EndpointV3Predict            = "GET /v3/predict"
	EndpointV3ReceiversCreate    = "POST /v3/receivers"
	EndpointV3PaymentMethodsList = "GET /v3/merchants/{id}/paymentMethods"
)

// maxRequestBody caps a request body: Khipu's largest request, a payment
// with a 4096-character custom field, is a few KiB.
const maxRequestBody = 64 << 10

// Request is one API request the server received, for assertions.
type Request struct {
	Method string // GET, POST or DELETE
	// Path is the request's path below URL() for v2, e.g.
	// "/payments/abc123def456", and below V3URL() for v3 and automatic
	// payments, e.g. "/v3/payments/abc123def456".
	Path     string
	Endpoint string // the endpoint it matched, e.g. EndpointPaymentsGet; empty for none
	// Params are the request's parameters: its query for GET and DELETE
	// (v2 and v3), its decoded form body for a v2 POST. A v3 POST has its
	// parameters in Body and none here.
	Params url.Values
	// Body is the request's body as received: a v3 POST's JSON, a v2
	// POST's form. It is empty for a request without one.
	Body   []byte
	Header http.Header
	// ReceiverID is, in v2, the account the Authorization header named,
	// whether or not its signature was valid; in v3, the account whose
	// x-api-key the request carried, or "" when the key was wrong.
	ReceiverID string
	Status     int // the status the server answered
}

// Server is an in-memory Khipu API v2 and v3 on loopback. Create it with
// NewServer and Close it when done.
type Server struct {
	srv      *httptest.Server // nil with WithPublicURL: the caller serves it
	handler  http.Handler     // what srv, or the caller, serves
	base     string           // the URL shops and browsers reach the server at, without a trailing /
	notifier *http.Client     // POSTs notifications to notify_url
	ctx      context.Context
	stop     context.CancelFunc // ends notifications in flight when the server closes
	apiKey   string             // what v3 requests carry in x-api-key
	owner    *account           // the account NewServer was given: the one apiKey acts as

	currencies []string                             // what every account collects in (WithCurrencies)
	refunds    bool                                 // whether accounts may refund (WithRefunds)
	async      bool                                 // notifications are delivered by goroutines of their own (WithAsyncNotifications)
	wg         sync.WaitGroup                       // those goroutines
	after      func(time.Duration) <-chan time.Time // how they wait between attempts: time.After, replaced in tests (export_test.go)
	log        *slog.Logger                         // where undelivered notifications and callbacks are logged (WithLogger); nil for nowhere
	now        func() time.Time                     // the time the server dates by and decides expiry by (WithClock)

	mu        sync.Mutex
	accounts  map[string]*account // by receiver id
	payments  map[string]*payment // by payment id
	byToken   map[string]*payment // by notification token
	requests  []Request           // oldest first
	keep      int                 // the most requests kept (WithMaxRequests); 0 for all
	faults    map[string][]fault  // by endpoint: what the next requests get, in order
	receivers int64               // receiver ids handed out by POST /receivers
	notified  chan struct{}       // closed and replaced when a notification attempt ends

	subscriptions map[string]*subscription // automatic-payment mandates, by id
}

// account is a collection account the server knows: the one NewServer was
// given and those created with POST /receivers.
type account struct {
	id     string
	secret string // signs its notifications 3.0
	signer *sign.Signer
	parent string // the integrator account that created it; "" for none
}

func newAccount(id, secret, parent string) *account {
	return &account{id: id, secret: secret, signer: sign.New(id, secret), parent: parent}
}

// NewServer starts an in-memory Khipu on loopback whose collection account
// is receiverID with secret: v2 requests signed with them and v3 requests
// carrying APIKey act as that account. Close it when done.
//
// With WithPublicURL it starts no listener of its own: the caller serves
// the Server, an http.Handler, at that URL.
func NewServer(receiverID, secret string, opts ...ServerOption) *Server {
	cfg := defaultConfig()
	for _, opt := range opts {
		opt(&cfg)
	}
	s := &Server{
		apiKey:     cfg.apiKey,
		currencies: cfg.currencies,
		refunds:    cfg.refunds,
		async:      cfg.async,
		log:        cfg.logger,
		keep:       cfg.keep,
		now:        cfg.now,
		after:      time.After,
		notified:   make(chan struct{}),
		owner:      newAccount(receiverID, secret, ""),
		accounts:   make(map[string]*account),
		payments:   make(map[string]*payment),
		byToken:    make(map[string]*payment),
		faults:     make(map[string][]fault),
		receivers:  100000,

		subscriptions: make(map[string]*subscription),
	}
	s.accounts[receiverID] = s.owner

	mux := http.NewServeMux()
	s.route(mux, apiV2, map[string]handlerFunc{
		EndpointBanksList:          s.listBanks,
		EndpointPaymentByToken:     s.getPaymentByToken,
		EndpointPaymentsCreate:     s.createPayment,
		EndpointPaymentsGet:        s.getPayment,
		EndpointPaymentsDelete:     s.deletePayment,
		EndpointPaymentsConfirm:    s.confirmPayment,
		EndpointPaymentsRefund:     s.refundPayment,
		EndpointReceiversCreate:    s.createReceiver,
		EndpointPaymentMethodsList: s.listPaymentMethods,
	})
	// v3 is a gateway in front of v2: the same handlers serve it.
	s.route(mux, apiV3, map[string]handlerFunc{
		EndpointV3BanksList:          s.listBanks,
		EndpointV3PaymentsCreate:     s.createPayment,
		EndpointV3PaymentsGet:        s.getPayment,
		EndpointV3PaymentsDelete:     s.deletePayment,
		EndpointV3PaymentsConfirm:    s.confirmPayment,
		EndpointV3PaymentsRefund:     s.refundPayment,
		EndpointV3Predict:            s.predict,
		EndpointV3ReceiversCreate:    s.createReceiver,
		EndpointV3PaymentMethodsList: s.listPaymentMethods,
	})
	mux.HandleFunc("GET "+payPagePath+"{id}", s.paymentPage)
	mux.HandleFunc("POST "+payPagePath+"{id}", s.payFromPage)
	s.routeAutomaticPayments(mux)

	s.ctx, s.stop = context.WithCancel(context.Background())
	s.notifier = &http.Client{
		Timeout:   30 * time.Second, // what Khipu waits for a shop's answer
		Transport: http.DefaultTransport.(*http.Transport).Clone(),
		// A redirect is a misconfigured notify_url, reported rather than
		// followed: following a 301 or 302 would turn the POST into a GET.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	s.handler = mux
	if cfg.publicURL != "" {
		s.base = cfg.publicURL
		return s
	}
	s.srv = httptest.NewUnstartedServer(mux)
	s.base = "http://" + s.srv.Listener.Addr().String()
	s.srv.Start() // last: it serves at once
	return s
}

// ServeHTTP serves Khipu's APIs and the payment pages, as the server does
// on its own address: how a Server made with WithPublicURL is served, at the
// root of that URL. A request whose path is below /api/2.0/ is API v2, below
// /v3/ API v3, below /payment/info/ a payment page; any other is a 404.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// route serves the endpoints of one API version, and a 404 for any other
// path below its root.
func (s *Server) route(mux *http.ServeMux, d *dialect, handlers map[string]handlerFunc) {
	for endpoint, h := range handlers {
		method, path, _ := strings.Cut(endpoint, " ")
		mux.Handle(method+" "+d.prefix+path, s.api(d, endpoint, h))
	}
	mux.Handle(d.root, s.api(d, "", nil))
}

// URL returns the base URL of the API v2, to pass to khipu.WithBaseURL:
// "http://127.0.0.1:<port>/api/2.0", or below the URL given to
// WithPublicURL.
func (s *Server) URL() string { return s.base + APIPath }

// V3URL returns the base URL of the API v3: the server's root,
// "http://127.0.0.1:<port>" (or the URL given to WithPublicURL), as every v3
// path starts with /v3 (Khipu's is https://payment-api.khipu.com). Pass it
// to a v3 client as its base URL.
func (s *Server) V3URL() string { return s.base }

// APIKey returns the API key the v3 endpoints accept in the x-api-key
// header: the one given to WithAPIKey, or a random one. Any other key, or
// none, is a 401.
func (s *Server) APIKey() string { return s.apiKey }

// Close shuts the server down, waiting for the requests in flight. A
// notification in flight or being retried is abandoned rather than waited
// for, and Pay and Notify fail once the server is closed. A Server made
// with WithPublicURL has no listener to close: stop serving it first.
func (s *Server) Close() {
	s.mu.Lock()
	s.stop() // under s.mu: no delivery starts after it (see Notify)
	s.mu.Unlock()
	s.wg.Wait()
	if s.srv != nil {
		s.srv.Close()
	}
	s.notifier.CloseIdleConnections()
}

// Requests returns the API requests the server has received so far, oldest
// first: all of them, or the last n with WithMaxRequests. Payment pages, the
// control API and notifications are not included.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Request, len(s.requests))
	for i, r := range s.requests {
		r.Params = cloneValues(r.Params)
		r.Body = slices.Clone(r.Body)
		r.Header = r.Header.Clone()
		out[i] = r
	}
	return out
}

// FailNext makes the next times requests to endpoint (one of the Endpoint
// constants, e.g. EndpointPaymentsCreate or EndpointV3PaymentsCreate) fail
// with status, before the server looks at them: nothing is created, paid or
// changed. Calls add up: FailNext(e, 503, 1) then FailNext(e, 502, 1) fails
// the next two requests, with 503 and then 502.
//
// In v2, a 400, 403 or 503 is answered with Khipu's JSON error for that
// status; in v3 and automatic payments, a 400, 401, 403, 404, 500 or 503.
// Any other status is answered with an HTML page, as a proxy in front of
// Khipu would answer.
//
// A khipu.Client retries a read (GET) that fails with 502, 503 or 504, twice
// by default: to make such a call fail, make times exceed its retries, or
// give the client WithRetry(khipu.RetryPolicy{}), which turns retries off.
//
// It panics when endpoint is not one of the Endpoint constants, status is
// not an HTTP error status (400-599) or times is less than 1 or more than
// MaxFailNextTimes: a test that meant to inject a failure and injected none
// would pass for the wrong reason, and one that asks for more failures than
// any test makes has a bug.
func (s *Server) FailNext(endpoint string, status, times int) {
	if err := checkFault(endpoint, status, times); err != nil {
		panic(err.Error())
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	// One entry per call, not per failure: what times costs in memory does
	// not depend on its value.
	s.faults[endpoint] = append(s.faults[endpoint], fault{status: status, remaining: times})
}

// MaxFailNextTimes is the most failures one FailNext call (or one POST
// /khiputest/fail-next) queues: more than any test makes, and a bound on a
// mistyped value. Calls add up, so a test that needs more calls FailNext
// again.
const MaxFailNextTimes = 1000

// fault is one FailNext call's failures still to come.
type fault struct {
	status    int
	remaining int // at least 1 while queued
}

// checkFault says what is wrong with FailNext's arguments, if anything.
func checkFault(endpoint string, status, times int) error {
	switch {
	case !slices.Contains(endpoints, endpoint):
		return fmt.Errorf("khiputest: FailNext with unknown endpoint %q; use one of the Endpoint constants, e.g. EndpointPaymentsCreate", endpoint)
	case status < 400 || status > 599:
		return fmt.Errorf("khiputest: FailNext with status %d, which is not an HTTP error status (400-599)", status)
	case times < 1:
		return fmt.Errorf("khiputest: FailNext with times %d; want at least 1", times)
	case times > MaxFailNextTimes:
		return fmt.Errorf("khiputest: FailNext with times %d; want at most %d (MaxFailNextTimes)", times, MaxFailNextTimes)
	}
	return nil
}

var endpoints = []string{
	EndpointBanksList, EndpointPaymentByToken, EndpointPaymentsCreate, EndpointPaymentsGet,
	EndpointPaymentsDelete, EndpointPaymentsConfirm, EndpointPaymentsRefund,
	EndpointReceiversCreate, EndpointPaymentMethodsList,
	EndpointV3BanksList, EndpointV3PaymentsCreate, EndpointV3PaymentsGet,
	EndpointV3PaymentsDelete, EndpointV3PaymentsConfirm, EndpointV3PaymentsRefund,
	EndpointV3Predict, EndpointV3ReceiversCreate, EndpointV3PaymentMethodsList,
	EndpointSubscriptionsCreate, EndpointSubscriptionsGet, EndpointChargesCreate,
}

// dialect is what differs between the API versions on the way in and out of
// the handlers, which both share.
type dialect struct {
	v3       bool
	name     string // for messages
	prefix   string // what stands before its endpoints' paths in a URL path
	root     string // the path every URL of this version lies below
	bodyType string // the media type of its POST bodies
	// faultJSON are the statuses FailNext answers with a JSON error; any
	// other with a proxy's HTML page.
	faultJSON []int
}

var (
	apiV2 = &dialect{
		name: "API v2", prefix: APIPath, root: APIPath + "/", bodyType: "application/x-www-form-urlencoded",
		faultJSON: []int{http.StatusBadRequest, http.StatusForbidden, http.StatusServiceUnavailable},
	}
	// v3 paths carry their /v3 in the Endpoint constants.
	apiV3 = &dialect{
		v3: true, name: "API v3", prefix: "", root: "/v3/", bodyType: jsonType,
		faultJSON: []int{
			http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound,
			http.StatusInternalServerError, http.StatusServiceUnavailable,
		},
	}
)

// call is one authenticated API request, as a handler sees it.
type call struct {
	caller *account   // the account whose signature or API key the request carries
	params url.Values // query or form parameters; a v3 POST's, once validate read them from body
	body   []byte     // the raw body
	id     string     // the {id} path value, if any
	v3     bool       // the request came through API v3
	json   bool       // its parameters are the JSON object in body
}

// validate reads the request's parameters and checks them against rs,
// returning one field error per parameter at fault. A v3 POST's JSON object
// is first checked for JSON types and translated into the parameters v2
// takes, so that both APIs are held to the same rules.
func (c *call) validate(rs rules) []fieldError {
	if !c.json {
		return validate(c.params, rs)
	}
	params, typeErrs := formFromJSON(c.body, rs)
	if errs := duplicated(params); errs != nil {
		return errs
	}
	c.params = params
	// A field of the wrong type was left out of params: what validate says
	// of it ("is required") is not news.
	errs := typeErrs
	for _, e := range validate(params, rs) {
		if !slices.ContainsFunc(typeErrs, func(t fieldError) bool { return t.Field == e.Field }) {
			errs = append(errs, e)
		}
	}
	slices.SortStableFunc(errs, func(a, b fieldError) int { return cmp.Compare(a.Field, b.Field) })
	return errs
}

// response is what a handler answers: a status and a value to write as JSON.
type response struct {
	status int
	body   any
	html   bool // body is a string of HTML, not a value for JSON
}

type handlerFunc func(*call) response

// api wraps the handler of an endpoint (nil for a path that is none) with
// what every request goes through, in Khipu's order: the body is read, an
// injected fault answers first, then the signature or API key is checked,
// then the handler runs. Every request is recorded.
func (s *Server) api(d *dialect, endpoint string, h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := Request{
			Method:   r.Method,
			Path:     strings.TrimPrefix(r.URL.Path, d.prefix),
			Endpoint: endpoint,
			Header:   r.Header.Clone(),
		}
		rec.ReceiverID = s.claimedReceiver(d, r)
		params, body, resp := readRequest(r, d.bodyType)
		rec.Params = params
		if len(body) > 0 {
			rec.Body = body
		}
		if resp.status == 0 {
			resp = s.serve(d, endpoint, r, params, body, h)
		}
		rec.Status = resp.status
		s.record(rec)
		resp.write(w, d)
	})
}

// record keeps rec for Requests, forgetting the oldest request when the
// server keeps no more (WithMaxRequests).
func (s *Server) record(rec Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.keep > 0 && len(s.requests) >= s.keep {
		// Dropped from the front, the oldest would stay in the array
		// until append moves it: clear it so that its body can go now.
		s.requests[0] = Request{}
		s.requests = s.requests[1:]
	}
	s.requests = append(s.requests, rec)
}

// serve answers a request whose parameters have been read.
func (s *Server) serve(d *dialect, endpoint string, r *http.Request, params url.Values, body []byte, h handlerFunc) response {
	if status, ok := s.takeFault(endpoint); ok {
		return faultResponse(d, status)
	}
	caller, resp := s.authenticate(d, r, params)
	if caller == nil {
		return resp
	}
	if h == nil {
		return errorResponse(http.StatusNotFound, "no such endpoint in Khipu's "+d.name)
	}
	if errs := duplicated(params); errs != nil {
		return validationResponse(errs)
	}
	return h(&call{
		caller: caller, params: params, body: body, id: r.PathValue("id"),
		v3: d.v3, json: d.v3 && r.Method == http.MethodPost,
	})
}

func (s *Server) takeFault(endpoint string) (int, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	queue := s.faults[endpoint]
	if len(queue) == 0 {
		return 0, false
	}
	status := queue[0].status
	if queue[0].remaining--; queue[0].remaining == 0 {
		s.faults[endpoint] = queue[1:]
	}
	return status, true
}

// authenticate returns the account the request acts as, or nil and the
// error to answer: a 403 for a v2 request without a valid signature, a 401
// for a v3 request without the API key.
func (s *Server) authenticate(d *dialect, r *http.Request, params url.Values) (*account, response) {
	if d.v3 {
		if acc := s.keyAccount(r); acc != nil {
			return acc, response{}
		}
		return nil, errorResponse(http.StatusUnauthorized, "missing or invalid API key: send it in the x-api-key header")
	}
	// Khipu checks a signature against its own address, whatever Host the
	// request carries: a client signs the URL it sends the request to, so a
	// request sent through a proxy at another address fails, as at Khipu.
	// Here that address is the public one (WithPublicURL), if any.
	s.mu.Lock()
	caller := s.signedBy(r.Header.Get("Authorization"), r.Method, s.base+r.URL.EscapedPath(), params)
	s.mu.Unlock()
	if caller == nil {
		return nil, errorResponse(http.StatusForbidden, "invalid credentials: the Authorization header is not a valid signature of this request")
	}
	return caller, response{}
}

// keyAccount returns the account whose API key the request carries, or nil.
func (s *Server) keyAccount(r *http.Request) *account {
	if subtle.ConstantTimeCompare([]byte(r.Header.Get("x-api-key")), []byte(s.apiKey)) != 1 {
		return nil
	}
	return s.owner
}

// claimedReceiver is the account a request says it acts as, for
// Request.ReceiverID.
func (s *Server) claimedReceiver(d *dialect, r *http.Request) string {
	if d.v3 {
		if acc := s.keyAccount(r); acc != nil {
			return acc.id
		}
		return ""
	}
	id, _, _ := strings.Cut(r.Header.Get("Authorization"), ":")
	return id
}

// signedBy returns the account whose valid signature header carries, or
// nil. s.mu must be held.
func (s *Server) signedBy(header, method, fullURL string, params url.Values) *account {
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

// readRequest returns the request's parameters and raw body: the query of a
// GET or DELETE, which has no body; the body of a POST, which has no query,
// sent as bodyType, and decoded into the parameters when that is a form. A
// non-zero response is the 400 that a malformed request gets.
func readRequest(r *http.Request, bodyType string) (url.Values, []byte, response) {
	raw, err := io.ReadAll(io.LimitReader(r.Body, maxRequestBody+1))
	if err != nil {
		return nil, raw, errorResponse(http.StatusBadRequest, "could not read the request body: "+err.Error())
	}
	if r.Method != http.MethodPost {
		q, err := url.ParseQuery(r.URL.RawQuery)
		if err != nil {
			return q, raw, errorResponse(http.StatusBadRequest, "malformed query string: "+err.Error())
		}
		if len(raw) > 0 {
			return q, raw, errorResponse(http.StatusBadRequest, "a "+r.Method+" request has no body")
		}
		return q, raw, response{}
	}
	if r.URL.RawQuery != "" {
		return nil, raw, errorResponse(http.StatusBadRequest, "a POST request sends its parameters in the body, not the query")
	}
	if len(raw) > maxRequestBody {
		return nil, raw, errorResponse(http.StatusBadRequest, "request body larger than 64 KiB")
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); len(raw) > 0 && (err != nil || mt != bodyType) {
		return nil, raw, errorResponse(http.StatusBadRequest, "the body must be "+bodyType)
	}
	if bodyType == jsonType { // read by the handler, against its rules
		if len(raw) > 0 && !isJSONObject(raw) {
			return nil, raw, errorResponse(http.StatusBadRequest, "the body is not a JSON object")
		}
		return nil, raw, response{}
	}
	form, err := url.ParseQuery(string(raw))
	if err != nil {
		return form, raw, errorResponse(http.StatusBadRequest, "malformed form body: "+err.Error())
	}
	return form, raw, response{}
}

// write sends resp as d writes its answers.
func (resp response) write(w http.ResponseWriter, d *dialect) {
	if resp.html {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(resp.status)
		_, _ = io.WriteString(w, resp.body.(string))
		return
	}
	encode := json.Marshal
	if d.v3 {
		encode = phpJSON
	}
	body, err := encode(resp.body)
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
func faultResponse(d *dialect, status int) response {
	switch {
	case status == http.StatusBadRequest:
		return validationResponse([]fieldError{{Field: "khiputest", Message: "failure injected with FailNext"}})
	case slices.Contains(d.faultJSON, status):
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
