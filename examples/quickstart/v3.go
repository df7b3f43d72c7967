package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/khipu-go/khipu"
	"github.com/khipu-go/khipu/khiputest"
	"github.com/khipu-go/khipu/khipuv3"
)

// runV3 is the quickstart on Khipu's API v3: offline against khiputest, or
// real Khipu with KHIPU_API_KEY.
func runV3(ctx context.Context, out io.Writer, getenv func(string) string) error {
	apiKey := getenv("KHIPU_API_KEY")
	if apiKey == "" {
		return runOfflineV3(ctx, out)
	}
	opts := []khipuv3.Option{khipuv3.WithUserAgent("khipu-go-quickstart")}
	if base := getenv("KHIPU_BASE_URL"); base != "" {
		opts = append(opts, khipuv3.WithBaseURL(base)) // e.g. a khiputest server's V3URL
	}
	client, err := khipuv3.NewClient(apiKey, opts...)
	if err != nil {
		return err
	}
	return runLiveV3(ctx, out, client, getenv)
}

// runOfflineV3 runs the whole v3 flow against khiputest: the notification
// arrives signed, and the shop verifies the signature itself.
func runOfflineV3(ctx context.Context, out io.Writer) error {
	fmt.Fprintln(out, "No KHIPU_API_KEY set: using an in-memory Khipu (khiputest) and API v3.")
	// The collection account's secret ("Llave secreta"): it signs v2
	// requests and notifications 3.0 alike, at Khipu and at khiputest.
	const secret = "quickstart-secret"
	khipuServer := khiputest.NewServer("12345", secret)
	defer khipuServer.Close()

	client, err := khipuv3.NewClient(khipuServer.APIKey(), khipuv3.WithBaseURL(khipuServer.V3URL()))
	if err != nil {
		return err
	}
	ord := order{ID: "order-1001", Amount: khipu.NewAmount(5000), Currency: "CLP"}

	// The shop's notification endpoint: check Khipu's signature over the
	// raw body, check the payment against the order, then deliver.
	type verified struct {
		n        *khipuv3.Notification
		mismatch error
	}
	notified := make(chan verified, 1)
	notifyURL, stopShop, err := startShop(khipuv3.NotificationHandler(secret, func(ctx context.Context, n *khipuv3.Notification) error {
		select {
		case notified <- verified{n, n.Check(ord.ID, ord.Amount, ord.Currency)}:
		default: // a replayed notification: already handled
		}
		// Recorded, mismatch or not: answer 200. An error would answer
		// 500, and Khipu would notify again.
		return nil
	}))
	if err != nil {
		return err
	}
	defer stopShop()

	fmt.Fprintf(out, "1. Creating a payment of %s %s for %s (API v3)\n", ord.Amount, ord.Currency, ord.ID)
	created, err := client.Payments.Create(ctx, &khipuv3.PaymentCreateParams{
		Subject:       "Quickstart order " + ord.ID,
		Currency:      ord.Currency,
		Amount:        ord.Amount,
		TransactionID: ord.ID,
		ReturnURL:     "https://shop.example/orders/" + ord.ID,
		CancelURL:     "https://shop.example/cart",
		NotifyURL:     notifyURL, // notified with notifications 3.0
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

	fmt.Fprintln(out, "3. The payer pays; Khipu POSTs the signed payment to", notifyURL)
	if err := khipuServer.Pay(created.PaymentID); err != nil {
		return fmt.Errorf("paying: %w", err)
	}
	v, err := await(ctx, notified)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "4. Signed notification 3.0 verified (x-khipu-signature over the raw body): payment %s, %s %s, order %s, receiver %s\n",
		v.n.PaymentID, v.n.Amount, v.n.Currency, v.n.TransactionID, v.n.ReceiverID)
	return deliver(out, ord, v.mismatch)
}

// runLiveV3 uses real Khipu v3: banks, a prediction, a payment to pay in the
// browser, and polling until it is done (or Ctrl-C). With KHIPU_NOTIFY_URL
// and KHIPU_SECRET (the account's secret, which signs notifications 3.0) it
// also receives and verifies the signed notification on KHIPU_LISTEN.
func runLiveV3(ctx context.Context, out io.Writer, client *khipuv3.Client, getenv func(string) string) error {
	fmt.Fprintln(out, "Using Khipu's API v3.")
	banks, err := client.Banks.List(ctx)
	if err != nil {
		return fmt.Errorf("listing banks: %w", err)
	}
	fmt.Fprintf(out, "1. %d banks can pay this account:\n", len(banks))
	for _, b := range banks {
		printBank(out, b.Name, b.MinAmount)
	}
	ord := liveOrder()
	var notified <-chan struct{} // nil unless listening for the notification
	notifyURL, secret := getenv("KHIPU_NOTIFY_URL"), getenv("KHIPU_SECRET")
	if notifyURL != "" && secret != "" {
		addr := cmp.Or(getenv("KHIPU_LISTEN"), "127.0.0.1:8080")
		ln, err := listen("tcp", addr)
		if err != nil {
			return fmt.Errorf("listening for notifications on %s: %w", addr, err)
		}
		var stop func()
		notified, stop = listenForNotifications(out, ln, secret, ord)
		defer stop()
	}
	created, err := client.Payments.Create(ctx, &khipuv3.PaymentCreateParams{
		Subject:       "khipu-go quickstart " + ord.ID,
		Currency:      ord.Currency,
		Amount:        ord.Amount,
		TransactionID: ord.ID,
		NotifyURL:     notifyURL,
	})
	if err != nil {
		return fmt.Errorf("creating the payment: %w", err)
	}
	err = pollUntilPaid(ctx, out, created.PaymentID, created.PaymentURL, ord, func(ctx context.Context) (polled, error) {
		p, err := client.Payments.Get(ctx, created.PaymentID)
		if err != nil {
			return polled{}, err
		}
		return polled{p.Status, p.StatusDetail, p.Check(ord.ID, ord.Amount, ord.Currency)}, nil
	})
	if err == nil && notified != nil {
		awaitLiveNotification(ctx, out, notified)
	}
	return err
}

// notificationWait is how long a live run that listens for the signed
// notification waits for it once polling found the payment paid: Khipu
// notifies about when it marks the payment done, so polling may see it
// first.
var notificationWait = 15 * time.Second

// awaitLiveNotification waits, the payment being paid, for the endpoint to
// verify its signed notification (or ctx to end, or notificationWait),
// so that the run does not close the endpoint while Khipu is delivering
// it. A notification that does not come is reported, not an error: the
// payment itself was read from Khipu and checked.
func awaitLiveNotification(ctx context.Context, out io.Writer, notified <-chan struct{}) {
	timer := time.NewTimer(notificationWait)
	defer timer.Stop()
	select {
	case <-notified:
	case <-ctx.Done():
	case <-timer.C:
		fmt.Fprintf(out, "   no signed notification arrived within %s: check that KHIPU_NOTIFY_URL reaches KHIPU_LISTEN\n", notificationWait)
	}
}

// listen opens the listener of the notification endpoint. Tests replace
// it to hand over a listener they already hold: a port number they found
// free and closed could be taken by another process before the run
// listens on it.
var listen = net.Listen

// listenForNotifications serves the signed notifications of a live run on
// ln, printing each one it verified, until stop is called. notified is
// closed once the first one was verified and printed; stop lets a
// notification being answered finish (up to 5 s) before it closes the
// endpoint.
func listenForNotifications(out io.Writer, ln net.Listener, secret string, ord order) (notified <-chan struct{}, stop func()) {
	first := make(chan struct{})
	var once sync.Once
	handler := khipuv3.NotificationHandler(secret, func(ctx context.Context, n *khipuv3.Notification) error {
		defer once.Do(func() { close(first) })
		verdict := "matches the order"
		if err := n.Check(ord.ID, ord.Amount, ord.Currency); err != nil {
			verdict = "does NOT match the order: " + err.Error()
		}
		// The mismatch is recorded (printed) for a person to look at; nil
		// answers 200, as a retry would not change the payment.
		fmt.Fprintf(out, "   signed notification verified: payment %s, %s %s; it %s\n", n.PaymentID, n.Amount, n.Currency, verdict)
		return nil
	})
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			fmt.Fprintln(out, "   notification endpoint stopped:", err)
		}
	}()
	fmt.Fprintf(out, "   listening for signed notifications on %s\n", ln.Addr())
	return first, func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if srv.Shutdown(ctx) != nil {
			_ = srv.Close()
		}
	}
}
