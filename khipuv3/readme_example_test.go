package khipuv3_test

// The Go snippets of README.md that are package khipuv3's, compiled here:
// each lies between "// README: begin" and "// README: end", and the root
// package's TestEveryGoSnippetOfTheREADMEIsCompiled checks that the README
// holds exactly these lines. Without an Output comment, they are compiled,
// not run.

import (
	"context"
	"log"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/khipu-go/khipu"
	"github.com/khipu-go/khipu/khipuv3"
)

// readmeOrder and readmeOrders are the shop of the README's snippets.
type readmeOrder struct {
	ID       string
	Amount   khipu.Amount
	Currency string
}

type readmeOrders struct{}

func (readmeOrders) Find(ctx context.Context, id string) (readmeOrder, error) {
	return readmeOrder{ID: id, Amount: khipu.NewAmount(5000), Currency: "CLP"}, nil
}

func (readmeOrders) RecordMismatch(ctx context.Context, orderID, paymentID string, mismatch error) error {
	return nil
}

func (readmeOrders) MarkPaidOnce(ctx context.Context, orderID, paymentID string) error { return nil }

// readmeCustomers is the subscribers' store of the README's snippets.
type readmeCustomers struct{}

func (readmeCustomers) SetMandate(ctx context.Context, subscriptionID string, status khipuv3.SubscriptionStatus) error {
	return nil
}

func Example_readmeAFirstPayment() {
	http.HandleFunc("POST /checkout", func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		// README: begin
		client, err := khipuv3.NewClient(os.Getenv("KHIPU_API_KEY"))
		if err != nil {
			log.Fatal(err)
		}
		created, err := client.Payments.Create(ctx, &khipuv3.PaymentCreateParams{
			Subject: "Order 1001", Currency: "CLP", Amount: khipu.NewAmount(5000), TransactionID: "1001",
			ReturnURL: "https://shop.example/orders/1001", NotifyURL: "https://shop.example/khipu/notify",
		}) // notified with notifications 3.0; any other notify_api_version is refused
		if err != nil {
			log.Fatal(err)
		}
		http.Redirect(w, r, created.PaymentURL, http.StatusSeeOther)
		// README: end
	})
}

func Example_readmeHandlingTheNotification() {
	var orders readmeOrders
	// README: begin
	http.Handle("POST /khipu/notify", khipuv3.NotificationHandler(os.Getenv("KHIPU_SECRET"),
		func(ctx context.Context, n *khipuv3.Notification) error {
			order, err := orders.Find(ctx, n.TransactionID)
			if err != nil {
				return err // 500: Khipu retries
			}
			if err := n.Check(order.ID, order.Amount, order.Currency); err != nil {
				return orders.RecordMismatch(ctx, order.ID, n.PaymentID, err) // nil once recorded: 200
			}
			return orders.MarkPaidOnce(ctx, order.ID, n.PaymentID)
		}))
	// README: end
}

func Example_readmeVerifyNotification() {
	var orders readmeOrders
	process := func(ctx context.Context, n *khipuv3.Notification) error {
		return orders.MarkPaidOnce(ctx, n.TransactionID, n.PaymentID)
	}
	// A router that is not net/http hands over the raw body and the header.
	handle := func(ctx context.Context, secret, header string, body []byte) (int, error) {
		// README: begin
		n, err := khipuv3.VerifyNotification(secret, header, body, time.Now()) // header: x-khipu-signature
		if err != nil {
			return http.StatusBadRequest, err // errors.Is(err, khipuv3.ErrInvalidSignature): not from Khipu
		}
		if err := process(ctx, n); err != nil { // what you give NotificationHandler
			return http.StatusInternalServerError, err // Khipu notifies again
		}
		return http.StatusOK, nil
		// README: end
	}
	_ = handle
}

func Example_readmeAutomaticPayments() {
	var customers readmeCustomers
	logger := slog.Default()
	const subscriptionID = "13a0f1aa-5e47-4894-aa8b-282dd19593ec"
	http.HandleFunc("POST /subscribe", func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		// README: begin
		client, err := khipuv3.NewClient(os.Getenv("KHIPU_API_KEY"))
		if err != nil {
			log.Fatal(err)
		}
		created, err := client.Subscriptions.Create(ctx, &khipuv3.SubscriptionCreateParams{
			Name:      "Plan Hogar, Ana",
			Email:     "ana@example.com",
			MaxAmount: khipu.NewAmount(10000), // the most one charge may take
			Currency:  "CLP",
			NotifyURL: "https://shop.example/khipu/subscription",
			ReturnURL: "https://shop.example/subscribed",
			CancelURL: "https://shop.example/plans",
		})
		if err != nil {
			log.Fatal(err)
		}
		// the customer signs the mandate with their bank there:
		http.Redirect(w, r, created.RedirectURL, http.StatusSeeOther)

		// Khipu's status callback is not signed: CallbackHandler confirms it with
		// Subscriptions.Get before your function sees it (a contradicted one is a 409).
		http.Handle("POST /khipu/subscription", client.Subscriptions.CallbackHandler(
			func(ctx context.Context, sub *khipuv3.Subscription) error {
				return customers.SetMandate(ctx, sub.SubscriptionID, sub.Status) // ENABLED: it can be charged
			}, khipuv3.WithHandlerLogger(logger)))

		// Each month, once the subscription is ENABLED:
		charged, err := client.Charges.Create(ctx, &khipuv3.ChargeCreateParams{
			SubscriptionID:   subscriptionID,
			Amount:           khipu.NewAmount(9990),
			Subject:          "Plan Hogar, March",
			Body:             "Monthly fee for March",
			Custom:           "customer 12",
			TransactionID:    "invoice-2025-03",                         // your invoice number
			NotifyURL:        "https://shop.example/khipu/notify",       // the paid charge, signed (notifications 3.0)
			ErrorResponseURL: "https://shop.example/khipu/charge-error", // a failed charge, unsigned
		})
		if err != nil {
			log.Fatal(err) // never retried on its own: look for the charge before charging again
		}
		log.Printf("invoice-2025-03 is being charged as payment %s", charged.PaymentID)
		// README: end
	})
}
