package khiputest_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/khipu-go/khipu"
	"github.com/khipu-go/khipu/khiputest"
)

// What goes wrong after a payment is made: its notification lost, or the
// payment expiring unpaid and paid late.

func TestPayWithoutNotifyingPaysAndSendsNothing(t *testing.T) {
	srv, client := newServer(t)
	shop := newScriptedShop(t)
	created, err := client.Payments.Create(context.Background(), &khipu.PaymentCreateParams{
		Subject: "x", Currency: "CLP", Amount: khipu.NewAmount(1000), NotifyURL: shop.url,
	})
	require.NoError(t, err)

	require.NoError(t, srv.PayWithoutNotifying(created.PaymentID))
	p, err := client.Payments.Get(context.Background(), created.PaymentID)
	require.NoError(t, err)
	assert.Equal(t, khipu.StatusDone, p.Status, "paid at Khipu")
	assert.Equal(t, khipu.StatusDetailNormal, p.StatusDetail)
	assert.False(t, p.ConciliationDate.IsZero())
	// Without WithAsyncNotifications a notification is sent before Pay
	// returns: had one been sent, it would be in the channel by now.
	assert.Empty(t, shop.got, "the shop heard nothing")

	err = srv.PayWithoutNotifying(created.PaymentID)
	require.Error(t, err, "paid already")
	assert.Contains(t, err.Error(), "not pending")
	assert.Error(t, srv.Pay(created.PaymentID), "paid already")

	require.NoError(t, srv.Notify(created.PaymentID), "the notification can still arrive late")
	got := recv(t, shop.got)
	assert.Equal(t, created.PaymentID, tokenPayment(t, client, got.body))
}

// tokenPayment is the id of the payment a notification 1.3 names.
func tokenPayment(t *testing.T, client *khipu.Client, body []byte) string {
	t.Helper()
	form, err := url.ParseQuery(string(body))
	require.NoError(t, err)
	p, err := client.Payments.GetByNotificationToken(context.Background(), form.Get("notification_token"))
	require.NoError(t, err)
	return p.PaymentID
}

func TestControlPaysWithoutNotifying(t *testing.T) {
	_, base, client := controlServer(t)
	shop := newScriptedShop(t)
	create := func() string {
		created, err := client.Payments.Create(context.Background(), &khipu.PaymentCreateParams{
			Subject: "x", Currency: "CLP", Amount: khipu.NewAmount(1000), NotifyURL: shop.url,
		})
		require.NoError(t, err)
		return created.PaymentID
	}

	id := create()
	status, got := control(t, base, http.MethodPost, "/khiputest/payments/"+id+"/pay", `{"notify": false}`)
	require.Equal(t, http.StatusOK, status, got)
	assert.Equal(t, map[string]any{"payment_id": id, "status": "done", "status_detail": "normal", "notify_url": shop.url}, got,
		"no notify_status: nothing was sent")
	assert.Empty(t, shop.got, "the shop heard nothing")
	p, err := client.Payments.Get(context.Background(), id)
	require.NoError(t, err)
	assert.Equal(t, khipu.StatusDone, p.Status)

	status, got = control(t, base, http.MethodPost, "/khiputest/payments/"+id+"/pay", `{"notify": false}`)
	assert.Equal(t, http.StatusConflict, status, "paid already")
	assert.Contains(t, got["error"], "not pending")
	status, _ = control(t, base, http.MethodPost, "/khiputest/payments/nope/pay", `{"notify": false}`)
	assert.Equal(t, http.StatusNotFound, status)

	other := create()
	status, got = control(t, base, http.MethodPost, "/khiputest/payments/"+other+"/pay", `{"notify": true}`)
	require.Equal(t, http.StatusOK, status)
	assert.Equal(t, 200.0, got["notify_status"], "notify true is Pay")
	recv(t, shop.got)

	for _, body := range []string{`{"notify": "no"}`, `{"notfy": false}`, `[false]`} {
		status, got = control(t, base, http.MethodPost, "/khiputest/payments/"+create()+"/pay", body)
		assert.Equal(t, http.StatusBadRequest, status, body)
		assert.Contains(t, got["error"], "JSON object", body)
	}
}

