package khipu_test

// Fault injection: a loopback server that fails the way real servers and
// proxies do, and the number of requests it saw each time. Payments are never
// charged, refunded or confirmed twice: POST and DELETE are sent once.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/khipu-go/khipu"
)

// script answers the n-th request (from 1) with answers[n-1], and every
// later one with the last answer. It counts the requests and when they came.
type script struct {
	mu      sync.Mutex
	answers []func(w http.ResponseWriter, r *http.Request)
	times   []time.Time
}

func (s *script) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	n := len(s.times)
	s.times = append(s.times, time.Now())
	answer := s.answers[min(n, len(s.answers)-1)]
	s.mu.Unlock()
	_, _ = io.Copy(io.Discard, r.Body)
	answer(w, r)
}

func (s *script) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.times)
}

// scripted starts a server answering with answers and a client for it.
func scripted(t *testing.T, answers ...func(w http.ResponseWriter, r *http.Request)) (*script, *khipu.Client) {
	t.Helper()
	mux, c, _ := setup(t)
	s := &script{answers: answers}
	mux.Handle("/", s)
	return s, c
}

func status(code int, body string, headers ...string) func(w http.ResponseWriter, r *http.Request) {
	return func(w http.ResponseWriter, r *http.Request) {
		for i := 0; i+1 < len(headers); i += 2 {
			w.Header().Set(headers[i], headers[i+1])
		}
		if w.Header().Get("Content-Type") == "" {
			w.Header().Set("Content-Type", "application/json")
		}
		w.WriteHeader(code)
		_, _ = io.WriteString(w, body)
	}
}

const (
	khipu503 = `{"status":503,"message":"Servicio no disponible"}`
	payment  = `{"payment_id":"gqzdy6chjne9","receiver_id":12345,"amount":1000,"currency":"CLP","status":"done"}`
)

// hijackClose answers with the start of a response and closes the
// connection mid-body.
func hijackClose(w http.ResponseWriter, r *http.Request) {
	conn, buf, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(err)
	}
	_, _ = buf.WriteString("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{\"payment_id\":")
	_ = buf.Flush()
	_ = conn.Close()
}

// get and post are a read and a write to the same server.
func get(c *khipu.Client) error {
	_, err := c.Payments.Get(context.Background(), "gqzdy6chjne9")
	return err
}

// writes are every call that changes something at Khipu.
var writes = map[string]func(c *khipu.Client) error{
	"Payments.Create": func(c *khipu.Client) error {
		_, err := c.Payments.Create(context.Background(), &khipu.PaymentCreateParams{Subject: "x", Currency: "CLP", Amount: khipu.NewAmount(1000)})
		return err
	},
	"Payments.Delete": func(c *khipu.Client) error {
		_, err := c.Payments.Delete(context.Background(), "gqzdy6chjne9")
		return err
	},
	"Payments.Confirm": func(c *khipu.Client) error {
		_, err := c.Payments.Confirm(context.Background(), "gqzdy6chjne9")
		return err
	},
	"Payments.Refund": func(c *khipu.Client) error {
		_, err := c.Payments.Refund(context.Background(), "gqzdy6chjne9", nil)
		return err
	},
	"Receivers.Create": func(c *khipu.Client) error {
		_, err := c.Receivers.Create(context.Background(), receiverParams())
		return err
	},
}

func TestAReadIsRetriedOnGatewayStatuses(t *testing.T) {
	for _, code := range []int{502, 503, 504} {
		t.Run(fmt.Sprint(code), func(t *testing.T) {
			s, c := scripted(t, status(code, khipu503), status(200, payment))
			p, err := c.Payments.Get(context.Background(), "gqzdy6chjne9")
			require.NoError(t, err)
			assert.Equal(t, "gqzdy6chjne9", p.PaymentID)
			assert.Equal(t, 2, s.count())
		})
	}
}

