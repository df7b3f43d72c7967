package khiputest_test

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/khipu-go/khipu"
	"github.com/khipu-go/khipu/khiputest"
)

// testClock is a clock a test moves by hand, for WithClock.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

// newClock is a clock at a fixed time, far from the real one, so that a
// server that read the real clock instead would be seen to.
func newClock() *testClock {
	return &testClock{now: time.Date(2031, time.March, 4, 15, 30, 0, 0, time.UTC)}
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func TestWithClockDecidesWhatIsInTheFuture(t *testing.T) {
	clock := newClock()
	srv := newV3Server(t, khiputest.WithClock(clock.Now))
	order := func(expires time.Time) string {
		return `{"amount": 1000, "currency": "CLP", "subject": "x", "expires_date": "` + expires.Format(time.RFC3339) + `"}`
	}
	v3Create(t, srv, order(clock.Now().Add(time.Second)))
	ke := v3Fails(t, srv, http.StatusBadRequest, http.MethodPost, "/v3/payments", order(clock.Now()))
	assert.Equal(t, []string{"expires_date"}, ke.fields(), "now is not in the future")
	ke = v3Fails(t, srv, http.StatusBadRequest, http.MethodPost, "/v3/payments",
		`{"amount": 1000, "currency": "CLP", "subject": "x", "confirm_timeout_date": "`+clock.Now().Add(-time.Hour).Format(time.RFC3339)+`"}`)
	assert.Equal(t, []string{"confirm_timeout_date"}, ke.fields())
}

func TestWithClockRefusesNil(t *testing.T) {
	assert.PanicsWithValue(t, "khiputest: WithClock with a nil clock", func() { khiputest.WithClock(nil) })
}

func TestAPaymentThatExpiredCannotBePaid(t *testing.T) {
	clock := newClock()
	srv := khiputest.NewServer(receiverID, secret, khiputest.WithClock(clock.Now))
	t.Cleanup(srv.Close)
	client := newClient(t, srv, receiverID, secret)
	expires := clock.Now().Add(time.Hour)
	created, err := client.Payments.Create(context.Background(), &khipu.PaymentCreateParams{
		Subject: "Order", Currency: "CLP", Amount: khipu.NewAmount(1000), ExpiresDate: expires,
		CancelURL: "https://shop.example/orders/1/cancel",
	})
	require.NoError(t, err)
	p, err := client.Payments.Get(context.Background(), created.PaymentID)
	require.NoError(t, err)
	assert.True(t, expires.Equal(p.ExpiresDate), "expires_date round trips: %v", p.ExpiresDate)

	clock.Add(time.Hour - time.Second)
	assert.Contains(t, page(t, created.PaymentURL), `<form method="post">`, "a second before it expires, it can be paid")

	clock.Add(time.Second)
	err = srv.Pay(created.PaymentID)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "expired")
	p, err = client.Payments.Get(context.Background(), created.PaymentID)
	require.NoError(t, err)
	assert.Equal(t, khipu.StatusPending, p.Status)

	html := page(t, created.PaymentURL)
	assert.Contains(t, html, "is <strong>expired since "+expires.Format(time.RFC3339)+"</strong>", "the page says so")
	assert.NotContains(t, html, `<form method="post">`, "and has no Pay button")
	assert.Contains(t, html, `<a href="https://shop.example/orders/1/cancel">`, "but the payer can go back")
}

func TestAPaidPaymentIsConciliatedAtTheClocksTime(t *testing.T) {
	clock := newClock()
	srv := khiputest.NewServer(receiverID, secret, khiputest.WithClock(clock.Now))
	t.Cleanup(srv.Close)
	client := newClient(t, srv, receiverID, secret)
	id := mustCreate(t, client).PaymentID
	require.NoError(t, srv.Pay(id))
	p, err := client.Payments.Get(context.Background(), id)
	require.NoError(t, err)
	assert.True(t, clock.Now().Equal(p.ConciliationDate), "conciliation_date %v", p.ConciliationDate)
}

// page is the HTML at url.
func page(t *testing.T, url string) string {
	t.Helper()
	_, _, html := get(t, url)
	return html
}
