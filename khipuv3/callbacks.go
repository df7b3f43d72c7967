package khipuv3

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"time"

	"github.com/khipu-go/khipu"
	"github.com/khipu-go/khipu/internal/rest"
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

// callbackDeadline bounds the work a callback handler does, so that it
// answers well inside the 30 s Khipu waits.
const callbackDeadline = 20 * time.Second

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
	var cb SubscriptionCallback
	if err := readCallback(r, &cb, "subscription_id", "status"); err != nil {
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

// CallbackHandler returns an http.Handler for a subscription's notify_url.
// It confirms every callback with Khipu (VerifyCallback) and calls fn with
// the subscription as Khipu reports it, answering 200 when fn returns nil
// and 500 otherwise, so that Khipu calls again.
//
// It answers 405 to anything but POST; 400 to a malformed callback or one
// for a subscription Khipu does not know; 409 to one that Khipu's answer
// contradicts (a genuine one is sent again, a forged one is not); 503 when
// Khipu cannot be asked (it retries). fn must be idempotent, and its context
// ends 20 s after the callback arrived. Every refusal is logged at warn and
// every error at error level to the Client's logger, or slog.Default() when
// it has none. A nil fn panics here.
func (s *SubscriptionsService) CallbackHandler(fn func(ctx context.Context, sub *Subscription) error) http.Handler {
	if fn == nil {
		panic("khipuv3: CallbackHandler needs a function to call with each confirmed subscription")
	}
	return callbackHandler(s.client.logger(), "khipu subscription callback", func(ctx context.Context, r *http.Request) (int, error) {
		cb, err := ParseSubscriptionCallback(r)
		if err != nil {
			return http.StatusBadRequest, err
		}
		sub, err := s.confirm(ctx, cb)
		var notFound *khipu.NotFoundError
		var invalid *khipu.ValidationError
		switch {
		case errors.Is(err, ErrCallbackContradicted):
			return http.StatusConflict, err
		case errors.As(err, &notFound), errors.As(err, &invalid):
			return http.StatusBadRequest, err
		case err != nil:
			return http.StatusServiceUnavailable, err
		}
		if err := fn(ctx, sub); err != nil {
			return http.StatusInternalServerError, err
		}
		return http.StatusOK, nil
	})
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
	var rep ChargeErrorReport
	if err := readCallback(r, &rep, "subscription_id", "transaction_id", "error_message"); err != nil {
		return nil, err
	}
	if rep.SubscriptionID == "" && rep.TransactionID == "" {
		return nil, fmt.Errorf("%w: neither subscription_id nor transaction_id", khipu.ErrInvalidNotification)
	}
	return &rep, nil
}

// ChargeErrorHandler returns an http.Handler for a charge's
// ErrorResponseURL. It calls fn with each (unauthenticated) report,
// answering 200 when fn returns nil and 500 otherwise; 405 to anything but
// POST and 400 to a malformed report. Every report is also logged at warn
// level, and every refusal and error of fn at warn and error level, to the
// Client's logger or slog.Default(). A nil fn panics here.
func (s *ChargesService) ErrorHandler(fn func(ctx context.Context, rep *ChargeErrorReport) error) http.Handler {
	if fn == nil {
		panic("khipuv3: ErrorHandler needs a function to call with each charge error report")
	}
	log := s.client.logger()
	return callbackHandler(log, "khipu charge error report", func(ctx context.Context, r *http.Request) (int, error) {
		rep, err := ParseChargeErrorReport(r)
		if err != nil {
			return http.StatusBadRequest, err
		}
		log.WarnContext(ctx, "khipu reported a failed charge (unauthenticated; reconcile it)",
			"subscription_id", rep.SubscriptionID, "transaction_id", rep.TransactionID, "error_message", rep.ErrorMessage)
		if err := fn(ctx, rep); err != nil {
			return http.StatusInternalServerError, err
		}
		return http.StatusOK, nil
	})
}

// callbackHandler answers a callback with the status process returns, after
// refusing anything but POST, and logs every failure: 4xx at warn, 5xx at
// error level.
func callbackHandler(log *slog.Logger, what string, process func(ctx context.Context, r *http.Request) (int, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			log.WarnContext(r.Context(), what+" refused", "status", http.StatusMethodNotAllowed, "method", r.Method, "remote_addr", r.RemoteAddr)
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, "method not allowed: Khipu's callbacks are POSTed", http.StatusMethodNotAllowed)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), callbackDeadline)
		defer cancel()
		status, err := process(ctx, r)
		switch {
		case status >= 500:
			log.ErrorContext(ctx, what+" not processed; Khipu will retry", "status", status, "error", rest.LogText(err))
			http.Error(w, "not processed; retry later", status)
		case err != nil:
			log.WarnContext(ctx, what+" refused", "status", status, "error", rest.LogText(err), "remote_addr", r.RemoteAddr)
			http.Error(w, "refused", status)
		default:
			http.Error(w, "ok", status)
		}
	})
}

// readCallback decodes a callback's body, JSON or a form, into v (whose
// fields carry json tags named as fields), reading at most maxCallbackBody
// bytes. Problems wrap khipu.ErrInvalidNotification.
func readCallback(r *http.Request, v any, fields ...string) error {
	if r == nil {
		return fmt.Errorf("%w: nil request", khipu.ErrInvalidNotification)
	}
	if r.Body == nil {
		return fmt.Errorf("%w: empty body", khipu.ErrInvalidNotification)
	}
	raw, err := io.ReadAll(io.LimitReader(r.Body, maxCallbackBody+1))
	if err != nil {
		return fmt.Errorf("%w: reading body: %v", khipu.ErrInvalidNotification, err)
	}
	if len(raw) > maxCallbackBody {
		return fmt.Errorf("%w: body larger than %d bytes", khipu.ErrInvalidNotification, maxCallbackBody)
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "application/x-www-form-urlencoded" {
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
