package khipu

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
	"strings"
	"sync"
	"time"

	"github.com/google/go-querystring/query"

	"github.com/khipu-go/khipu/internal/sign"
)

// DefaultBaseURL is the address of Khipu's REST API v2.
const DefaultBaseURL = "https://khipu.com/api/2.0"

// Version is this library's version. It is sent in the User-Agent header.
const Version = "0.1.0"

// DefaultTimeout is the timeout of the http.Client a Client uses when none is
// given: a whole call, body included, never takes longer.
const DefaultTimeout = 30 * time.Second

// maxResponseBody caps how much of a response is read: Khipu's largest
// answers are a few KiB, so anything near this is not Khipu's JSON.
const maxResponseBody = 1 << 20

// Client calls Khipu's REST API v2 for one collection account. Create it once
// with NewClient and share it: it is safe for concurrent use by many
// goroutines and reuses connections.
//
// Its printed form shows the receiver id and the base URL, never the secret.
type Client struct {
	Banks          *BanksService
	Payments       *PaymentsService
	Receivers      *ReceiversService
	PaymentMethods *PaymentMethodsService

	receiverID string
	signer     *sign.Signer
	hc         *http.Client
	baseURL    string // without a trailing slash
	userAgent  string
	retry      RetryPolicy
	logger     *slog.Logger // nil: no logging
}

// Option configures a Client in NewClient.
type Option func(*Client) error

// NewClient returns a Client for the collection account receiverID (numeric)
// signing with secret. It fails on empty or malformed credentials and on a bad
// option; the error never contains the secret.
func NewClient(receiverID, secret string, opts ...Option) (*Client, error) {
	if receiverID == "" {
		return nil, &ParamError{Param: "receiverID", Reason: "is empty"}
	}
	if !allDigits(receiverID) {
		// Not echoed: a swapped receiverID and secret would print the secret.
		return nil, &ParamError{Param: "receiverID", Reason: "must be the numeric id of the collection account (are receiverID and secret swapped?)"}
	}
	if secret == "" {
		return nil, &ParamError{Param: "secret", Reason: "is empty"}
	}
	if strings.TrimSpace(secret) != secret {
		return nil, &ParamError{Param: "secret", Reason: "has leading or trailing white space"}
	}
	c := &Client{
		receiverID: receiverID,
		signer:     sign.New(receiverID, secret),
		baseURL:    DefaultBaseURL,
		userAgent:  "khipu-go/" + Version,
		retry:      defaultRetryPolicy,
	}
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt(c); err != nil {
			return nil, err
		}
	}
	if c.hc == nil {
		c.hc = defaultHTTPClient()
	}
	c.Banks = &BanksService{client: c}
	c.Payments = &PaymentsService{client: c}
	c.Receivers = &ReceiversService{client: c}
	c.PaymentMethods = &PaymentMethodsService{client: c}
	return c, nil
}

// defaultHTTPClient has a timeout and keeps enough idle connections for a
// busy shop: net/http's default keeps only 2 per host, so concurrent calls
// would open and close connections all the time.
func defaultHTTPClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = 100
	t.MaxIdleConnsPerHost = 100
	return &http.Client{
		Timeout:   DefaultTimeout,
		Transport: t,
		// Khipu does not redirect its API. Following a redirect would send
		// a signed request somewhere it was not signed for, or turn a POST
		// into a GET; the 3xx is returned as an UnexpectedResponseError.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// WithHTTPClient makes the Client send its requests with hc. nil means the
// default: an http.Client with a 30 s timeout. A context deadline shorter
// than hc's timeout always wins.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *Client) error {
		c.hc = hc
		return nil
	}
}

// WithBaseURL sends the requests to u instead of DefaultBaseURL, typically a
// khiputest server. u must be an absolute http or https URL without a query
// or fragment.
//
// Requests are signed for the URL they are sent to, so a reverse proxy at
// another address gets requests Khipu would refuse. To reach Khipu through
// an outbound HTTP proxy, keep the base URL and set the proxy on the
// transport: the default one honours HTTPS_PROXY, or pass WithHTTPClient
// with a Transport whose Proxy is set.
func WithBaseURL(u string) Option {
	return func(c *Client) error {
		parsed, err := url.Parse(u)
		if err != nil {
			return &ParamError{Param: "base URL", Reason: err.Error()}
		}
		if (parsed.Scheme != "https" && parsed.Scheme != "http") || parsed.Host == "" {
			return &ParamError{Param: "base URL", Reason: "must be an absolute http or https URL"}
		}
		if parsed.RawQuery != "" || parsed.ForceQuery || parsed.Fragment != "" || parsed.User != nil {
			return &ParamError{Param: "base URL", Reason: "must not have a query, a fragment or user info"}
		}
		c.baseURL = strings.TrimRight(parsed.String(), "/")
		return nil
	}
}

