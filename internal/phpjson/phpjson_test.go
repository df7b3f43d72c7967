package phpjson

import (
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestStringIsWhatJSONEncodeWrites(t *testing.T) {
	for in, want := range map[string]string{
		"":                           `""`,
		"Notificación de prueba":     `"Notificaci\u00f3n de prueba"`,
		"https://khipu.com/x":        `"https:\/\/khipu.com\/x"`,
		`<a href="x">&</a>`:          `"<a href=\"x\">&<\/a>"`,
		"tab\tnewline\n\x01":         `"tab\tnewline\n\u0001"`,
		"😀":                          `"\ud83d\ude00"`,
		"\u2028":                     `"\u2028"`,
		"bad \xff":                   `"bad \ufffd"`,
		`back\slash`:                 `"back\\slash"`,
		"ñandú €":                    `"\u00f1and\u00fa \u20ac"`,
		"payer@example.com 12.345-6": `"payer@example.com 12.345-6"`,
	} {
		if got := string(String(in)); got != want {
			t.Errorf("String(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestMarshalEscapesEveryString(t *testing.T) {
	got, err := Marshal(map[string]any{"url": "https://a/b", "n": 1.5, "s": "é"})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"n":1.5,"s":"\u00e9","url":"https:\/\/a\/b"}`; string(got) != want {
		t.Errorf("Marshal = %s, want %s", got, want)
	}
	if _, err := Marshal(func() {}); err == nil {
		t.Error("Marshal of a func: no error")
	}
}

// PHP's own json_encode, where PHP is installed (CI installs it): the
// strings above written by PHP are the bytes String writes.
func TestStringMatchesPHP(t *testing.T) {
	php, err := exec.LookPath("php")
	if err != nil {
		if os.Getenv("KHIPUTEST_REQUIRE_PHP") != "" {
			t.Fatal("php is not installed, and KHIPUTEST_REQUIRE_PHP is set")
		}
		t.Skip("php is not installed")
	}
	in := []string{"", "Notificación de prueba", "https://khipu.com/x", `<a href="x">&</a>`, "tab\tnewline\n\x01",
		"😀", "\u2028", `back\slash`, "ñandú €", `quote " and '`}
	list, _ := json.Marshal(in)
	out, err := exec.Command(php, "-r", `foreach (json_decode($argv[1]) as $s) { echo json_encode($s), "\n"; }`, string(list)).Output()
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	if len(lines) != len(in) {
		t.Fatalf("php wrote %d lines for %d strings: %q", len(lines), len(in), out)
	}
	for i, s := range in {
		if got := string(String(s)); got != lines[i] {
			t.Errorf("String(%q) = %s; PHP writes %s", s, got, lines[i])
		}
	}
}

func FuzzString(f *testing.F) {
	for _, s := range []string{"", "a/b", "é", "😀", "\x00", "\xff", "\u2028", `"\`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := String(s)
		for _, b := range out {
			if b >= utf8.RuneSelf {
				t.Fatalf("String(%q) = %s: a byte outside ASCII", s, out)
			}
		}
		if strings.Contains(strings.ReplaceAll(string(out), `\\`, ""), "/") && !strings.Contains(string(out), `\/`) {
			t.Fatalf("String(%q) = %s: an unescaped '/'", s, out)
		}
		var back string
		if err := json.Unmarshal(out, &back); err != nil {
			t.Fatalf("String(%q) = %s: not JSON: %v", s, out, err)
		}
		var want strings.Builder // each invalid byte a U+FFFD, as encoding/json writes it
		for _, r := range s {
			want.WriteRune(r)
		}
		if back != want.String() {
			t.Fatalf("String(%q) decodes to %q, want %q", s, back, want.String())
		}
	})
}
