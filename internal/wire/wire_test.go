package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math/big"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRoundDecimalRoundsHalfToEvenToFourDecimals(t *testing.T) {
	for in, want := range map[string]string{
		"0":                  "0",
		"1000":               "1000",
		"19.99":              "19.99", // 4 decimals or fewer: as it is
		"19.9900":            "19.9900",
		"007.5":              "007.5",
		"19.989999999999998": "19.9900",
		"0.00005":            "0.0000", // a tie goes to the even digit: 0
		"0.00015":            "0.0002", // and here to 2
		"0.00025":            "0.0002",
		"0.000250000001":     "0.0003", // past the tie
		"0.00004999":         "0.0000",
		"9.99995":            "10.0000", // carries into the whole part
		"99999.99999":        "100000.0000",
		"0.99995":            "1.0000",
		"1000.000000":        "1000.0000",
	} {
		got, err := RoundDecimal(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	for _, bad := range []string{"", ".", "1.", ".5", "-1", "+1", "1e3", "1,5", "1.2.3", " 1", "1 ", "0x10", "١٢", "NaN"} {
		_, err := RoundDecimal(bad)
		assert.Error(t, err, "%q", bad)
	}
}

// decimalPattern is what RoundDecimal accepts.
var decimalPattern = regexp.MustCompile(`^[0-9]+(\.[0-9]+)?$`)

// bigRound rounds the decimal text s half to even to 4 decimals with
// math/big, keeping the whole part's leading zeros as RoundDecimal does.
func bigRound(s string) string {
	whole, frac, _ := strings.Cut(s, ".")
	if len(frac) <= 4 {
		return s
	}
	n, ok := new(big.Int).SetString(whole+frac, 10)
	if !ok {
		panic(s)
	}
	div := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(len(frac)-4)), nil)
	q, r := new(big.Int).QuoRem(n, div, new(big.Int))
	switch r.Lsh(r, 1).Cmp(div) {
	case 1:
		q.Add(q, big.NewInt(1))
	case 0:
		if q.Bit(0) == 1 {
			q.Add(q, big.NewInt(1))
		}
	}
	digits := q.String()
	for len(digits) < len(whole)+4 {
		digits = "0" + digits
	}
	return digits[:len(digits)-4] + "." + digits[len(digits)-4:]
}

// FuzzRoundDecimal checks RoundDecimal against rounding with math/big, and
// that it accepts exactly the decimal numbers.
func FuzzRoundDecimal(f *testing.F) {
	for _, s := range []string{"19.989999999999998", "0.00005", "0.00015", "9.99995", "99.999950001", "1000", "1.5", "", "1e3", "-0.00005", "00.99995"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := RoundDecimal(s)
		if !decimalPattern.MatchString(s) {
			require.Error(t, err, "%q", s)
			return
		}
		require.NoError(t, err, "%q", s)
		require.Equal(t, bigRound(s), got, "%q", s)
		if _, frac, ok := strings.Cut(got, "."); ok {
			require.LessOrEqual(t, len(frac), 4)
		}
		again, err := RoundDecimal(got)
		require.NoError(t, err)
		require.Equal(t, got, again, "rounding twice changes nothing")
	})
}

// lenient decodes b into every lenient type, failing t if any of them
// returns an error.
type lenient struct {
	S String
	B Bool
	L Strings
	T Time
	E Enum
	A Amount
}

func decodeLenient(t *testing.T, b []byte) lenient {
	t.Helper()
	var v lenient
	for name, u := range map[string]json.Unmarshaler{"String": &v.S, "Bool": &v.B, "Strings": &v.L, "Time": &v.T, "Enum": &v.E, "Amount": &v.A} {
		require.NoError(t, u.UnmarshalJSON(b), "%s of %q", name, b)
	}
	return v
}

