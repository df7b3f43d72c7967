// Notifications 3.0: verifying and decoding the signed JSON payment Khipu
// POSTs to a payment's notify_url.

package khipuv3

import (
	"bytes"
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/khipu-go/khipu"
	"github.com/khipu-go/khipu/internal/sign"
)

// Notification is a verified notification 3.0: the payment Khipu POSTed to
// notify_url, returned by ParseNotification and passed on by
// NotificationHandler only after its signature has been checked. Decoded
// with json.Unmarshal it is verified only if VerifySignature accepted the
// same bytes first, which is how routers other than net/http use it.
//
// Khipu sends notifications 3.0 only for payments it has reconciled, so
// there is no status: the money has arrived. Before delivering anything,
// compare the notification with the order with Check.
//
// Decoding is that of khipu.Payment: strict for payment_id, amount,
// currency, transaction_id and receiver_id (an odd type is an error), lenient
// for the rest (an odd value is the zero value); enums are read in lower
// case; amounts are strings or numbers. A body without a payment_id is
// refused.
type Notification struct {
	PaymentID             string
	ReceiverID            string // Khipu sends a number
	Subject               string
	Amount                khipu.Amount
	Discount              khipu.Amount
	Currency              string
	ReceiptURL            string
	Bank                  string
	BankID                string
	PayerName             string
	PayerEmail            string
	PersonalIdentifier    string
	BankAccountNumber     string
	OutOfDateConciliation bool
	TransactionID         string
	ResponsibleUserEmail  string
	PaymentMethod         khipu.PaymentMethodID
	ConciliationDate      time.Time

	// Raw is the body exactly as received and verified, for the fields
	// this version does not know. (json.Unmarshal leaves out the
	// whitespace around the object; ParseNotification does not.)
	Raw json.RawMessage

	// Notifications 3.0 carry no status; should one ever do, Check
	// refuses any but a done payment.
	status       khipu.PaymentStatus
	statusDetail khipu.StatusDetail
}

// UnmarshalJSON decodes a notification's body through khipu.Payment's
// decoder and keeps a copy of data in Raw. A body that is not a JSON object,
// or has no payment_id, is an error. json.Unmarshal passes it the object
// without the whitespace around it (a trailing newline, say), so keep the
// bytes VerifySignature checked if they are needed exactly.
func (n *Notification) UnmarshalJSON(data []byte) error {
	var p khipu.Payment
	if err := p.UnmarshalJSON(data); err != nil {
		return err // a payment without its payment_id included
	}
	*n = Notification{
		PaymentID:             p.PaymentID,
		ReceiverID:            p.ReceiverID,
		Subject:               p.Subject,
		Amount:                p.Amount,
		Discount:              p.Discount,
		Currency:              p.Currency,
		ReceiptURL:            p.ReceiptURL,
		Bank:                  p.Bank,
		BankID:                p.BankID,
		PayerName:             p.PayerName,
		PayerEmail:            p.PayerEmail,
		PersonalIdentifier:    p.PersonalIdentifier,
		BankAccountNumber:     p.BankAccountNumber,
		OutOfDateConciliation: p.OutOfDateConciliation,
		TransactionID:         p.TransactionID,
		ResponsibleUserEmail:  p.ResponsibleUserEmail,
		PaymentMethod:         p.PaymentMethod,
		ConciliationDate:      p.ConciliationDate,
		Raw:                   p.Raw, // already a copy of data
		status:                p.Status,
		statusDetail:          p.StatusDetail,
	}
	return nil
}

// Check returns nil only when n's transaction id, amount and currency all
// match the merchant's order (the currency compared without regard to case;
// an empty expected currency never matches); otherwise an error, one
// *khipu.MismatchError per difference joined, says what differs.
//
// Khipu sends notifications 3.0 only for reconciled payments, so they carry
// no status and Check compares none. Should a notification ever carry one,
// Check also refuses it unless it is done with status_detail normal,
// marked-paid-by-receiver or none, as khipu.Payment.Check does.
func (n *Notification) Check(transactionID string, amount khipu.Amount, currency string) error {
	if n == nil {
		return &khipu.MismatchError{Field: "notification", Want: "a notification", Got: "nil"}
	}
	// The rules are khipu.Payment.Check's: a notification is a payment
	// that is done unless it says otherwise.
	p := khipu.Payment{
		Status:        cmp.Or(n.status, khipu.StatusDone),
		StatusDetail:  n.statusDetail,
		TransactionID: n.TransactionID,
		Amount:        n.Amount,
		Currency:      n.Currency,
	}
	return p.Check(transactionID, amount, currency)
}

