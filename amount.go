package khipu

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"net/url"
	"strconv"
	"strings"
)

// Amount is an exact decimal amount of money with at most 4 decimal places
// (Khipu's limit). It is never a float: it parses from and prints to decimal
// text exactly, and two Amounts compare with ==. The zero value is 0.
type Amount struct {
	units int64 // in 1/10000 of the currency unit
}

const (
	amountScale    = 10000
	amountDecimals = 4
	maxWhole       = math.MaxInt64 / amountScale
)

// invalidAmount marks an Amount NewAmount could not represent; it is never
// sent (validation rejects it) and prints as "invalid".
var invalidAmount = Amount{units: math.MinInt64}

// NewAmount returns the whole amount whole: NewAmount(1000) is 1000 (for
// example CLP, which has no decimals). A negative amount is kept so that
// validation can reject it with a clear error rather than lose it.
func NewAmount(whole int64) Amount {
	if whole > maxWhole || whole < -maxWhole {
		return invalidAmount
	}
	return Amount{units: whole * amountScale}
}

// ParseAmount parses a non-negative decimal such as "1000", "19.99" or
// "0.0001": digits, optionally a '.' and 1 to 4 more digits. It rejects
// thousands separators ("1,000"), exponents ("1e3"), signs, NaN, Inf, spaces
// and a fifth decimal.
func ParseAmount(s string) (Amount, error) {
	a, err := parseAmount(s)
	if err != nil {
		return Amount{}, &AmountError{Input: s, Reason: err.Error()}
	}
	return a, nil
}

// MustParseAmount is ParseAmount for constants known to be valid; it panics
// on an invalid amount, so never pass it user input.
func MustParseAmount(s string) Amount {
	a, err := ParseAmount(s)
	if err != nil {
		panic(err)
	}
	return a
}

var (
	errAmountEmpty     = errors.New("empty")
	errAmountSyntax    = errors.New("want digits with an optional '.' and up to 4 decimals")
	errAmountDecimals  = errors.New("more than 4 decimal places")
	errAmountTooLarge  = errors.New("too large")
	errAmountNoDigits  = errors.New("a '.' needs digits on both sides")
	errAmountNegative  = errors.New("negative amounts are not allowed")
	errAmountLongInput = errors.New("too long")
)

func parseAmount(s string) (Amount, error) {
	switch {
	case s == "":
		return Amount{}, errAmountEmpty
	case len(s) > 40:
		return Amount{}, errAmountLongInput
	case s[0] == '-':
		return Amount{}, errAmountNegative
	}
	var whole, frac int64
	i := 0
	for ; i < len(s) && '0' <= s[i] && s[i] <= '9'; i++ {
		d := int64(s[i] - '0')
		if whole > (maxWhole-d)/10 {
			return Amount{}, errAmountTooLarge
		}
		whole = whole*10 + d
	}
	if i == 0 {
		if s[0] == '.' {
			return Amount{}, errAmountNoDigits
		}
		return Amount{}, errAmountSyntax
	}
	if i < len(s) {
		if s[i] != '.' {
			return Amount{}, errAmountSyntax
		}
		i++
		start := i
		for ; i < len(s) && '0' <= s[i] && s[i] <= '9'; i++ {
			if i-start == amountDecimals {
				return Amount{}, errAmountDecimals
			}
			frac = frac*10 + int64(s[i]-'0')
		}
		if i < len(s) {
			return Amount{}, errAmountSyntax
		}
		if i == start {
			return Amount{}, errAmountNoDigits
		}
		for d := i - start; d < amountDecimals; d++ {
			frac *= 10
		}
	}
	if whole*amountScale > math.MaxInt64-frac {
		return Amount{}, errAmountTooLarge
	}
	return Amount{units: whole*amountScale + frac}, nil
}

// String returns the canonical decimal form: "1000", "19.99", "0.0001" (no
// trailing zeros, no exponent, no thousands separator).
func (a Amount) String() string {
	var buf [24]byte
	return string(a.appendText(buf[:0]))
}

