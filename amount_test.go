package khipu_test

import (
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-querystring/query"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/khipu-go/khipu"
)

// Amount is what database/sql needs on both sides.
var (
	_ driver.Valuer = khipu.Amount{}
	_ sql.Scanner   = (*khipu.Amount)(nil)
)

const (
	maxUnits = math.MaxInt64 - 1 // the largest valid amount, in 1/10000
	maxWhole = maxUnits / 10000
)

var (
	refused   = khipu.NewAmount(math.MaxInt64)
	largest   = khipu.MustParseAmount("922337203685477.5806")
	smallest  = khipu.Amount{}.Sub(largest) // -922337203685477.5806
	oneUnit   = khipu.MustParseAmount("0.0001")
	overflows = map[string]khipu.Amount{
		"NewAmount(1<<62)":            khipu.NewAmount(1 << 62),
		"NewAmount(-1<<62)":           khipu.NewAmount(-1 << 62),
		"largest + 0.0001":            largest.Add(oneUnit),
		"smallest - 0.0001":           smallest.Sub(oneUnit),
		"largest - smallest":          largest.Sub(smallest),
		"largest × 2":                 largest.Mul(2),
		"largest × -2":                largest.Mul(-2),
		"0.0001 × math.MinInt64":      oneUnit.Mul(math.MinInt64),
		"NewAmount(maxWhole+1)":       khipu.NewAmount(maxWhole + 1),
		"NewAmount(math.MinInt64)":    khipu.NewAmount(math.MinInt64),
		"refused + 0":                 refused.Add(khipu.Amount{}),
		"NewAmount(1<<62) - 1<<61":    khipu.NewAmount(1 << 62).Sub(khipu.NewAmount(1 << 61)),
		"NewAmount(1<<62) × 0":        khipu.NewAmount(1 << 62).Mul(0),
		"0 - NewAmount(1<<62)":        khipu.Amount{}.Sub(khipu.NewAmount(1 << 62)),
		"19.99 + NewAmount(1<<62)":    khipu.MustParseAmount("19.99").Add(khipu.NewAmount(1 << 62)),
		"NewAmount(1<<62) + -(1<<62)": khipu.NewAmount(1 << 62).Add(khipu.NewAmount(-1 << 62)),
	}
)

// unitsOf is a in 1/10000 of the currency unit, read from its String: an
// oracle that does not share the arithmetic of Amount.
func unitsOf(t testing.TB, a khipu.Amount) *big.Int {
	t.Helper()
	r, ok := new(big.Rat).SetString(a.String())
	require.True(t, ok, "String() = %q is not a decimal", a.String())
	r.Mul(r, big.NewRat(10000, 1))
	require.True(t, r.IsInt(), "String() = %q has more than 4 decimals", a.String())
	return r.Num()
}

// amountOfUnits builds the amount of u units, or the refused amount when u is
// outside ±maxUnits. A negative amount is 0 - |u|, checked against the oracle.
func amountOfUnits(t testing.TB, u int64) khipu.Amount {
	t.Helper()
	if u > maxUnits || u < -maxUnits {
		return refused
	}
	abs := u
	if abs < 0 {
		abs = -abs
	}
	a, err := khipu.ParseAmount(fmt.Sprintf("%d.%04d", abs/10000, abs%10000))
	require.NoError(t, err)
	if u < 0 {
		a = khipu.Amount{}.Sub(a)
	}
	require.Equal(t, 0, unitsOf(t, a).Cmp(big.NewInt(u)), "the amount of %d units is %v", u, a)
	return a
}

