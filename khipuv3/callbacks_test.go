package khipuv3_test

// The two unsigned callbacks of automatic payments: a subscription's status
// is confirmed with Khipu (a loopback fake) before the shop's function sees
// it; a charge error report is handed over, logged, never trusted.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/iotest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/khipu-go/khipu"
	"github.com/khipu-go/khipu/khipuv3"
)

const formType = "application/x-www-form-urlencoded"

// slogAtInfo logs, as JSON, to buf from info level up: the handlers'
// records, without the client's debug records of its requests.
func slogAtInfo(buf *syncBuffer) *slog.Logger {
	return slog.New(slog.NewJSONHandler(buf, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

// callback is a POST of body to a shop's callback URL.
func callback(body, contentType string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "https://shop.example/khipu/subscription", strings.NewReader(body))
	if contentType != "" {
		r.Header.Set("Content-Type", contentType)
	}
	r.RemoteAddr = "203.0.113.7:41000"
	return r
}

// khipuSays makes the fake answer Subscriptions.Get for subscriptionID with
// status (and customer_bank_code 8, which no callback carries).
func khipuSays(f *fake, status string) {
	f.on("GET /v1/automatic-payment/subscription/"+subscriptionID, 200, []byte(
		`{"subscription_id":"`+subscriptionID+`","status":"`+status+`","developer":false,"customer_bank_code":8,"service_reference":"Plan 12"}`))
}

// padded is body followed by spaces up to n bytes.
func padded(body string, n int) string { return body + strings.Repeat(" ", n-len(body)) }

func TestParseSubscriptionCallback(t *testing.T) {
	valid := map[string]struct{ body, contentType, status string }{
		"JSON":                     {`{"subscription_id":"` + subscriptionID + `","status":"enabled"}`, "application/json", "ENABLED"},
		"JSON without a type":      {`{"subscription_id":"` + subscriptionID + `","status":"disabled","extra":1}`, "", "DISABLED"},
		"form":                     {"subscription_id=" + subscriptionID + "&status=enabled", formType, "ENABLED"},
		"form with a charset":      {"status=SIGNED&subscription_id=" + subscriptionID, formType + "; charset=UTF-8", "SIGNED"},
		"JSON padded to the limit": {padded(`{"subscription_id":"`+subscriptionID+`","status":"enabled"}`, 64<<10), "application/json", "ENABLED"},
	}
	for name, tc := range valid {
		t.Run(name, func(t *testing.T) {
			cb, err := khipuv3.ParseSubscriptionCallback(callback(tc.body, tc.contentType))
			require.NoError(t, err)
			assert.Equal(t, &khipuv3.SubscriptionCallback{SubscriptionID: subscriptionID, Status: khipuv3.SubscriptionStatus(tc.status)}, cb)
		})
	}
	malformed := map[string]struct{ body, contentType string }{
		"empty":                 {"", "application/json"},
		"not JSON":              {"{", "application/json"},
		"a JSON list":           {`[{"subscription_id":"x"}]`, "application/json"},
		"id a number":           {`{"subscription_id":42,"status":"enabled"}`, "application/json"},
		"no id":                 {`{"status":"enabled"}`, "application/json"},
		"an id that is a path":  {`{"subscription_id":"../x","status":"enabled"}`, "application/json"},
		"no status":             {`{"subscription_id":"` + subscriptionID + `"}`, "application/json"},
		"an empty status":       {`{"subscription_id":"` + subscriptionID + `","status":""}`, "application/json"},
		"a status not a string": {`{"subscription_id":"` + subscriptionID + `","status":1}`, "application/json"},
		"form without id":       {"status=enabled", formType},
		"form without status":   {"subscription_id=" + subscriptionID, formType},
		"malformed form":        {"subscription_id=%zz&status=enabled", formType},
		"JSON sent as a form":   {`{"subscription_id":"` + subscriptionID + `","status":"enabled"}`, formType},
		"too large":             {padded(`{"subscription_id":"`+subscriptionID+`","status":"enabled"}`, 64<<10+1), "application/json"},
	}
	for name, tc := range malformed {
		t.Run(name, func(t *testing.T) {
			_, err := khipuv3.ParseSubscriptionCallback(callback(tc.body, tc.contentType))
			require.ErrorIs(t, err, khipu.ErrInvalidNotification)
			assert.NotRegexp(t, `Go (value|struct)|khipuv3\.`, err.Error())
		})
	}
	t.Run("a body that breaks off", func(t *testing.T) {
		r := callback("", "application/json")
		r.Body = io.NopCloser(io.MultiReader(strings.NewReader(`{"subscription_id":`), iotest.ErrReader(io.ErrUnexpectedEOF)))
		_, err := khipuv3.ParseSubscriptionCallback(r)
		require.ErrorIs(t, err, khipu.ErrInvalidNotification)
		assert.Contains(t, err.Error(), "reading body")
	})
	t.Run("no body at all", func(t *testing.T) {
		r := callback("", "")
		r.Body = nil
		_, err := khipuv3.ParseSubscriptionCallback(r)
		require.ErrorIs(t, err, khipu.ErrInvalidNotification)
	})
}

func TestVerifyCallbackConfirmsWithKhipu(t *testing.T) {
	ctx := context.Background()
	t.Run("genuine: Khipu's subscription", func(t *testing.T) {
		f, c := setup(t)
		khipuSays(f, "ENABLED")
		sub, err := c.Subscriptions.VerifyCallback(ctx, callback(`{"subscription_id":"`+subscriptionID+`","status":"enabled"}`, "application/json"))
		require.NoError(t, err)
		assert.Equal(t, &khipuv3.Subscription{SubscriptionID: subscriptionID, Status: khipuv3.SubscriptionEnabled,
			CustomerBankCode: "8", ServiceReference: "Plan 12"}, sub)
		require.Equal(t, 1, f.count())
		assert.Equal(t, []string{testAPIKey}, f.requests()[0].Header.Values("x-api-key"))
	})
	t.Run("contradicted", func(t *testing.T) {
		f, c := setup(t)
		khipuSays(f, "DISABLED")
		sub, err := c.Subscriptions.VerifyCallback(ctx, callback(`{"subscription_id":"`+subscriptionID+`","status":"enabled"}`, "application/json"))
		require.ErrorIs(t, err, khipuv3.ErrCallbackContradicted)
		assert.Nil(t, sub)
		assert.Contains(t, err.Error(), "DISABLED at Khipu")
	})
	t.Run("unknown to Khipu", func(t *testing.T) {
		f, c := setup(t)
		f.on("GET /v1/automatic-payment/subscription/{id}", 404, []byte(`{"message":"Subscription not found"}`))
		_, err := c.Subscriptions.VerifyCallback(ctx, callback(`{"subscription_id":"`+subscriptionID+`","status":"enabled"}`, "application/json"))
		var nf *khipu.NotFoundError
		require.ErrorAs(t, err, &nf)
	})
	t.Run("malformed: Khipu is not asked", func(t *testing.T) {
		f, c := setup(t)
		_, err := c.Subscriptions.VerifyCallback(ctx, callback(`{"subscription_id":"a/b","status":"enabled"}`, "application/json"))
		require.ErrorIs(t, err, khipu.ErrInvalidNotification)
		assert.Zero(t, f.count())
	})
}

// handled is what a callback handler answered and logged, and what its
// function was given.
type handled struct {
	code    int
	allow   string
	calls   int
	logs    []logRecord
	khipuGs int // requests the fake Khipu received
}

func TestCallbackHandler(t *testing.T) {
	genuine := `{"subscription_id":"` + subscriptionID + `","status":"enabled"}`
	run := func(t *testing.T, khipu func(f *fake), r *http.Request, fnErr error) (handled, *khipuv3.Subscription) {
		t.Helper()
		var buf, clientLog syncBuffer
		f, c := setup(t, khipuv3.WithLogger(debugLogger(&clientLog)))
		khipu(f)
		var (
			got   *khipuv3.Subscription
			calls int
		)
		h := c.Subscriptions.CallbackHandler(func(ctx context.Context, sub *khipuv3.Subscription) error {
			calls++
			got = sub
			deadline, ok := ctx.Deadline()
			assert.True(t, ok, "fn's context has a deadline")
			assert.WithinDuration(t, time.Now().Add(20*time.Second), deadline, 2*time.Second)
			return fnErr
		}, khipuv3.WithHandlerLogger(slogAtInfo(&buf)))
		defer func() {
			for _, r := range records(t, &clientLog) {
				assert.Equal(t, "khipu request", r.Msg, "the client's logger gets only its requests")
			}
		}()
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return handled{code: w.Code, allow: w.Header().Get("Allow"), calls: calls, logs: records(t, &buf), khipuGs: f.count()}, got
	}

	t.Run("genuine: fn gets Khipu's subscription, 200", func(t *testing.T) {
		res, sub := run(t, func(f *fake) { khipuSays(f, "ENABLED") }, callback(genuine, "application/json"), nil)
		assert.Equal(t, http.StatusOK, res.code)
		assert.Equal(t, 1, res.calls)
		assert.Equal(t, &khipuv3.Subscription{SubscriptionID: subscriptionID, Status: khipuv3.SubscriptionEnabled,
			CustomerBankCode: "8", ServiceReference: "Plan 12"}, sub)
		assert.Empty(t, res.logs, "nothing to report")
	})
	t.Run("genuine form callback", func(t *testing.T) {
		res, sub := run(t, func(f *fake) { khipuSays(f, "DISABLED") }, callback("subscription_id="+subscriptionID+"&status=disabled", formType), nil)
		assert.Equal(t, http.StatusOK, res.code)
		assert.Equal(t, khipuv3.SubscriptionDisabled, sub.Status)
	})
	t.Run("forged: Khipu contradicts it, 409, fn not called", func(t *testing.T) {
		res, _ := run(t, func(f *fake) { khipuSays(f, "DISABLED") }, callback(genuine, "application/json"), nil)
		assert.Equal(t, http.StatusConflict, res.code)
		assert.Zero(t, res.calls)
		require.Len(t, res.logs, 1)
		assert.Equal(t, "WARN", res.logs[0].Level)
		assert.Equal(t, "khipu subscription callback refused", res.logs[0].Msg)
		assert.Equal(t, 409, res.logs[0].Status)
		assert.Contains(t, res.logs[0].Error, "is DISABLED at Khipu")
	})
	t.Run("unknown to Khipu: 400", func(t *testing.T) {
		res, _ := run(t, func(f *fake) {
			f.on("GET /v1/automatic-payment/subscription/{id}", 404, []byte(`{"message":"Subscription not found"}`))
		}, callback(genuine, "application/json"), nil)
		assert.Equal(t, http.StatusBadRequest, res.code)
		assert.Zero(t, res.calls)
		require.Len(t, res.logs, 1)
		assert.Equal(t, "WARN", res.logs[0].Level)
		assert.Equal(t, 400, res.logs[0].Status)
		assert.Contains(t, res.logs[0].Error, "Subscription not found")
	})
	t.Run("Khipu unavailable: 503, so that Khipu retries", func(t *testing.T) {
		res, _ := run(t, func(f *fake) {
			f.on("GET /v1/automatic-payment/subscription/{id}", 503, []byte(`{"message":"Servicio no disponible"}`))
		}, callback(genuine, "application/json"), nil)
		assert.Equal(t, http.StatusServiceUnavailable, res.code)
		assert.Zero(t, res.calls)
		// The client retries reads twice (setup's policy); a callback's
		// lookup is made once: Khipu retries the callback.
		assert.Equal(t, 1, res.khipuGs, "the lookup was not retried")
		require.Len(t, res.logs, 1)
		assert.Equal(t, "ERROR", res.logs[0].Level)
		assert.Equal(t, 503, res.logs[0].Status)
	})
	t.Run("fn fails: 500", func(t *testing.T) {
		res, _ := run(t, func(f *fake) { khipuSays(f, "ENABLED") }, callback(genuine, "application/json"), errors.New("database is down"))
		assert.Equal(t, http.StatusInternalServerError, res.code)
		assert.Equal(t, 1, res.calls)
		require.Len(t, res.logs, 1)
		assert.Equal(t, "ERROR", res.logs[0].Level)
		assert.Equal(t, 500, res.logs[0].Status)
		assert.Equal(t, "database is down", res.logs[0].Error)
	})
	t.Run("fn's error holds a MismatchError: 500 like any error", func(t *testing.T) {
		// Issue 17, item 1: a mismatch that the shop failed to record
		// must be delivered again.
		mismatch := errors.Join(&khipu.MismatchError{Field: "status", Want: "ENABLED", Got: "DISABLED"}, errors.New("recording it: database is down"))
		res, _ := run(t, func(f *fake) { khipuSays(f, "ENABLED") }, callback(genuine, "application/json"), fmt.Errorf("plan 12: %w", mismatch))
		assert.Equal(t, http.StatusInternalServerError, res.code)
		require.Len(t, res.logs, 1)
		assert.Equal(t, "ERROR", res.logs[0].Level)
		assert.Equal(t, 500, res.logs[0].Status)
	})
	t.Run("malformed: 400 without asking Khipu", func(t *testing.T) {
		for _, body := range []string{`{"status":"enabled"}`, `{"subscription_id":"` + subscriptionID + `"}`, "not json"} {
			res, _ := run(t, func(f *fake) { khipuSays(f, "ENABLED") }, callback(body, "application/json"), nil)
			assert.Equal(t, http.StatusBadRequest, res.code, body)
			assert.Zero(t, res.calls, body)
			assert.Zero(t, res.khipuGs, body)
			require.Len(t, res.logs, 1, body)
			assert.Equal(t, "WARN", res.logs[0].Level, body)
		}
	})
	t.Run("not a POST: 405", func(t *testing.T) {
		for _, method := range []string{http.MethodGet, http.MethodPut, http.MethodHead} {
			r := httptest.NewRequest(method, "https://shop.example/khipu/subscription", nil)
			res, _ := run(t, func(f *fake) { khipuSays(f, "ENABLED") }, r, nil)
			assert.Equal(t, http.StatusMethodNotAllowed, res.code, method)
			assert.Equal(t, http.MethodPost, res.allow, method)
			assert.Zero(t, res.calls, method)
			assert.Zero(t, res.khipuGs, method)
			require.Len(t, res.logs, 1, method)
			assert.Equal(t, method, res.logs[0].Method)
		}
	})
	t.Run("a nil fn panics", func(t *testing.T) {
		_, c := setup(t)
		assert.Panics(t, func() { c.Subscriptions.CallbackHandler(nil) })
	})
	t.Run("without WithHandlerLogger, refusals go to slog.Default, not to the client's logger", func(t *testing.T) {
		var buf, clientLog syncBuffer
		prev := slog.Default()
		t.Cleanup(func() { slog.SetDefault(prev) })
		slog.SetDefault(slogAtInfo(&buf))
		f, c := setup(t, khipuv3.WithLogger(debugLogger(&clientLog)))
		khipuSays(f, "DISABLED")
		w := httptest.NewRecorder()
		c.Subscriptions.CallbackHandler(func(context.Context, *khipuv3.Subscription) error { return nil }).
			ServeHTTP(w, callback(genuine, "application/json"))
		assert.Equal(t, http.StatusConflict, w.Code)
		logs := records(t, &buf)
		require.Len(t, logs, 1)
		assert.Equal(t, 409, logs[0].Status)
		for _, r := range records(t, &clientLog) {
			assert.Equal(t, "khipu request", r.Msg, "the client's logger gets only its requests")
		}
	})
}

func TestChargeErrorHandler(t *testing.T) {
	report := `{"subscription_id":"` + subscriptionID + `","transaction_id":"charge-2026-03","error_message":"Fondos insuficientes"}`
	run := func(t *testing.T, r *http.Request, fnErr error) (handled, *khipuv3.ChargeErrorReport) {
		t.Helper()
		var buf syncBuffer
		f, c := setup(t)
		var (
			got   *khipuv3.ChargeErrorReport
			calls int
		)
		h := c.Charges.ErrorHandler(func(ctx context.Context, rep *khipuv3.ChargeErrorReport) error {
			calls++
			got = rep
			return fnErr
		}, khipuv3.WithHandlerLogger(slogAtInfo(&buf)))
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return handled{code: w.Code, allow: w.Header().Get("Allow"), calls: calls, logs: records(t, &buf), khipuGs: f.count()}, got
	}
	want := &khipuv3.ChargeErrorReport{SubscriptionID: subscriptionID, TransactionID: "charge-2026-03", ErrorMessage: "Fondos insuficientes"}

	t.Run("a report reaches fn and is logged at warn", func(t *testing.T) {
		for name, r := range map[string]*http.Request{
			"JSON": callback(report, "application/json"),
			"form": callback("subscription_id="+subscriptionID+"&transaction_id=charge-2026-03&error_message=Fondos+insuficientes", formType),
		} {
			res, got := run(t, r, nil)
			assert.Equal(t, http.StatusOK, res.code, name)
			assert.Equal(t, want, got, name)
			assert.Zero(t, res.khipuGs, "%s: nothing to ask Khipu", name)
			require.Len(t, res.logs, 1, name)
			assert.Equal(t, logRecord{Level: "WARN", Msg: "khipu reported a failed charge (unauthenticated; reconcile it)",
				SubscriptionID: subscriptionID, TransactionID: "charge-2026-03", ErrorMessage: "Fondos insuficientes"}, res.logs[0], name)
		}
	})
	t.Run("malformed: 400, fn not called", func(t *testing.T) {
		for _, body := range []string{"", "{", `{"error_message":"x"}`, `{"subscription_id":1}`, `[]`,
			`{"transaction_id":"t","error_message":"` + strings.Repeat("x", 64<<10) + `"}`} {
			res, _ := run(t, callback(body, "application/json"), nil)
			assert.Equal(t, http.StatusBadRequest, res.code, "%.40s", body)
			assert.Zero(t, res.calls)
			require.Len(t, res.logs, 1)
			assert.Equal(t, "khipu charge error report refused", res.logs[0].Msg)
			assert.Equal(t, 400, res.logs[0].Status)
		}
	})
	t.Run("only one of the ids is enough", func(t *testing.T) {
		rep, err := khipuv3.ParseChargeErrorReport(callback(`{"transaction_id":"charge-2026-03"}`, "application/json"))
		require.NoError(t, err)
		assert.Equal(t, &khipuv3.ChargeErrorReport{TransactionID: "charge-2026-03"}, rep)
	})
	t.Run("fn fails: 500", func(t *testing.T) {
		res, _ := run(t, callback(report, "application/json"), errors.New("queue full"))
		assert.Equal(t, http.StatusInternalServerError, res.code)
		assert.Equal(t, 1, res.calls)
		require.Len(t, res.logs, 2)
		assert.Equal(t, "WARN", res.logs[0].Level, "the report")
		assert.Equal(t, "ERROR", res.logs[1].Level)
		assert.Equal(t, "queue full", res.logs[1].Error)
	})
	t.Run("fn's error holds a MismatchError: 500 like any error", func(t *testing.T) {
		mismatch := errors.Join(&khipu.MismatchError{Field: "transaction_id", Want: "charge-2026-03", Got: "charge-2026-02"}, errors.New("queue full"))
		res, _ := run(t, callback(report, "application/json"), mismatch)
		assert.Equal(t, http.StatusInternalServerError, res.code)
		require.Len(t, res.logs, 2)
		assert.Equal(t, "ERROR", res.logs[1].Level)
		assert.Equal(t, 500, res.logs[1].Status)
	})
	t.Run("not a POST: 405", func(t *testing.T) {
		res, _ := run(t, httptest.NewRequest(http.MethodGet, "https://shop.example/khipu/charge-error", nil), nil)
		assert.Equal(t, http.StatusMethodNotAllowed, res.code)
		assert.Equal(t, http.MethodPost, res.allow)
		assert.Zero(t, res.calls)
	})
	t.Run("a nil fn panics", func(t *testing.T) {
		_, c := setup(t)
		assert.Panics(t, func() { c.Charges.ErrorHandler(nil) })
	})
	t.Run("without WithHandlerLogger, reports go to slog.Default, not to the client's logger", func(t *testing.T) {
		var buf, clientLog syncBuffer
		prev := slog.Default()
		t.Cleanup(func() { slog.SetDefault(prev) })
		slog.SetDefault(slogAtInfo(&buf))
		_, c := setup(t, khipuv3.WithLogger(debugLogger(&clientLog)))
		w := httptest.NewRecorder()
		c.Charges.ErrorHandler(func(context.Context, *khipuv3.ChargeErrorReport) error { return errors.New("queue full") }).
			ServeHTTP(w, callback(report, "application/json"))
		assert.Equal(t, http.StatusInternalServerError, w.Code)
		logs := records(t, &buf)
		require.Len(t, logs, 2, "the report and fn's error")
		assert.Equal(t, "WARN", logs[0].Level)
		assert.Equal(t, "ERROR", logs[1].Level)
		assert.Empty(t, clientLog.String(), "the client's logger gets only its requests, and there were none")
	})
}

// TestCallbackHandlerOverTheNetwork runs the handler as a shop serves it,
// with Khipu and the shop both on loopback, and concurrent callbacks.
func TestCallbackHandlerOverTheNetwork(t *testing.T) {
	f, c := setup(t)
	khipuSays(f, "ENABLED")
	var calls atomic.Int32
	shop := httptest.NewServer(c.Subscriptions.CallbackHandler(func(ctx context.Context, sub *khipuv3.Subscription) error {
		calls.Add(1)
		return nil
	}))
	t.Cleanup(shop.Close)
	const n = 8
	codes := make(chan int, n)
	for range n {
		go func() {
			resp, err := http.Post(shop.URL, "application/json", strings.NewReader(`{"subscription_id":"`+subscriptionID+`","status":"enabled"}`))
			if !assert.NoError(t, err) {
				codes <- 0
				return
			}
			resp.Body.Close()
			codes <- resp.StatusCode
		}()
	}
	for range n {
		assert.Equal(t, http.StatusOK, within(t, codes))
	}
	assert.Equal(t, int32(n), calls.Load())
	assert.Equal(t, n, f.count(), "each callback was confirmed with Khipu")
}

func TestCallbackParsersRefuseANilRequest(t *testing.T) {
	_, err := khipuv3.ParseSubscriptionCallback(nil)
	assert.ErrorIs(t, err, khipu.ErrInvalidNotification)
	_, err = khipuv3.ParseChargeErrorReport(nil)
	assert.ErrorIs(t, err, khipu.ErrInvalidNotification)
}

// Item 5 of issue 17: two callbacks of one subscription used to reach fn at
// once, so that the answer of an older lookup could be recorded last
// ([DISABLED ENABLED] while Khipu says DISABLED).
func TestCallbackHandlerConfirmsTheCallbacksOfASubscriptionOneAtATime(t *testing.T) {
	f, c := setup(t)
	firstLookup, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	free := func() { once.Do(func() { close(release) }) }
	t.Cleanup(free)
	var lookups, inFlight, maxInFlight atomic.Int32
	f.mux.HandleFunc("GET /v1/automatic-payment/subscription/{id}", func(w http.ResponseWriter, r *http.Request) {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for m := maxInFlight.Load(); n > m && !maxInFlight.CompareAndSwap(m, n); m = maxInFlight.Load() {
		}
		status := "DISABLED" // what Khipu says by the time of any later lookup
		if lookups.Add(1) == 1 {
			close(firstLookup)
			select { // Khipu is slow to answer the first: ENABLED, then
			case <-release:
			case <-time.After(10 * time.Second):
			}
			status = "ENABLED"
		}
		respond(w, 200, []byte(`{"subscription_id":"`+subscriptionID+`","status":"`+status+`"}`))
	})
	var (
		mu       sync.Mutex
		recorded []khipuv3.SubscriptionStatus
	)
	h := c.Subscriptions.CallbackHandler(func(ctx context.Context, sub *khipuv3.Subscription) error {
		mu.Lock()
		defer mu.Unlock()
		recorded = append(recorded, sub.Status)
		return nil
	}, khipuv3.WithHandlerLogger(slog.New(slog.DiscardHandler)))
	send := func(status string) <-chan int {
		code := make(chan int, 1)
		go func() {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, callback(`{"subscription_id":"`+subscriptionID+`","status":"`+status+`"}`, "application/json"))
			code <- w.Code
		}()
		return code
	}

	enabled := send("enabled")
	within(t, firstLookup)
	disabled := send("disabled")
	// The second callback waits for the first (or, without serialization,
	// is answered before the first's lookup ends).
	require.Eventually(t, func() bool {
		return khipuv3.CallbackWaiters(h, subscriptionID) == 2 || len(disabled) == 1
	}, 10*time.Second, time.Millisecond)
	free()
	assert.Equal(t, http.StatusOK, within(t, enabled))
	assert.Equal(t, http.StatusOK, within(t, disabled))

	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, []khipuv3.SubscriptionStatus{khipuv3.SubscriptionEnabled, khipuv3.SubscriptionDisabled}, recorded,
		"the last status recorded is Khipu's last answer")
	assert.EqualValues(t, 1, maxInFlight.Load(), "one lookup of the subscription at a time")
	assert.EqualValues(t, 2, lookups.Load())
	assert.Zero(t, khipuv3.CallbackWaiters(h, subscriptionID))
}