func TestControlClockMakesAPaymentExpire(t *testing.T) {
	srv, base, client := controlServer(t)
	expires := time.Now().Add(time.Hour).Truncate(time.Second)
	created, err := client.Payments.Create(context.Background(), &khipu.PaymentCreateParams{
		Subject: "Order", Currency: "CLP", Amount: khipu.NewAmount(1000), ExpiresDate: expires,
	})
	require.NoError(t, err)
	assert.Contains(t, page(t, created.PaymentURL), `<form method="post">`, "it can be paid now")

	before := time.Now()
	status, got := control(t, base, http.MethodPost, "/khiputest/clock", `{"advance": "90m"}`)
	require.Equal(t, http.StatusOK, status, got)
	now, err := time.Parse(time.RFC3339Nano, got["now"].(string))
	require.NoError(t, err)
	assert.WithinRange(t, now, before.Add(90*time.Minute), time.Now().Add(90*time.Minute), "the server's time moved 90 minutes")

	html := page(t, created.PaymentURL)
	assert.Contains(t, html, "expired since "+expires.Format(time.RFC3339), "its page says so")
	assert.NotContains(t, html, `<form method="post">`)
	status, got = control(t, base, http.MethodPost, "/khiputest/payments/"+created.PaymentID+"/pay", "")
	assert.Equal(t, http.StatusConflict, status)
	assert.Contains(t, got["error"], "expired")
	status, _ = control(t, base, http.MethodPost, "/khiputest/payments/"+created.PaymentID+"/pay", `{"notify": false}`)
	assert.Equal(t, http.StatusConflict, status, "not even without a notification")

	// Payments created now are checked against the moved clock.
	_, err = client.Payments.Create(context.Background(), &khipu.PaymentCreateParams{
		Subject: "x", Currency: "CLP", Amount: khipu.NewAmount(1000), ExpiresDate: time.Now().Add(time.Hour),
	})
	var ve *khipu.ValidationError
	require.ErrorAs(t, err, &ve, "an hour from the real now is in the server's past")

	// A transfer reconciled after all is out of date.
	require.NoError(t, srv.SetStatus(created.PaymentID, khipu.StatusDone, khipu.StatusDetailNormal))
	p, err := client.Payments.Get(context.Background(), created.PaymentID)
	require.NoError(t, err)
	assert.True(t, p.OutOfDateConciliation)
	assert.True(t, p.ConciliationDate.After(expires), "conciliated at the server's time: %v", p.ConciliationDate)

	status, got = control(t, base, http.MethodPost, "/khiputest/clock", `{"advance": "0s"}`)
	require.Equal(t, http.StatusOK, status)
	again, err := time.Parse(time.RFC3339Nano, got["now"].(string))
	require.NoError(t, err)
	assert.False(t, again.Before(now), "0s reads the clock, which stays moved")

	for body, want := range map[string]string{
		`{"advance": "-1h"}`:                      "only moves forward",
		`{"advance": "ninety minutes"}`:           "Go duration",
		`{"advance": ""}`:                         "Go duration",
		`{"advance": 90}`:                         "JSON object",
		`{}`:                                      "Go duration",
		`{"advance": "2562047h", "by": "me"}`:     "JSON object",
		`{"advance": "2562047h"}{"advance":"1h"}`: "", // the first object is read
	} {
		status, got := control(t, base, http.MethodPost, "/khiputest/clock", body)
		if want == "" {
			continue // moved by 292 years less a bit: the next move overflows
		}
		assert.Equal(t, http.StatusBadRequest, status, body)
		assert.Contains(t, got["error"], want, body)
	}
	status, got = control(t, base, http.MethodPost, "/khiputest/clock", `{"advance": "2562047h"}`)
	assert.Equal(t, http.StatusBadRequest, status, "the clock would overflow")
	assert.Contains(t, got["error"], "290 years")
}

func TestAPaymentMadeDoneAfterItExpiredIsOutOfDate(t *testing.T) {
	clock := newClock()
	srv := newV3Server(t, khiputest.WithClock(clock.Now))
	shop := newScriptedShop(t)
	client := newClient(t, srv, receiverID, secret)
	create := func() string {
		created, err := client.Payments.Create(context.Background(), &khipu.PaymentCreateParams{
			Subject: "x", Currency: "CLP", Amount: khipu.NewAmount(1000), ExpiresDate: clock.Now().Add(time.Hour),
		})
		require.NoError(t, err)
		return created.PaymentID
	}
	onTime, late := create(), create()
	require.NoError(t, srv.Pay(onTime))
	clock.Add(2 * time.Hour)
	require.NoError(t, srv.SetStatus(late, khipu.StatusDone, khipu.StatusDetailNormal))

	for id, want := range map[string]bool{onTime: false, late: true} {
		p, err := client.Payments.Get(context.Background(), id)
		require.NoError(t, err)
		assert.Equal(t, want, p.OutOfDateConciliation, id)
	}

	// Its notification 3.0 says so too.
	v3 := v3Create(t, srv, `{"amount": 1000, "currency": "CLP", "subject": "x", "notify_url": "`+shop.url+
		`", "expires_date": "`+clock.Now().Add(time.Hour).Format(time.RFC3339)+`"}`)
	clock.Add(2 * time.Hour)
	require.NoError(t, srv.SetStatus(v3, khipu.StatusDone, khipu.StatusDetailNormal))
	require.NoError(t, srv.Notify(v3))
	var n struct {
		OutOfDate bool `json:"out_of_date_conciliation"`
	}
	require.NoError(t, json.Unmarshal((recv(t, shop.got)).body, &n))
	assert.True(t, n.OutOfDate)
}

// A payment is expired from the very instant of its expires_date, to the
// nanosecond of the server's clock: made done from then on, even within
// the same second, it is reconciled out of date, as Pay's refusal says.
func TestAPaymentMadeDoneAtTheInstantItExpiresIsOutOfDate(t *testing.T) {
	clock := newClock()
	clock.Add(300 * time.Millisecond) // a clock between seconds, as time.Now's is
	srv := newV3Server(t, khiputest.WithClock(clock.Now))
	client := newClient(t, srv, receiverID, secret)
	created, err := client.Payments.Create(context.Background(), &khipu.PaymentCreateParams{
		Subject: "x", Currency: "CLP", Amount: khipu.NewAmount(1000), // expires a day later
	})
	require.NoError(t, err)
	clock.Add(24 * time.Hour)
	require.Error(t, srv.Pay(created.PaymentID), "expired")
	require.NoError(t, srv.SetStatus(created.PaymentID, khipu.StatusDone, khipu.StatusDetailNormal))

	p, err := client.Payments.Get(context.Background(), created.PaymentID)
	require.NoError(t, err)
	assert.True(t, p.OutOfDateConciliation, "made done once expired: conciliation %v, expires %v", p.ConciliationDate, p.ExpiresDate)
}
