package khipuv3_test

import (
	"context"
	"fmt"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"

	"github.com/khipu-go/khipu"
	"github.com/khipu-go/khipu/khipuv3"
)

// exampleKhipu starts a loopback server that answers each endpoint with a
// recorded Khipu answer (testdata), and a client for it. Real code calls
// khipuv3.NewClient with the account's API key and no WithBaseURL.
func exampleKhipu(opts ...khipuv3.Option) (*httptest.Server, *khipuv3.Client) {
	answers := map[string]string{
		"GET /v3/banks":                               "../../testdata/realworld/v3-banks-khiputoolsmock-1.json",
		"POST /v3/payments":                           "../../testdata/realworld/v3-payment-created-khiputools-1.json",
		"GET /v3/payments/{id}":                       "../../testdata/realworld/v3-payment-derekillo-1.json",
		"DELETE /v3/payments/{id}":                    "success-delete.json",
		"POST /v3/payments/{id}/confirm":              "success-confirm.json",
		"POST /v3/payments/{id}/refunds":              "success-refund.json",
		"GET /v3/predict":                             "../../testdata/realworld/v3-predict-khiputools-1.json",
		"POST /v3/receivers":                          "receiver-created.json",
		"GET /v3/merchants/{id}/paymentMethods":       "../../testdata/realworld/v2-payment-methods-khiputools-1.json",
		"POST /v1/automatic-payment/subscription":     "../../testdata/realworld/subscription-khiputools-1.json",
		"GET /v1/automatic-payment/subscription/{id}": "../../testdata/realworld/subscription-khiputools-2.json",
		"POST /v1/automatic-payment/charge-intent":    "charge-created.json",
	}
	mux := http.NewServeMux()
	for pattern, file := range answers {
		body, err := os.ReadFile(filepath.Join("testdata", file))
		if err != nil {
			log.Fatal(err)
		}
		mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("x-api-key") != "example-api-key" {
				http.Error(w, `{"message":"Invalid API key"}`, http.StatusUnauthorized)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(body)
		})
	}
	srv := httptest.NewServer(mux)
	client, err := khipuv3.NewClient("example-api-key", append([]khipuv3.Option{khipuv3.WithBaseURL(srv.URL)}, opts...)...)
	if err != nil {
		log.Fatal(err)
	}
	return srv, client
}

