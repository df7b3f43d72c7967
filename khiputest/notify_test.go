package khiputest_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/khipu-go/khipu"
	"github.com/khipu-go/khipu/khiputest"
)

// scriptedShop is a notify_url that answers each notification as its
// script says, in order, and then 200; every notification it receives is
// sent on got once it has answered.
type scriptedShop struct {
	t      *testing.T
	url    string
	got    chan delivery
	mu     sync.Mutex
	script []func(w http.ResponseWriter, r *http.Request)
}

func newScriptedShop(t *testing.T, script ...func(w http.ResponseWriter, r *http.Request)) *scriptedShop {
	t.Helper()
	s := &scriptedShop{t: t, got: make(chan delivery, 16), script: script}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		assert.NoError(t, err) // the server's goroutine: not require
		s.mu.Lock()
		var answer func(w http.ResponseWriter, r *http.Request)
		if len(s.script) > 0 {
			answer, s.script = s.script[0], s.script[1:]
		}
		s.mu.Unlock()
		if answer != nil {
			answer(w, r)
		}
		s.got <- delivery{r.Header, body}
	}))
	t.Cleanup(srv.Close)
	s.url = srv.URL + "/khipu"
	return s
}

// answer is a script step that answers status.
func answer(status int) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "not now", status) }
}

// hangUp is a script step that closes the connection without an answer, as a
// shop that cannot be reached.
func hangUp(w http.ResponseWriter, _ *http.Request) {
	conn, _, err := w.(http.Hijacker).Hijack()
	if err == nil {
		conn.Close()
	}
}

func asyncServer(t *testing.T) *khiputest.Server {
	t.Helper()
	srv := khiputest.NewServer(receiverID, secret, khiputest.WithAPIKey(apiKey), khiputest.WithAsyncNotifications())
	t.Cleanup(srv.Close)
	return srv
}

func waitCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// recv receives from ch, or fails the test after 10 s: what a test waits for
// that never comes (a notification, a callback) fails it then, rather than
// hanging it until go test's timeout. Call it from the test's goroutine.
func recv[T any](t testing.TB, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(10 * time.Second):
		t.Fatal("waited 10 s for what never came")
		var zero T
		return zero
	}
}

func TestAsyncNotificationsAreRetriedUntilTheShopAnswers2xx(t *testing.T) {
	clock := newClock()
	srv := khiputest.NewServer(receiverID, secret, khiputest.WithAPIKey(apiKey), khiputest.WithAsyncNotifications(), khiputest.WithClock(clock.Now))
	t.Cleanup(srv.Close)
	// The waits between attempts are recorded, and not waited: the test
	// sees the backoff without depending on how long anything takes.
	var mu sync.Mutex
	var waits []time.Duration
	khiputest.SetRetryWait(srv, func(d time.Duration) <-chan time.Time {
		mu.Lock()
		waits = append(waits, d)
		mu.Unlock()
		now := make(chan time.Time, 1)
		now <- clock.Now()
		return now
	})
	release := make(chan struct{})
	// Each attempt the shop receives moves the clock a second on: the next
	// attempt, signed anew, carries a later time.
	later := func(then func(http.ResponseWriter, *http.Request)) func(http.ResponseWriter, *http.Request) {
		return func(w http.ResponseWriter, r *http.Request) { clock.Add(time.Second); then(w, r) }
	}
	shop := newScriptedShop(t,
		later(func(w http.ResponseWriter, r *http.Request) { <-release; answer(http.StatusServiceUnavailable)(w, r) }),
		later(hangUp),
		later(answer(http.StatusNotFound)),
		later(answer(http.StatusOK)),
	)
	start := clock.Now()
	id := v3Create(t, srv, `{"amount": 1000, "currency": "CLP", "subject": "x", "notify_url": "`+shop.url+`"}`)

	require.NoError(t, srv.Pay(id), "returns while the shop has not answered")
	assert.Equal(t, "done", v3OK(t, srv, http.MethodGet, "/v3/payments/"+id, "")["status"], "paid before it is notified")
	close(release)

	require.NoError(t, srv.WaitNotified(waitCtx(t), id))
	var times []time.Time
	for range 4 {
		times = append(times, verified(t, recv(t, shop.got)))
	}
	assert.Empty(t, shop.got, "answered on the fourth attempt: no fifth")
	// The shop's handlers may hand their deliveries over out of order (the
	// one that hung up races the next attempt): the times, in order, are
	// the clock's at each attempt.
	slices.SortFunc(times, time.Time.Compare)
	for i, signed := range times {
		assert.Equal(t, start.Add(time.Duration(i)*time.Second), signed.UTC(), "attempt %d signed anew at the time of sending", i+1)
	}
	require.NoError(t, srv.WaitNotified(context.Background(), id), "already answered: at once")
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, []time.Duration{10 * time.Millisecond, 20 * time.Millisecond, 40 * time.Millisecond}, waits, "backing off")
}

