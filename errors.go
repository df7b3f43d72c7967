package khipu

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

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
}

// Error describes the rejection and every field Khipu named.
func (e *ValidationError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "khipu: validation error (HTTP %d): %s", e.StatusCode, e.Message)
	for i, fe := range e.Errors {
		if i == 0 {
			b.WriteString(":")
		} else {
			b.WriteString(";")
		}
		fmt.Fprintf(&b, " %s: %s", fe.Field, fe.Message)
	}
	return b.String()
}

// AuthorizationError is Khipu's answer to a request it would not authorize
// (HTTP 403): a wrong secret or receiver id, or a resource of another account.
type AuthorizationError struct {
	StatusCode int
	Message    string
}

// Error gives the status and Khipu's message.
func (e *AuthorizationError) Error() string {
	return fmt.Sprintf("khipu: authorization error (HTTP %d): %s", e.StatusCode, e.Message)
}

// ServiceError is Khipu's answer when it cannot serve a request (HTTP 503, or
// another 5xx that carries Khipu's JSON error).
type ServiceError struct {
	StatusCode int
	Message    string
}

// Error gives the status and Khipu's message.
func (e *ServiceError) Error() string {
	return fmt.Sprintf("khipu: service error (HTTP %d): %s", e.StatusCode, e.Message)
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

// maxErrorBody is how much of an unexpected body an UnexpectedResponseError
// keeps.
const maxErrorBody = 1 << 10

func newUnexpected(status int, body []byte, reason string, err error) *UnexpectedResponseError {
	if len(body) > maxErrorBody {
		body = body[:maxErrorBody]
	}
	return &UnexpectedResponseError{StatusCode: status, Body: append([]byte(nil), body...), reason: reason, err: err}
}

// Error says what was wrong with the response and quotes the start of its
// body.
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
	var b strings.Builder
	fmt.Fprintf(&b, "khipu: unexpected response (HTTP %d)", e.StatusCode)
	if e.reason != "" {
		b.WriteString(": ")
		b.WriteString(e.reason)
	}
	if e.err != nil {
		b.WriteString(": ")
		b.WriteString(e.err.Error())
	}
	return b.String()
}

// Unwrap returns the decoding or reading error behind e, if any.
func (e *UnexpectedResponseError) Unwrap() error { return e.err }

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

// AmountError is a string ParseAmount (or a JSON amount) could not read.
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
