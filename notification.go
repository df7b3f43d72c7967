package khipu

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/khipu-go/khipu/internal/webhook"
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
// and a non-empty token, and reads at most 16 KiB of the body, which it
// puts back in r.Body.
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
		raw, err := webhook.ReadBody(r, maxNotificationBody)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrInvalidNotification, err)
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

// keepForm stores the form read from r's body where r.ParseForm would have,
// so that a second ParseNotification, VerifyNotification or r.FormValue
// sees what it held without reading it again.
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

// HandlerOption configures a NotificationHandler.
type HandlerOption func(*handlerConfig)

type handlerConfig struct {
	logger *slog.Logger
}

// WithHandlerLogger sets where a NotificationHandler logs the notifications
// it refuses (warn level) and the failures of the lookup and of its
// function (error level). Without it, or with nil, the handler logs to the
// Client's logger (WithLogger), or to slog.Default() when the Client has
// none.
func WithHandlerLogger(l *slog.Logger) HandlerOption {
	return func(c *handlerConfig) {
		if l != nil { // nil is no option: the default stays
			c.logger = l
		}
	}
}

// NotificationHandler returns an http.Handler for a payment's notify_url. It
// answers 405 to anything but POST and 400 to a malformed or forged
// notification; it verifies the notification (VerifyNotification) and calls
// fn with the payment, answering 200 when fn returns nil and 500 when it
// returns any error, so that Khipu notifies again later (for up to two
// days). A lookup that fails on Khipu's side or on the network answers 503,
// so that Khipu retries too.
//
// fn must check the payment against the order (Payment.Check) and must be
// idempotent: Khipu can send the same notification more than once. A
// payment that does not match its order will not match it when Khipu
// notifies again either: fn should record it for a person to look at and
// return nil. Returning Check's error instead answers 500, so Khipu keeps
// notifying (and the handler keeps logging it) until fn returns nil; that
// is the right answer only while the shop cannot record the mismatch:
//
//	if err := p.Check(order.ID, order.Amount, order.Currency); err != nil {
//		return orders.RecordMismatch(ctx, order.ID, p.PaymentID, err) // nil once recorded
//	}
//
// The handler never runs fn twice at the same time for the same token; a
// duplicate that arrives meanwhile waits for the first and gets its answer
// (a 500 if fn panicked; the panic goes on to net/http). fn's context ends
// 20 s after the notification arrived; do slow work (such as e-mails) after
// returning.
//
// Nothing the handler sees is lost: every refusal is logged at warn level,
// and every error of fn or of the lookup at error level (see
// WithHandlerLogger), never with the token, the secret or Khipu's answer's
// body. A nil fn panics here, when the handler is built, rather than at the
// first notification.
func (c *Client) NotificationHandler(fn func(ctx context.Context, p *Payment) error, opts ...HandlerOption) http.Handler {
	if fn == nil {
		panic("khipu: NotificationHandler needs a function to call with each verified payment")
	}
	cfg := handlerConfig{logger: c.rest.Logger}
	for _, opt := range opts {
		if opt != nil {
			opt(&cfg)
		}
	}
	return &webhook.Handler[string]{
		What:     "khipu notification",
		MaxBody:  maxNotificationBody,
		Deadline: notificationDeadline,
		Logger:   cfg.logger,
		Parse: func(r *http.Request, _ []byte) (string, string, error) {
			n, err := ParseNotification(r)
			if err != nil {
				return "", "", err
			}
			return n.Token, n.Token, nil
		},
		// Duplicates of a token wait for the first and take its answer:
		// they would look up the same payment.
		Coalesce: true,
		Process: func(ctx context.Context, token string) webhook.Answer {
			p, err := c.notifiedPayment(ctx, token)
			var ve *ValidationError
			switch {
			case errors.As(err, &ve), errors.Is(err, ErrReceiverMismatch):
				return webhook.Answer{Status: http.StatusBadRequest, Err: err}
			case err != nil:
				// Khipu down, the network, an answer the client cannot read.
				return webhook.Answer{Status: http.StatusServiceUnavailable, Err: err}
			}
			if err := fn(ctx, p); err != nil {
				return webhook.Answer{Status: http.StatusInternalServerError, Err: err,
					Attrs: []slog.Attr{slog.String("payment_id", p.PaymentID)}}
			}
			return webhook.Answer{}
		},
	}
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
