package sign

import (
	"net/url"
	"strings"
	"testing"
)

func FuzzEscape(f *testing.F) {
	for _, s := range []string{"", "a b", "ñandú & co", "<xml a='1'>~*!</xml>", "\x00\xff%", "https://x/?a=1&b=2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := Escape(s)
		for i := 0; i < len(got); i++ {
			c := got[i]
			if !unreserved(c) && c != '%' && !strings.ContainsRune("0123456789ABCDEF", rune(c)) {
				t.Fatalf("Escape(%q) = %q: byte %q outside the RFC 3986 alphabet", s, got, c)
			}
		}
		// PathUnescape undoes RFC 3986 encoding exactly (it keeps '+').
		back, err := url.PathUnescape(got)
		if err != nil || back != s {
			t.Fatalf("Escape(%q) = %q does not decode back: %q, %v", s, got, back, err)
		}
	})
}