func TestAReadGivesUpAfterMaxRetries(t *testing.T) {
	s, c := scripted(t, status(503, khipu503))
	err := get(c)
	var se *khipu.ServiceError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, 503, se.StatusCode)
	assert.Equal(t, 3, s.count(), "the first attempt and 2 retries")
}

func TestRetriesCanBeTurnedOff(t *testing.T) {
	s, c := scripted(t, status(503, khipu503))
	c2, err := khipu.NewClient(testReceiverID, testSecret, khipu.WithBaseURL(baseOf(t, c)), khipu.WithRetry(khipu.RetryPolicy{MaxRetries: 0}))
	require.NoError(t, err)
	require.Error(t, get(c2))
	assert.Equal(t, 1, s.count())
}

// baseOf is the base URL c was made with, read back from its printed form.
func baseOf(t *testing.T, c *khipu.Client) string {
	t.Helper()
	s := c.String()
	i := strings.Index(s, "baseURL: ")
	require.GreaterOrEqual(t, i, 0)
	rest := s[i+len("baseURL: "):]
	return rest[:strings.Index(rest, ",")]
}

func TestAReadIsNotRetriedOnOtherErrors(t *testing.T) {
	var (
		ve *khipu.ValidationError
		ae *khipu.AuthorizationError
		se *khipu.ServiceError
		ue *khipu.UnexpectedResponseError
	)
	cases := map[string]struct {
		answer func(w http.ResponseWriter, r *http.Request)
		want   any // a pointer to the error type expected
	}{
		"500 with Khipu's JSON": {status(500, `{"status":500,"message":"error interno"}`), &se},
		"400":                   {status(400, `{"status":400,"message":"inválido","errors":[]}`), &ve},
		"403":                   {status(403, `{"status":403,"message":"no autorizado"}`), &ae},
		"418 with JSON":         {status(418, `{"status":418,"message":"teapot"}`), &ue}, // a status Khipu does not use
		"404 HTML":              {status(404, "<html>not found</html>", "Content-Type", "text/html"), &ue},
		"truncated JSON":        {status(200, `{"payment_id":"abc","amount":10`), &ue},
		"empty 200":             {status(200, ""), &ue},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			s, c := scripted(t, tc.answer, status(200, payment))
			require.ErrorAs(t, get(c), tc.want)
			assert.Equal(t, 1, s.count())
		})
	}
}

func TestWritesAreNeverSentTwice(t *testing.T) {
	faults := map[string]func(w http.ResponseWriter, r *http.Request){
		"503":              status(503, khipu503),
		"502 HTML":         status(502, string(mustRead(t, "testdata/error-502.html")), "Content-Type", "text/html"),
		"504 Retry-After":  status(504, khipu503, "Retry-After", "0"),
		"closed mid-reply": hijackClose,
	}
	for fault, answer := range faults {
		for name, write := range writes {
			t.Run(fault+"/"+name, func(t *testing.T) {
				s, c := scripted(t, answer, status(200, `{"message":"ok","payment_id":"x","receiver_id":1,"secret":"s"}`))
				err := write(c)
				require.Error(t, err)
				assert.Equal(t, 1, s.count(), "a write is sent once, whatever happens")
			})
		}
	}
}

func mustRead(t *testing.T, name string) []byte {
	t.Helper()
	return fixture(t, strings.TrimPrefix(name, "testdata/"))
}

func TestAProxyPageIsAnUnexpectedResponse(t *testing.T) {
	html := string(fixture(t, "error-502.html"))
	s, c := scripted(t, status(502, html, "Content-Type", "text/html"))
	err := get(c)
	var ue *khipu.UnexpectedResponseError
	require.ErrorAs(t, err, &ue)
	assert.Equal(t, 502, ue.StatusCode)
	assert.True(t, bytes.HasPrefix(ue.Body, []byte("<html>")))
	assert.Contains(t, err.Error(), "without Khipu's JSON error")
	assert.Equal(t, 3, s.count(), "a 502 on a read is retried")
}

