// Receiving notifications 3.0: VerifyNotification for a body and header
// from any router, ParseNotification for a net/http request, and
// NotificationHandler for a payment's notify_url.

package khipuv3

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/khipu-go/khipu"
	"github.com/khipu-go/khipu/internal/webhook"
)

// maxWebhookBody caps how much of a notification is read: Khipu's are
// under 1 KiB.
const maxWebhookBody = 1 << 20

// VerifyNotification verifies and decodes a notification 3.0 from its raw
// body and the value of its x-khipu-signature header, for routers that are
// not net/http (Fiber, AWS Lambda, a framework that has read the body
// already): it checks the signature with VerifySignature against now and
// DefaultTolerance, then decodes the body (see Notification). Raw holds a
// copy of body exactly as given, so the caller may reuse its buffer.
//
// Pass the body's bytes exactly as received, never JSON re-encoded from a
// parsed body: Khipu signs its own bytes (it escapes / as \/, for one).
// When the header came in several lines, join them with ",".
//
// Signature failures match ErrInvalidSignature (a blank secret included);
// a signed body that is not a JSON object, or has no payment_id, wraps
// khipu.ErrInvalidNotification. Nothing here remembers notifications: a
// byte-identical redelivery, which Khipu sends after any answer but 2xx, is
// accepted again.
func VerifyNotification(secret, header string, body []byte, now time.Time) (*Notification, error) {
	return verifyNotification(secret, header, bytes.Clone(body), now, DefaultTolerance)
}

// verifyNotification is VerifyNotification without the copy: Raw is body.
func verifyNotification(secret, header string, body []byte, now time.Time, tolerance time.Duration) (*Notification, error) {
	if err := VerifySignature(secret, header, body, now, tolerance); err != nil {
		return nil, err
	}
	// Checked here rather than left to the decoder, whose error would
	// quote the start of the body.
	if trimmed := bytes.TrimSpace(body); len(trimmed) == 0 || trimmed[0] != '{' {
		return nil, fmt.Errorf("%w: body is not a JSON object", khipu.ErrInvalidNotification)
	}
	n := new(Notification)
	// The decoder refuses anything but one whole JSON value, as
	// json.Unmarshal would, without json.Unmarshal's scan of it first.
	if err := n.UnmarshalJSON(body); err != nil {
		return nil, fmt.Errorf("%w: body is not a notification 3.0: %v", khipu.ErrInvalidNotification, err)
	}
	n.Raw = body // what was signed, whitespace around the object included
	return n, nil
}

// ParseNotification reads, verifies and decodes the notification 3.0 in r:
// it accepts only POST, reads at most 1 MiB of the body (a larger body is
// refused, never verified in part), and then does what VerifyNotification
// does with the body and the x-khipu-signature header, against the current
// time. Raw holds the body exactly as received, and r.Body is left readable
// again from the start.
//
// Signature failures match ErrInvalidSignature (a blank secret included);
// every other refusal wraps khipu.ErrInvalidNotification.
func ParseNotification(secret string, r *http.Request) (*Notification, error) {
	if r == nil {
		return nil, fmt.Errorf("%w: nil request", khipu.ErrInvalidNotification)
	}
	if r.Method != http.MethodPost {
		return nil, fmt.Errorf("%w: method %.10q, want POST", khipu.ErrInvalidNotification, r.Method)
	}
	if err := checkSecret(secret); err != nil {
		return nil, err
	}
	body, err := readWebhookBody(r)
	if err != nil {
		return nil, err
	}
	return verifyNotification(secret, signatureOf(r), body, time.Now(), DefaultTolerance)
}

// signatureOf is r's x-khipu-signature header: several header lines are
// one comma-separated list (RFC 9110).
func signatureOf(r *http.Request) string {
	return strings.Join(r.Header.Values(SignatureHeader), ",")
}

// readWebhookBody reads r's body with a cap and puts the bytes back in
// r.Body for whoever reads it next.
func readWebhookBody(r *http.Request) ([]byte, error) {
	body, err := webhook.ReadBody(r, maxWebhookBody)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", khipu.ErrInvalidNotification, err)
	}
	return body, nil
}

// webhookDeadline bounds the work a handler does for one POST, waiting for
// another delivery of the same payment or subscription included, so that
// it answers well inside the 30 s Khipu waits.
const webhookDeadline = 20 * time.Second

// HandlerOption configures NotificationHandler and the handlers of
// automatic payments' callbacks (Subscriptions.CallbackHandler,
// Charges.ErrorHandler).
type HandlerOption func(*handlerConfig)

