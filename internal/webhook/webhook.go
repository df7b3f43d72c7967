// Package webhook is the one skeleton of khipu-go's handlers for what Khipu
// POSTs to a shop: v2's notifications, v3's signed notifications and the
// callbacks of automatic payments. Each handler gives it a way to parse a
// POST and a way to process it; the skeleton does the rest the same way for
// all of them:
//
//   - anything but POST is a 405 with "Allow: POST";
//   - the body is read with a cap, and put back in the request;
//   - a POST that does not parse is a 400;
//   - deliveries of one key (a payment id, a subscription id) are
//     processed one at a time, or share one run (Coalesce);
//   - processing has a deadline well inside the 30 s Khipu waits;
//   - the answer is 200 only when processing returned no error: any error
//     is a 5xx, so that Khipu tries again, unless processing said it is a
//     refusal (a 4xx);
//   - every refusal is logged at warn level and every failure at error
//     level: nothing Khipu sends is dropped without a trace.
package webhook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/khipu-go/khipu/internal/rest"
)

// Answer is how a processed POST is answered and logged.
type Answer struct {
	// Status is the HTTP status. 0 means 200 when Err is nil, and 500
	// otherwise; a status below 400 with an Err is a 500 too, so that an
	// error can never be answered as a success.
	Status int
	// Err is what went wrong, logged at warn level for a 4xx and at error
	// level for a 5xx. It is never sent to whoever POSTed.
	Err error
	// Attrs are logged with Err: the payment or subscription concerned.
	Attrs []slog.Attr
	// RetryAfter, when positive, is sent as a Retry-After header.
	RetryAfter time.Duration
}

// status is the status a is answered with.
func (a Answer) status() int {
	switch {
	case a.Err == nil && a.Status == 0:
		return http.StatusOK
	case a.Err != nil && a.Status < 400:
		return http.StatusInternalServerError
	}
	return a.Status
}

// Handler is an http.Handler for one kind of POST from Khipu, whose parsed
// form is a T. Its fields are set once, before it serves.
type Handler[T any] struct {
	// What names the POST in log records and answers: "khipu
	// notification", "khipu subscription callback".
	What string
	// MaxBody is how many bytes of a body are read; a larger body is a
	// 400 and is not parsed.
	MaxBody int64
	// Deadline bounds the time from a POST's arrival to its answer:
	// waiting for its key and processing it.
	Deadline time.Duration
	// Logger is where refusals and failures are logged; nil means
	// slog.Default() at the time of logging.
	Logger *slog.Logger
	// Parse reads a POST whose body, read already, is body (r.Body holds
	// it again). It returns the key its deliveries are serialized by (""
	// for none) and its parsed form, or an error, which is answered 400:
	// its text is sent to whoever POSTed, so it must quote nothing
	// secret.
	Parse func(r *http.Request, body []byte) (key string, v T, err error)
	// KeyAttr, when not empty, is the name under which the key is logged
	// when a delivery gives up waiting for it. Leave it empty for a key
	// that must not be logged (a notification token).
	KeyAttr string
	// Process processes a parsed POST under ctx, which ends at Deadline.
	Process func(ctx context.Context, v T) Answer
	// Coalesce makes a delivery that arrives while another of the same
	// key is processed wait for it and take its answer, instead of being
	// processed in turn: for byte-identical duplicates (v2's token).
	Coalesce bool

	mu   sync.Mutex
	keys map[string]*keyState // only while some delivery uses the key
}

// keyState is what the deliveries of one key share.
type keyState struct {
	// slot serializes them: a send takes it, a receive frees it. It is a
	// channel rather than a sync.Mutex so that waiting for it can end
	// with the context.
	slot  chan struct{}
	users int  // deliveries holding or waiting for the key; guarded by Handler.mu
	run   *run // Coalesce: the run in progress, if any; guarded by Handler.mu
}

