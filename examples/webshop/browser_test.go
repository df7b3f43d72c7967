package main

import (
	"context"
	"net/url"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The shop clicked through in headless Chromium, as a payer does: product
// page, Khipu's payment page, Pay (or Cancel), and back at the shop until the
// page says how the order ended. The shop runs as a process behind the
// front, with its orders in SQLite, and Khipu is khiputest in the test
// process, so that the shop can restart while the payer is at Khipu.

// stepDeadline bounds one step of a click-through: a page to load, a
// button to appear, the order page to say paid.
const stepDeadline = 30 * time.Second

// chromium returns the path of a Chromium or Chrome binary: the test skips
// without one, except in CI, where .ci/run installs Debian's chromium.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if path, err := exec.LookPath(name); err == nil {
			return path
		}
	}
	skipOrFail(t, "no Chromium or Chrome on PATH (Debian: apt-get install chromium)")
	return ""
}

// newBrowser starts a headless Chromium with a fresh profile and returns
// the context of a tab in it; the browser ends with the test.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium(t)),
		chromedp.UserDataDir(t.TempDir()),
		// Root in a container has no sandbox to offer; the pages are the
		// test's own.
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		// The machine's network is closed: no background connections
		// that fail and slow the browser down.
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancelTab()
		cancelAlloc()
	})
	// The first Do starts the browser, and lives as long as it: it gets no
	// deadline, the steps do.
	require.NoError(t, chromedp.Do(ctx), "starting Chromium")
	return ctx
}

// browse runs one step of a click-through, within stepDeadline, and when it
// fails reports where the browser was and what the page said.
func browse(t *testing.T, ctx context.Context, step string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	stepCtx, cancel := context.WithTimeout(ctx, stepDeadline)
	defer cancel()
	if err := chromedp.Do(stepCtx, actions...); err != nil {
		t.Fatalf("%s: %v\n%s", step, err, whereIsTheBrowser(ctx))
	}
}

// read returns what action reads from the page, within stepDeadline.
func read[T any](t *testing.T, ctx context.Context, what string, action chromedp.Action[T]) T {
	t.Helper()
	stepCtx, cancel := context.WithTimeout(ctx, stepDeadline)
	defer cancel()
	v, err := chromedp.Run(stepCtx, action)
	if err != nil {
		t.Fatalf("reading %s: %v\n%s", what, err, whereIsTheBrowser(ctx))
	}
	return v
}

func whereIsTheBrowser(ctx context.Context) string {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	where, _ := chromedp.Run(ctx, chromedp.Location())
	text, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
	return "at " + where + " the page said:\n" + text
}

// What the payer sees and clicks.
const (
	khipuPayButton     = chromedp.Search(`//button[contains(., "Pay with DemoBank")]`)
	khipuCancelLink    = chromedp.Search(`//a[contains(., "Cancel and go back to the shop")]`)
	shopOrderPaid      = chromedp.CSS(`#state[data-state="paid"]`)
	shopOrderCancelled = chromedp.CSS(`#state[data-state="cancelled"]`)
)

// toKhipu clicks "Pagar con Khipu" for product on the front page of the
// shop at shopURL and waits for the payment page of the Khipu whose API is
// at khipuURL, which must ask for the shop's price.
func toKhipu(t *testing.T, ctx context.Context, shopURL, khipuURL, product string) {
	t.Helper()
	p, ok := (&Shop{Products: products}).product(product)
	require.True(t, ok)

	browse(t, ctx, "opening the shop", chromedp.Navigate(shopURL))
	price := read(t, ctx, "the price", chromedp.Text(chromedp.ID("price-"+product)))
	assert.Equal(t, formatMoney(p.Price, p.Currency), price)

	browse(t, ctx, "buying "+product,
		chromedp.Click(chromedp.ID("buy-"+product)),
		chromedp.WaitVisible(khipuPayButton),
	)
	khipu, err := url.Parse(khipuURL)
	require.NoError(t, err)
	where := read(t, ctx, "the address", chromedp.Location())
	assert.True(t, strings.HasPrefix(where, "http://"+khipu.Host+"/"), "the shop sent the browser to Khipu, got %s", where)
	page := read(t, ctx, "Khipu's page", chromedp.Text(chromedp.CSS("body")))
	assert.Contains(t, page, p.Price.String()+" "+p.Currency, "Khipu asks for the order's amount")
}

// shopSays waits until the shop's order page shows selector and returns
// the order's id and what the page says about it.
func shopSays(t *testing.T, ctx context.Context, selector chromedp.CSS) (orderID, text string) {
	t.Helper()
	browse(t, ctx, "waiting for "+string(selector), chromedp.WaitVisible(selector))
	text = read(t, ctx, "the order's state", chromedp.Text(chromedp.ID("state")))
	attr := read(t, ctx, "the order's id", chromedp.AttributeValue(chromedp.ID("state"), "data-order"))
	require.True(t, attr.Exists)
	return attr.Value, text
}

// assertState checks the order's state in the shop's database.
func assertState(t *testing.T, dsn, orderID string, want OrderState) {
	t.Helper()
	order, err := openStore(t, dsn).Get(context.Background(), orderID)
	require.NoError(t, err)
	assert.Equal(t, want, order.State())
}

