package khipu_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/khipu-go/khipu"
)

// notifyKhipu serves GET /payments?notification_token=... from a map of
// known tokens, like Khipu: an unknown token gets a 400.
func notifyKhipu(t *testing.T, payments map[string]string) (*khipu.Client, *atomic.Int32) {
	t.Helper()
	mux, c, _ := setup(t)
	var lookups atomic.Int32
	mux.HandleFunc("GET /api/2.0/payments", func(w http.ResponseWriter, r *http.Request) {
		lookups.Add(1)
		body, ok := payments[r.URL.Query().Get("notification_token")]
		if !ok {
			respond(w, 400, []byte(`{"status":400,"message":"Error de validación","errors":[{"field":"notification_token","message":"no existe"}]}`))
			return
		}
		respond(w, 200, []byte(body))
	})
	return c, &lookups
}

func notifyPayment(receiverID, status, txID, amount, currency string) string {
	return fmt.Sprintf(`{"payment_id":"abc123def456","receiver_id":%s,"status":%q,"status_detail":"normal",`+
		`"transaction_id":%q,"amount":%s,"currency":%q,"notification_token":"tok"}`, receiverID, status, txID, amount, currency)
}

func notificationRequest(form string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/notify", strings.NewReader(form))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return r
}

func TestParseNotification(t *testing.T) {
	tests := []struct {
		name, method, contentType, body string
		wantToken                       string // empty: an error is expected
	}{
		{"accepts Khipu's 1.3 form", "POST", "application/x-www-form-urlencoded", "api_version=1.3&notification_token=abc", "abc"},
		{"accepts a charset in the content type", "POST", "application/x-www-form-urlencoded; charset=UTF-8", "notification_token=abc&api_version=1.3", "abc"},
		{"rejects another api version", "POST", "application/x-www-form-urlencoded", "api_version=1.2&notification_token=abc", ""},
		{"rejects a missing api version", "POST", "application/x-www-form-urlencoded", "notification_token=abc", ""},
		{"rejects a missing token", "POST", "application/x-www-form-urlencoded", "api_version=1.3", ""},
		{"rejects an empty token", "POST", "application/x-www-form-urlencoded", "api_version=1.3&notification_token=", ""},
		{"rejects a token with spaces", "POST", "application/x-www-form-urlencoded", "api_version=1.3&notification_token=a+b", ""},
		{"rejects a GET", "GET", "", "", ""},
		{"rejects JSON", "POST", "application/json", `{"api_version":"1.3","notification_token":"abc"}`, ""},
		{"rejects a malformed form", "POST", "application/x-www-form-urlencoded", "api_version=1.3&notification_token=%zz", ""},
		{"rejects a body over 16 KiB", "POST", "application/x-www-form-urlencoded", "api_version=1.3&notification_token=abc&pad=" + strings.Repeat("x", 17<<10), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(tt.method, "/notify", strings.NewReader(tt.body))
			if tt.contentType != "" {
				r.Header.Set("Content-Type", tt.contentType)
			}
			n, err := khipu.ParseNotification(r)
			if tt.wantToken == "" {
				require.Error(t, err)
				assert.ErrorIs(t, err, khipu.ErrInvalidNotification)
				assert.Nil(t, n)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, &khipu.Notification{APIVersion: "1.3", Token: tt.wantToken}, n)
		})
	}
}

func TestParseNotificationUsesAFormAlreadyParsed(t *testing.T) {
	r := notificationRequest("api_version=1.3&notification_token=abc")
	require.NoError(t, r.ParseForm())
	n, err := khipu.ParseNotification(r)
	require.NoError(t, err)
	assert.Equal(t, "abc", n.Token)
}

