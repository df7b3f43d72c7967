package khipu

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// RetryPolicy says how GET requests are retried. Only reads are ever retried,
// and only on a 502, 503 or 504 status or a transport error: Khipu API v2 has
// no idempotency keys, so repeating a POST or DELETE could create, confirm or
// refund twice.
//
// A Client made without WithRetry retries a read twice, waiting between
// 200 ms and 2 s.
type RetryPolicy struct {
	MaxRetries int           // retries after the first attempt; 0 disables retries
	MinBackoff time.Duration // the shortest wait between attempts; 0 means 200 ms
	MaxBackoff time.Duration // the longest; 0 means 2 s (or MinBackoff, if larger)
}

// defaultRetryPolicy is the policy of a Client made without WithRetry. It is
// not exported: a package variable that any code could change would be
// configuration shared by every Client in the program.
var defaultRetryPolicy = RetryPolicy{MaxRetries: 2, MinBackoff: 200 * time.Millisecond, MaxBackoff: 2 * time.Second}

// maxRetryAfter is the longest Retry-After the client waits out; a longer one
// ends the call with the server's error at once.
const maxRetryAfter = 30 * time.Second

// WithRetry sets the retry policy of GET requests (see RetryPolicy). Waits
// grow exponentially from MinBackoff to MaxBackoff with jitter, honour a
// Retry-After header up to 30 s, and end as soon as the context ends.
func WithRetry(p RetryPolicy) Option {
	return func(c *Client) error {
		if p.MaxRetries < 0 || p.MinBackoff < 0 || p.MaxBackoff < 0 {
			return &ParamError{Param: "retry policy", Reason: "negative MaxRetries or backoff"}
		}
		if p.MaxRetries > 10 {
			return &ParamError{Param: "retry policy", Reason: "MaxRetries above 10"}
		}
		if p.MinBackoff == 0 {
			p.MinBackoff = defaultRetryPolicy.MinBackoff
		}
		if p.MaxBackoff == 0 {
			p.MaxBackoff = max(defaultRetryPolicy.MaxBackoff, p.MinBackoff)
		}
		if p.MaxBackoff < p.MinBackoff {
			return &ParamError{Param: "retry policy", Reason: "MaxBackoff is shorter than MinBackoff"}
		}
		c.retry = p
		return nil
	}
}

// wait returns how long to wait before retry number attempt (1 for the first
// retry), and false when the server asked for a wait longer than
// maxRetryAfter. The wait is drawn at random between MinBackoff and a
// ceiling that doubles with each retry (2×MinBackoff for the first), capped
// at MaxBackoff, so that clients that failed together do not retry together.
func (p RetryPolicy) wait(attempt int, retryAfter string) (time.Duration, bool) {
	ceiling := p.MinBackoff
	for i := 0; i < attempt && ceiling < p.MaxBackoff; i++ {
		ceiling *= 2
	}
	ceiling = min(ceiling, p.MaxBackoff)
	d := p.MinBackoff
	if ceiling > p.MinBackoff {
		d += rand.N(ceiling - p.MinBackoff + 1)
	}
	if retryAfter != "" {
		after, ok := parseRetryAfter(retryAfter, time.Now())
		if ok && after > maxRetryAfter {
			return 0, false
		}
		d = max(d, after)
	}
	return d, true
}

// parseRetryAfter reads a Retry-After header: seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	if secs, err := strconv.Atoi(v); err == nil || errors.Is(err, strconv.ErrRange) && allDigits(v) {
		if secs < 0 {
			return 0, false
		}
		if err != nil || secs > int(maxRetryAfter/time.Second) {
			return maxRetryAfter + time.Second, true // longer than the cap, however long
		}
		return time.Duration(secs) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// transportError is a request that got no complete response: the connection
// failed, or broke while the body was read. It wraps the net/http error, so
// errors.Is sees context and net errors through it.
type transportError struct {
	method, path string
	status       int // non-zero when the headers arrived
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
