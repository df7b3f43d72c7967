package khipuv3

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"time"

	"github.com/khipu-go/khipu"
	"github.com/khipu-go/khipu/internal/rest"
	"github.com/khipu-go/khipu/internal/webhook"
	"github.com/khipu-go/khipu/internal/wire"
)

// Khipu signs neither of the two callbacks of automatic payments: the
// subscription status callback and the charge error callback. Anyone who
// knows the URLs can POST to them, so nothing in their bodies is trusted:
// the status callback is confirmed with Subscriptions.Get before a shop's
// function sees it, and the error callback is handed over as a report to
// reconcile, never as a fact.

// maxCallbackBody caps how much of a callback is read: Khipu sends three
// short fields.
const maxCallbackBody = 64 << 10

// ErrCallbackContradicted is returned by SubscriptionsService.VerifyCallback
// when the status a callback claims is not the subscription's status at
// Khipu: a forged callback, or one that arrived before Khipu's own answer
// caught up.
var ErrCallbackContradicted = errors.New("khipu: the callback's status is not the subscription's status at Khipu")

// SubscriptionCallback is what Khipu POSTs to a subscription's notify_url
// when its mandate is signed or disabled. It is not signed and proves
// nothing: VerifyCallback and CallbackHandler confirm it with Khipu.
type SubscriptionCallback struct {
	SubscriptionID string             `json:"subscription_id"`
	Status         SubscriptionStatus `json:"status"`
}

// ParseSubscriptionCallback reads a subscription status callback, as JSON
// or as a form. It checks only its shape: a valid subscription_id and a
// status.
func ParseSubscriptionCallback(r *http.Request) (*SubscriptionCallback, error) {
	body, err := readCallback(r)
	if err != nil {
		return nil, err
	}
	return parseSubscriptionCallback(r.Header, body)
}

// parseSubscriptionCallback is ParseSubscriptionCallback of a body read
// already, with its request's header.
func parseSubscriptionCallback(header http.Header, body []byte) (*SubscriptionCallback, error) {
	var cb SubscriptionCallback
	if err := decodeCallback(header, body, &cb, "subscription_id", "status"); err != nil {
		return nil, err
	}
	if err := validID("subscription_id", cb.SubscriptionID); err != nil {
		return nil, fmt.Errorf("%w: %v", khipu.ErrInvalidNotification, err)
	}
	if cb.Status == "" {
		// Not a callback Khipu sent: refused here (400) rather than
		// asked about and found contradicted (409).
		return nil, fmt.Errorf("%w: no status, or one that is not a string", khipu.ErrInvalidNotification)
	}
	return &cb, nil
}

// VerifyCallback parses a subscription status callback and returns the
// subscription as Khipu reports it (Get): a callback for an id Khipu does
// not know fails there, and one whose status is not Khipu's is
// ErrCallbackContradicted.
func (s *SubscriptionsService) VerifyCallback(ctx context.Context, r *http.Request) (*Subscription, error) {
	cb, err := ParseSubscriptionCallback(r)
	if err != nil {
		return nil, err
	}
	return s.confirm(ctx, cb)
}

func (s *SubscriptionsService) confirm(ctx context.Context, cb *SubscriptionCallback) (*Subscription, error) {
	sub, err := s.Get(ctx, cb.SubscriptionID)
	if err != nil {
		return nil, err
	}
	if sub.Status != cb.Status {
		return nil, fmt.Errorf("%w: subscription %s is %s at Khipu, the callback says %.20q", ErrCallbackContradicted, sub.SubscriptionID, sub.Status, cb.Status)
	}
	return sub, nil
}

// maxCallbackLookups bounds the lookups one CallbackHandler makes at
// Khipu at the same time. Anyone can POST a callback, and each one that
// parses costs a call to Khipu with the shop's API key: past the bound, a
// callback is answered 503 at once, with Retry-After, instead of queueing
// calls a flood of forged callbacks would make. Khipu calls again; a
// genuine callback is not lost.
const maxCallbackLookups = 8

// callbackRetryAfter is the Retry-After of a callback refused because
// maxCallbackLookups lookups were in flight.
const callbackRetryAfter = 10 * time.Second