func TestVerifyNotification(t *testing.T) {
	c, _ := notifyKhipu(t, map[string]string{
		"mine":   notifyPayment("12345", "done", "order-1", "1000", "CLP"),
		"theirs": notifyPayment("99999", "done", "order-1", "1000", "CLP"),
	})
	ctx := context.Background()

	p, err := c.VerifyNotification(ctx, notificationRequest("api_version=1.3&notification_token=mine"))
	require.NoError(t, err)
	assert.Equal(t, "12345", p.ReceiverID)
	assert.NoError(t, p.Check("order-1", khipu.NewAmount(1000), "CLP"))

	_, err = c.VerifyNotification(ctx, notificationRequest("api_version=1.3&notification_token=theirs"))
	assert.ErrorIs(t, err, khipu.ErrReceiverMismatch)

	_, err = c.VerifyNotification(ctx, notificationRequest("api_version=1.3&notification_token=forged"))
	var ve *khipu.ValidationError
	assert.ErrorAs(t, err, &ve, "a forged token fails at Khipu")

	_, err = c.VerifyNotification(ctx, notificationRequest("api_version=1.2&notification_token=mine"))
	assert.ErrorIs(t, err, khipu.ErrInvalidNotification)
}

func TestPaymentCheck(t *testing.T) {
	done := khipu.Payment{Status: khipu.StatusDone, StatusDetail: khipu.StatusDetailNormal, TransactionID: "order-1", Amount: khipu.MustParseAmount("19.99"), Currency: "CLP"}
	tests := []struct {
		name       string
		mutate     func(p *khipu.Payment)
		wantFields []string
	}{
		{"passes a done payment that matches the order", func(p *khipu.Payment) {}, nil},
		{"accepts the currency in another case", func(p *khipu.Payment) { p.Currency = "clp" }, nil},
		{"refuses a pending payment", func(p *khipu.Payment) { p.Status = khipu.StatusPending }, []string{"status"}},
		{"refuses a verifying payment", func(p *khipu.Payment) { p.Status = khipu.StatusVerifying }, []string{"status"}},
		{"refuses a reversed payment", func(p *khipu.Payment) { p.StatusDetail = khipu.StatusDetailReversed }, []string{"status_detail"}},
		{"refuses another order", func(p *khipu.Payment) { p.TransactionID = "order-2" }, []string{"transaction_id"}},
		{"refuses a smaller amount", func(p *khipu.Payment) { p.Amount = khipu.MustParseAmount("19.98") }, []string{"amount"}},
		{"refuses another currency", func(p *khipu.Payment) { p.Currency = "USD" }, []string{"currency"}},
		{"names every difference", func(p *khipu.Payment) { p.Status = ""; p.Amount = khipu.NewAmount(1); p.Currency = "" }, []string{"status", "amount", "currency"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := done
			tt.mutate(&p)
			err := p.Check("order-1", khipu.MustParseAmount("19.99"), "CLP")
			if tt.wantFields == nil {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			var fields []string
			for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
				var me *khipu.MismatchError
				require.ErrorAs(t, e, &me)
				fields = append(fields, me.Field)
				assert.Contains(t, err.Error(), me.Field)
			}
			assert.Equal(t, tt.wantFields, fields)
		})
	}
	var nilPayment *khipu.Payment
	assert.Error(t, nilPayment.Check("order-1", khipu.NewAmount(1), "CLP"))
}

func TestNotificationHandler(t *testing.T) {
	c, lookups := notifyKhipu(t, map[string]string{
		"mine":   notifyPayment("12345", "done", "order-1", "1000", "CLP"),
		"theirs": notifyPayment("99999", "done", "order-1", "1000", "CLP"),
	})
	var delivered []string
	var mu sync.Mutex
	var failing atomic.Bool
	snapshot := func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), delivered...)
	}
	h := c.NotificationHandler(func(ctx context.Context, p *khipu.Payment) error {
		if _, ok := ctx.Deadline(); !ok {
			t.Error("the callback's context has no deadline")
		}
		if failing.Load() {
			return errors.New("database down")
		}
		mu.Lock()
		defer mu.Unlock()
		delivered = append(delivered, p.TransactionID)
		return nil
	})
	srv := httptest.NewServer(h)
	defer srv.Close()
	post := func(form string) int {
		resp, err := http.Post(srv.URL, "application/x-www-form-urlencoded", strings.NewReader(form))
		require.NoError(t, err)
		defer resp.Body.Close()
		return resp.StatusCode
	}

	assert.Equal(t, http.StatusOK, post("api_version=1.3&notification_token=mine"))
	assert.Equal(t, []string{"order-1"}, snapshot())

	resp, err := http.Get(srv.URL)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode, "a GET is refused")
	assert.Equal(t, "POST", resp.Header.Get("Allow"))

	before := lookups.Load()
	assert.Equal(t, http.StatusBadRequest, post("api_version=1.2&notification_token=mine"), "a malformed notification")
	assert.Equal(t, before, lookups.Load(), "a malformed notification is not looked up")
	assert.Equal(t, http.StatusBadRequest, post("api_version=1.3&notification_token=forged"), "a forged token")
	assert.Equal(t, http.StatusBadRequest, post("api_version=1.3&notification_token=theirs"), "another receiver's payment")
	assert.Equal(t, []string{"order-1"}, snapshot(), "nothing is delivered for a rejected notification")

	failing.Store(true)
	assert.Equal(t, http.StatusInternalServerError, post("api_version=1.3&notification_token=mine"), "a failing callback makes Khipu retry")
	failing.Store(false)
	assert.Equal(t, http.StatusOK, post("api_version=1.3&notification_token=mine"), "a replayed token is processed again")
	assert.Equal(t, []string{"order-1", "order-1"}, snapshot(), "the callback decides what a replay means")
}

