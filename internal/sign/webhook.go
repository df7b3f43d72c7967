package sign

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strconv"
)

// Webhook returns the signature of a Khipu notification 3.0: the base64 of
// HMAC-SHA256, keyed with secret, of the timestamp in milliseconds, a '.'
// and the body's bytes exactly as sent. The x-khipu-signature header is
// "t=<ms>,s=<signature>".
//
// It is shared by package khipuv3, which verifies notifications, and package
// khiputest, which sends them.
func Webhook(secret string, ms int64, body []byte) string {
	return base64.StdEncoding.EncodeToString(WebhookMAC(secret, ms, body))
}

// WebhookMAC is Webhook's HMAC before base64: what a verifier compares.
func WebhookMAC(secret string, ms int64, body []byte) []byte {
	mac := hmac.New(sha256.New, []byte(secret))
	prefix := strconv.AppendInt(make([]byte, 0, 21), ms, 10) // 20 digits at most, and the '.'
	mac.Write(append(prefix, '.'))
	mac.Write(body)
	return mac.Sum(nil)
}
