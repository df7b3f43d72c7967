package khipu_test

// The notification handler loses nothing it sees: every refusal is logged
// at warn level and every failure at error level, without the token or the
// secret.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
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

// logBuffer is an io.Writer for a slog handler that the server's goroutines
// write to while the test reads it.
type logBuffer struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	taken int // how much of buf take has returned
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// handlerRecord is a record the notification handler logs.
type handlerRecord struct {
	Level     string `json:"level"`
	Msg       string `json:"msg"`
	Status    int    `json:"status"`
	Error     string `json:"error"`
	Method    string `json:"method"`
	PaymentID string `json:"payment_id"`
}

// take returns the records logged since the last call, debug records of
// requests to Khipu left out. String still returns everything.
func (b *logBuffer) take(t *testing.T) []handlerRecord {
	t.Helper()
	b.mu.Lock()
	text := b.buf.String()[b.taken:]
	b.taken = b.buf.Len()
	b.mu.Unlock()
	var out []handlerRecord
	for _, line := range strings.Split(strings.TrimSpace(text), "\n") {
		if line == "" {
			continue
		}
		var r handlerRecord
		require.NoError(t, json.Unmarshal([]byte(line), &r), line)
		if r.Msg != "khipu request" {
			out = append(out, r)
		}
	}
	return out
}

// Tokens the handler sees, none of which may reach a log.
const (
	tokGood    = "tok-good-5f1e2d3c4b5a69788796a5b4"
	tokFailing = "tok-failing-0a1b2c3d4e5f60718293"
	tokForged  = "tok-forged-ffeeddccbbaa99887766"
	tokTheirs  = "tok-theirs-1234567890abcdef1234"
	tokDown    = "tok-down-aa55aa55aa55aa55aa55aa"
	tokOther   = "tok-other-order-77665544332211"
	tokGarbled = "tok-garbled-0f0e0d0c0b0a0908"
)

// garbledEmail is in an answer the client cannot read: the error keeps its
// body, and a log record must not.
const garbledEmail = "garbled.payer@example.com"

// loggingKhipu is a Khipu that knows tokGood, tokFailing and tokTheirs,
// refuses any other token, and is down for tokDown; it counts its lookups.
func loggingKhipu(t *testing.T, opts ...khipu.Option) (*khipu.Client, *atomic.Int32) {
	t.Helper()
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	var lookups atomic.Int32
	mux.HandleFunc("GET /api/2.0/payments", func(w http.ResponseWriter, r *http.Request) {
		lookups.Add(1)
		switch tok := r.URL.Query().Get("notification_token"); tok {
		case tokGood:
			respond(w, 200, []byte(notifyPayment("12345", "done", "order-1", "1000", "CLP")))
		case tokFailing:
			respond(w, 200, []byte(notifyPayment("12345", "done", "order-fail", "1000", "CLP")))
		case tokTheirs:
			respond(w, 200, []byte(notifyPayment("99999", "done", "order-1", "1000", "CLP")))
		case tokDown:
			respond(w, 503, []byte(`{"status":503,"message":"Servicio no disponible"}`))
		case tokOther:
			respond(w, 200, []byte(notifyPayment("12345", "done", "order-2", "1000", "CLP")))
		case tokGarbled:
			respond(w, 200, []byte(`{"payment_id":"abc123def456","payer_email":"`+garbledEmail+`","status":{"done":true}}`))
		default:
			respond(w, 400, []byte(`{"status":400,"message":"Error de validación","errors":[{"field":"notification_token","message":"no existe"}]}`))
		}
	})
	all := append([]khipu.Option{khipu.WithBaseURL(srv.URL + "/api/2.0"), noRetries}, opts...)
	c, err := khipu.NewClient(testReceiverID, ownSecret, all...)
	require.NoError(t, err)
	return c, &lookups
}

// shop is the function of a NotificationHandler: it fails for order-fail.
func shop(ctx context.Context, p *khipu.Payment) error {
	if p.TransactionID == "order-fail" {
		return errors.New("database down")
	}
	return p.Check("order-1", khipu.NewAmount(1000), "CLP")
}

func TestNotificationHandlerPanicsWhenBuiltWithoutAFunction(t *testing.T) {
	c, _ := loggingKhipu(t)
	assert.PanicsWithValue(t, "khipu: NotificationHandler needs a function to call with each verified payment", func() {
		c.NotificationHandler(nil)
	}, "at start-up, not at the first notification")
}

