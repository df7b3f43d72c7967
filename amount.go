package khipu

import (
	"bytes"
	"cmp"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"
)

// Amount is an exact decimal amount of money with at most 4 decimal places
// (Khipu's limit). It is never a float: it parses from and prints to decimal
// text exactly, and two Amounts compare with ==. The zero value is 0.
//
// Arithmetic ([Amount.Add], [Amount.Sub], [Amount.Mul]) never wraps: a result
// out of range, like [NewAmount] of a value out of range, is the one refused
// amount. [Amount.IsValid] reports it, it compares greater than every valid
// amount (a total that overflowed never passes a limit check), any arithmetic
// with it stays refused, and every encoder refuses it with an error that says
// "out of range". A negative amount (the result of Sub) is valid and
// compares, but is never encoded or sent.
//
// In a database, store amounts as TEXT (SQLite) or NUMERIC/DECIMAL, never as
// a float column: [Amount.Value] stores the canonical string and
// [Amount.Scan] reads it back exactly.
type Amount struct {
	units int64 // in 1/10000 of the currency unit
}

const (
	amountScale    = 10000
	amountDecimals = 4
	// maxUnits is the largest valid amount, in units; -maxUnits the
	// smallest. math.MaxInt64 units is the refused amount.
	maxUnits = math.MaxInt64 - 1
	maxWhole = maxUnits / amountScale

	// maxAmountLen caps what ParseAmount reads.
	maxAmountLen = 40
)

// invalidAmount is the refused amount: what NewAmount gives for a value out
// of range and Add, Sub or Mul for a result out of range. Its units are
// math.MaxInt64, so it compares greater than every valid amount. It prints as
// "invalid" and no encoder writes it.
var invalidAmount = Amount{units: math.MaxInt64}

// NewAmount returns the whole amount whole: NewAmount(1000) is 1000 (for
// example CLP, which has no decimals). A negative amount is kept so that
// validation can reject it with a clear error rather than lose it. A value
// out of range gives the refused amount (see [Amount.IsValid]).
func NewAmount(whole int64) Amount {
	if whole > maxWhole || whole < -maxWhole {
		return invalidAmount
	}
	return Amount{units: whole * amountScale}
}

// ParseAmount parses a non-negative decimal such as "1000", "19.99" or
// "0.0001": digits, optionally a '.' and 1 to 4 more digits. It rejects
// thousands separators ("1,000"), exponents ("1e3"), signs, NaN, Inf, spaces
// and a fifth decimal. Its errors are [*AmountError].
//
// The '.' is always the decimal point. In Chile it groups thousands
// ("$12.990" is twelve thousand nine hundred ninety pesos), but ParseAmount
// reads "12.990" as 12.99, which is not an error here. A Chilean peso has
// no decimals, so Payments.Create (of this package and of khipuv3) refuses
// a CLP amount with a fraction as a [*ParamError] that says what to write
// instead (12990); strip the dots from a Chilean price before parsing it.
// "12.000", however, is 12 to ParseAmount and to Create alike: no check can
// tell it from twelve pesos.
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

	// What sendable returns: short reasons that read after a parameter
	// name ("amount is out of range").
	errAmountOutOfRange        = errors.New("is out of range")
	errAmountMustNotBeNegative = errors.New("must not be negative")
)

// parseAmount reads an exact amount: at most 4 decimals.
func parseAmount(s string) (Amount, error) {
	whole, frac, err := splitAmount(s, maxAmountLen)
	if err != nil {
		return Amount{}, err
	}
	if len(frac) > amountDecimals {
		return Amount{}, errAmountDecimals
	}
	return amountFromDigits(whole, frac)
}

