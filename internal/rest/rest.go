// Package rest is the one request pipeline of khipu-go: the v2 client
// (package khipu) and the v3 client (package khipuv3) both hand it a
// prepared request and get back the plain HTTP answer.
//
// It sends the request, retries reads (GET) with backoff and Retry-After,
// reads bodies with a size cap and always closes them, refuses redirects and
// logs one debug record per attempt. It knows nothing of Khipu's versions or
// of the typed errors: the clients do authentication and body encoding, and
// each maps the answer to its errors in one function of its own (go-github's
// CheckResponse); ParseError is the part of that mapping they share.
package rest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"
)

// MaxBody caps how much of a response is read: Khipu's largest answers are
// a few KiB, so anything near this is not Khipu's JSON. Do reads at most
// MaxBody+1 bytes, so that a client can tell a body over the cap.
const MaxBody = 1 << 20

// DefaultTimeout bounds every attempt of a client made without an
// http.Client of its own.
const DefaultTimeout = 30 * time.Second

// Client sends requests. Its fields are set once, before the first call.
type Client struct {
	HTTP      *http.Client
	UserAgent string
	Retry     Policy
	Logger    *slog.Logger // nil: no logging
	// Clock is the time the retry loop reads (to read a Retry-After date)
	// and waits on between attempts; nil is the real one. Tests set a fake
	// one, to prove a wait without waiting for it.
	Clock Clock
}

// Clock is what the retry loop needs of time.
type Clock interface {
	Now() time.Time
	// Sleep waits d, or until ctx ends, and then returns ctx.Err().
	Sleep(ctx context.Context, d time.Duration) error
}

// realClock is the Clock of a Client whose Clock is nil.
type realClock struct{}

func (realClock) Now() time.Time                                   { return time.Now() }
func (realClock) Sleep(ctx context.Context, d time.Duration) error { return sleep(ctx, d) }

func (c *Client) clock() Clock {
	if c.Clock == nil {
		return realClock{}
	}
	return c.Clock
}

// Apply runs the options of a client's constructor on c, skipping nil
// ones, and stops at the first error.
func Apply[C any, O ~func(C) error](c C, opts []O) error {
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt(c); err != nil {
			return err
		}
	}
	return nil
}

// Request is one call, prepared by a client.
type Request struct {
	Method string
	URL    string // the full URL, query included
	// Path names the call in errors and logs: the path below the base
	// URL, without the query (it may hold a notification token).
	Path   string
	Header http.Header // authentication, Accept, Content-Type; Do adds User-Agent
	Body   []byte      // nil: no body
}

// Do sends req, retrying a GET as c.Retry allows, and returns the last
// answer that arrived: its status and headers (resp.Body is read and closed;
// resp.Request is the request sent) and at most MaxBody+1 bytes of its body.
// Any status is an answer, not an error: the client maps it to its typed
// errors.
//
// The error is for a call that got no answer: the request could not be
// built, the connection failed or broke, or ctx ended. An answer that
// arrived is returned as it is, even when ctx ended just after; a call that
// got no complete answer because ctx ended returns an error wrapping
// ctx.Err().
func (c *Client) Do(ctx context.Context, req *Request) (*http.Response, []byte, error) {
	if req.Header == nil {
		req.Header = make(http.Header)
	}
	// Set once: every attempt sends this same header, which nothing
	// changes after this line.
	req.Header.Set("User-Agent", c.UserAgent)
	retries := 0
	if req.Method == http.MethodGet {
		retries = c.Retry.MaxRetries
	}
	clock := c.clock()
	for attempt := 1; ; attempt++ {
		a := c.attempt(ctx, req, attempt)
		if a.err != nil && ctx.Err() != nil && a.transport {
			// No complete answer arrived because the caller gave up.
			return nil, nil, fmt.Errorf("khipu: %s %s: %w", req.Method, req.Path, ctx.Err())
		}
		if attempt > retries || !a.retryable || ctx.Err() != nil {
			return a.resp, a.body, a.err
		}
		wait, ok := c.Retry.wait(attempt, a.retryAfter(), clock.Now())
		if deadline, has := ctx.Deadline(); !ok || has && time.Until(deadline) < wait {
			// The wait would outlast the Retry-After cap or the caller's
			// deadline: the answer (or failure) is the call's.
			return a.resp, a.body, a.err
		}
		if err := clock.Sleep(ctx, wait); err != nil {
			return nil, nil, fmt.Errorf("khipu: %s %s: %w (while waiting to retry after: %s)", req.Method, req.Path, err, a.summary())
		}
	}
}

// result is what one attempt gave: an answer, or an error.
type result struct {
	resp      *http.Response
	body      []byte
	err       error
	transport bool // err is a transport error: no complete answer arrived
	retryable bool // a read may be retried after this answer or failure
}

