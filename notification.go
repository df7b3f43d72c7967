package khipu

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/khipu-go/khipu/internal/wire"
)

// Notification is what Khipu POSTs to a payment's notify_url when it has
// reconciled the payment. It proves nothing by itself: the token must be
// looked up with Khipu (VerifyNotification does it).
type Notification struct {
	APIVersion string
	Token      string
}

// ErrInvalidNotification is wrapped by every error ParseNotification returns:
// a request that is not a well-formed Khipu notification.
var ErrInvalidNotification = errors.New("khipu: invalid notification")

// maxNotificationBody caps how much of a notification request is read; Khipu
// sends two short fields.
const maxNotificationBody = 16 << 10

// ParseNotification reads Khipu's notification from a POSTed form
// (api_version=1.3&notification_token=...). It accepts only api_version 1.3
// and a non-empty token, and reads at most 16 KiB of the body.
func ParseNotification(r *http.Request) (*Notification, error) {
	if r == nil {
		return nil, fmt.Errorf("%w: nil request", ErrInvalidNotification)
	}
	if r.Method != http.MethodPost {
		return nil, fmt.Errorf("%w: method %s, want POST", ErrInvalidNotification, r.Method)
	}
	form := r.PostForm
	if form == nil {
		if ct := r.Header.Get("Content-Type"); ct != "" {
			mt, _, err := mime.ParseMediaType(ct)
			if err != nil || mt != "application/x-www-form-urlencoded" {
				return nil, fmt.Errorf("%w: content type %q, want application/x-www-form-urlencoded", ErrInvalidNotification, ct)
			}
		}
		if r.Body == nil {
			return nil, fmt.Errorf("%w: empty body", ErrInvalidNotification)
		}
		raw, err := io.ReadAll(io.LimitReader(r.Body, maxNotificationBody+1))
		if err != nil {
			return nil, fmt.Errorf("%w: reading body: %v", ErrInvalidNotification, err)
		}
		if len(raw) > maxNotificationBody {
			return nil, fmt.Errorf("%w: body larger than %d bytes", ErrInvalidNotification, maxNotificationBody)
		}
		form, err = url.ParseQuery(string(raw))
		if err != nil {
			return nil, fmt.Errorf("%w: malformed form: %v", ErrInvalidNotification, err)
		}
		keepForm(r, form)
	}
	n := &Notification{APIVersion: form.Get("api_version"), Token: form.Get("notification_token")}
	switch {
	case n.APIVersion == "":
		return nil, fmt.Errorf("%w: api_version is missing", ErrInvalidNotification)
	case n.APIVersion != NotifyAPIVersion:
		return nil, fmt.Errorf("%w: api_version %.20q is not supported, want %s", ErrInvalidNotification, n.APIVersion, NotifyAPIVersion)
	case n.Token == "":
		return nil, fmt.Errorf("%w: notification_token is missing", ErrInvalidNotification)
	case len(n.Token) > 1024:
		return nil, fmt.Errorf("%w: notification_token is longer than 1024 bytes", ErrInvalidNotification)
	}
	for i := 0; i < len(n.Token); i++ {
		if c := n.Token[i]; c <= ' ' || c >= 0x7f {
			return nil, fmt.Errorf("%w: notification_token has a byte %q that Khipu never sends", ErrInvalidNotification, c)
		}
	}
	return n, nil
}

// keepForm stores the form read from r's body where r.ParseForm would have:
// the body is consumed, and a second ParseNotification, VerifyNotification
// or r.FormValue must still see what it held.
func keepForm(r *http.Request, form url.Values) {
	r.PostForm = form
	if r.Form != nil {
		return
	}
	r.Form = make(url.Values, len(form))
	for k, vs := range form {
		r.Form[k] = append([]string(nil), vs...)
	}
	if r.URL != nil {
		for k, vs := range r.URL.Query() {
			r.Form[k] = append(r.Form[k], vs...)
		}
	}
}

