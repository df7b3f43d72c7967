package khipu

import (
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/khipu-go/khipu/internal/rest"
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
	return "khipu: HTTP " + strconv.Itoa(e.StatusCode) + ": " + rest.OneLine(e.Message)
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

// withHint is message followed by hint, if there is one.
func withHint(message, hint string) string {
	if hint == "" {
		return message
	}
	return message + "; " + hint
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
	hint string // what to check when the answer suggests a wrong base URL
}

// Error describes the rejection and every field Khipu named, on one line,
// followed by a hint to check the base URL when the answer shows the request
// went to the wrong API (see DecodeResponse).
func (e *ValidationError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "khipu: validation error (HTTP %d): %s", e.StatusCode, rest.OneLine(e.Message))
	for i, fe := range e.Errors {
		if i == 0 {
			b.WriteString(":")
		} else {
			b.WriteString(";")
		}
		fmt.Fprintf(&b, " %s: %s", rest.OneLine(fe.Field), rest.OneLine(fe.Message))
	}
	if e.hint != "" {
		b.WriteString("; " + e.hint)
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
	hint string // what to check when the answer suggests a wrong base URL
}

// Error gives the status and Khipu's message, on one line, followed by a
// hint to check the base URL when the answer shows the request went to the
// wrong API (see DecodeResponse).
func (e *AuthorizationError) Error() string {
	return fmt.Sprintf("khipu: authorization error (HTTP %d): %s", e.StatusCode, withHint(rest.OneLine(e.Message), e.hint))
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
	hint string // what to check when the answer suggests a wrong base URL
}

// Error gives the status and Khipu's message, on one line, followed by a
// hint to check the base URL when the answer shows the request went to the
// wrong API (see DecodeResponse).
func (e *NotFoundError) Error() string {
	return fmt.Sprintf("khipu: not found (HTTP %d): %s", e.StatusCode, withHint(rest.OneLine(e.Message), e.hint))
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
	hint string // what to check when the answer suggests a wrong base URL
}

// Error gives the status and Khipu's message, on one line, followed by a
// hint to check the base URL when the answer shows the request went to the
// wrong API (see DecodeResponse).
func (e *ServiceError) Error() string {
	return fmt.Sprintf("khipu: service error (HTTP %d): %s", e.StatusCode, withHint(rest.OneLine(e.Message), e.hint))
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
	return rest.OneLine(s)
}

// LogValue is what a log record shows of e, with slog: Error without the
// body, which can hold a payer's e-mail or a created receiver's secret.
func (e *UnexpectedResponseError) LogValue() slog.Value {
	return slog.StringValue(e.summary())
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