func TestTruncatedAndEmptyBodies(t *testing.T) {
	s, c := scripted(t, status(200, `{"payment_id":"abc","amount":10`))
	err := get(c)
	var ue *khipu.UnexpectedResponseError
	require.ErrorAs(t, err, &ue)
	assert.Equal(t, `{"payment_id":"abc","amount":10`, string(ue.Body))
	assert.Contains(t, err.Error(), "malformed JSON")
	assert.Equal(t, 1, s.count())

	s, c = scripted(t, status(200, " \n"))
	err = get(c)
	require.ErrorAs(t, err, &ue)
	assert.Contains(t, err.Error(), "empty body")
	assert.Equal(t, 1, s.count())
}

func TestAHugeBodyIsCapped(t *testing.T) {
	const size = 10 << 20
	var written atomic.Int64
	s, c := scripted(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		chunk := bytes.Repeat([]byte("a"), 64<<10)
		_, _ = io.WriteString(w, `{"payment_id":"`)
		for written.Load() < size {
			n, err := w.Write(chunk)
			written.Add(int64(n))
			if err != nil {
				return // the client hung up: good
			}
		}
	})
	err := get(c)
	var ue *khipu.UnexpectedResponseError
	require.ErrorAs(t, err, &ue)
	assert.Contains(t, err.Error(), "body larger than 1048576 bytes")
	assert.LessOrEqual(t, len(ue.Body), 1024, "only the start of the body is kept")
	assert.Equal(t, 1, s.count(), "an oversized body is not retried")
}

func TestAnEndlessBodyIsAbandonedNotDownloaded(t *testing.T) {
	const limit = 256 << 20 // far more than the socket buffers on both sides hold
	hungUp := make(chan bool, 1)
	_, c := scripted(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		chunk := bytes.Repeat([]byte("a"), 64<<10)
		for written := 0; written < limit; written += len(chunk) {
			if _, err := w.Write(chunk); err != nil {
				hungUp <- true
				return
			}
		}
		hungUp <- false
	})
	var ue *khipu.UnexpectedResponseError
	require.ErrorAs(t, get(c), &ue)
	assert.True(t, <-hungUp, "the client closed the connection instead of reading 256 MiB")
}

func TestAStallingServerEndsAtTheCallersDeadline(t *testing.T) {
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	stall := func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}
	for _, name := range []string{"read", "write"} {
		t.Run(name, func(t *testing.T) {
			s, c := scripted(t, stall)
			ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
			defer cancel()
			var err error
			if name == "read" {
				_, err = c.Payments.Get(ctx, "gqzdy6chjne9")
			} else {
				_, err = c.Payments.Confirm(ctx, "gqzdy6chjne9")
			}
			require.ErrorIs(t, err, context.DeadlineExceeded)
			assert.Equal(t, 1, s.count(), "no retry once the deadline has passed")
		})
	}
}

func TestTheHTTPClientTimeoutAndTheCallersDeadline(t *testing.T) {
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	s := &script{answers: []func(w http.ResponseWriter, r *http.Request){func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}}}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	newClient := func(timeout time.Duration) *khipu.Client {
		c, err := khipu.NewClient(testReceiverID, testSecret, khipu.WithBaseURL(srv.URL),
			khipu.WithHTTPClient(&http.Client{Timeout: timeout}), khipu.WithRetry(khipu.RetryPolicy{MaxRetries: 0}))
		require.NoError(t, err)
		return c
	}

	// The http.Client's timeout ends a call with no deadline of its own.
	err := get(newClient(100 * time.Millisecond))
	var ne net.Error
	require.ErrorAs(t, err, &ne)
	assert.True(t, ne.Timeout())
	assert.ErrorIs(t, err, context.DeadlineExceeded, "as the README says: one check covers both")

	// A caller's shorter deadline wins over a long timeout.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err = newClient(time.Minute).Payments.Get(ctx, "gqzdy6chjne9")
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Equal(t, 2, s.count())
}