// VerifyNotification parses Khipu's notification from r, fetches the payment
// it refers to from Khipu, and returns it when it belongs to this client's
// collection account (ErrReceiverMismatch otherwise). A forged token fails at
// Khipu. The payment still has to be checked against the order with
// Payment.Check before anything is delivered.
func (c *Client) VerifyNotification(ctx context.Context, r *http.Request) (*Payment, error) {
	n, err := ParseNotification(r)
	if err != nil {
		return nil, err
	}
	return c.notifiedPayment(ctx, n.Token)
}

// notifiedPayment looks the token up with Khipu and refuses a payment of
// another collection account.
func (c *Client) notifiedPayment(ctx context.Context, token string) (*Payment, error) {
	p, err := c.Payments.GetByNotificationToken(ctx, token)
	if err != nil {
		return nil, err
	}
	if p.ReceiverID != c.receiverID {
		return nil, fmt.Errorf("%w: payment %q is for receiver %q, this client is %s", ErrReceiverMismatch, p.PaymentID, p.ReceiverID, c.receiverID)
	}
	return p, nil
}

// notificationDeadline bounds the work a NotificationHandler does for one
// notification, so that it answers well inside the 30 s Khipu waits.
const notificationDeadline = 20 * time.Second

// NotificationHandler returns an http.Handler for a payment's notify_url. It
// answers 405 to anything but POST and 400 to a malformed or forged
// notification; it verifies the notification (VerifyNotification) and calls
// fn with the payment, answering 200 when fn returns nil and 500 otherwise,
// so that Khipu notifies again later. A lookup that fails on Khipu's side or
// on the network answers 503, so that Khipu retries too.
//
// fn must check the payment against the order (Payment.Check) and must be
// idempotent: Khipu can send the same notification more than once. The
// handler never runs fn twice at the same time for the same token; a
// duplicate that arrives meanwhile waits for the first and gets its answer.
// fn's context ends 20 s after the notification arrived; do slow work (such
// as e-mails) after returning.
//
// A *MismatchError returned by fn (Payment.Check's, wrapped or joined) is a
// payment that does not pay the order: the handler logs it at warn level and
// answers 200, since Khipu notifying again would not change the payment.
//
// Nothing the handler sees is lost: every refusal is logged at warn level,
// and every error of fn or of the lookup at error level, to the Client's
// logger (WithLogger), or to slog.Default() when it has none. A nil fn
// panics here, when the handler is built, rather than at the first
// notification.
func (c *Client) NotificationHandler(fn func(ctx context.Context, p *Payment) error) http.Handler {
	if fn == nil {
		panic("khipu: NotificationHandler needs a function to call with each verified payment")
	}
	logger := c.rest.Logger
	if logger == nil {
		logger = slog.Default()
	}
	return &notificationHandler{client: c, fn: fn, log: logger, inflight: make(map[string]*inflight)}
}

type notificationHandler struct {
	client *Client
	fn     func(context.Context, *Payment) error
	log    *slog.Logger

	mu       sync.Mutex
	inflight map[string]*inflight // by notification token
}

type inflight struct {
	done   chan struct{}
	status int
	msg    string
}

func (h *notificationHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		h.log.WarnContext(r.Context(), "khipu notification refused", "status", http.StatusMethodNotAllowed, "method", r.Method, "remote_addr", r.RemoteAddr)
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "method not allowed: Khipu notifications are POSTed", http.StatusMethodNotAllowed)
		return
	}
	n, err := ParseNotification(r)
	if err != nil {
		h.log.WarnContext(r.Context(), "khipu notification refused", "status", http.StatusBadRequest, "error", err.Error(), "remote_addr", r.RemoteAddr)
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	h.mu.Lock()
	if call, ok := h.inflight[n.Token]; ok {
		h.mu.Unlock()
		select {
		case <-call.done:
			http.Error(w, call.msg, call.status)
		case <-r.Context().Done():
			http.Error(w, "notification already being processed", http.StatusServiceUnavailable)
		}
		return
	}
	// Until process returns, the answer is a failure: if fn panics, the
	// duplicates waiting on this token get a 500 and the token is freed for
	// Khipu's next attempt, while the panic goes on to net/http.
	call := &inflight{done: make(chan struct{}), status: http.StatusInternalServerError, msg: "notification not processed; retry later"}
	h.inflight[n.Token] = call
	h.mu.Unlock()
	defer func() {
		h.mu.Lock()
		delete(h.inflight, n.Token)
		h.mu.Unlock()
		close(call.done)
	}()

	call.status, call.msg = h.process(r.Context(), n.Token)
	http.Error(w, call.msg, call.status)
}