// run is one processing of a key that Coalesce lets other deliveries
// share.
type run struct {
	done   chan struct{} // closed when the run ends, normally or not
	answer *Answer       // nil if it ended in a panic
}

// Format prints the handler as its kind alone, whatever the verb, so that
// no printer reaches what its functions hold (a secret).
func (h *Handler[T]) Format(f fmt.State, _ rune) {
	_, _ = io.WriteString(f, "khipu handler of "+h.What+"s")
}

func (h *Handler[T]) logger() *slog.Logger {
	if h.Logger != nil {
		return h.Logger
	}
	return slog.Default()
}

// logText is err's text in a log record: rest.LogText leaves out what an
// error says must not be logged, such as an unexpected answer's body, which
// can hold a payer's e-mail.
func (h *Handler[T]) logText(err error) string { return rest.LogText(err) }

// ServeHTTP answers one POST from Khipu.
func (h *Handler[T]) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		h.logger().WarnContext(r.Context(), h.What+" refused", "status", http.StatusMethodNotAllowed,
			"method", Clip(r.Method, 20), "remote_addr", r.RemoteAddr)
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "method not allowed: a "+h.What+" is POSTed", http.StatusMethodNotAllowed)
		return
	}
	var (
		key string
		v   T
	)
	body, err := ReadBody(r, h.MaxBody)
	if err == nil {
		key, v, err = h.Parse(r, body)
	}
	if err != nil {
		h.logger().WarnContext(r.Context(), h.What+" refused", "status", http.StatusBadRequest,
			"error", h.logText(err), "remote_addr", r.RemoteAddr)
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}

	ctx, cancel := context.WithTimeout(r.Context(), h.Deadline)
	defer cancel()
	a, logged := h.serve(ctx, key, v)
	status := a.status()
	if !logged {
		h.log(ctx, r, status, a)
	}
	if a.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int((a.RetryAfter+time.Second-1)/time.Second)))
	}
	switch {
	case status >= 500:
		http.Error(w, h.What+" not processed; retry later", status)
	case status >= 400:
		http.Error(w, h.What+" refused", status)
	default:
		http.Error(w, "ok", status)
	}
}

// log writes the record of an answer: a refusal at warn level, a failure at
// error level, a success not at all.
func (h *Handler[T]) log(ctx context.Context, r *http.Request, status int, a Answer) {
	if a.Err == nil && status < 400 {
		return
	}
	attrs := make([]slog.Attr, 0, len(a.Attrs)+3)
	attrs = append(attrs, slog.Int("status", status))
	attrs = append(attrs, a.Attrs...)
	if a.Err != nil {
		attrs = append(attrs, slog.String("error", h.logText(a.Err)))
	}
	if status < 500 {
		attrs = append(attrs, slog.String("remote_addr", r.RemoteAddr))
		h.logger().LogAttrs(ctx, slog.LevelWarn, h.What+" refused", attrs...)
		return
	}
	h.logger().LogAttrs(ctx, slog.LevelError, h.What+" not processed; Khipu will retry", attrs...)
}

// serve processes v under its key, and reports whether the answer was
// logged already (by the run a coalesced delivery shared).
func (h *Handler[T]) serve(ctx context.Context, key string, v T) (a Answer, logged bool) {
	if key == "" {
		return h.Process(ctx, v), false
	}
	if h.Coalesce {
		return h.shared(ctx, key, v)
	}
	unlock, err := h.lock(ctx, key)
	if err != nil {
		return h.gaveUp(key, err), false
	}
	defer unlock() // deferred, so that a panic in Process frees the key too
	return h.Process(ctx, v), false
}

// gaveUp is the answer of a delivery whose context ended while another
// delivery of its key was running: 503, so that Khipu retries.
func (h *Handler[T]) gaveUp(key string, err error) Answer {
	a := Answer{Status: http.StatusServiceUnavailable,
		Err: fmt.Errorf("another delivery of the same %s was still being processed: %w", h.What, err)}
	if h.KeyAttr != "" {
		a.Attrs = []slog.Attr{slog.String(h.KeyAttr, key)}
	}
	return a
}