// WithUserAgent prepends product (for example "myshop/1.2") to the
// User-Agent header "khipu-go/<Version>".
func WithUserAgent(product string) Option {
	return func(c *Client) error {
		product = strings.TrimSpace(product)
		if product == "" {
			return &ParamError{Param: "user agent", Reason: "is empty"}
		}
		for _, r := range product {
			if r < 0x20 || r == 0x7f {
				return &ParamError{Param: "user agent", Reason: "has a control character"}
			}
		}
		c.userAgent = product + " khipu-go/" + Version
		return nil
	}
}

// WithLogger logs one debug record per attempt of every call to l: method,
// path, status, duration, attempt and Khipu's error message. It never logs the
// secret, the Authorization header, parameters or response bodies. Without
// it (or with nil) nothing is logged.
func WithLogger(l *slog.Logger) Option {
	return func(c *Client) error {
		c.logger = l
		return nil
	}
}

// ReceiverID returns the collection account this Client signs for.
func (c *Client) ReceiverID() string { return c.receiverID }

// String describes the Client without its secret.
func (c *Client) String() string {
	return "khipu.Client{receiverID: " + c.receiverID + ", baseURL: " + c.baseURL + ", secret: [redacted]}"
}

// GoString hides the secret from %#v.
func (c *Client) GoString() string { return c.String() }

// Format hides the secret from every fmt verb.
func (c *Client) Format(f fmt.State, verb rune) { _, _ = io.WriteString(f, c.String()) }

// call is the one request pipeline every service method uses: encode params,
// sign exactly what is sent, send (retrying only safe reads), turn the status
// into a typed error and decode the JSON into out.
func (c *Client) call(ctx context.Context, method, path string, params any, out any) error {
	if ctx == nil {
		return &ParamError{Param: "ctx", Reason: "is nil"}
	}
	var values url.Values
	if fe, ok := params.(formEncoder); ok {
		values = fe.formValues()
	} else if params != nil {
		v, err := query.Values(params)
		if err != nil {
			return fmt.Errorf("khipu: encoding parameters: %w", err)
		}
		values = v
	}
	endpoint := c.baseURL + path
	auth := c.signer.Authorization(method, endpoint, values)
	encoded := values.Encode()
	target := endpoint
	if method != http.MethodPost && encoded != "" {
		target += "?" + encoded
	}
	retries := 0
	if method == http.MethodGet {
		retries = c.retry.MaxRetries
	}
	for attempt := 1; ; attempt++ {
		o := c.attempt(ctx, method, path, target, auth, encoded, attempt)
		if o.err == nil {
			err := c.decode(method, path, o.status, o.body, out)
			putBody(o.buf) // decode copied what it keeps
			return redactSecret(out, err)
		}
		putBody(o.buf) // errors hold copies of the body
		var te *transportError
		if errors.As(o.err, &te) && ctx.Err() != nil {
			// No complete answer arrived because the caller gave up. An
			// answer that did arrive (a 400, say) is Khipu's word and is
			// returned as it is.
			return fmt.Errorf("khipu: %s %s: %w", method, path, ctx.Err())
		}
		if attempt > retries || !o.retryable || ctx.Err() != nil {
			return redactSecret(out, o.err)
		}
		wait, ok := c.retry.wait(attempt, o.retryAfter)
		if deadline, has := ctx.Deadline(); !ok || has && time.Until(deadline) < wait {
			return o.err // the wait would outlast the Retry-After cap or the caller's deadline
		}
		if err := sleep(ctx, wait); err != nil {
			return fmt.Errorf("khipu: %s %s: %w (while waiting to retry after: %v)", method, path, err, o.err)
		}
	}
}

// formEncoder is implemented by the params of hot calls, which encode
// themselves exactly as query.Values would, without its reflection.
type formEncoder interface{ formValues() url.Values }

// outcome is the result of one attempt.
type outcome struct {
	status     int
	body       []byte  // a 2xx response's body, read whole
	buf        *[]byte // the pooled buffer body lives in, for putBody
	err        error
	retryable  bool   // a read may be retried after this failure
	retryAfter string // the response's Retry-After header
}

