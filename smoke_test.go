package khipu_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/khipu-go/khipu"
)

func TestCreatePaymentSendsSignedForm(t *testing.T) {
	mux, c, base := setup(t)
	var got received
	mux.HandleFunc("POST /api/2.0/payments", func(w http.ResponseWriter, r *http.Request) {
		got = capture(t, r, base)
		respond(w, 200, []byte(`{"payment_id":"abc123def456","payment_url":"https://khipu.com/payment/info/abc123def456","ready_for_terminal":false,"hites_url":"x"}`))
	})
	out, err := c.Payments.Create(context.Background(), &khipu.PaymentCreateParams{
		Subject: "Compra de prueba ñandú & co", Currency: "CLP", Amount: khipu.NewAmount(1000),
		TransactionID: "MTI-100", ReturnURL: "https://mi-ecomerce.com/backend/return?x=1&y=a b", Custom: "<xml a='1'>~*!</xml>",
	})
	require.NoError(t, err)
	assert.Equal(t, "abc123def456", out.PaymentID)
	assert.True(t, got.SignatureOK)
	assert.Equal(t, "1000", got.Form.Get("amount"))
	assert.Len(t, got.Form, 6)
}