func TestWaitNotifiedReportsTheLastFailureWhenItsContextEnds(t *testing.T) {
	srv := asyncServer(t)
	failing := func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "database down", http.StatusInternalServerError)
	}
	shop := newScriptedShop(t, failing, failing, failing, failing, failing, failing, failing, failing)
	id := v3Create(t, srv, `{"amount": 1000, "currency": "CLP", "subject": "x", "notify_url": "`+shop.url+`"}`)
	require.NoError(t, srv.Pay(id))
	recv(t, shop.got)
	recv(t, shop.got) // a retry too

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := srv.WaitNotified(ctx, id)
	require.ErrorIs(t, err, context.Canceled)
	var ne *khiputest.NotificationError
	require.ErrorAs(t, err, &ne, "joined with why the last attempt failed")
	assert.Equal(t, http.StatusInternalServerError, ne.StatusCode)
	assert.Equal(t, "database down", ne.Body)
}

func TestANewNotifyReplacesANotificationBeingRetried(t *testing.T) {
	srv := asyncServer(t)
	client := newClient(t, srv, receiverID, secret)
	arrived, superseded := make(chan struct{}), make(chan struct{})
	shop := newScriptedShop(t, func(w http.ResponseWriter, r *http.Request) {
		close(arrived)
		<-r.Context().Done() // never answers: the first delivery is still in flight when replaced
		close(superseded)
	})
	created, err := client.Payments.Create(context.Background(), &khipu.PaymentCreateParams{
		Subject: "x", Currency: "CLP", Amount: khipu.NewAmount(1000), NotifyURL: shop.url,
	})
	require.NoError(t, err)
	require.NoError(t, srv.Pay(created.PaymentID))
	recv(t, arrived)
	require.NoError(t, srv.SetStatus(created.PaymentID, khipu.StatusDone, khipu.StatusDetailReversed))
	require.NoError(t, srv.Notify(created.PaymentID))
	recv(t, superseded) // the replaced delivery was abandoned in flight

	require.NoError(t, srv.WaitNotified(waitCtx(t), created.PaymentID))
	recv(t, shop.got)
	recv(t, shop.got)
	srv.Close() // every delivery has ended once Close returns
	assert.Empty(t, shop.got, "the replaced delivery was not retried")
}

func TestCloseEndsNotificationsBeingRetried(t *testing.T) {
	srv := khiputest.NewServer(receiverID, secret, khiputest.WithAPIKey(apiKey), khiputest.WithAsyncNotifications())
	refuse := answer(http.StatusServiceUnavailable)
	shop := newScriptedShop(t, refuse, refuse, refuse, refuse, refuse, refuse, refuse, refuse, refuse, refuse)
	id := v3Create(t, srv, `{"amount": 1000, "currency": "CLP", "subject": "x", "notify_url": "`+shop.url+`"}`)
	require.NoError(t, srv.Pay(id))
	recv(t, shop.got)

	waited := make(chan error, 1)
	go func() { waited <- srv.WaitNotified(context.Background(), id) }()
	srv.Close()
	err := recv(t, waited)
	assert.ErrorIs(t, err, context.Canceled, "the server closed")
	assert.ErrorContains(t, err, "the server is closed")
	assert.ErrorIs(t, srv.Notify(id), context.Canceled, "nothing is sent once the server is closed")
}