// process verifies the notification and runs fn, returning the status and
// text to answer with, and logs every failure. Details of failures stay out
// of the answer: it goes to whoever sent the notification.
func (h *notificationHandler) process(ctx context.Context, token string) (int, string) {
	ctx, cancel := context.WithTimeout(ctx, notificationDeadline)
	defer cancel()
	p, err := h.client.notifiedPayment(ctx, token)
	if err != nil {
		// Logged without the answer's body, which may hold a payer's data.
		why := slog.String("error", logText(err))
		var ve *ValidationError
		if errors.As(err, &ve) || errors.Is(err, ErrReceiverMismatch) {
			h.log.WarnContext(ctx, "khipu notification refused", "status", http.StatusBadRequest, why)
			return http.StatusBadRequest, "notification rejected"
		}
		h.log.ErrorContext(ctx, "khipu notification could not be verified; Khipu will retry", "status", http.StatusServiceUnavailable, why)
		return http.StatusServiceUnavailable, "notification could not be verified; retry later"
	}
	err = h.fn(ctx, p)
	var mismatch *MismatchError
	switch {
	case errors.As(err, &mismatch):
		h.log.WarnContext(ctx, "khipu notification not delivered: the payment does not match the order", "status", http.StatusOK, "payment_id", p.PaymentID, "error", err.Error())
		return http.StatusOK, "ok"
	case err != nil:
		h.log.ErrorContext(ctx, "khipu notification not processed; Khipu will retry", "status", http.StatusInternalServerError, "payment_id", p.PaymentID, "error", err.Error())
		return http.StatusInternalServerError, "notification not processed; retry later"
	}
	return http.StatusOK, "ok"
}

// MismatchError says how a payment differs from the order it should pay; see
// Payment.Check.
type MismatchError struct {
	Field string // "status", "status_detail", "transaction_id", "amount" or "currency"
	Want  string
	Got   string
}

// Error names the field and both values.
func (e *MismatchError) Error() string {
	return fmt.Sprintf("khipu: payment %s is %q, want %q", e.Field, e.Got, e.Want)
}

// Check returns nil only when p is done and its transaction id, amount and
// currency all match the merchant's order; otherwise an error (one
// *MismatchError per difference, joined) says what differs. A done payment
// passes only with status_detail "normal", "marked-paid-by-receiver" or
// none: one reversed, marked as abuse, or with a detail this library does
// not know does not.
func (p *Payment) Check(transactionID string, amount Amount, currency string) error {
	if p == nil {
		return &MismatchError{Field: "payment", Want: "a payment", Got: "nil"}
	}
	var errs []error
	if p.Status != StatusDone {
		errs = append(errs, &MismatchError{Field: "status", Want: string(StatusDone), Got: string(p.Status)})
	}
	switch p.StatusDetail {
	case StatusDetailNormal, StatusDetailMarkedPaidByReceiver, "":
	default:
		// Reversed, marked as abuse, rejected, or a detail this library
		// does not know: not delivered until someone has looked.
		errs = append(errs, &MismatchError{Field: "status_detail", Want: string(StatusDetailNormal), Got: string(p.StatusDetail)})
	}
	if p.TransactionID != transactionID {
		errs = append(errs, &MismatchError{Field: "transaction_id", Want: transactionID, Got: p.TransactionID})
	}
	if p.Amount != amount {
		errs = append(errs, &MismatchError{Field: "amount", Want: amount.String(), Got: p.Amount.String()})
	}
	if !strings.EqualFold(p.Currency, currency) || currency == "" {
		errs = append(errs, &MismatchError{Field: "currency", Want: currency, Got: p.Currency})
	}
	return wire.Join(errs...)
}