func TestAConnectionClosedMidResponse(t *testing.T) {
	s, c := scripted(t, hijackClose)
	err := get(c)
	require.Error(t, err)
	var ue *khipu.UnexpectedResponseError
	assert.False(t, errors.As(err, &ue), "a broken connection is a transport error, not a bad response: %v", err)
	assert.ErrorIs(t, err, io.ErrUnexpectedEOF)
	assert.Contains(t, err.Error(), "GET /payments/gqzdy6chjne9")
	assert.Equal(t, 3, s.count(), "a read is retried after a transport error")

	// And it recovers when the server does.
	s, c = scripted(t, hijackClose, status(200, payment))
	require.NoError(t, get(c))
	assert.Equal(t, 2, s.count())
}

func TestARefusedConnectionIsRetriedForReadsOnly(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close()) // nothing listens there now
	var dials atomic.Int32
	transport := &http.Transport{DialContext: func(ctx context.Context, network, address string) (net.Conn, error) {
		dials.Add(1)
		return (&net.Dialer{}).DialContext(ctx, network, address)
	}}
	c, err := khipu.NewClient(testReceiverID, testSecret, khipu.WithBaseURL("http://"+addr+"/api/2.0"),
		khipu.WithHTTPClient(&http.Client{Transport: transport}),
		khipu.WithRetry(khipu.RetryPolicy{MaxRetries: 2, MinBackoff: time.Millisecond, MaxBackoff: time.Millisecond}))
	require.NoError(t, err)
	err = get(c)
	var oe *net.OpError
	require.ErrorAs(t, err, &oe)
	assert.Equal(t, "dial", oe.Op)
	assert.EqualValues(t, 3, dials.Load(), "the first attempt and two retries")

	dials.Store(0)
	err = writes["Payments.Create"](c)
	require.ErrorAs(t, err, &oe)
	assert.EqualValues(t, 1, dials.Load(), "a write is tried once, even when it surely did not arrive")
}

// fakeClock is a retry loop's clock that waits no real time: each Sleep
// records the wait and moves the time on by it.
type fakeClock struct {
	mu    sync.Mutex
	now   time.Time
	waits []time.Duration
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)} }

func (f *fakeClock) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.waits = append(f.waits, d)
	f.now = f.now.Add(d)
	return ctx.Err()
}

func (f *fakeClock) slept() []time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]time.Duration(nil), f.waits...)
}

// clocked is scripted with a fake clock: no test here waits for a
// Retry-After, however long, and each proves the wait it would have made.
func clocked(t *testing.T, answers ...func(w http.ResponseWriter, r *http.Request)) (*script, *khipu.Client, *fakeClock) {
	t.Helper()
	s, c := scripted(t, answers...)
	clock := newFakeClock()
	khipu.SetClock(c, clock)
	return s, c, clock
}