func TestBrowserPayerPaysAndTheShopSaysPaid(t *testing.T) {
	forEachAPI(t, func(t *testing.T, api khipuAPI) {
		ctx := newBrowser(t)
		rs := newReplicaSet(t, api, sqliteTestDSN(t))
		shop := rs.start(t)
		rs.front.route(shop)

		toKhipu(t, ctx, rs.front.URL(), rs.khipu.URL(), "mate")
		browse(t, ctx, "paying", chromedp.Click(khipuPayButton))
		orderID, text := shopSays(t, ctx, shopOrderPaid)
		assert.Contains(t, text, "Pagado")
		summary := read(t, ctx, "the order page", chromedp.Text(chromedp.CSS("body")))
		assert.Contains(t, summary, "Mate de calabaza — $12.990")
		assertState(t, rs.dsn, orderID, OrderPaid)
	})
}

func TestBrowserPayerPaysWhileTheShopRestartsAndTheShopSaysPaid(t *testing.T) {
	forEachAPI(t, func(t *testing.T, api khipuAPI) {
		ctx := newBrowser(t)
		rs := newReplicaSet(t, api, sqliteTestDSN(t))
		before := rs.start(t)
		rs.front.route(before)

		toKhipu(t, ctx, rs.front.URL(), rs.khipu.URL(), "poncho")
		before.stop(t)
		after := rs.start(t)
		rs.front.route(after)
		browse(t, ctx, "paying", chromedp.Click(khipuPayButton))
		orderID, text := shopSays(t, ctx, shopOrderPaid)
		assert.Contains(t, text, "Pagado")
		assertState(t, rs.dsn, orderID, OrderPaid)
		assert.Equal(t, 1, after.logged(t, "order paid", orderID), "the restarted shop took the notification")
	})
}

func TestBrowserPayerCancelsAtKhipuAndTheShopSaysCancelled(t *testing.T) {
	forEachAPI(t, func(t *testing.T, api khipuAPI) {
		ctx := newBrowser(t)
		rs := newReplicaSet(t, api, sqliteTestDSN(t))
		shop := rs.start(t)
		rs.front.route(shop)

		toKhipu(t, ctx, rs.front.URL(), rs.khipu.URL(), "mate")
		browse(t, ctx, "cancelling", chromedp.Click(khipuCancelLink))
		orderID, text := shopSays(t, ctx, shopOrderCancelled)
		assert.Contains(t, text, "Cancelado")
		assertState(t, rs.dsn, orderID, OrderCancelled)
		assert.Equal(t, 1, shop.logged(t, "order cancelled", orderID))
	})
}

func TestBrowserPayerPaysAtTheKhipuEmbeddedInTheShopAndTheShopSaysPaid(t *testing.T) {
	// `go run .` with no credentials: the shop embeds khiputest and is
	// its own public URL.
	forEachAPI(t, func(t *testing.T, api khipuAPI) {
		ctx := newBrowser(t)
		dsn := sqliteTestDSN(t)
		shop := startShop(t, nil, "-api", api.version, "-db", dsn)
		shopURL := shop.loggedValue("shop open", "url")
		khipuURL := shop.loggedValue("using an in-memory Khipu; its payment page has a Pay button", "khipu")
		require.NotEmpty(t, khipuURL, "the shop embeds khiputest")

		toKhipu(t, ctx, shopURL, khipuURL, "mate")
		browse(t, ctx, "paying", chromedp.Click(khipuPayButton))
		orderID, text := shopSays(t, ctx, shopOrderPaid)
		assert.Contains(t, text, "Pagado")
		assertState(t, dsn, orderID, OrderPaid)
		// The browser talks to this shop directly, not through the front,
		// and keeps a connection open that it has not sent a request on:
		// the shop would wait about 5 s for it when it stops (see
		// shutdownGrace). Closing the browser first keeps the test quick.
		require.NoError(t, chromedp.Cancel(ctx), "closing the browser")
		assert.Equal(t, 1, shop.logged(t, "order paid", orderID))
	})
}

func TestBrowserPayerPaysTheNotificationIsLostAndThePageTurnsPaidOnItsOwn(t *testing.T) {
	forEachAPI(t, func(t *testing.T, api khipuAPI) {
		ctx := newBrowser(t)
		rs := newReplicaSet(t, api, sqliteTestDSN(t))
		shop := rs.start(t, "-reconcile-every", "200ms")
		rs.front.route(shop)

		toKhipu(t, ctx, rs.front.URL(), rs.khipu.URL(), "mate")
		// Khipu's notification never reaches the shop: the load balancer
		// keeps it and answers 503.
		rs.front.setHolding(true)
		browse(t, ctx, "paying", chromedp.Click(khipuPayButton))
		orderID, text := shopSays(t, ctx, shopOrderPaid)
		assert.Contains(t, text, "Pagado")
		assert.Len(t, rs.front.heldNotifications(), 1, "the notification was lost")
		assertState(t, rs.dsn, orderID, OrderPaid)
		assert.Equal(t, 1, shop.loggedWith(t, "order paid", orderID, "via=reconciler"), "the reconciler found the payment")
	})
}
