package khipu_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"

	"github.com/khipu-go/khipu"
	"github.com/khipu-go/khipu/khiputest"
)

// exampleKhipu starts an in-memory Khipu and a client for it. Real code calls
// khipu.NewClient with the account's credentials and no WithBaseURL.
func exampleKhipu() (*khiputest.Server, *khipu.Client) {
	srv := khiputest.NewServer("12345", "example-secret")
	client, err := khipu.NewClient("12345", "example-secret", khipu.WithBaseURL(srv.URL()))
	if err != nil {
		log.Fatal(err)
	}
	return srv, client
}

// examplePayment creates a pending payment of 5000 CLP for order-1001.
func examplePayment(client *khipu.Client, notifyURL string) *khipu.PaymentCreated {
	created, err := client.Payments.Create(context.Background(), &khipu.PaymentCreateParams{
		Subject:       "Order 1001",
		Currency:      "CLP",
		Amount:        khipu.NewAmount(5000),
		TransactionID: "order-1001",
		NotifyURL:     notifyURL,
	})
	if err != nil {
		log.Fatal(err)
	}
	return created
}

func ExampleNewClient() {
	srv := khiputest.NewServer("12345", "example-secret")
	defer srv.Close()

	// With real Khipu: khipu.NewClient(os.Getenv("KHIPU_RECEIVER_ID"), os.Getenv("KHIPU_SECRET"))
	client, err := khipu.NewClient("12345", "example-secret",
		khipu.WithBaseURL(srv.URL()),
		khipu.WithUserAgent("myshop/1.0"),
	)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(client.ReceiverID())
	fmt.Println(strings.Contains(fmt.Sprint(client), "example-secret"))
	// Output:
	// 12345
	// false
}

func ExampleParseAmount() {
	price, err := khipu.ParseAmount("19.990")
	fmt.Println(price, err)
	fmt.Println(price == khipu.MustParseAmount("19.99"))

	_, err = khipu.ParseAmount("1,000")
	var ae *khipu.AmountError
	fmt.Println(errors.As(err, &ae))
	// Output:
	// 19.99 <nil>
	// true
	// true
}

func ExampleBanksService_List() {
	srv, client := exampleKhipu()
	defer srv.Close()

	banks, err := client.Banks.List(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	for _, b := range banks {
		fmt.Printf("%s (%s): from %s\n", b.Name, b.BankID, b.MinAmount)
	}
	// Output:
	// DemoBank (Bawdf): from 200
	// Banco de Chile (Sx6ng): from 200
	// Banco de Chile Empresas (SxCrj): from 200
	// Banco Estado (a7nRb): from 100
	// Banco Santander (XWjg8): from 200
}

func ExamplePaymentsService_Create() {
	srv, client := exampleKhipu()
	defer srv.Close()

	created, err := client.Payments.Create(context.Background(), &khipu.PaymentCreateParams{
		Subject:       "Order 1001",
		Currency:      "CLP",
		Amount:        khipu.NewAmount(5000),
		TransactionID: "order-1001",
		ReturnURL:     "https://shop.example/orders/order-1001",
		NotifyURL:     "https://shop.example/khipu/notify",
	})
	if err != nil {
		log.Fatal(err)
	}
	// Send the payer to created.PaymentURL. The payment is pending until
	// Khipu notifies that it is paid.
	p, err := client.Payments.Get(context.Background(), created.PaymentID)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(created.PaymentID), strings.HasSuffix(created.PaymentURL, "/"+created.PaymentID))
	fmt.Println(p.Status, p.Amount, p.Currency, p.TransactionID)
	// Output:
	// 12 true
	// pending 5000 CLP order-1001
}

