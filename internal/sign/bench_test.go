package sign

import (
	"net/url"
	"testing"
)

// benchCreateParams are the parameters of a typical create-payment request:
// six of them, with a space, an accent and URLs that must be escaped.
var benchCreateParams = url.Values{
	"subject":        {"Pedido 1234: zapatillas ñandú"},
	"currency":       {"CLP"},
	"amount":         {"19990"},
	"transaction_id": {"order-1234"},
	"return_url":     {"https://shop.example.com/return?order=1234"},
	"cancel_url":     {"https://shop.example.com/cancel?order=1234"},
}

const benchCreateURL = "https://khipu.com/api/2.0/payments"

// BenchmarkAuthorization measures the header of a 6-parameter
// create-payment request: string to sign, HMAC-SHA256 and hex.
func BenchmarkAuthorization(b *testing.B) {
	s := New("12345", "abc123")
	want := s.Authorization("POST", benchCreateURL, benchCreateParams)
	b.ReportAllocs()
	b.ResetTimer()
	var got string
	for range b.N {
		got = s.Authorization("POST", benchCreateURL, benchCreateParams)
	}
	b.StopTimer()
	if got != want {
		b.Fatalf("Authorization changed between calls: %q, then %q", want, got)
	}
}

// BenchmarkAppendStringToSign isolates the string to sign from the HMAC.
func BenchmarkAppendStringToSign(b *testing.B) {
	buf := make([]byte, 0, 512)
	b.ReportAllocs()
	for range b.N {
		buf = AppendStringToSign(buf[:0], "POST", benchCreateURL, benchCreateParams)
	}
	if len(buf) == 0 {
		b.Fatal("empty string to sign")
	}
}