// splitAmount checks that s is digits, optionally followed by a '.' and more
// digits, and returns the digits before and after the '.'.
func splitAmount(s string, maxLen int) (whole, frac string, err error) {
	switch {
	case s == "":
		return "", "", errAmountEmpty
	case len(s) > maxLen:
		return "", "", errAmountLongInput
	case s[0] == '-':
		return "", "", errAmountNegative
	}
	whole, frac, hasDot := strings.Cut(s, ".")
	switch {
	case whole == "":
		return "", "", errAmountNoDigits
	case !onlyDigits(whole):
		return "", "", errAmountSyntax
	case hasDot && !onlyDigits(frac):
		return "", "", errAmountSyntax
	case hasDot && frac == "":
		return "", "", errAmountNoDigits
	}
	return whole, frac, nil
}

// onlyDigits reports whether s has no byte but '0' to '9' (true for "").
func onlyDigits(s string) bool { return strings.Trim(s, "0123456789") == "" }

// amountFromDigits is the amount whole.frac, from the ASCII digits
// splitAmount returned; frac has at most 4 digits.
func amountFromDigits(whole, frac string) (Amount, error) {
	var w int64
	for i := 0; i < len(whole); i++ {
		d := int64(whole[i] - '0')
		if w > (maxWhole-d)/10 {
			return Amount{}, errAmountTooLarge
		}
		w = w*10 + d
	}
	var f int64
	for i := 0; i < amountDecimals; i++ {
		f *= 10
		if i < len(frac) {
			f += int64(frac[i] - '0')
		}
	}
	if w*amountScale > maxUnits-f {
		return Amount{}, errAmountTooLarge
	}
	return Amount{units: w*amountScale + f}, nil
}

// String returns the canonical decimal form: "1000", "19.99", "0.0001", "-3"
// (no trailing zeros, no exponent, no thousands separator). The refused
// amount prints as "invalid".
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

// IsValid reports whether a is an amount at all: it is false only for the
// refused amount that NewAmount of a value out of range, or Add, Sub or Mul
// with a result out of range, gives. A negative amount is valid (it
// compares and prints) but is never encoded or sent.
func (a Amount) IsValid() bool { return a != invalidAmount }

// Add returns a + b. A result out of range, or a refused operand, gives the
// refused amount (see [Amount.IsValid]): it never wraps.
func (a Amount) Add(b Amount) Amount {
	if !a.IsValid() || !b.IsValid() {
		return invalidAmount
	}
	// Valid units are within ±maxUnits, so neither bound below overflows.
	if b.units > 0 && a.units > maxUnits-b.units || b.units < 0 && a.units < -maxUnits-b.units {
		return invalidAmount
	}
	return Amount{units: a.units + b.units}
}

// Sub returns a - b, which may be negative: a negative amount is valid and
// compares, but is never encoded or sent. A result out of range, or a
// refused operand, gives the refused amount: it never wraps.
func (a Amount) Sub(b Amount) Amount {
	if !b.IsValid() {
		return invalidAmount
	}
	// Valid amounts are symmetric around 0, so -b is valid too.
	return a.Add(Amount{units: -b.units})
}

// Mul returns a × n, for example a unit price times a quantity. A negative n
// gives a negative amount. A result out of range, or a refused a, gives the
// refused amount: it never wraps.
func (a Amount) Mul(n int64) Amount {
	if !a.IsValid() {
		return invalidAmount
	}
	if a.units == 0 || n == 0 {
		return Amount{}
	}
	absA, absN := absUint(a.units), absUint(n)
	if absN > maxUnits/absA {
		return invalidAmount
	}
	product := int64(absA * absN) // at most maxUnits
	if (a.units < 0) != (n < 0) {
		product = -product
	}
	return Amount{units: product}
}

// absUint is |v|, also for math.MinInt64.
func absUint(v int64) uint64 {
	if v < 0 {
		return uint64(-(v + 1)) + 1
	}
	return uint64(v)
}

// Compare returns -1 if a < b, 0 if a == b and +1 if a > b. The refused
// amount is greater than every valid amount, so a total that overflowed
// never passes a check such as total.Compare(limit) <= 0.
func (a Amount) Compare(b Amount) int { return cmp.Compare(a.units, b.units) }

