// Command webshop is a small net/http shop that takes payments with Khipu,
// the way a real one does: orders in a database (SQLite, or PostgreSQL for
// more than one replica), a redirect to Khipu's payment page, a return page
// that polls until the order is paid, a cancel page, and the notification
// endpoint that verifies the payment, checks it against its order and marks
// the order paid exactly once, enforced by the database.
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
	getenv    func(string) string
}

func main() {
	cfg := config{getenv: os.Getenv}
	flag.StringVar(&cfg.addr, "addr", "127.0.0.1:8080", "address to listen on")
	flag.StringVar(&cfg.publicURL, "public-url", "", "URL where payers and Khipu reach the shop; required with real Khipu (default: http://<addr>)")
	flag.StringVar(&cfg.db, "db", "webshop.db", "the orders' database: a SQLite file, or postgres://user:password@host:port/database")
	flag.StringVar(&cfg.api, "api", "v2", "Khipu API version: v2 (KHIPU_RECEIVER_ID, KHIPU_SECRET) or v3 (KHIPU_API_KEY, KHIPU_SECRET)")
	flag.StringVar(&cfg.khipuURL, "khipu-url", "", "base URL of Khipu's API, e.g. a standalone khiputest's (default: Khipu's own; needs the credentials)")
	flag.BoolVar(&cfg.live, "live", false, "use real Khipu: fail when the credentials are missing instead of embedding an in-memory Khipu")
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
	store, err := OpenStore(ctx, cfg.db)
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
	shop := &Shop{Khipu: gw, Orders: store, Products: products, BaseURL: publicURL, Log: logger}
	srv := &http.Server{Handler: shop.Handler(), ReadHeaderTimeout: 10 * time.Second}
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
	logger.Info("shop open", "url", publicURL, "listen", ln.Addr().String(), "api", cfg.api, "db", store.dialect.name)
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

// browsable is the address a browser on this machine can open for a
// listener: one on every interface (":8080") is reached at localhost.
func browsable(a *net.TCPAddr) string {
	if a.IP.IsUnspecified() {
		return net.JoinHostPort("localhost", strconv.Itoa(a.Port))
	}
	return a.String()
}