// SignatureHeader is the HTTP header that carries a notification's
// signature: "t=<unix time in milliseconds>,s=<base64 HMAC-SHA256>".
const SignatureHeader = "x-khipu-signature"

// DefaultTolerance is how far a notification's timestamp may lie from the
// current time for ParseNotification and NotificationHandler. It is long
// because Khipu retries an unanswered notification for up to two days and
// nothing public says whether a retry is signed anew: a short window would
// refuse the retries of a notification the shop missed, and the payment
// would never be delivered. A replayed genuine notification is harmless to
// a shop that delivers once per payment id.
const DefaultTolerance = 72 * time.Hour

// ErrInvalidSignature is matched, with errors.Is, by every refusal of
// VerifySignature, and so by ErrSignatureMissing, ErrSignatureMalformed,
// ErrSignatureExpired and ErrSignatureMismatch: a notification not shown to
// come from Khipu.
var ErrInvalidSignature = errors.New("khipuv3: invalid notification signature")

var (
	// ErrSignatureMissing is an empty or absent x-khipu-signature header.
	ErrSignatureMissing = fmt.Errorf("%w: %s header missing", ErrInvalidSignature, SignatureHeader)
	// ErrSignatureMalformed is a header that is not "t=<ms>,s=<base64>".
	ErrSignatureMalformed = fmt.Errorf("%w: %s header malformed", ErrInvalidSignature, SignatureHeader)
	// ErrSignatureExpired is a correct signature whose timestamp lies
	// further from now than the tolerance, in the past or in the future.
	ErrSignatureExpired = fmt.Errorf("%w: timestamp outside the tolerance", ErrInvalidSignature)
	// ErrSignatureMismatch is a header none of whose signatures is that of
	// the body under the secret: a forgery, a body changed on the way
	// (re-encoded JSON included), or the wrong secret.
	ErrSignatureMismatch = fmt.Errorf("%w: no signature matches the body", ErrInvalidSignature)
)

// Sign returns the x-khipu-signature value Khipu would send for body at
// time t, signed with secret: "t=<ms>,s=<base64>". It is meant for tests of
// handlers that receive notifications. A t before 1970 gives a header
// VerifySignature refuses as malformed, as Khipu never sends one.
func Sign(secret string, t time.Time, body []byte) string {
	ms := t.UnixMilli()
	return "t=" + strconv.FormatInt(ms, 10) + ",s=" + sign.Webhook(secret, ms, body)
}

// VerifySignature returns nil only when header, the x-khipu-signature value,
// holds a signature of body, exactly as received, under secret, and its
// timestamp lies within tolerance of now, before or after it. Tolerance 0
// leaves the timestamp unchecked; a negative tolerance refuses everything.
// A blank secret is refused: anyone can compute an HMAC under an empty key.
//
// The header is split on ',' and each part on its first '='; whitespace
// around parts, keys and values is ignored and so are keys other than t and
// s. t must appear once, as a whole number of milliseconds; s may appear
// several times (for a change of secret) and the header is accepted when
// any of them matches. Signatures are compared in constant time.
//
// Every error matches ErrInvalidSignature with errors.Is, and one of
// ErrSignatureMissing, ErrSignatureMalformed, ErrSignatureExpired (checked
// after the signature, so it means a genuine but old or future notification)
// or ErrSignatureMismatch says which check failed; none of them holds the
// secret, the expected signature or the header.
func VerifySignature(secret, header string, body []byte, now time.Time, tolerance time.Duration) error {
	if err := checkSecret(secret); err != nil {
		return err
	}
	if tolerance < 0 {
		return fmt.Errorf("%w: negative tolerance %v", ErrInvalidSignature, tolerance)
	}
	if strings.TrimSpace(header) == "" {
		return ErrSignatureMissing
	}
	h, err := parseSignatureHeader(header)
	if err != nil {
		return err
	}
	// sign.Webhook's output is always valid base64.
	want, _ := base64.StdEncoding.DecodeString(sign.Webhook(secret, h.ms, body))
	matched := false
	for _, s := range h.signatures {
		matched = hmac.Equal(s, want) || matched
	}
	if !matched {
		return ErrSignatureMismatch
	}
	if tolerance == 0 {
		return nil
	}
	switch age := now.Sub(time.UnixMilli(h.ms)); {
	case age > tolerance:
		return fmt.Errorf("%w: signed %v ago, tolerance %v", ErrSignatureExpired, age.Round(time.Second), tolerance)
	case age < -tolerance:
		return fmt.Errorf("%w: signed %v in the future, tolerance %v", ErrSignatureExpired, (-age).Round(time.Second), tolerance)
	}
	return nil
}

