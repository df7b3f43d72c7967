package webhook

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// logBuffer is written by the handler's goroutines and read by the test.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
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

// echo is a handler whose POST body is "key:answer", answered as Process
// is told: "ok", "fail" (an error, no status), "refuse" (400 with an
// error), "odd" (a 201 with an error).
func echo(logs *logBuffer) *Handler[string] {
	return &Handler[string]{
		What: "test post", MaxBody: 64, Deadline: time.Second,
		Logger: slog.New(slog.NewTextHandler(logs, nil)),
		Parse: func(r *http.Request, body []byte) (string, string, error) {
			key, v, ok := strings.Cut(string(body), ":")
			if !ok {
				return "", "", errors.New("not key:answer")
			}
			return key, v, nil
		},
		KeyAttr: "key",
		Process: func(ctx context.Context, v string) Answer {
			switch v {
			case "fail":
				return Answer{Err: errors.New("database down"), Attrs: []slog.Attr{slog.String("payment_id", "p1")}}
			case "refuse":
				return Answer{Status: http.StatusConflict, Err: errors.New("contradicted")}
			case "odd":
				return Answer{Status: http.StatusCreated, Err: errors.New("an error with a success status")}
			case "busy":
				return Answer{Status: http.StatusServiceUnavailable, Err: errors.New("busy"), RetryAfter: 1500 * time.Millisecond}
			}
			return Answer{}
		},
	}
}

func post(h http.Handler, method, body string) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	r := httptest.NewRequest(http.MethodPost, "/hook", strings.NewReader(body))
	r.Method = method // any text, as a server hands it over
	h.ServeHTTP(w, r)
	return w
}