// attempt sends the request once and reads the response. Anything but a 2xx
// status is an error.
func (c *Client) attempt(ctx context.Context, method, path, target, auth, form string, n int) outcome {
	var body io.Reader
	if method == http.MethodPost {
		body = strings.NewReader(form)
	}
	req, err := http.NewRequestWithContext(ctx, method, target, body)
	if err != nil {
		return outcome{err: fmt.Errorf("khipu: %s %s: building request: %w", method, path, err)}
	}
	// What Header.Set does, with one allocation for the four values: the
	// keys are already canonical.
	hv := [...]string{auth, "application/json", c.userAgent, "application/x-www-form-urlencoded"}
	vals := hv[:]
	req.Header["Authorization"] = vals[0:1:1]
	req.Header["Accept"] = vals[1:2:2]
	req.Header["User-Agent"] = vals[2:3:3]
	if method == http.MethodPost {
		req.Header["Content-Type"] = vals[3:4:4]
	}
	start := time.Now()
	resp, err := c.hc.Do(req)
	if err != nil {
		o := outcome{err: &transportError{method: method, path: path, err: err}, retryable: true}
		c.log(ctx, method, path, n, 0, time.Since(start), o.err)
		return o
	}
	o := outcome{status: resp.StatusCode, retryAfter: resp.Header.Get("Retry-After")}
	var readErr error
	o.buf, readErr = readBody(resp)
	raw := *o.buf
	switch {
	case errors.Is(readErr, errBodyTooLarge):
		o.err = newUnexpected(resp.StatusCode, raw, "body larger than "+strconv.Itoa(maxResponseBody)+" bytes", nil)
	case readErr != nil:
		o.err = &transportError{method: method, path: path, status: resp.StatusCode, err: fmt.Errorf("reading response: %w", readErr)}
		o.retryable = true
	default:
		o.err = checkResponse(resp.StatusCode, raw)
		o.body = raw
		switch resp.StatusCode {
		case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
			o.retryable = true
		}
	}
	c.log(ctx, method, path, n, resp.StatusCode, time.Since(start), o.err)
	return o
}

var errBodyTooLarge = errors.New("response body too large")

// bodyPool recycles response buffers: a call's body is garbage as soon as it
// is decoded (json.Unmarshal and every error copy what they keep), so
// steady-state calls read their bodies without allocating.
var bodyPool = sync.Pool{New: func() any { b := make([]byte, 0, 4<<10); return &b }}

// putBody returns a buffer from readBody to the pool; the bytes in it must
// no longer be used. Buffers that grew large are left to the collector.
func putBody(buf *[]byte) {
	if buf != nil && cap(*buf) <= 64<<10 {
		*buf = (*buf)[:0]
		bodyPool.Put(buf)
	}
}

// readBody reads at most maxResponseBody bytes into a pooled buffer (give it
// back with putBody) and always closes the body. A body read to its end lets
// the connection be reused; one over the cap is abandoned rather than
// downloaded. It is io.ReadAll(io.LimitReader(...)) with a reused buffer
// sized from Content-Length.
func readBody(resp *http.Response) (*[]byte, error) {
	defer resp.Body.Close()
	buf := bodyPool.Get().(*[]byte)
	b := (*buf)[:0]
	if n := resp.ContentLength; n > int64(cap(b)) && n <= maxResponseBody {
		b = make([]byte, 0, n)
	}
	for {
		if len(b) > maxResponseBody {
			*buf = b
			return buf, errBodyTooLarge
		}
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)] // grow
		}
		n, err := resp.Body.Read(b[len(b):min(cap(b), maxResponseBody+1)])
		b = b[:len(b)+n]
		if err != nil {
			*buf = b
			if err == io.EOF {
				if len(b) > maxResponseBody {
					return buf, errBodyTooLarge
				}
				return buf, nil
			}
			return buf, err
		}
	}
}

// khipuError is the JSON body of Khipu's error responses.
type khipuError struct {
	Status  int          `json:"status"`
	Message string       `json:"message"`
	Errors  []FieldError `json:"errors"`
}

