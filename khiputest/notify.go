package khiputest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"
)

// How an asynchronous notification is retried while the shop does not
// answer 2xx: after firstRetry, then twice as long each time, up to
// maxRetryWait between attempts, until it is answered, replaced or the
// server is closed. Khipu's own schedule is not published (its v3
// description says it retries for up to two days): these waits are far
// shorter, so that a test sees the retries.
const (
	firstRetry   = 10 * time.Millisecond
	maxRetryWait = time.Second
)

// notifyState is how a payment's notifications went.
type notifyState struct {
	sent   int                // deliveries started; a newer one replaces the older
	ok     bool               // the latest delivery was answered 2xx
	status int                // the status of the shop's latest answer; 0 for none
	err    error              // why the latest attempt failed
	cancel context.CancelFunc // ends the latest delivery's retries; nil when synchronous
}

// delivery is one notification of a payment, attempted once (synchronous)
// or until it is answered (asynchronous).
type delivery struct {
	p      *payment
	n      int // p.notify.sent when it started
	ctx    context.Context
	cancel context.CancelFunc // ends ctx once asynchronous retries are over; nil when synchronous
}

// startDelivery starts a new delivery of p's notification, ending the
// retries of the one before. s.mu must be held.
func (s *Server) startDelivery(p *payment) *delivery {
	if p.notify.cancel != nil {
		p.notify.cancel()
	}
	d := &delivery{p: p, ctx: s.ctx}
	p.notify.sent++
	d.n = p.notify.sent
	p.notify.ok, p.notify.status, p.notify.err, p.notify.cancel = false, 0, nil, nil
	if s.async {
		d.ctx, d.cancel = context.WithCancel(s.ctx)
		p.notify.cancel = d.cancel
	}
	return d
}

// retry attempts d until the shop answers 2xx, waiting longer after each
// failure, or until d is replaced or the server closed.
func (s *Server) retry(d *delivery) {
	defer s.wg.Done()
	defer d.cancel()
	wait := firstRetry
	for s.attempt(d) != nil {
		select {
		case <-s.after(wait):
		case <-d.ctx.Done():
			return
		}
		wait = min(2*wait, maxRetryWait)
	}
}

// attempt POSTs d's notification once, as the payment is now, and records
// how it went unless a newer delivery replaced d meanwhile.
func (s *Server) attempt(d *delivery) error {
	s.mu.Lock()
	notifyURL := d.p.params.Get("notify_url")
	body, header := s.notification(d.p)
	s.mu.Unlock()

	status, answer, err := s.post(d.ctx, notifyURL, body, header)
	if err != nil || !accepted(status) {
		s.logUndelivered(d.ctx, "a notification", status, answer, err,
			slog.String("payment_id", d.p.id), slog.String("url", notifyURL))
		err = &NotificationError{PaymentID: d.p.id, URL: notifyURL, StatusCode: status, Body: answer, Err: err}
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if d.p.notify.sent == d.n {
		d.p.notify.ok, d.p.notify.status, d.p.notify.err = err == nil, status, err
		close(s.notified) // wake WaitNotified
		s.notified = make(chan struct{})
	}
	return err
}

// post sends body with header to target as Khipu sends its notifications
// and callbacks: a POST that waits up to 30 s for the answer, follows no
// redirect, and is abandoned when ctx ends (the server's, for a callback). It returns the answer's status and the start of
// its body, or why no answer arrived.
func (s *Server) post(ctx context.Context, target string, body []byte, header http.Header) (status int, answer string, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	req.Header = header
	resp, err := s.notifier.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	start, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // let the connection be reused
	return resp.StatusCode, strings.TrimSpace(string(start)), nil
}

// logUndelivered logs, to the server's logger if it has one (WithLogger),
// that the shop did not accept what (a notification, a callback): the
// status it answered and the start of its answer, or why no answer arrived.
// A POST abandoned because ctx ended, as the server closed or a newer
// delivery replaced it, was not refused by the shop and is not logged.
func (s *Server) logUndelivered(ctx context.Context, what string, status int, answer string, err error, attrs ...slog.Attr) {
	if s.log == nil || ctx.Err() != nil {
		return
	}
	if err != nil {
		attrs = append(attrs, slog.String("error", err.Error()))
	} else {
		attrs = append(attrs, slog.Int("status", status), slog.String("answer", shorten(answer, 200)))
	}
	s.log.LogAttrs(context.Background(), slog.LevelWarn, "khiputest: the shop did not accept "+what, attrs...)
}

// shorten returns s cut to its first n bytes, on a character boundary, with
// "..." when something was cut.
func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "..."
}

// WaitNotified waits until the shop has answered 2xx to the latest
// notification of the payment paymentID (sent by Pay or Notify) and returns
// nil; it returns at once if it already has. It is how a test waits for a
// notification sent with WithAsyncNotifications, and works without it too.
//
// When ctx ends first, or the server is closed, it returns why the latest
// attempt failed (a *NotificationError), or that no notification was
// answered yet, joined with ctx's error (or the server's). It fails at once
// when there is no such payment or it has no notify_url: Khipu notifies
// nothing then.
func (s *Server) WaitNotified(ctx context.Context, paymentID string) error {
	for {
		s.mu.Lock()
		p := s.payments[paymentID]
		switch {
		case p == nil || p.deleted:
			s.mu.Unlock()
			return fmt.Errorf("khiputest: no payment %q", paymentID)
		case !p.params.Has("notify_url"):
			s.mu.Unlock()
			return fmt.Errorf("khiputest: payment %s has no notify_url: it is never notified", paymentID)
		case p.notify.ok:
			s.mu.Unlock()
			return nil
		}
		last := p.notify.err
		switch {
		case p.notify.sent == 0:
			last = fmt.Errorf("khiputest: payment %s was not notified yet (Pay or Notify send its notification)", paymentID)
		case last == nil:
			last = fmt.Errorf("khiputest: the notification of payment %s was not answered yet", paymentID)
		}
		changed := s.notified
		s.mu.Unlock()

		select {
		case <-changed:
		case <-ctx.Done():
			return errors.Join(last, ctx.Err())
		case <-s.ctx.Done():
			return errors.Join(last, s.closed())
		}
	}
}
