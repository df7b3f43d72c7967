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
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(strconv.FormatInt(ms, 10)))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}
