// Package sign computes Khipu API v2 request signatures.
//
// It is shared by the client (package khipu) and by the in-memory server
// (package khiputest), so both sides of every test sign with the same code and
// that code is checked against the vectors computed by Khipu's official client.
package sign

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"slices"
)

// Signer signs requests with one collection account's secret. It is safe for
// concurrent use. Its printed form never shows the secret.
type Signer struct {
	receiverID string
	// key returns the secret: a function, so that a Signer dumped by a
	// reflection-based printer (testify's diffs, spew) shows an address,
	// never the secret.
	key func() []byte
}

// New returns a Signer for the account receiverID with the given secret.
func New(receiverID, secret string) *Signer {
	return &Signer{receiverID: receiverID, key: func() []byte { return []byte(secret) }}
}

// String hides the secret.
func (s *Signer) String() string {
	return "sign.Signer{receiverID: " + s.receiverID + ", secret: [redacted]}"
}

// GoString hides the secret.
func (s *Signer) GoString() string { return s.String() }

// Authorization returns the value of the Authorization header for a request:
// "<receiver_id>:<hash>".
func (s *Signer) Authorization(method, rawURL string, params url.Values) string {
	return s.receiverID + ":" + s.Hash(method, rawURL, params)
}

// Hash returns the lowercase hex HMAC-SHA256 of the string to sign.
func (s *Signer) Hash(method, rawURL string, params url.Values) string {
	mac := hmac.New(sha256.New, s.key())
	// Khipu's strings to sign are a few hundred bytes: one buffer holds
	// them without growing.
	mac.Write(AppendStringToSign(make([]byte, 0, 512), method, rawURL, params))
	return hex.EncodeToString(mac.Sum(nil))
}

// Valid reports whether header is a correct Authorization header for the
// request (lower-case hex, as Khipu sends and expects), compared in
// constant time.
func (s *Signer) Valid(header, method, rawURL string, params url.Values) bool {
	want := s.Authorization(method, rawURL, params)
	return hmac.Equal([]byte(header), []byte(want))
}

// StringToSign returns the string Khipu signs for a request:
//
//	METHOD & encode(url) [& encode(key)=encode(value)]...
//
// with the parameters sorted by key. Only the first value of each key is
// signed: Khipu's parameters are single-valued.
func StringToSign(method, rawURL string, params url.Values) string {
	return string(AppendStringToSign(nil, method, rawURL, params))
}

// AppendStringToSign appends the string to sign to dst and returns it.
func AppendStringToSign(dst []byte, method, rawURL string, params url.Values) []byte {
	dst = append(dst, method...)
	dst = append(dst, '&')
	dst = AppendEscape(dst, rawURL)
	if len(params) == 0 {
		return dst
	}
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		v := ""
		if vs := params[k]; len(vs) > 0 {
			v = vs[0]
		}
		dst = append(dst, '&')
		dst = AppendEscape(dst, k)
		dst = append(dst, '=')
		dst = AppendEscape(dst, v)
	}
	return dst
}

// Escape percent-encodes s as RFC 3986 requires: every byte but
// A-Z a-z 0-9 - _ . ~ becomes %XX with upper-case hex digits.
func Escape(s string) string { return string(AppendEscape(nil, s)) }

// AppendEscape appends the RFC 3986 encoding of s to dst.
func AppendEscape(dst []byte, s string) []byte {
	const hexDigits = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		if c := s[i]; unreserved(c) {
			dst = append(dst, c)
		} else {
			dst = append(dst, '%', hexDigits[c>>4], hexDigits[c&15])
		}
	}
	return dst
}

func unreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '-' || c == '_' || c == '.' || c == '~'
}