// deadline is a context for a call that waits on a fake clock: a
// regression that waited for real would end at this deadline, not hang. It
// is longer than any wait the client makes, so that it is the retry policy,
// not the deadline, that a test proves.
func deadline(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func TestRetryAfterIsHonoured(t *testing.T) {
	for header, want := range map[string]time.Duration{
		"1":                             time.Second,
		"7":                             7 * time.Second,
		"30":                            30 * time.Second, // the longest wait a client makes
		"Wed, 02 Dec 2026 12:00:12 GMT": 12 * time.Second, // an HTTP date, read against the clock
	} {
		s, c, clock := clocked(t, status(503, khipu503, "Retry-After", header), status(200, payment))
		_, err := c.Payments.Get(deadline(t), "gqzdy6chjne9")
		require.NoError(t, err, "Retry-After: %s", header)
		assert.Equal(t, 2, s.count(), "Retry-After: %s", header)
		assert.Equal(t, []time.Duration{want}, clock.slept(), "Retry-After: %s: the client waited as the server asked, not its 1 ms backoff", header)
	}
}

func TestARetryAfterTooLongEndsTheCallAtOnce(t *testing.T) {
	for _, after := range []string{"31", "120", "3600", "99999999999999999999", "Wed, 02 Dec 2026 12:00:31 GMT", "Wed, 02 Dec 2026 13:00:00 GMT"} {
		s, c, clock := clocked(t, status(503, khipu503, "Retry-After", after), status(200, payment))
		_, err := c.Payments.Get(deadline(t), "gqzdy6chjne9")
		var se *khipu.ServiceError
		require.ErrorAs(t, err, &se, "Retry-After: %s: the server's error, at once", after)
		assert.Equal(t, 1, s.count(), "Retry-After: %s", after)
		assert.Empty(t, clock.slept(), "Retry-After: %s: a wait over 30 s is not cut to 30 s, it is not made", after)
	}
}

func TestARetryAfterPastTheDeadlineEndsTheCallAtOnce(t *testing.T) {
	s, c, clock := clocked(t, status(503, khipu503, "Retry-After", "5"), status(200, payment))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_, err := c.Payments.Get(ctx, "gqzdy6chjne9")
	var se *khipu.ServiceError
	require.ErrorAs(t, err, &se, "the server's error, not a deadline the client would only wait for")
	assert.NoError(t, ctx.Err(), "it did not wait for the deadline")
	assert.Equal(t, 1, s.count())
	assert.Empty(t, clock.slept())
}

func TestCancellingDuringTheBackoffEndsTheCall(t *testing.T) {
	mux, c, _ := setup(t, khipu.WithRetry(khipu.RetryPolicy{MaxRetries: 2, MinBackoff: 5 * time.Second, MaxBackoff: 5 * time.Second}))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := &script{answers: []func(w http.ResponseWriter, r *http.Request){func(w http.ResponseWriter, r *http.Request) {
		status(503, khipu503)(w, r)
		time.AfterFunc(20*time.Millisecond, cancel) // while the client waits to retry
	}}}
	mux.Handle("/", s)
	_, err := c.Payments.Get(ctx, "gqzdy6chjne9")
	require.ErrorIs(t, err, context.Canceled)
	assert.Contains(t, err.Error(), "while waiting to retry")
	assert.Contains(t, err.Error(), "HTTP 503", "the error says what was being retried")
	assert.Equal(t, 1, s.count())
}

// TestOneClientSharedByManyGoroutines runs under -race in CI.
func TestOneClientSharedByManyGoroutines(t *testing.T) {
	const goroutines, calls = 64, 20
	var conns, requests atomic.Int64
	// The first request of every goroutine is held until all 64 are in
	// flight, so that start-up opens exactly one connection each. Without
	// that, net/http can dial one connection too many whoever the client
	// is: a request that found no idle connection starts a dial, is handed
	// one another request just freed, and the dialled one joins the pool.
	var arrived atomic.Int64
	allIn := make(chan struct{})
	gate := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if n := arrived.Add(1); n <= goroutines {
				if n == goroutines {
					close(allIn)
				}
				<-allIn
			}
			next.ServeHTTP(w, r)
		})
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/2.0/banks", func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		respond(w, 200, fixture(t, "banks.json"))
	})
	mux.HandleFunc("GET /api/2.0/payments/{id}", func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		respond(w, 200, []byte(strings.Replace(payment, "gqzdy6chjne9", r.PathValue("id"), 1)))
	})
	mux.HandleFunc("POST /api/2.0/payments", func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		assert.NoError(t, r.ParseForm()) // not require: this is the server's goroutine
		respond(w, 200, []byte(`{"payment_id":"`+r.PostForm.Get("transaction_id")+`"}`))
	})
	mux.HandleFunc("GET /api/2.0/merchants/{id}/paymentMethods", func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		respond(w, 200, fixture(t, "payment-methods.json"))
	})
	srv := httptest.NewUnstartedServer(gate(mux))
	srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	c, err := khipu.NewClient(testReceiverID, testSecret, khipu.WithBaseURL(srv.URL+"/api/2.0"))
	require.NoError(t, err)

	ctx := context.Background()
	errs := make(chan error, goroutines*calls)
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range calls {
				id := fmt.Sprintf("g%02dc%02d", g, i)
				var err error
				switch i % 4 {
				case 0:
					var banks []khipu.Bank
					if banks, err = c.Banks.List(ctx); err == nil && len(banks) != 4 {
						err = fmt.Errorf("%d banks", len(banks))
					}
				case 1:
					var p *khipu.Payment
					if p, err = c.Payments.Get(ctx, id); err == nil && p.PaymentID != id {
						err = fmt.Errorf("asked for %s, got %s", id, p.PaymentID)
					}
				case 2:
					var p *khipu.PaymentCreated
					p, err = c.Payments.Create(ctx, &khipu.PaymentCreateParams{Subject: "x", Currency: "CLP", Amount: khipu.NewAmount(1), TransactionID: id})
					if err == nil && p.PaymentID != id {
						err = fmt.Errorf("created %s, got %s", id, p.PaymentID)
					}
				case 3:
					var m []khipu.PaymentMethod
					if m, err = c.PaymentMethods.List(ctx, "12345"); err == nil && len(m) != 3 {
						err = fmt.Errorf("%d methods", len(m))
					}
				}
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	assert.EqualValues(t, goroutines*calls, requests.Load())
	// One connection per goroutine is what an idle machine shows. Under
	// load net/http may dial a spare when a request is sent before the
	// previous one's connection is back in the pool (it hands its conn back
	// from another goroutine); without reuse there would be one per request.
	assert.GreaterOrEqual(t, conns.Load(), int64(goroutines), "all goroutines were in flight at once")
	assert.LessOrEqual(t, conns.Load(), int64(2*goroutines), "connections are reused: %d for %d requests", conns.Load(), goroutines*calls)
}

