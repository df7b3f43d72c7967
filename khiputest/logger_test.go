package khiputest_test

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/khipu-go/khipu/khiputest"
)

// logLines is what a server logged: a writer for a slog handler that the
// server's goroutines write to while the test reads.
type logLines struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logLines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// take returns the lines logged since the last take.
func (l *logLines) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	text := strings.TrimSuffix(l.buf.String(), "\n")
	l.buf.Reset()
	if text == "" {
		return nil
	}
	return strings.Split(text, "\n")
}

// loggingServer is a server that logs to the lines it returns, without
// times, so that a line can be compared whole.
func loggingServer(t *testing.T, opts ...khiputest.ServerOption) (*khiputest.Server, *logLines) {
	t.Helper()
	lines := &logLines{}
	logger := slog.New(slog.NewTextHandler(lines, &slog.HandlerOptions{
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey && len(groups) == 0 {
				return slog.Attr{}
			}
			return a
		},
	}))
	srv := khiputest.NewServer(receiverID, secret, append([]khiputest.ServerOption{khiputest.WithAPIKey(apiKey), khiputest.WithLogger(logger)}, opts...)...)
	t.Cleanup(srv.Close)
	return srv, lines
}

func TestWithLoggerLogsWhatTheShopDidNotAccept(t *testing.T) {
	srv, lines := loggingServer(t)

	t.Run("a notification paid from the payment page, refused: no caller sees the error, the log does", func(t *testing.T) {
		shop := newScriptedShop(t, answer(http.StatusInternalServerError))
		id := v3Create(t, srv, `{"amount": 1000, "currency": "CLP", "subject": "x", "notify_url": "`+shop.url+`"}`)
		resp, err := http.Post(srv.V3URL()+"/payment/info/"+id, "", nil)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode, "paid, and back on the page")
		recv(t, shop.got)
		assert.Equal(t, []string{`level=WARN msg="khiputest: the shop did not accept a notification" payment_id=` + id +
			` url=` + shop.url + ` status=500 answer="not now"`}, lines.take())
	})

	t.Run("a shop that cannot be reached: the error", func(t *testing.T) {
		gone := httptest.NewServer(http.NotFoundHandler())
		gone.Close()
		id := v3Create(t, srv, `{"amount": 1000, "currency": "CLP", "subject": "x", "notify_url": "`+gone.URL+`"}`)
		require.Error(t, srv.Pay(id), "Pay returns it too")
		logged := lines.take()
		require.Len(t, logged, 1)
		assert.Contains(t, logged[0], `msg="khiputest: the shop did not accept a notification" payment_id=`+id+` url=`+gone.URL+` error=`)
		assert.Contains(t, logged[0], "connection refused")
	})

	t.Run("an accepted notification is not logged", func(t *testing.T) {
		shop := newScriptedShop(t)
		id := v3Create(t, srv, `{"amount": 1000, "currency": "CLP", "subject": "x", "notify_url": "`+shop.url+`"}`)
		require.NoError(t, srv.Pay(id))
		recv(t, shop.got)
		assert.Empty(t, lines.take())
	})

	t.Run("callbacks of automatic payments", func(t *testing.T) {
		shop := newScriptedShop(t, answer(http.StatusServiceUnavailable), answer(http.StatusBadRequest))
		subscription, _ := newSubscription(t, srv, shop.url)
		require.Error(t, srv.AuthorizeSubscription(subscription))
		recv(t, shop.got)
		paymentID := newCharge(t, srv, chargeJSON(subscription, shop.url, shop.url, nil))
		require.Error(t, srv.FailCharge(paymentID, "Fondos insuficientes"))
		recv(t, shop.got)
		assert.Equal(t, []string{
			`level=WARN msg="khiputest: the shop did not accept a status callback" subscription_id=` + subscription +
				` url=` + shop.url + ` status=503 answer="not now"`,
			`level=WARN msg="khiputest: the shop did not accept a charge error callback" subscription_id=` + subscription +
				` payment_id=` + paymentID + ` url=` + shop.url + ` status=400 answer="not now"`,
		}, lines.take())
	})
}

func TestWithLoggerLogsEveryFailedAttemptOfAnAsyncNotification(t *testing.T) {
	srv, lines := loggingServer(t, khiputest.WithAsyncNotifications())
	shop := newScriptedShop(t, answer(http.StatusInternalServerError), hangUp)
	id := v3Create(t, srv, `{"amount": 1000, "currency": "CLP", "subject": "x", "notify_url": "`+shop.url+`"}`)
	require.NoError(t, srv.Pay(id))
	require.NoError(t, srv.WaitNotified(waitCtx(t), id))
	logged := lines.take()
	require.Len(t, logged, 2, "two refusals, then accepted: %q", logged)
	assert.Contains(t, logged[0], "status=500")
	assert.Contains(t, logged[1], "error=")
}

func TestWithLoggerRefusesNil(t *testing.T) {
	assert.PanicsWithValue(t, "khiputest: WithLogger with a nil logger", func() { khiputest.WithLogger(nil) })
}
