package rest

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/khipu-go/khipu/internal/wire"
)

// answerAttr is what a debug record says of an answer: Khipu's message for
// its JSON error, or what is wrong with the answer; never its body.
func answerAttr(status int, body []byte) slog.Attr {
	switch {
	case len(body) > MaxBody:
		return slog.String("error", "body larger than "+strconv.Itoa(MaxBody)+" bytes")
	case status >= 200 && status <= 299:
		return slog.Attr{}
	}
	if e, ok, _ := ParseError(body); ok && e.Message != "" {
		return slog.String("khipu_message", OneLine(e.Message))
	}
	return slog.String("error", "HTTP status "+strconv.Itoa(status)+" without Khipu's JSON error")
}

// ErrorBody is Khipu's JSON error, as both APIs send it: v2's is
// {"status", "message", "errors": [{"field", "message"}]}; v3's is not
// documented, and some of Khipu's own plugins read "error" instead of
// "message".
type ErrorBody struct {
	Message string
	Fields  []FieldError // v2's list of the parameters at fault
}

// FieldError is one entry of ErrorBody.Fields.
type FieldError struct{ Field, Message string }

// ParseError reads Khipu's JSON error from an answer's body. ok is false
// when body is not one: not a JSON object (cause says why), or an object
// with neither a message nor a field list.
func ParseError(body []byte) (e ErrorBody, ok bool, cause error) {
	var w struct {
		Message wire.String     `json:"message"`
		Error   wire.String     `json:"error"`
		Errors  json.RawMessage `json:"errors"`
	}
	if err := wire.Object(body, &w); err != nil {
		return ErrorBody{}, false, err
	}
	e.Message = string(w.Message)
	if e.Message == "" {
		e.Message = string(w.Error)
	}
	// v2's field list, when it is one: a list in another shape must not
	// lose Khipu's message.
	var fields []struct {
		Field   wire.String `json:"field"`
		Message wire.String `json:"message"`
	}
	if json.Unmarshal(w.Errors, &fields) == nil {
		for _, f := range fields {
			e.Fields = append(e.Fields, FieldError{Field: string(f.Field), Message: string(f.Message)})
		}
	}
	if e.Message == "" && len(e.Fields) == 0 {
		return ErrorBody{}, false, nil
	}
	return e, true, nil
}

// LogText is err's text for a log record. An error that says how it is to
// be logged (a slog.LogValuer, as khipu.UnexpectedResponseError is, whose
// body must not reach a log) gives its LogValue.
func LogText(err error) string {
	var lv slog.LogValuer
	if errors.As(err, &lv) {
		return lv.LogValue().Resolve().String()
	}
	return err.Error()
}

// OneLine escapes what could break a log line in text from Khipu: control
// characters (a newline in "monto\nmuy bajo" becomes `\n`), Unicode line
// separators and invalid UTF-8. Printable text, accents included, stays as
// it is.
func OneLine(s string) string {
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