func TestAddSubAndMulAreExact(t *testing.T) {
	cases := []struct {
		name string
		got  khipu.Amount
		want string
	}{
		{"0.1 + 0.2 is 0.3, not a float's 0.30000000000000004", khipu.MustParseAmount("0.1").Add(khipu.MustParseAmount("0.2")), "0.3"},
		{"19.99 + 0.01 carries into the whole part", khipu.MustParseAmount("19.99").Add(khipu.MustParseAmount("0.01")), "20"},
		{"1000 - 0.0001", khipu.NewAmount(1000).Sub(oneUnit), "999.9999"},
		{"5 - 8 is negative", khipu.NewAmount(5).Sub(khipu.NewAmount(8)), "-3"},
		{"-3 + 3 is zero", khipu.NewAmount(-3).Add(khipu.NewAmount(3)), "0"},
		{"-0.5 - 0.25", khipu.MustParseAmount("0.5").Mul(-1).Sub(khipu.MustParseAmount("0.25")), "-0.75"},
		{"19.99 × 3", khipu.MustParseAmount("19.99").Mul(3), "59.97"},
		{"0.0125 × 1000", khipu.MustParseAmount("0.0125").Mul(1000), "12.5"},
		{"19.99 × 0", khipu.MustParseAmount("19.99").Mul(0), "0"},
		{"19.99 × -2 is negative", khipu.MustParseAmount("19.99").Mul(-2), "-39.98"},
		{"-4 × -2 is positive", khipu.NewAmount(-4).Mul(-2), "8"},
		{"0 × math.MinInt64 is zero", khipu.Amount{}.Mul(math.MinInt64), "0"},
		{"largest - 0.0001 stays in range", largest.Sub(oneUnit), "922337203685477.5805"},
		{"largest + smallest is zero", largest.Add(smallest), "0"},
		{"smallest is largest negated", smallest, "-922337203685477.5806"},
		{"0.0001 × maxUnits is largest", oneUnit.Mul(maxUnits), "922337203685477.5806"},
		{"0.0001 × -maxUnits is smallest", oneUnit.Mul(-maxUnits), "-922337203685477.5806"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assert.True(t, tc.got.IsValid())
			assert.Equal(t, tc.want, tc.got.String())
		})
	}
}

func TestArithmeticNeverWrapsButGivesTheOneRefusedAmount(t *testing.T) {
	for name, a := range overflows {
		t.Run(name, func(t *testing.T) {
			assert.False(t, a.IsValid())
			assert.True(t, a == refused, "every refused amount is equal with ==")
			assert.Equal(t, "invalid", a.String())
		})
	}
}

func TestArithmeticWithARefusedOperandStaysRefused(t *testing.T) {
	for _, valid := range []khipu.Amount{{}, khipu.NewAmount(5), khipu.NewAmount(-5), largest, smallest} {
		assert.Equal(t, refused, refused.Add(valid), "refused + %v", valid)
		assert.Equal(t, refused, valid.Add(refused), "%v + refused", valid)
		assert.Equal(t, refused, refused.Sub(valid), "refused - %v", valid)
		assert.Equal(t, refused, valid.Sub(refused), "%v - refused", valid)
	}
	for _, n := range []int64{0, 1, -1, 2, math.MaxInt64, math.MinInt64} {
		assert.Equal(t, refused, refused.Mul(n), "refused × %d", n)
	}
}

func TestNewAmountOutOfRangeIsRefusedNotSilentlyEqualAndSendable(t *testing.T) {
	a, b := khipu.NewAmount(1<<62), khipu.NewAmount(1<<61)
	assert.Equal(t, a, b, "both are the one refused amount")
	assert.False(t, a.IsValid())
	_, err := json.Marshal(a)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "out of range")
	assert.Equal(t, "922337203685477", khipu.NewAmount(maxWhole).String(), "the largest whole amount is valid")
	assert.Equal(t, "-922337203685477", khipu.NewAmount(-maxWhole).String(), "and so is its negation")
}

func TestIsValidIsFalseOnlyForTheRefusedAmount(t *testing.T) {
	for _, a := range []khipu.Amount{{}, oneUnit, khipu.NewAmount(-3), largest, smallest, khipu.NewAmount(maxWhole), khipu.NewAmount(-maxWhole)} {
		assert.True(t, a.IsValid(), "%v", a)
	}
	assert.False(t, refused.IsValid())
}