func TestLenientTypesReadWhatTheyCanAndZeroTheRest(t *testing.T) {
	utc := func(y int, mo time.Month, d, h, mi, s, ns int) Time {
		return Time(time.Date(y, mo, d, h, mi, s, ns, time.UTC))
	}
	cases := []struct {
		in   string
		want lenient
	}{
		{`"abc"`, lenient{S: "abc", E: "abc"}},
		{`"ñandú \"x\" \u00e9\/"`, lenient{S: `ñandú "x" é/`, E: `ñandú "x" é/`}},
		{`"SIMPLIFIED_TRANSFER"`, lenient{S: "SIMPLIFIED_TRANSFER", E: "simplified_transfer"}},
		{`1037`, lenient{S: "1037", A: "1037"}},
		{` 19.989999999999998 `, lenient{S: "19.989999999999998", A: "19.9900"}},
		{`"350.0000"`, lenient{S: "350.0000", E: "350.0000", A: "350.0000"}},
		{`true`, lenient{B: true}},
		{`"true"`, lenient{S: "true", B: true, E: "true"}},
		{`1`, lenient{S: "1", B: true, A: "1"}},
		{`"1"`, lenient{S: "1", B: true, E: "1", A: "1"}},
		{`0`, lenient{S: "0", A: "0"}},
		{`"false"`, lenient{S: "false", E: "false"}},
		{`null`, lenient{}},
		{`""`, lenient{}},
		{`[]`, lenient{L: Strings{}}},
		{`["a", 1, null, "b", {"c": "d"}]`, lenient{L: Strings{"a", "b"}}},
		{`{"a": "b"}`, lenient{}},
		{`-5`, lenient{S: "-5"}},
		{`"2026-11-25T10:00:00Z"`, lenient{S: "2026-11-25T10:00:00Z", E: "2026-11-25t10:00:00z", T: utc(2026, 11, 25, 10, 0, 0, 0)}},
		{`"2026-11-25T10:00:00"`, lenient{S: "2026-11-25T10:00:00", E: "2026-11-25t10:00:00", T: utc(2026, 11, 25, 10, 0, 0, 0)}},
		{`"2026-11-25 10:00:00.25"`, lenient{S: "2026-11-25 10:00:00.25", E: "2026-11-25 10:00:00.25", T: utc(2026, 11, 25, 10, 0, 0, 25e7)}},
	}
	for _, tc := range cases {
		got := decodeLenient(t, []byte(tc.in))
		assert.Equal(t, tc.want, got, tc.in)
	}
	// A zone is kept as an instant and an offset.
	got := decodeLenient(t, []byte(`"2026-11-25T07:00:00.123-0300"`))
	assert.True(t, time.Time(got.T).Equal(time.Date(2026, 11, 25, 10, 0, 0, 123e6, time.UTC)))
	_, offset := time.Time(got.T).Zone()
	assert.Equal(t, -3*3600, offset)
}

func TestLenientTypesNeverFailInsideAnObject(t *testing.T) {
	var v struct {
		S String  `json:"s"`
		B Bool    `json:"b"`
		L Strings `json:"l"`
		T Time    `json:"t"`
		E Enum    `json:"e"`
		A Amount  `json:"a"`
	}
	for _, odd := range []string{`0`, `"false"`, `""`, `[1]`, `{}`, `null`, `"n/a"`, `-1e99`} {
		doc := strings.NewReplacer("X", odd).Replace(`{"s":X,"b":X,"l":X,"t":X,"e":X,"a":X}`)
		require.NoError(t, Object([]byte(doc), &v), doc)
	}
}