func TestASuccessWithoutTheModelIsAnUnexpectedResponse(t *testing.T) {
	calls := map[string]struct {
		call    func(c *khipu.Client) (any, error)
		missing string
	}{
		"Payments.Get": {func(c *khipu.Client) (any, error) { return c.Payments.Get(context.Background(), "gqzdy6chjne9") }, "payment_id"},
		"Payments.Create": {func(c *khipu.Client) (any, error) {
			return c.Payments.Create(context.Background(), &khipu.PaymentCreateParams{Subject: "x", Currency: "CLP", Amount: khipu.NewAmount(1000)})
		}, "payment_id"},
		"Receivers.Create": {func(c *khipu.Client) (any, error) { return c.Receivers.Create(context.Background(), receiverParams()) }, "receiver_id"},
		"Banks.List":       {func(c *khipu.Client) (any, error) { return c.Banks.List(context.Background()) }, ""},
	}
	for name, tc := range calls {
		for _, body := range []string{"null", "{}", `{"unknown": 1}`} {
			if tc.missing == "" && body != "null" {
				continue // {} is an empty list of banks
			}
			t.Run(name+"/"+body, func(t *testing.T) {
				s, c := scripted(t, status(200, body))
				out, err := tc.call(c)
				assert.Nil(t, nilIfTypedNil(out), "no zero value passed off as Khipu's answer")
				var ue *khipu.UnexpectedResponseError
				require.ErrorAs(t, err, &ue)
				assert.Equal(t, 200, ue.StatusCode)
				if body == "null" {
					assert.Contains(t, err.Error(), "null where a JSON object was expected")
				} else {
					assert.Contains(t, err.Error(), "the response has no "+tc.missing)
				}
				assert.Equal(t, 1, s.count())
			})
		}
	}
	// A receiver whose answer lacks its secret is as useless as one
	// without an id.
	_, c := scripted(t, status(200, `{"receiver_id": 4242}`))
	_, err := c.Receivers.Create(context.Background(), receiverParams())
	assert.ErrorContains(t, err, "the response has no secret")
}