func TestCompareOrdersAmountsWithTheRefusedAmountAboveAll(t *testing.T) {
	cases := []struct {
		a, b khipu.Amount
		want int
	}{
		{khipu.MustParseAmount("19.99"), khipu.MustParseAmount("19.990"), 0},
		{khipu.MustParseAmount("19.99"), khipu.NewAmount(20), -1},
		{khipu.NewAmount(20), khipu.MustParseAmount("19.9999"), +1},
		{khipu.NewAmount(-3), khipu.Amount{}, -1},
		{khipu.NewAmount(-3), khipu.NewAmount(-4), +1},
		{smallest, largest, -1},
		{refused, largest, +1},
		{largest, refused, -1},
		{refused, smallest, +1},
		{refused, khipu.Amount{}, +1},
		{refused, khipu.NewAmount(1 << 62), 0},
	}
	for _, tc := range cases {
		assert.Equal(t, tc.want, tc.a.Compare(tc.b), "Compare(%v, %v)", tc.a, tc.b)
	}

	// So a total that overflowed never passes a limit check.
	total := largest.Add(khipu.NewAmount(1))
	assert.Equal(t, +1, total.Compare(khipu.NewAmount(100_000)))
}

func TestANegativeResultOfSubIsValidButNeverSent(t *testing.T) {
	neg := khipu.NewAmount(5).Sub(khipu.NewAmount(8))
	assert.True(t, neg.IsValid())
	assert.Equal(t, "-3", neg.String())
	assert.Equal(t, -1, neg.Compare(khipu.Amount{}))
	assert.Equal(t, khipu.NewAmount(-3), neg)
	assert.Equal(t, khipu.Amount{}, neg.Add(khipu.NewAmount(3)))
}

// encoders are every way an Amount is written: each must refuse what
// Khipu or a reader must never see.
var encoders = []struct {
	name   string
	encode func(a khipu.Amount) error
}{
	{"MarshalJSON", func(a khipu.Amount) error { _, err := a.MarshalJSON(); return err }},
	{"json.Marshal", func(a khipu.Amount) error { _, err := json.Marshal(a); return err }},
	{"MarshalText", func(a khipu.Amount) error { _, err := a.MarshalText(); return err }},
	{"EncodeValues", func(a khipu.Amount) error { return a.EncodeValues("amount", &url.Values{}) }},
	{"query.Values", func(a khipu.Amount) error { _, err := query.Values(khipu.RefundParams{Amount: a}); return err }},
	{"Value", func(a khipu.Amount) error { _, err := a.Value(); return err }},
	{"driver.DefaultParameterConverter", func(a khipu.Amount) error {
		_, err := driver.DefaultParameterConverter.ConvertValue(a)
		return err
	}},
}

func TestEveryEncoderRefusesAnOutOfRangeAmountSayingOutOfRange(t *testing.T) {
	for _, enc := range encoders {
		for name, a := range overflows {
			err := enc.encode(a)
			require.Error(t, err, "%s of %s", enc.name, name)
			assert.Contains(t, err.Error(), "out of range", "%s of %s", enc.name, name)
		}
	}
}

func TestEveryEncoderRefusesANegativeAmountSayingNegative(t *testing.T) {
	for _, enc := range encoders {
		for _, a := range []khipu.Amount{khipu.NewAmount(-3), oneUnit.Mul(-1), smallest} {
			err := enc.encode(a)
			require.Error(t, err, "%s of %v", enc.name, a)
			assert.Contains(t, err.Error(), "negative", "%s of %v", enc.name, a)
		}
	}
}

func TestEveryEncoderWritesAValidAmount(t *testing.T) {
	for _, enc := range encoders {
		for _, a := range []khipu.Amount{{}, oneUnit, khipu.MustParseAmount("19.99"), largest} {
			assert.NoError(t, enc.encode(a), "%s of %v", enc.name, a)
		}
	}
}

func TestSendableGivesAReasonThatReadsAfterAParameterName(t *testing.T) {
	cases := []struct {
		amount khipu.Amount
		reason string
	}{
		{khipu.Amount{}, ""},
		{khipu.MustParseAmount("19.99"), ""},
		{largest, ""},
		{khipu.NewAmount(-1), "must not be negative"},
		{smallest, "must not be negative"},
		{refused, "is out of range"},
		{largest.Add(oneUnit), "is out of range"},
	}
	for _, tc := range cases {
		err := khipu.SendableAmount(tc.amount)
		if tc.reason == "" {
			assert.NoError(t, err, "%v", tc.amount)
			continue
		}
		require.Error(t, err, "%v", tc.amount)
		assert.Equal(t, tc.reason, err.Error())
	}
}

