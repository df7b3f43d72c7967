package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/khipu-go/khipu"
	"github.com/khipu-go/khipu/khiputest"
)

// shopFixture is a shop on loopback in front of an in-memory Khipu, and a
// browser-like HTTP client that does not follow redirects.
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
	shop := &Shop{Client: client, Orders: NewStore(), Products: products, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	srv := httptest.NewServer(shop.Handler())
	t.Cleanup(srv.Close)
	shop.BaseURL = srv.URL
	browser := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return &shopFixture{khipu: fake, client: client, shop: shop, url: srv.URL, browser: browser}
}

// buy posts the product form and returns the order id and Khipu's payment
// URL the shop redirected to.
func (f *shopFixture) buy(t *testing.T, product string) (orderID, paymentURL string) {
	t.Helper()
	resp, err := f.browser.PostForm(f.url+"/orders", url.Values{"product": {product}})
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	paymentURL = resp.Header.Get("Location")
	require.NotEmpty(t, paymentURL)
	f.shop.Orders.mu.Lock()
	for id, o := range f.shop.Orders.orders {
		if o.PaymentID != "" && strings.HasSuffix(paymentURL, o.PaymentID) {
			orderID = id
		}
	}
	f.shop.Orders.mu.Unlock()
	require.NotEmpty(t, orderID, "the order records its payment")
	return orderID, paymentURL
}

func (f *shopFixture) paid(t *testing.T, orderID string) bool {
	t.Helper()
	resp, err := f.browser.Get(f.url + "/orders/" + orderID + "/status")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var st orderStatus
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&st))
	return st.Paid
}

func TestShopSellsAProductThroughKhipu(t *testing.T) {
	f := newShopFixture(t)

	resp, err := f.browser.Get(f.url + "/")
	require.NoError(t, err)
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Contains(t, string(page), "Mate de calabaza")

	orderID, paymentURL := f.buy(t, "mate")
	order, _ := f.shop.Orders.Get(orderID)
	p, err := f.client.Payments.Get(context.Background(), order.PaymentID)
	require.NoError(t, err)
	assert.Equal(t, "12990", p.Amount.String(), "the payment carries the order's amount")
	assert.Equal(t, orderID, p.TransactionID)

	resp, err = f.browser.Get(f.url + "/orders/" + orderID)
	require.NoError(t, err)
	page, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Contains(t, string(page), "verificando", "coming back from Khipu is not proof of payment")
	assert.False(t, f.paid(t, orderID))

	// The payer presses Pay on Khipu's page; Khipu notifies the shop.
	resp, err = f.browser.PostForm(paymentURL, nil)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, f.url+"/orders/"+orderID, resp.Header.Get("Location"), "Khipu sends the payer back to the return page")
	assert.True(t, f.paid(t, orderID), "the verified notification marked the order paid")
}

func TestShopIgnoresAReplayedNotification(t *testing.T) {
	f := newShopFixture(t)
	orderID, _ := f.buy(t, "poncho")
	order, _ := f.shop.Orders.Get(orderID)
	require.NoError(t, f.khipu.Pay(order.PaymentID))
	first, _ := f.shop.Orders.Get(orderID)
	require.True(t, first.Paid)

	p, err := f.client.Payments.Get(context.Background(), order.PaymentID)
	require.NoError(t, err)
	resp, err := f.browser.PostForm(f.url+"/khipu/notify", url.Values{"api_version": {"1.3"}, "notification_token": {p.NotificationToken}})
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	again, _ := f.shop.Orders.Get(orderID)
	assert.Equal(t, first, again, "a replay changes nothing")
}

func TestShopDoesNotDeliverAPaymentOfTheWrongAmount(t *testing.T) {
	f := newShopFixture(t)
	orderID, _ := f.buy(t, "poncho")

	// A payment for the same order id but a smaller amount, notified to the
	// shop: it is verified with Khipu but does not match the order.
	cheap, err := f.client.Payments.Create(context.Background(), &khipu.PaymentCreateParams{
		Subject: "Poncho", Currency: "CLP", Amount: khipu.NewAmount(1), TransactionID: orderID,
		NotifyURL: f.url + "/khipu/notify",
	})
	require.NoError(t, err)
	require.NoError(t, f.khipu.Pay(cheap.PaymentID))
	assert.False(t, f.paid(t, orderID))
}

func TestShopRejectsForgedNotifications(t *testing.T) {
	f := newShopFixture(t)
	orderID, _ := f.buy(t, "mate")
	resp, err := f.browser.PostForm(f.url+"/khipu/notify", url.Values{"api_version": {"1.3"}, "notification_token": {"forged-token"}})
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	assert.False(t, f.paid(t, orderID))
}

func TestShopRefusesAnUnknownProduct(t *testing.T) {
	f := newShopFixture(t)
	resp, err := f.browser.PostForm(f.url+"/orders", url.Values{"product": {"unicorn"}})
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	assert.Empty(t, f.khipu.Requests(), "nothing reached Khipu")
}

func TestShopDoesNotDeliverAnotherPaymentForTheSameOrder(t *testing.T) {
	f := newShopFixture(t)
	orderID, _ := f.buy(t, "mate")
	order, _ := f.shop.Orders.Get(orderID)

	// Same order id, amount and currency, verified with Khipu, but not the
	// payment the shop created: an old payment for a reused order id, say.
	other, err := f.client.Payments.Create(context.Background(), &khipu.PaymentCreateParams{
		Subject: "Mate", Currency: order.Currency, Amount: order.Amount, TransactionID: orderID,
		NotifyURL: f.url + "/khipu/notify",
	})
	require.NoError(t, err)
	require.NoError(t, f.khipu.Pay(other.PaymentID))
	assert.False(t, f.paid(t, orderID))

	// The order's own payment still pays it.
	require.NoError(t, f.khipu.Pay(order.PaymentID))
	assert.True(t, f.paid(t, orderID))
	paid, _ := f.shop.Orders.Get(orderID)
	assert.Equal(t, order.PaymentID, paid.PaymentID)
}

func TestOrderIDsAreNotReusedAcrossStores(t *testing.T) {
	// A restarted shop starts a new store: its first order must not have
	// the id of the previous run's first order.
	a := NewStore().Create("mate", khipu.NewAmount(1), "CLP")
	b := NewStore().Create("mate", khipu.NewAmount(1), "CLP")
	assert.NotEqual(t, a.ID, b.ID)
}
