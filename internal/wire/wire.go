// Package wire decodes Khipu's JSON as Khipu sends it rather than as its
// documentation describes it: numbers as strings and strings as numbers,
// booleans as "false" or 0, nulls, empty strings for lists, dates with and
// without a zone, enums in upper case, amounts with float artifacts.
//
// Fields a shop decides on (ids, status, amount, currency, transaction id)
// are decoded strictly with the functions of this package: an odd type is
// an error. Every other field uses one of its lenient types, which decode an
// odd value to the zero value: one odd field must never block a
// notification.
package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// String is a lenient string: a JSON string, or a number's text; anything
// else (null, a boolean, a list, an object) is "".
type String string

// UnmarshalJSON never fails.
func (s *String) UnmarshalJSON(b []byte) error {
	*s = ""
	switch kind(b) {
	case '"':
		if v, err := decodeString(b); err == nil {
			*s = String(v)
		}
	case '0':
		*s = String(bytes.TrimSpace(b))
	}
	return nil
}

// Bool is a lenient boolean: true or false, as a JSON boolean, a string
// ("true", "false", "1", "0") or the number 1 or 0; anything else is false.
type Bool bool

// UnmarshalJSON never fails.
func (v *Bool) UnmarshalJSON(b []byte) error {
	var s string
	switch kind(b) {
	case 't', 'f', '0':
		s = string(bytes.TrimSpace(b))
	case '"':
		s, _ = decodeString(b)
	}
	*v = s == "true" || s == "1"
	return nil
}

// Strings is a lenient list of strings: a JSON list whose strings are kept
// (other items are left out); anything else ("", null) is nil.
type Strings []string

// UnmarshalJSON never fails.
func (v *Strings) UnmarshalJSON(b []byte) error {
	*v = nil
	var items []json.RawMessage
	if kind(b) != '[' || json.Unmarshal(b, &items) != nil {
		return nil
	}
	out := make([]string, 0, len(items))
	for _, it := range items {
		if kind(it) != '"' {
			continue // null, a number, a list: not a string
		}
		if s, err := decodeString(it); err == nil {
			out = append(out, s)
		}
	}
	*v = out
	return nil
}

// Int is a lenient whole number: a JSON integer, or a string of one
// ("12"); anything else (a fraction, null, a boolean) is 0, and so is a
// number too large for an int.
type Int int

// UnmarshalJSON never fails.
func (n *Int) UnmarshalJSON(b []byte) error {
	var text string
	switch kind(b) {
	case '0':
		text = string(bytes.TrimSpace(b))
	case '"':
		text, _ = decodeString(b)
	}
	v, err := strconv.Atoi(text)
	if err != nil {
		v = 0
	}
	*n = Int(v)
	return nil
}

// Time is a lenient ISO-8601 date: with or without fractional seconds, with
// a zone ("Z", "-04:00", "-0400") or without one (read as UTC); anything
// else is the zero time.
type Time time.Time

// UnmarshalJSON never fails.
func (t *Time) UnmarshalJSON(b []byte) error {
	*t = Time{}
	if kind(b) != '"' {
		return nil
	}
	s, err := decodeString(b)
	if err != nil {
		return nil
	}
	if v, err := ParseTime(s); err == nil {
		*t = Time(v)
	}
	return nil
}

var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999Z0700",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02",
}

// ParseTime reads an ISO-8601 date as Khipu writes them; one without a zone
// is UTC.
func ParseTime(s string) (time.Time, error) {
	for _, layout := range timeLayouts {
		if v, err := time.Parse(layout, s); err == nil {
			return v, nil
		}
	}
	return time.Time{}, fmt.Errorf("date %.40q is not ISO-8601", s)
}

// Enum is a lenient enum value, in lower case: Khipu's descriptions use
// lower case ("simplified_transfer") and some of its answers upper case
// ("SIMPLIFIED_TRANSFER"). Anything but a string is "".
type Enum string

// UnmarshalJSON never fails.
func (e *Enum) UnmarshalJSON(b []byte) error {
	var s String
	if kind(b) == '"' {
		_ = s.UnmarshalJSON(b)
	}
	*e = Enum(strings.ToLower(string(s)))
	return nil
}

// Amount is a lenient amount's decimal text, rounded to 4 decimals (see
// RoundDecimal); "" for null, an empty string or anything that is not a
// non-negative decimal.
type Amount string