func TestParseAmountRefusesTheRefusedAmountsUnitsAsTooLarge(t *testing.T) {
	_, err := khipu.ParseAmount("922337203685477.5807") // math.MaxInt64 units
	require.Error(t, err)
	assert.Contains(t, err.Error(), "too large")

	// The largest amount that parses goes through every encoder and back.
	a, err := khipu.ParseAmount("922337203685477.5806")
	require.NoError(t, err)
	assert.True(t, a.IsValid())
	assert.Equal(t, "922337203685477.5806", a.String())
	raw, err := json.Marshal(a)
	require.NoError(t, err)
	var fromJSON khipu.Amount
	require.NoError(t, json.Unmarshal(raw, &fromJSON))
	assert.Equal(t, a, fromJSON)
	v, err := a.Value()
	require.NoError(t, err)
	var scanned khipu.Amount
	require.NoError(t, scanned.Scan(v))
	assert.Equal(t, a, scanned)
}

func TestValueStoresTheCanonicalString(t *testing.T) {
	cases := []struct {
		amount khipu.Amount
		want   string
	}{
		{khipu.NewAmount(1000), "1000"},
		{khipu.MustParseAmount("19.990"), "19.99"},
		{khipu.MustParseAmount("0.0001"), "0.0001"},
		{khipu.Amount{}, "0"},
		{largest, "922337203685477.5806"},
	}
	for _, tc := range cases {
		v, err := tc.amount.Value()
		require.NoError(t, err)
		assert.Equal(t, tc.want, v, "a string, which every driver stores")
	}
}

// TestValueThenScanRoundTripsAsThroughADatabase does what database/sql does
// with an Amount column, without a database: Value on the way in, Scan of
// the stored string (or the []byte many drivers give) on the way out.
func TestValueThenScanRoundTripsAsThroughADatabase(t *testing.T) {
	for _, s := range []string{"0", "1", "1000", "19.99", "0.0001", "100.1", "922337203685477", "922337203685477.5806"} {
		a := khipu.MustParseAmount(s)
		v, err := a.Value()
		require.NoError(t, err, s)
		require.True(t, driver.IsValue(v), "%T is a driver.Value", v)

		var fromString, fromBytes khipu.Amount
		require.NoError(t, fromString.Scan(v), s)
		require.NoError(t, fromBytes.Scan([]byte(v.(string))), s)
		assert.Equal(t, a, fromString, s)
		assert.Equal(t, a, fromBytes, s)
	}
}

func TestScanReadsWhatDatabasesHold(t *testing.T) {
	cases := []struct {
		name string
		src  any
		want string
	}{
		{"a TEXT column", "19.99", "19.99"},
		{"a []byte from the driver", []byte("19.99"), "19.99"},
		{"a DECIMAL(15,6) column, zeros past the 4th decimal", "19.990000", "19.99"},
		{"a DECIMAL(15,6) column as []byte", []byte("1000.000000"), "1000"},
		{"a DECIMAL(15,4) column", "0.0001", "0.0001"},
		{"an INTEGER column", int64(1000), "1000"},
		{"an INTEGER zero", int64(0), "0"},
		{"the largest whole INTEGER", int64(maxWhole), "922337203685477"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var a khipu.Amount
			require.NoError(t, a.Scan(tc.src))
			assert.Equal(t, tc.want, a.String())
		})
	}
}

