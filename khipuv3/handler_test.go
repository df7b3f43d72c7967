package khipuv3

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/khipu-go/khipu"
	"github.com/khipu-go/khipu/internal/webhook"
)

func TestParseNotification(t *testing.T) {
	const maxBody = 1 << 20
	padded := func(size int) []byte {
		head := `{"payment_id":"abc","pad":"`
		return []byte(head + strings.Repeat("x", size-len(head)-2) + `"}`)
	}
	tests := []struct {
		name   string
		method string
		body   []byte
		want   error // nil: accepted
	}{
		{"accepts a signed notification", http.MethodPost, []byte(`{"payment_id":"abc","amount":"10.00","currency":"CLP"}`), nil},
		{"accepts a body of exactly 1 MiB", http.MethodPost, padded(maxBody), nil},
		{"refuses a body of 1 MiB and one byte, signed or not", http.MethodPost, padded(maxBody + 1), khipu.ErrInvalidNotification},
		{"refuses a GET", http.MethodGet, []byte(`{"payment_id":"abc"}`), khipu.ErrInvalidNotification},
		{"refuses a PUT", http.MethodPut, []byte(`{"payment_id":"abc"}`), khipu.ErrInvalidNotification},
		{"refuses an empty body", http.MethodPost, nil, khipu.ErrInvalidNotification},
		{"refuses JSON null", http.MethodPost, []byte(`null`), khipu.ErrInvalidNotification},
		{"refuses a JSON list", http.MethodPost, []byte(`[{"payment_id":"abc"}]`), khipu.ErrInvalidNotification},
		{"refuses a JSON string", http.MethodPost, []byte(`"abc"`), khipu.ErrInvalidNotification},
		{"refuses a form", http.MethodPost, []byte(`api_version=1.3&notification_token=abc`), khipu.ErrInvalidNotification},
		{"refuses an object without payment_id", http.MethodPost, []byte(`{"amount":"10.00"}`), khipu.ErrInvalidNotification},
		{"refuses an empty payment_id", http.MethodPost, []byte(`{"payment_id":""}`), khipu.ErrInvalidNotification},
		{"refuses a payment_id of the wrong type", http.MethodPost, []byte(`{"payment_id":["abc"]}`), khipu.ErrInvalidNotification},
		{"refuses an amount of the wrong type", http.MethodPost, []byte(`{"payment_id":"abc","amount":{"value":1}}`), khipu.ErrInvalidNotification},
		{"refuses truncated JSON", http.MethodPost, []byte(`{"payment_id":"abc"`), khipu.ErrInvalidNotification},
		{"refuses an object followed by more", http.MethodPost, []byte(`{"payment_id":"abc"}{"payment_id":"def"}`), khipu.ErrInvalidNotification},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := signedNotificationRequest(webhookTestSecret, time.Now(), tt.body)
			r.Method = tt.method
			n, err := ParseNotification(webhookTestSecret, r)
			if tt.want == nil {
				require.NoError(t, err)
				assert.Equal(t, "abc", n.PaymentID)
				assert.Equal(t, tt.body, []byte(n.Raw))
				again, err := io.ReadAll(r.Body)
				require.NoError(t, err)
				assert.Equal(t, tt.body, again, "r.Body can be read again")
				return
			}
			assert.Nil(t, n)
			assert.ErrorIs(t, err, tt.want)
			assert.NotErrorIs(t, err, ErrInvalidSignature)
			assert.NotContains(t, err.Error(), "payment_id\":", "the body is not quoted")
		})
	}
}

func TestParseNotificationRefusesBadSignatures(t *testing.T) {
	body := []byte(`{"payment_id":"abc"}`)
	now := time.Now()
	tests := []struct {
		name   string
		secret string
		header []string
		want   error
	}{
		{"refuses a missing header", webhookTestSecret, nil, ErrSignatureMissing},
		{"refuses a forged header", webhookTestSecret, []string{Sign("forger", now, body)}, ErrSignatureMismatch},
		{"refuses a header 73 hours old", webhookTestSecret, []string{Sign(webhookTestSecret, now.Add(-73*time.Hour), body)}, ErrSignatureExpired},
		{"refuses a header 73 hours ahead", webhookTestSecret, []string{Sign(webhookTestSecret, now.Add(73*time.Hour), body)}, ErrSignatureExpired},
		{"refuses a malformed header", webhookTestSecret, []string{"t=now"}, ErrSignatureMalformed},
		{"refuses an empty secret", "", []string{Sign("", now, body)}, nil},
		{"refuses a blank secret", "  ", []string{Sign("  ", now, body)}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/khipu/notify", bytes.NewReader(body))
			for _, h := range tt.header {
				r.Header.Add(SignatureHeader, h)
			}
			n, err := ParseNotification(tt.secret, r)
			assert.Nil(t, n)
			assertSignatureError(t, err, tt.want)
		})
	}
}

