package rest

import (
	"context"
	"errors"
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"

	"github.com/khipu-go/khipu/internal/wire"
)

// Policy says how reads are retried: khipu.RetryPolicy, which converts to
// it.
type Policy struct {
	MaxRetries int
	MinBackoff time.Duration
	MaxBackoff time.Duration
}

// DefaultPolicy is the policy of a client made without one: two retries,
// waiting between 200 ms and 2 s.
var DefaultPolicy = Policy{MaxRetries: 2, MinBackoff: 200 * time.Millisecond, MaxBackoff: 2 * time.Second}

// MaxRetryAfter is the longest Retry-After a client waits out; a longer one
// ends the call with the server's error at once.
const MaxRetryAfter = 30 * time.Second

// Normalize checks p and fills in its zero backoffs from DefaultPolicy.
func (p Policy) Normalize() (Policy, error) {
	if p.MaxRetries < 0 || p.MinBackoff < 0 || p.MaxBackoff < 0 {
		return p, errors.New("negative MaxRetries or backoff")
	}
	if p.MaxRetries > 10 {
		return p, errors.New("MaxRetries above 10")
	}
	if p.MinBackoff == 0 {
		p.MinBackoff = DefaultPolicy.MinBackoff
	}
	if p.MaxBackoff == 0 {
		p.MaxBackoff = max(DefaultPolicy.MaxBackoff, p.MinBackoff)
	}
	if p.MaxBackoff < p.MinBackoff {
		return p, errors.New("MaxBackoff is shorter than MinBackoff")
	}
	return p, nil
}

// wait returns how long to wait before retry number attempt (1 for the first
// retry), and false when the server asked for a wait longer than
// MaxRetryAfter. The wait is drawn at random between MinBackoff and a
// ceiling that doubles with each retry (2×MinBackoff for the first), capped
// at MaxBackoff, so that clients that failed together do not retry together.
func (p Policy) wait(attempt int, retryAfter string, now time.Time) (time.Duration, bool) {
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
		after, ok := parseRetryAfter(retryAfter, now)
		if ok && after > MaxRetryAfter {
			return 0, false
		}
		d = max(d, after)
	}
	return d, true
}

// Wait is wait at the time now, for the tests of the client packages.
func (p Policy) Wait(attempt int, retryAfter string, now time.Time) (time.Duration, bool) {
	return p.wait(attempt, retryAfter, now)
}

// parseRetryAfter reads a Retry-After header: seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	if secs, err := strconv.Atoi(v); err == nil || errors.Is(err, strconv.ErrRange) && wire.Digits(v) {
		if secs < 0 {
			return 0, false
		}
		if err != nil || secs > int(MaxRetryAfter/time.Second) {
			return MaxRetryAfter + time.Second, true // longer than the cap, however long
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