func TestNotificationHandlerLogsEveryRefusalAtWarnAndEveryFailureAtError(t *testing.T) {
	var logs logBuffer
	c, lookups := loggingKhipu(t, khipu.WithLogger(slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	srv := httptest.NewServer(c.NotificationHandler(shop))
	defer srv.Close()
	post := func(contentType, body string) int {
		resp, err := http.Post(srv.URL, contentType, strings.NewReader(body))
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	const form = "application/x-www-form-urlencoded"
	notify := func(token string) string {
		return url.Values{"api_version": {"1.3"}, "notification_token": {token}}.Encode()
	}

	assert.Equal(t, http.StatusOK, post(form, notify(tokGood)))
	assert.Empty(t, logs.take(t), "a notification processed is not a warning")

	cases := []struct {
		name    string
		send    func() int
		status  int
		level   string
		error   string // what the record's error says
		lookups int32  // lookups at Khipu it makes
	}{
		{"a GET", func() int {
			resp, err := http.Get(srv.URL + "?notification_token=" + tokGood)
			require.NoError(t, err)
			resp.Body.Close()
			return resp.StatusCode
		}, 405, "WARN", "", 0},
		{"a malformed notification", func() int { return post(form, "api_version=1.2&notification_token="+tokGood) }, 400, "WARN", "api_version", 0},
		{"a body that is not a form", func() int { return post("text/plain", notify(tokGood)) }, 400, "WARN", "content type", 0},
		{"a token over 1024 bytes", func() int { return post(form, notify(tokGood+strings.Repeat("a", 1025-len(tokGood)))) }, 400, "WARN", "longer than 1024 bytes", 0},
		{"a forged token", func() int { return post(form, notify(tokForged)) }, 400, "WARN", "no existe", 1},
		{"another receiver's payment", func() int { return post(form, notify(tokTheirs)) }, 400, "WARN", "another receiver", 1},
		{"Khipu down", func() int { return post(form, notify(tokDown)) }, 503, "ERROR", "Servicio no disponible", 1},
		{"the shop's function failing", func() int { return post(form, notify(tokFailing)) }, 500, "ERROR", "database down", 1},
		// Check's error is an error like any other: 500, and Khipu
		// notifies again until the shop records the mismatch.
		{"a payment that does not match the order", func() int { return post(form, notify(tokOther)) }, 500, "ERROR", "transaction_id", 1},
		{"an answer the client cannot read", func() int { return post(form, notify(tokGarbled)) }, 503, "ERROR", "field status", 1},
	}
	for _, tc := range cases {
		before := lookups.Load()
		assert.Equal(t, tc.status, tc.send(), tc.name)
		assert.Equal(t, tc.lookups, lookups.Load()-before, "%s: lookups at Khipu", tc.name)
		recs := logs.take(t)
		if !assert.Len(t, recs, 1, "%s: one record", tc.name) {
			continue
		}
		assert.Equal(t, tc.level, recs[0].Level, tc.name)
		assert.Equal(t, tc.status, recs[0].Status, tc.name)
		assert.Contains(t, recs[0].Error, tc.error, tc.name)
		assert.True(t, strings.HasPrefix(recs[0].Msg, "khipu notification"), "%s: %q", tc.name, recs[0].Msg)
		if tc.status == 500 {
			assert.Equal(t, "abc123def456", recs[0].PaymentID, "the failure names the payment")
		}
		if tc.status == 405 {
			assert.Equal(t, "GET", recs[0].Method)
		}
	}

	all := logs.String()
	require.Contains(t, all, "Servicio no disponible", "every record is still there to search")
	for _, secret := range []string{tokGood, tokFailing, tokForged, tokTheirs, tokDown, tokOther, tokGarbled, ownSecret, garbledEmail} {
		assert.NotContains(t, all, secret, "no log record holds a token or the secret")
	}
}

func TestNotificationHandlerLogsToSlogDefaultWithoutALogger(t *testing.T) {
	// Not parallel: it replaces the process's default logger.
	var logs logBuffer
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	t.Cleanup(func() { slog.SetDefault(prev) })

	c, _ := loggingKhipu(t)
	h := c.NotificationHandler(shop)
	serveOne := func(r *http.Request) int {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		return rec.Code
	}
	notification := func(token string) *http.Request {
		return notificationRequest(url.Values{"api_version": {"1.3"}, "notification_token": {token}}.Encode())
	}
	assert.Equal(t, 200, serveOne(notification(tokGood)))
	assert.Equal(t, 405, serveOne(httptest.NewRequest(http.MethodPut, "/notify", nil)))
	assert.Equal(t, 400, serveOne(notification(tokForged)))
	assert.Equal(t, 503, serveOne(notification(tokDown)))
	assert.Equal(t, 500, serveOne(notification(tokFailing)))

	all := logs.String()
	var got []string
	for _, r := range logs.take(t) {
		got = append(got, r.Level+" "+http.StatusText(r.Status))
	}
	assert.Equal(t, []string{"WARN Method Not Allowed", "WARN Bad Request", "ERROR Service Unavailable", "ERROR Internal Server Error"}, got)
	assert.NotContains(t, all, "khipu request", "a Client without a logger logs no requests")
	for _, secret := range []string{tokGood, tokForged, tokDown, tokFailing, ownSecret} {
		assert.NotContains(t, all, secret)
	}
}

func TestParseNotificationRefusesATokenOver1024Bytes(t *testing.T) {
	c, lookups := loggingKhipu(t, khipu.WithLogger(slog.New(slog.DiscardHandler)))
	h := c.NotificationHandler(shop)
	for _, n := range []int{1024, 1025, 4096} {
		token := strings.Repeat("t", n)
		_, err := khipu.ParseNotification(notificationRequest("api_version=1.3&notification_token=" + token))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, notificationRequest("api_version=1.3&notification_token="+token))
		if n <= 1024 {
			assert.NoError(t, err, "%d bytes", n)
			assert.Equal(t, http.StatusBadRequest, rec.Code, "a token Khipu does not know")
			continue
		}
		assert.ErrorIs(t, err, khipu.ErrInvalidNotification, "%d bytes", n)
		assert.ErrorContains(t, err, "longer than 1024 bytes")
		assert.Equal(t, http.StatusBadRequest, rec.Code, "%d bytes: refused, not a 503 that Khipu would retry", n)
	}
	assert.EqualValues(t, 1, lookups.Load(), "only the 1024-byte token was looked up")
}

func TestParseNotificationRefusesABodyThatIsNotAForm(t *testing.T) {
	const body = "api_version=1.3&notification_token=abc"
	for _, ct := range []string{"text/plain", "application/json", "multipart/form-data; boundary=x", "application/x-www-form-urlencoded-extra", "application/x-www-form-urlencoded; charset"} {
		r := httptest.NewRequest(http.MethodPost, "/notify", strings.NewReader(body))
		r.Header.Set("Content-Type", ct)
		n, err := khipu.ParseNotification(r)
		assert.Nil(t, n, ct)
		assert.ErrorIs(t, err, khipu.ErrInvalidNotification, ct)
		assert.ErrorContains(t, err, "content type", ct)
	}
	// The same body as a form, with or without a charset, is Khipu's.
	for _, ct := range []string{"application/x-www-form-urlencoded", "Application/X-WWW-Form-Urlencoded; charset=UTF-8"} {
		r := httptest.NewRequest(http.MethodPost, "/notify", strings.NewReader(body))
		r.Header.Set("Content-Type", ct)
		n, err := khipu.ParseNotification(r)
		require.NoError(t, err, ct)
		assert.Equal(t, "abc", n.Token)
	}
}

// The handler answers within the deadline it gives the lookup: a lookup
// that stalls is a 503, logged at error level.
func TestNotificationHandlerLogsALookupThatTimedOut(t *testing.T) {
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	stall := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(stall.Close)
	var logs logBuffer
	c, err := khipu.NewClient(testReceiverID, ownSecret, khipu.WithBaseURL(stall.URL), noRetries,
		khipu.WithHTTPClient(&http.Client{Timeout: 50 * time.Millisecond}),
		khipu.WithLogger(slog.New(slog.NewJSONHandler(&logs, nil))))
	require.NoError(t, err)
	rec := httptest.NewRecorder()
	c.NotificationHandler(shop).ServeHTTP(rec, notificationRequest("api_version=1.3&notification_token="+tokGood))
	assert.Equal(t, http.StatusServiceUnavailable, rec.Code)
	all := logs.String()
	recs := logs.take(t)
	require.Len(t, recs, 1)
	assert.Equal(t, "ERROR", recs[0].Level)
	assert.Contains(t, recs[0].Error, "Client.Timeout exceeded")
	assert.NotContains(t, all, tokGood, "the URL with the token is not in the error")
}