func TestScanRefusesWhatIsNotAnExactAmountAndLeavesTheAmountAlone(t *testing.T) {
	cases := []struct {
		name string
		src  any
		says string
	}{
		{"NULL", nil, "NOT NULL"},
		{"a float", float64(19.99), "never as a float column"},
		{"a float32", float32(19.99), "never as a float column"},
		{"a decimal comma", "1,5", "want digits"},
		{"a negative string", "-3", "negative"},
		{"a negative INTEGER", int64(-3), "negative"},
		{"letters", "abc", "want digits"},
		{"empty text", "", "empty"},
		{"a space", " 19.99", "want digits"},
		{"an exponent", []byte("1e3"), "want digits"},
		{"5 significant decimals", "1.23456", "more than 4 decimal places"},
		{"a significant digit past the 4th decimal of a DECIMAL(15,6)", "19.99001", "more than 4 decimal places"},
		{"an INTEGER out of range", int64(maxWhole + 1), "too large"},
		{"the largest INTEGER", int64(math.MaxInt64), "too large"},
		{"text out of range", "922337203685477.5807", "too large"},
		{"a bool", true, "cannot scan a bool"},
		{"an int, which no driver gives", 5, "cannot scan a int"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := khipu.MustParseAmount("7.5")
			var err error
			require.NotPanics(t, func() { err = a.Scan(tc.src) })
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.says)
			assert.True(t, strings.HasPrefix(err.Error(), "khipu: "), err.Error())
			assert.Equal(t, khipu.MustParseAmount("7.5"), a, "a failed Scan changes nothing")
		})
	}
}

func TestScanOfNULLSaysHowToStoreANullableAmount(t *testing.T) {
	var a khipu.Amount
	err := a.Scan(nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "NOT NULL")
	assert.Contains(t, err.Error(), "*khipu.Amount")
	assert.Contains(t, err.Error(), "sql.Null[khipu.Amount]")
}

func TestScanOfBadTextIsAnAmountError(t *testing.T) {
	for _, src := range []any{"1,5", []byte("abc"), "1.23456", int64(-3), int64(math.MaxInt64)} {
		var a khipu.Amount
		var ae *khipu.AmountError
		assert.ErrorAs(t, a.Scan(src), &ae, "%#v", src)
	}
}

func TestANullableAmountColumnWorksThroughSQLNullAndAPointer(t *testing.T) {
	var n sql.Null[khipu.Amount]
	require.NoError(t, n.Scan(nil))
	assert.False(t, n.Valid)
	v, err := n.Value()
	require.NoError(t, err)
	assert.Nil(t, v, "an invalid sql.Null stores NULL")

	require.NoError(t, n.Scan([]byte("19.990000")))
	assert.True(t, n.Valid)
	assert.Equal(t, khipu.MustParseAmount("19.99"), n.V)
	v, err = n.Value()
	require.NoError(t, err)
	assert.Equal(t, "19.99", v)

	// A nil *Amount is stored as NULL, as database/sql does for a nil pointer.
	v, err = driver.DefaultParameterConverter.ConvertValue((*khipu.Amount)(nil))
	require.NoError(t, err)
	assert.Nil(t, v)
}

func TestAmountImplementsTheDatabaseSQLInterfaces(t *testing.T) {
	var valuer driver.Valuer = khipu.Amount{}
	var scanner sql.Scanner = new(khipu.Amount)
	assert.NotNil(t, valuer)
	assert.NotNil(t, scanner)
}

func TestParseKhipuAmountRoundsPastTheFourthDecimalHalfToEven(t *testing.T) {
	cases := []struct{ in, want string }{
		{"19.99", "19.99"},
		{"1000", "1000"},
		{"19.989999999999998", "19.99"}, // a float artifact
		{"0.30000000000000004", "0.3"},
		{"0.00005", "0"},       // half, to the even 0
		{"0.00015", "0.0002"},  // half, to the even 2
		{"0.00025", "0.0002"},  // half, to the even 2
		{"0.000250", "0.0002"}, // still exactly half
		{"0.000251", "0.0003"}, // more than half
		{"0.00004999", "0"},    // less than half
		{"0.00006", "0.0001"},  // more than half
		{"9.99995", "10"},      // half, the carry reaches the whole part
		{"19.990000", "19.99"}, // zeros change nothing
		{"007.50", "7.5"},
		{"922337203685477.58065", "922337203685477.5806"}, // half, to the even 6: still in range
		{"922337203685477.58064999", "922337203685477.5806"},
	}
	for _, tc := range cases {
		a, err := khipu.ParseKhipuAmount(tc.in)
		require.NoError(t, err, tc.in)
		assert.Equal(t, tc.want, a.String(), tc.in)
	}
}