func TestParseNotificationReadsTheHeaderInAnyCaseAndOverSeveralLines(t *testing.T) {
	body := []byte(`{"payment_id":"abc"}`)
	header := Sign(webhookTestSecret, time.Now(), body)
	t.Run("X-Khipu-Signature", func(t *testing.T) {
		r := httptest.NewRequest(http.MethodPost, "/khipu/notify", bytes.NewReader(body))
		r.Header["X-Khipu-Signature"] = []string{header}
		_, err := ParseNotification(webhookTestSecret, r)
		assert.NoError(t, err)
	})
	t.Run("t and s on two lines", func(t *testing.T) {
		tPart, sPart, _ := strings.Cut(header, ",")
		r := httptest.NewRequest(http.MethodPost, "/khipu/notify", bytes.NewReader(body))
		r.Header.Add(SignatureHeader, sPart)
		r.Header.Add(SignatureHeader, tPart)
		_, err := ParseNotification(webhookTestSecret, r)
		assert.NoError(t, err)
	})
}

func TestParseNotificationRefusesANilRequestOrBody(t *testing.T) {
	n, err := ParseNotification(webhookTestSecret, nil)
	assert.Nil(t, n)
	assert.ErrorIs(t, err, khipu.ErrInvalidNotification)

	r := &http.Request{Method: http.MethodPost, Header: http.Header{}}
	r.Header.Set(SignatureHeader, Sign(webhookTestSecret, time.Now(), nil))
	n, err = ParseNotification(webhookTestSecret, r)
	assert.Nil(t, n)
	assert.ErrorIs(t, err, khipu.ErrInvalidNotification)
	assert.ErrorContains(t, err, "not a JSON object")
}

// cutBodyReader fails after its first bytes, as a connection cut mid-body.
type cutBodyReader struct{ sent bool }

func (f *cutBodyReader) Read(p []byte) (int, error) {
	if f.sent {
		return 0, errors.New("connection reset")
	}
	f.sent = true
	return copy(p, `{"payment_id":`), nil
}

func TestParseNotificationRefusesABodyCutShort(t *testing.T) {
	r := httptest.NewRequest(http.MethodPost, "/khipu/notify", &cutBodyReader{})
	r.Header.Set(SignatureHeader, Sign(webhookTestSecret, time.Now(), []byte(`{"payment_id":"abc"}`)))
	_, err := ParseNotification(webhookTestSecret, r)
	assert.ErrorIs(t, err, khipu.ErrInvalidNotification)
	assert.ErrorContains(t, err, "connection reset")
}

func TestParseNotificationAcceptsAByteIdenticalRedelivery(t *testing.T) {
	v := loadWebhookVectors(t)[0]
	for range 3 {
		n, err := VerifyNotification(v.Secret, v.Header, []byte(v.Body), v.time(t))
		require.NoError(t, err)
		assert.Equal(t, "zfxnocsow6mz", n.PaymentID)
	}
}

// webhookLogBuffer is a log destination written by server goroutines and read
// by the test.
type webhookLogBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *webhookLogBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *webhookLogBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// webhookServer serves h over real HTTP and returns its notify URL.
func webhookServer(t *testing.T, h http.Handler) string {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // a panicking fn is expected in one test
	srv.Start()
	t.Cleanup(srv.Close)
	return srv.URL + "/khipu/notify"
}