// summary says in a few words what the attempt gave, for an error: the
// failure, or the status and Khipu's message.
func (r result) summary() string {
	if r.err != nil {
		return r.err.Error()
	}
	s := "HTTP " + strconv.Itoa(r.resp.StatusCode)
	if e, ok, _ := ParseError(r.body); ok && e.Message != "" {
		s += ": " + OneLine(e.Message)
	}
	return s
}

func (r result) retryAfter() string {
	if r.resp == nil {
		return ""
	}
	return r.resp.Header.Get("Retry-After")
}

// attempt sends the request once and reads the answer.
func (c *Client) attempt(ctx context.Context, req *Request, n int) result {
	var body io.Reader
	if req.Body != nil {
		body = bytes.NewReader(req.Body)
	}
	hr, err := http.NewRequestWithContext(ctx, req.Method, req.URL, body)
	if err != nil {
		return result{err: fmt.Errorf("khipu: %s %s: building request: %w", req.Method, req.Path, err)}
	}
	hr.Header = req.Header

	start := time.Now()
	resp, err := c.HTTP.Do(hr)
	if err != nil {
		r := result{err: &transportError{method: req.Method, path: req.Path, err: err}, transport: true, retryable: true}
		c.log(ctx, req, n, 0, time.Since(start), slog.String("error", r.err.(*transportError).cause()))
		return r
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, MaxBody+1))
	resp.Body.Close()
	resp.Body = http.NoBody
	if err != nil {
		te := &transportError{method: req.Method, path: req.Path, err: fmt.Errorf("reading response: %w", err)}
		c.log(ctx, req, n, resp.StatusCode, time.Since(start), slog.String("error", te.cause()))
		return result{err: te, transport: true, retryable: true}
	}
	r := result{resp: resp, body: data}
	switch resp.StatusCode {
	case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		r.retryable = len(data) <= MaxBody
	}
	if c.logs(ctx) {
		c.log(ctx, req, n, resp.StatusCode, time.Since(start), answerAttr(resp.StatusCode, data))
	}
	return r
}

// log writes one debug record for an attempt: method, path, attempt, status,
// duration and what went wrong (what, if it is not empty), never a header, a
// parameter or a body.
func (c *Client) log(ctx context.Context, req *Request, attempt, status int, d time.Duration, what slog.Attr) {
	if !c.logs(ctx) {
		return
	}
	c.Logger.LogAttrs(ctx, slog.LevelDebug, "khipu request",
		slog.String("method", req.Method),
		slog.String("path", req.Path),
		slog.Int("attempt", attempt),
		slog.Int("status", status),
		slog.Duration("duration", d),
		what,
	)
}

// logs says whether c writes debug records.
func (c *Client) logs(ctx context.Context) bool {
	return c.Logger != nil && c.Logger.Enabled(ctx, slog.LevelDebug)
}

// transportError is a request that got no complete response: the connection
// failed, or broke while the body was read. It wraps the net/http error, so
// errors.Is sees context and net errors through it.
type transportError struct {
	method, path string
	err          error
}

func (e *transportError) Error() string {
	return fmt.Sprintf("khipu: %s %s: %s", e.method, e.path, e.cause())
}

// cause is the underlying error's text without the URL net/http puts in it,
// which can hold a notification token.
func (e *transportError) cause() string {
	var ue *url.Error
	if errors.As(e.err, &ue) {
		return ue.Err.Error()
	}
	return e.err.Error()
}

func (e *transportError) Unwrap() error { return e.err }

// sharedTransport is the transport of every client made without an
// http.Client of its own, so that an integrator with many accounts has one
// pool of connections, not one per account.
var sharedTransport = sync.OnceValue(func() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	// net/http keeps 2 idle connections per host: a busy shop's
	// concurrent calls would open and close connections all the time.
	t.MaxIdleConns = 100
	t.MaxIdleConnsPerHost = 100
	return t
})

// HTTPClient is the http.Client a client sends its requests with: a copy of
// hc that does not follow redirects, or, for nil, an http.Client with a 30 s
// timeout on the shared transport.
//
// Khipu does not redirect its API. Following a redirect would send an
// authenticated request somewhere it was not meant for (net/http keeps
// headers such as x-api-key on a redirect to another host) or turn a POST
// into a GET; the 3xx is returned as an error instead, whatever http.Client
// the caller gave.
func HTTPClient(hc *http.Client) *http.Client {
	if hc == nil {
		hc = &http.Client{Timeout: DefaultTimeout, Transport: sharedTransport()}
	}
	noRedirects := *hc
	noRedirects.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &noRedirects
}
