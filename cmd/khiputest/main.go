// Command khiputest runs khiputest, the in-memory Khipu of package
// github.com/khipu-go/khipu/khiputest, as a program, for the tests of shops
// written in any language:
//
//	go install github.com/khipu-go/khipu/cmd/khiputest@latest
//	khiputest -addr 127.0.0.1:8090 -receiver-id 12345 -secret S -api-key K
//
// (or go run github.com/khipu-go/khipu/cmd/khiputest@latest with the same
// flags). It prints its base URLs and credentials (random ones for the flags
// left out) and serves, on one address, Khipu's API v2 under /api/2.0, its
// API v3 under /v3, automatic payments under /v1/automatic-payment, the
// payment and mandate pages, the receipts of paid payments, and a control
// API under /khiputest/ that does what a Go test does with a
// khiputest.Server: pay a payment (or pay it and lose its notification:
// {"notify": false}), notify it again, set its status, authorize a
// subscription, fail the next requests to an endpoint, list the requests
// received, and move the server's clock forward so that payments expire
// (POST /khiputest/clock, {"advance": "90m"}; see
// khiputest.Server.ControlHandler). GET /khiputest/ lists its routes, and
// the endpoints fail-next takes ("POST /payments", "GET /v3/banks", ...).
// Notifications are sent when a payment is paid, and the control API's
// answer says how the shop answered.
//
// -secret is the collection account's secret, its "Llave secreta": it signs
// the account's v2 requests, and the notifications 3.0 sent to the shop,
// which verifies them with it. -api-key is what v3 requests carry in
// x-api-key.
//
// A notification or callback the shop does not accept is logged to stderr,
// one line each (level=WARN, with its payment_id, url, and the shop's status
// or the error), and is not sent again on its own, while Khipu would retry
// it (POST /khiputest/payments/{id}/notify sends a payment's notification
// again). Without retries, every notification a shop receives is one its
// test asked for, the control API's pay can answer with the shop's
// notify_status, and a payment page sends the payer back only once the shop
// has answered, so a browser test finds the shop notified.
//
// What a request sent that Khipu probably accepts but is likely a mistake
// (a null or unknown field in a v3 body) is accepted, logged to stderr as a
// warning and listed with the request in GET /khiputest/requests; with
// -strict it is refused with a 400 instead.
//
// GET /khiputest/requests lists the last 1000 API requests (-max-requests
// sets how many), with their credentials hidden: the program may run for
// days, and a list of every request would grow with them.
//
// -public-url is the address shops and browsers use to reach it when that
// is not -addr (another container, a tunnel): payment URLs point there, and
// v2 signatures are checked against it, as Khipu checks them against its
// own address.
//
// It logs one line per request to stderr and stops cleanly on SIGINT or
// SIGTERM, abandoning the notifications it is still sending (a control
// request waiting for one is answered with its notify_error). Everything is
// in memory: a restart forgets every payment.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
	_ "time/tzdata" // a date sent without an offset is Chile's time, on any machine

	"github.com/khipu-go/khipu/internal/wire"
	"github.com/khipu-go/khipu/khiputest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// config is what the flags say.
type config struct {
	addr, receiverID, secret, apiKey, publicURL string
	currencies                                  string
	refunds, strict                             bool
	maxRequests                                 int
}

// run runs the server until ctx ends and returns the exit code: 0 after a
// clean stop, 2 for bad flags, 1 when it cannot serve.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cfg, opts, err := parseFlags(args, stderr)
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(stderr, "khiputest:", err)
		}
		return 2
	}
	listener, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		fmt.Fprintln(stderr, "khiputest:", err)
		return 1
	}
	if cfg.publicURL == "" {
		cfg.publicURL = "http://" + reachable(listener.Addr())
	}
	// A notification paid from a payment page has no caller to hear that
	// the shop refused it: the log is where that shows.
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	srv := khiputest.NewServer(cfg.receiverID, cfg.secret, append(opts, khiputest.WithPublicURL(cfg.publicURL), khiputest.WithLogger(logger))...)
	defer srv.Close()

	mux := http.NewServeMux()
	mux.Handle(khiputest.ControlPath, srv.ControlHandler())
	mux.Handle("/", srv)
	web := &http.Server{
		Handler:           logRequests(log.New(stderr, "", log.LstdFlags|log.Lmicroseconds), mux),
		ReadHeaderTimeout: 10 * time.Second,
	}
	// A control request that pays or notifies waits for the shop's answer,
	// and Shutdown waits for that request: closing srv as Shutdown starts
	// abandons the notifications in flight, so that a shop that hangs does
	// not make the stop time out.
	web.RegisterOnShutdown(srv.Close)
	printBanner(stdout, listener.Addr(), srv, cfg)

	served := make(chan error, 1)
	go func() { served <- web.Serve(listener) }()
	select {
	case err := <-served:
		fmt.Fprintln(stderr, "khiputest:", err)
		return 1
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := web.Shutdown(shutdown); err != nil {
		fmt.Fprintln(stderr, "khiputest: stopping:", err)
		return 1
	}
	fmt.Fprintln(stderr, "khiputest: stopped")
	return 0
}

