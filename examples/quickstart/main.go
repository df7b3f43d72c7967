// Command quickstart walks through Khipu's payment flow: create a payment,
// have it paid, receive Khipu's notification, verify it and check it against
// the order.
//
// With no credentials it runs against an in-memory Khipu (package khiputest),
// so it needs no account and no network:
//
//	go run ./examples/quickstart
//
// With -v3 it does the same with Khipu's API v3 and a signed notification
// 3.0, which the shop verifies itself (no call back to Khipu):
//
//	go run ./examples/quickstart -v3
//
// With KHIPU_RECEIVER_ID and KHIPU_SECRET set (v2), or KHIPU_API_KEY (-v3),
// it talks to real Khipu: it lists the banks, creates a payment, prints its
// payment URL and polls the payment until it is paid or you press Ctrl-C.
// KHIPU_NOTIFY_URL, if set, is sent as the payment's notify_url; with -v3 and
// KHIPU_SECRET too (the collection account's secret, "Llave secreta", which
// signs notifications 3.0 as it signs v2 requests), the quickstart also
// listens on KHIPU_LISTEN (default 127.0.0.1:8080) for the signed
// notification, which KHIPU_NOTIFY_URL must reach (a tunnel, say). KHIPU_BASE_URL, if set, replaces Khipu's address
// with another that speaks Khipu's API, such as a khiputest server.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"time"

	"github.com/khipu-go/khipu"
	"github.com/khipu-go/khipu/khiputest"
)

func main() {
	v3 := flag.Bool("v3", false, "use Khipu's API v3 and notifications 3.0 (KHIPU_API_KEY, and KHIPU_SECRET to verify them)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	quickstart := run
	if *v3 {
		quickstart = runV3
	}
	if err := quickstart(ctx, os.Stdout, os.Getenv); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart failed:", err)
		os.Exit(1)
	}
}

// order is what a shop knows about what it sold; a payment is delivered only
// when it matches.
type order struct {
	ID       string
	Amount   khipu.Amount
	Currency string
}

func run(ctx context.Context, out io.Writer, getenv func(string) string) error {
	receiverID, secret := getenv("KHIPU_RECEIVER_ID"), getenv("KHIPU_SECRET")
	switch {
	case receiverID == "" && secret == "":
		return runOffline(ctx, out)
	case receiverID == "" || secret == "":
		return errors.New("set both KHIPU_RECEIVER_ID and KHIPU_SECRET, or neither to run against an in-memory Khipu")
	}
	opts := []khipu.Option{khipu.WithUserAgent("khipu-go-quickstart")}
	if base := getenv("KHIPU_BASE_URL"); base != "" {
		opts = append(opts, khipu.WithBaseURL(base)) // e.g. a khiputest server
	}
	client, err := khipu.NewClient(receiverID, secret, opts...)
	if err != nil {
		return err
	}
	return runLive(ctx, out, client, getenv("KHIPU_NOTIFY_URL"))
}

// runOffline runs the whole flow against khiputest, with a local HTTP server
// standing in for the shop's notification endpoint.
func runOffline(ctx context.Context, out io.Writer) error {
	fmt.Fprintln(out, "No KHIPU_RECEIVER_ID/KHIPU_SECRET set: using an in-memory Khipu (khiputest).")
	khipuServer := khiputest.NewServer("12345", "quickstart-secret")
	defer khipuServer.Close()

	client, err := khipu.NewClient("12345", "quickstart-secret", khipu.WithBaseURL(khipuServer.URL()))
	if err != nil {
		return err
	}
	ord := order{ID: "order-1001", Amount: khipu.NewAmount(5000), Currency: "CLP"}

	// The shop's notification endpoint: verify with Khipu, check against the
	// order, and only then deliver.
	type verified struct {
		payment  *khipu.Payment
		mismatch error // why the payment does not pay the order, if it does not
	}
	notified := make(chan verified, 1)
	notifyURL, stopShop, err := startShop(client.NotificationHandler(func(ctx context.Context, p *khipu.Payment) error {
		select {
		case notified <- verified{p, p.Check(ord.ID, ord.Amount, ord.Currency)}:
		default: // a replayed notification: already handled
		}
		// Recorded (handed to the steps below), mismatch or not: answer
		// 200. An error would answer 500, and Khipu would notify again.
		return nil
	}))
	if err != nil {
		return err
	}
	defer stopShop()

	fmt.Fprintf(out, "1. Creating a payment of %s %s for %s\n", ord.Amount, ord.Currency, ord.ID)
	created, err := client.Payments.Create(ctx, &khipu.PaymentCreateParams{
		Subject:       "Quickstart order " + ord.ID,
		Currency:      ord.Currency,
		Amount:        ord.Amount,
		TransactionID: ord.ID,
		ReturnURL:     "https://shop.example/orders/" + ord.ID,
		CancelURL:     "https://shop.example/cart",
		NotifyURL:     notifyURL,
	})
	if err != nil {
		return fmt.Errorf("creating the payment: %w", err)
	}
	fmt.Fprintf(out, "   payment %s created; the payer would now be sent to %s\n", created.PaymentID, created.PaymentURL)

	p, err := client.Payments.Get(ctx, created.PaymentID)
	if err != nil {
		return fmt.Errorf("reading the payment: %w", err)
	}
	fmt.Fprintf(out, "2. Before paying, Khipu says the payment is %q\n", p.Status)

	fmt.Fprintln(out, "3. The payer pays; Khipu notifies the shop at", notifyURL)
	if err := khipuServer.Pay(created.PaymentID); err != nil {
		return fmt.Errorf("paying: %w", err)
	}

	v, err := await(ctx, notified)
	if err != nil {
		return err
	}
	p = v.payment
	fmt.Fprintf(out, "4. Notification verified with Khipu: payment %s is %q, %s %s, order %s, receiver %s\n",
		p.PaymentID, p.Status, p.Amount, p.Currency, p.TransactionID, p.ReceiverID)
	return deliver(out, ord, v.mismatch)
}

