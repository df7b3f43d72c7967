package khiputest_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"

	"github.com/khipu-go/khipu"
	"github.com/khipu-go/khipu/khiputest"
)

func ExampleNewServer() {
	srv := khiputest.NewServer("12345", "test-secret")
	defer srv.Close()
	client, err := khipu.NewClient("12345", "test-secret", khipu.WithBaseURL(srv.URL()))
	if err != nil {
		log.Fatal(err)
	}

	created, err := client.Payments.Create(context.Background(), &khipu.PaymentCreateParams{
		Subject: "Order 1001", Currency: "CLP", Amount: khipu.NewAmount(5000), TransactionID: "order-1001",
	})
	if err != nil {
		log.Fatal(err)
	}
	p, err := client.Payments.Get(context.Background(), created.PaymentID)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(p.Status, p.Amount, p.Currency)

	for _, r := range srv.Requests() {
		fmt.Println(r.Endpoint, r.Status)
	}
	// Output:
	// pending 5000 CLP
	// POST /payments 200
	// GET /payments/{id} 200
}

func ExampleServer_Pay() {
	srv := khiputest.NewServer("12345", "test-secret")
	defer srv.Close()
	client, err := khipu.NewClient("12345", "test-secret", khipu.WithBaseURL(srv.URL()))
	if err != nil {
		log.Fatal(err)
	}

	// The shop under test: its notification endpoint.
	shop := httptest.NewServer(client.NotificationHandler(func(ctx context.Context, p *khipu.Payment) error {
		fmt.Println("notified:", p.TransactionID, p.Status, p.Check("order-1001", khipu.NewAmount(5000), "CLP"))
		return nil
	}))
	defer shop.Close()

	created, err := client.Payments.Create(context.Background(), &khipu.PaymentCreateParams{
		Subject: "Order 1001", Currency: "CLP", Amount: khipu.NewAmount(5000), TransactionID: "order-1001",
		NotifyURL: shop.URL,
	})
	if err != nil {
		log.Fatal(err)
	}
	// The payer pays: the payment is done and the shop is notified.
	if err := srv.Pay(created.PaymentID); err != nil {
		log.Fatal(err)
	}
	// Khipu may send the same notification again.
	if err := srv.Notify(created.PaymentID); err != nil {
		log.Fatal(err)
	}
	// Output:
	// notified: order-1001 done <nil>
	// notified: order-1001 done <nil>
}

func ExampleServer_WaitNotified() {
	// As at Khipu, Pay returns before the shop is notified, and a
	// notification the shop does not accept is sent again.
	srv := khiputest.NewServer("12345", "test-secret", khiputest.WithAsyncNotifications())
	defer srv.Close()
	client, err := khipu.NewClient("12345", "test-secret", khipu.WithBaseURL(srv.URL()))
	if err != nil {
		log.Fatal(err)
	}

	var mu sync.Mutex
	attempts := 0
	shop := httptest.NewServer(client.NotificationHandler(func(ctx context.Context, p *khipu.Payment) error {
		mu.Lock()
		defer mu.Unlock()
		attempts++
		if attempts == 1 {
			return errors.New("database busy") // answered 500: Khipu tries again
		}
		fmt.Println("notified:", p.TransactionID, p.Status)
		return nil
	}))
	defer shop.Close()

	created, err := client.Payments.Create(context.Background(), &khipu.PaymentCreateParams{
		Subject: "Order 1001", Currency: "CLP", Amount: khipu.NewAmount(5000), TransactionID: "order-1001",
		NotifyURL: shop.URL,
	})
	if err != nil {
		log.Fatal(err)
	}
	if err := srv.Pay(created.PaymentID); err != nil { // returns at once
		log.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.WaitNotified(ctx, created.PaymentID); err != nil {
		log.Fatal(err)
	}
	mu.Lock()
	fmt.Println("attempts:", attempts)
	mu.Unlock()
	// Output:
	// notified: order-1001 done
	// attempts: 2
}

func ExampleServer_FailNext() {
	srv := khiputest.NewServer("12345", "test-secret")
	defer srv.Close()
	client, err := khipu.NewClient("12345", "test-secret", khipu.WithBaseURL(srv.URL()))
	if err != nil {
		log.Fatal(err)
	}

	// Khipu is down for the next create-payment request.
	srv.FailNext(khiputest.EndpointPaymentsCreate, http.StatusServiceUnavailable, 1)
	params := &khipu.PaymentCreateParams{Subject: "Order 1001", Currency: "CLP", Amount: khipu.NewAmount(5000)}
	_, err = client.Payments.Create(context.Background(), params)
	var se *khipu.ServiceError
	fmt.Println(errors.As(err, &se), se.StatusCode)

	_, err = client.Payments.Create(context.Background(), params)
	fmt.Println(err)
	// Output:
	// true 503
	// <nil>
}

func ExampleServer_V3URL() {
	srv := khiputest.NewServer("12345", "test-secret", khiputest.WithAPIKey("test-api-key"))
	defer srv.Close()

	// send makes a v3 request as any HTTP client does: JSON, and the API
	// key in the x-api-key header. A khipuv3 client is given V3URL as its
	// base URL and APIKey as its key.
	send := func(method, path, body string, answer any) int {
		req, err := http.NewRequest(method, srv.V3URL()+path, strings.NewReader(body))
		if err != nil {
			log.Fatal(err)
		}
		req.Header.Set("x-api-key", srv.APIKey())
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			log.Fatal(err)
		}
		defer resp.Body.Close()
		if err := json.NewDecoder(resp.Body).Decode(answer); err != nil {
			log.Fatal(err)
		}
		return resp.StatusCode
	}

	var created struct {
		PaymentID string `json:"payment_id"`
	}
	send(http.MethodPost, "/v3/payments", `{"amount": 5000, "currency": "CLP", "subject": "Order 1001", "transaction_id": "order-1001"}`, &created)

	var payment struct {
		Status        string `json:"status"`
		Amount        string `json:"amount"` // a string, as Khipu's v3 sends it
		Currency      string `json:"currency"`
		TransactionID string `json:"transaction_id"`
	}
	status := send(http.MethodGet, "/v3/payments/"+created.PaymentID, "", &payment)
	fmt.Println(status, payment.Status, payment.Amount, payment.Currency, payment.TransactionID)

	var refusal struct {
		Message string `json:"message"`
	}
	status = send(http.MethodPost, "/v3/payments", `{"amount": "5000", "currency": "CLP", "subject": "Order 1002"}`, &refusal)
	fmt.Println(status, refusal.Message)

	for _, r := range srv.Requests() {
		fmt.Println(r.Endpoint, r.Status)
	}
	// Output:
	// 200 pending 5000.0000 CLP order-1001
	// 400 invalid parameters
	// POST /v3/payments 200
	// GET /v3/payments/{id} 200
	// POST /v3/payments 400
}
