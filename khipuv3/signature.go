// The signature of notifications 3.0: the x-khipu-signature header, how
// Khipu makes it (Sign) and how a shop checks it (VerifySignature).

package khipuv3

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/khipu-go/khipu/internal/sign"
)

// SignatureHeader is the HTTP header that carries a notification's
// signature: "t=<unix time in milliseconds>,s=<base64 HMAC-SHA256>".
//
// The HMAC is keyed with the collection account's secret (Khipu's "Llave
// secreta", shown beside the receiver id in the account's options, the
// secret that signs API v2 requests), never with the API key.
const SignatureHeader = "x-khipu-signature"

// DefaultTolerance is how far a notification's timestamp may lie from the
// current time, before or after it, for VerifyNotification,
// ParseNotification and NotificationHandler. It is long because Khipu
// retries an unanswered notification for up to two days and nothing public
// says whether a retry is signed anew: a short window would refuse the
// retries of a notification the shop missed, and the payment would never
// be delivered. A replayed genuine notification is harmless to a shop that
// delivers once per payment id. There is no way to switch the check off.
const DefaultTolerance = 72 * time.Hour

// ErrInvalidSignature is matched, with errors.Is, by every refusal of
// VerifySignature, and so by ErrSignatureMissing, ErrSignatureMalformed,
// ErrSignatureExpired and ErrSignatureMismatch: a notification not shown to
// come from Khipu.
var ErrInvalidSignature = errors.New("khipuv3: invalid notification signature")

var (
	// ErrSignatureMissing is an empty or absent x-khipu-signature header.
	ErrSignatureMissing = fmt.Errorf("%w: %s header missing", ErrInvalidSignature, SignatureHeader)
	// ErrSignatureMalformed is a header that is not "t=<ms>,s=<base64>".
	ErrSignatureMalformed = fmt.Errorf("%w: %s header malformed", ErrInvalidSignature, SignatureHeader)
	// ErrSignatureExpired is a correct signature whose timestamp lies
	// further from now than the tolerance, in the past or in the future.
	ErrSignatureExpired = fmt.Errorf("%w: timestamp outside the tolerance", ErrInvalidSignature)
	// ErrSignatureMismatch is a header none of whose signatures is that of
	// the body under the secret: a forgery, a body changed on the way
	// (re-encoded JSON included), or the wrong secret (the API key instead
	// of the account's secret, say).
	ErrSignatureMismatch = fmt.Errorf("%w: no signature matches the body", ErrInvalidSignature)
)

// Sign returns the x-khipu-signature value Khipu would send for body at
// time t, signed with secret: "t=<ms>,s=<base64>". It is meant for tests of
// handlers that receive notifications. A t before 1970 gives a header
// VerifySignature refuses as malformed, as Khipu never sends one.
func Sign(secret string, t time.Time, body []byte) string {
	ms := t.UnixMilli()
	return "t=" + strconv.FormatInt(ms, 10) + ",s=" + sign.Webhook(secret, ms, body)
}

// VerifySignature returns nil only when header, the x-khipu-signature value,
// holds a signature of body, exactly as received, under secret, and its
// timestamp lies within tolerance of now, before or after it. tolerance
// must be positive (DefaultTolerance, unless you know better): zero or less
// is an error, as there is no way to leave the timestamp unchecked. A blank
// secret is refused: anyone can compute an HMAC under an empty key.
//
// The header is split on ',' and each part on its first '='; whitespace
// around parts, keys and values is ignored and so are keys other than t and
// s. t must appear once, as a whole number of milliseconds; s may appear
// several times (for a change of secret) and the header is accepted when
// any of them matches. Signatures are compared in constant time.
//
// Every error matches ErrInvalidSignature with errors.Is, and one of
// ErrSignatureMissing, ErrSignatureMalformed, ErrSignatureExpired (checked
// after the signature, so it means a genuine but old or future notification)
// or ErrSignatureMismatch says which check failed; none of them holds the
// secret, the expected signature or the header.
func VerifySignature(secret, header string, body []byte, now time.Time, tolerance time.Duration) error {
	if err := checkSecret(secret); err != nil {
		return err
	}
	if tolerance <= 0 {
		return fmt.Errorf("%w: the tolerance must be positive, not %v (there is no way to leave the timestamp unchecked; DefaultTolerance is %v)",
			ErrInvalidSignature, tolerance, DefaultTolerance)
	}
	if strings.TrimSpace(header) == "" {
		return ErrSignatureMissing
	}
	h, err := parseSignatureHeader(header)
	if err != nil {
		return err
	}
	want := sign.WebhookMAC(secret, h.ms, body)
	matched := false
	for _, s := range h.signatures {
		matched = hmac.Equal(s[:], want) || matched
	}
	if !matched {
		return ErrSignatureMismatch
	}
	switch age := now.Sub(time.UnixMilli(h.ms)); {
	case age > tolerance:
		return fmt.Errorf("%w: signed %v ago, tolerance %v", ErrSignatureExpired, age.Round(time.Second), tolerance)
	case age < -tolerance:
		return fmt.Errorf("%w: signed %v in the future, tolerance %v", ErrSignatureExpired, (-age).Round(time.Second), tolerance)
	}
	return nil
}