// checkSecret refuses a blank secret, without quoting it.
func checkSecret(secret string) error {
	if strings.TrimSpace(secret) == "" {
		return fmt.Errorf("%w: the secret is empty", ErrInvalidSignature)
	}
	return nil
}

// signatureHeader is a parsed x-khipu-signature value.
type signatureHeader struct {
	ms         int64
	signatures [][]byte // decoded HMACs
}

// strictBase64 refuses non-zero padding bits, so that only one text
// decodes to a given signature.
var strictBase64 = base64.StdEncoding.Strict()

// parseSignatureHeader reads "t=<ms>,s=<base64>[,s=...]". Its errors name
// what is wrong but quote nothing: the header is not to be logged.
func parseSignatureHeader(header string) (signatureHeader, error) {
	var h signatureHeader
	haveT := false
	for _, part := range strings.Split(header, ",") {
		key, value, ok := strings.Cut(part, "=")
		key, value = strings.TrimSpace(key), strings.TrimSpace(value)
		if !ok || key == "" {
			return h, fmt.Errorf("%w: a part is not key=value", ErrSignatureMalformed)
		}
		switch key {
		case "t":
			if haveT {
				return h, fmt.Errorf("%w: t appears more than once", ErrSignatureMalformed)
			}
			ms, ok := parseMillis(value)
			if !ok {
				return h, fmt.Errorf("%w: t is not a whole number of milliseconds", ErrSignatureMalformed)
			}
			h.ms, haveT = ms, true
		case "s":
			sig, err := strictBase64.DecodeString(value)
			// Only the canonical text of a 32-byte HMAC: base64 decoders
			// skip newlines, and two texts must not pass for one signature.
			if err != nil || len(sig) != sha256.Size || strictBase64.EncodeToString(sig) != value {
				return h, fmt.Errorf("%w: s is not a base64 HMAC-SHA256", ErrSignatureMalformed)
			}
			h.signatures = append(h.signatures, sig)
		default:
			// A key Khipu adds later must not stop verification.
		}
	}
	switch {
	case !haveT:
		return h, fmt.Errorf("%w: t is missing", ErrSignatureMalformed)
	case len(h.signatures) == 0:
		return h, fmt.Errorf("%w: s is missing", ErrSignatureMalformed)
	}
	return h, nil
}

