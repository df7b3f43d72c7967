package sign

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
)

// referenceEscape is RFC 3986 encoding written the slow, obvious way, to
// check the table-driven AppendEscape against.
func referenceEscape(s string) string {
	var b strings.Builder
	for _, c := range []byte(s) {
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || strings.IndexByte("-_.~", c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

func FuzzEscape(f *testing.F) {
	for _, s := range []string{"", "a b", "ñandú & co", "<xml a='1'>~*!</xml>", "\x00\xff%", "https://x/?a=1&b=2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := Escape(s)
		if want := referenceEscape(s); got != want {
			t.Fatalf("Escape(%q) = %q, want %q", s, got, want)
		}
		// PathUnescape undoes RFC 3986 encoding exactly (it keeps '+').
		back, err := url.PathUnescape(got)
		if err != nil || back != s {
			t.Fatalf("Escape(%q) = %q does not decode back: %q, %v", s, got, back, err)
		}
	})
}

// FuzzStringToSign: the string to sign is the method, the escaped URL and
// every parameter once, sorted by key, each escaped so that '&' and '='
// inside keys and values cannot forge another parameter.
func FuzzStringToSign(f *testing.F) {
	f.Add("POST", "https://khipu.com/api/2.0/payments", "subject", "a&b=c", "amount", "1000", "", "")
	f.Add("GET", "https://khipu.com/api/2.0/payments", "notification_token", "x y", "a", "", "b", "=")
	f.Fuzz(func(t *testing.T, method, rawURL, k1, v1, k2, v2, k3, v3 string) {
		params := url.Values{}
		for _, kv := range [][2]string{{k1, v1}, {k2, v2}, {k3, v3}} {
			if kv[0] != "" {
				params.Add(kv[0], kv[1])
			}
		}
		if strings.Contains(method, "&") {
			return // the method is not escaped; Khipu's are GET, POST and DELETE
		}
		got := StringToSign(method, rawURL, params)
		parts := strings.Split(got, "&")
		if len(parts) < 2 || parts[0] != method {
			t.Fatalf("%q does not start with the method", got)
		}
		if u, err := url.PathUnescape(parts[1]); err != nil || u != rawURL {
			t.Fatalf("URL part %q of %q is not the URL %q", parts[1], got, rawURL)
		}
		pairs := parts[2:]
		if len(pairs) != len(params) {
			t.Fatalf("%q has %d parameters, want %d", got, len(pairs), len(params))
		}
		var keys []string
		for _, pair := range pairs {
			ek, ev, ok := strings.Cut(pair, "=")
			k, err1 := url.PathUnescape(ek)
			v, err2 := url.PathUnescape(ev)
			if !ok || err1 != nil || err2 != nil || params.Get(k) != v {
				t.Fatalf("pair %q of %q is not a parameter sent", pair, got)
			}
			keys = append(keys, k)
		}
		if !slices.IsSorted(keys) {
			t.Fatalf("keys %q of %q are not sorted", keys, got)
		}
	})
}