// checkSecret refuses a blank secret, without quoting it.
func checkSecret(secret string) error {
	if strings.TrimSpace(secret) == "" {
		return fmt.Errorf("%w: the secret is empty", ErrInvalidSignature)
	}
	return nil
}

// signatureHeader is a parsed x-khipu-signature value.
type signatureHeader struct {
	ms         int64
	signatures [][sha256.Size]byte // decoded HMACs
}

// strictBase64 refuses non-zero padding bits, so that only one text
// decodes to a given signature.
var strictBase64 = base64.StdEncoding.Strict()

// parseSignatureHeader reads "t=<ms>,s=<base64>[,s=...]". Its errors name
// what is wrong but quote nothing: the header is not to be logged.
func parseSignatureHeader(header string) (signatureHeader, error) {
	var h signatureHeader
	haveT := false
	for rest, more := header, true; more; {
		var part string
		part, rest, more = strings.Cut(rest, ",")
		key, value, ok := strings.Cut(part, "=")
		key, value = strings.TrimSpace(key), strings.TrimSpace(value)
		if !ok || key == "" {
			return h, fmt.Errorf("%w: a part is not key=value", ErrSignatureMalformed)
		}
		switch key {
		case "t":
			if haveT {
				return h, fmt.Errorf("%w: t appears more than once", ErrSignatureMalformed)
			}
			ms, ok := parseMillis(value)
			if !ok {
				return h, fmt.Errorf("%w: t is not a whole number of milliseconds", ErrSignatureMalformed)
			}
			h.ms, haveT = ms, true
		case "s":
			sig, ok := decodeSignature(value)
			if !ok {
				return h, fmt.Errorf("%w: s is not a base64 HMAC-SHA256", ErrSignatureMalformed)
			}
			h.signatures = append(h.signatures, sig)
		default:
			// A key Khipu adds later must not stop verification.
		}
	}
	switch {
	case !haveT:
		return h, fmt.Errorf("%w: t is missing", ErrSignatureMalformed)
	case len(h.signatures) == 0:
		return h, fmt.Errorf("%w: s is missing", ErrSignatureMalformed)
	}
	return h, nil
}

// decodeSignature decodes s, which must be the canonical base64 text of a
// 32-byte HMAC: base64 decoders skip newlines, and two texts must not pass
// for one signature.
func decodeSignature(s string) (sig [sha256.Size]byte, ok bool) {
	if len(s) != strictBase64.EncodedLen(sha256.Size) {
		return sig, false
	}
	var text, again [44]byte // the encoded length of 32 bytes
	var decoded [33]byte     // its decoded length, as Decode counts it
	copy(text[:], s)
	n, err := strictBase64.Decode(decoded[:], text[:])
	if err != nil || n != sha256.Size {
		return sig, false
	}
	copy(sig[:], decoded[:])
	strictBase64.Encode(again[:], sig[:])
	return sig, again == text
}

// parseMillis reads t as Khipu writes it: decimal digits, no sign, no
// leading zero. Any other spelling of the number would be signed as other
// text than the one sign.Webhook formats, so it could never verify.
func parseMillis(s string) (int64, bool) {
	if !canonicalNumber(s) {
		return 0, false
	}
	ms, err := strconv.ParseInt(s, 10, 64)
	return ms, err == nil
}
