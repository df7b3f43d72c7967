package khipuv3_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/khipu-go/khipu"
	"github.com/khipu-go/khipu/khiputest"
	"github.com/khipu-go/khipu/khipuv3"
)

// These tests run the automatic payments of this package against
// khiputest: the client's requests, the shop's handlers and khiputest's
// callbacks and notifications, all over loopback.

const autopaySecret = "autopay-test-secret" // khiputest signs notifications 3.0 with it

// autopayShop is a shop that bills with automatic payments: its three
// endpoints are the client's handlers, and each records what its function
// was given.
type autopayShop struct {
	khipu  *khiputest.Server
	client *khipuv3.Client
	log    *syncBuffer

	url                                     string // the shop's address
	subscriptionURL, notifyURL, chargeError string

	subscriptions chan *khipuv3.Subscription      // confirmed by CallbackHandler
	notifications chan *khipuv3.Notification      // verified by NotificationHandler
	errorReports  chan *khipuv3.ChargeErrorReport // passed on by ErrorHandler
}

func newAutopayShop(t *testing.T) *autopayShop {
	t.Helper()
	srv := khiputest.NewServer("12345", autopaySecret)
	t.Cleanup(srv.Close)
	s := &autopayShop{
		khipu:         srv,
		log:           &syncBuffer{},
		subscriptions: make(chan *khipuv3.Subscription, 8),
		notifications: make(chan *khipuv3.Notification, 8),
		errorReports:  make(chan *khipuv3.ChargeErrorReport, 8),
	}
	logger := slog.New(slog.NewTextHandler(s.log, nil))
	client, err := khipuv3.NewClient(srv.APIKey(), khipuv3.WithBaseURL(srv.V3URL()),
		khipuv3.WithRetry(khipu.RetryPolicy{}), khipuv3.WithLogger(logger))
	require.NoError(t, err)
	s.client = client

	mux := http.NewServeMux()
	mux.Handle("/khipu/subscription", client.Subscriptions.CallbackHandler(func(ctx context.Context, sub *khipuv3.Subscription) error {
		s.subscriptions <- sub
		return nil
	}, khipuv3.WithHandlerLogger(logger)))
	mux.Handle("/khipu/notify", khipuv3.NotificationHandler(autopaySecret, func(ctx context.Context, n *khipuv3.Notification) error {
		s.notifications <- n
		return nil
	}, khipuv3.WithHandlerLogger(logger)))
	mux.Handle("/khipu/charge-error", client.Charges.ErrorHandler(func(ctx context.Context, rep *khipuv3.ChargeErrorReport) error {
		s.errorReports <- rep
		return nil
	}, khipuv3.WithHandlerLogger(logger)))
	shop := httptest.NewServer(mux)
	t.Cleanup(shop.Close)
	s.url = shop.URL
	s.subscriptionURL, s.notifyURL, s.chargeError = shop.URL+"/khipu/subscription", shop.URL+"/khipu/notify", shop.URL+"/khipu/charge-error"
	return s
}

// subscribe creates a subscription of up to 10000 CLP a charge.
func (s *autopayShop) subscribe(t *testing.T) *khipuv3.SubscriptionCreated {
	t.Helper()
	created, err := s.client.Subscriptions.Create(context.Background(), &khipuv3.SubscriptionCreateParams{
		Name: "Plan Hogar, Ana", Email: "ana@example.com", MaxAmount: khipu.NewAmount(10000), Currency: "CLP",
		NotifyURL: s.subscriptionURL, ReturnURL: s.url + "/subscribed", CancelURL: s.url + "/plans",
		ServiceReference: "Casa 12",
	})
	require.NoError(t, err)
	return created
}

// enabled creates a subscription and authorizes it, taking the callback the
// shop confirmed.
func (s *autopayShop) enabled(t *testing.T) string {
	t.Helper()
	id := s.subscribe(t).SubscriptionID
	require.NoError(t, s.khipu.AuthorizeSubscription(id))
	require.Equal(t, khipuv3.SubscriptionEnabled, within(t, s.subscriptions).Status)
	return id
}

// charge bills subscription id for amount, as invoice transactionID.
func (s *autopayShop) charge(subscriptionID, transactionID string, amount khipu.Amount) (*khipuv3.ChargeCreated, error) {
	return s.client.Charges.Create(context.Background(), &khipuv3.ChargeCreateParams{
		SubscriptionID: subscriptionID, Amount: amount, Subject: "Plan Hogar " + transactionID,
		Body: "Monthly fee", ErrorResponseURL: s.chargeError, Custom: "customer 12",
		TransactionID: transactionID, NotifyURL: s.notifyURL,
	})
}