func TestParseKhipuAmountRefusesWhatIsNotADecimal(t *testing.T) {
	cases := []struct{ in, reason string }{
		{"", "empty"},
		{"-1", "negative"},
		{"-0.00001", "negative"},
		{"+1", "want digits"},
		{"1e3", "want digits"},
		{"1.5e-7", "want digits"},
		{"1,000", "want digits"},
		{"1.000,50", "want digits"},
		{" 1", "want digits"},
		{"NaN", "want digits"},
		{".5", "a '.' needs digits on both sides"},
		{"5.", "a '.' needs digits on both sides"},
		{"922337203685477.5807", "too large"},
		{"922337203685477.58066", "too large"},     // rounds up to math.MaxInt64 units
		{"922337203685477.580650001", "too large"}, // more than half: rounds up
		{"99999999999999999999", "too large"},
		{"1." + strings.Repeat("0", 200), "too long"},
	}
	for _, tc := range cases {
		a, err := khipu.ParseKhipuAmount(tc.in)
		var ae *khipu.AmountError
		require.ErrorAs(t, err, &ae, "%q parsed as %v", tc.in, a)
		assert.Equal(t, tc.in, ae.Input)
		assert.Contains(t, err.Error(), tc.reason, tc.in)
		assert.Equal(t, khipu.Amount{}, a)
	}
}

func TestParseAmountAndUnmarshalJSONStayExact(t *testing.T) {
	for _, s := range []string{"19.989999999999998", "0.00005", "1.23456"} {
		_, err := khipu.ParseAmount(s)
		assert.ErrorContains(t, err, "more than 4 decimal places", s)
		var a khipu.Amount
		assert.ErrorContains(t, json.Unmarshal([]byte(s), &a), "more than 4 decimal places", s)
		_, err = khipu.ParseKhipuAmount(s)
		assert.NoError(t, err, "only amounts from Khipu are rounded: %s", s)
	}
}

// FuzzAmountArithmetic: Add, Sub and Mul of amounts given in units equal
// big.Int arithmetic on the units when the result is in range, and are the
// refused amount otherwise or when an operand is refused; Compare agrees
// with big.Int, the refused amount above all. Nothing panics.
func FuzzAmountArithmetic(f *testing.F) {
	f.Add(int64(199900), int64(100), int64(3))
	f.Add(int64(-30000), int64(50000), int64(-2))
	f.Add(int64(maxUnits), int64(1), int64(2))
	f.Add(int64(-maxUnits), int64(-1), int64(-1))
	f.Add(int64(math.MaxInt64), int64(0), int64(0))
	f.Add(int64(math.MinInt64), int64(1), int64(math.MinInt64))
	f.Fuzz(func(t *testing.T, x, y, n int64) {
		a, b := amountOfUnits(t, x), amountOfUnits(t, y)
		refusedA, refusedB := !a.IsValid(), !b.IsValid()
		inRange := func(u *big.Int) bool {
			return u.CmpAbs(big.NewInt(maxUnits)) <= 0
		}
		check := func(op string, got khipu.Amount, refusedOperand bool, want *big.Int) {
			if refusedOperand || !inRange(want) {
				if got != refused {
					t.Fatalf("%d %s %d = %v, want the refused amount", x, op, y, got)
				}
				return
			}
			if !got.IsValid() || unitsOf(t, got).Cmp(want) != 0 {
				t.Fatalf("%d %s %d = %v, want %s units", x, op, y, got, want)
			}
		}
		X, Y, N := big.NewInt(x), big.NewInt(y), big.NewInt(n)
		check("+", a.Add(b), refusedA || refusedB, new(big.Int).Add(X, Y))
		check("-", a.Sub(b), refusedA || refusedB, new(big.Int).Sub(X, Y))
		check("×", a.Mul(n), refusedA, new(big.Int).Mul(X, N))

		want := X.Cmp(Y)
		switch {
		case refusedA && refusedB:
			want = 0
		case refusedA:
			want = +1
		case refusedB:
			want = -1
		}
		if got := a.Compare(b); got != want {
			t.Fatalf("Compare(%v, %v) = %d, want %d", a, b, got, want)
		}
	})
}

