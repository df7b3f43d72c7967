package khipu_test

// The Go snippets of README.md that are package khipu's, compiled here:
// each lies between "// README: begin" and "// README: end", and
// TestEveryGoSnippetOfTheREADMEIsCompiled checks that the README holds
// exactly these lines. The functions without an Output comment are
// compiled, not run; TestCheckout runs.

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"

	"github.com/khipu-go/khipu"
	"github.com/khipu-go/khipu/khiputest"
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

func Example_readmeAFirstPayment() {
	http.HandleFunc("POST /checkout", func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		// README: begin
		client, err := khipu.NewClient(os.Getenv("KHIPU_RECEIVER_ID"), os.Getenv("KHIPU_SECRET"))
		if err != nil {
			log.Fatal(err)
		}
		created, err := client.Payments.Create(ctx, &khipu.PaymentCreateParams{
			Subject:       "Order 1001",
			Currency:      "CLP",
			Amount:        khipu.NewAmount(5000), // or khipu.ParseAmount("19.99")
			TransactionID: "1001",                // your order id
			ReturnURL:     "https://shop.example/orders/1001",
			CancelURL:     "https://shop.example/cart",
			NotifyURL:     "https://shop.example/khipu/notify",
		})
		if err != nil {
			log.Fatal(err)
		}
		http.Redirect(w, r, created.PaymentURL, http.StatusSeeOther)
		// README: end
	})
}

// readmeClient is the client of the README's snippets.
func readmeClient() *khipu.Client {
	client, err := khipu.NewClient("12345", "secret")
	if err != nil {
		log.Fatal(err)
	}
	return client
}

func Example_readmeHandlingTheNotification() {
	client := readmeClient()
	var orders readmeOrders
	// README: begin
	http.Handle("POST /khipu/notify", client.NotificationHandler(func(ctx context.Context, p *khipu.Payment) error {
		order, err := orders.Find(ctx, p.TransactionID)
		if err != nil {
			return err // 500: Khipu will notify again later
		}
		// status done, transaction id, amount and currency must all match
		if err := p.Check(order.ID, order.Amount, order.Currency); err != nil {
			// A retry would not change the payment: record it for a person
			// to look at, and answer 200 by returning nil.
			return orders.RecordMismatch(ctx, order.ID, p.PaymentID, err)
		}
		return orders.MarkPaidOnce(ctx, order.ID, p.PaymentID) // idempotent
	}))
	// README: end
}

func Example_readmeErrors() {
	ctx, client := context.Background(), readmeClient()
	params := &khipu.PaymentCreateParams{Subject: "Order 1001", Currency: "CLP", Amount: khipu.NewAmount(5000)}
	// README: begin
	_, err := client.Payments.Create(ctx, params)
	var (
		ve *khipu.ValidationError         // 400: Khipu refused parameters; ve.Errors lists the fields
		ae *khipu.AuthorizationError      // 401 or 403: wrong credentials, or another account's resource
		ne *khipu.NotFoundError           // 404 with Khipu's JSON (v3: an unknown payment or subscription)
		se *khipu.ServiceError            // 503 or another 5xx from Khipu
		ue *khipu.UnexpectedResponseError // not Khipu's JSON: a proxy's HTML, a truncated or empty body
		pe *khipu.ParamError              // refused before sending: a missing parameter, a bad amount or id
	)
	switch {
	case errors.As(err, &ve):
		for _, f := range ve.Errors {
			fmt.Println(f.Field, f.Message)
		}
	case errors.As(err, &ae):
		log.Printf("check the credentials and the base URL: %s", ae.Message)
	case errors.As(err, &ne):
		log.Printf("Khipu knows no such thing: %s", ne.Message)
	case errors.As(err, &se), errors.As(err, &ue):
		log.Printf("Khipu, or a proxy on the way, failed; try again later: %v", err)
	case errors.As(err, &pe):
		fmt.Println("fix parameter", pe.Param)
	case errors.Is(err, context.DeadlineExceeded):
		// the caller's deadline, or the http.Client's 30 s timeout, ended the
		// call before Khipu answered (an answer that arrived is returned as is)
	}

	// Or all of Khipu's answers at once: each error above but ParamError also
	// opens as an *APIError with the status, the message and the start of the body.
	var apiErr *khipu.APIError
	if errors.As(err, &apiErr) {
		log.Printf("Khipu answered %d: %s", apiErr.StatusCode, apiErr.Message)
	}
	// README: end
}

// README: begin
func TestCheckout(t *testing.T) {
	srv := khiputest.NewServer("12345", "test-secret")
	defer srv.Close()
	client, err := khipu.NewClient("12345", "test-secret", khipu.WithBaseURL(srv.URL()))
	if err != nil {
		t.Fatal(err)
	}
	paid := make(chan string, 1)
	shop := httptest.NewServer(client.NotificationHandler(func(ctx context.Context, p *khipu.Payment) error {
		if err := p.Check("order-1001", khipu.NewAmount(1000), "CLP"); err != nil {
			return err
		}
		paid <- p.TransactionID // your shop marks the order paid here
		return nil
	}))
	defer shop.Close()

	created, err := client.Payments.Create(context.Background(), &khipu.PaymentCreateParams{
		Subject: "Order 1001", Currency: "CLP", Amount: khipu.NewAmount(1000),
		TransactionID: "order-1001", NotifyURL: shop.URL,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Pay(created.PaymentID); err != nil { // pays and POSTs the notification
		t.Fatal(err) // your endpoint did not answer 2xx
	}
	select {
	case id := <-paid:
		t.Log("paid", id)
	default:
		t.Fatal("the notification did not pay the order")
	}
}

// README: end
