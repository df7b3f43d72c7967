package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/khipu-go/khipu"
	"github.com/khipu-go/khipu/khiputest"
)

// shopFixture is a shop on loopback, with its orders in a new SQLite file,
// in front of an in-memory Khipu, and a browser-like HTTP client that does
// not follow redirects. The shop and its Khipu go by one clock, which the
// test moves; the shop's reconciler runs when the test calls ReconcileRound.
// The tests that run the shop as a process, and on PostgreSQL, are in
// replicas_test.go, reconcile_test.go and browser_test.go.
type shopFixture struct {
	api khipuAPI
	// notifications says whether notifications reach the shop; when not,
	// Khipu's are answered 503 as an unreachable shop's would be.
	notifications *atomic.Bool
	clock         *testClock
	khipu         *khiputest.Server
	shop          *Shop
	url           string
	browser       *http.Client
}

// forEachShop runs test against a new shop once per API version.
func forEachShop(t *testing.T, test func(t *testing.T, f *shopFixture)) {
	forEachAPI(t, func(t *testing.T, api khipuAPI) {
		clock := newTestClock()
		fake := newKhipu(t, khiputest.WithClock(clock.Now))
		shop := &Shop{
			Khipu: api.gateway(t, fake), Orders: openStore(t, sqliteTestDSN(t)), Products: products, Log: quiet,
			PayWithin: time.Hour, CheckEvery: time.Minute, Clock: clock.Now,
		}
		notifications := new(atomic.Bool)
		notifications.Store(true)
		handler := shop.Handler()
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/khipu/notify" && !notifications.Load() {
				http.Error(w, "unreachable", http.StatusServiceUnavailable)
				return
			}
			handler.ServeHTTP(w, r)
		}))
		t.Cleanup(srv.Close)
		shop.BaseURL = srv.URL
		browser := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		test(t, &shopFixture{api: api, notifications: notifications, clock: clock, khipu: fake, shop: shop, url: srv.URL, browser: browser})
	})
}

// order reads an order from the shop's database.
func (f *shopFixture) order(t *testing.T, id string) Order {
	t.Helper()
	o, err := f.shop.Orders.Get(context.Background(), id)
	require.NoError(t, err)
	return o
}

// round moves the clock by d and runs one round of the reconciler.
func (f *shopFixture) round(t *testing.T, d time.Duration) {
	t.Helper()
	f.clock.Add(d)
	require.NoError(t, f.shop.ReconcileRound(context.Background()))
}