// checkResponse turns every status but 2xx into a typed error, in one place.
func checkResponse(status int, body []byte) error {
	if status >= 200 && status <= 299 {
		return nil
	}
	var ke khipuError
	if err := json.Unmarshal(body, &ke); err != nil || ke.Message == "" && len(ke.Errors) == 0 {
		reason := "HTTP status " + strconv.Itoa(status) + " without Khipu's JSON error"
		return newUnexpected(status, body, reason, err)
	}
	switch {
	case status == http.StatusBadRequest:
		return &ValidationError{StatusCode: status, Message: ke.Message, Errors: ke.Errors}
	case status == http.StatusForbidden:
		return &AuthorizationError{StatusCode: status, Message: ke.Message}
	case status >= 500:
		return &ServiceError{StatusCode: status, Message: ke.Message}
	default:
		return newUnexpected(status, body, "HTTP status Khipu does not use", nil)
	}
}

// bodyDecoder is implemented by models whose UnmarshalJSON decodes the whole
// document itself; decode calls it directly to save a pass over the body.
type bodyDecoder interface{ decodeBody(body []byte) error }

// decode reads a successful response into out.
func (c *Client) decode(method, path string, status int, body []byte, out any) error {
	switch trimmed := bytes.TrimSpace(body); {
	case len(trimmed) == 0:
		return newUnexpected(status, nil, method+" "+path+": empty body where JSON was expected", nil)
	case string(trimmed) == "null":
		return newUnexpected(status, body, method+" "+path+": null where a JSON object was expected", nil)
	}
	var err error
	if d, ok := out.(bodyDecoder); ok {
		err = d.decodeBody(body)
	} else {
		err = json.Unmarshal(body, out)
	}
	if err != nil {
		return newUnexpected(status, body, method+" "+path+": malformed JSON", err)
	}
	if c, ok := out.(completer); ok {
		if missing := c.missing(); missing != "" {
			return newUnexpected(status, body, method+" "+path+": the response has no "+missing, nil)
		}
	}
	return nil
}

// completer is implemented by models that are useless without some field:
// a 200 answer of null or {} must not become a payment with no id.
type completer interface{ missing() string }

// redactSecret removes the body from an UnexpectedResponseError to a call
// whose successful answer carries a secret (Receivers.Create): a malformed,
// truncated or oversized body may still hold it.
func redactSecret(out any, err error) error {
	if _, secret := out.(*ReceiverCreated); !secret || err == nil {
		return err
	}
	var ue *UnexpectedResponseError
	if errors.As(err, &ue) && ue.StatusCode >= 200 && ue.StatusCode <= 299 && len(ue.Body) > 0 {
		ue.Body = []byte("[redacted: this response carries a secret]")
	}
	return err
}

// log writes one debug record for an attempt. It costs one check when no
// logger is set or debug records are off.
func (c *Client) log(ctx context.Context, method, path string, attempt, status int, d time.Duration, err error) {
	if c.logger == nil || !c.logger.Enabled(ctx, slog.LevelDebug) {
		return
	}
	attrs := []slog.Attr{
		slog.String("method", method),
		slog.String("path", path),
		slog.Int("attempt", attempt),
		slog.Int("status", status),
		slog.Duration("duration", d),
	}
	if msg := khipuMessage(err); msg != "" {
		attrs = append(attrs, slog.String("khipu_message", msg))
	} else if err != nil {
		attrs = append(attrs, slog.String("error", errorText(err)))
	}
	c.logger.LogAttrs(ctx, slog.LevelDebug, "khipu request", attrs...)
}

// khipuMessage is Khipu's own message in an API error, if err is one.
func khipuMessage(err error) string {
	var (
		ve *ValidationError
		ae *AuthorizationError
		se *ServiceError
	)
	switch {
	case errors.As(err, &ve):
		return ve.Message
	case errors.As(err, &ae):
		return ae.Message
	case errors.As(err, &se):
		return se.Message
	}
	return ""
}

// errorText is err's message for a log record: a transport error without
// its URL, which can hold a notification token, and an unexpected response
// without its body, which can hold a secret or an e-mail address.
func errorText(err error) string {
	var (
		te *transportError
		ue *UnexpectedResponseError
	)
	switch {
	case errors.As(err, &te):
		return te.cause()
	case errors.As(err, &ue):
		return ue.summary()
	}
	return err.Error()
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// validID refuses an id that could change the URL path: only letters, digits,
// '-' and '_' reach it.
func validID(param, id string) error {
	if id == "" {
		return &ParamError{Param: param, Reason: "is empty"}
	}
	if len(id) > 64 {
		return &ParamError{Param: param, Reason: "is longer than 64 characters"}
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return &ParamError{Param: param, Reason: fmt.Sprintf("has %q at byte %d: only letters, digits, '-' and '_' are allowed", c, i)}
		}
	}
	return nil
}
