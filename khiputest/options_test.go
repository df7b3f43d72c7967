package khiputest_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/khipu-go/khipu"
	"github.com/khipu-go/khipu/khiputest"
)

func TestAnAccountCollectsOnlyInItsCurrencies(t *testing.T) {
	ctx := context.Background()
	create := func(c *khipu.Client, currency, amount string) error {
		_, err := c.Payments.Create(ctx, &khipu.PaymentCreateParams{Subject: "x", Currency: currency, Amount: khipu.MustParseAmount(amount)})
		return err
	}

	t.Run("by default a Chilean account collects in CLP only", func(t *testing.T) {
		srv, client := newServer(t)
		require.NoError(t, create(client, "CLP", "1000"))
		err := create(client, "USD", "10")
		var ve *khipu.ValidationError
		require.ErrorAs(t, err, &ve)
		require.Len(t, ve.Errors, 1)
		assert.Equal(t, "currency", ve.Errors[0].Field)
		assert.Equal(t, "this collection account does not collect in USD; it collects in CLP", ve.Errors[0].Message)

		ke := v3Fails(t, srv, http.StatusBadRequest, http.MethodPost, "/v3/payments", `{"amount": 10, "currency": "EUR", "subject": "x"}`)
		assert.Equal(t, []string{"currency"}, ke.fields(), "v3 too")
	})

	t.Run("WithCurrencies sets what it collects in", func(t *testing.T) {
		srv := khiputest.NewServer(receiverID, secret, khiputest.WithCurrencies("USD", "EUR"))
		defer srv.Close()
		client := newClient(t, srv, receiverID, secret)
		require.NoError(t, create(client, "USD", "19.99"))
		require.NoError(t, create(client, "EUR", "5"))
		var ve *khipu.ValidationError
		require.ErrorAs(t, create(client, "CLP", "1000"), &ve)
		assert.Equal(t, "this collection account does not collect in CLP; it collects in USD, EUR", ve.Errors[0].Message)

		created, err := client.Receivers.Create(ctx, receiverParams())
		require.NoError(t, err)
		require.NoError(t, create(newClient(t, srv, created.ReceiverID, created.Secret), "USD", "1"), "the accounts it creates collect in the same")
	})

	t.Run("an unknown currency is still a 400 of its own", func(t *testing.T) {
		srv, _ := newServer(t)
		status, ke := rawCall(t, srv, receiverID, secret, http.MethodPost, "/payments", map[string][]string{"subject": {"x"}, "currency": {"XXX"}, "amount": {"1"}})
		assert.Equal(t, http.StatusBadRequest, status)
		assert.Equal(t, []string{"currency"}, ke.fields())
		assert.Contains(t, ke.Errors[0].Message, "ISO-4217")
	})

	t.Run("WithCurrencies panics on no currency or one Khipu does not collect in", func(t *testing.T) {
		assert.PanicsWithValue(t, "khiputest: WithCurrencies with no currency", func() { khiputest.WithCurrencies() })
		assert.PanicsWithValue(t, `khiputest: WithCurrencies with "usd", not a currency Khipu collects in (CLP, CLF, ARS, PEN, MXN, USD, EUR, BOB, COP)`,
			func() { khiputest.WithCurrencies("CLP", "usd") })
	})
}

func TestWithRefundsFalseRefusesRefunds(t *testing.T) {
	ctx := context.Background()
	srv := khiputest.NewServer(receiverID, secret, khiputest.WithRefunds(false), khiputest.WithAPIKey(apiKey))
	defer srv.Close()
	client := newClient(t, srv, receiverID, secret)
	created := mustCreate(t, client)
	require.NoError(t, srv.Pay(created.PaymentID))

	_, err := client.Payments.Refund(ctx, created.PaymentID, nil)
	var ae *khipu.AuthorizationError
	require.ErrorAs(t, err, &ae, "a 403: the account may not refund")
	assert.Contains(t, ae.Message, "cannot refund")
	ke := v3Fails(t, srv, http.StatusForbidden, http.MethodPost, "/v3/payments/"+created.PaymentID+"/refunds", "")
	assert.Contains(t, ke.Message, "cannot refund")

	p, err := client.Payments.Get(ctx, created.PaymentID)
	require.NoError(t, err)
	assert.Equal(t, khipu.StatusDetailNormal, p.StatusDetail, "nothing was refunded")
	_, err = client.Payments.Confirm(ctx, created.PaymentID)
	assert.NoError(t, err, "the rest of the account works")

	t.Run("by default refunds are allowed", func(t *testing.T) {
		srv, client := newServer(t)
		created := mustCreate(t, client)
		require.NoError(t, srv.Pay(created.PaymentID))
		_, err := client.Payments.Refund(ctx, created.PaymentID, nil)
		assert.NoError(t, err)
	})
}
