// Package rest is the one request pipeline of khipu-go: the v2 client
// (package khipu) and the v3 client (package khipuv3) both hand it a
// prepared request and get back the decoded answer or a typed error.
//
// It sends the request, retries reads (GET) with backoff and Retry-After,
// reads bodies with a size cap and always closes them, turns every status
// but 2xx into an error, decodes the JSON, refuses redirects and logs one
// debug record per attempt. It knows nothing of Khipu's versions: the
// clients do authentication and body encoding, and the error types come
// from package khipu through Errors.
package rest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/khipu-go/khipu/internal/wire"
)

// MaxBody caps how much of a response is read: Khipu's largest answers are
// a few KiB, so anything near this is not Khipu's JSON.
const MaxBody = 1 << 20

// DefaultTimeout bounds every attempt of a client made without an
// http.Client of its own.
const DefaultTimeout = 30 * time.Second

// Errors makes the error types of package khipu, which this package cannot
// import (package khipu imports it).
type Errors interface {
	// Check returns nil for a 2xx status, and otherwise the typed error
	// for the answer.
	Check(status int, body []byte) error
	// Unexpected is the error for an answer that is not what was
	// expected: reason says what was wrong, cause (may be nil) why.
	Unexpected(status int, body []byte, reason string, cause error) error
	// LogAttr is err, from Check or Unexpected, as the attribute of a
	// debug record: Khipu's message, or what was wrong; never a body.
	LogAttr(err error) slog.Attr
	// LogText is the text of any error of a call for a log record: an
	// unexpected answer's without its body.
	LogText(err error) string
}

// KhipuErrors is package khipu's Errors. Package khipu sets it when it is
// initialised, which is before package khipuv3 (which imports khipu) can
// build a client.
var KhipuErrors Errors

// Client sends requests. Its fields are set once, before the first call.
type Client struct {
	HTTP      *http.Client
	UserAgent string
	Retry     Policy
	Logger    *slog.Logger // nil: no logging
	Errors    Errors
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
	// Secret says that a successful answer holds a secret: its body is
	// then never kept in an error.
	Secret bool
}

// Do sends req, retrying a GET as c.Retry allows, and decodes a 2xx answer's
// JSON into out (nil: the body is discarded).
//
// An answer that arrived is returned as it is, even when ctx ended just
// after. A call that got no complete answer because ctx ended returns an
// error wrapping ctx.Err().
func (c *Client) Do(ctx context.Context, req *Request, out any) error {
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
	for attempt := 1; ; attempt++ {
		a := c.attempt(ctx, req, attempt)
		if a.err == nil {
			return c.decode(req, a.status, a.body, out)
		}
		var te *transportError
		if errors.As(a.err, &te) && ctx.Err() != nil {
			// No complete answer arrived because the caller gave up.
			return fmt.Errorf("khipu: %s %s: %w", req.Method, req.Path, ctx.Err())
		}
		if attempt > retries || !a.retryable || ctx.Err() != nil {
			return a.err
		}
		wait, ok := c.Retry.wait(attempt, a.retryAfter)
		if deadline, has := ctx.Deadline(); !ok || has && time.Until(deadline) < wait {
			return a.err // the wait would outlast the Retry-After cap or the caller's deadline
		}
		if err := sleep(ctx, wait); err != nil {
			return fmt.Errorf("khipu: %s %s: %w (while waiting to retry after: %v)", req.Method, req.Path, err, a.err)
		}
	}
}

// result is what one attempt gave.
type result struct {
	status     int
	body       []byte
	err        error
	retryable  bool   // a read may be retried after this failure
	retryAfter string // the response's Retry-After header
}

// attempt sends the request once and reads the answer. Anything but a 2xx
// status is an error.
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
		r := result{err: &transportError{method: req.Method, path: req.Path, err: err}, retryable: true}
		c.log(ctx, req, n, 0, time.Since(start), r.err)
		return r
	}
	r := result{status: resp.StatusCode, retryAfter: resp.Header.Get("Retry-After")}
	r.body, err = io.ReadAll(io.LimitReader(resp.Body, MaxBody+1))
	resp.Body.Close()
	switch {
	case err != nil:
		r.err = &transportError{method: req.Method, path: req.Path, err: fmt.Errorf("reading response: %w", err)}
		r.retryable = true
	case len(r.body) > MaxBody:
		r.err = c.unexpected(req, resp.StatusCode, r.body, "body larger than "+strconv.Itoa(MaxBody)+" bytes", nil)
	default:
		r.err = c.Errors.Check(resp.StatusCode, r.body)
		switch resp.StatusCode {
		case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
			r.retryable = true
		}
	}
	c.log(ctx, req, n, resp.StatusCode, time.Since(start), r.err)
	return r
}

// decode reads a successful answer into out.
func (c *Client) decode(req *Request, status int, body []byte, out any) error {
	if out == nil {
		return nil
	}
	name := req.Method + " " + req.Path
	trimmed := trimmedBody(body)
	switch {
	case len(trimmed) == 0:
		return c.unexpected(req, status, nil, name+": empty body where JSON was expected", nil)
	case string(trimmed) == "null":
		return c.unexpected(req, status, body, name+": null where a JSON object was expected", nil)
	}
	if err := unmarshal(trimmed, out); err != nil {
		return c.unexpected(req, status, body, name+": malformed JSON", wire.CleanError(err))
	}
	return nil
}

// unmarshal decodes the JSON body into out. A model that decodes itself
// (Payment, PaymentCreated, Subscription...) is handed the body directly:
// json.Unmarshal would first scan all of it twice (to validate it, then to
// find where the value ends) before calling its UnmarshalJSON, which
// validates and decodes it again. Such a model must refuse anything but one
// whole JSON value, as every model does through wire.Object.
func unmarshal(body []byte, out any) error {
	if u, ok := out.(json.Unmarshaler); ok {
		return u.UnmarshalJSON(body)
	}
	return json.Unmarshal(body, out)
}

// trimmedBody is body without the JSON white space around it, which
// json.Unmarshal would not hand to an UnmarshalJSON method either.
func trimmedBody(body []byte) []byte { return bytes.Trim(body, " \t\r\n") }

// unexpected makes the error for an answer that is not what was expected,
// without the body of a successful answer that holds a secret.
func (c *Client) unexpected(req *Request, status int, body []byte, reason string, cause error) error {
	if req.Secret && status >= 200 && status <= 299 && len(body) > 0 {
		body = []byte("[redacted: this response carries a secret]")
	}
	return c.Errors.Unexpected(status, body, reason, cause)
}

// log writes one debug record for an attempt: method, path, attempt, status,
// duration and what went wrong, never a header, a parameter or a body.
func (c *Client) log(ctx context.Context, req *Request, attempt, status int, d time.Duration, err error) {
	if c.Logger == nil || !c.Logger.Enabled(ctx, slog.LevelDebug) {
		return
	}
	attrs := []slog.Attr{
		slog.String("method", req.Method),
		slog.String("path", req.Path),
		slog.Int("attempt", attempt),
		slog.Int("status", status),
		slog.Duration("duration", d),
	}
	var te *transportError
	switch {
	case err == nil:
	case errors.As(err, &te):
		attrs = append(attrs, slog.String("error", te.cause()))
	default:
		attrs = append(attrs, c.Errors.LogAttr(err))
	}
	c.Logger.LogAttrs(ctx, slog.LevelDebug, "khipu request", attrs...)
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