// FuzzAmountScan: Scan never panics, a failed Scan changes nothing, and
// whatever Scan accepts is the exact value scanned, which Value gives back
// as the canonical string.
func FuzzAmountScan(f *testing.F) {
	for _, s := range []string{"19.99", "19.990000", "19.99001", "1000", "-3", "1,5", "abc", "", "1.23456", "922337203685477.5806", "922337203685477.5807"} {
		f.Add(s, int64(len(s)))
	}
	f.Add("0", int64(-1))
	f.Add("0", int64(math.MaxInt64))
	f.Add("0", int64(maxWhole))
	f.Fuzz(func(t *testing.T, s string, n int64) {
		before := khipu.MustParseAmount("7.5")
		for _, src := range []any{s, []byte(s), n} {
			a := before
			if err := a.Scan(src); err != nil {
				if a != before {
					t.Fatalf("a failed Scan(%#v) changed the amount to %v", src, a)
				}
				continue
			}
			var scanned *big.Rat
			if src, ok := src.(int64); ok {
				scanned = big.NewRat(src, 1)
			} else {
				if strings.Trim(s, "0123456789.") != "" {
					t.Fatalf("Scan accepted %q", s)
				}
				var ok bool
				if scanned, ok = new(big.Rat).SetString(s); !ok {
					t.Fatalf("Scan accepted %q, which is not a decimal", s)
				}
			}
			v, err := a.Value()
			if err != nil {
				t.Fatalf("Scan(%#v) gave %v, which Value refuses: %v", src, a, err)
			}
			stored, ok := v.(string)
			if !ok || stored != a.String() {
				t.Fatalf("Value of %v (scanned from %#v) = %#v, want %q", a, src, v, a.String())
			}
			if canon, err := khipu.ParseAmount(stored); err != nil || canon != a || canon.String() != stored {
				t.Fatalf("Value %q is not canonical: %v, %v", stored, canon, err)
			}
			if got, _ := new(big.Rat).SetString(stored); got.Cmp(scanned) != 0 {
				t.Fatalf("Scan(%#v) then Value = %q: not the value scanned", src, stored)
			}
		}
	})
}

// FuzzParseKhipuAmount compares parseKhipuAmount with math/big for decimal
// strings: the exact value times 10000, rounded half to even by hand.
func FuzzParseKhipuAmount(f *testing.F) {
	f.Add(uint64(19), "989999999999998")
	f.Add(uint64(0), "00005")
	f.Add(uint64(0), "00015")
	f.Add(uint64(9), "99995")
	f.Add(uint64(1000), "")
	f.Add(uint64(maxWhole), "58065")
	f.Add(uint64(maxWhole), "58066")
	f.Add(uint64(math.MaxUint64), "5")
	f.Fuzz(func(t *testing.T, whole uint64, frac string) {
		s := strconv.FormatUint(whole, 10)
		if frac != "" {
			digits := []byte(frac)
			for i, c := range digits {
				digits[i] = '0' + c%10
			}
			s += "." + string(digits)
		}
		got, err := khipu.ParseKhipuAmount(s)
		if len(s) > 100 {
			if err == nil || !strings.Contains(err.Error(), "too long") {
				t.Fatalf("ParseKhipuAmount of %d characters = %v, %v", len(s), got, err)
			}
			return
		}

		r, ok := new(big.Rat).SetString(s)
		if !ok {
			t.Fatalf("big.Rat cannot read %q", s)
		}
		r.Mul(r, big.NewRat(10000, 1))
		units, rest := new(big.Int).QuoRem(r.Num(), r.Denom(), new(big.Int))
		switch new(big.Int).Mul(rest, big.NewInt(2)).Cmp(r.Denom()) {
		case +1: // more than half
			units.Add(units, big.NewInt(1))
		case 0: // exactly half: to the even neighbour
			if units.Bit(0) == 1 {
				units.Add(units, big.NewInt(1))
			}
		}

		if units.Cmp(big.NewInt(maxUnits)) > 0 {
			if err == nil || !strings.Contains(err.Error(), "too large") {
				t.Fatalf("ParseKhipuAmount(%q) = %v, %v; want too large", s, got, err)
			}
			return
		}
		if err != nil {
			t.Fatalf("ParseKhipuAmount(%q): %v; want %s units", s, err, units)
		}
		if unitsOf(t, got).Cmp(units) != 0 {
			t.Fatalf("ParseKhipuAmount(%q) = %v; want %s units", s, got, units)
		}
		if exact, err := khipu.ParseAmount(s); err == nil && exact != got {
			t.Fatalf("ParseAmount(%q) = %v but ParseKhipuAmount = %v", s, exact, got)
		}
	})
}