func ExamplePaymentsService_Create_validation() {
	srv, client := exampleKhipu()
	defer srv.Close()

	_, err := client.Payments.Create(context.Background(), &khipu.PaymentCreateParams{
		Subject: "Order 1001", Currency: "CLP", // no amount
	})
	var pe *khipu.ParamError
	if errors.As(err, &pe) {
		fmt.Println("refused before sending:", pe.Param)
	}
	fmt.Println(len(srv.Requests()), "requests reached Khipu")
	// Output:
	// refused before sending: amount
	// 0 requests reached Khipu
}

func ExamplePaymentsService_Get() {
	srv, client := exampleKhipu()
	defer srv.Close()
	created := examplePayment(client, "")

	p, err := client.Payments.Get(context.Background(), created.PaymentID)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(p.Status, p.Amount, p.Currency, p.TransactionID)
	// Output: pending 5000 CLP order-1001
}

func ExamplePaymentsService_GetByNotificationToken() {
	srv, client := exampleKhipu()
	defer srv.Close()
	created := examplePayment(client, "")
	pending, _ := client.Payments.Get(context.Background(), created.PaymentID)

	// The token is what Khipu POSTs to notify_url.
	p, err := client.Payments.GetByNotificationToken(context.Background(), pending.NotificationToken)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(p.PaymentID == created.PaymentID)
	// Output: true
}

func ExamplePaymentsService_Delete() {
	srv, client := exampleKhipu()
	defer srv.Close()
	created := examplePayment(client, "")

	if _, err := client.Payments.Delete(context.Background(), created.PaymentID); err != nil {
		log.Fatal(err)
	}
	_, err := client.Payments.Delete(context.Background(), "../banks")
	fmt.Println(err)
	// Output: khipu: invalid parameter payment_id: has '.' at byte 0: only letters, digits, '-' and '_' are allowed
}

func ExamplePaymentsService_Confirm() {
	srv, client := exampleKhipu()
	defer srv.Close()
	created := examplePayment(client, "")
	if err := srv.Pay(created.PaymentID); err != nil {
		log.Fatal(err)
	}

	_, err := client.Payments.Confirm(context.Background(), created.PaymentID)
	fmt.Println(err)
	// Output: <nil>
}

func ExamplePaymentsService_Refund() {
	srv, client := exampleKhipu()
	defer srv.Close()
	created := examplePayment(client, "")
	if err := srv.Pay(created.PaymentID); err != nil {
		log.Fatal(err)
	}

	// Part of the payment, then the rest (nil params: whatever remains).
	_, err := client.Payments.Refund(context.Background(), created.PaymentID, &khipu.RefundParams{Amount: khipu.NewAmount(1000)})
	fmt.Println(err)
	_, err = client.Payments.Refund(context.Background(), created.PaymentID, nil)
	fmt.Println(err)
	// Output:
	// <nil>
	// <nil>
}

func ExampleReceiversService_Create() {
	srv, client := exampleKhipu()
	defer srv.Close()

	r, err := client.Receivers.Create(context.Background(), &khipu.ReceiverCreateParams{
		AdminFirstName: "Ana", AdminLastName: "Pérez", AdminEmail: "ana@shop.example",
		CountryCode: "CL", BusinessIdentifier: "76.123.456-7", BusinessCategory: "ecommerce",
		BusinessName: "Tienda Ana", BusinessPhone: "+56 2 2345 6789",
		BusinessAddressLine1: "Av. Providencia 123", BusinessAddressLine2: "Providencia", BusinessAddressLine3: "Santiago",
		ContactFullName: "Ana Pérez", ContactJobTitle: "Gerente", ContactEmail: "ana@shop.example", ContactPhone: "+56 9 8765 4321",
	})
	if err != nil {
		log.Fatal(err)
	}
	// Store r.Secret as you store your own; printing r never shows it.
	fmt.Println(r)
	fmt.Println(len(r.Secret) > 0)
	// Output:
	// khipu.ReceiverCreated{ReceiverID: "100001", Secret: [redacted]}
	// true
}

