// Command webshop is a small net/http shop that takes payments with Khipu,
// the way a real one does: orders in a database (SQLite, or PostgreSQL for
// more than one replica) whose schema versioned migrations keep, a redirect
// to Khipu's payment page, a return page that polls the shop's database
// until the order is paid, a cancel page, the notification endpoint that
// verifies the payment, checks it against its order and marks the order
// paid exactly once, enforced by the database, and a reconciler that asks
// Khipu about the orders whose notification did not come (see README.md).
//
// With no credentials it runs against an in-memory Khipu whose payment page
// has a "Pay" button, so the whole flow works in a browser without an
// account:
//
//	cd examples/webshop && go run .
//	# open http://127.0.0.1:8080
//
// Flags:
//
//	-addr        address to listen on (127.0.0.1:8080)
//	-public-url  URL where payers and Khipu reach the shop; required with real Khipu
//	-db          a SQLite file (webshop.db) or postgres://user:pass@host/db
//	-api         v2 (KHIPU_RECEIVER_ID, KHIPU_SECRET) or v3 (KHIPU_API_KEY, KHIPU_SECRET)
//	-khipu-url   Khipu's API base URL, e.g. a standalone khiputest's; needs the credentials
//	-live        use real Khipu; fail rather than embed khiputest when credentials are missing
//	-pay-within  how long a payer has to pay: each payment's expires_date (24h)
//	-reconcile-every  the reconciler's round interval and first wait; later waits are 5, 30, 60 times it (1m)
//
// With credentials set (or -live) and no -khipu-url it uses real Khipu;
// then -public-url is required: the address where payers and Khipu reach
// the shop, notifications included.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/khipu-go/khipu"
)

// config is what the flags and the environment say.
type config struct {
	addr      string
	publicURL string
	db        string
	api       string // "v2" or "v3"
	khipuURL  string
	live      bool
	payWithin time.Duration
	// reconcileEvery is the reconciler's round interval and first wait.
	reconcileEvery time.Duration
	getenv         func(string) string
}

func main() {
	cfg := config{getenv: os.Getenv}
	flag.StringVar(&cfg.addr, "addr", "127.0.0.1:8080", "address to listen on")
	flag.StringVar(&cfg.publicURL, "public-url", "", "URL where payers and Khipu reach the shop; required with real Khipu (default: http://<addr>)")
	flag.StringVar(&cfg.db, "db", "webshop.db", "the orders' database: a SQLite file, or postgres://user:password@host:port/database")
	flag.StringVar(&cfg.api, "api", "v2", "Khipu API version: v2 (KHIPU_RECEIVER_ID, KHIPU_SECRET) or v3 (KHIPU_API_KEY, KHIPU_SECRET)")
	flag.StringVar(&cfg.khipuURL, "khipu-url", "", "base URL of Khipu's API, e.g. a standalone khiputest's (default: Khipu's own; needs the credentials)")
	flag.BoolVar(&cfg.live, "live", false, "use real Khipu: fail when the credentials are missing instead of embedding an in-memory Khipu")
	flag.DurationVar(&cfg.payWithin, "pay-within", defaultPayWithin, "how long a payer has to pay: the expires_date of each payment, after which the order closes unpaid")
	flag.DurationVar(&cfg.reconcileEvery, "reconcile-every", defaultCheckEvery,
		"how often the reconciler asks Khipu about orders whose notification has not come, and how long after an order it first does; later waits are 5, 30 and 60 times it")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if err := serve(ctx, logger, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "webshop:", err)
		os.Exit(1)
	}
}

// products is the shop's catalogue.
var products = []Product{
	{ID: "mate", Name: "Mate de calabaza", Price: khipu.NewAmount(12990), Currency: "CLP"},
	{ID: "poncho", Name: "Poncho de lana", Price: khipu.NewAmount(45000), Currency: "CLP"},
}

// shutdownGrace bounds how long a stopping shop waits for its requests in
// flight. Those are quick, but net/http's Shutdown also waits, for about 5 s,
// for a connection that has not sent its request yet, such as the one a
// browser opens ahead of time; a shorter grace would make every stop with a
// browser open a failure.
const shutdownGrace = 10 * time.Second

