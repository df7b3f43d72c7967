package khipu

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/khipu-go/khipu/internal/rest"
	"github.com/khipu-go/khipu/internal/wire"
)

// APIError is what every error that carries Khipu's (or a proxy's) HTTP
// answer has in common: ValidationError, AuthorizationError, NotFoundError,
// ServiceError and UnexpectedResponseError all open as *APIError with
// errors.As, so that status and message can be logged with one check:
//
//	var ae *khipu.APIError
//	if errors.As(err, &ae) {
//		log.Printf("Khipu answered %d: %s", ae.StatusCode, ae.Message)
//	}
//
// The value errors.As gives is a copy made for the call: changing it changes
// nothing in the original error.
type APIError struct {
	StatusCode int
	// Message is Khipu's message, or for an UnexpectedResponseError what
	// was wrong with the answer.
	Message string
	// Body is the start of the answer's body (at most 1 KiB), as received.
	// It is never kept for an answer that carries a secret.
	Body []byte
}

// Error gives the status and the message, on one line.
func (e *APIError) Error() string {
	return "khipu: HTTP " + strconv.Itoa(e.StatusCode) + ": " + oneLine(e.Message)
}

// maxErrorBody is how much of an answer's body an error keeps.
const maxErrorBody = 1 << 10

// capBody returns a copy of at most the first maxErrorBody bytes of body.
func capBody(body []byte) []byte {
	if len(body) == 0 {
		return nil
	}
	return append([]byte(nil), body[:min(len(body), maxErrorBody)]...)
}

// asAPIError fills target, if it is a **APIError, for the As methods below.
func asAPIError(target any, status int, message string, body []byte) bool {
	t, ok := target.(**APIError)
	if ok {
		*t = &APIError{StatusCode: status, Message: message, Body: append([]byte(nil), body...)}
	}
	return ok
}

// FieldError is one parameter Khipu rejected, as listed in a ValidationError.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// ValidationError is Khipu's answer to a request it found invalid (HTTP 400).
// Errors lists the parameters at fault.
type ValidationError struct {
	StatusCode int
	Message    string
	Errors     []FieldError

	body []byte
}

// Error describes the rejection and every field Khipu named, on one line.
func (e *ValidationError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "khipu: validation error (HTTP %d): %s", e.StatusCode, oneLine(e.Message))
	for i, fe := range e.Errors {
		if i == 0 {
			b.WriteString(":")
		} else {
			b.WriteString(";")
		}
		fmt.Fprintf(&b, " %s: %s", oneLine(fe.Field), oneLine(fe.Message))
	}
	return b.String()
}

// As opens e as an *APIError.
func (e *ValidationError) As(target any) bool {
	return asAPIError(target, e.StatusCode, e.Message, e.body)
}

// AuthorizationError is Khipu's answer to a request it would not authorize
// (HTTP 401 or 403): a wrong secret, receiver id or API key, or a resource of
// another account.
type AuthorizationError struct {
	StatusCode int
	Message    string

	body []byte
}

// Error gives the status and Khipu's message, on one line.
func (e *AuthorizationError) Error() string {
	return fmt.Sprintf("khipu: authorization error (HTTP %d): %s", e.StatusCode, oneLine(e.Message))
}

// As opens e as an *APIError.
func (e *AuthorizationError) As(target any) bool {
	return asAPIError(target, e.StatusCode, e.Message, e.body)
}

// NotFoundError is Khipu's answer about something that does not exist
// (HTTP 404 with Khipu's JSON error): API v3 answers it for an unknown
// payment, and API v2 would if Khipu ever sent it.
type NotFoundError struct {
	StatusCode int
	Message    string

	body []byte
}

// Error gives the status and Khipu's message, on one line.
func (e *NotFoundError) Error() string {
	return fmt.Sprintf("khipu: not found (HTTP %d): %s", e.StatusCode, oneLine(e.Message))
}

// As opens e as an *APIError.
func (e *NotFoundError) As(target any) bool {
	return asAPIError(target, e.StatusCode, e.Message, e.body)
}

// ServiceError is Khipu's answer when it cannot serve a request (HTTP 503, or
// another 5xx that carries Khipu's JSON error).
type ServiceError struct {
	StatusCode int
	Message    string

	body []byte
}

