package khipuv3

import (
	"log/slog"
	"net/http"

	"github.com/khipu-go/khipu"
	"github.com/khipu-go/khipu/internal/rest"
)

// Option configures a Client in NewClient.
type Option func(*Client) error

// WithHTTPClient makes the Client send its requests with hc. nil means the
// default: an http.Client with a 30 s timeout that does not follow
// redirects, on the transport that every client of this module made without
// this option shares (v2's included). The Client uses a copy of hc that never
// follows a redirect, whatever hc's CheckRedirect: net/http would send the
// x-api-key header on to the redirect's host. A 3xx answer is a
// *khipu.UnexpectedResponseError.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *Client) error {
		c.rest.HTTP = hc
		return nil
	}
}

// WithBaseURL sends the requests to u instead of DefaultBaseURL, typically a
// khiputest server's V3URL. u must be an absolute http or https URL without
// a query or fragment.
func WithBaseURL(u string) Option {
	return func(c *Client) error {
		base, err := rest.BaseURL(u)
		if err != nil {
			return &khipu.ParamError{Param: "base URL", Reason: err.Error()}
		}
		c.baseURL = base
		return nil
	}
}

// WithUserAgent prepends product (for example "myshop/1.2") to the
// User-Agent header "khipu-go/<version>".
func WithUserAgent(product string) Option {
	return func(c *Client) error {
		ua, err := rest.UserAgent(product, userAgent)
		if err != nil {
			return &khipu.ParamError{Param: "user agent", Reason: err.Error()}
		}
		c.rest.UserAgent = ua
		return nil
	}
}

// WithRetry sets how reads (GET) are retried, as in package khipu: only on a
// 502, 503 or 504 or a transport error, with exponential backoff and jitter,
// honouring Retry-After up to 30 s. Creating, deleting, confirming,
// refunding and charging are never retried.
func WithRetry(p khipu.RetryPolicy) Option {
	return func(c *Client) error {
		policy, err := rest.Policy(p).Normalize()
		if err != nil {
			return &khipu.ParamError{Param: "retry policy", Reason: err.Error()}
		}
		c.rest.Retry = policy
		return nil
	}
}

// WithLogger logs one debug record per attempt of every call to l: method,
// path, status, duration, attempt and Khipu's message. It never logs the API
// key, parameters or response bodies. Without it (or with nil) calls are
// not logged.
func WithLogger(l *slog.Logger) Option {
	return func(c *Client) error {
		c.rest.Logger = l
		return nil
	}
}