func TestNotificationHandlerAsksForARetryWhenKhipuIsDown(t *testing.T) {
	mux, c, _ := setup(t)
	mux.HandleFunc("GET /api/2.0/payments", func(w http.ResponseWriter, r *http.Request) {
		respond(w, 503, []byte(`{"status":503,"message":"mantención"}`))
	})
	called := false
	h := c.NotificationHandler(func(ctx context.Context, p *khipu.Payment) error { called = true; return nil })
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, notificationRequest("api_version=1.3&notification_token=tok"))
	assert.Equal(t, http.StatusServiceUnavailable, rec.Code)
	assert.False(t, called)
}

func TestNotificationHandlerRunsOneCallbackPerTokenAtATime(t *testing.T) {
	c, lookups := notifyKhipu(t, map[string]string{"mine": notifyPayment("12345", "done", "order-1", "1000", "CLP")})
	var running, maxRunning, calls atomic.Int32
	release := make(chan struct{})
	var once sync.Once
	free := func() { once.Do(func() { close(release) }) }
	t.Cleanup(free) // a failing test does not leave callbacks blocked
	h := c.NotificationHandler(func(ctx context.Context, p *khipu.Payment) error {
		n := running.Add(1)
		defer running.Add(-1)
		for {
			m := maxRunning.Load()
			if n <= m || maxRunning.CompareAndSwap(m, n) {
				break
			}
		}
		calls.Add(1)
		<-release
		return nil
	})
	var arrived atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived.Add(1)
		h.ServeHTTP(w, r)
	}))
	defer srv.Close()

	const n = 8
	codes := make(chan int, n)
	for range n {
		go func() {
			resp, err := http.PostForm(srv.URL, url.Values{"api_version": {"1.3"}, "notification_token": {"mine"}})
			if err != nil {
				codes <- 0
				return
			}
			resp.Body.Close()
			codes <- resp.StatusCode
		}()
	}
	require.Eventually(t, func() bool { return arrived.Load() == n && calls.Load() >= 1 }, 10*time.Second, time.Millisecond)
	// All n are in; while the first callback is held, no duplicate may look
	// the token up or start a callback of its own.
	assert.Never(t, func() bool { return calls.Load() > 1 }, 100*time.Millisecond, time.Millisecond, "a duplicate ran the callback while the first was running")
	assert.Equal(t, int32(1), lookups.Load(), "the duplicates waited instead of asking Khipu")
	free()
	for range n {
		assert.Equal(t, http.StatusOK, <-codes, "each duplicate gets the first one's answer")
	}
	assert.Equal(t, int32(1), maxRunning.Load(), "the callback never ran twice at once for one token")
}

func TestParseNotificationLeavesTheFormReadable(t *testing.T) {
	c, _ := notifyKhipu(t, map[string]string{"mine": notifyPayment("12345", "done", "order-1", "1000", "CLP")})
	r := httptest.NewRequest(http.MethodPost, "/notify?shop=1", strings.NewReader("api_version=1.3&notification_token=mine"))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	n, err := khipu.ParseNotification(r)
	require.NoError(t, err)
	assert.Equal(t, "mine", n.Token)

	// What the body held is where ParseForm puts it.
	assert.Equal(t, "mine", r.PostFormValue("notification_token"))
	assert.Equal(t, "1", r.FormValue("shop"), "the query is in r.Form too")
	p, err := c.VerifyNotification(context.Background(), r)
	require.NoError(t, err, "a parsed request can still be verified")
	assert.Equal(t, "abc123def456", p.PaymentID)
}

