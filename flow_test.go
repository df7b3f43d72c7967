package khipu_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/khipu-go/khipu"
	"github.com/khipu-go/khipu/khiputest"
)

// flowOrder is what a shop sold.
type flowOrder struct {
	amount   khipu.Amount
	currency string
}

// flowShop is a shop's notification endpoint in front of an in-memory
// Khipu: it finds the order a verified payment was created for, checks the
// payment against that order, and delivers it once.
type flowShop struct {
	khipu  *khiputest.Server
	client *khipu.Client
	url    string // the notification endpoint

	failing atomic.Bool // the shop's database is down

	mu        sync.Mutex
	orders    map[string]flowOrder
	byPayment map[string]string // order id by the id of the payment created for it
	verified  map[string]int    // verified notifications by order id
	delivered map[string]int    // deliveries by order id
	rejected  []error           // payments that did not match their order
}

func newFlowShop(t *testing.T, opts ...khiputest.ServerOption) *flowShop {
	t.Helper()
	srv := khiputest.NewServer(testReceiverID, testSecret, opts...)
	t.Cleanup(srv.Close)
	client, err := khipu.NewClient(testReceiverID, testSecret, khipu.WithBaseURL(srv.URL()))
	require.NoError(t, err)
	s := &flowShop{
		khipu: srv, client: client, orders: map[string]flowOrder{}, byPayment: map[string]string{},
		verified: map[string]int{}, delivered: map[string]int{},
	}
	web := httptest.NewServer(client.NotificationHandler(s.paid))
	t.Cleanup(web.Close)
	s.url = web.URL + "/khipu/notify"
	return s
}

func (s *flowShop) paid(ctx context.Context, p *khipu.Payment) error {
	if s.failing.Load() {
		return errors.New("database down")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	orderID, ok := s.byPayment[p.PaymentID]
	if !ok {
		s.rejected = append(s.rejected, errors.New("no order for payment "+p.PaymentID))
		return nil
	}
	s.verified[orderID]++
	order := s.orders[orderID]
	if err := p.Check(orderID, order.amount, order.currency); err != nil {
		s.rejected = append(s.rejected, err)
		return nil
	}
	if s.delivered[orderID] == 0 { // idempotent: Khipu may notify again
		s.delivered[orderID]++
	}
	return nil
}

func (s *flowShop) verifications(orderID string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.verified[orderID]
}

func (s *flowShop) rejections() []error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]error(nil), s.rejected...)
}

func (s *flowShop) deliveries(orderID string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.delivered[orderID]
}

// order records an order and creates its payment, as the shop's checkout
// does; pay is what the payment asks for, normally the order itself.
func (s *flowShop) order(t *testing.T, id string, order flowOrder, pay *khipu.PaymentCreateParams) *khipu.PaymentCreated {
	t.Helper()
	s.mu.Lock()
	s.orders[id] = order
	s.mu.Unlock()
	if pay == nil {
		pay = &khipu.PaymentCreateParams{Currency: order.currency, Amount: order.amount}
	}
	params := *pay
	params.Subject, params.NotifyURL = "Order "+id, s.url
	if params.TransactionID == "" {
		params.TransactionID = id
	}
	created, err := s.client.Payments.Create(context.Background(), &params)
	require.NoError(t, err)
	s.mu.Lock()
	s.byPayment[created.PaymentID] = id
	s.mu.Unlock()
	return created
}

func (s *flowShop) notify(t *testing.T, form url.Values) int {
	t.Helper()
	resp, err := http.PostForm(s.url, form)
	require.NoError(t, err)
	resp.Body.Close()
	return resp.StatusCode
}

func TestFlowAPaidOrderIsDeliveredOnce(t *testing.T) {
	shop := newFlowShop(t)
	created := shop.order(t, "o-1", flowOrder{khipu.NewAmount(5000), "CLP"}, nil)
	assert.Zero(t, shop.deliveries("o-1"), "nothing is delivered before Khipu notifies")

	require.NoError(t, shop.khipu.Pay(created.PaymentID))
	assert.Equal(t, 1, shop.deliveries("o-1"))

	require.NoError(t, shop.khipu.Notify(created.PaymentID), "Khipu sends the same token again")
	assert.Equal(t, 2, shop.verifications("o-1"), "the handler verifies a replay again and leaves idempotency to the shop")
	assert.Equal(t, 1, shop.deliveries("o-1"))
	assert.Empty(t, shop.rejections())
}

func TestFlowAPaymentThatDoesNotMatchItsOrderIsNotDelivered(t *testing.T) {
	order := flowOrder{khipu.MustParseAmount("19.99"), "USD"}
	currencies := khiputest.WithCurrencies("USD", "EUR")
	tests := []struct {
		name      string
		pay       khipu.PaymentCreateParams
		wantField string
	}{
		{"a smaller amount", khipu.PaymentCreateParams{Currency: "USD", Amount: khipu.MustParseAmount("19.98")}, "amount"},
		{"another currency", khipu.PaymentCreateParams{Currency: "EUR", Amount: khipu.MustParseAmount("19.99")}, "currency"},
		{"another transaction id", khipu.PaymentCreateParams{Currency: "USD", Amount: khipu.MustParseAmount("19.99"), TransactionID: "o-2"}, "transaction_id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			shop := newFlowShop(t, currencies)
			created := shop.order(t, "o-1", order, &tt.pay)
			require.NoError(t, shop.khipu.Pay(created.PaymentID), "the shop answers 200: Khipu retrying would not change the payment")
			assert.Zero(t, shop.deliveries("o-1"))
			rejected := shop.rejections()
			require.Len(t, rejected, 1)
			var me *khipu.MismatchError
			require.ErrorAs(t, rejected[0], &me)
			assert.Equal(t, tt.wantField, me.Field)
		})
	}

	t.Run("another order's payment", func(t *testing.T) {
		shop := newFlowShop(t, currencies)
		shop.order(t, "o-1", order, nil)
		other := shop.order(t, "o-2", flowOrder{khipu.NewAmount(1), "USD"}, nil)
		require.NoError(t, shop.khipu.Pay(other.PaymentID))
		assert.Zero(t, shop.deliveries("o-1"), "paying o-2 delivers nothing of o-1")
		assert.Equal(t, 1, shop.deliveries("o-2"))
	})
}