// startShop serves handler, the shop's notification endpoint, on loopback
// and returns its URL and how to stop it.
func startShop(handler http.Handler) (notifyURL string, stop func(), err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, fmt.Errorf("starting the notification endpoint: %w", err)
	}
	shop := &http.Server{Handler: handler, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = shop.Serve(ln) }()
	return "http://" + ln.Addr().String() + "/khipu/notify", func() { _ = shop.Close() }, nil
}

// await waits for the shop's first verified notification.
func await[T any](ctx context.Context, notified <-chan T) (T, error) {
	select {
	case v := <-notified:
		return v, nil
	case <-time.After(10 * time.Second):
		var zero T
		return zero, errors.New("no verified notification arrived within 10 s")
	case <-ctx.Done():
		var zero T
		return zero, ctx.Err()
	}
}

// deliver says what the shop does with a verified notification: deliver
// the order, or not when the payment does not match it.
func deliver(out io.Writer, ord order, mismatch error) error {
	if mismatch != nil {
		return fmt.Errorf("the payment does not match order %s, not delivering: %w", ord.ID, mismatch)
	}
	fmt.Fprintf(out, "5. It matches the order: deliver %s.\n", ord.ID)
	return nil
}

// pollInterval is how often runLive asks Khipu for the payment's status.
var pollInterval = 5 * time.Second

// runLive uses real Khipu: banks, a payment to pay in the browser, and
// polling until it is done (or Ctrl-C).
func runLive(ctx context.Context, out io.Writer, client *khipu.Client, notifyURL string) error {
	fmt.Fprintf(out, "Using Khipu as receiver %s.\n", client.ReceiverID())
	banks, err := client.Banks.List(ctx)
	if err != nil {
		return fmt.Errorf("listing banks: %w", err)
	}
	fmt.Fprintf(out, "1. %d banks can pay this account:\n", len(banks))
	for _, b := range banks {
		printBank(out, b.Name, b.MinAmount)
	}
	ord := liveOrder()
	created, err := client.Payments.Create(ctx, &khipu.PaymentCreateParams{
		Subject:       "khipu-go quickstart " + ord.ID,
		Currency:      ord.Currency,
		Amount:        ord.Amount,
		TransactionID: ord.ID,
		NotifyURL:     notifyURL,
	})
	if err != nil {
		return fmt.Errorf("creating the payment: %w", err)
	}
	return pollUntilPaid(ctx, out, created.PaymentID, created.PaymentURL, ord, func(ctx context.Context) (polled, error) {
		p, err := client.Payments.Get(ctx, created.PaymentID)
		if err != nil {
			return polled{}, err
		}
		return polled{p.Status, p.StatusDetail, p.Check(ord.ID, ord.Amount, ord.Currency)}, nil
	})
}

// liveOrder is the order the live runs pay: 1000 CLP, a new id each run.
func liveOrder() order {
	return order{ID: fmt.Sprintf("quickstart-%d", time.Now().Unix()), Amount: khipu.NewAmount(1000), Currency: "CLP"}
}

func printBank(out io.Writer, name string, minAmount khipu.Amount) {
	fmt.Fprintf(out, "   - %s (minimum %s)\n", name, minAmount)
}

// polled is what pollUntilPaid reads of a payment, in either API.
type polled struct {
	status khipu.PaymentStatus
	detail khipu.StatusDetail
	check  error // the payment's Check against the order
}

// pollUntilPaid prints where to pay the payment created for ord and asks
// Khipu for it (get: Payments.Get of either API) until it is done and
// checked, or ctx ends.
func pollUntilPaid(ctx context.Context, out io.Writer, paymentID, paymentURL string, ord order, get func(context.Context) (polled, error)) error {
	fmt.Fprintf(out, "2. Payment %s created for %s %s. Pay it here:\n   %s\n", paymentID, ord.Amount, ord.Currency, paymentURL)
	fmt.Fprintln(out, "3. Waiting for Khipu to reconcile it (Ctrl-C to stop)...")
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	last := khipu.PaymentStatus("")
	for {
		p, err := get(ctx)
		switch {
		case ctx.Err() != nil:
			fmt.Fprintln(out, "Stopped before the payment was done.")
			return ctx.Err()
		case err != nil && !transient(err):
			return fmt.Errorf("polling the payment: %w", err)
		case err != nil:
			// Khipu or the network is having a moment (the client already
			// retried): the payer may be paying right now, so keep polling.
			fmt.Fprintf(out, "   could not read the payment, trying again: %v\n", err)
		case p.status != last:
			fmt.Fprintf(out, "   status: %s (%s)\n", p.status, p.detail)
			last = p.status
		}
		if err == nil && p.status == khipu.StatusDone {
			if p.check != nil {
				return fmt.Errorf("the payment does not match the order: %w", p.check)
			}
			fmt.Fprintf(out, "4. Paid and checked: deliver %s.\n", ord.ID)
			return nil
		}
		select {
		case <-ctx.Done():
			fmt.Fprintln(out, "Stopped before the payment was done.")
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// transient reports whether err may go away by itself: Khipu unavailable, a
// proxy's error page, the network. A refusal (wrong credentials, an unknown
// payment) will not.
func transient(err error) bool {
	var (
		ae *khipu.AuthorizationError
		ve *khipu.ValidationError
		pe *khipu.ParamError
	)
	return !errors.As(err, &ae) && !errors.As(err, &ve) && !errors.As(err, &pe)
}
