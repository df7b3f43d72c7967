// Command subscriptions walks through Khipu's automatic payments, as a shop
// that bills every month uses them: the customer signs a debit mandate with
// their bank once, and the shop then charges it each month. Each charge is a
// payment, notified like any other; a charge the bank refuses is reported to
// the shop's error URL.
//
// With no API key it runs against an in-memory Khipu (package khiputest),
// so it needs no account and no network:
//
//	go run ./examples/subscriptions
//
// It asks for a mandate of up to 10000 CLP a charge, has the customer
// authorize it, charges three months of 9990 CLP, receives and checks each
// payment's signed notification, and then charges a fourth month that the
// bank refuses, which the shop sets aside to reconcile.
//
// With KHIPU_API_KEY set it talks to real Khipu: it asks for a mandate,
// prints the URL where the customer signs it, polls the subscription until
// it is ENABLED (or you press Ctrl-C), charges it once and polls the
// charge's payment until it is paid. KHIPU_NOTIFY_URL, if set, is where
// Khipu sends the status callback, the notification and any charge error
// report (a placeholder otherwise: this path polls instead of listening);
// KHIPU_BASE_URL, if set, replaces Khipu's address with another that speaks
// Khipu's API, such as a khiputest server.
package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"time"

	"github.com/khipu-go/khipu"
	"github.com/khipu-go/khipu/khiputest"
	"github.com/khipu-go/khipu/khipuv3"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Stdout, os.Getenv); err != nil {
		fmt.Fprintln(os.Stderr, "subscriptions failed:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, out io.Writer, getenv func(string) string) error {
	apiKey := getenv("KHIPU_API_KEY")
	if apiKey == "" {
		return runOffline(ctx, out)
	}
	opts := []khipuv3.Option{khipuv3.WithUserAgent("khipu-go-subscriptions")}
	if base := getenv("KHIPU_BASE_URL"); base != "" {
		opts = append(opts, khipuv3.WithBaseURL(base)) // e.g. a khiputest server
	}
	client, err := khipuv3.NewClient(apiKey, opts...)
	if err != nil {
		return err
	}
	return runLive(ctx, out, client, cmp.Or(getenv("KHIPU_NOTIFY_URL"), "https://shop.example/khipu"))
}

// The plan the offline run sells: 9990 CLP a month, under a mandate of up
// to 10000 CLP a charge.
var (
	monthlyFee = khipu.NewAmount(9990)
	maxCharge  = khipu.NewAmount(10000)
)

const (
	// The collection account's secret ("Llave secreta"): it signs
	// notifications 3.0, at Khipu as at khiputest. A live shop reads it
	// from KHIPU_SECRET, as the quickstart does.
	accountSecret = "subscriptions-secret"
	customer      = "ana@example.com"
)

// bill is one month the shop charges.
type bill struct {
	Month         string
	TransactionID string // the shop's invoice number, sent as the charge's transaction_id
	Amount        khipu.Amount
	Currency      string
	PaymentID     string // the charge's payment, once Khipu accepted the charge
}

// shop is the shop's side: its bills and the three URLs Khipu calls.
type shop struct {
	client *khipuv3.Client

	mu    sync.Mutex
	bills map[string]*bill // by transaction id

	confirmed chan *khipuv3.Subscription      // status callbacks, confirmed with Khipu
	paid      chan paidBill                   // notifications 3.0, verified
	failed    chan *khipuv3.ChargeErrorReport // charge error reports, unauthenticated
}

// paidBill is a verified notification and the bill it pays, or why it does
// not pay it.
type paidBill struct {
	n        *khipuv3.Notification
	bill     *bill
	mismatch error
}

func newShop(client *khipuv3.Client) *shop {
	return &shop{
		client:    client,
		bills:     make(map[string]*bill),
		confirmed: make(chan *khipuv3.Subscription, 1),
		paid:      make(chan paidBill, 1),
		failed:    make(chan *khipuv3.ChargeErrorReport, 1),
	}
}

// handler serves the shop's three endpoints for Khipu. Each passes on what
// arrived once; a second delivery of the same thing (Khipu retries) is
// answered 200 and dropped. A payment that does not pay its bill is
// recorded with the bill (for a person to look at) and answered 200 too:
// only an error the shop can recover from (an unknown bill, here) answers
// 500, so that Khipu notifies again.
func (s *shop) handler() http.Handler {
	mux := http.NewServeMux()
	// The mandate's status callback is unsigned: CallbackHandler confirms
	// it with Subscriptions.Get before the shop sees it.
	mux.Handle("POST /khipu/subscription", s.client.Subscriptions.CallbackHandler(func(ctx context.Context, sub *khipuv3.Subscription) error {
		offer(s.confirmed, sub)
		return nil
	}))
	// Each charge's payment is notified with a signed notification 3.0.
	mux.Handle("POST /khipu/notify", khipuv3.NotificationHandler(accountSecret, func(ctx context.Context, n *khipuv3.Notification) error {
		b := s.bill(n.TransactionID)
		if b == nil {
			return fmt.Errorf("no bill %q", n.TransactionID) // 500: logged, and Khipu retries
		}
		offer(s.paid, paidBill{n, b, n.Check(b.TransactionID, b.Amount, b.Currency)})
		return nil
	}))
	// A failed charge is reported unsigned: a report to reconcile, not a fact.
	mux.Handle("POST /khipu/charge-error", s.client.Charges.ErrorHandler(func(ctx context.Context, rep *khipuv3.ChargeErrorReport) error {
		offer(s.failed, rep)
		return nil
	}))
	return mux
}

func (s *shop) bill(transactionID string) *bill {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.bills[transactionID]
}

// charge bills subscription id for b and keeps the bill with its payment.
func (s *shop) charge(ctx context.Context, subscriptionID, baseURL string, b *bill) error {
	s.mu.Lock()
	s.bills[b.TransactionID] = b
	s.mu.Unlock()
	charged, err := s.client.Charges.Create(ctx, &khipuv3.ChargeCreateParams{
		SubscriptionID:   subscriptionID,
		Amount:           b.Amount,
		Subject:          "Plan Hogar, " + b.Month,
		Body:             "Monthly fee for " + b.Month,
		ErrorResponseURL: baseURL + "/khipu/charge-error",
		Custom:           "customer " + customer,
		TransactionID:    b.TransactionID,
		NotifyURL:        baseURL + "/khipu/notify",
	})
	if err != nil {
		return fmt.Errorf("charging %s: %w", b.Month, err)
	}
	s.mu.Lock()
	b.PaymentID = charged.PaymentID
	s.mu.Unlock()
	return nil
}

// offer sends v on ch unless it is full: a replayed delivery is dropped.
func offer[T any](ch chan T, v T) {
	select {
	case ch <- v:
	default:
	}
}

// receive waits for what a handler passed on, for up to 10 s.
func receive[T any](ctx context.Context, ch chan T, what string) (T, error) {
	var zero T
	select {
	case v := <-ch:
		return v, nil
	case <-time.After(10 * time.Second):
		return zero, fmt.Errorf("no %s arrived within 10 s", what)
	case <-ctx.Done():
		return zero, ctx.Err()
	}
}

// runOffline runs the whole story against khiputest, with a local HTTP
// server standing in for the shop's endpoints.
func runOffline(ctx context.Context, out io.Writer) error {
	fmt.Fprintln(out, "No KHIPU_API_KEY set: using an in-memory Khipu (khiputest).")
	khipuServer := khiputest.NewServer("12345", accountSecret)
	defer khipuServer.Close()
	client, err := khipuv3.NewClient(khipuServer.APIKey(), khipuv3.WithBaseURL(khipuServer.V3URL()))
	if err != nil {
		return err
	}
	s := newShop(client)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("starting the shop's endpoints: %w", err)
	}
	srv := &http.Server{Handler: s.handler(), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	shopURL := "http://" + ln.Addr().String()

	fmt.Fprintf(out, "1. Asking Khipu for a debit mandate: %s, up to %s CLP a charge\n", customer, maxCharge)
	created, err := client.Subscriptions.Create(ctx, &khipuv3.SubscriptionCreateParams{
		Name:             "Plan Hogar, " + customer,
		Email:            customer,
		MaxAmount:        maxCharge,
		Currency:         "CLP",
		NotifyURL:        shopURL + "/khipu/subscription",
		ReturnURL:        shopURL + "/subscribed",
		CancelURL:        shopURL + "/plans",
		ServiceReference: "Plan Hogar",
	})
	if err != nil {
		return fmt.Errorf("asking for the mandate: %w", err)
	}
	fmt.Fprintf(out, "   subscription %s; the customer signs it at\n   %s\n", created.SubscriptionID, created.RedirectURL)
	sub, err := client.Subscriptions.Get(ctx, created.SubscriptionID)
	if err != nil {
		return fmt.Errorf("reading the subscription: %w", err)
	}
	fmt.Fprintf(out, "2. Before signing, Khipu says it is %s (bank: %s): it cannot be charged yet\n", sub.Status, sub.CustomerBankCode)

	fmt.Fprintln(out, "3. The customer authorizes the mandate with their bank; Khipu calls the shop back")
	if err := khipuServer.AuthorizeSubscription(created.SubscriptionID); err != nil {
		return fmt.Errorf("authorizing: %w", err)
	}
	sub, err = receive(ctx, s.confirmed, "subscription callback")
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "   callback confirmed with Khipu: the subscription is %s (bank %s)\n", sub.Status, sub.CustomerBankCode)
	if sub.Status != khipuv3.SubscriptionEnabled {
		return fmt.Errorf("the subscription is %s, not ENABLED: nothing to charge", sub.Status)
	}

	months := []string{"March", "April", "May"}
	for i, month := range months {
		b := &bill{Month: month, TransactionID: fmt.Sprintf("plan-hogar-2025-%02d", i+3), Amount: monthlyFee, Currency: "CLP"}
		fmt.Fprintf(out, "%d. Billing %s: charging %s %s as invoice %s\n", 4+i, month, b.Amount, b.Currency, b.TransactionID)
		if err := s.charge(ctx, sub.SubscriptionID, shopURL, b); err != nil {
			return err
		}
		fmt.Fprintf(out, "   Khipu accepted the charge: payment %s\n", b.PaymentID)
		if err := khipuServer.Pay(b.PaymentID); err != nil { // the bank pays the debit
			return fmt.Errorf("paying %s: %w", month, err)
		}
		v, err := receive(ctx, s.paid, "notification")
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "   notification verified: payment %s, %s %s, invoice %s\n", v.n.PaymentID, v.n.Amount, v.n.Currency, v.n.TransactionID)
		if v.mismatch != nil {
			return fmt.Errorf("the payment does not match the bill of %s: %w", v.bill.Month, v.mismatch)
		}
		fmt.Fprintf(out, "   it matches the bill: %s is paid\n", v.bill.Month)
	}

	b := &bill{Month: "June", TransactionID: "plan-hogar-2025-06", Amount: monthlyFee, Currency: "CLP"}
	fmt.Fprintf(out, "%d. Billing %s: charging %s %s as invoice %s\n", 4+len(months), b.Month, b.Amount, b.Currency, b.TransactionID)
	if err := s.charge(ctx, sub.SubscriptionID, shopURL, b); err != nil {
		return err
	}
	fmt.Fprintf(out, "   Khipu accepted the charge: payment %s\n", b.PaymentID)
	fmt.Fprintln(out, "   the customer's bank refuses the debit; Khipu reports it to the shop's error URL")
	if err := khipuServer.FailCharge(b.PaymentID, "Fondos insuficientes"); err != nil {
		return fmt.Errorf("failing the charge: %w", err)
	}
	rep, err := receive(ctx, s.failed, "charge error report")
	if err != nil {
		return err
	}
	reported := s.bill(rep.TransactionID)
	if reported == nil {
		return fmt.Errorf("a charge error report for an invoice the shop never charged: %q", rep.TransactionID)
	}
	fmt.Fprintf(out, "   report for invoice %s: %q (unsigned, so the shop asks Khipu)\n", rep.TransactionID, rep.ErrorMessage)
	p, err := client.Payments.Get(ctx, reported.PaymentID)
	if err != nil {
		return fmt.Errorf("reading the failed charge's payment: %w", err)
	}
	fmt.Fprintf(out, "   Khipu says payment %s is %s (%s): %s is set aside to reconcile\n", p.PaymentID, p.Status, p.StatusDetail, reported.Month)
	fmt.Fprintf(out, "Done: %d months paid, 1 to reconcile.\n", len(months))
	return nil
}

