package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/khipu-go/khipu"
	"github.com/khipu-go/khipu/khiputest"
)

// shopFixture is a shop on loopback, with its orders in a new SQLite file,
// in front of an in-memory Khipu, and a browser-like HTTP client that does
// not follow redirects. The tests that run the shop as a process, and on
// PostgreSQL, are in replicas_test.go and browser_test.go.
type shopFixture struct {
	khipu   *khiputest.Server
	client  *khipu.Client
	shop    *Shop
	url     string
	browser *http.Client
}

func newShopFixture(t *testing.T) *shopFixture {
	t.Helper()
	fake := khiputest.NewServer("12345", "shop-secret")
	t.Cleanup(fake.Close)
	client, err := khipu.NewClient("12345", "shop-secret", khipu.WithBaseURL(fake.URL()))
	require.NoError(t, err)
	shop := &Shop{
		Khipu: v2Gateway{client}, Orders: openStore(t, sqliteTestDSN(t)), Products: products,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	srv := httptest.NewServer(shop.Handler())
	t.Cleanup(srv.Close)
	shop.BaseURL = srv.URL
	browser := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return &shopFixture{khipu: fake, client: client, shop: shop, url: srv.URL, browser: browser}
}

// buy posts the product form and returns the order Khipu's payment page
// is for, and that page's URL, where the shop redirected.
func (f *shopFixture) buy(t *testing.T, product string) (Order, string) {
	t.Helper()
	resp, err := f.browser.PostForm(f.url+"/orders", url.Values{"product": {product}})
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	paymentURL := resp.Header.Get("Location")
	require.NotEmpty(t, paymentURL)
	p, err := f.client.Payments.Get(context.Background(), path.Base(paymentURL))
	require.NoError(t, err)
	order, err := f.shop.Orders.Get(context.Background(), p.TransactionID)
	require.NoError(t, err)
	require.Equal(t, p.PaymentID, order.PaymentID, "the order records its payment")
	return order, paymentURL
}

// get returns the status and body of a GET.
func (f *shopFixture) get(t *testing.T, path string) (int, string) {
	t.Helper()
	resp, err := f.browser.Get(f.url + path)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(body)
}

// state is what the order page's poll says.
func (f *shopFixture) state(t *testing.T, orderID string) string {
	t.Helper()
	status, body := f.get(t, "/orders/"+orderID+"/status")
	require.Equal(t, http.StatusOK, status, body)
	var st struct{ ID, State, Text string }
	require.NoError(t, json.Unmarshal([]byte(body), &st))
	assert.Equal(t, orderID, st.ID)
	return st.State
}

func TestShopSellsAProductThroughKhipu(t *testing.T) {
	f := newShopFixture(t)

	status, page := f.get(t, "/")
	assert.Equal(t, http.StatusOK, status)
	assert.Contains(t, page, "Mate de calabaza")
	assert.Contains(t, page, "$12.990", "prices as a Chilean payer reads them")

	order, paymentURL := f.buy(t, "mate")
	assert.Equal(t, "12990", order.Amount.String())
	p, err := f.client.Payments.Get(context.Background(), order.PaymentID)
	require.NoError(t, err)
	assert.Equal(t, "12990", p.Amount.String(), "the payment carries the order's amount")
	assert.Equal(t, f.url+"/orders/"+order.ID, p.ReturnURL)
	assert.Equal(t, f.url+"/orders/"+order.ID+"/cancel", p.CancelURL)

	_, page = f.get(t, "/orders/"+order.ID)
	assert.Contains(t, page, "Pendiente", "coming back from Khipu is not proof of payment")
	assert.Equal(t, "pending", f.state(t, order.ID))

	// The payer presses Pay on Khipu's page; Khipu notifies the shop.
	resp, err := f.browser.PostForm(paymentURL, nil)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, f.url+"/orders/"+order.ID, resp.Header.Get("Location"), "Khipu sends the payer back to the return page")
	assert.Equal(t, "paid", f.state(t, order.ID), "the verified notification marked the order paid")
	_, page = f.get(t, "/orders/"+order.ID)
	assert.Contains(t, page, "Pagado")
	n, err := f.shop.Orders.Shipments(context.Background(), order.ID)
	require.NoError(t, err)
	assert.Equal(t, 1, n, "one shipment is queued")
}

func TestShopSaysVerifyingWhileKhipuHasThePaymentButTheNotificationHasNotArrived(t *testing.T) {
	f := newShopFixture(t)
	order, _ := f.buy(t, "mate")
	// The shop is not answering notifications: Khipu has the money, the
	// shop does not know yet.
	require.NoError(t, f.khipu.FailNext(khiputest.EndpointPaymentByToken, http.StatusForbidden, 1))
	assert.Error(t, f.khipu.Pay(order.PaymentID))
	assert.Equal(t, "verifying", f.state(t, order.ID))

	require.NoError(t, f.khipu.Notify(order.PaymentID), "Khipu's next attempt")
	assert.Equal(t, "paid", f.state(t, order.ID))
}

