package khiputest_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/khipu-go/khipu/khiputest"
)

// Khipu gives a payment created without an expires_date one, a day after it
// was created (testdata/realworld/v3-payment-derekillo-1.json), and answers
// it in v2 and v3 alike; it can be paid until then.
func TestAPaymentCreatedWithoutExpiryExpiresADayLater(t *testing.T) {
	clock := newClock()
	srv := khiputest.NewServer(receiverID, secret, khiputest.WithAPIKey(apiKey), khiputest.WithClock(clock.Now))
	t.Cleanup(srv.Close)
	client := newClient(t, srv, receiverID, secret)
	id := mustCreate(t, client).PaymentID
	want := clock.Now().Add(24 * time.Hour)

	p, err := client.Payments.Get(context.Background(), id)
	require.NoError(t, err)
	assert.True(t, want.Equal(p.ExpiresDate), "v2 expires_date %v", p.ExpiresDate)
	assert.Equal(t, want.Format("2006-01-02T15:04:05.000Z"), v3OK(t, srv, http.MethodGet, "/v3/payments/"+id, "")["expires_date"])

	clock.Add(24*time.Hour - time.Second)
	id2 := mustCreate(t, client).PaymentID
	require.NoError(t, srv.Pay(id2), "a second before it expires, a payment can be paid")
	clock.Add(time.Second)
	err = srv.Pay(id)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "expired")
}

// Khipu's v3 description writes POST /v3/receivers' receiver_id as a string
// and lists bank_account_type; v2's answer keeps the number.
func TestV3ReceiverCreatedAsKhipusDescriptionHasIt(t *testing.T) {
	srv := newV3Server(t)
	answer := v3Call(t, srv, http.MethodPost, "/v3/receivers", receiverJSON(map[string]any{"bank_account_type": "Cuenta Corriente"}))
	require.Equal(t, http.StatusOK, answer.status, "%s", answer.raw)
	id, isString := answer.object(t)["receiver_id"].(string)
	assert.True(t, isString, "receiver_id is a JSON string: %s", answer.raw)
	assert.NotEmpty(t, id)
}

// A paid payment has its payer's e-mail, as every paid payment Khipu
// answered has (testdata/realworld); an unpaid one created without one has
// "", as Khipu's pending answer (v2-payment-infosicoes-1.json) has.
func TestAPaidPaymentHasAPayerEmail(t *testing.T) {
	srv := newV3Server(t)
	id := v3Create(t, srv, v3Order)
	assert.Equal(t, "", v3OK(t, srv, http.MethodGet, "/v3/payments/"+id, "")["payer_email"])
	require.NoError(t, srv.Pay(id))
	assert.Equal(t, "payer@example.com", v3OK(t, srv, http.MethodGet, "/v3/payments/"+id, "")["payer_email"])
}