// pollInterval is how often runLive asks Khipu how things stand.
var pollInterval = 5 * time.Second

// runLive uses real Khipu: a mandate to sign in the browser, then one
// charge, polling each until it is through (or Ctrl-C).
func runLive(ctx context.Context, out io.Writer, client *khipuv3.Client, notifyURL string) error {
	fmt.Fprintln(out, "Using Khipu's Automatic Payments API with your API key.")
	created, err := client.Subscriptions.Create(ctx, &khipuv3.SubscriptionCreateParams{
		Name:      "khipu-go subscriptions example",
		Email:     customer,
		MaxAmount: khipu.NewAmount(1000),
		Currency:  "CLP",
		NotifyURL: notifyURL,
		ReturnURL: "https://shop.example/subscribed", // where the customer lands after signing
		CancelURL: "https://shop.example/plans",
	})
	if err != nil {
		return fmt.Errorf("asking for the mandate: %w", err)
	}
	fmt.Fprintf(out, "1. Subscription %s created. Sign the mandate here:\n   %s\n", created.SubscriptionID, created.RedirectURL)
	fmt.Fprintln(out, "2. Waiting for it to be ENABLED (Ctrl-C to stop)...")
	last := khipuv3.SubscriptionStatus("")
	err = poll(ctx, func() (bool, error) {
		sub, err := client.Subscriptions.Get(ctx, created.SubscriptionID)
		if err != nil {
			return false, fmt.Errorf("polling the subscription: %w", err)
		}
		if sub.Status != last {
			fmt.Fprintf(out, "   status: %s (bank: %s)\n", sub.Status, sub.CustomerBankCode)
			last = sub.Status
		}
		return sub.Status == khipuv3.SubscriptionEnabled, nil
	})
	if err != nil {
		return stopped(out, err, "the mandate was enabled")
	}

	transactionID := fmt.Sprintf("subscriptions-%d", time.Now().Unix())
	amount := khipu.NewAmount(1000)
	charged, err := client.Charges.Create(ctx, &khipuv3.ChargeCreateParams{
		SubscriptionID:   created.SubscriptionID,
		Amount:           amount,
		Subject:          "khipu-go subscriptions example",
		Body:             "One charge of the example",
		ErrorResponseURL: notifyURL,
		Custom:           "example",
		TransactionID:    transactionID,
		NotifyURL:        notifyURL,
	})
	if err != nil {
		return fmt.Errorf("charging: %w", err)
	}
	fmt.Fprintf(out, "3. Charged %s CLP as %s: payment %s. Waiting for the bank to pay it (Ctrl-C to stop)...\n", amount, transactionID, charged.PaymentID)
	lastStatus := khipu.PaymentStatus("")
	var paid *khipuv3.Payment
	err = poll(ctx, func() (bool, error) {
		p, err := client.Payments.Get(ctx, charged.PaymentID)
		if err != nil {
			return false, fmt.Errorf("polling the payment: %w", err)
		}
		if p.Status != lastStatus {
			fmt.Fprintf(out, "   status: %s (%s)\n", p.Status, p.StatusDetail)
			lastStatus = p.Status
		}
		paid = p
		return p.Status == khipu.StatusDone, nil
	})
	if err != nil {
		return stopped(out, err, "the charge was paid")
	}
	if err := paid.Check(transactionID, amount, "CLP"); err != nil {
		return fmt.Errorf("the payment does not match the charge: %w", err)
	}
	fmt.Fprintln(out, "4. Paid and checked.")
	return nil
}

// poll calls check now and then every pollInterval until it reports done,
// fails, or ctx ends.
func poll(ctx context.Context, check func() (bool, error)) error {
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	for {
		done, err := check()
		if done || err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// stopped says the run ended before what, when it was interrupted, and
// returns err.
func stopped(out io.Writer, err error, what string) error {
	if errors.Is(err, context.Canceled) {
		fmt.Fprintf(out, "Stopped before %s.\n", what)
	}
	return err
}