// sendable returns nil when a can be encoded and sent to Khipu (a valid,
// non-negative amount), and otherwise a short reason that reads after a
// parameter name: "is out of range" or "must not be negative".
func (a Amount) sendable() error {
	switch {
	case !a.IsValid():
		return errAmountOutOfRange
	case a.units < 0:
		return errAmountMustNotBeNegative
	}
	return nil
}

// valid is sendable() == nil, for callers that need only yes or no.
func (a Amount) valid() bool { return a.sendable() == nil }

// errUnsendable is the error of every encoder for an amount sendable
// refuses: a negative or out-of-range amount is never written where it could
// be read back, or sent, as money.
func (a Amount) errUnsendable() error {
	if !a.IsValid() {
		return errors.New("khipu: cannot encode an Amount that is out of range (an overflow in NewAmount, Add, Sub or Mul)")
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
	// The string(b) passed to parseAmountPadded does not escape: the common
	// case parses without allocating.
	v, err := parseAmountPadded(string(b))
	if err != nil {
		return &AmountError{Input: string(b), Reason: err.Error()}
	}
	*a = v
	return nil
}

// parseAmountPadded is parseAmount that also accepts zeros past the fourth
// decimal, since they change nothing: what a JSON encoder may write
// ("1000.000000") or a DECIMAL(15,6) column holds ("19.990000").
func parseAmountPadded(s string) (Amount, error) {
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

// Value stores a in a database as its canonical string ("1000", "19.99"); it
// implements database/sql/driver.Valuer. A negative or out-of-range Amount is
// an error, as in MarshalJSON. Store amounts as TEXT (SQLite) or
// NUMERIC/DECIMAL, never as a float column.
func (a Amount) Value() (driver.Value, error) {
	if !a.valid() {
		return nil, a.errUnsendable()
	}
	return a.String(), nil
}

// Scan reads an amount from a database column; it implements
// database/sql.Scanner. It accepts what Value stores, a string or []byte,
// also with zeros past the fourth decimal ("19.990000" from a DECIMAL(15,6)
// column), and an int64. Anything else is an error and leaves a unchanged:
// NULL (make the column NOT NULL, or scan into a *Amount or
// sql.Null[khipu.Amount]), a float (store amounts as TEXT or NUMERIC/DECIMAL,
// never as a float column), a negative amount, or text ParseAmount refuses,
// such as a fifth significant decimal ("19.99001").
func (a *Amount) Scan(src any) error {
	var v Amount
	var err error
	switch src := src.(type) {
	case string:
		v, err = scanText(src)
	case []byte:
		v, err = scanText(string(src))
	case int64:
		v, err = scanInt(src)
	case nil:
		return errors.New("khipu: cannot scan NULL into an Amount: make the column NOT NULL, or scan into a *khipu.Amount or sql.Null[khipu.Amount]")
	case float32, float64:
		return fmt.Errorf("khipu: cannot scan a %T into an Amount: store amounts as TEXT (SQLite) or NUMERIC/DECIMAL, never as a float column", src)
	default:
		return fmt.Errorf("khipu: cannot scan a %T into an Amount: want a string, []byte or int64", src)
	}
	if err != nil {
		return err
	}
	*a = v
	return nil
}

func scanText(s string) (Amount, error) {
	a, err := parseAmountPadded(s)
	if err != nil {
		return Amount{}, &AmountError{Input: s, Reason: err.Error()}
	}
	return a, nil
}

func scanInt(n int64) (Amount, error) {
	switch {
	case n < 0:
		return Amount{}, &AmountError{Input: strconv.FormatInt(n, 10), Reason: errAmountNegative.Error()}
	case n > maxWhole:
		return Amount{}, &AmountError{Input: strconv.FormatInt(n, 10), Reason: errAmountTooLarge.Error()}
	}
	return NewAmount(n), nil
}