func TestShopCancelsAnOrderWhenThePayerGivesUpAtKhipu(t *testing.T) {
	f := newShopFixture(t)
	order, _ := f.buy(t, "poncho")
	status, page := f.get(t, "/orders/"+order.ID+"/cancel")
	assert.Equal(t, http.StatusOK, status)
	assert.Contains(t, page, "Cancelado")
	assert.Equal(t, "cancelled", f.state(t, order.ID))
}

func TestShopDoesNotCancelAPaidOrder(t *testing.T) {
	f := newShopFixture(t)
	order, _ := f.buy(t, "poncho")
	require.NoError(t, f.khipu.Pay(order.PaymentID))
	_, page := f.get(t, "/orders/"+order.ID+"/cancel")
	assert.Contains(t, page, "Pagado")
	assert.Equal(t, "paid", f.state(t, order.ID))
}

func TestShopIgnoresAReplayedNotification(t *testing.T) {
	f := newShopFixture(t)
	order, _ := f.buy(t, "poncho")
	require.NoError(t, f.khipu.Pay(order.PaymentID))
	first, err := f.shop.Orders.Get(context.Background(), order.ID)
	require.NoError(t, err)
	require.Equal(t, OrderPaid, first.State())

	require.NoError(t, f.khipu.Notify(order.PaymentID), "Khipu sends it again")
	again, err := f.shop.Orders.Get(context.Background(), order.ID)
	require.NoError(t, err)
	assert.Equal(t, first, again, "a replay changes nothing")
	n, err := f.shop.Orders.Shipments(context.Background(), order.ID)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
}

func TestShopDoesNotDeliverAPaymentOfTheWrongAmount(t *testing.T) {
	f := newShopFixture(t)
	order, _ := f.buy(t, "poncho")

	// A payment for the same order id but a smaller amount, notified to the
	// shop: it is verified with Khipu but does not match the order.
	cheap, err := f.client.Payments.Create(context.Background(), &khipu.PaymentCreateParams{
		Subject: "Poncho", Currency: "CLP", Amount: khipu.NewAmount(1), TransactionID: order.ID,
		NotifyURL: f.url + "/khipu/notify",
	})
	require.NoError(t, err)
	require.NoError(t, f.khipu.Pay(cheap.PaymentID))
	assert.Equal(t, "pending", f.state(t, order.ID))
}

func TestShopRejectsForgedNotifications(t *testing.T) {
	f := newShopFixture(t)
	order, _ := f.buy(t, "mate")
	resp, err := f.browser.PostForm(f.url+"/khipu/notify", url.Values{"api_version": {"1.3"}, "notification_token": {"forged-token"}})
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	assert.Equal(t, "pending", f.state(t, order.ID))
}

func TestShopRefusesAnUnknownProduct(t *testing.T) {
	f := newShopFixture(t)
	resp, err := f.browser.PostForm(f.url+"/orders", url.Values{"product": {"unicorn"}})
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	assert.Empty(t, f.khipu.Requests(), "nothing reached Khipu")
}

func TestShopAnswersNotFoundForAnUnknownOrder(t *testing.T) {
	f := newShopFixture(t)
	for _, p := range []string{"/orders/order-nope", "/orders/order-nope/status", "/orders/order-nope/cancel"} {
		status, _ := f.get(t, p)
		assert.Equal(t, http.StatusNotFound, status, p)
	}
}

func TestShopCancelsTheOrderWhenKhipuCannotCreateThePayment(t *testing.T) {
	f := newShopFixture(t)
	require.NoError(t, f.khipu.FailNext(khiputest.EndpointPaymentsCreate, http.StatusServiceUnavailable, 1))
	resp, err := f.browser.PostForm(f.url+"/orders", url.Values{"product": {"mate"}})
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusBadGateway, resp.StatusCode)
	reqs := f.khipu.Requests()
	require.Len(t, reqs, 1)
	order, err := f.shop.Orders.Get(context.Background(), reqs[0].Params.Get("transaction_id"))
	require.NoError(t, err)
	assert.Equal(t, OrderCancelled, order.State())
}

func TestShopDoesNotDeliverAnotherPaymentForTheSameOrder(t *testing.T) {
	f := newShopFixture(t)
	order, _ := f.buy(t, "mate")

	// Same order id, amount and currency, verified with Khipu, but not the
	// payment the shop created: an old payment for a reused order id, say.
	other, err := f.client.Payments.Create(context.Background(), &khipu.PaymentCreateParams{
		Subject: "Mate", Currency: order.Currency, Amount: order.Amount, TransactionID: order.ID,
		NotifyURL: f.url + "/khipu/notify",
	})
	require.NoError(t, err)
	require.NoError(t, f.khipu.Pay(other.PaymentID))
	assert.Equal(t, "pending", f.state(t, order.ID))

	// The order's own payment still pays it.
	require.NoError(t, f.khipu.Pay(order.PaymentID))
	assert.Equal(t, "paid", f.state(t, order.ID))
	paid, err := f.shop.Orders.Get(context.Background(), order.ID)
	require.NoError(t, err)
	assert.Equal(t, order.PaymentID, paid.PaymentID)
}