// postNotification sends body with the signature header (none if empty) and returns
// the answer's status and header.
func postNotification(method, url, header string, body []byte) (int, http.Header, error) {
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if header != "" {
		req.Header.Set(SignatureHeader, header)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, resp.Header, nil
}

// deliverNotification is postNotification for the test's own goroutine.
func deliverNotification(t *testing.T, method, url, header string, body []byte) (int, http.Header) {
	t.Helper()
	status, h, err := postNotification(method, url, header, body)
	require.NoError(t, err)
	return status, h
}

func TestNotificationHandlerAnswers(t *testing.T) {
	body, err := os.ReadFile("../testdata/realworld/webhook3-flaskmerchantssm-1.json")
	require.NoError(t, err)
	now := time.Now()
	received := make(chan *Notification, 10)
	fn := func(ctx context.Context, n *Notification) error {
		received <- n
		if n.TransactionID == "fail" {
			return errors.New("database down")
		}
		return nil
	}
	url := webhookServer(t, NotificationHandler(webhookTestSecret, fn, WithHandlerLogger(slog.New(slog.DiscardHandler))))
	failing := []byte(`{"payment_id":"p2","transaction_id":"fail","amount":"1","currency":"CLP"}`)

	tests := []struct {
		name   string
		method string
		header string
		body   []byte
		status int
		called bool
	}{
		{"200 when fn returns nil", http.MethodPost, Sign(webhookTestSecret, now, body), body, http.StatusOK, true},
		{"200 again for the same notification redelivered", http.MethodPost, Sign(webhookTestSecret, now, body), body, http.StatusOK, true},
		{"500 when fn returns an error, so that Khipu retries", http.MethodPost, Sign(webhookTestSecret, now, failing), failing, http.StatusInternalServerError, true},
		{"405 to a GET", http.MethodGet, Sign(webhookTestSecret, now, nil), nil, http.StatusMethodNotAllowed, false},
		{"405 to a PUT", http.MethodPut, Sign(webhookTestSecret, now, body), body, http.StatusMethodNotAllowed, false},
		{"400 unsigned", http.MethodPost, "", body, http.StatusBadRequest, false},
		{"400 forged", http.MethodPost, Sign("forger", now, body), body, http.StatusBadRequest, false},
		{"400 stale", http.MethodPost, Sign(webhookTestSecret, now.Add(-73*time.Hour), body), body, http.StatusBadRequest, false},
		{"400 from the future", http.MethodPost, Sign(webhookTestSecret, now.Add(73*time.Hour), body), body, http.StatusBadRequest, false},
		{"400 malformed", http.MethodPost, "t=yesterday,s=abc", body, http.StatusBadRequest, false},
		{"400 signed but not a notification", http.MethodPost, Sign(webhookTestSecret, now, []byte(`{"amount":1}`)), []byte(`{"amount":1}`), http.StatusBadRequest, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, header := deliverNotification(t, tt.method, url, tt.header, tt.body)
			assert.Equal(t, tt.status, status)
			if status == http.StatusMethodNotAllowed {
				assert.Equal(t, "POST", header.Get("Allow"))
			}
			select {
			case n := <-received:
				assert.True(t, tt.called, "fn was called")
				assert.Equal(t, tt.body, []byte(n.Raw))
			default:
				assert.False(t, tt.called, "fn was not called")
			}
		})
	}
}

// aCentury is a tolerance that accepts the vectors, signed in 2024.
const aCentury = 100 * 365 * 24 * time.Hour

// receive waits for a value on ch, or fails the test after 10 s: no wait
// of these tests can hang.
func receive[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(10 * time.Second):
		t.Fatalf("%s: nothing after 10 s", what)
		panic("unreachable")
	}
}

// Item 4 of issue 17: WithTolerance(0) used to switch the timestamp check
// off; it now panics, and only a tolerance long enough accepts an old
// notification.
func TestNotificationHandlerAcceptsAnOldNotificationOnlyWithinItsTolerance(t *testing.T) {
	v := loadWebhookVectors(t)[0] // signed in 2024
	called := make(chan string, 1)
	fn := func(_ context.Context, n *Notification) error { called <- n.PaymentID; return nil }
	quiet := WithHandlerLogger(slog.New(slog.DiscardHandler))

	status, _ := deliverNotification(t, http.MethodPost, webhookServer(t, NotificationHandler(v.Secret, fn, quiet)), v.Header, []byte(v.Body))
	assert.Equal(t, http.StatusBadRequest, status, "DefaultTolerance")

	status, _ = deliverNotification(t, http.MethodPost, webhookServer(t, NotificationHandler(v.Secret, fn, quiet, WithTolerance(aCentury))), v.Header, []byte(v.Body))
	require.Equal(t, http.StatusOK, status)
	assert.Equal(t, "zfxnocsow6mz", receive(t, called, "fn"))

	for _, d := range []time.Duration{0, -time.Nanosecond, math.MinInt64} {
		assert.PanicsWithValue(t, "khipuv3: WithTolerance needs a positive tolerance, not "+d.String()+" (DefaultTolerance is 72h0m0s)",
			func() { WithTolerance(d) }, "%v", d)
	}
}

