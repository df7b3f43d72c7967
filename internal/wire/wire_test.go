package wire

import (
	"encoding/json"
	"testing"
	"time"
)

// stringLiterals are JSON string literals of every kind decodeString tells
// apart: plain ASCII, plain UTF-8, escapes, invalid UTF-8, and what is not a
// whole literal.
var stringLiterals = []string{
	`""`, `"gqzdy6chjne9"`, `"https://khipu.com/payment/info/x?a=1&b=2"`, `"María José Pérez — ñandú"`,
	`"https:\/\/khipu.com"`, `"a\"b"`, `"tab\there"`, `"\u00f1"`, `"\ud83d\ude00"`, `"\ud800"`,
	"\"bad \xff utf-8\"", "\"cut \xc3\"", ` "padded" `, `"`, `"unterminated`, `x"`, `'single'`, `"a"b"`,
	"\"raw\nnewline\"", `123`, `null`,
}

func TestDecodeStringAgreesWithEncodingJSON(t *testing.T) {
	for _, lit := range stringLiterals {
		checkDecodeString(t, []byte(lit))
	}
}

func FuzzDecodeString(f *testing.F) {
	for _, lit := range stringLiterals {
		f.Add([]byte(lit))
	}
	f.Fuzz(checkDecodeString)
}

// checkDecodeString: decodeString gives what json.Unmarshal gives, and fails
// where it fails.
func checkDecodeString(t *testing.T, b []byte) {
	var want string
	wantErr := json.Unmarshal(b, &want)
	got, err := decodeString(b)
	if (err != nil) != (wantErr != nil) {
		t.Fatalf("decodeString(%q): error %v, encoding/json: %v", b, err, wantErr)
	}
	if err == nil && got != want {
		t.Fatalf("decodeString(%q) = %q, encoding/json: %q", b, got, want)
	}
}

// TestLenientAndStrictStringsDecodeLikeEncodingJSON checks the decoders
// that use decodeString on strings that take the fast path and strings that
// do not.
func TestLenientAndStrictStringsDecodeLikeEncodingJSON(t *testing.T) {
	for _, lit := range []string{`"Pérez"`, `"a\/b"`, "\"x\xffy\"", `"2024-06-21T11:23:09.123Z"`, `"2024-06-21T11:23:09\u002e123Z"`, `"19.99"`, `"1\u0039.99"`} {
		var want string
		if err := json.Unmarshal([]byte(lit), &want); err != nil {
			t.Fatal(err)
		}
		var s String
		_ = s.UnmarshalJSON([]byte(lit))
		strict, err := StrictString([]byte(lit))
		if string(s) != want || strict != want || err != nil {
			t.Errorf("%s: String %q, StrictString %q %v; want %q", lit, s, strict, err, want)
		}
		var list Strings
		_ = list.UnmarshalJSON([]byte("[" + lit + "," + lit + "]"))
		if len(list) != 2 || list[0] != want || list[1] != want {
			t.Errorf("%s: Strings %q", lit, list)
		}
		var tm Time
		_ = tm.UnmarshalJSON([]byte(lit))
		if v, err := ParseTime(want); err == nil && !v.Equal(tmTime(tm)) {
			t.Errorf("%s: Time %v, want %v", lit, tmTime(tm), v)
		}
		if a, err := RoundDecimal(want); err == nil {
			got, err := StrictAmount([]byte(lit))
			if err != nil || got != a {
				t.Errorf("%s: StrictAmount %q %v, want %q", lit, got, err, a)
			}
		}
	}
	var b Bool
	_ = b.UnmarshalJSON([]byte(`"tru\u0065"`))
	if !bool(b) {
		t.Error(`Bool "tru\u0065" is false`)
	}
}

func tmTime(t Time) time.Time { return time.Time(t) }