// lock waits until no other delivery of key is running, or ctx ends, and
// returns the function that frees key.
func (h *Handler[T]) lock(ctx context.Context, key string) (unlock func(), err error) {
	k := h.use(key)
	select {
	case k.slot <- struct{}{}:
		return func() { <-k.slot; h.release(key, k) }, nil
	case <-ctx.Done():
		h.release(key, k)
		return nil, ctx.Err()
	}
}

// shared is serve for Coalesce: the first delivery of a key runs Process;
// those that arrive before it ends take its answer (logged once, by the
// first), or a 500 if it panicked.
func (h *Handler[T]) shared(ctx context.Context, key string, v T) (Answer, bool) {
	h.mu.Lock()
	k := h.useLocked(key)
	current, first := k.run, false
	if current == nil {
		current, first = &run{done: make(chan struct{})}, true
		k.run = current
	}
	h.mu.Unlock()
	defer h.release(key, k)

	if first {
		defer func() { // deferred, so that the waiters are freed if Process panics
			h.mu.Lock()
			k.run = nil // a delivery arriving from now on starts a run of its own
			h.mu.Unlock()
			close(current.done)
		}()
		a := h.Process(ctx, v)
		current.answer = &a // read by the waiters once done is closed
		return a, false
	}
	select {
	case <-current.done:
	case <-ctx.Done():
		return h.gaveUp("", ctx.Err()), false
	}
	if current.answer == nil {
		return Answer{Status: http.StatusInternalServerError,
			Err: errors.New("the delivery of the same " + h.What + " this one waited for panicked")}, false
	}
	return *current.answer, true
}

// use registers a delivery of key and returns its state.
func (h *Handler[T]) use(key string) *keyState {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.useLocked(key)
}

func (h *Handler[T]) useLocked(key string) *keyState {
	if h.keys == nil {
		h.keys = make(map[string]*keyState)
	}
	k := h.keys[key]
	if k == nil {
		k = &keyState{slot: make(chan struct{}, 1)}
		h.keys[key] = k
	}
	k.users++
	return k
}

// release unregisters a delivery of key; the map keeps an entry only while
// some delivery holds or waits for the key.
func (h *Handler[T]) release(key string, k *keyState) {
	h.mu.Lock()
	defer h.mu.Unlock()
	k.users--
	if k.users == 0 {
		delete(h.keys, key)
	}
}

// Keys is how many keys the handler keeps state for: 0 when no delivery is
// in progress. For tests.
func (h *Handler[T]) Keys() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.keys)
}

// Users is how many deliveries hold or wait for key. For tests.
func (h *Handler[T]) Users(key string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	if k := h.keys[key]; k != nil {
		return k.users
	}
	return 0
}

// ReadBody reads r's body, at most max bytes, and puts the bytes back in
// r.Body for whoever reads it next. No body is an empty one; a body over
// max is an error.
func ReadBody(r *http.Request, max int64) ([]byte, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return nil, nil
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, max+1))
	if err != nil {
		return nil, fmt.Errorf("reading body: %v", err)
	}
	if int64(len(body)) > max {
		return nil, fmt.Errorf("body larger than %d bytes", max)
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	return body, nil
}

// Clip is s for a log record, from a POST nobody authenticated: at most n
// bytes of it (cut on a rune boundary, with "..." and the full length
// after), on one line (control characters, line separators and invalid
// UTF-8 escaped by rest.OneLine, as in a Go string).
func Clip(s string, n int) string {
	if len(s) <= n {
		return rest.OneLine(s)
	}
	end := n
	for end > 0 && !utf8.RuneStart(s[end]) {
		end--
	}
	return rest.OneLine(s[:end]) + "... (" + strconv.Itoa(len(s)) + " bytes)"
}