// serve runs the shop until ctx ends, then shuts it down gracefully.
func serve(ctx context.Context, logger *slog.Logger, cfg config) error {
	if cfg.payWithin < 0 || cfg.reconcileEvery < 0 {
		return errors.New("-pay-within and -reconcile-every must not be negative")
	}
	gw, err := newGateway(cfg, logger)
	if err != nil {
		return err
	}
	defer gw.close()
	if gw.real {
		// Khipu must reach the notification endpoint: defaulting to the
		// listen address would leave every order unpaid.
		if u, err := url.Parse(cfg.publicURL); cfg.publicURL == "" || err != nil || u.Scheme == "" || u.Host == "" {
			return errors.New("with real Khipu, -public-url must be the absolute URL where Khipu reaches this shop, e.g. https://shop.example")
		}
	}
	store, err := OpenStore(ctx, cfg.db, logger)
	if err != nil {
		return err
	}
	defer store.Close()

	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return err
	}
	publicURL := cfg.publicURL
	if publicURL == "" {
		publicURL = "http://" + browsable(ln.Addr().(*net.TCPAddr))
	}
	shop := &Shop{
		Khipu: gw, Orders: store, Products: products, BaseURL: publicURL, Log: logger,
		PayWithin: cfg.payWithin, CheckEvery: cfg.reconcileEvery,
	}
	srv := newHTTPServer(shop.Handler())
	// Shutdown calls this once it has closed the listener, while requests
	// are still in flight: the operator (and a test) learns the shop is
	// draining.
	srv.RegisterOnShutdown(func() { logger.Info("shop closing: finishing the requests in flight") })
	// shutdownDone gets Shutdown's result once every request in flight has
	// been answered, or the grace period is over.
	shutdownDone := make(chan error, 1)
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), shutdownGrace)
		defer cancel()
		shutdownDone <- srv.Shutdown(shutdown)
	}()
	// The reconciler runs until the shop stops; it ends before the store
	// closes (the deferred calls run after this one).
	reconciling, stopReconciling := context.WithCancel(ctx)
	var reconciler sync.WaitGroup
	defer reconciler.Wait()
	defer stopReconciling()
	reconciler.Go(func() { shop.Reconcile(reconciling) })

	logger.Info("shop open", "url", publicURL, "listen", ln.Addr().String(), "api", cfg.api, "db", store.dialect.name,
		"reconcile_every", shop.checkEvery(), "pay_within", shop.payWithin())
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	// Serve returns as soon as Shutdown starts. The handlers still running
	// use the store and the gateway, which the deferred calls close: wait
	// for them, or a notification being processed fails with a closed
	// database and its payment is not delivered.
	if err := <-shutdownDone; err != nil {
		// The grace period is over: the requests still running lose their
		// database; Khipu notifies again a notification it got no 2xx for.
		return fmt.Errorf("shutting down: requests still in flight after the grace period: %w", err)
	}
	return nil
}

// newHTTPServer is the shop's server, with limits for the internet: a
// client that sends its request slowly, or never reads the answer, or keeps
// a connection open doing nothing, or sends huge headers, is cut off rather
// than holding a connection and its goroutine for ever. The notification
// endpoint caps the body it reads besides (the library's handlers do).
func newHTTPServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		// The whole request, body included: forms and notifications are
		// small.
		ReadTimeout: 30 * time.Second,
		// Until the answer is written. The slowest handler is a v2
		// notification's, which asks Khipu for the payment, and Khipu waits
		// 30 s for it.
		WriteTimeout:   time.Minute,
		IdleTimeout:    2 * time.Minute,
		MaxHeaderBytes: 64 << 10,
	}
}

// browsable is the address a browser on this machine can open for a
// listener: one on every interface (":8080") is reached at localhost.
func browsable(a *net.TCPAddr) string {
	if a.IP.IsUnspecified() {
		return net.JoinHostPort("localhost", strconv.Itoa(a.Port))
	}
	return a.String()
}