func ExamplePaymentMethodsService_List() {
	srv, client := exampleKhipu()
	defer srv.Close()

	methods, err := client.PaymentMethods.List(context.Background(), client.ReceiverID())
	if err != nil {
		log.Fatal(err)
	}
	for _, m := range methods {
		fmt.Println(m.ID, "-", m.Name)
	}
	// Output:
	// simplified_transfer - Transferencia simplificada
	// regular_transfer - Transferencia normal
	// webpay_psp - Tarjetas
}

func ExampleClient_NotificationHandler() {
	srv, client := exampleKhipu()
	defer srv.Close()

	// The shop's notification endpoint.
	paid := make(chan string, 1)
	shop := httptest.NewServer(client.NotificationHandler(func(ctx context.Context, p *khipu.Payment) error {
		if err := p.Check("order-1001", khipu.NewAmount(5000), "CLP"); err != nil {
			// Verified, but not this order's payment, and a retry would not
			// change that: record it for a person to look at (an error
			// here would answer 500, and Khipu would notify again).
			log.Printf("payment %s does not pay order-1001: %v", p.PaymentID, err)
			return nil
		}
		paid <- p.TransactionID // mark the order paid, idempotently
		return nil
	}, khipu.WithHandlerLogger(slog.Default()))) // refusals and failures are logged here
	defer shop.Close()

	created := examplePayment(client, shop.URL)
	if err := srv.Pay(created.PaymentID); err != nil { // Khipu POSTs the notification
		log.Fatal(err)
	}
	fmt.Println("delivered", <-paid)
	// Output: delivered order-1001
}

func ExampleClient_VerifyNotification() {
	srv, client := exampleKhipu()
	defer srv.Close()

	shop := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := client.VerifyNotification(r.Context(), r)
		if err != nil {
			http.Error(w, "rejected", http.StatusBadRequest)
			return
		}
		fmt.Println(p.Status, p.Check("order-1001", khipu.NewAmount(5000), "CLP"))
	}))
	defer shop.Close()

	created := examplePayment(client, shop.URL)
	if err := srv.Pay(created.PaymentID); err != nil {
		log.Fatal(err)
	}
	// A forged token is refused: Khipu does not know it.
	resp, err := http.PostForm(shop.URL, url.Values{"api_version": {"1.3"}, "notification_token": {"forged"}})
	if err != nil {
		log.Fatal(err)
	}
	resp.Body.Close()
	fmt.Println(resp.StatusCode)
	// Output:
	// done <nil>
	// 400
}

func ExamplePayment_Check() {
	p := &khipu.Payment{Status: khipu.StatusDone, TransactionID: "order-1001", Amount: khipu.NewAmount(4999), Currency: "CLP"}
	fmt.Println(p.Check("order-1001", khipu.NewAmount(5000), "CLP"))
	// Output: khipu: payment amount is "4999", want "5000"
}

// DecodeResponse reads an answer as the clients do, for a call they do not
// make: here GET /v3/banks with an http.Client of one's own.
func ExampleDecodeResponse() {
	srv := khiputest.NewServer("12345", "example-secret")
	defer srv.Close()

	get := func(url string, out any) error {
		req, err := http.NewRequest(http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		req.Header.Set("x-api-key", srv.APIKey())
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20+1)) // more than 1 MiB is an error
		if err != nil {
			return err
		}
		return khipu.DecodeResponse(resp, body, out)
	}

	var banks struct {
		Banks []struct {
			BankID string `json:"bank_id"`
		} `json:"banks"`
	}
	if err := get(srv.V3URL()+"/v3/banks", &banks); err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(banks.Banks) > 0)

	// A path the server does not know: the error says to check the base URL.
	err := get(srv.V3URL()+"/banks", &banks) // v3 paths start with /v3
	var ae *khipu.APIError
	if errors.As(err, &ae) {
		fmt.Println(ae.StatusCode, strings.Contains(err.Error(), "check the base URL"))
	}
	// Output:
	// true
	// 404 true
}