func TestNotificationHandlerRefusesABodyOverOneMiB(t *testing.T) {
	var called atomic.Bool
	fn := func(context.Context, *Notification) error { called.Store(true); return nil }
	url := webhookServer(t, NotificationHandler(webhookTestSecret, fn, WithHandlerLogger(slog.New(slog.DiscardHandler))))
	head := `{"payment_id":"abc","pad":"`
	body := []byte(head + strings.Repeat("x", 1<<20+1-len(head)-2) + `"}`)
	require.Len(t, body, 1<<20+1)
	status, _ := deliverNotification(t, http.MethodPost, url, Sign(webhookTestSecret, time.Now(), body), body)
	assert.Equal(t, http.StatusBadRequest, status)
	assert.False(t, called.Load())
}

func TestNotificationHandlerGivesFnA20SecondContext(t *testing.T) {
	deadlines := make(chan time.Duration, 1)
	fn := func(ctx context.Context, n *Notification) error {
		d, ok := ctx.Deadline()
		if !ok {
			d = time.Time{} // fails the check below
		}
		deadlines <- time.Until(d)
		return nil
	}
	body := []byte(`{"payment_id":"abc"}`)
	status, _ := deliverNotification(t, http.MethodPost, webhookServer(t, NotificationHandler(webhookTestSecret, fn)), Sign(webhookTestSecret, time.Now(), body), body)
	require.Equal(t, http.StatusOK, status)
	d := receive(t, deadlines, "fn's deadline")
	assert.True(t, d > 15*time.Second && d <= 20*time.Second, "deadline in %v", d)
}

func TestNotificationHandlerLogsRefusalsAndFailures(t *testing.T) {
	v := loadWebhookVectors(t)[0]
	var logs webhookLogBuffer
	fn := func(context.Context, *Notification) error { return errors.New("stock service unavailable") }
	url := webhookServer(t, NotificationHandler(v.Secret, fn, WithTolerance(aCentury), WithHandlerLogger(slog.New(slog.NewTextHandler(&logs, nil)))))
	body := []byte(v.Body)
	forged := Sign("forger", v.time(t), body)

	for _, d := range []struct {
		method, header string
		status         int
	}{
		{http.MethodGet, "", http.StatusMethodNotAllowed},
		{http.MethodPost, "", http.StatusBadRequest},
		{http.MethodPost, forged, http.StatusBadRequest},
		{http.MethodPost, "t=" + v.T + ",s=" + v.Signature + ",t=1", http.StatusBadRequest},
		{http.MethodPost, v.Header, http.StatusInternalServerError},
	} {
		status, _ := deliverNotification(t, d.method, url, d.header, body)
		require.Equal(t, d.status, status)
	}
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	require.Len(t, lines, 5, logs.String())
	for i, want := range []string{"status=405", ErrSignatureMissing.Error(), ErrSignatureMismatch.Error(), ErrSignatureMalformed.Error()} {
		assert.Contains(t, lines[i], "level=WARN")
		assert.Contains(t, lines[i], "khipu notification refused")
		assert.Contains(t, lines[i], want)
	}
	assert.Contains(t, lines[4], "level=ERROR")
	assert.Contains(t, lines[4], "payment_id=zfxnocsow6mz")
	assert.Contains(t, lines[4], "stock service unavailable")

	all := logs.String()
	for _, secret := range []string{v.Secret, v.Signature, strings.TrimPrefix(forged, "t="+v.T+",s="), "TEST_COBRO", "test@khipu.com", "44.444.444-4", `"payment_id"`} {
		assert.NotContains(t, all, secret)
	}
}

func TestNotificationHandlerLogsToSlogDefaultWithoutAnOption(t *testing.T) {
	var logs webhookLogBuffer
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&logs, nil)))
	t.Cleanup(func() { slog.SetDefault(prev) })

	h := NotificationHandler(webhookTestSecret, func(context.Context, *Notification) error { return nil }, WithHandlerLogger(nil))
	status, _ := deliverNotification(t, http.MethodPost, webhookServer(t, h), "t=1", []byte(`{}`))
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Contains(t, logs.String(), "khipu notification refused")
}

