package khipu

import (
	"net/http"
	"time"
)

// DecodePaymentBody is how the client decodes a payment response, for the
// benchmarks of package khipu_test.
func DecodePaymentBody(p *Payment, body []byte) error { return p.decodeBody(body) }

// HTTPClientOf is the http.Client c sends its requests with.
func HTTPClientOf(c *Client) *http.Client { return c.hc }

// RetryWait is how long c waits before retry number attempt, given the
// answer's Retry-After header, and false when it does not retry.
func RetryWait(c *Client, attempt int, retryAfter string) (time.Duration, bool) {
	return c.retry.wait(attempt, retryAfter)
}