func ExampleNewClient() {
	// With real Khipu: khipuv3.NewClient(os.Getenv("KHIPU_API_KEY"))
	client, err := khipuv3.NewClient("example-api-key", khipuv3.WithUserAgent("myshop/1.0"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(client) // the key is never printed

	_, err = khipuv3.NewClient(" ")
	fmt.Println(err)
	// Output:
	// khipuv3.Client{baseURL: https://payment-api.khipu.com, apiKey: [redacted]}
	// khipu: invalid parameter apiKey: is empty
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
	// Banco Estado (SDdGj): from 1000
	// Banco Santander (SDdGa): from 1
}

func ExamplePaymentsService_Create() {
	srv, client := exampleKhipu()
	defer srv.Close()

	created, err := client.Payments.Create(context.Background(), &khipuv3.PaymentCreateParams{
		Subject:       "Order 1001",
		Currency:      "CLP",
		Amount:        khipu.NewAmount(5000),
		TransactionID: "order-1001",
		ReturnURL:     "https://shop.example/orders/order-1001",
		NotifyURL:     "https://shop.example/khipu/notify", // notified with notifications 3.0
	})
	if err != nil {
		log.Fatal(err)
	}
	// Store created.PaymentID with the order, then send the payer to
	// created.PaymentURL.
	fmt.Println(created.PaymentID)
	fmt.Println(created.PaymentURL)
	// Output:
	// gqzdy6chjne9
	// https://khipu.com/payment/info/gqzdy6chjne9
}

func ExamplePaymentsService_Get() {
	srv, client := exampleKhipu()
	defer srv.Close()

	p, err := client.Payments.Get(context.Background(), "drp7wjy8qfoq")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(p.PaymentID, p.Status, p.StatusDetail, p.Amount, p.Currency, p.TransactionID)
	fmt.Println(p.Bank, p.PaymentMethod, p.ConciliationDate.UTC().Format("2006-01-02 15:04"))
	// Deliver only when the payment matches the order.
	fmt.Println(p.Check("tx-20250509141928", khipu.NewAmount(3), "CLP"))
	// Output:
	// drp7wjy8qfoq done normal 3 CLP tx-20250509141928
	// DemoBank simplified_transfer 2025-05-09 18:20
	// <nil>
}

func ExamplePaymentsService_Delete() {
	srv, client := exampleKhipu()
	defer srv.Close()

	ok, err := client.Payments.Delete(context.Background(), "gqzdy6chjne9")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(ok.Message)
	// Output:
	// Pago eliminado
}

func ExamplePaymentsService_Confirm() {
	srv, client := exampleKhipu()
	defer srv.Close()

	ok, err := client.Payments.Confirm(context.Background(), "gqzdy6chjne9")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(ok.Message)
	// Output:
	// Pago confirmado
}

func ExamplePaymentsService_Refund() {
	srv, client := exampleKhipu()
	defer srv.Close()

	// A partial refund; nil params refund the whole payment.
	ok, err := client.Payments.Refund(context.Background(), "gqzdy6chjne9", &khipuv3.RefundParams{Amount: khipu.NewAmount(500)})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(ok.Message)

	// A zero amount is refused before anything is sent: it never means
	// "everything".
	_, err = client.Payments.Refund(context.Background(), "gqzdy6chjne9", &khipuv3.RefundParams{})
	fmt.Println(err)
	// Output:
	// Reembolso solicitado
	// khipu: invalid parameter amount: must be greater than zero
}

func ExamplePaymentsService_Predict() {
	srv, client := exampleKhipu()
	defer srv.Close()

	p, err := client.Payments.Predict(context.Background(), &khipuv3.PredictParams{
		PayerEmail: "payer@example.com",
		BankID:     "SDdGj",
		Amount:     khipu.NewAmount(50000),
		Currency:   "CLP",
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(p.Result, p.Result == khipuv3.PredictionOK)
	fmt.Println("up to", p.MaxAmount, "and", p.NewDestinataryMaxAmount, "to a new destinatary")
	// Output:
	// ok true
	// up to 5000000 and 100000 to a new destinatary
}

func ExampleReceiversService_Create() {
	srv, client := exampleKhipu()
	defer srv.Close()

	rc, err := client.Receivers.Create(context.Background(), &khipuv3.ReceiverCreateParams{
		AdminFirstName: "Ana", AdminLastName: "Pérez", AdminEmail: "ana@example.com",
		CountryCode: "CL", BusinessIdentifier: "76.123.456-7", BusinessCategory: "retail",
		BusinessName: "Tienda Ñuñoa", BusinessPhone: "+56 2 2345 6789",
		BusinessAddressLine1: "Av. Irarrázaval 123", BusinessAddressLine2: "Ñuñoa", BusinessAddressLine3: "Santiago",
		ContactFullName: "Ana Pérez", ContactJobTitle: "Owner", ContactEmail: "ana@example.com", ContactPhone: "+56 9 1234 5678",
	})
	if err != nil {
		log.Fatal(err)
	}
	// Store rc.Secret as you store your API key; printing never shows it.
	fmt.Println(rc.ReceiverID, len(rc.Secret))
	fmt.Println(rc)
	// Output:
	// 7654321 40
	// khipuv3.ReceiverCreated{ReceiverID: "7654321", Secret: [redacted]}
}

func ExamplePaymentMethodsService_List() {
	srv, client := exampleKhipu()
	defer srv.Close()

	methods, err := client.PaymentMethods.List(context.Background(), "985101")
	if err != nil {
		log.Fatal(err)
	}
	for _, m := range methods {
		fmt.Println(m.ID, m.LogoURL)
	}
	// Output:
	// simplified_transfer https://s3.amazonaws.com/static.khipu.com/buttons/2015/150x50-transparent.png
}

func ExampleSubscriptionsService_Create() {
	srv, client := exampleKhipu()
	defer srv.Close()

	sub, err := client.Subscriptions.Create(context.Background(), &khipuv3.SubscriptionCreateParams{
		Name:      "Plan mensual",
		Email:     "ana@example.com",
		MaxAmount: khipu.NewAmount(50000),
		Currency:  "CLP",
		NotifyURL: "https://shop.example/khipu/subscription",
		ReturnURL: "https://shop.example/subscribed",
		CancelURL: "https://shop.example/cancelled",
	})
	if err != nil {
		log.Fatal(err)
	}
	// Store sub.SubscriptionID, then send the customer to sign the mandate.
	fmt.Println(sub.SubscriptionID)
	fmt.Println(sub.RedirectURL)
	// Output:
	// 13a0f1aa-5e47-4894-aa8b-282dd19593ec
	// https://khipu.com/pac-manager/13a0f1aa-5e47-4894-aa8b-282dd19593ec
}

func ExampleSubscriptionsService_Get() {
	srv, client := exampleKhipu()
	defer srv.Close()

	sub, err := client.Subscriptions.Get(context.Background(), "13a0f1aa-5e47-4894-aa8b-282dd19593ec")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(sub.Status, sub.CustomerBankCode, sub.ServiceReference)
	fmt.Println("can be charged:", sub.Status == khipuv3.SubscriptionEnabled)
	// Output:
	// SIGNED 8 My Merchant name
	// can be charged: false
}

func ExampleSubscriptionsService_CallbackHandler() {
	// The handler logs every refusal to the logger of WithHandlerLogger
	// (here one that prints the level, message and status).
	logger := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			switch a.Key {
			case slog.TimeKey, "error", "remote_addr", "subscription_id":
				return slog.Attr{}
			}
			return a
		},
	}))
	srv, client := exampleKhipu()
	defer srv.Close()

	// http.Handle("POST /khipu/subscription", handler) in a real shop.
	handler := client.Subscriptions.CallbackHandler(func(ctx context.Context, sub *khipuv3.Subscription) error {
		// sub is what Khipu reports, not what the callback claimed.
		fmt.Println("confirmed:", sub.SubscriptionID, sub.Status)
		return nil // an error answers 500, and Khipu calls again
	}, khipuv3.WithHandlerLogger(logger))
	// Khipu says this subscription is SIGNED: a callback that claims
	// "enabled" is refused (409), and the function never sees it.
	for _, status := range []string{"signed", "enabled"} {
		w := httptest.NewRecorder()
		handler.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/khipu/subscription",
			strings.NewReader(`{"subscription_id":"13a0f1aa-5e47-4894-aa8b-282dd19593ec","status":"`+status+`"}`)))
		fmt.Println(status, "→", w.Code)
	}
	// Output:
	// confirmed: 13a0f1aa-5e47-4894-aa8b-282dd19593ec SIGNED
	// signed → 200
	// level=WARN msg="khipu subscription callback refused" status=409
	// enabled → 409
}

func ExampleChargesService_Create() {
	srv, client := exampleKhipu()
	defer srv.Close()

	charge, err := client.Charges.Create(context.Background(), &khipuv3.ChargeCreateParams{
		SubscriptionID:   "13a0f1aa-5e47-4894-aa8b-282dd19593ec",
		Amount:           khipu.NewAmount(19990),
		Subject:          "Plan mensual, marzo",
		Body:             "Cargo mensual del plan",
		ErrorResponseURL: "https://shop.example/khipu/charge-error",
		Custom:           "plan=mensual",
		TransactionID:    "charge-2026-03",
		NotifyURL:        "https://shop.example/khipu/notify",
	})
	if err != nil {
		log.Fatal(err)
	}
	// The charge is a payment: its notification arrives at NotifyURL.
	fmt.Println(charge.PaymentID)

	_, err = client.Charges.Create(context.Background(), &khipuv3.ChargeCreateParams{
		SubscriptionID: "13a0f1aa-5e47-4894-aa8b-282dd19593ec", Amount: khipu.MustParseAmount("0.5"),
	})
	fmt.Println(err)
	// Output:
	// pe9x2ny2rmfd
	// khipu: invalid parameter amount: must be at least 1
}