func TestNotificationHandlerRunsOneDeliveryPerPaymentAtATime(t *testing.T) {
	var (
		mu      sync.Mutex
		running = map[string]int{}
		maxRun  = map[string]int{}
		calls   = map[string]int{}
	)
	// The first delivery of each payment waits inside fn until the other
	// payment's first delivery is inside too: it proves that different
	// payments run in parallel (a handler that ran one delivery at a time
	// overall would answer 500 after the timeout).
	arrived := map[string]chan struct{}{"pay-a": make(chan struct{}), "pay-b": make(chan struct{})}
	other := map[string]string{"pay-a": "pay-b", "pay-b": "pay-a"}
	fn := func(ctx context.Context, n *Notification) error {
		id := n.PaymentID
		mu.Lock()
		running[id]++
		maxRun[id] = max(maxRun[id], running[id])
		calls[id]++
		first := calls[id] == 1
		mu.Unlock()
		defer func() {
			mu.Lock()
			running[id]--
			mu.Unlock()
		}()
		if first {
			close(arrived[id])
			select {
			case <-arrived[other[id]]:
			case <-time.After(5 * time.Second):
				return errors.New("the other payment never ran alongside")
			}
		}
		time.Sleep(5 * time.Millisecond) // long enough for a second delivery of the same id to overlap
		return nil
	}
	h := NotificationHandler(webhookTestSecret, fn)
	url := webhookServer(t, h)

	const perPayment = 8
	var wg sync.WaitGroup
	statuses := make(chan int, 2*perPayment)
	for _, id := range []string{"pay-a", "pay-b"} {
		body := []byte(`{"payment_id":"` + id + `"}`)
		header := Sign(webhookTestSecret, time.Now(), body)
		for range perPayment {
			wg.Add(1)
			go func() {
				defer wg.Done()
				req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
				req.Header.Set(SignatureHeader, header)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					statuses <- 0
					return
				}
				resp.Body.Close()
				statuses <- resp.StatusCode
			}()
		}
	}
	wg.Wait()
	close(statuses)
	for s := range statuses {
		assert.Equal(t, http.StatusOK, s)
	}
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, map[string]int{"pay-a": 1, "pay-b": 1}, maxRun, "one delivery per payment at a time")
	assert.Equal(t, map[string]int{"pay-a": perPayment, "pay-b": perPayment}, calls, "every delivery reached fn")
	assertNoPaymentLocks(t, h)
}

// assertNoPaymentLocks checks that the handler keeps no entry for a
// payment id no delivery is using.
func assertNoPaymentLocks(t *testing.T, h http.Handler) {
	t.Helper()
	assert.Zero(t, h.(*webhook.Handler[*Notification]).Keys())
}

func TestAPanickingFnDoesNotLockItsPayment(t *testing.T) {
	var mu sync.Mutex
	calls := 0
	fn := func(context.Context, *Notification) error {
		mu.Lock()
		calls++
		n := calls
		mu.Unlock()
		if n == 1 {
			panic("bug in the shop")
		}
		return nil
	}
	h := NotificationHandler(webhookTestSecret, fn)
	url := webhookServer(t, h)
	body := []byte(`{"payment_id":"abc"}`)
	header := Sign(webhookTestSecret, time.Now(), body)

	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	req.Header.Set(SignatureHeader, header)
	_, err := http.DefaultClient.Do(req)
	require.Error(t, err, "net/http drops the connection of a panicking handler")

	done := make(chan int)
	go func() {
		status, _, _ := postNotification(http.MethodPost, url, header, body)
		done <- status
	}()
	assert.Equal(t, http.StatusOK, receive(t, done, "the payment id stayed locked after fn panicked"))
	assertNoPaymentLocks(t, h)
}

