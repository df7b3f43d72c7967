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
	"hash"
	"net/url"
	"slices"
	"sync"
)

// Signer signs requests with one collection account's secret. It is safe for
// concurrent use. Its printed form never shows the secret.
type Signer struct {
	receiverID string
	macs       sync.Pool // of *macState keyed with the secret
}

// macState is what one signature needs, pooled so that signing allocates
// only the header string it returns.
type macState struct {
	mac hash.Hash // HMAC-SHA256 keyed with the secret
	buf []byte    // the string to sign
	sum [sha256.Size]byte
}

// New returns a Signer for the account receiverID with the given secret.
func New(receiverID, secret string) *Signer {
	key := []byte(secret)
	s := &Signer{receiverID: receiverID}
	s.macs.New = func() any {
		return &macState{mac: hmac.New(sha256.New, key), buf: make([]byte, 0, 512)}
	}
	return s
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
	var arr [128]byte // on the stack: the returned string is the only allocation
	buf := append(arr[:0], s.receiverID...)
	buf = append(buf, ':')
	buf = s.appendHash(buf, method, rawURL, params)
	return string(buf)
}

// Hash returns the lowercase hex HMAC-SHA256 of the string to sign.
func (s *Signer) Hash(method, rawURL string, params url.Values) string {
	var arr [2 * sha256.Size]byte
	return string(s.appendHash(arr[:0], method, rawURL, params))
}

// Valid reports whether header is a correct Authorization header for the
// request (lower-case hex, as Khipu sends and expects), compared in
// constant time.
func (s *Signer) Valid(header, method, rawURL string, params url.Values) bool {
	want := s.Authorization(method, rawURL, params)
	return hmac.Equal([]byte(header), []byte(want))
}

// appendHash appends the lowercase hex HMAC-SHA256 of the string to sign.
func (s *Signer) appendHash(dst []byte, method, rawURL string, params url.Values) []byte {
	st := s.macs.Get().(*macState)
	st.buf = AppendStringToSign(st.buf[:0], method, rawURL, params)
	st.mac.Reset()
	st.mac.Write(st.buf)
	dst = hex.AppendEncode(dst, st.mac.Sum(st.sum[:0]))
	if cap(st.buf) > 64<<10 { // keep huge buffers out of the pool
		st.buf = nil
	}
	s.macs.Put(st)
	return dst
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
	var small [16]string
	keys := small[:0]
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

// AppendEscape appends the RFC 3986 encoding of s to dst. Runs of
// unreserved bytes are copied whole.
func AppendEscape(dst []byte, s string) []byte {
	const hexDigits = "0123456789ABCDEF"
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if unreservedTable[c] {
			continue
		}
		dst = append(dst, s[start:i]...)
		dst = append(dst, '%', hexDigits[c>>4], hexDigits[c&15])
		start = i + 1
	}
	return append(dst, s[start:]...)
}

// unreservedTable[c] is unreserved(c), looked up in the hot loop.
var unreservedTable = func() (t [256]bool) {
	for c := range t {
		t[c] = unreserved(byte(c))
	}
	return t
}()

func unreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '-' || c == '_' || c == '.' || c == '~'
}