// lookups counts the requests that asked Khipu for the payment.
func (f *shopFixture) lookups(paymentID string) int {
	n := 0
	for _, r := range f.khipu.Requests() {
		if r.Endpoint == f.api.getEndpoint && path.Base(r.Path) == paymentID {
			n++
		}
	}
	return n
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
	paymentID := path.Base(paymentURL)
	// Found in the shop's database, not by asking Khipu: the tests count
	// the shop's lookups.
	var orderID string
	require.NoError(t, f.shop.Orders.db.QueryRow(`SELECT id FROM orders WHERE payment_id = $1`, paymentID).Scan(&orderID),
		"the order records its payment")
	return f.order(t, orderID), paymentURL
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

// state is the state the order page's poll says.
func (f *shopFixture) state(t *testing.T, orderID string) string {
	t.Helper()
	state, _ := f.poll(t, orderID)
	return state
}

// poll is what the order page's poll says: the state and its text.
func (f *shopFixture) poll(t *testing.T, orderID string) (state, text string) {
	t.Helper()
	status, body := f.get(t, "/orders/"+orderID+"/status")
	require.Equal(t, http.StatusOK, status, body)
	var st struct{ ID, State, Text string }
	require.NoError(t, json.Unmarshal([]byte(body), &st))
	assert.Equal(t, orderID, st.ID)
	return st.State, st.Text
}

// polls reports whether an order page keeps asking the shop for the
// order's state: it has the polling script.
func polls(page string) bool { return strings.Contains(page, "<script>") }

func TestShopSellsAProductThroughKhipu(t *testing.T) {
	forEachShop(t, func(t *testing.T, f *shopFixture) {
		status, page := f.get(t, "/")
		assert.Equal(t, http.StatusOK, status)
		assert.Contains(t, page, "Mate de calabaza")
		assert.Contains(t, page, "$12.990", "prices as a Chilean payer reads them")

		order, paymentURL := f.buy(t, "mate")
		assert.Equal(t, "12990", order.Amount.String())
		assert.Equal(t, "CLP", order.Currency)

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
	})
}

func TestShopSendsKhipuTheOrderAndItsPages(t *testing.T) {
	forEachShop(t, func(t *testing.T, f *shopFixture) {
		order, _ := f.buy(t, "poncho")
		reqs := f.khipu.Requests()
		require.NotEmpty(t, reqs)
		require.Equal(t, f.api.createEndpoint, reqs[0].Endpoint)
		sent := reqs[0].Params // v2: the form
		if f.api.version == "v3" {
			var body map[string]any
			require.NoError(t, json.Unmarshal(reqs[0].Body, &body))
			sent = url.Values{}
			for k, v := range body {
				sent.Set(k, fmt.Sprint(v))
			}
		}
		assert.Equal(t, order.ID, sent.Get("transaction_id"))
		assert.Equal(t, "45000", sent.Get("amount"))
		assert.Equal(t, "CLP", sent.Get("currency"))
		assert.Equal(t, f.url+"/orders/"+order.ID, sent.Get("return_url"))
		assert.Equal(t, f.url+"/orders/"+order.ID+"/cancel", sent.Get("cancel_url"))
		assert.Equal(t, f.url+"/khipu/notify", sent.Get("notify_url"))
	})
}

func TestTheOrderPageNeverAsksKhipu(t *testing.T) {
	forEachShop(t, func(t *testing.T, f *shopFixture) {
		order, _ := f.buy(t, "mate")
		before := len(f.khipu.Requests())
		_, page := f.get(t, "/orders/"+order.ID)
		assert.True(t, polls(page))
		for range 30 {
			assert.Equal(t, "pending", f.state(t, order.ID))
		}
		assert.Len(t, f.khipu.Requests(), before, "30 polls of a pending order, and not one call to Khipu")
	})
}

func TestShopSaysVerifyingWhileKhipuVerifiesTheTransfer(t *testing.T) {
	forEachShop(t, func(t *testing.T, f *shopFixture) {
		order, _ := f.buy(t, "mate")
		require.NoError(t, f.khipu.SetStatus(order.PaymentID, khipu.StatusVerifying, khipu.StatusDetailPending))
		f.round(t, time.Minute)
		assert.Equal(t, "verifying", f.state(t, order.ID), "the reconciler saw Khipu verifying the transfer")
		_, page := f.get(t, "/orders/"+order.ID)
		assert.Contains(t, page, "Verificando")
		assert.True(t, polls(page))

		require.NoError(t, f.khipu.Pay(order.PaymentID), "the transfer is verified; Khipu notifies")
		assert.Equal(t, "paid", f.state(t, order.ID))
	})
}

func TestShopCancelsAnOrderWhenThePayerGivesUpAtKhipu(t *testing.T) {
	forEachShop(t, func(t *testing.T, f *shopFixture) {
		order, _ := f.buy(t, "poncho")
		status, page := f.get(t, "/orders/"+order.ID+"/cancel")
		assert.Equal(t, http.StatusOK, status)
		assert.Contains(t, page, "Cancelado")
		assert.Equal(t, "cancelled", f.state(t, order.ID))
		assert.True(t, polls(page), "the payer may have paid in another tab: the page keeps reading the shop's database")
	})
}

func TestShopPaysACancelledOrderWhoseMoneyArrives(t *testing.T) {
	forEachShop(t, func(t *testing.T, f *shopFixture) {
		order, _ := f.buy(t, "poncho")
		// The payer pays, then follows the cancel link (from another tab,
		// say) before the shop hears of the payment.
		f.notifications.Store(false)
		assert.Error(t, f.khipu.Pay(order.PaymentID))
		_, page := f.get(t, "/orders/"+order.ID+"/cancel")
		assert.Contains(t, page, "Cancelado")

		// The notification arrives: the money pays the cancelled order.
		f.notifications.Store(true)
		require.NoError(t, f.khipu.Notify(order.PaymentID))
		assert.Equal(t, "paid", f.state(t, order.ID))
	})
}

func TestShopDoesNotCancelAPaidOrder(t *testing.T) {
	forEachShop(t, func(t *testing.T, f *shopFixture) {
		order, _ := f.buy(t, "poncho")
		require.NoError(t, f.khipu.Pay(order.PaymentID))
		_, page := f.get(t, "/orders/"+order.ID+"/cancel")
		assert.Contains(t, page, "Pagado")
		assert.Equal(t, "paid", f.state(t, order.ID))
	})
}

func TestShopIgnoresAReplayedNotification(t *testing.T) {
	forEachShop(t, func(t *testing.T, f *shopFixture) {
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
	})
}

func TestShopDoesNotDeliverAPaymentOfTheWrongAmount(t *testing.T) {
	forEachShop(t, func(t *testing.T, f *shopFixture) {
		order, _ := f.buy(t, "poncho")

		// A payment for the same order id but a smaller amount, notified to
		// the shop: it is verified but does not match the order.
		cheap, err := f.shop.Khipu.CreatePayment(context.Background(), &khipu.PaymentCreateParams{
			Subject: "Poncho", Currency: "CLP", Amount: khipu.NewAmount(1), TransactionID: order.ID,
			NotifyURL: f.url + "/khipu/notify",
		})
		require.NoError(t, err)
		require.NoError(t, f.khipu.Pay(cheap.PaymentID), "acknowledged: a retry would not change it")
		assert.Equal(t, "pending", f.state(t, order.ID))
	})
}

func TestShopDoesNotDeliverAnotherPaymentForTheSameOrder(t *testing.T) {
	forEachShop(t, func(t *testing.T, f *shopFixture) {
		order, _ := f.buy(t, "mate")

		// Same order id, amount and currency, verified, but not the payment
		// the shop created: an old payment for a reused order id, say.
		other, err := f.shop.Khipu.CreatePayment(context.Background(), &khipu.PaymentCreateParams{
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
	})
}

func TestShopRejectsForgedNotifications(t *testing.T) {
	forEachShop(t, func(t *testing.T, f *shopFixture) {
		order, _ := f.buy(t, "mate")
		resp, err := http.DefaultClient.Do(f.api.forgedNotification(t, f.khipu, f.url+"/khipu/notify", order.PaymentID))
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
		assert.Equal(t, "pending", f.state(t, order.ID))
	})
}

func TestShopRefusesAnUnknownProduct(t *testing.T) {
	forEachShop(t, func(t *testing.T, f *shopFixture) {
		resp, err := f.browser.PostForm(f.url+"/orders", url.Values{"product": {"unicorn"}})
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
		assert.Empty(t, f.khipu.Requests(), "nothing reached Khipu")
	})
}

func TestShopAnswersNotFoundForAnUnknownOrder(t *testing.T) {
	forEachShop(t, func(t *testing.T, f *shopFixture) {
		for _, p := range []string{"/orders/order-nope", "/orders/order-nope/status", "/orders/order-nope/cancel"} {
			status, _ := f.get(t, p)
			assert.Equal(t, http.StatusNotFound, status, p)
		}
	})
}

func TestShopCancelsTheOrderWhenKhipuCannotCreateThePayment(t *testing.T) {
	forEachShop(t, func(t *testing.T, f *shopFixture) {
		f.khipu.FailNext(f.api.createEndpoint, http.StatusServiceUnavailable, 1)
		resp, err := f.browser.PostForm(f.url+"/orders", url.Values{"product": {"mate"}})
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusBadGateway, resp.StatusCode)

		var orders, failed int
		require.NoError(t, f.shop.Orders.db.QueryRow(
			`SELECT COUNT(*), COUNT(*) FILTER (WHERE closed_reason = 'failed' AND next_check_at IS NULL) FROM orders`).Scan(&orders, &failed))
		assert.Equal(t, 1, orders)
		assert.Equal(t, 1, failed, "the order without a payment is closed, and not asked about")
	})
}