// FuzzLenientTypesNeverFail: any bytes decode into every lenient type
// without an error, and what is read agrees with encoding/json.
func FuzzLenientTypesNeverFail(f *testing.F) {
	for _, s := range []string{`"abc"`, `"\u00e9\n"`, "\"\xff\"", `1e3`, `true`, `"1"`, `[ "a", 2 ]`, `null`, `"2026-11-25T10:00:00"`, `19.989999999999998`, `{`, ``, `"\ud800"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		v := decodeLenient(t, b)
		assert.Equal(t, strings.ToLower(string(v.E)), string(v.E), "an enum is lower case")
		if v.A != "" {
			_, frac, _ := strings.Cut(string(v.A), ".")
			assert.True(t, decimalPattern.MatchString(string(v.A)) && len(frac) <= 4, "amount %q", v.A)
		}
		if !json.Valid(b) {
			return
		}
		// UseNumber: a valid number too large for a float64 (1E700) is
		// still a number, which json.Unmarshal into any would refuse.
		var parsed any
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.UseNumber()
		require.NoError(t, dec.Decode(&parsed))
		trimmed := string(bytes.TrimSpace(b))
		switch x := parsed.(type) {
		case string:
			assert.Equal(t, x, string(v.S), "a string reads as encoding/json reads it")
			assert.Equal(t, x == "true" || x == "1", bool(v.B))
			if tm, err := ParseTime(x); err == nil {
				assert.True(t, tm.Equal(time.Time(v.T)))
			} else {
				assert.True(t, time.Time(v.T).IsZero())
			}
		case json.Number:
			assert.Equal(t, trimmed, string(v.S), "a number keeps its text")
			assert.Equal(t, trimmed == "1", bool(v.B))
		case bool:
			assert.Empty(t, v.S)
			assert.Equal(t, x, bool(v.B))
		case []any:
			var want []string
			for _, it := range x {
				if s, ok := it.(string); ok {
					want = append(want, s)
				}
			}
			assert.Equal(t, len(want), len(v.L))
			if len(want) > 0 {
				assert.Equal(t, want, []string(v.L))
			}
		default:
			assert.Empty(t, v.S)
			assert.False(t, bool(v.B))
			assert.Nil(t, v.L)
		}
	})
}

func TestStrictFunctionsAcceptOnlyTheirTypes(t *testing.T) {
	for _, tc := range []struct {
		decode func(json.RawMessage) (string, error)
		name   string
		good   map[string]string
		bad    []string
	}{
		{StrictString, "StrictString",
			map[string]string{``: "", `null`: "", `""`: "", `"done"`: "done", ` "a\nb" `: "a\nb", `"\u00f1"`: "ñ"},
			[]string{`1`, `true`, `{}`, `[]`, `["x"]`, `"\x"`}},
		{StrictID, "StrictID",
			map[string]string{`null`: "", `985101`: "985101", `"985101"`: "985101", `123456789012345678901234567890`: "123456789012345678901234567890"},
			[]string{`12.5`, `-1`, `1e3`, `true`, `{}`, `["1"]`}},
		{StrictAmount, "StrictAmount",
			map[string]string{`null`: "", `""`: "", `" "`: "", `1000`: "1000", `"1000.0000"`: "1000.0000", `19.989999999999998`: "19.9900", `" 7 "`: "7", `0.00015`: "0.0002"},
			[]string{`-5`, `"1,000"`, `true`, `{}`, `[]`, `1e3`, `"abc"`, `"\x"`}},
	} {
		for in, want := range tc.good {
			got, err := tc.decode(json.RawMessage(in))
			require.NoError(t, err, "%s(%s)", tc.name, in)
			assert.Equal(t, want, got, "%s(%s)", tc.name, in)
		}
		for _, in := range tc.bad {
			got, err := tc.decode(json.RawMessage(in))
			require.Error(t, err, "%s(%s) = %q", tc.name, in, got)
			assert.Empty(t, got)
			assert.NotRegexp(t, goNames, err.Error())
		}
	}
}

func TestATypeErrorNamesTheKindAndQuotesNothing(t *testing.T) {
	// The value may be part of a body that must not reach a log: a payer's
	// e-mail, a created receiver's secret.
	_, err := StrictString(json.RawMessage(`{"email": "payer@example.com"}`))
	require.Error(t, err)
	assert.True(t, errors.Is(err, errType))
	assert.Equal(t, `wrong JSON type: an object where a string was expected`, err.Error())
	for raw, kind := range map[string]string{`true`: "a boolean", `12`: "a number", `[1]`: "a list", `null`: "null", `"s3cr3t"`: "a string"} {
		_, err := StrictAmount(json.RawMessage(`[` + raw + `]`))
		assert.EqualError(t, err, "wrong JSON type: a list where a number or a string was expected")
		_, err = StrictID(json.RawMessage(`{"x":` + raw + `}`))
		assert.NotContains(t, err.Error(), strings.Trim(raw, `"`), "nothing of the value is quoted: %s", kind)
	}
}

func TestStrictCollectsTheErrorOfEveryField(t *testing.T) {
	var s Strict
	assert.Equal(t, "done", s.String("status", json.RawMessage(`"done"`)))
	assert.NoError(t, s.Err())
	assert.Empty(t, s.ID("receiver_id", json.RawMessage(`true`)))
	assert.Empty(t, s.Amount("amount", json.RawMessage(`"1,000"`)))
	s.Fail("currency", errors.New("not ISO-4217"))
	err := s.Err()
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "\n", "one line: an error is one log line")
	parts := strings.Split(err.Error(), "; ")
	require.Len(t, parts, 3)
	assert.True(t, strings.HasPrefix(parts[0], "field receiver_id: "), parts[0])
	assert.True(t, strings.HasPrefix(parts[1], "field amount: "), parts[1])
	assert.Equal(t, "field currency: not ISO-4217", parts[2])
	var many interface{ Unwrap() []error }
	require.ErrorAs(t, err, &many)
	assert.Len(t, many.Unwrap(), 3, "each error can still be opened")

	// A field refused already is not also reported as missing.
	s.Required("receiver_id", "")
	s.Required("payment_id", "")
	assert.Len(t, strings.Split(s.Err().Error(), "; "), 4)
	assert.Contains(t, s.Err().Error(), "the response has no payment_id")
}