// parseFlags reads args into a config and the server options it asks for,
// making up the credentials it does not give. Its errors name the flag at
// fault, in the words of this program's users, who speak HTTP.
func parseFlags(args []string, stderr io.Writer) (cfg config, opts []khiputest.ServerOption, err error) {
	fs := flag.NewFlagSet("khiputest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.addr, "addr", "127.0.0.1:8090", "the `address` to listen on; port 0 picks a free one")
	fs.StringVar(&cfg.receiverID, "receiver-id", "", "the collection account's receiver `id`, a number, which v2 requests name (default: a random one)")
	fs.StringVar(&cfg.secret, "secret", "", "the collection account's `secret` (\"Llave secreta\"), which signs its v2 requests and its notifications 3.0 (default: a random one)")
	fs.StringVar(&cfg.apiKey, "api-key", "", "the account's API `key`, which v3 and automatic-payment requests carry in x-api-key (default: a random one)")
	fs.StringVar(&cfg.publicURL, "public-url", "", "the `URL` shops and browsers reach the server at, when it is not -addr's (a container, a tunnel)")
	fs.StringVar(&cfg.currencies, "currencies", "CLP", "the comma-separated `codes` of the currencies the account collects in: CLP, CLF, ARS, PEN, MXN, USD, EUR, BOB, COP")
	fs.BoolVar(&cfg.refunds, "refunds", true, "whether the account may refund payments")
	fs.BoolVar(&cfg.strict, "strict", false, "refuse with a 400, instead of accepting with a warning, what Khipu probably accepts but is likely a mistake: a null or unknown field in a v3 body, an integrator_fee from an account without an integrator")
	fs.IntVar(&cfg.maxRequests, "max-requests", 1000, "how many of the last API requests GET /khiputest/requests lists; older ones are forgotten, so that memory does not grow")
	if err := fs.Parse(args); err != nil {
		return cfg, nil, err
	}
	if fs.NArg() > 0 {
		return cfg, nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	// As Khipu's clients refuse them: the value is not echoed, as a
	// receiver id and a secret swapped would print the secret.
	if cfg.receiverID != "" && !wire.Digits(cfg.receiverID) {
		return cfg, nil, errors.New("-receiver-id: must be the number of a collection account, as Khipu's receiver ids are and its clients require (are -receiver-id and -secret swapped?)")
	}
	if strings.TrimSpace(cfg.secret) != cfg.secret {
		return cfg, nil, errors.New("-secret: has leading or trailing white space, which Khipu's clients refuse")
	}
	if cfg.receiverID == "" {
		n, _ := rand.Int(rand.Reader, big.NewInt(900000)) // never fails on supported platforms
		cfg.receiverID = fmt.Sprint(100000 + n.Int64())
	}
	if cfg.secret == "" {
		b := make([]byte, 20)
		_, _ = rand.Read(b)
		cfg.secret = hex.EncodeToString(b) // 40 hex digits, as Khipu's secrets
	}
	flags := []struct {
		name string
		set  bool
		make func() khiputest.ServerOption
	}{
		{"currencies", true, func() khiputest.ServerOption {
			return khiputest.WithCurrencies(strings.Split(cfg.currencies, ",")...)
		}},
		{"refunds", true, func() khiputest.ServerOption { return khiputest.WithRefunds(cfg.refunds) }},
		{"max-requests", true, func() khiputest.ServerOption { return khiputest.WithMaxRequests(cfg.maxRequests) }},
		{"strict", cfg.strict, khiputest.WithStrict},
		{"api-key", cfg.apiKey != "", func() khiputest.ServerOption { return khiputest.WithAPIKey(cfg.apiKey) }},
		// Checked here, used once the address is known.
		{"public-url", cfg.publicURL != "", func() khiputest.ServerOption { return khiputest.WithPublicURL(cfg.publicURL) }},
	}
	for _, f := range flags {
		if !f.set {
			continue
		}
		opt, err := option(f.name, f.make)
		if err != nil {
			return cfg, nil, err
		}
		if f.name != "public-url" {
			opts = append(opts, opt)
		}
	}
	return cfg, opts, nil
}

// option calls make, which builds the server option of the flag name from
// its value, and turns its panic, which says what is wrong with the value
// ("khiputest: WithCurrencies: ..."), into an error naming the flag instead
// of the Go function.
func option(name string, make func() khiputest.ServerOption) (opt khiputest.ServerOption, err error) {
	defer func() {
		if r := recover(); r != nil {
			msg := fmt.Sprint(r)
			if _, reason, ok := strings.Cut(strings.TrimPrefix(msg, "khiputest: "), ": "); ok {
				msg = reason
			}
			err = fmt.Errorf("-%s: %s", name, msg)
		}
	}()
	return make(), nil
}

// reachable is addr as a client on this machine reaches it: a listener on
// every interface is reached at 127.0.0.1.
func reachable(addr net.Addr) string {
	host, port, _ := net.SplitHostPort(addr.String())
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

// printBanner prints the server's URLs and credentials, one "name: value" a
// line after the first, for people and for scripts.
func printBanner(w io.Writer, addr net.Addr, srv *khiputest.Server, cfg config) {
	fmt.Fprintln(w, "khiputest: an in-memory Khipu for tests; no money moves.")
	for _, line := range [][2]string{
		{"listen_addr", addr.String()},
		{"api_v2_url", srv.URL()},
		{"receiver_id", cfg.receiverID},
		{"secret", cfg.secret},
		{"api_v3_url", srv.V3URL()},
		{"api_key", srv.APIKey()},
		{"payment_pages", srv.V3URL() + "/payment/info/{payment_id}"},
		{"control_url", srv.V3URL() + khiputest.ControlPath},
	} {
		fmt.Fprintf(w, "%s: %s\n", line[0], line[1])
	}
}

// logRequests logs one line per request: method, path, status, duration.
func logRequests(logger *log.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		logger.Printf("%s %s %d %s", r.Method, r.URL.Path, rec.status, time.Since(start).Round(time.Microsecond))
	})
}

// statusRecorder remembers the status a handler answered.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(status int) {
	r.status = status
	r.ResponseWriter.WriteHeader(status)
}
