package khipuv3

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/khipu-go/khipu"
	"github.com/khipu-go/khipu/internal/sign"
)

// webhookFuzzNow is the fixed "now" of FuzzVerifySignature, so that what it finds
// can be replayed.
var webhookFuzzNow = time.UnixMilli(1764633600000)

// FuzzVerifySignature: VerifySignature never panics, refuses with errors
// that match ErrInvalidSignature and hold no secret, and accepts a header
// only when it carries one t, in canonical decimal within the tolerance,
// and an s that is exactly what Sign writes for that t and body.
func FuzzVerifySignature(f *testing.F) {
	const secret = webhookTestSecret
	for _, v := range loadWebhookVectors(f) {
		f.Add(v.Header, []byte(v.Body))
		f.Add(Sign(secret, webhookFuzzNow, []byte(v.Body)), []byte(v.Body))
	}
	for _, body := range loadRealWorldWebhooks(f) {
		f.Add(Sign(secret, webhookFuzzNow.Add(-time.Hour), body), body)
	}
	body := []byte(`{"payment_id":"abc"}`)
	good := Sign(secret, webhookFuzzNow, body)
	tPart, sPart, _ := strings.Cut(good, ",")
	for _, h := range []string{
		sPart + "," + tPart, " " + tPart + " , " + sPart + " ", tPart + ",s=AAAA," + sPart,
		tPart + "," + sPart + ",v1=x", tPart + "," + tPart + "," + sPart, tPart, sPart, "",
		strings.Replace(good, "t=", "t=0", 1), strings.TrimSuffix(good, "="), good + ",",
		Sign(secret, webhookFuzzNow.Add(-DefaultTolerance-time.Millisecond), body),
		Sign(secret, webhookFuzzNow.Add(DefaultTolerance), body),
	} {
		f.Add(h, body)
	}
	f.Fuzz(func(t *testing.T, header string, body []byte) {
		if err := VerifySignature(secret, Sign(secret, webhookFuzzNow, body), body, webhookFuzzNow, DefaultTolerance); err != nil {
			t.Fatalf("Sign's own header refused: %v", err)
		}
		err := VerifySignature(secret, header, body, webhookFuzzNow, DefaultTolerance)
		if err != nil {
			if !errors.Is(err, ErrInvalidSignature) {
				t.Fatalf("error %v does not match ErrInvalidSignature", err)
			}
			if strings.Contains(err.Error(), secret) {
				t.Fatalf("error %q holds the secret", err)
			}
			return
		}
		// Accepted: read the header again, independently.
		var ts []string
		var ss []string
		for _, part := range strings.Split(header, ",") {
			k, v, _ := strings.Cut(part, "=")
			switch strings.TrimSpace(k) {
			case "t":
				ts = append(ts, strings.TrimSpace(v))
			case "s":
				ss = append(ss, strings.TrimSpace(v))
			}
		}
		if len(ts) != 1 {
			t.Fatalf("accepted %q with %d t", header, len(ts))
		}
		ms, perr := strconv.ParseInt(ts[0], 10, 64)
		if perr != nil || strconv.FormatInt(ms, 10) != ts[0] {
			t.Fatalf("accepted %q whose t is not canonical decimal", header)
		}
		if d := webhookFuzzNow.Sub(time.UnixMilli(ms)); d > DefaultTolerance || d < -DefaultTolerance {
			t.Fatalf("accepted %q signed %v from now", header, d)
		}
		if want := sign.Webhook(secret, ms, body); !slices.Contains(ss, want) {
			t.Fatalf("accepted %q, none of whose s is %s", header, want)
		}
	})
}

