package khiputest_test

import (
	"context"
	"fmt"
	"log"
	"net/http/httptest"

	"github.com/khipu-go/khipu"
	"github.com/khipu-go/khipu/khiputest"
	"github.com/khipu-go/khipu/khipuv3"
)

func ExampleServer_AuthorizeSubscription() {
	srv := khiputest.NewServer("12345", "test-secret")
	defer srv.Close()
	client, err := khipuv3.NewClient(srv.APIKey(), khipuv3.WithBaseURL(srv.V3URL()))
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()

	// The shop's notify_url: CallbackHandler confirms each (unsigned)
	// callback with Subscriptions.Get before the shop's function sees it.
	shop := httptest.NewServer(client.Subscriptions.CallbackHandler(func(ctx context.Context, sub *khipuv3.Subscription) error {
		fmt.Println("confirmed by Khipu:", sub.Status, "at bank", sub.CustomerBankCode)
		return nil
	}))
	defer shop.Close()

	created, err := client.Subscriptions.Create(ctx, &khipuv3.SubscriptionCreateParams{
		Name: "Plan Hogar, Ana", Email: "ana@example.com", MaxAmount: khipu.NewAmount(10000), Currency: "CLP",
		NotifyURL: shop.URL, ReturnURL: "https://shop.example/subscribed", CancelURL: "https://shop.example/plans",
	})
	if err != nil {
		log.Fatal(err)
	}
	sub, err := client.Subscriptions.Get(ctx, created.SubscriptionID)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("before signing:", sub.Status, sub.CustomerBankCode)

	// The customer signs the mandate with their bank, as the Authorize
	// button at created.RedirectURL does; the callback reaches the shop.
	if err := srv.AuthorizeSubscription(created.SubscriptionID); err != nil {
		log.Fatal(err)
	}
	// Output:
	// before signing: DISABLED no-bank
	// confirmed by Khipu: ENABLED at bank 8
}
