package khiputest_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
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
		assert.PanicsWithValue(t, "khiputest: WithCurrencies: no currency", func() { khiputest.WithCurrencies() })
		assert.PanicsWithValue(t, `khiputest: WithCurrencies: "usd" is not a currency code Khipu collects in (CLP, CLF, ARS, PEN, MXN, USD, EUR, BOB, COP)`,
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

// tunnel is an HTTP client that reaches srv whatever address a URL names,
// as a shop reaches a server through a tunnel or another container's name.
func tunnel(srv *httptest.Server) *http.Client {
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, srv.Listener.Addr().String())
	}
	return &http.Client{Transport: transport, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func TestWithPublicURLIsServedByTheCaller(t *testing.T) {
	ctx := context.Background()
	const public = "http://khipu.test:8090" // e.g. the name of its container
	srv := khiputest.NewServer(receiverID, secret, khiputest.WithPublicURL(public+"/"), khiputest.WithAPIKey(apiKey))
	defer srv.Close()
	listener := httptest.NewServer(srv) // the caller serves it
	defer listener.Close()
	viaTunnel := tunnel(listener)

	assert.Equal(t, public+khiputest.APIPath, srv.URL())
	assert.Equal(t, public, srv.V3URL())

	client, err := khipu.NewClient(receiverID, secret, khipu.WithBaseURL(srv.URL()), khipu.WithHTTPClient(viaTunnel))
	require.NoError(t, err)
	created, err := client.Payments.Create(ctx, &khipu.PaymentCreateParams{
		Subject: "x", Currency: "CLP", Amount: khipu.NewAmount(1000), ReturnURL: "https://shop.example/back",
	})
	require.NoError(t, err, "signed for the public URL: accepted")
	assert.Equal(t, public+"/payment/info/"+created.PaymentID, created.PaymentURL, "payment URLs point at the public URL")

	t.Run("a request signed for the listener's own address is refused, as at Khipu", func(t *testing.T) {
		direct, err := khipu.NewClient(receiverID, secret, khipu.WithBaseURL(listener.URL+khiputest.APIPath))
		require.NoError(t, err)
		_, err = direct.Banks.List(ctx)
		var ae *khipu.AuthorizationError
		assert.ErrorAs(t, err, &ae)
	})

	t.Run("the payment page is served there and pays", func(t *testing.T) {
		resp, err := viaTunnel.PostForm(created.PaymentURL, nil)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusSeeOther, resp.StatusCode)
		assert.Equal(t, "https://shop.example/back", resp.Header.Get("Location"))
		p, err := client.Payments.Get(ctx, created.PaymentID)
		require.NoError(t, err)
		assert.Equal(t, khipu.StatusDone, p.Status)
		assert.Equal(t, public+"/receipts/"+created.PaymentID, p.ReceiptURL)
	})

	t.Run("v3 is served there too", func(t *testing.T) {
		req, err := http.NewRequest(http.MethodGet, srv.V3URL()+"/v3/payments/"+created.PaymentID, nil)
		require.NoError(t, err)
		req.Header.Set("x-api-key", apiKey)
		resp, err := viaTunnel.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusOK, resp.StatusCode)
	})
}

func TestWithPublicURLPanicsOnWhatIsNotABaseURL(t *testing.T) {
	for _, bad := range []string{
		"", "khipu.test:8090", "/khipu", "ftp://khipu.test", "http://", "http://khipu.test/khipu",
		"http://khipu.test?x=1", "http://khipu.test#top", "http://user:pw@khipu.test", "http://khipu test",
	} {
		assert.Panics(t, func() { khiputest.WithPublicURL(bad) }, "%q", bad)
	}
	assert.NotPanics(t, func() { khiputest.WithPublicURL("http://127.0.0.1:8090") })
}