func TestWaitNotifiedWithoutAsyncNotifications(t *testing.T) {
	srv, client := newServer(t)
	ctx := context.Background()
	refuse := answer(http.StatusBadGateway)
	shop := newScriptedShop(t, refuse)
	created, err := client.Payments.Create(ctx, &khipu.PaymentCreateParams{
		Subject: "x", Currency: "CLP", Amount: khipu.NewAmount(1000), NotifyURL: shop.url,
	})
	require.NoError(t, err)
	cancelled, cancel := context.WithCancel(ctx)
	cancel()

	err = srv.WaitNotified(cancelled, created.PaymentID)
	assert.ErrorIs(t, err, context.Canceled)
	assert.ErrorContains(t, err, "was not notified yet")

	var ne *khiputest.NotificationError
	require.ErrorAs(t, srv.Pay(created.PaymentID), &ne, "synchronous: Pay reports the refusal")
	recv(t, shop.got)
	err = srv.WaitNotified(cancelled, created.PaymentID)
	require.ErrorAs(t, err, &ne)
	assert.Equal(t, http.StatusBadGateway, ne.StatusCode)
	assert.ErrorIs(t, err, context.Canceled)

	require.NoError(t, srv.Notify(created.PaymentID), "not retried on its own: Notify sends it again")
	recv(t, shop.got)
	assert.NoError(t, srv.WaitNotified(cancelled, created.PaymentID), "answered: at once, whatever the context")

	t.Run("a payment without notify_url, or none at all, fails at once", func(t *testing.T) {
		plain := mustCreate(t, client)
		require.NoError(t, srv.Pay(plain.PaymentID))
		assert.ErrorContains(t, srv.WaitNotified(ctx, plain.PaymentID), "has no notify_url")
		assert.ErrorContains(t, srv.WaitNotified(ctx, "nope"), `no payment "nope"`)
	})
}

func TestAsyncPayStillRefusesWhatCannotBePaid(t *testing.T) {
	srv := asyncServer(t)
	id := v3Create(t, srv, v3Order)
	assert.ErrorContains(t, srv.Notify(id), "not done")
	require.NoError(t, srv.Pay(id))
	assert.ErrorContains(t, srv.Pay(id), "not pending")
	assert.NoError(t, srv.Notify(id), "no notify_url: nothing to send")
	assert.Error(t, srv.Pay("nope"))
	assert.False(t, errors.Is(srv.Pay("nope"), context.Canceled))
}

func TestAnOlderDeliveryThatFinishesLastDoesNotOverwriteTheNewer(t *testing.T) {
	srv, client := newServer(t) // synchronous: the older delivery is not cancelled, only replaced
	arrived, release := make(chan struct{}), make(chan struct{})
	shop := newScriptedShop(t, func(w http.ResponseWriter, _ *http.Request) {
		close(arrived)
		<-release // until the newer delivery has been answered and recorded
		http.Error(w, "stale: answered last", http.StatusInternalServerError)
	})
	created, err := client.Payments.Create(context.Background(), &khipu.PaymentCreateParams{
		Subject: "x", Currency: "CLP", Amount: khipu.NewAmount(1000), NotifyURL: shop.url,
	})
	require.NoError(t, err)

	older := make(chan error, 1)
	go func() { older <- srv.Pay(created.PaymentID) }()
	recv(t, arrived)
	require.NoError(t, srv.Notify(created.PaymentID), "the newer delivery, answered 200")
	close(release)
	var ne *khiputest.NotificationError
	require.ErrorAs(t, recv(t, older), &ne, "the older one, refused, finished last")
	assert.Equal(t, http.StatusInternalServerError, ne.StatusCode)

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	assert.NoError(t, srv.WaitNotified(ctx, created.PaymentID), "what WaitNotified reads is the newer delivery's 2xx")
}