func TestAutopaySubscribeAuthorizeChargeAndGetNotified(t *testing.T) {
	shop := newAutopayShop(t)
	ctx := context.Background()
	created := shop.subscribe(t)

	resp, err := http.Get(created.RedirectURL)
	require.NoError(t, err)
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, string(page), "Authorize", "the customer is sent to a mandate page")
	assert.Contains(t, string(page), "up to 10000 CLP")

	sub, err := shop.client.Subscriptions.Get(ctx, created.SubscriptionID)
	require.NoError(t, err)
	assert.Equal(t, &khipuv3.Subscription{
		SubscriptionID: created.SubscriptionID, Status: khipuv3.SubscriptionDisabled, Developer: true,
		CustomerBankCode: "no-bank", ServiceReference: "Casa 12",
	}, sub, "not signed yet")

	require.NoError(t, shop.khipu.AuthorizeSubscription(created.SubscriptionID))
	confirmed := within(t, shop.subscriptions)
	assert.Equal(t, khipuv3.SubscriptionEnabled, confirmed.Status, "the lower-case callback, confirmed by Get")
	assert.Equal(t, "8", confirmed.CustomerBankCode)

	charged, err := shop.charge(created.SubscriptionID, "inv-2025-03", khipu.NewAmount(9990))
	require.NoError(t, err)
	p, err := shop.client.Payments.Get(ctx, charged.PaymentID)
	require.NoError(t, err)
	assert.Equal(t, khipu.StatusPending, p.Status)
	assert.Equal(t, "3.0", p.NotifyAPIVersion, "the client asks for notifications 3.0")

	require.NoError(t, shop.khipu.Pay(charged.PaymentID))
	n := within(t, shop.notifications)
	assert.Equal(t, charged.PaymentID, n.PaymentID)
	assert.NoError(t, n.Check("inv-2025-03", khipu.NewAmount(9990), "CLP"))
	p, err = shop.client.Payments.Get(ctx, charged.PaymentID)
	require.NoError(t, err)
	assert.NoError(t, p.Check("inv-2025-03", khipu.NewAmount(9990), "CLP"), "done")

	assert.Empty(t, shop.errorReports)
	assert.NotContains(t, shop.log.String(), "level=WARN", "nothing was refused")
	assert.NotContains(t, shop.log.String(), shop.khipu.APIKey())
}

func TestAutopayTheMandatePagesButtonAuthorizes(t *testing.T) {
	shop := newAutopayShop(t)
	created := shop.subscribe(t)
	browser := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := browser.PostForm(created.RedirectURL, nil)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusSeeOther, resp.StatusCode)
	assert.Equal(t, shop.url+"/subscribed", resp.Header.Get("Location"))
	assert.Equal(t, khipuv3.SubscriptionEnabled, within(t, shop.subscriptions).Status)
}