func (a Amount) appendText(dst []byte) []byte {
	if a == invalidAmount {
		return append(dst, "invalid"...)
	}
	u := a.units
	if u < 0 {
		dst = append(dst, '-')
		u = -u
	}
	dst = strconv.AppendInt(dst, u/amountScale, 10)
	frac := u % amountScale
	if frac == 0 {
		return dst
	}
	digits := amountDecimals
	for frac%10 == 0 {
		frac /= 10
		digits--
	}
	dst = append(dst, '.')
	var digitsBuf [amountDecimals]byte // frac with leading zeros, on the stack
	for i := digits - 1; i >= 0; i-- {
		digitsBuf[i] = byte('0' + frac%10)
		frac /= 10
	}
	return append(dst, digitsBuf[:digits]...)
}

// IsZero reports whether a is 0.
func (a Amount) IsZero() bool { return a.units == 0 }

// valid reports whether a can be sent to Khipu: representable and not
// negative.
func (a Amount) valid() bool { return a.units >= 0 }

// errUnsendable is what encoding an Amount that ParseAmount could not have
// produced returns: a negative or out-of-range amount is never written where
// it could be read back, or sent, as money.
func (a Amount) errUnsendable() error {
	if a == invalidAmount {
		return errors.New("khipu: cannot encode an out-of-range Amount")
	}
	return &AmountError{Input: a.String(), Reason: errAmountNegative.Error()}
}

// MarshalJSON writes a as a JSON number in its canonical decimal form. A
// negative or out-of-range Amount is an error: UnmarshalJSON would refuse it.
func (a Amount) MarshalJSON() ([]byte, error) {
	if !a.valid() {
		return nil, a.errUnsendable()
	}
	return a.appendText(nil), nil
}

// UnmarshalJSON reads a JSON number or string exactly (never through a
// float). null is zero.
func (a *Amount) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if bytes.Equal(b, []byte("null")) {
		*a = Amount{}
		return nil
	}
	if raw, ok := plainJSONString(b); ok {
		b = raw
	} else if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return &AmountError{Input: string(b), Reason: "not a JSON string"}
		}
		b = []byte(s)
	}
	// The string(b) passed to parseJSONAmount does not escape: the common
	// case parses without allocating.
	v, err := parseJSONAmount(string(b))
	if err != nil {
		return &AmountError{Input: string(b), Reason: err.Error()}
	}
	*a = v
	return nil
}

// parseJSONAmount also accepts the trailing zeros a JSON encoder may write
// past the fourth decimal ("1000.000000"), since they change nothing.
func parseJSONAmount(s string) (Amount, error) {
	if dot := strings.IndexByte(s, '.'); dot >= 0 && len(s)-dot-1 > amountDecimals {
		trimmed := s
		for len(trimmed)-dot-1 > amountDecimals && trimmed[len(trimmed)-1] == '0' {
			trimmed = trimmed[:len(trimmed)-1]
		}
		s = trimmed
	}
	return parseAmount(s)
}

// MarshalText writes a in its canonical decimal form. A negative or
// out-of-range Amount is an error, as in MarshalJSON.
func (a Amount) MarshalText() ([]byte, error) {
	if !a.valid() {
		return nil, a.errUnsendable()
	}
	return a.appendText(nil), nil
}

// UnmarshalText parses text with ParseAmount.
func (a *Amount) UnmarshalText(text []byte) error {
	v, err := ParseAmount(string(text))
	if err != nil {
		return err
	}
	*a = v
	return nil
}

// EncodeValues form-encodes a as its canonical decimal text (it implements
// go-querystring's Encoder). A negative or out-of-range Amount is an error,
// never a parameter.
func (a Amount) EncodeValues(key string, v *url.Values) error {
	if !a.valid() {
		return a.errUnsendable()
	}
	v.Set(key, a.String())
	return nil
}
