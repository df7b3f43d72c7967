package khipu_test

// Every API v2 answer in testdata/realworld (see SOURCES.md there for where
// each comes from) decodes through the Client, served as Khipu served it.

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/khipu-go/khipu"
)

// realworld serves testdata/realworld/name with status 200 to any request,
// and returns a client of the collection account receiverID for it.
func realworld(t *testing.T, name, receiverID string) *khipu.Client {
	t.Helper()
	body := fixture(t, "realworld/"+name)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json;charset=utf-8")
		_, _ = w.Write(body)
	}))
	t.Cleanup(srv.Close)
	c, err := khipu.NewClient(receiverID, testSecret, khipu.WithBaseURL(srv.URL+"/api/2.0"))
	require.NoError(t, err)
	return c
}

func TestRealWorldV2BanksDecode(t *testing.T) {
	c := realworld(t, "v2-banks-khipudocs-1.json", testReceiverID)
	banks, err := c.Banks.List(context.Background())
	require.NoError(t, err)
	assert.Equal(t, []khipu.Bank{{
		BankID:    "SDdGj",
		Name:      "Banco Estado",
		Message:   "Tarifa de $300 de transferencia a otros bancos, usando CuentaRUT.",
		MinAmount: khipu.NewAmount(1000), // a number here, a string in the real answers
		Type:      "Persona",
		LogoURL:   "https://s3.amazonaws.com/static.khipu.com/logos/bancos/chile/estado-icon.png",
	}}, banks)
}

func TestRealWorldV2PaymentMethodsDecode(t *testing.T) {
	c := realworld(t, "v2-payment-methods-khiputools-1.json", testReceiverID)
	methods, err := c.PaymentMethods.List(context.Background(), testReceiverID)
	require.NoError(t, err)
	assert.Equal(t, []khipu.PaymentMethod{{
		ID:      "simplified_transfer",
		Name:    "simplified_transfer",
		LogoURL: "https://s3.amazonaws.com/static.khipu.com/buttons/2015/150x50-transparent.png",
	}}, methods, "the camelCase paymentMethods list")
}

func TestRealWorldV2PaymentCreatedWithNullsDecodes(t *testing.T) {
	c := realworld(t, "v2-payment-created-phpcomment-1.json", "336757")
	created, err := c.Payments.Create(context.Background(), &khipu.PaymentCreateParams{Subject: "Pago", Currency: "BOB", Amount: khipu.NewAmount(22)})
	require.NoError(t, err)
	assert.Contains(t, string(created.Raw), `"hites_url": null`)
	created.Raw = nil
	assert.Equal(t, &khipu.PaymentCreated{
		PaymentID:  "5vy0is3wxcg8",
		PaymentURL: "https://khipu.com/payment/info/5vy0is3wxcg8",
		AppURL:     "khipu:///pos/5vy0is3wxcg8",
		// simplified_transfer_url, transfer_url and webpay_url are null
		// for a payment in BOB.
	}, created)
}

func TestRealWorldV2PendingPaymentDecodes(t *testing.T) {
	c := realworld(t, "v2-payment-infosicoes-1.json", "148631")
	p, err := c.Payments.Get(context.Background(), "jeuspdgzmf0n")
	require.NoError(t, err)
	assert.Equal(t, "jeuspdgzmf0n", p.PaymentID)
	assert.Equal(t, "148631", p.ReceiverID, "a number in the JSON")
	assert.Equal(t, khipu.NewAmount(350), p.Amount, `"350.0000"`)
	assert.True(t, p.Discount.IsZero(), `"0.0000"`)
	assert.Equal(t, "BOB", p.Currency)
	assert.Equal(t, khipu.StatusPending, p.Status)
	assert.Equal(t, khipu.StatusDetailPending, p.StatusDetail)
	assert.True(t, p.ConciliationDate.IsZero(), "conciliation_date is absent")
	assert.Equal(t, time.Date(2017, 10, 31, 18, 37, 17, 0, time.UTC), p.ExpiresDate.UTC())
	assert.True(t, strings.HasPrefix(p.Body, "<br/><br/>Pago de <b>350 bs</b>"), "HTML kept as sent: %q", p.Body)
	assert.Empty(t, p.AttachmentURLs)
	assert.Equal(t, khipu.PaymentMethodNotAvailable, p.PaymentMethod)
	assert.Empty(t, p.TransactionID)
	assert.Empty(t, p.NotifyAPIVersion)
	assert.Equal(t, "payer@example.com", p.ResponsibleUserEmail)
	assert.Equal(t, "https://app.khipu.com/payment/simplified/jeuspdgzmf0n", p.SimplifiedTransferURL)
	assert.Error(t, p.Check("", khipu.NewAmount(350), "BOB"), "pending is not paid")
}

func TestRealWorldV2DonePaymentIsDeliveredThroughTheNotificationHandler(t *testing.T) {
	c := realworld(t, "v2-payment-noxchange-1.json", "178671")
	delivered := make(chan *khipu.Payment, 1)
	h := c.NotificationHandler(func(ctx context.Context, p *khipu.Payment) error {
		if err := p.Check("T-1000", khipu.NewAmount(200), "CLP"); err != nil {
			return err
		}
		delivered <- p
		return nil
	})
	srv := httptest.NewServer(h)
	defer srv.Close()
	resp, err := http.PostForm(srv.URL, url.Values{"api_version": {"1.3"}, "notification_token": {"e2378adb7a79f8c7bc2690981bc4e816cbef9751f10612a41bcaab1ba8912601"}})
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)

	// fn runs before the answer is written: a 200 without a delivery is a
	// failure now, never a wait.
	var p *khipu.Payment
	select {
	case p = <-delivered:
	default:
		t.Fatal("the handler answered 200 without calling fn")
	}
	assert.Equal(t, "d92mdt3vgeet", p.PaymentID)
	assert.Equal(t, "178671", p.ReceiverID)
	assert.Equal(t, khipu.NewAmount(200), p.Amount, `"200.0000"`)
	assert.True(t, p.Discount.IsZero())
	assert.Equal(t, khipu.StatusDone, p.Status)
	assert.Equal(t, khipu.StatusDetailNormal, p.StatusDetail)
	assert.Equal(t, time.Date(2018, 5, 5, 20, 13, 5, 203e6, time.UTC), p.ConciliationDate.UTC())
	assert.Equal(t, time.Date(2018, 5, 5, 20, 40, 48, 0, time.UTC), p.ExpiresDate.UTC())
	assert.Equal(t, "Banco BIC", p.Bank)
	assert.Equal(t, "Evdfk", p.BankID)
	assert.Equal(t, "https://s3.amazonaws.com/notifications.khipu.com/CPKH-0505181713-d92mdt3vgeet.pdf", p.ReceiptURL)
	assert.Empty(t, p.NotifyAPIVersion, `"" even though notify_url is set`)
	assert.Equal(t, "https://qwfm42whze.execute-api.us-east-1.amazonaws.com/dev/testnotify", p.NotifyURL)
	assert.Empty(t, p.AttachmentURLs)
	assert.Equal(t, khipu.PaymentMethodSimplifiedTransfer, p.PaymentMethod)
	assert.True(t, p.ReadyForTerminal)
	assert.Empty(t, p.PictureURL)
	assert.Equal(t, "some url", p.Custom)
}
