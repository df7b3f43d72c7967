package khipu_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/khipu-go/khipu"
)

// laterFields are fields of Khipu's answers this version does not know.
type laterFields struct {
	HitesURL string `json:"hites_url"`
	PaymeURL string `json:"payme_url"`
}

func TestRawHoldsTheCreatedPaymentAsReceived(t *testing.T) {
	mux, c, base := setup(t)
	body := fixture(t, "payment-created.json")
	serve(t, mux, base, 200, "application/json", body)
	created, err := c.Payments.Create(context.Background(), &khipu.PaymentCreateParams{Subject: "x", Currency: "CLP", Amount: khipu.NewAmount(1000)})
	require.NoError(t, err)
	assert.Equal(t, string(bytes.TrimSpace(body)), string(created.Raw))

	var later laterFields
	require.NoError(t, json.Unmarshal(created.Raw, &later))
	assert.Equal(t, laterFields{
		HitesURL: "https://khipu.com/payment/hites/gqzdy6chjne9",
		PaymeURL: "https://khipu.com/payment/payme/gqzdy6chjne9",
	}, later, "what this version does not know is still reachable")
}

func TestRawHoldsThePaymentAsReceived(t *testing.T) {
	withLater := func(id string) []byte {
		return []byte(`{"payment_id":"` + id + `","receiver_id":12345,"status":"pending","amount":"1000.0000","currency":"CLP",` +
			`"hites_url":"https://khipu.com/payment/hites/` + id + `","payme_url":null,"split_payments":[{"receiver_id":1,"amount":10}]}`)
	}
	mux, c, _ := setup(t)
	mux.HandleFunc("GET /api/2.0/payments/{id}", func(w http.ResponseWriter, r *http.Request) {
		respond(w, 200, withLater(r.PathValue("id")))
	})
	mux.HandleFunc("GET /api/2.0/payments", func(w http.ResponseWriter, r *http.Request) {
		respond(w, 200, withLater("bytoken12345"))
	})

	first, err := c.Payments.Get(context.Background(), "first1234567")
	require.NoError(t, err)
	second, err := c.Payments.Get(context.Background(), "second123456")
	require.NoError(t, err)
	byToken, err := c.Payments.GetByNotificationToken(context.Background(), "tok")
	require.NoError(t, err)

	assert.Equal(t, string(withLater("first1234567")), string(first.Raw), "the body exactly as received")
	assert.Equal(t, string(withLater("second123456")), string(second.Raw), "each payment has its own")
	assert.Equal(t, string(withLater("bytoken12345")), string(byToken.Raw))
	var later struct {
		laterFields
		Splits []map[string]any `json:"split_payments"`
	}
	require.NoError(t, json.Unmarshal(first.Raw, &later))
	assert.Equal(t, "https://khipu.com/payment/hites/first1234567", later.HitesURL)
	assert.Len(t, later.Splits, 1)

	// What a caller does to one Raw changes nothing else.
	first.Raw[2] = 'X'
	again, err := c.Payments.Get(context.Background(), "first1234567")
	require.NoError(t, err)
	assert.Equal(t, string(withLater("first1234567")), string(again.Raw))
	assert.Equal(t, string(withLater("second123456")), string(second.Raw))
}

func TestRawReachesTheNotificationHandlersFunction(t *testing.T) {
	body := `{"payment_id":"abc123def456","receiver_id":12345,"status":"done","amount":1000,"currency":"CLP",` +
		`"transaction_id":"order-1","payme_url":"https://khipu.com/payment/payme/abc123def456"}`
	c, _ := notifyKhipu(t, map[string]string{"tok": body})
	raw := make(chan json.RawMessage, 1)
	srv := httptest.NewServer(c.NotificationHandler(func(ctx context.Context, p *khipu.Payment) error {
		raw <- p.Raw
		return nil
	}))
	defer srv.Close()
	resp, err := http.Post(srv.URL, "application/x-www-form-urlencoded", strings.NewReader("api_version=1.3&notification_token=tok"))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var later laterFields
	require.NoError(t, json.Unmarshal(<-raw, &later))
	assert.Equal(t, "https://khipu.com/payment/payme/abc123def456", later.PaymeURL)
}

func TestRawOfAPaymentDecodedByHandIsItsJSON(t *testing.T) {
	in := []byte(` {"payment_id":"x","hites_url":"h"} `)
	var p khipu.Payment
	require.NoError(t, json.Unmarshal(in, &p))
	assert.Equal(t, `{"payment_id":"x","hites_url":"h"}`, string(p.Raw))
	in[3] = 'X'
	assert.Equal(t, `{"payment_id":"x","hites_url":"h"}`, string(p.Raw), "a copy, not the caller's buffer")

	var created khipu.PaymentCreated
	require.NoError(t, json.Unmarshal([]byte(`{"payment_id":"x","payme_url":"p"}`), &created))
	assert.Equal(t, `{"payment_id":"x","payme_url":"p"}`, string(created.Raw))

	out, err := json.Marshal(p)
	require.NoError(t, err)
	assert.NotContains(t, string(out), "hites_url", "Raw is not encoded with the payment")
}