func TestKhipusAnswerIsKeptWhenTheContextEndsAfterIt(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// The client logs each attempt once its answer is read: a logger that
	// cancels the context then leaves the client holding a complete 400
	// and a context that has ended.
	mux, c, _ := setup(t, khipu.WithLogger(slog.New(cancelOnLog{cancel})))
	s := &script{answers: []func(w http.ResponseWriter, r *http.Request){
		status(400, `{"status":400,"message":"inválido","errors":[{"field":"amount","message":"muy grande"}]}`),
	}}
	mux.Handle("/", s)
	_, err := c.Payments.Create(ctx, &khipu.PaymentCreateParams{Subject: "x", Currency: "CLP", Amount: khipu.NewAmount(1000)})
	require.Error(t, ctx.Err())
	var ve *khipu.ValidationError
	require.ErrorAs(t, err, &ve, "Khipu refused the payment: the caller learns it was not created")
	assert.Equal(t, "amount", ve.Errors[0].Field)
	assert.Equal(t, 1, s.count())
}

// cancelOnLog is a slog.Handler that cancels a context on every record.
type cancelOnLog struct{ cancel context.CancelFunc }

func (h cancelOnLog) Enabled(context.Context, slog.Level) bool { return true }
func (h cancelOnLog) Handle(context.Context, slog.Record) error {
	h.cancel()
	return nil
}
func (h cancelOnLog) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h cancelOnLog) WithGroup(string) slog.Handler      { return h }

func TestRedirectsAreNotFollowed(t *testing.T) {
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("the redirect was followed: %s %s", r.Method, r.URL)
	}))
	defer target.Close()
	for _, code := range []int{301, 302, 303, 307, 308} {
		t.Run(fmt.Sprint(code), func(t *testing.T) {
			s, c := scripted(t, func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, target.URL+r.URL.Path, code)
			})
			_, err := c.Payments.Create(context.Background(), &khipu.PaymentCreateParams{Subject: "x", Currency: "CLP", Amount: khipu.NewAmount(1000)})
			var ue *khipu.UnexpectedResponseError
			require.ErrorAs(t, err, &ue)
			assert.Equal(t, code, ue.StatusCode)
			assert.Equal(t, 1, s.count())
		})
	}
}

func TestRedirectsAreNotFollowedWithTheCallersOwnHTTPClient(t *testing.T) {
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("the redirect was followed: %s %s with Authorization %q", r.Method, r.URL, r.Header.Get("Authorization"))
	}))
	defer target.Close()
	khipuSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.URL+r.URL.Path, http.StatusTemporaryRedirect)
	}))
	defer khipuSrv.Close()
	// An http.Client that follows redirects, as net/http's zero value does.
	c, err := khipu.NewClient(testReceiverID, testSecret, khipu.WithBaseURL(khipuSrv.URL), khipu.WithHTTPClient(&http.Client{}))
	require.NoError(t, err)
	_, err = c.Payments.Create(context.Background(), &khipu.PaymentCreateParams{Subject: "x", Currency: "CLP", Amount: khipu.NewAmount(1000)})
	var ue *khipu.UnexpectedResponseError
	require.ErrorAs(t, err, &ue)
	assert.Equal(t, http.StatusTemporaryRedirect, ue.StatusCode)
}