// UnmarshalJSON never fails.
func (a *Amount) UnmarshalJSON(b []byte) error {
	text, err := StrictAmount(b)
	if err != nil {
		text = ""
	}
	*a = Amount(text)
	return nil
}

// StrictString decodes a field that must be a string: null is "", anything
// else but a string is an error.
func StrictString(raw json.RawMessage) (string, error) {
	switch kind(raw) {
	case 0, 'n':
		return "", nil
	case '"':
		return decodeString(raw)
	}
	return "", typeError(raw, "a string")
}

// StrictID decodes an id that Khipu sends as a string or as a number
// (receiver_id): a string, or an integer's exact text. null is "".
func StrictID(raw json.RawMessage) (string, error) {
	switch kind(raw) {
	case '0':
		text := string(bytes.TrimSpace(raw))
		if strings.Trim(text, "0123456789") != "" {
			return "", typeError(raw, "a string or a whole number")
		}
		return text, nil
	}
	s, err := StrictString(raw)
	if err != nil {
		return "", typeError(raw, "a string or a whole number")
	}
	return s, nil
}

// StrictAmount decodes an amount that Khipu sends as a JSON number or as a
// string ("1000", 1000, "1000.0000"): the decimal text rounded half to even
// to 4 decimals. null and "" are "". Anything else is an error.
func StrictAmount(raw json.RawMessage) (string, error) {
	var text string
	switch kind(raw) {
	case 0, 'n':
		return "", nil
	case '0':
		text = string(bytes.TrimSpace(raw))
	case '"':
		s, err := decodeString(raw)
		if err != nil {
			return "", err
		}
		text = strings.TrimSpace(s)
		if text == "" {
			return "", nil
		}
	default:
		return "", typeError(raw, "a number or a string")
	}
	return RoundDecimal(text)
}

// RoundDecimal rounds the non-negative decimal text s (digits, optionally a
// '.' and more digits) half to even to at most 4 decimals, the precision of
// Khipu's amounts: "19.989999999999998" is "19.9900", "0.00005" is "0.0000"
// and "0.00015" is "0.0002". Text with 4 decimals or fewer is returned as it
// is. Signs, exponents and separators are errors.
func RoundDecimal(s string) (string, error) {
	if len(s) > maxDecimal {
		return "", fmt.Errorf("amount %.40q... is too long", s)
	}
	whole, frac, hasDot := strings.Cut(s, ".")
	if !Digits(whole) || hasDot && !Digits(frac) {
		return "", fmt.Errorf("amount %.40q is not a decimal number", s)
	}
	if len(frac) <= 4 {
		return s, nil
	}
	keep, rest := frac[:4], frac[4:]
	odd := (keep[3]-'0')%2 == 1
	up := rest[0] > '5' || rest[0] == '5' && (strings.TrimRight(rest[1:], "0") != "" || odd)
	n := []byte(whole + keep)
	if up {
		i := len(n) - 1
		for ; i >= 0 && n[i] == '9'; i-- {
			n[i] = '0'
		}
		if i < 0 {
			n = append([]byte{'1'}, n...)
		} else {
			n[i]++
		}
	}
	return string(n[:len(n)-4]) + "." + string(n[len(n)-4:]), nil
}

// maxDecimal is the longest decimal text RoundDecimal reads: generous for a
// float printed at length, short of a denial of service.
const maxDecimal = 100

// Digits reports whether s is one or more ASCII digits.
func Digits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// decodeString decodes the JSON string literal b. A literal without escapes
// (ids, URLs, dates, amounts: nearly every string Khipu sends) is its own
// bytes, taken without the nested json.Unmarshal that would give the same
// string at three allocations instead of one; anything else goes through
// json.Unmarshal. Invalid UTF-8 goes through it too, as it replaces the bad
// bytes with U+FFFD.
func decodeString(b []byte) (string, error) {
	b = bytes.Trim(b, " \t\r\n") // JSON's white space, which is not bytes.TrimSpace's
	if len(b) >= 2 && b[0] == '"' && b[len(b)-1] == '"' {
		inner := b[1 : len(b)-1]
		plain := true
		for _, c := range inner {
			if c < 0x20 || c == '"' || c == '\\' {
				plain = false
				break
			}
		}
		if plain && utf8.Valid(inner) {
			return string(inner), nil
		}
	}
	var s string
	err := json.Unmarshal(b, &s)
	return s, err
}

// IsList reports whether b is a JSON list.
func IsList(b []byte) bool { return kind(b) == '[' }