func TestACallbackThatPanicsDoesNotBlockItsToken(t *testing.T) {
	c, _ := notifyKhipu(t, map[string]string{"mine": notifyPayment("12345", "done", "order-1", "1000", "CLP")})
	var panicking atomic.Bool
	panicking.Store(true)
	h := c.NotificationHandler(func(ctx context.Context, p *khipu.Payment) error {
		if panicking.Load() {
			panic("bug in the shop")
		}
		return nil
	})
	post := func() {
		h.ServeHTTP(httptest.NewRecorder(), notificationRequest("api_version=1.3&notification_token=mine"))
	}
	require.PanicsWithValue(t, "bug in the shop", post, "the panic is the shop's, and net/http's to recover")

	// Khipu's next attempt, once the bug is fixed, is processed: the token
	// was freed, not left held by the call that panicked.
	panicking.Store(false)
	done := make(chan int, 1)
	go func() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, notificationRequest("api_version=1.3&notification_token=mine"))
		done <- rec.Code
	}()
	select {
	case code := <-done:
		assert.Equal(t, http.StatusOK, code)
	case <-time.After(10 * time.Second):
		t.Fatal("the token is still held by the call that panicked")
	}
}

func TestPaymentCheckAcceptsOnlyKnownGoodStatusDetails(t *testing.T) {
	for detail, ok := range map[khipu.StatusDetail]bool{
		khipu.StatusDetailNormal:               true,
		khipu.StatusDetailMarkedPaidByReceiver: true,
		"":                                     true, // not sent: status done decides
		khipu.StatusDetailReversed:             false,
		khipu.StatusDetailMarkedAsAbuse:        false,
		khipu.StatusDetailRejectedByPayer:      false,
		khipu.StatusDetailPending:              false,
		"chargeback":                           false, // unknown to this library: not delivered
	} {
		p := khipu.Payment{Status: khipu.StatusDone, StatusDetail: detail, TransactionID: "o-1", Amount: khipu.NewAmount(10), Currency: "CLP"}
		err := p.Check("o-1", khipu.NewAmount(10), "CLP")
		if ok {
			assert.NoError(t, err, "status_detail %q", detail)
			continue
		}
		var me *khipu.MismatchError
		require.ErrorAs(t, err, &me, "status_detail %q", detail)
		assert.Equal(t, "status_detail", me.Field)
		assert.Equal(t, string(detail), me.Got)
	}

	// An order without a currency matches nothing, not even a payment
	// without one.
	for _, currency := range []string{"CLP", ""} {
		p := khipu.Payment{Status: khipu.StatusDone, StatusDetail: khipu.StatusDetailNormal, TransactionID: "o-1", Amount: khipu.NewAmount(10), Currency: currency}
		var me *khipu.MismatchError
		require.ErrorAs(t, p.Check("o-1", khipu.NewAmount(10), ""), &me, "payment currency %q", currency)
		assert.Equal(t, "currency", me.Field)
	}
}

func TestNotificationHandlerAnswers500ForEveryErrorOfFnAMismatchIncluded(t *testing.T) {
	c, _ := notifyKhipu(t, map[string]string{"other-order": notifyPayment("12345", "done", "order-2", "1000", "CLP")})
	var logs logBuffer
	for name, fn := range map[string]func(context.Context, *khipu.Payment) error{
		"Check's error": func(ctx context.Context, p *khipu.Payment) error {
			return p.Check("order-1", khipu.NewAmount(1000), "CLP")
		},
		// A shop that records the mismatch and fails to write it: the
		// record must not be lost, so Khipu must notify again.
		"Check's error joined with a database's": func(ctx context.Context, p *khipu.Payment) error {
			return errors.Join(p.Check("order-1", khipu.NewAmount(1000), "CLP"), errors.New("recording the mismatch: database down"))
		},
		"a wrapped MismatchError": func(ctx context.Context, p *khipu.Payment) error {
			return fmt.Errorf("order 1: %w", &khipu.MismatchError{Field: "amount", Want: "1000", Got: "999"})
		},
	} {
		h := c.NotificationHandler(fn, khipu.WithHandlerLogger(slog.New(slog.NewJSONHandler(&logs, nil))))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, notificationRequest("api_version=1.3&notification_token=other-order"))
		assert.Equal(t, http.StatusInternalServerError, rec.Code, name)
		recs := logs.take(t)
		if assert.Len(t, recs, 1, name) {
			assert.Equal(t, "ERROR", recs[0].Level, name)
			assert.Equal(t, "abc123def456", recs[0].PaymentID, name)
		}
	}
}

