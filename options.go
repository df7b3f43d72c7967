package khipu

import (
	"log/slog"
	"net/http"

	"github.com/khipu-go/khipu/internal/rest"
)

// Option configures a Client in NewClient.
type Option func(*Client) error

// WithHTTPClient makes the Client send its requests with hc. nil means the
// default: an http.Client with a 30 s timeout that does not follow
// redirects, on one transport shared by every Client made without this
// option (one pool of connections however many accounts a program serves).
// A context deadline shorter than hc's timeout always wins. The Client uses
// a copy of hc that never follows a redirect, whatever hc's CheckRedirect:
// Khipu does not redirect its API, and a signed request must not go
// anywhere else; a 3xx answer is an UnexpectedResponseError.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *Client) error {
		c.rest.HTTP = hc
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
		base, err := rest.BaseURL(u)
		if err != nil {
			return &ParamError{Param: "base URL", Reason: err.Error()}
		}
		c.baseURL = base
		return nil
	}
}

// WithUserAgent prepends product (for example "myshop/1.2") to the
// User-Agent header "khipu-go/<Version>".
func WithUserAgent(product string) Option {
	return func(c *Client) error {
		ua, err := rest.UserAgent(product, userAgent)
		if err != nil {
			return &ParamError{Param: "user agent", Reason: err.Error()}
		}
		c.rest.UserAgent = ua
		return nil
	}
}

// WithRetry sets the retry policy of GET requests (see RetryPolicy). Waits
// grow exponentially from MinBackoff to MaxBackoff with jitter, honour a
// Retry-After header up to 30 s, and end as soon as the context ends.
func WithRetry(p RetryPolicy) Option {
	return func(c *Client) error {
		policy, err := rest.Policy(p).Normalize()
		if err != nil {
			return &ParamError{Param: "retry policy", Reason: err.Error()}
		}
		c.rest.Retry = policy
		return nil
	}
}

// WithLogger logs one debug record per attempt of every call to l: method,
// path, status, duration, attempt and Khipu's message. It never logs the
// secret, the Authorization header, parameters or response bodies. Without
// it (or with nil) calls are not logged.
//
// A NotificationHandler logs the notifications it refuses, and the errors
// of its function, to l at warn and error level (to slog.Default() when the
// Client has no logger).
func WithLogger(l *slog.Logger) Option {
	return func(c *Client) error {
		c.rest.Logger = l
		return nil
	}
}