func TestADeliveryWaitingForItsPaymentGivesUpWithItsContext(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	fn := func(context.Context, *Notification) error {
		close(entered)
		select {
		case <-release:
		case <-time.After(10 * time.Second):
		}
		return nil
	}
	var logs webhookLogBuffer
	h := NotificationHandler(webhookTestSecret, fn, WithHandlerLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	body := []byte(`{"payment_id":"abc"}`)
	header := Sign(webhookTestSecret, time.Now(), body)

	first := make(chan int)
	go func() {
		r := httptest.NewRequest(http.MethodPost, "/khipu/notify", bytes.NewReader(body))
		r.Header.Set(SignatureHeader, header)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		first <- w.Code
	}()
	receive(t, entered, "the first delivery reaching fn")

	ctx, cancel := context.WithCancel(context.Background())
	cancel() // Khipu hung up while the delivery waited
	r := httptest.NewRequest(http.MethodPost, "/khipu/notify", bytes.NewReader(body)).WithContext(ctx)
	r.Header.Set(SignatureHeader, header)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	assert.Equal(t, http.StatusServiceUnavailable, w.Code)
	assert.Contains(t, logs.String(), "level=ERROR")
	assert.Contains(t, logs.String(), "context canceled")

	assert.Equal(t, 1, h.(*webhook.Handler[*Notification]).Users("abc"), "only the first delivery still uses the payment id")

	close(release)
	assert.Equal(t, http.StatusOK, receive(t, first, "the first delivery's answer"))
	assertNoPaymentLocks(t, h)
}

func TestNotificationHandlerPanicsWhenMisconfigured(t *testing.T) {
	fn := func(context.Context, *Notification) error { return nil }
	assert.PanicsWithValue(t, "khipuv3: NotificationHandler needs the secret notifications are signed with", func() { NotificationHandler("", fn) })
	assert.Panics(t, func() { NotificationHandler(" \t", fn) })
	assert.Panics(t, func() { NotificationHandler(webhookTestSecret, nil) })
	assert.Panics(t, func() { WithTolerance(-time.Nanosecond) })
	assert.Panics(t, func() { WithTolerance(0) })
	assert.NotPanics(t, func() { NotificationHandler(webhookTestSecret, fn, nil, WithTolerance(time.Nanosecond)) })
}

func TestNotificationHandlerNeverPrintsItsSecret(t *testing.T) {
	h := NotificationHandler(webhookTestSecret, func(context.Context, *Notification) error { return nil })
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X"} {
		out := fmt.Sprintf(verb, h)
		assert.NotContains(t, out, webhookTestSecret, verb)
		assert.NotContains(t, strings.ToLower(out), fmt.Sprintf("%x", webhookTestSecret), verb)
	}
	var logs webhookLogBuffer
	slog.New(slog.NewTextHandler(&logs, nil)).Info("handler", "h", h)
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("handler", "h", h)
	assert.NotContains(t, logs.String(), webhookTestSecret)
}

// Item 1 of issue 17: a *khipu.MismatchError anywhere in fn's error used to
// answer 200, so that a shop that failed to record the mismatch lost it.
func TestNotificationHandlerAnswers500ForEveryErrorOfFnAMismatchIncluded(t *testing.T) {
	body := []byte(`{"payment_id":"p9","transaction_id":"order-1","amount":"999.0000","currency":"CLP"}`)
	for name, fn := range map[string]func(context.Context, *Notification) error{
		"Check's error": func(ctx context.Context, n *Notification) error {
			return n.Check("order-1", khipu.NewAmount(1000), "CLP")
		},
		"Check's error joined with the database's": func(ctx context.Context, n *Notification) error {
			return errors.Join(n.Check("order-1", khipu.NewAmount(1000), "CLP"), errors.New("recording the mismatch: database down"))
		},
		"a wrapped MismatchError": func(ctx context.Context, n *Notification) error {
			return fmt.Errorf("order-1: %w", &khipu.MismatchError{Field: "amount", Want: "1000", Got: "999"})
		},
	} {
		var logs webhookLogBuffer
		url := webhookServer(t, NotificationHandler(webhookTestSecret, fn, WithHandlerLogger(slog.New(slog.NewTextHandler(&logs, nil)))))
		status, _ := deliverNotification(t, http.MethodPost, url, Sign(webhookTestSecret, time.Now(), body), body)
		assert.Equal(t, http.StatusInternalServerError, status, name)
		assert.Contains(t, logs.String(), "level=ERROR", name)
		assert.Contains(t, logs.String(), "payment_id=p9", name)
		assert.Contains(t, logs.String(), "amount", name)
	}

	// The pattern the documentation shows: record the mismatch, return nil.
	recorded := make(chan error, 1)
	fn := func(ctx context.Context, n *Notification) error {
		if err := n.Check("order-1", khipu.NewAmount(1000), "CLP"); err != nil {
			recorded <- err
			return nil
		}
		return nil
	}
	url := webhookServer(t, NotificationHandler(webhookTestSecret, fn, WithHandlerLogger(slog.New(slog.DiscardHandler))))
	status, _ := deliverNotification(t, http.MethodPost, url, Sign(webhookTestSecret, time.Now(), body), body)
	assert.Equal(t, http.StatusOK, status)
	var mismatch *khipu.MismatchError
	assert.ErrorAs(t, receive(t, recorded, "the recorded mismatch"), &mismatch)
}