// goNames matches what encoding/json's errors name and a user must not
// read: Go's types and struct fields.
var goNames = regexp.MustCompile(`Go struct field|Go value|of type|\b(wire|khipu|json|main)\.[A-Z]|\.plain`)

func TestCleanErrorNamesTheJSONNotGo(t *testing.T) {
	type inner struct {
		N int `json:"n"`
	}
	var target struct {
		S   string            `json:"s"`
		I   int               `json:"i"`
		U   uint8             `json:"u"`
		F   float64           `json:"f"`
		B   bool              `json:"b"`
		L   []string          `json:"l"`
		A   [2]int            `json:"a"`
		O   inner             `json:"o"`
		M   map[string]string `json:"m"`
		R   io.Reader         `json:"r"`
		Raw json.RawMessage   `json:"raw"`
	}
	for doc, want := range map[string]string{
		`{"s": 1}`:            "field s: JSON number where a string was expected",
		`{"i": "1"}`:          "field i: JSON string where a number was expected",
		`{"u": 300}`:          "field u: JSON number 300 where a number was expected",
		`{"f": true}`:         "field f: JSON bool where a number was expected",
		`{"b": "true"}`:       "field b: JSON string where true or false was expected",
		`{"l": "a"}`:          "field l: JSON string where a list was expected",
		`{"a": {}}`:           "field a: JSON object where a list was expected",
		`{"o": []}`:           "field o: JSON array where an object was expected",
		`{"o": {"n": "x"}}`:   "field o.n: JSON string where a number was expected",
		`{"m": 1}`:            "field m: JSON number where an object was expected",
		`{"r": {"x": 1}}`:     "field r: JSON object where another type was expected",
		`{"l": ["a", false]}`: "field l: JSON bool where a string was expected",
	} {
		err := CleanError(json.Unmarshal([]byte(doc), &target))
		require.Error(t, err, doc)
		assert.Equal(t, want, err.Error(), doc)
		assert.NotRegexp(t, goNames, err.Error())
	}
	var n int
	err := CleanError(json.Unmarshal([]byte(`"x"`), &n))
	assert.Equal(t, "the document: JSON string where a number was expected", err.Error())

	assert.NoError(t, CleanError(nil))
	other := errors.New("unexpected end of JSON input")
	assert.Same(t, other, CleanError(other), "an error that names no Go type is left as it is")
	assert.Equal(t, "another type", jsonKind(nil))
}