func TestFlowAForgedNotificationIsRejected(t *testing.T) {
	shop := newFlowShop(t)
	created := shop.order(t, "o-1", flowOrder{khipu.NewAmount(5000), "CLP"}, nil)

	assert.Equal(t, http.StatusBadRequest, shop.notify(t, url.Values{"api_version": {"1.3"}, "notification_token": {"forged-token"}}))
	assert.Equal(t, http.StatusBadRequest, shop.notify(t, url.Values{"api_version": {"1.2"}, "notification_token": {"forged-token"}}))

	p, err := shop.client.Payments.Get(context.Background(), created.PaymentID)
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, shop.notify(t, url.Values{"api_version": {"1.3"}, "notification_token": {p.NotificationToken}}),
		"a real token of an unpaid payment is verified")
	assert.Zero(t, shop.deliveries("o-1"), "and not delivered: Check refuses a pending payment")
	rejected := shop.rejections()
	require.Len(t, rejected, 1)
	assert.Contains(t, rejected[0].Error(), "status")

	lookups := 0
	for _, r := range shop.khipu.Requests() {
		if r.Endpoint == khiputest.EndpointPaymentByToken {
			lookups++
		}
	}
	assert.Equal(t, 2, lookups, "the forged token was looked up, the malformed notification was not")
}

func TestFlowAPaymentOfAnotherReceiverIsRejected(t *testing.T) {
	shop := newFlowShop(t)
	ctx := context.Background()
	// The shop's account is an integrator; an account it created takes a
	// payment with the same order id. The integrator's credentials can read
	// that payment, but it is not the shop's money.
	child, err := shop.client.Receivers.Create(ctx, &khipu.ReceiverCreateParams{
		AdminFirstName: "Ana", AdminLastName: "Pérez", AdminEmail: "ana@shop.example", CountryCode: "CL",
		BusinessIdentifier: "76.123.456-7", BusinessCategory: "ecommerce", BusinessName: "Tienda Ana",
		BusinessPhone: "+56 2 2345 6789", BusinessAddressLine1: "Av. Providencia 123", BusinessAddressLine2: "Providencia",
		BusinessAddressLine3: "Santiago", ContactFullName: "Ana Pérez", ContactJobTitle: "Gerente",
		ContactEmail: "ana@shop.example", ContactPhone: "+56 9 8765 4321",
	})
	require.NoError(t, err)
	childClient, err := khipu.NewClient(child.ReceiverID, child.Secret, khipu.WithBaseURL(shop.khipu.URL()))
	require.NoError(t, err)
	shop.mu.Lock()
	shop.orders["o-1"] = flowOrder{khipu.NewAmount(5000), "CLP"}
	shop.mu.Unlock()
	created, err := childClient.Payments.Create(ctx, &khipu.PaymentCreateParams{
		Subject: "Order o-1", Currency: "CLP", Amount: khipu.NewAmount(5000), TransactionID: "o-1", NotifyURL: shop.url,
	})
	require.NoError(t, err)

	err = shop.khipu.Pay(created.PaymentID)
	var ne *khiputest.NotificationError
	require.ErrorAs(t, err, &ne)
	assert.Equal(t, http.StatusBadRequest, ne.StatusCode)
	assert.Zero(t, shop.deliveries("o-1"))

	p, err := childClient.Payments.Get(ctx, created.PaymentID)
	require.NoError(t, err)
	r := httptest.NewRequest(http.MethodPost, "/khipu/notify", strings.NewReader("api_version=1.3&notification_token="+p.NotificationToken))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	_, err = shop.client.VerifyNotification(ctx, r)
	assert.ErrorIs(t, err, khipu.ErrReceiverMismatch)
	assert.Contains(t, err.Error(), child.ReceiverID)
}

func TestFlowAFailingShopIsNotifiedAgain(t *testing.T) {
	shop := newFlowShop(t)
	created := shop.order(t, "o-1", flowOrder{khipu.NewAmount(5000), "CLP"}, nil)

	shop.failing.Store(true)
	err := shop.khipu.Pay(created.PaymentID)
	var ne *khiputest.NotificationError
	require.ErrorAs(t, err, &ne)
	assert.Equal(t, http.StatusInternalServerError, ne.StatusCode, "a 5xx tells Khipu to retry")
	assert.NotContains(t, ne.Body, "database down", "the shop's error stays inside the shop")
	assert.Zero(t, shop.deliveries("o-1"))

	shop.failing.Store(false)
	require.NoError(t, shop.khipu.Notify(created.PaymentID))
	assert.Equal(t, 1, shop.deliveries("o-1"))
}

func TestFlowTheHandlerTakesOnlyPOST(t *testing.T) {
	shop := newFlowShop(t)
	for _, method := range []string{http.MethodGet, http.MethodPut, http.MethodDelete} {
		req, err := http.NewRequest(method, shop.url+"?api_version=1.3&notification_token=x", nil)
		require.NoError(t, err)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode, method)
	}
	assert.Empty(t, shop.khipu.Requests(), "nothing was looked up")
}