func TestTheSkeletonAnswersAndLogs(t *testing.T) {
	for _, tc := range []struct {
		name, method, body string
		status             int
		log                string // what the record holds; "" for none
	}{
		{"a success", http.MethodPost, "k:ok", 200, ""},
		{"an error without a status is a 500", http.MethodPost, "k:fail", 500, `level=ERROR msg="test post not processed; Khipu will retry" status=500 payment_id=p1 error="database down"`},
		{"a refusal", http.MethodPost, "k:refuse", 409, `level=WARN msg="test post refused" status=409 error=contradicted remote_addr=`},
		{"an error is never a success", http.MethodPost, "k:odd", 500, `level=ERROR`},
		{"Retry-After", http.MethodPost, "k:busy", 503, `status=503`},
		{"not a POST", http.MethodGet, "", 405, `level=WARN msg="test post refused" status=405 method=GET`},
		{"a method that breaks a log line", "PO\nST", "", 405, `method=PO\nST`},
		{"a body that does not parse", http.MethodPost, "nothing", 400, `status=400 error="not key:answer"`},
		{"a body over the cap", http.MethodPost, "k:" + strings.Repeat("x", 63), 400, `error="body larger than 64 bytes"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logs logBuffer
			w := post(echo(&logs), tc.method, tc.body)
			assert.Equal(t, tc.status, w.Code)
			if tc.log == "" {
				assert.Empty(t, logs.String())
			} else {
				assert.Contains(t, logs.String(), tc.log)
				assert.Equal(t, 1, strings.Count(logs.String(), "\n"), "one record")
			}
			if tc.status == 405 {
				assert.Equal(t, "POST", w.Header().Get("Allow"))
			}
			if tc.name == "Retry-After" {
				assert.Equal(t, "2", w.Header().Get("Retry-After"), "whole seconds, rounded up")
			} else {
				assert.Empty(t, w.Header().Get("Retry-After"))
			}
			assert.NotContains(t, w.Body.String(), "database down", "an error is never sent to whoever POSTed")
		})
	}
}

func TestTheSkeletonLogsToSlogDefaultWithoutALogger(t *testing.T) {
	var logs logBuffer
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&logs, nil)))
	t.Cleanup(func() { slog.SetDefault(prev) })
	h := echo(nil)
	h.Logger = nil
	assert.Equal(t, 500, post(h, http.MethodPost, "k:fail").Code)
	assert.Contains(t, logs.String(), "database down")
}

func TestTheSkeletonSerializesAKey(t *testing.T) {
	entered, release := make(chan string, 4), make(chan struct{})
	h := echo(&logBuffer{})
	h.Deadline = 10 * time.Second
	h.Process = func(ctx context.Context, v string) Answer {
		entered <- v
		select {
		case <-release:
		case <-ctx.Done():
			return Answer{Status: 503, Err: ctx.Err()}
		}
		return Answer{}
	}
	codes := make(chan int, 3)
	go func() { codes <- post(h, http.MethodPost, "a:1").Code }()
	assert.Equal(t, "1", within(t, entered))
	go func() { codes <- post(h, http.MethodPost, "a:2").Code }()
	go func() { codes <- post(h, http.MethodPost, "b:3").Code }()
	assert.Equal(t, "3", within(t, entered), "another key runs alongside")
	require.Eventually(t, func() bool { return h.Users("a") == 2 }, 10*time.Second, time.Millisecond)
	select {
	case v := <-entered:
		t.Fatalf("%s ran while another delivery of its key was running", v)
	default:
	}
	close(release)
	assert.Equal(t, "2", within(t, entered))
	for range 3 {
		assert.Equal(t, 200, within(t, codes))
	}
	assert.Zero(t, h.Keys())
}

func TestADeliveryWaitingForItsKeyGivesUpAtTheDeadline(t *testing.T) {
	var logs logBuffer
	h := echo(&logs)
	h.Deadline = 50 * time.Millisecond
	release := make(chan struct{})
	entered := make(chan struct{})
	h.Process = func(ctx context.Context, v string) Answer {
		close(entered)
		<-release
		return Answer{}
	}
	first := make(chan int, 1)
	go func() { first <- post(h, http.MethodPost, "a:1").Code }()
	within(t, entered)
	w := post(h, http.MethodPost, "a:2")
	assert.Equal(t, 503, w.Code)
	assert.Contains(t, logs.String(), "key=a")
	assert.Contains(t, logs.String(), "context deadline exceeded")
	close(release)
	assert.Equal(t, 200, within(t, first))
	assert.Zero(t, h.Keys())
}

func TestCoalescedDeliveriesShareTheFirstsAnswer(t *testing.T) {
	var logs logBuffer
	h := echo(&logs)
	h.Coalesce, h.KeyAttr, h.Deadline = true, "", 10*time.Second
	release := make(chan struct{})
	var runs sync.Map
	h.Process = func(ctx context.Context, v string) Answer {
		runs.Store(v, true)
		<-release
		return Answer{Status: 409, Err: errors.New("refused once")}
	}
	codes := make(chan int, 3)
	for i := range 3 {
		go func() { codes <- post(h, http.MethodPost, "tok:"+string(rune('a'+i))).Code }()
	}
	require.Eventually(t, func() bool { return h.Users("tok") == 3 }, 10*time.Second, time.Millisecond)
	close(release)
	for range 3 {
		assert.Equal(t, 409, within(t, codes))
	}
	n := 0
	runs.Range(func(any, any) bool { n++; return true })
	assert.Equal(t, 1, n, "one run for the three")
	assert.Equal(t, 1, strings.Count(logs.String(), "refused once"), "logged once")
	assert.NotContains(t, logs.String(), "tok", "the key is not logged")
	assert.Zero(t, h.Keys())

	// A delivery after the run ended runs again.
	h.Process = func(context.Context, string) Answer { return Answer{} }
	assert.Equal(t, 200, post(h, http.MethodPost, "tok:again").Code)
}

func TestClip(t *testing.T) {
	assert.Equal(t, "Fondos insuficientes", Clip("Fondos insuficientes", 1024))
	assert.Equal(t, `a\nb\x1b[31m\u2028ñ`, Clip("a\nb\x1b[31m\u2028ñ", 1024))
	assert.Equal(t, `\xff`, Clip("\xff", 10))
	assert.Equal(t, "abc... (6 bytes)", Clip("abcdef", 3))
	assert.Equal(t, "a... (3 bytes)", Clip("añ", 2), "never half a rune")
	long := strings.Repeat("x\n", 30000)
	assert.LessOrEqual(t, len(Clip(long, 1024)), 2*1024+20)
	assert.NotContains(t, Clip(long, 1024), "\n")
}

func within[T any](t *testing.T, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(10 * time.Second):
		t.Fatal("nothing within 10 s")
		panic("unreachable")
	}
}