func TestABinaryBodyIsQuotedInTheError(t *testing.T) {
	body := strings.Repeat("\xff\xfe", 100) // 200 bytes that are not UTF-8
	_, c := scripted(t, status(502, body, "Content-Type", "application/octet-stream"))
	err := get(c)
	var ue *khipu.UnexpectedResponseError
	require.ErrorAs(t, err, &ue)
	assert.Equal(t, []byte(body), ue.Body)
	assert.Contains(t, err.Error(), `body "\xff\xfe\xff\xfe`, "the start of the body, escaped")
	assert.True(t, strings.HasSuffix(err.Error(), `"...`), "and cut: %s", err)

	// A multi-byte rune across the cut is not split.
	body = strings.Repeat("a", 119) + "ñandú" + strings.Repeat("b", 100)
	_, c = scripted(t, status(502, body, "Content-Type", "text/plain"))
	err = get(c)
	assert.Contains(t, err.Error(), `body "`+strings.Repeat("a", 119)+`"...`)
}

func TestTheDefaultHTTPClient(t *testing.T) {
	c, err := khipu.NewClient(testReceiverID, testSecret)
	require.NoError(t, err)
	hc := khipu.HTTPClientOf(c)
	assert.Equal(t, 30*time.Second, hc.Timeout, "a call without a deadline still ends")
	assert.Equal(t, khipu.DefaultTimeout, hc.Timeout)
	tr, ok := hc.Transport.(*http.Transport)
	require.True(t, ok)
	assert.GreaterOrEqual(t, tr.MaxIdleConnsPerHost, 64, "concurrent calls keep their connections")
	assert.NotNil(t, tr.Proxy, "HTTPS_PROXY is honoured")

	own := &http.Client{Timeout: 7 * time.Second, Transport: &http.Transport{}}
	c, err = khipu.NewClient(testReceiverID, testSecret, khipu.WithHTTPClient(own))
	require.NoError(t, err)
	assert.Same(t, own.Transport, khipu.HTTPClientOf(c).Transport, "the caller's transport is used")
	assert.Equal(t, 7*time.Second, khipu.HTTPClientOf(c).Timeout, "and its timeout")
	assert.Nil(t, own.CheckRedirect, "the caller's client is left as it was")
	c, err = khipu.NewClient(testReceiverID, testSecret, khipu.WithHTTPClient(nil))
	require.NoError(t, err)
	assert.Equal(t, 30*time.Second, khipu.HTTPClientOf(c).Timeout, "nil means the default")
}

func TestBackoffGrowsWithJitterBetweenItsBounds(t *testing.T) {
	const lo, hi = 100 * time.Millisecond, 1 * time.Second
	c, err := khipu.NewClient(testReceiverID, testSecret, khipu.WithRetry(khipu.RetryPolicy{MaxRetries: 5, MinBackoff: lo, MaxBackoff: hi}))
	require.NoError(t, err)
	for attempt, ceiling := range map[int]time.Duration{1: 2 * lo, 2: 4 * lo, 3: 8 * lo, 4: hi, 5: hi} {
		seen := map[time.Duration]bool{}
		for range 200 {
			d, ok := khipu.RetryWait(c, attempt, "")
			require.True(t, ok)
			require.GreaterOrEqual(t, d, lo, "retry %d", attempt)
			require.LessOrEqual(t, d, ceiling, "retry %d", attempt)
			seen[d] = true
		}
		assert.Greater(t, len(seen), 1, "retry %d: the waits are jittered", attempt)
	}

	// Retry-After raises the wait, up to 30 s; beyond, there is no retry.
	for header, want := range map[string]time.Duration{"5": 5 * time.Second, "30": 30 * time.Second, "0": 0} {
		d, ok := khipu.RetryWait(c, 1, header)
		require.True(t, ok, header)
		assert.GreaterOrEqual(t, d, max(want, lo), header)
		assert.LessOrEqual(t, d, max(want, 2*lo), header)
	}
	for _, header := range []string{"31", "99999999999999999999", time.Now().Add(time.Hour).UTC().Format(http.TimeFormat)} {
		_, ok := khipu.RetryWait(c, 1, header)
		assert.False(t, ok, header)
	}
	d, ok := khipu.RetryWait(c, 1, "soon")
	assert.True(t, ok, "an unreadable Retry-After is ignored")
	assert.LessOrEqual(t, d, 2*lo)
}