// parseMillis reads t as Khipu writes it: decimal digits, no sign, no
// leading zero. Any other spelling of the number would be signed as other
// text than the one sign.Webhook formats, so it could never verify.
func parseMillis(s string) (int64, bool) {
	if s == "" || len(s) > 1 && s[0] == '0' {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	ms, err := strconv.ParseInt(s, 10, 64)
	return ms, err == nil
}

// maxWebhookBody caps how much of a notification is read: Khipu's are
// under 1 KiB.
const maxWebhookBody = 1 << 20

// ParseNotification reads, verifies and decodes the notification 3.0 in r:
// it accepts only POST, reads at most 1 MiB of the body (a larger body is
// refused, never verified in part), checks the x-khipu-signature header with
// VerifySignature against the current time and DefaultTolerance, and decodes
// the body (see Notification). Raw holds the body exactly as received, and
// r.Body is left readable again from the start.
//
// Signature failures match ErrInvalidSignature (a blank secret included);
// every other refusal wraps khipu.ErrInvalidNotification. Nothing here
// remembers notifications: a byte-identical redelivery, which Khipu sends
// after any answer but 2xx, is accepted again.
func ParseNotification(secret string, r *http.Request) (*Notification, error) {
	return parseNotification(secret, r, time.Now(), DefaultTolerance)
}

func parseNotification(secret string, r *http.Request, now time.Time, tolerance time.Duration) (*Notification, error) {
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
	// Several header lines are one comma-separated list (RFC 9110).
	header := strings.Join(r.Header.Values(SignatureHeader), ",")
	if err := VerifySignature(secret, header, body, now, tolerance); err != nil {
		return nil, err
	}
	// Checked here rather than left to the decoder, whose error would
	// quote the start of the body.
	if trimmed := bytes.TrimSpace(body); len(trimmed) == 0 || trimmed[0] != '{' {
		return nil, fmt.Errorf("%w: body is not a JSON object", khipu.ErrInvalidNotification)
	}
	n := new(Notification)
	if err := json.Unmarshal(body, n); err != nil {
		return nil, fmt.Errorf("%w: body is not a notification 3.0: %v", khipu.ErrInvalidNotification, err)
	}
	// json.Unmarshal hands UnmarshalJSON the object without the whitespace
	// around it; Raw is to be what was signed.
	n.Raw = body
	return n, nil
}

// readWebhookBody reads r's body with a cap and puts the bytes back in
// r.Body for whoever reads it next.
func readWebhookBody(r *http.Request) ([]byte, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return nil, nil
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxWebhookBody+1))
	if err != nil {
		return nil, fmt.Errorf("%w: reading body: %v", khipu.ErrInvalidNotification, err)
	}
	if len(body) > maxWebhookBody {
		return nil, fmt.Errorf("%w: body larger than %d bytes", khipu.ErrInvalidNotification, maxWebhookBody)
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	return body, nil
}

// webhookDeadline bounds the work NotificationHandler does for one
// notification, waiting for the payment id included, so that it answers
// well inside the 30 s Khipu waits.
const webhookDeadline = 20 * time.Second

// HandlerOption configures NotificationHandler.
type HandlerOption func(*handlerConfig)

type handlerConfig struct {
	tolerance time.Duration
	logger    *slog.Logger // nil: slog.Default() at the time of logging
}

// WithTolerance sets how far a notification's timestamp may lie from the
// current time (DefaultTolerance if not set); 0 leaves it unchecked. A
// negative d is a programming error and panics here.
func WithTolerance(d time.Duration) HandlerOption {
	if d < 0 {
		panic("khipuv3: WithTolerance needs a tolerance of 0 or more")
	}
	return func(c *handlerConfig) { c.tolerance = d }
}

// WithHandlerLogger sets where NotificationHandler logs refusals (warn) and
// failures of its function (error); nil, like no option, means
// slog.Default().
func WithHandlerLogger(l *slog.Logger) HandlerOption {
	return func(c *handlerConfig) { c.logger = l }
}

// NotificationHandler returns an http.Handler for a payment's notify_url
// that verifies each notification (as ParseNotification, with the tolerance
// of WithTolerance) and calls fn with it. It answers 405 to anything but
// POST, 400 to an unsigned, forged, stale or malformed notification, 200
// when fn returns nil and 500 when fn returns an error, so that Khipu
// notifies again later — except a *khipu.MismatchError (Check's, wrapped or
// joined): a notification that does not pay the order is logged at warn
// level and answered 200, since notifying again would not change it.
//
// fn must compare the notification with the order (Notification.Check) and
// must be idempotent: Khipu can send the same notification more than once,
// and the handler accepts every genuine copy. Deliveries of one payment id
// reach fn one at a time, so fn can record a delivery before the next copy
// looks for it; different payment ids run in parallel. fn's context ends
// 20 s after the notification arrived (Khipu waits 30 s), time spent waiting
// for another delivery of the same payment included: a delivery still
// waiting then is answered 503 and Khipu retries it. If fn panics, the panic
// goes on to net/http and the payment id is freed.
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
	h := &webhookHandler{secret: func() string { return secret }, fn: fn, cfg: handlerConfig{tolerance: DefaultTolerance}, locks: make(map[string]*paymentLock)}
	for _, opt := range opts {
		if opt != nil {
			opt(&h.cfg)
		}
	}
	return h
}