func TestNoPrinterShowsTheWebhookSecretOfAHandlerValue(t *testing.T) {
	h := NotificationHandler(webhookTestSecret, func(context.Context, *Notification) error { return nil }).(*webhook.Handler[*Notification])
	// The handler's fields as a printer that ignores its Format method
	// (testify's diffs, spew) would reach them: by reflection.
	fields := reflect.ValueOf(h).Elem()
	for i := range fields.NumField() {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x"} {
			out := fmt.Sprintf(verb, fields.Field(i))
			assert.NotContains(t, out, webhookTestSecret, "%s %s", fields.Type().Field(i).Name, verb)
			assert.NotContains(t, out, fmt.Sprintf("%x", webhookTestSecret), "%s %s", fields.Type().Field(i).Name, verb)
		}
	}
}

// Item 10 of issue 17: one call from the raw body and the header, for
// routers that are not net/http.
func TestVerifyNotification(t *testing.T) {
	v := loadWebhookVectors(t)[0]
	body := []byte(v.Body)
	t.Run("Khipu's documented example", func(t *testing.T) {
		n, err := VerifyNotification(v.Secret, v.Header, body, v.time(t).Add(time.Minute))
		require.NoError(t, err)
		assert.Equal(t, "zfxnocsow6mz", n.PaymentID)
		assert.Equal(t, khipu.NewAmount(1000), n.Amount)
		assert.Equal(t, body, []byte(n.Raw))
	})
	t.Run("Raw is a copy: the caller may reuse its buffer", func(t *testing.T) {
		buf := bytes.Clone(body)
		n, err := VerifyNotification(v.Secret, v.Header, buf, v.time(t))
		require.NoError(t, err)
		clear(buf)
		assert.Equal(t, body, []byte(n.Raw))
	})
	t.Run("Raw keeps the whitespace around the object", func(t *testing.T) {
		padded := []byte("\n " + v.Body + "\n")
		now := time.Now()
		n, err := VerifyNotification(webhookTestSecret, Sign(webhookTestSecret, now, padded), padded, now)
		require.NoError(t, err)
		assert.Equal(t, padded, []byte(n.Raw))
	})
	t.Run("with DefaultTolerance", func(t *testing.T) {
		_, err := VerifyNotification(v.Secret, v.Header, body, v.time(t).Add(DefaultTolerance))
		require.NoError(t, err)
		_, err = VerifyNotification(v.Secret, v.Header, body, v.time(t).Add(DefaultTolerance+time.Millisecond))
		assertSignatureError(t, err, ErrSignatureExpired)
		_, err = VerifyNotification(v.Secret, v.Header, body, v.time(t).Add(-DefaultTolerance-time.Millisecond))
		assertSignatureError(t, err, ErrSignatureExpired)
	})
	t.Run("a typed signature error for every refusal of the signature", func(t *testing.T) {
		at := v.time(t)
		for header, want := range map[string]error{
			"":                                    ErrSignatureMissing,
			"t=" + v.T:                            ErrSignatureMalformed,
			Sign("forger", at, body):              ErrSignatureMismatch,
			Sign(v.Secret, at, []byte(`{"x":1}`)): ErrSignatureMismatch,
		} {
			n, err := VerifyNotification(v.Secret, header, body, at)
			assert.Nil(t, n)
			assertSignatureError(t, err, want)
		}
		n, err := VerifyNotification("", v.Header, body, at)
		assert.Nil(t, n)
		assertSignatureError(t, err, nil)
	})
	t.Run("a signed body that is not a notification", func(t *testing.T) {
		now := time.Now()
		for _, b := range []string{``, `null`, `[]`, `{}`, `{"payment_id":""}`, `{"payment_id":"a"} x`} {
			n, err := VerifyNotification(webhookTestSecret, Sign(webhookTestSecret, now, []byte(b)), []byte(b), now)
			assert.Nil(t, n, b)
			assert.ErrorIs(t, err, khipu.ErrInvalidNotification, b)
			assert.NotErrorIs(t, err, ErrInvalidSignature, b)
		}
	})
}