// CallbackHandler returns an http.Handler for a subscription's notify_url.
// It confirms every callback with Khipu (one Subscriptions.Get) and calls
// fn with the subscription as Khipu reports it, answering 200 when fn
// returns nil and 500 when it returns any error, so that Khipu calls again.
//
// Callbacks are not signed, so the handler spends as little as it can on
// one nobody sent: a malformed callback is refused before Khipu is asked;
// callbacks of one subscription id are processed one at a time (the lookup
// and fn), so that there is at most one lookup per subscription at a time
// and an older answer from Khipu can never reach fn after a newer one; the
// lookup is not retried (Khipu retries the callback instead); and at most 8
// lookups are in flight at once, past which a callback is answered 503 with
// Retry-After: 10.
//
// It answers 405 to anything but POST; 400 to a malformed callback or one
// for a subscription Khipu does not know; 409 to one that Khipu's answer
// contradicts (a genuine one is sent again, a forged one is not); 503 when
// Khipu cannot be asked. fn must be idempotent, and its context ends 20 s
// after the callback arrived, time spent waiting for another callback of
// the same subscription included. Every refusal is logged at warn and every
// failure at error level, to the logger of WithHandlerLogger (by default
// slog.Default(); the Client's WithLogger gets only its requests' debug
// records). A nil fn panics here.
func (s *SubscriptionsService) CallbackHandler(fn func(ctx context.Context, sub *Subscription) error, opts ...HandlerOption) http.Handler {
	if fn == nil {
		panic("khipuv3: CallbackHandler needs a function to call with each confirmed subscription")
	}
	cfg := handlerOptions(opts)
	once := s.withoutRetries()
	lookups := make(chan struct{}, maxCallbackLookups)
	return &webhook.Handler[*SubscriptionCallback]{
		What:     "khipu subscription callback",
		MaxBody:  maxCallbackBody,
		Deadline: webhookDeadline,
		Logger:   cfg.logger,
		Parse: func(r *http.Request, body []byte) (string, *SubscriptionCallback, error) {
			cb, err := parseSubscriptionCallback(r.Header, body)
			if err != nil {
				return "", nil, err
			}
			return cb.SubscriptionID, cb, nil
		},
		KeyAttr: "subscription_id",
		Process: func(ctx context.Context, cb *SubscriptionCallback) webhook.Answer {
			id := []slog.Attr{slog.String("subscription_id", cb.SubscriptionID)}
			select {
			case lookups <- struct{}{}:
			default:
				return webhook.Answer{Status: http.StatusServiceUnavailable, RetryAfter: callbackRetryAfter, Attrs: id,
					Err: fmt.Errorf("%d lookups of callbacks at Khipu in flight already", maxCallbackLookups)}
			}
			sub, err := once.confirm(ctx, cb)
			<-lookups
			var notFound *khipu.NotFoundError
			var invalid *khipu.ValidationError
			switch {
			case errors.Is(err, ErrCallbackContradicted):
				return webhook.Answer{Status: http.StatusConflict, Err: err, Attrs: id}
			case errors.As(err, &notFound), errors.As(err, &invalid):
				return webhook.Answer{Status: http.StatusBadRequest, Err: err, Attrs: id}
			case err != nil:
				return webhook.Answer{Status: http.StatusServiceUnavailable, Err: err, Attrs: id}
			}
			if err := fn(ctx, sub); err != nil {
				return webhook.Answer{Status: http.StatusInternalServerError, Err: err, Attrs: id}
			}
			return webhook.Answer{}
		},
	}
}

// withoutRetries is s on a copy of its Client whose reads are not retried:
// a callback's lookup is one call, and Khipu retries the callback instead.
func (s *SubscriptionsService) withoutRetries() *SubscriptionsService {
	c := *s.client
	c.rest.Retry = rest.Policy{}
	return &SubscriptionsService{client: &c}
}

// ChargeErrorReport is what Khipu POSTs to a charge's ErrorResponseURL when
// the charge failed. It is NOT authenticated: anyone who knows the URL can
// send one. Treat it as a report to look into — mark the charge as needing
// attention and check the charge's payment (Payments.Get with the id
// Charges.Create returned) — never as proof that a charge failed, and never
// as a reason to charge again on its own.
type ChargeErrorReport struct {
	SubscriptionID string `json:"subscription_id"`
	TransactionID  string `json:"transaction_id"` // the charge's, as you sent it
	ErrorMessage   string `json:"error_message"`
}

// ParseChargeErrorReport reads a charge error callback, as JSON or as a
// form. It checks only its shape; see ChargeErrorReport.
func ParseChargeErrorReport(r *http.Request) (*ChargeErrorReport, error) {
	body, err := readCallback(r)
	if err != nil {
		return nil, err
	}
	return parseChargeErrorReport(r.Header, body)
}