func TestAutopayAForgedCallbackIsRefused(t *testing.T) {
	shop := newAutopayShop(t)
	id := shop.enabled(t)
	require.NoError(t, shop.khipu.DisableSubscription(id))
	assert.Equal(t, khipuv3.SubscriptionDisabled, within(t, shop.subscriptions).Status, "the genuine callback")

	forge := func(t *testing.T, body string) int {
		t.Helper()
		resp, err := http.Post(shop.subscriptionURL, "application/json", strings.NewReader(body))
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	t.Run("enabled, for a subscription Khipu says is DISABLED: 409", func(t *testing.T) {
		assert.Equal(t, http.StatusConflict, forge(t, `{"subscription_id":"`+id+`","status":"enabled"}`))
		assert.Contains(t, shop.log.String(), "DISABLED at Khipu")
	})
	t.Run("for a subscription Khipu does not know: 400", func(t *testing.T) {
		assert.Equal(t, http.StatusBadRequest, forge(t, `{"subscription_id":"13a0f1aa-5e47-4894-aa8b-282dd19593ec","status":"enabled"}`))
	})
	assert.Empty(t, shop.subscriptions, "the shop's function never saw a forged callback")
	_, err := shop.charge(id, "inv-forged", khipu.NewAmount(1000))
	var ve *khipu.ValidationError
	assert.ErrorAs(t, err, &ve, "and Khipu would not charge it anyway")
}

func TestAutopayAFailedChargeReachesTheErrorHandler(t *testing.T) {
	shop := newAutopayShop(t)
	id := shop.enabled(t)
	charged, err := shop.charge(id, "inv-2025-04", khipu.NewAmount(9990))
	require.NoError(t, err)

	require.NoError(t, shop.khipu.FailCharge(charged.PaymentID, "Fondos insuficientes"))
	assert.Equal(t, &khipuv3.ChargeErrorReport{
		SubscriptionID: id, TransactionID: "inv-2025-04", ErrorMessage: "Fondos insuficientes",
	}, within(t, shop.errorReports))
	assert.Contains(t, shop.log.String(), "khipu reported a failed charge", "logged, as an unauthenticated report")

	p, err := shop.client.Payments.Get(context.Background(), charged.PaymentID)
	require.NoError(t, err, "the report is checked against the charge's payment")
	assert.Equal(t, khipu.StatusPending, p.Status)
	assert.Equal(t, khipu.StatusDetail("rejected-by-payer"), p.StatusDetail)
	assert.Error(t, p.Check("inv-2025-04", khipu.NewAmount(9990), "CLP"), "not paid")
	assert.Empty(t, shop.notifications)
}

func TestAutopayChargesKhipuRefuses(t *testing.T) {
	shop := newAutopayShop(t)
	ctx := context.Background()

	t.Run("a subscription that is not ENABLED: a ValidationError naming subscription_id", func(t *testing.T) {
		id := shop.subscribe(t).SubscriptionID
		for _, step := range []func(string) error{func(string) error { return nil }, shop.khipu.SignSubscription} {
			require.NoError(t, step(id))
			_, err := shop.charge(id, "inv-early", khipu.NewAmount(9990))
			var ve *khipu.ValidationError
			require.ErrorAs(t, err, &ve)
			assert.Equal(t, http.StatusBadRequest, ve.StatusCode)
			require.Len(t, ve.Errors, 1)
			assert.Equal(t, "subscription_id", ve.Errors[0].Field)
			assert.Contains(t, ve.Message, "only an ENABLED subscription can be")
			var ae *khipu.APIError
			assert.True(t, errors.As(err, &ae), "it opens as an APIError too")
		}
	})

	id := shop.enabled(t)
	t.Run("more than the subscription's max_amount", func(t *testing.T) {
		_, err := shop.charge(id, "inv-big", khipu.NewAmount(10001))
		var ve *khipu.ValidationError
		require.ErrorAs(t, err, &ve)
		assert.Equal(t, "amount", ve.Errors[0].Field)
		assert.Contains(t, ve.Errors[0].Message, "max_amount (10000 CLP)")
	})
	t.Run("cents in CLP", func(t *testing.T) {
		_, err := shop.charge(id, "inv-cents", khipu.MustParseAmount("9990.5"))
		var ve *khipu.ValidationError
		require.ErrorAs(t, err, &ve)
		assert.Equal(t, "amount", ve.Errors[0].Field)
	})
	t.Run("an unknown subscription is a NotFoundError on Get", func(t *testing.T) {
		_, err := shop.client.Subscriptions.Get(ctx, "13a0f1aa-5e47-4894-aa8b-282dd19593ec")
		var nf *khipu.NotFoundError
		assert.ErrorAs(t, err, &nf)
	})
	t.Run("a currency the account does not collect", func(t *testing.T) {
		_, err := shop.client.Subscriptions.Create(ctx, &khipuv3.SubscriptionCreateParams{
			Name: "x", Email: "ana@example.com", MaxAmount: khipu.NewAmount(1), Currency: "XAU",
			NotifyURL: shop.subscriptionURL, ReturnURL: shop.url, CancelURL: shop.url,
		})
		var ve *khipu.ValidationError
		require.ErrorAs(t, err, &ve)
		assert.Equal(t, "currency", ve.Errors[0].Field)
	})
	t.Run("FailNext's 503 on a charge is a ServiceError, and nothing is charged twice", func(t *testing.T) {
		shop.khipu.FailNext(khiputest.EndpointChargesCreate, http.StatusServiceUnavailable, 1)
		_, err := shop.charge(id, "inv-503", khipu.NewAmount(9990))
		var se *khipu.ServiceError
		require.ErrorAs(t, err, &se)
		attempts := 0
		for _, r := range shop.khipu.Requests() {
			if r.Endpoint == khiputest.EndpointChargesCreate && bytes.Contains(r.Body, []byte("inv-503")) {
				attempts++
			}
		}
		assert.Equal(t, 1, attempts, "a charge is never retried")
	})
}

func TestAutopayAChargeWithNotifications13ReachesTheV2Handler(t *testing.T) {
	shop := newAutopayShop(t)
	id := shop.enabled(t)
	v2, err := khipu.NewClient("12345", autopaySecret, khipu.WithBaseURL(shop.khipu.URL()))
	require.NoError(t, err)
	notified := make(chan *khipu.Payment, 1)
	v2Shop := httptest.NewServer(v2.NotificationHandler(func(ctx context.Context, p *khipu.Payment) error {
		notified <- p
		return nil
	}))
	defer v2Shop.Close()

	charged, err := shop.client.Charges.Create(context.Background(), &khipuv3.ChargeCreateParams{
		SubscriptionID: id, Amount: khipu.NewAmount(9990), Subject: "Plan Hogar", Body: "Monthly fee",
		ErrorResponseURL: shop.chargeError, Custom: "customer 12", TransactionID: "inv-13",
		NotifyURL: v2Shop.URL, NotifyAPIVersion: "1.3",
	})
	require.NoError(t, err)
	require.NoError(t, shop.khipu.Pay(charged.PaymentID))
	p := within(t, notified)
	assert.Equal(t, charged.PaymentID, p.PaymentID)
	assert.NoError(t, p.Check("inv-13", khipu.NewAmount(9990), "CLP"))
}