func TestNotificationHandlerLogsToItsHandlerLoggerRatherThanTheClients(t *testing.T) {
	var clientLogs, handlerLogs logBuffer
	c, _ := notifyKhipu(t, map[string]string{})
	c2, err := khipu.NewClient(testReceiverID, testSecret, khipu.WithLogger(slog.New(slog.NewJSONHandler(&clientLogs, nil))))
	require.NoError(t, err)
	for _, client := range []*khipu.Client{c, c2} {
		h := client.NotificationHandler(func(context.Context, *khipu.Payment) error { return nil },
			nil, khipu.WithHandlerLogger(slog.New(slog.NewJSONHandler(&handlerLogs, nil))))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/notify", nil))
		assert.Equal(t, http.StatusMethodNotAllowed, rec.Code)
	}
	assert.Len(t, handlerLogs.take(t), 2)
	assert.Empty(t, clientLogs.String())

	// Without the option, or with a nil logger (as its godoc says), the
	// client's logger is the default.
	for _, opts := range [][]khipu.HandlerOption{nil, {khipu.WithHandlerLogger(nil)}} {
		h := c2.NotificationHandler(func(context.Context, *khipu.Payment) error { return nil }, opts...)
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/notify", nil))
		assert.Len(t, clientLogs.take(t), 1, "%d options", len(opts))
	}
}

func TestDuplicatesWaitingForACallbackThatPanicsAreAnswered500(t *testing.T) {
	c, lookups := notifyKhipu(t, map[string]string{"mine": notifyPayment("12345", "done", "order-1", "1000", "CLP")})
	release := make(chan struct{})
	var once sync.Once
	free := func() { once.Do(func() { close(release) }) }
	t.Cleanup(free)
	var logs logBuffer
	h := c.NotificationHandler(func(ctx context.Context, p *khipu.Payment) error {
		<-release
		panic("bug in the shop")
	}, khipu.WithHandlerLogger(slog.New(slog.NewJSONHandler(&logs, nil))))

	// Four deliveries of one token: whichever comes first runs fn, which
	// panics; the three others wait for it.
	type result struct {
		code     int
		panicked any
	}
	const deliveries = 4
	results := make(chan result, deliveries)
	for range deliveries {
		go func() {
			rec := httptest.NewRecorder()
			defer func() {
				if p := recover(); p != nil {
					results <- result{panicked: p}
				}
			}()
			h.ServeHTTP(rec, notificationRequest("api_version=1.3&notification_token=mine"))
			results <- result{code: rec.Code}
		}()
	}
	require.Eventually(t, func() bool { return khipu.NotificationWaiters(h, "mine") == deliveries }, 10*time.Second, time.Millisecond,
		"the duplicates wait for the first delivery")
	free()
	var panics, codes []any
	for range deliveries {
		select {
		case r := <-results:
			if r.panicked != nil {
				panics = append(panics, r.panicked)
			} else {
				codes = append(codes, r.code)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("a delivery was not answered")
		}
	}
	assert.Equal(t, []any{"bug in the shop"}, panics, "the first delivery's panic goes on to net/http")
	assert.Equal(t, []any{500, 500, 500}, codes, "a duplicate of a delivery that panicked is not a success")
	const duplicates = deliveries - 1
	assert.EqualValues(t, 1, lookups.Load(), "the duplicates did not look the token up")
	recs := logs.take(t)
	require.Len(t, recs, duplicates, "each duplicate's failure is logged")
	for _, r := range recs {
		assert.Equal(t, "ERROR", r.Level)
		assert.Contains(t, r.Error, "panicked")
	}
	assert.Zero(t, khipu.NotificationWaiters(h, "mine"), "the token is freed")
}