// FuzzNotificationDecode: any body, signed correctly, never makes
// ParseNotification panic; it is accepted only with a payment_id, with Raw
// the body itself, and exactly when json.Unmarshal accepts it, to the same
// notification; a refusal wraps khipu.ErrInvalidNotification and is no
// signature error.
func FuzzNotificationDecode(f *testing.F) {
	for _, v := range loadWebhookVectors(f) {
		f.Add([]byte(v.Body))
	}
	for _, body := range loadRealWorldWebhooks(f) {
		f.Add(body)
	}
	for _, s := range []string{
		``, `null`, `[]`, `"x"`, `{}`, ` {"payment_id":"a"} `, `{"payment_id":""}`, `{"payment_id":7}`,
		`{"payment_id":"a","amount":1e3}`, `{"payment_id":"a","amount":"-1"}`, `{"payment_id":"a","receiver_id":1.5}`,
		`{"payment_id":"a","status":"PENDING"}`, `{"payment_id":"a"}{}`, "\ufeff{\"payment_id\":\"a\"}",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		n, err := ParseNotification(webhookTestSecret, signedNotificationRequest(webhookTestSecret, time.Now(), body))
		var viaJSON Notification
		jerr := json.Unmarshal(body, &viaJSON)
		if err != nil {
			if n != nil || !errors.Is(err, khipu.ErrInvalidNotification) || errors.Is(err, ErrInvalidSignature) {
				t.Fatalf("ParseNotification(%q) = %v, %v", body, n, err)
			}
			if jerr == nil {
				t.Fatalf("ParseNotification refused %q (%v), json.Unmarshal accepted it", body, err)
			}
			return
		}
		if n.PaymentID == "" || !bytes.Equal(n.Raw, body) {
			t.Fatalf("ParseNotification(%q) accepted %+v", body, n)
		}
		if jerr != nil {
			t.Fatalf("ParseNotification accepted %q, json.Unmarshal refused it: %v", body, jerr)
		}
		if !bytes.Equal(viaJSON.Raw, bytes.TrimSpace(body)) {
			t.Fatalf("json.Unmarshal(%q) kept Raw %q", body, viaJSON.Raw)
		}
		parsed := *n
		parsed.Raw, viaJSON.Raw = nil, nil
		if !reflect.DeepEqual(parsed, viaJSON) {
			t.Fatalf("ParseNotification and json.Unmarshal differ on %q:\n%+v\n%+v", body, parsed, viaJSON)
		}
	})
}

// FuzzVerifyNotification: VerifyNotification never panics; it accepts
// exactly what VerifySignature and the decoder both accept, and then gives
// the notification ParseNotification gives for the same request, with Raw a
// copy of the body; a refusal is a signature error or wraps
// khipu.ErrInvalidNotification, never both, and holds neither the secret
// nor the body.
func FuzzVerifyNotification(f *testing.F) {
	const secret = webhookTestSecret
	for _, v := range loadWebhookVectors(f) {
		f.Add(v.Header, []byte(v.Body))
		f.Add(Sign(secret, webhookFuzzNow, []byte(v.Body)), []byte(v.Body))
	}
	for _, body := range loadRealWorldWebhooks(f) {
		f.Add(Sign(secret, webhookFuzzNow, body), body)
	}
	for _, s := range []string{``, `null`, `{}`, ` {"payment_id":"a"} `, `{"payment_id":"a"}{}`, `{"payment_id":"a","amount":"x"}`} {
		f.Add(Sign(secret, webhookFuzzNow, []byte(s)), []byte(s))
		f.Add("t=1,s=x", []byte(s))
	}
	f.Fuzz(func(t *testing.T, header string, body []byte) {
		n, err := VerifyNotification(secret, header, body, webhookFuzzNow)
		sigErr := VerifySignature(secret, header, body, webhookFuzzNow, DefaultTolerance)
		switch {
		case sigErr != nil:
			if n != nil || err == nil || err.Error() != sigErr.Error() || !errors.Is(err, ErrInvalidSignature) {
				t.Fatalf("VerifyNotification(%q) = %v, %v; VerifySignature said %v", header, n, err, sigErr)
			}
			return
		case err != nil:
			if n != nil || errors.Is(err, ErrInvalidSignature) || !errors.Is(err, khipu.ErrInvalidNotification) {
				t.Fatalf("VerifyNotification(%q) = %v, %v", body, n, err)
			}
			if len(body) > 8 && strings.Contains(err.Error(), string(body)) {
				t.Fatalf("the error %q quotes the body", err)
			}
			return
		}
		if !bytes.Equal(n.Raw, body) || len(body) > 0 && &n.Raw[0] == &body[0] {
			t.Fatalf("Raw %q is not a copy of the body %q", n.Raw, body)
		}
		r := httptest.NewRequest(http.MethodPost, "/khipu/notify", bytes.NewReader(body))
		r.Header.Set(SignatureHeader, header)
		parsed, err := verifyNotification(secret, signatureOf(r), body, webhookFuzzNow, DefaultTolerance)
		if err != nil || !reflect.DeepEqual(parsed, n) {
			t.Fatalf("from a request: %+v, %v; from bytes: %+v", parsed, err, n)
		}
	})
}
