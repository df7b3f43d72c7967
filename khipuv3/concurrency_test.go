package khipuv3_test

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/khipu-go/khipu"
	"github.com/khipu-go/khipu/khipuv3"
)

// TestOneClientServesManyGoroutines shares one Client between 32
// goroutines, each calling every endpoint with ids of its own, and checks
// that every answer is the one for its own request. Run with -race.
func TestOneClientServesManyGoroutines(t *testing.T) {
	const goroutines, rounds, calls = 32, 5, 12 // calls: one per endpoint, per round
	f := newFake(t)
	var buf syncBuffer
	c := f.client(t, khipuv3.WithLogger(debugLogger(&buf)), khipuv3.WithUserAgent("myshop/1.0"))
	echo := func(format string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			respond(w, 200, []byte(fmt.Sprintf(format, r.PathValue("id"))))
		}
	}
	f.on("GET /v3/banks", 200, realworld(t, "v3-banks-khiputoolsmock-1.json"))
	f.mux.HandleFunc("POST /v3/payments", func(w http.ResponseWriter, r *http.Request) {
		var p struct {
			TransactionID string `json:"transaction_id"`
		}
		if !assert.NoError(t, jsonDecode(r, &p)) {
			return
		}
		respond(w, 200, []byte(`{"payment_id":"p-`+p.TransactionID+`","payment_url":"https://khipu.com/payment/info/p-`+p.TransactionID+`"}`))
	})
	f.mux.HandleFunc("GET /v3/payments/{id}", echo(`{"payment_id":"%s","amount":"19.99","currency":"CLP","status":"done"}`))
	f.mux.HandleFunc("DELETE /v3/payments/{id}", echo(`{"message":"deleted %s"}`))
	f.mux.HandleFunc("POST /v3/payments/{id}/confirm", echo(`{"message":"confirmed %s"}`))
	f.mux.HandleFunc("POST /v3/payments/{id}/refunds", echo(`{"message":"refunded %s"}`))
	f.on("GET /v3/predict", 200, realworld(t, "v3-predict-khiputools-1.json"))
	f.on("POST /v3/receivers", 200, fixture(t, "receiver-created.json"))
	f.mux.HandleFunc("GET /v3/merchants/{id}/paymentMethods", echo(`{"paymentMethods":[{"id":"%s","name":"x"}]}`))
	f.on("POST /v1/automatic-payment/subscription", 200, realworld(t, "subscription-khiputools-1.json"))
	f.mux.HandleFunc("GET /v1/automatic-payment/subscription/{id}", echo(`{"subscription_id":"%s","status":"ENABLED"}`))
	f.on("POST /v1/automatic-payment/charge-intent", 200, fixture(t, "charge-created.json"))

	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, goroutines*rounds*calls)
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			check := func(ok bool, format string, args ...any) {
				if !ok {
					errs <- fmt.Errorf("goroutine %d: "+format, append([]any{g}, args...)...)
				}
			}
			for i := range rounds {
				id := fmt.Sprintf("g%02d-r%d", g, i)
				p := minimalPayment()
				p.TransactionID = id
				created, err := c.Payments.Create(ctx, p)
				check(err == nil && created.PaymentID == "p-"+id, "Create: %v %v", created, err)
				pay, err := c.Payments.Get(ctx, id)
				check(err == nil && pay.PaymentID == id && pay.Amount == khipu.MustParseAmount("19.99"), "Get: %v %v", pay, err)
				for name, call := range map[string]func(string) (*khipu.Success, error){
					"deleted":   func(id string) (*khipu.Success, error) { return c.Payments.Delete(ctx, id) },
					"confirmed": func(id string) (*khipu.Success, error) { return c.Payments.Confirm(ctx, id) },
					"refunded": func(id string) (*khipu.Success, error) {
						return c.Payments.Refund(ctx, id, &khipuv3.RefundParams{Amount: khipu.NewAmount(1)})
					},
				} {
					ok, err := call(id)
					check(err == nil && ok.Message == name+" "+id, "%s: %v %v", name, ok, err)
				}
				banks, err := c.Banks.List(ctx)
				check(err == nil && len(banks) == 2, "Banks: %v %v", banks, err)
				pred, err := c.Payments.Predict(ctx, predictParams())
				check(err == nil && pred.Result == khipuv3.PredictionOK, "Predict: %v %v", pred, err)
				rc, err := c.Receivers.Create(ctx, receiverParams())
				check(err == nil && rc.ReceiverID == "7654321", "Receivers: %v %v", rc, err)
				methods, err := c.PaymentMethods.List(ctx, id)
				check(err == nil && len(methods) == 1 && methods[0].ID == id, "PaymentMethods: %v %v", methods, err)
				sc, err := c.Subscriptions.Create(ctx, subscriptionParams())
				check(err == nil && sc.SubscriptionID == subscriptionID, "Subscriptions.Create: %v %v", sc, err)
				sub, err := c.Subscriptions.Get(ctx, id)
				check(err == nil && sub.SubscriptionID == id, "Subscriptions.Get: %v %v", sub, err)
				ch, err := c.Charges.Create(ctx, chargeParams())
				check(err == nil && ch.PaymentID == "pe9x2ny2rmfd", "Charges: %v %v", ch, err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	require.Equal(t, goroutines*rounds*calls, f.count())
	for _, r := range f.requests() {
		assert.Equal(t, testAPIKey, r.Header.Get("x-api-key"))
		assert.Equal(t, "myshop/1.0 khipu-go/"+khipu.Version, r.Header.Get("User-Agent"))
	}
	assert.Len(t, records(t, &buf), goroutines*rounds*calls, "one debug record per request")
}