// Item 5 of issue 17: every forged callback costs a call to Khipu, so a
// flood of them is bounded: past MaxCallbackLookups lookups in flight, a
// callback is answered 503 with Retry-After at once, and Khipu is not
// asked.
func TestCallbackHandlerBoundsItsLookupsInFlight(t *testing.T) {
	f, c := setup(t)
	release := make(chan struct{})
	var once sync.Once
	free := func() { once.Do(func() { close(release) }) }
	t.Cleanup(free)
	var lookups atomic.Int32
	f.mux.HandleFunc("GET /v1/automatic-payment/subscription/{id}", func(w http.ResponseWriter, r *http.Request) {
		lookups.Add(1)
		select {
		case <-release:
		case <-time.After(10 * time.Second):
		}
		respond(w, 200, []byte(`{"subscription_id":"`+r.PathValue("id")+`","status":"ENABLED"}`))
	})
	var logs syncBuffer
	h := c.Subscriptions.CallbackHandler(func(context.Context, *khipuv3.Subscription) error { return nil },
		khipuv3.WithHandlerLogger(slogAtInfo(&logs)))
	post := func(id string) *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, callback(`{"subscription_id":"`+id+`","status":"enabled"}`, "application/json"))
		return w
	}

	answers := make(chan int, khipuv3.MaxCallbackLookups)
	for i := range khipuv3.MaxCallbackLookups {
		go func() { answers <- post(fmt.Sprintf("sub-%d", i)).Code }()
	}
	require.Eventually(t, func() bool { return lookups.Load() == khipuv3.MaxCallbackLookups }, 10*time.Second, time.Millisecond)

	over := post("sub-over-the-bound")
	assert.Equal(t, http.StatusServiceUnavailable, over.Code)
	assert.Equal(t, "10", over.Header().Get("Retry-After"))
	assert.EqualValues(t, khipuv3.MaxCallbackLookups, lookups.Load(), "Khipu was not asked")
	recs := records(t, &logs)
	require.Len(t, recs, 1)
	assert.Equal(t, "ERROR", recs[0].Level)
	assert.Equal(t, "sub-over-the-bound", recs[0].SubscriptionID)
	assert.Contains(t, recs[0].Error, "in flight")

	free()
	for range khipuv3.MaxCallbackLookups {
		assert.Equal(t, http.StatusOK, within(t, answers))
	}
	assert.Equal(t, http.StatusOK, post("sub-after").Code, "a slot is free again")
}