// IsNull reports whether b is JSON's null, which an UnmarshalJSON method
// takes as "leave the value as it is", as encoding/json does.
func IsNull(b []byte) bool { return kind(b) == 'n' }

// kind is the first byte of the JSON value b, with every number as '0':
// '"', '0', 't', 'f', 'n', '[', '{', or 0 for none.
func kind(b []byte) byte {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return 0
	}
	switch c := b[0]; {
	case c == '-' || '0' <= c && c <= '9':
		return '0'
	default:
		return c
	}
}

var errType = errors.New("wrong JSON type")

// typeError says what kind of value was found where want was expected. It
// quotes none of it: the value may be part of a body that must not reach a
// log (a payer's e-mail, a created receiver's secret).
func typeError(raw json.RawMessage, want string) error {
	return fmt.Errorf("%w: %s where %s was expected", errType, kindName(raw), want)
}

// kindName names the kind of the JSON value b.
func kindName(b []byte) string {
	switch kind(b) {
	case '"':
		return "a string"
	case '0':
		return "a number"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	case '[':
		return "a list"
	case '{':
		return "an object"
	case 0:
		return "nothing"
	}
	return "something that is not JSON"
}

// CleanError rewords encoding/json's type errors, which name Go types and
// struct fields ("Go struct field .plain.status of type string"), in terms
// of the JSON: the field's path and what was found there.
func CleanError(err error) error {
	var te *json.UnmarshalTypeError
	if !errors.As(err, &te) {
		return err
	}
	where := "the document"
	if te.Field != "" {
		where = "field " + te.Field
	}
	return fmt.Errorf("%s: JSON %s where %s was expected", where, te.Value, jsonKind(te.Type))
}

func jsonKind(t reflect.Type) string {
	if t == nil {
		return "another type"
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "a list"
	case reflect.Struct, reflect.Map:
		return "an object"
	}
	return "another type"
}

// Strict decodes the fields a shop decides on, collecting what is wrong
// with each.
type Strict struct {
	errs   []error
	failed map[string]bool // fields with an error
}

// String decodes raw with StrictString.
func (s *Strict) String(field string, raw json.RawMessage) string {
	return s.keep(field, StrictString, raw)
}

// ID decodes raw with StrictID.
func (s *Strict) ID(field string, raw json.RawMessage) string {
	return s.keep(field, StrictID, raw)
}

// Amount decodes raw with StrictAmount.
func (s *Strict) Amount(field string, raw json.RawMessage) string {
	return s.keep(field, StrictAmount, raw)
}

// Required records that the answer has no field when value is empty: a
// payment without its id, a created receiver without its secret, is not a
// usable answer however well formed. A field whose value was refused
// already is not reported twice.
func (s *Strict) Required(field, value string) {
	if value == "" && !s.failed[field] {
		s.errs = append(s.errs, fmt.Errorf("the response has no %s", field))
	}
}

// Fail records an error of field.
func (s *Strict) Fail(field string, err error) {
	if s.failed == nil {
		s.failed = make(map[string]bool)
	}
	s.failed[field] = true
	s.errs = append(s.errs, fmt.Errorf("field %s: %w", field, err))
}

func (s *Strict) keep(field string, decode func(json.RawMessage) (string, error), raw json.RawMessage) string {
	v, err := decode(raw)
	if err != nil {
		s.Fail(field, err)
	}
	return v
}

// Err is every error recorded, on one line, or nil.
func (s *Strict) Err() error { return Join(s.errs...) }

// Join is errors.Join on one line: the non-nil errs as one error whose text
// joins theirs with "; " (errors.Join's uses newlines, and an error message
// is one log line) and that unwraps to each of them. It is nil when every
// err is.
func Join(errs ...error) error {
	var j joined
	for _, err := range errs {
		if err != nil {
			j = append(j, err)
		}
	}
	if len(j) == 0 {
		return nil
	}
	return j
}

// joined is several errors as one, on one line (errors.Join's are on
// several, and an error message is one log line).
type joined []error

func (j joined) Error() string {
	msgs := make([]string, len(j))
	for i, err := range j {
		msgs[i] = err.Error()
	}
	return strings.Join(msgs, "; ")
}

func (j joined) Unwrap() []error { return j }

// Object decodes the JSON object b into v (a struct of this package's types
// and json.RawMessage fields), with errors that name no Go type.
func Object(b []byte, v any) error {
	if k := kind(b); k != '{' {
		return fmt.Errorf("%w: %s where an object was expected", errType, kindName(b))
	}
	return CleanError(json.Unmarshal(b, v))
}