type handlerConfig struct {
	tolerance time.Duration
	logger    *slog.Logger // nil: slog.Default() at the time of logging
}

// handlerOptions applies opts, skipping nil ones, over the defaults.
func handlerOptions(opts []HandlerOption) handlerConfig {
	cfg := handlerConfig{tolerance: DefaultTolerance}
	for _, opt := range opts {
		if opt != nil {
			opt(&cfg)
		}
	}
	return cfg
}

// WithTolerance sets how far a notification's timestamp may lie from the
// current time, before or after it (DefaultTolerance if not set). d must be
// positive: there is no way to leave the timestamp unchecked, and a d of
// zero or less is a programming error that panics here. It has no effect on
// the callbacks of automatic payments, which are not signed.
func WithTolerance(d time.Duration) HandlerOption {
	if d <= 0 {
		panic(fmt.Sprintf("khipuv3: WithTolerance needs a positive tolerance, not %v (DefaultTolerance is %v)", d, DefaultTolerance))
	}
	return func(c *handlerConfig) { c.tolerance = d }
}

// WithHandlerLogger sets where a handler logs what it refuses (warn level)
// and the failures of its function and of Khipu (error level); nil, like
// no option, means slog.Default(). A Client's WithLogger logger, which gets
// debug records of its requests, is not used by the handlers.
func WithHandlerLogger(l *slog.Logger) HandlerOption {
	return func(c *handlerConfig) { c.logger = l }
}

// NotificationHandler returns an http.Handler for a payment's notify_url
// that verifies each notification (as ParseNotification, with the tolerance
// of WithTolerance) and calls fn with it. It answers 405 to anything but
// POST, 400 to an unsigned, forged, stale or malformed notification, 200
// when fn returns nil and 500 when fn returns any error, so that Khipu
// notifies again later (for up to two days).
//
// secret is the collection account's secret (Khipu's "Llave secreta", the
// one that signs API v2 requests), not the API key.
//
// fn must compare the notification with the order (Notification.Check) and
// must be idempotent: Khipu can send the same notification more than once,
// and the handler accepts every genuine copy. A notification that does not
// match its order will not match it when Khipu sends it again either: fn
// should record it for a person to look at and return nil. Returning
// Check's error answers 500 like any error, so Khipu keeps notifying (and
// the handler keeps logging it) until fn returns nil:
//
//	if err := n.Check(order.ID, order.Amount, order.Currency); err != nil {
//		return orders.RecordMismatch(ctx, order.ID, n.PaymentID, err) // nil once recorded
//	}
//
// Deliveries of one payment id reach fn one at a time, so fn can record a
// delivery before the next copy looks for it; different payment ids run in
// parallel. fn's context ends 20 s after the notification arrived (Khipu
// waits 30 s), time spent waiting for another delivery of the same payment
// included: a delivery still waiting then is answered 503 and Khipu retries
// it. If fn panics, the panic goes on to net/http and the payment id is
// freed.
//
// Every refusal is logged at warn level, and every error of fn at error
// level, to the logger of WithHandlerLogger; neither the secret, nor the
// signature header, nor the body is logged. A blank secret or a nil fn
// panics here, when the handler is built, rather than at the first
// notification.
func NotificationHandler(secret string, fn func(ctx context.Context, n *Notification) error, opts ...HandlerOption) http.Handler {
	if strings.TrimSpace(secret) == "" {
		panic("khipuv3: NotificationHandler needs the secret notifications are signed with")
	}
	if fn == nil {
		panic("khipuv3: NotificationHandler needs a function to call with each verified notification")
	}
	cfg := handlerOptions(opts)
	return &webhook.Handler[*Notification]{
		What:     "khipu notification",
		MaxBody:  maxWebhookBody,
		Deadline: webhookDeadline,
		Logger:   cfg.logger,
		// The secret lives in this closure only: no printer of the
		// handler reaches it.
		Parse: func(r *http.Request, body []byte) (string, *Notification, error) {
			n, err := verifyNotification(secret, signatureOf(r), body, time.Now(), cfg.tolerance)
			if err != nil {
				// The error names what is wrong and quotes neither
				// the header nor the body: it can be logged and
				// answered.
				return "", nil, err
			}
			return n.PaymentID, n, nil
		},
		KeyAttr: "payment_id",
		Process: func(ctx context.Context, n *Notification) webhook.Answer {
			if err := fn(ctx, n); err != nil {
				return webhook.Answer{Status: http.StatusInternalServerError, Err: err,
					Attrs: []slog.Attr{slog.String("payment_id", n.PaymentID)}}
			}
			return webhook.Answer{}
		},
	}
}