// parseChargeErrorReport is ParseChargeErrorReport of a body read already,
// with its request's header.
func parseChargeErrorReport(header http.Header, body []byte) (*ChargeErrorReport, error) {
	var rep ChargeErrorReport
	if err := decodeCallback(header, body, &rep, "subscription_id", "transaction_id", "error_message"); err != nil {
		return nil, err
	}
	if rep.SubscriptionID == "" && rep.TransactionID == "" {
		return nil, fmt.Errorf("%w: neither subscription_id nor transaction_id", khipu.ErrInvalidNotification)
	}
	return &rep, nil
}

// maxLoggedErrorMessage is how much of a charge error report's
// error_message is logged: the report is not authenticated, and one POST
// must not fill a log.
const maxLoggedErrorMessage = 1 << 10

// ErrorHandler returns an http.Handler for a charge's ErrorResponseURL. It
// calls fn with each (unauthenticated) report, answering 200 when fn
// returns nil and 500 when it returns any error; 405 to anything but POST
// and 400 to a malformed report. Every report is also logged at warn level
// (its error_message cut to 1 KiB, on one line), and every refusal and
// error of fn at warn and error level, to the logger of WithHandlerLogger
// (by default slog.Default()). fn gets the whole report. A nil fn panics
// here.
func (s *ChargesService) ErrorHandler(fn func(ctx context.Context, rep *ChargeErrorReport) error, opts ...HandlerOption) http.Handler {
	if fn == nil {
		panic("khipuv3: ErrorHandler needs a function to call with each charge error report")
	}
	cfg := handlerOptions(opts)
	log := func() *slog.Logger { return cmp.Or(cfg.logger, slog.Default()) }
	return &webhook.Handler[*ChargeErrorReport]{
		What:     "khipu charge error report",
		MaxBody:  maxCallbackBody,
		Deadline: webhookDeadline,
		Logger:   cfg.logger,
		Parse: func(r *http.Request, body []byte) (string, *ChargeErrorReport, error) {
			rep, err := parseChargeErrorReport(r.Header, body)
			return "", rep, err
		},
		Process: func(ctx context.Context, rep *ChargeErrorReport) webhook.Answer {
			log().WarnContext(ctx, "khipu reported a failed charge (unauthenticated; reconcile it)",
				"subscription_id", webhook.Clip(rep.SubscriptionID, maxLoggedErrorMessage),
				"transaction_id", webhook.Clip(rep.TransactionID, maxLoggedErrorMessage),
				"error_message", webhook.Clip(rep.ErrorMessage, maxLoggedErrorMessage))
			if err := fn(ctx, rep); err != nil {
				return webhook.Answer{Status: http.StatusInternalServerError, Err: err}
			}
			return webhook.Answer{}
		},
	}
}

// readCallback reads a callback's body, at most maxCallbackBody bytes; the
// handlers get it read already, by their skeleton, with the same cap.
// Problems wrap khipu.ErrInvalidNotification.
func readCallback(r *http.Request) ([]byte, error) {
	if r == nil {
		return nil, fmt.Errorf("%w: nil request", khipu.ErrInvalidNotification)
	}
	if r.Body == nil {
		return nil, fmt.Errorf("%w: empty body", khipu.ErrInvalidNotification)
	}
	body, err := webhook.ReadBody(r, maxCallbackBody)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", khipu.ErrInvalidNotification, err)
	}
	return body, nil
}

// decodeCallback decodes a callback's body, JSON or a form (as header's
// Content-Type says), into v, whose fields carry json tags named as
// fields. Problems wrap khipu.ErrInvalidNotification.
func decodeCallback(header http.Header, raw []byte, v any, fields ...string) error {
	if mt, _, _ := mime.ParseMediaType(header.Get("Content-Type")); mt == "application/x-www-form-urlencoded" {
		form, err := url.ParseQuery(string(raw))
		if err != nil {
			return fmt.Errorf("%w: malformed form: %v", khipu.ErrInvalidNotification, err)
		}
		asJSON := make(map[string]string, len(fields))
		for _, f := range fields {
			asJSON[f] = form.Get(f)
		}
		raw, _ = json.Marshal(asJSON)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("%w: not a JSON object of strings: %v", khipu.ErrInvalidNotification, wire.CleanError(err))
	}
	return nil
}
