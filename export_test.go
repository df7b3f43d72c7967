package khipu

import (
	"net/http"
	"time"

	"github.com/khipu-go/khipu/internal/rest"
	"github.com/khipu-go/khipu/internal/webhook"
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

// NotificationWaiters is how many deliveries of token h (a
// Client.NotificationHandler) is processing or holding: the first and the
// duplicates waiting for its answer.
func NotificationWaiters(h http.Handler, token string) int {
	return h.(*webhook.Handler[string]).Users(token)
}