// FuzzCleanErrorNeverNamesGoTypes decodes any JSON into a struct of every
// kind of field: a cleaned error never names a Go type or field.
func FuzzCleanErrorNeverNamesGoTypes(f *testing.F) {
	for _, s := range []string{`{"s":1}`, `{"o":{"n":"x"}}`, `[1]`, `"x"`, `{"l":[1,{}]}`, `{"m":{"k":1}}`, `{"p":{"q":[true]}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var target struct {
			S string            `json:"s"`
			I int64             `json:"i"`
			F float32           `json:"f"`
			B bool              `json:"b"`
			L []int             `json:"l"`
			O struct{ N uint }  `json:"o"`
			M map[string]string `json:"m"`
			P *struct {
				Q []string `json:"q"`
			} `json:"p"`
			Lenient lenient `json:"lenient"`
		}
		if err := CleanError(json.Unmarshal(b, &target)); err != nil {
			assert.NotRegexp(t, goNames, err.Error())
		}
	})
}

func TestObjectDecodesOnlyAnObject(t *testing.T) {
	var v struct {
		S String          `json:"s"`
		R json.RawMessage `json:"r"`
	}
	require.NoError(t, Object([]byte(` {"s": 1, "r": [1, 2]} `), &v))
	assert.Equal(t, String("1"), v.S)
	assert.JSONEq(t, `[1, 2]`, string(v.R))

	for doc, want := range map[string]string{
		`[]`:         "wrong JSON type: a list where an object was expected",
		`"obj"`:      `wrong JSON type: a string where an object was expected`,
		`null`:       "wrong JSON type: null where an object was expected",
		``:           "wrong JSON type: nothing where an object was expected",
		`{"s": 1`:    "unexpected end of JSON input",
		`{"r": 1} x`: "invalid character 'x' after top-level value",
	} {
		err := Object([]byte(doc), &v)
		require.Error(t, err, doc)
		assert.Equal(t, want, err.Error(), doc)
	}
	var typed struct {
		N int `json:"n"`
	}
	assert.EqualError(t, Object([]byte(`{"n": "1"}`), &typed), "field n: JSON string where a number was expected")
}

func TestParseTimeReadsKhipusDates(t *testing.T) {
	for in, want := range map[string]time.Time{
		"2026-11-25T10:00:00Z":          time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC),
		"2026-11-25T10:00:00.203Z":      time.Date(2026, 11, 25, 10, 0, 0, 203e6, time.UTC),
		"2026-11-25T07:00:00-03:00":     time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC),
		"2026-11-25T07:00:00.5-0300":    time.Date(2026, 11, 25, 10, 0, 0, 5e8, time.UTC),
		"2026-11-25T10:00:00":           time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC),
		"2026-11-25 10:00:00.123456789": time.Date(2026, 11, 25, 10, 0, 0, 123456789, time.UTC),
		"2026-11-25":                    time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC),
	} {
		got, err := ParseTime(in)
		require.NoError(t, err, in)
		assert.True(t, want.Equal(got), "%s: %v", in, got)
		if !strings.ContainsAny(in[10:], "Z+-") {
			assert.Same(t, time.UTC, got.Location(), "%s: no zone is UTC", in)
		}
	}
	for _, bad := range []string{"", "next tuesday", "25/11/2026", "2026-11-25T10:00", "2026-13-01", strings.Repeat("9", 100)} {
		_, err := ParseTime(bad)
		require.Error(t, err, bad)
		assert.LessOrEqual(t, len(err.Error()), 70, "the input is quoted cut to 40 bytes")
	}
}

func TestKindIsTheFirstByteOfTheValue(t *testing.T) {
	for in, want := range map[string]byte{``: 0, `  `: 0, ` "a"`: '"', "\n-1": '0', `7`: '0', `true`: 't', `false`: 'f', `null`: 'n', `[`: '[', `{`: '{', `x`: 'x'} {
		assert.Equal(t, want, kind([]byte(in)), "%q", in)
	}
}

func TestIntIsLenient(t *testing.T) {
	for in, want := range map[string]Int{
		`42`: 42, `"42"`: 42, `0`: 0, `-3`: -3, `1.5`: 0, `"x"`: 0, `null`: 0, `true`: 0, `[]`: 0,
		`99999999999999999999999`: 0,
	} {
		var n Int = 7
		require.NoError(t, json.Unmarshal([]byte(in), &n), in)
		assert.Equal(t, want, n, in)
	}
	assert.True(t, IsList([]byte(" [1]")))
	assert.False(t, IsList([]byte(`""`)))
}

func TestDecodeReceiverCreated(t *testing.T) {
	r, err := DecodeReceiverCreated([]byte(`{"receiver_id":4242,"secret":"s3cret","api_key":"k3y"}`))
	require.NoError(t, err)
	assert.Equal(t, ReceiverCreated{ReceiverID: "4242", Secret: "s3cret", APIKey: "k3y"}, r)
	r, err = DecodeReceiverCreated([]byte(`{"receiver_id":"4242","secret":"s3cret"}`))
	require.NoError(t, err)
	assert.Empty(t, r.APIKey, "API v2 sends none")
	for body, field := range map[string]string{
		`{"receiver_id":4242}`:                                    "no secret",
		`{"secret":"s3cret"}`:                                     "no receiver_id",
		`{"receiver_id":4242,"secret":["s3cret"]}`:                "field secret",
		`{"receiver_id":4242,"secret":"s","api_key":{"k":"k3y"}}`: "field api_key",
	} {
		_, err := DecodeReceiverCreated([]byte(body))
		require.Error(t, err, body)
		assert.Contains(t, err.Error(), field, body)
		assert.NotContains(t, err.Error(), "s3cret", body)
		assert.NotContains(t, err.Error(), "k3y", body)
	}
}