// Item 5 of issue 17: one unauthenticated POST with a 60 KiB error_message
// wrote all of it to the log.
func TestChargeErrorHandlerLogsAtMostAKiBOfTheMessageOnOneLine(t *testing.T) {
	_, c := setup(t)
	var logs syncBuffer
	got := make(chan *khipuv3.ChargeErrorReport, 1)
	h := c.Charges.ErrorHandler(func(ctx context.Context, rep *khipuv3.ChargeErrorReport) error {
		got <- rep
		return nil
	}, khipuv3.WithHandlerLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	message := strings.Repeat("Fondos insuficientes\nlevel=ERROR msg=forged ñ", 1300) // 58 KiB, newlines included
	body, err := json.Marshal(map[string]string{"transaction_id": "charge-2026-03", "error_message": message})
	require.NoError(t, err)
	require.Less(t, len(body), 64<<10)

	w := httptest.NewRecorder()
	h.ServeHTTP(w, callback(string(body), "application/json"))
	require.Equal(t, http.StatusOK, w.Code)
	assert.Equal(t, message, within(t, got).ErrorMessage, "fn gets the whole report")
	logged := logs.String()
	assert.Equal(t, 1, strings.Count(logged, "\n"), "one line: %.300s", logged)
	assert.Less(t, len(logged), 2<<10, "at most 1 KiB of the message")
	assert.Contains(t, logged, `Fondos insuficientes\\nlevel=ERROR`)
	assert.Contains(t, logged, fmt.Sprintf("(%d bytes)", len(message)))
}
