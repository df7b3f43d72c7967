package khiputest

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/khipu-go/khipu/internal/sign"
)

// Server is an in-memory Khipu API v2 and v3 on loopback. Create it with
// NewServer and Close it when done.
type Server struct {
	srv      *httptest.Server // nil with WithPublicURL: the caller serves it
	handler  http.Handler     // what srv, or the caller, serves
	base     string           // the URL shops and browsers reach the server at, without a trailing /
	notifier *http.Client     // POSTs notifications to notify_url
	ctx      context.Context
	stop     context.CancelFunc // ends notifications in flight when the server closes
	owner    *account           // the account NewServer was given

	currencies []string                             // what every account collects in (WithCurrencies)
	refunds    bool                                 // whether accounts may refund (WithRefunds)
	async      bool                                 // notifications are delivered by goroutines of their own (WithAsyncNotifications)
	wg         sync.WaitGroup                       // those goroutines
	after      func(time.Duration) <-chan time.Time // how they wait between attempts: time.After, replaced in tests (export_test.go)
	log        *slog.Logger                         // where undelivered notifications and callbacks are logged (WithLogger); nil for nowhere
	now        func() time.Time                     // the time the server dates by and decides expiry by: WithClock's, moved by offset
	offset     atomic.Int64                         // how far POST /khiputest/clock moved the clock, in nanoseconds (clock.go)
	strict     bool                                 // refuse what is likely a mistake instead of warning (WithStrict)

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
	secret string // signs its v2 requests and its notifications 3.0
	signer *sign.Signer
	apiKey string // what its v3 requests carry in x-api-key
	parent string // the integrator account that created it; "" for none

	// Of an account created with POST /receivers, as GET
	// /v3/receivers/children lists it:
	name    string    // its business_name
	created time.Time // when it was created, by the server's clock
}

func newAccount(id, secret, apiKey, parent string) *account {
	return &account{id: id, secret: secret, signer: sign.New(id, secret), apiKey: apiKey, parent: parent}
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
		currencies: cfg.currencies,
		refunds:    cfg.refunds,
		async:      cfg.async,
		log:        cfg.logger,
		keep:       cfg.keep,
		strict:     cfg.strict,
		after:      time.After,
		notified:   make(chan struct{}),
		owner:      newAccount(receiverID, secret, cfg.apiKey, ""),
		accounts:   make(map[string]*account),
		payments:   make(map[string]*payment),
		byToken:    make(map[string]*payment),
		faults:     make(map[string][]fault),
		receivers:  100000,

		subscriptions: make(map[string]*subscription),
	}
	s.accounts[receiverID] = s.owner
	s.now = func() time.Time { return cfg.now().Add(time.Duration(s.offset.Load())) }

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
		EndpointV3ReceiversChildren:  s.listChildren,
		EndpointV3PaymentMethodsList: s.listPaymentMethods,
	})
	mux.HandleFunc("GET "+payPagePath+"{id}", s.paymentPage)
	mux.HandleFunc("POST "+payPagePath+"{id}", s.payFromPage)
	mux.HandleFunc("GET "+receiptPath+"{id}", s.receipt)
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
// /v3/ API v3, below /v1/automatic-payment/ automatic payments, below
// /payment/info/ a payment page, below /pac-manager/ a mandate page and
// below /receipts/ a receipt; any other is a 404.
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
func (s *Server) APIKey() string { return s.owner.apiKey }

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
