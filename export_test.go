package khipu

import (
	"net/http"
	"time"

	"github.com/khipu-go/khipu/internal/rest"
)

// HTTPClientOf is the http.Client c sends its requests with.
func HTTPClientOf(c *Client) *http.Client { return c.rest.HTTP }

// RetryWait is how long c waits before retry number attempt, given the
// answer's Retry-After header, and false when it does not retry.
func RetryWait(c *Client, attempt int, retryAfter string) (time.Duration, bool) {
	return c.rest.Retry.Wait(attempt, retryAfter, time.Now())
}

// SetClock makes c's retry loop read the time from clock and wait on it.
func SetClock(c *Client, clock rest.Clock) { c.rest.Clock = clock }