func ExampleAmount_Add() {
	// A cart: two shirts at 19.99 and delivery at 4.5.
	shirt := khipu.MustParseAmount("19.99")
	delivery := khipu.MustParseAmount("4.5")
	total := shirt.Mul(2).Add(delivery)
	fmt.Println(total)

	// A discount larger than the total gives a negative amount: valid
	// arithmetic, but never sent.
	rest := total.Sub(khipu.NewAmount(50))
	_, err := json.Marshal(rest)
	fmt.Println(rest, rest.IsValid(), err != nil)
	// Output:
	// 44.48
	// -5.52 true true
}

func ExampleAmount_Mul() {
	perUnit := khipu.MustParseAmount("0.0125")
	fmt.Println(perUnit.Mul(1000))

	// An overflow never wraps: it is the refused amount, which nothing sends.
	huge := khipu.NewAmount(900_000_000_000_000).Mul(100)
	_, err := huge.Value()
	fmt.Println(huge.IsValid(), huge)
	fmt.Println(err)
	// Output:
	// 12.5
	// false invalid
	// khipu: cannot encode an Amount that is out of range (an overflow in NewAmount, Add, Sub or Mul)
}

func ExampleAmount_Compare() {
	limit := khipu.NewAmount(100_000)
	huge := khipu.NewAmount(900_000_000_000_000)
	for _, total := range []khipu.Amount{
		khipu.MustParseAmount("99999.99"),
		khipu.MustParseAmount("100000.01"),
		huge.Add(huge), // overflows: refused, and greater than any limit
	} {
		fmt.Println(total, total.Compare(limit) <= 0)
	}
	// Output:
	// 99999.99 true
	// 100000.01 false
	// invalid false
}

func ExampleAmount_Value() {
	// Store amounts as TEXT (SQLite) or NUMERIC/DECIMAL, never as a float column.
	stored, err := khipu.MustParseAmount("19.990").Value()
	fmt.Printf("%q %v\n", stored, err)

	_, err = khipu.NewAmount(-3).Value()
	fmt.Println(err)
	// Output:
	// "19.99" <nil>
	// khipu: invalid amount "-3": negative amounts are not allowed
}

func ExampleAmount_Scan() {
	var price khipu.Amount
	for _, column := range []any{
		"19.99",             // TEXT
		[]byte("19.990000"), // DECIMAL(15,6)
		int64(1000),         // INTEGER
		"1,5",               // not an amount
		nil,                 // NULL
		19.99,               // a float column
	} {
		if err := price.Scan(column); err != nil {
			var ae *khipu.AmountError
			fmt.Println("error:", errors.As(err, &ae), err)
			continue
		}
		fmt.Println(price)
	}
	// Output:
	// 19.99
	// 19.99
	// 1000
	// error: true khipu: invalid amount "1,5": want digits with an optional '.' and up to 4 decimals
	// error: false khipu: cannot scan NULL into an Amount: make the column NOT NULL, or scan into a *khipu.Amount or sql.Null[khipu.Amount]
	// error: false khipu: cannot scan a float64 into an Amount: store amounts as TEXT (SQLite) or NUMERIC/DECIMAL, never as a float column
}
