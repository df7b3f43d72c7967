package khipuv3_test

import (
	"context"
	"fmt"
	"log"
	"net/http/httptest"
	"strings"

	"github.com/khipu-go/khipu"
	"github.com/khipu-go/khipu/khiputest"
	"github.com/khipu-go/khipu/khipuv3"
)

// Asking for a mandate against khiputest, the in-memory Khipu: the customer
// is sent to RedirectURL to sign it, and Khipu reports it DISABLED until
// then.
func ExampleSubscriptionsService_Create_khiputest() {
	srv := khiputest.NewServer("12345", "test-secret")
	defer srv.Close()
	client, err := khipuv3.NewClient(srv.APIKey(), khipuv3.WithBaseURL(srv.V3URL()))
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()

	created, err := client.Subscriptions.Create(ctx, &khipuv3.SubscriptionCreateParams{
		Name:             "Plan Hogar, Ana",
		Email:            "ana@example.com",
		MaxAmount:        khipu.NewAmount(10000), // the most one charge may take
		Currency:         "CLP",
		NotifyURL:        "https://shop.example/khipu/subscription",
		ReturnURL:        "https://shop.example/subscribed",
		CancelURL:        "https://shop.example/plans",
		ServiceReference: "Casa 12",
	})
	if err != nil {
		log.Fatal(err)
	}
	page := strings.TrimPrefix(created.RedirectURL, srv.V3URL())
	fmt.Println("send the customer to", strings.Replace(page, created.SubscriptionID, "<id>", 1))

	sub, err := client.Subscriptions.Get(ctx, created.SubscriptionID)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(sub.Status, sub.CustomerBankCode, sub.ServiceReference)
	// Output:
	// send the customer to /pac-manager/<id>
	// DISABLED no-bank Casa 12
}

// Charging an enabled mandate against khiputest: the charge is a payment,
// notified with a signed notification 3.0 once it is paid.
func ExampleChargesService_Create_khiputest() {
	srv := khiputest.NewServer("12345", "test-secret")
	defer srv.Close()
	client, err := khipuv3.NewClient(srv.APIKey(), khipuv3.WithBaseURL(srv.V3URL()))
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()

	// The shop: its subscription callback and its payment notifications.
	callbacks := httptest.NewServer(client.Subscriptions.CallbackHandler(func(ctx context.Context, sub *khipuv3.Subscription) error {
		fmt.Println("subscription", sub.Status)
		return nil
	}))
	defer callbacks.Close()
	notifications := httptest.NewServer(khipuv3.NotificationHandler("test-secret", func(ctx context.Context, n *khipuv3.Notification) error {
		fmt.Println("paid:", n.TransactionID, n.Amount, n.Currency, n.Check("invoice-2025-03", khipu.NewAmount(9990), "CLP"))
		return nil
	}))
	defer notifications.Close()

	created, err := client.Subscriptions.Create(ctx, &khipuv3.SubscriptionCreateParams{
		Name: "Plan Hogar, Ana", Email: "ana@example.com", MaxAmount: khipu.NewAmount(10000), Currency: "CLP",
		NotifyURL: callbacks.URL, ReturnURL: "https://shop.example/subscribed", CancelURL: "https://shop.example/plans",
	})
	if err != nil {
		log.Fatal(err)
	}
	if err := srv.AuthorizeSubscription(created.SubscriptionID); err != nil { // the customer signs
		log.Fatal(err)
	}

	charged, err := client.Charges.Create(ctx, &khipuv3.ChargeCreateParams{
		SubscriptionID:   created.SubscriptionID,
		Amount:           khipu.NewAmount(9990),
		Subject:          "Plan Hogar, March",
		Body:             "Monthly fee for March",
		ErrorResponseURL: "https://shop.example/khipu/charge-error",
		Custom:           "customer 12",
		TransactionID:    "invoice-2025-03",
		NotifyURL:        notifications.URL, // notified with 3.0
	})
	if err != nil {
		log.Fatal(err)
	}
	if err := srv.Pay(charged.PaymentID); err != nil { // the bank pays the charge
		log.Fatal(err)
	}
	// Output:
	// subscription ENABLED
	// paid: invoice-2025-03 9990 CLP <nil>
}
