// Command webshop is a small net/http shop that takes payments with Khipu:
// a product page, orders stored with their amount and currency, a redirect to
// Khipu's payment page, a return page that says the payment is being verified
// and polls the order, and the notification endpoint that verifies with Khipu,
// checks the order and marks it paid exactly once.
//
// With no credentials it runs against an in-memory Khipu whose payment page
// has a "Pay" button, so the whole flow works in a browser without an account:
//
//	go run ./examples/webshop
//	# open http://127.0.0.1:8080
//
// With KHIPU_RECEIVER_ID and KHIPU_SECRET set (or -live) it uses real Khipu;
// then -public-url is required: the address where payers and Khipu reach the
// shop, notifications included.
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
	"github.com/khipu-go/khipu/khiputest"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "address to listen on")
	publicURL := flag.String("public-url", "", "URL where payers and Khipu reach the shop; required with real Khipu (default without: http://<addr>)")
	live := flag.Bool("live", false, "use real Khipu (needs KHIPU_RECEIVER_ID and KHIPU_SECRET)")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if err := serve(ctx, logger, *addr, *publicURL, *live || os.Getenv("KHIPU_RECEIVER_ID") != "" || os.Getenv("KHIPU_SECRET") != ""); err != nil {
		fmt.Fprintln(os.Stderr, "webshop:", err)
		os.Exit(1)
	}
}

// products is the shop's catalogue.
var products = []Product{
	{ID: "mate", Name: "Mate de calabaza", Price: khipu.NewAmount(12990), Currency: "CLP"},
	{ID: "poncho", Name: "Poncho de lana", Price: khipu.NewAmount(45000), Currency: "CLP"},
}

func serve(ctx context.Context, logger *slog.Logger, addr, publicURL string, live bool) error {
	var client *khipu.Client
	var err error
	if live {
		// Khipu must reach the notification endpoint: defaulting to the
		// listen address would leave every order unpaid.
		if u, err := url.Parse(publicURL); publicURL == "" || err != nil || u.Scheme == "" || u.Host == "" {
			return errors.New("with real Khipu, -public-url must be the absolute URL where Khipu reaches this shop, e.g. https://shop.example")
		}
		client, err = khipu.NewClient(os.Getenv("KHIPU_RECEIVER_ID"), os.Getenv("KHIPU_SECRET"), khipu.WithUserAgent("khipu-go-webshop"))
	} else {
		fake := khiputest.NewServer("12345", "webshop-secret")
		defer fake.Close()
		logger.Info("using an in-memory Khipu; its payment page has a Pay button", "khipu", fake.URL())
		client, err = khipu.NewClient("12345", "webshop-secret", khipu.WithBaseURL(fake.URL()))
	}
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	if publicURL == "" {
		publicURL = "http://" + browsable(ln.Addr().(*net.TCPAddr))
	}
	shop := &Shop{Client: client, Orders: NewStore(), Products: products, BaseURL: publicURL, Log: logger}
	srv := &http.Server{Handler: shop.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	logger.Info("shop open", "url", publicURL)
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
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