// Error gives the status and Khipu's message, on one line.
func (e *ServiceError) Error() string {
	return fmt.Sprintf("khipu: service error (HTTP %d): %s", e.StatusCode, oneLine(e.Message))
}

// As opens e as an *APIError.
func (e *ServiceError) As(target any) bool {
	return asAPIError(target, e.StatusCode, e.Message, e.body)
}

// UnexpectedResponseError is a response that is not Khipu's JSON: an HTML
// page from a proxy, an empty or truncated body, a body over the size limit,
// or a status Khipu does not use. Body holds the first bytes of the body (at
// most 1 KiB) for diagnosis.
type UnexpectedResponseError struct {
	StatusCode int
	Body       []byte

	reason string // what was wrong, in a few words
	err    error  // the decoding or reading error, if any
}

func newUnexpected(status int, body []byte, reason string, err error) *UnexpectedResponseError {
	return &UnexpectedResponseError{StatusCode: status, Body: capBody(body), reason: reason, err: err}
}

// Error says what was wrong with the response and quotes the start of its
// body, on one line.
func (e *UnexpectedResponseError) Error() string {
	var b strings.Builder
	b.WriteString(e.summary())
	if snippet := bodySnippet(e.Body, 120); snippet != "" {
		b.WriteString(": body ")
		b.WriteString(snippet)
	} else {
		b.WriteString(": empty body")
	}
	return b.String()
}

// summary is Error without the body: what a log record says. A body can
// hold what must not be logged (a created receiver's secret, a payer's
// e-mail).
func (e *UnexpectedResponseError) summary() string {
	return "khipu: unexpected response (HTTP " + strconv.Itoa(e.StatusCode) + "): " + e.problem()
}

// problem says what was wrong, without the status and the body.
func (e *UnexpectedResponseError) problem() string {
	s := e.reason
	if e.err != nil {
		if s != "" {
			s += ": "
		}
		s += e.err.Error()
	}
	return oneLine(s)
}

// Unwrap returns the decoding or reading error behind e, if any.
func (e *UnexpectedResponseError) Unwrap() error { return e.err }

// As opens e as an *APIError whose Message says what was wrong.
func (e *UnexpectedResponseError) As(target any) bool {
	return asAPIError(target, e.StatusCode, e.problem(), e.Body)
}

// bodySnippet quotes the start of body on one line.
func bodySnippet(body []byte, n int) string {
	if len(body) == 0 {
		return ""
	}
	cut := len(body) > n
	if cut {
		// Back up to the start of a rune cut in two, at most UTFMax-1
		// bytes: a binary body stays quoted (strconv.Quote escapes invalid
		// bytes), not emptied.
		end := n
		for i := n; i > n-utf8.UTFMax && i > 0; i-- {
			if utf8.RuneStart(body[i]) {
				end = i
				break
			}
		}
		body = body[:end]
	}
	s := strconv.Quote(string(body))
	if cut {
		s += "..."
	}
	return s
}