type webhookHandler struct {
	secret func() string // a function, so that no printer shows it
	fn     func(context.Context, *Notification) error
	cfg    handlerConfig

	mu    sync.Mutex
	locks map[string]*paymentLock // by payment id, only while in use
}

// paymentLock serializes the deliveries of one payment id. It is a channel
// rather than a sync.Mutex so that waiting for it can end with the context.
type paymentLock struct {
	slot  chan struct{} // capacity 1: a send takes the lock, a receive frees it
	users int           // deliveries holding or waiting for it; guarded by webhookHandler.mu
}

// Format prints the handler without its secret, whatever the verb, so that
// neither %v nor a log record of the handler shows it.
func (h *webhookHandler) Format(f fmt.State, _ rune) {
	_, _ = io.WriteString(f, "khipuv3.NotificationHandler{secret: [redacted]}")
}

func (h *webhookHandler) logger() *slog.Logger {
	if h.cfg.logger != nil {
		return h.cfg.logger
	}
	return slog.Default()
}

func (h *webhookHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	log := h.logger()
	if r.Method != http.MethodPost {
		log.WarnContext(r.Context(), "khipu notification refused", "status", http.StatusMethodNotAllowed, "method", r.Method, "remote_addr", r.RemoteAddr)
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "method not allowed: Khipu notifications are POSTed", http.StatusMethodNotAllowed)
		return
	}
	n, err := parseNotification(h.secret(), r, time.Now(), h.cfg.tolerance)
	if err != nil {
		// The error names what is wrong and quotes neither the header
		// nor the body, so it can be both logged and answered.
		log.WarnContext(r.Context(), "khipu notification refused", "status", http.StatusBadRequest, "error", err.Error(), "remote_addr", r.RemoteAddr)
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}

	ctx, cancel := context.WithTimeout(r.Context(), webhookDeadline)
	defer cancel()
	unlock, err := h.lock(ctx, n.PaymentID)
	if err != nil {
		log.ErrorContext(ctx, "khipu notification not processed: another delivery of the payment is still running; Khipu will retry",
			"status", http.StatusServiceUnavailable, "payment_id", n.PaymentID, "error", err.Error())
		http.Error(w, "notification not processed; retry later", http.StatusServiceUnavailable)
		return
	}
	defer unlock() // deferred, so that a panic in fn frees the payment id too

	err = h.fn(ctx, n)
	var mismatch *khipu.MismatchError
	switch {
	case errors.As(err, &mismatch):
		log.WarnContext(ctx, "khipu notification not delivered: the payment does not match the order", "status", http.StatusOK, "payment_id", n.PaymentID, "error", err.Error())
	case err != nil:
		log.ErrorContext(ctx, "khipu notification not processed; Khipu will retry", "status", http.StatusInternalServerError, "payment_id", n.PaymentID, "error", err.Error())
		http.Error(w, "notification not processed; retry later", http.StatusInternalServerError)
		return
	}
	http.Error(w, "ok", http.StatusOK)
}

// lock waits until no other delivery of paymentID is running, or ctx ends,
// and returns the function that frees paymentID. The map keeps an entry only
// while some delivery holds or waits for it.
func (h *webhookHandler) lock(ctx context.Context, paymentID string) (unlock func(), err error) {
	h.mu.Lock()
	l := h.locks[paymentID]
	if l == nil {
		l = &paymentLock{slot: make(chan struct{}, 1)}
		h.locks[paymentID] = l
	}
	l.users++
	h.mu.Unlock()

	release := func() {
		h.mu.Lock()
		l.users--
		if l.users == 0 {
			delete(h.locks, paymentID)
		}
		h.mu.Unlock()
	}
	select {
	case l.slot <- struct{}{}:
		return func() { <-l.slot; release() }, nil
	case <-ctx.Done():
		release()
		return nil, ctx.Err()
	}
}
