package khipuv3_test

// Khipu's answers as Khipu sends them: nulls, unknown fields, numbers as
// strings, enums in upper case, and answers without what the caller cannot
// do without.

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/khipu-go/khipu"
	"github.com/khipu-go/khipu/khipuv3"
)

// TestAnAnswerWithoutWhatTheCallerNeedsIsUnexpected: a 200 whose id is
// missing (or null, or "") is an UnexpectedResponseError naming the field,
// never a success with an empty id — also for the models package khipu
// shares with khipuv3 (PaymentCreated, Payment, ReceiverCreated).
func TestAnAnswerWithoutWhatTheCallerNeedsIsUnexpected(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name, pattern, body, missing string
		call                         func(c *khipuv3.Client) (any, error)
	}{
		{"Payments.Create", "POST /v3/payments", `{"payment_url":"https://khipu.com/payment/info/x","ready_for_terminal":false}`, "payment_id",
			func(c *khipuv3.Client) (any, error) { return c.Payments.Create(ctx, minimalPayment()) }},
		{"Payments.Create null id", "POST /v3/payments", `{"payment_id":null,"payment_url":"https://khipu.com/payment/info/x"}`, "payment_id",
			func(c *khipuv3.Client) (any, error) { return c.Payments.Create(ctx, minimalPayment()) }},
		{"Payments.Get", "GET /v3/payments/{id}", `{"payment_id":"","status":"done","amount":1000,"currency":"CLP"}`, "payment_id",
			func(c *khipuv3.Client) (any, error) { return c.Payments.Get(ctx, "gqzdy6chjne9") }},
		{"Payments.Predict", "GET /v3/predict", `{"max_amount":5000000}`, "result",
			func(c *khipuv3.Client) (any, error) { return c.Payments.Predict(ctx, predictParams()) }},
		{"Receivers.Create without receiver_id", "POST /v3/receivers", `{"secret":"only-a-secret"}`, "receiver_id",
			func(c *khipuv3.Client) (any, error) { return c.Receivers.Create(ctx, receiverParams()) }},
		{"Receivers.Create without secret", "POST /v3/receivers", `{"receiver_id":4242}`, "secret",
			func(c *khipuv3.Client) (any, error) { return c.Receivers.Create(ctx, receiverParams()) }},
		{"Subscriptions.Create", "POST /v1/automatic-payment/subscription", `{"redirect_url":"https://khipu.com/pac-manager/x"}`, "subscription_id",
			func(c *khipuv3.Client) (any, error) { return c.Subscriptions.Create(ctx, subscriptionParams()) }},
		{"Subscriptions.Get", "GET /v1/automatic-payment/subscription/{id}", `{"status":"ENABLED"}`, "subscription_id",
			func(c *khipuv3.Client) (any, error) { return c.Subscriptions.Get(ctx, subscriptionID) }},
		{"Charges.Create", "POST /v1/automatic-payment/charge-intent", `{"status":"ok"}`, "payment_id",
			func(c *khipuv3.Client) (any, error) { return c.Charges.Create(ctx, chargeParams()) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f, c := setup(t)
			f.on(tc.pattern, 200, []byte(tc.body))
			out, err := tc.call(c)
			var ue *khipu.UnexpectedResponseError
			require.ErrorAs(t, err, &ue, "answer %v", out)
			assert.Equal(t, 200, ue.StatusCode)
			assert.Contains(t, err.Error(), "the response has no "+tc.missing)
			if tc.pattern == "POST /v3/receivers" {
				assert.NotContains(t, string(ue.Body), "only-a-secret")
			} else {
				assert.Equal(t, tc.body, string(ue.Body), "the body is kept for diagnosis")
			}
			assert.Equal(t, 1, f.count())
		})
	}
}