// oneLine escapes what could break a log line in text from Khipu: control
// characters (a newline in "monto\nmuy bajo" becomes `\n`), Unicode line
// separators and invalid UTF-8. Printable text, accents included, stays as
// it is.
func oneLine(s string) string {
	clean := true
	for _, r := range s {
		if !unicode.IsPrint(r) && r != ' ' || r == utf8.RuneError {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for i, r := range s {
		switch {
		case r == utf8.RuneError:
			if _, size := utf8.DecodeRuneInString(s[i:]); size == 1 {
				fmt.Fprintf(&b, `\x%02x`, s[i])
				continue
			}
			b.WriteRune(r)
		case unicode.IsPrint(r) || r == ' ':
			b.WriteRune(r)
		default:
			q := strconv.QuoteRuneToASCII(r) // '\n', '\x1b', '\u2028'
			b.WriteString(q[1 : len(q)-1])
		}
	}
	return b.String()
}

// ParamError is a parameter the client refused before sending anything: a
// required one missing, an invalid amount, an unsafe path id.
type ParamError struct {
	Param  string // Khipu's name for the parameter, e.g. "amount" or "payment_id"
	Reason string
}

// Error names the parameter and why it was refused.
func (e *ParamError) Error() string {
	return "khipu: invalid parameter " + e.Param + ": " + e.Reason
}

// AmountError is an amount that could not be read (ParseAmount, JSON, text,
// Scan) or written (a negative amount, which is never sent or stored).
type AmountError struct {
	Input  string
	Reason string
}

// Error quotes the input (cut to 40 bytes) and why it is not an amount.
func (e *AmountError) Error() string {
	in := e.Input
	if len(in) > 40 {
		in = in[:40] + "..."
	}
	return fmt.Sprintf("khipu: invalid amount %q: %s", in, e.Reason)
}

// ErrReceiverMismatch is returned by VerifyNotification when the notified
// payment belongs to another collection account than the client's.
var ErrReceiverMismatch = errors.New("khipu: payment belongs to another receiver")

// errorMaker makes this package's errors for the request pipeline, which
// package khipuv3 shares.
type errorMaker struct{}

func init() { rest.KhipuErrors = errorMaker{} }

// Unexpected makes an UnexpectedResponseError.
func (errorMaker) Unexpected(status int, body []byte, reason string, cause error) error {
	return newUnexpected(status, body, reason, cause)
}

// Check turns every status but 2xx into a typed error, in one place, for
// API v2 and v3 alike. Khipu's error is a JSON object with a message (v2:
// {"status", "message", "errors": [{"field", "message"}]}; v3's is not
// documented, and some of Khipu's own plugins read "error" instead): an
// answer without one is an UnexpectedResponseError.
func (errorMaker) Check(status int, body []byte) error {
	if status >= 200 && status <= 299 {
		return nil
	}
	var w struct {
		Message wire.String     `json:"message"`
		Error   wire.String     `json:"error"`
		Errors  json.RawMessage `json:"errors"`
	}
	if err := wire.Object(body, &w); err != nil {
		return newUnexpected(status, body, "HTTP status "+strconv.Itoa(status)+" without Khipu's JSON error", err)
	}
	msg := string(w.Message)
	if msg == "" {
		msg = string(w.Error)
	}
	// v2's field list, when it is one: v3's error body has no documented
	// shape, and a list in another shape must not lose Khipu's message.
	var fields []struct {
		Field   wire.String `json:"field"`
		Message wire.String `json:"message"`
	}
	if json.Unmarshal(w.Errors, &fields) != nil {
		fields = nil
	}
	if msg == "" && len(fields) == 0 {
		return newUnexpected(status, body, "HTTP status "+strconv.Itoa(status)+" without Khipu's JSON error", nil)
	}
	body = capBody(body)
	switch {
	case status == http.StatusBadRequest:
		errs := make([]FieldError, len(fields))
		for i, f := range fields {
			errs[i] = FieldError{Field: string(f.Field), Message: string(f.Message)}
		}
		return &ValidationError{StatusCode: status, Message: msg, Errors: errs, body: body}
	case status == http.StatusUnauthorized, status == http.StatusForbidden:
		return &AuthorizationError{StatusCode: status, Message: msg, body: body}
	case status == http.StatusNotFound:
		return &NotFoundError{StatusCode: status, Message: msg, body: body}
	case status >= 500:
		return &ServiceError{StatusCode: status, Message: msg, body: body}
	}
	return newUnexpected(status, body, "HTTP status Khipu does not use", nil)
}

// LogText is err's text for a log record: an unexpected answer's without
// its body, which can hold a payer's e-mail or a created receiver's secret.
func (errorMaker) LogText(err error) string {
	var ue *UnexpectedResponseError
	if errors.As(err, &ue) {
		return ue.summary()
	}
	return err.Error()
}

// LogAttr is err as a log attribute without a body: Khipu's message for an
// API error, what was wrong for an unexpected answer.
func (errorMaker) LogAttr(err error) slog.Attr {
	var ue *UnexpectedResponseError
	if errors.As(err, &ue) {
		return slog.String("error", ue.summary())
	}
	var ae *APIError
	if errors.As(err, &ae) {
		return slog.String("khipu_message", oneLine(ae.Message))
	}
	return slog.String("error", err.Error())
}
