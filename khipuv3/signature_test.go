package khipuv3

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/khipu-go/khipu"
)

// webhookTestSecret signs the bodies that have no vector of their own.
const webhookTestSecret = "5e1c7a0f9b2d4c6e8a1f3b5d7c9e0a2b4d6f8a1c"

type webhookVector struct {
	Name, Secret, T, Body, Header, Signature string
}

func (v webhookVector) time(t testing.TB) time.Time {
	ms, err := strconv.ParseInt(v.T, 10, 64)
	require.NoError(t, err)
	return time.UnixMilli(ms)
}

// loadWebhookVectors reads ../testdata/webhook-vectors.json; the first
// vector is Khipu's documented example.
func loadWebhookVectors(t testing.TB) []webhookVector {
	t.Helper()
	raw, err := os.ReadFile("../testdata/webhook-vectors.json")
	require.NoError(t, err)
	var file struct{ Vectors []webhookVector }
	require.NoError(t, json.Unmarshal(raw, &file))
	require.Len(t, file.Vectors, 2)
	require.Equal(t, "khipu-doc-example", file.Vectors[0].Name)
	return file.Vectors
}

// loadRealWorldWebhooks reads ../testdata/realworld/webhook3-*.json, by
// file name.
func loadRealWorldWebhooks(t testing.TB) map[string][]byte {
	t.Helper()
	paths, err := filepath.Glob("../testdata/realworld/webhook3-*.json")
	require.NoError(t, err)
	require.NotEmpty(t, paths)
	bodies := make(map[string][]byte, len(paths))
	for _, p := range paths {
		b, err := os.ReadFile(p)
		require.NoError(t, err)
		bodies[filepath.Base(p)] = b
	}
	return bodies
}

// signedNotificationRequest is a notification POST of body signed with secret at at.
func signedNotificationRequest(secret string, at time.Time, body []byte) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/khipu/notify", bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set(SignatureHeader, Sign(secret, at, body))
	return r
}

var signatureSubErrors = []error{ErrSignatureMissing, ErrSignatureMalformed, ErrSignatureExpired, ErrSignatureMismatch}

// assertSignatureError checks that err is a refusal of VerifySignature
// that matches want and none of the other kinds (want nil: none of them).
func assertSignatureError(t *testing.T, err, want error) {
	t.Helper()
	require.Error(t, err)
	assert.ErrorIs(t, err, ErrInvalidSignature)
	assert.NotErrorIs(t, err, khipu.ErrInvalidNotification)
	for _, kind := range signatureSubErrors {
		if kind == want {
			assert.ErrorIs(t, err, kind)
		} else {
			assert.NotErrorIs(t, err, kind)
		}
	}
}

func TestVerifySignatureAcceptsKhipusDocumentedExample(t *testing.T) {
	v := loadWebhookVectors(t)[0]
	at := v.time(t)
	assert.NoError(t, VerifySignature(v.Secret, v.Header, []byte(v.Body), at, DefaultTolerance))
	assert.NoError(t, VerifySignature(v.Secret, v.Header, []byte(v.Body), at.Add(DefaultTolerance), DefaultTolerance))
	assertSignatureError(t, VerifySignature(v.Secret, v.Header, []byte(v.Body), time.Now(), DefaultTolerance), ErrSignatureExpired)
}

func TestVerifySignatureAcceptsEveryVector(t *testing.T) {
	for _, v := range loadWebhookVectors(t) {
		t.Run(v.Name, func(t *testing.T) {
			assert.NoError(t, VerifySignature(v.Secret, v.Header, []byte(v.Body), v.time(t), time.Minute))
		})
	}
}

func TestSignReproducesEveryVector(t *testing.T) {
	for _, v := range loadWebhookVectors(t) {
		t.Run(v.Name, func(t *testing.T) {
			assert.Equal(t, "t="+v.T+",s="+v.Signature, Sign(v.Secret, v.time(t), []byte(v.Body)))
		})
	}
}

func TestVerifySignatureRefusesAForgery(t *testing.T) {
	for _, v := range loadWebhookVectors(t) {
		err := VerifySignature(v.Secret+"0", v.Header, []byte(v.Body), v.time(t), DefaultTolerance)
		assertSignatureError(t, err, ErrSignatureMismatch)
		forged := Sign("another secret", v.time(t), []byte(v.Body))
		assertSignatureError(t, VerifySignature(v.Secret, forged, []byte(v.Body), v.time(t), DefaultTolerance), ErrSignatureMismatch)
	}
}

func TestVerifySignatureRefusesATimestampOutsideTheTolerance(t *testing.T) {
	body := []byte(`{"payment_id":"abc"}`)
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name      string
		signed    time.Time
		tolerance time.Duration
		ok        bool
	}{
		{"accepts a signature as old as the tolerance", now.Add(-time.Hour), time.Hour, true},
		{"accepts a signature as far ahead as the tolerance", now.Add(time.Hour), time.Hour, true},
		{"refuses a signature a millisecond too old", now.Add(-time.Hour - time.Millisecond), time.Hour, false},
		{"refuses a signature a millisecond too far in the future", now.Add(time.Hour + time.Millisecond), time.Hour, false},
		{"refuses one 73 hours old with the default tolerance", now.Add(-73 * time.Hour), DefaultTolerance, false},
		{"refuses one a year ahead with the default tolerance", now.AddDate(1, 0, 0), DefaultTolerance, false},
		{"accepts one at the epoch with a tolerance that reaches it", time.UnixMilli(0), time.Duration(math.MaxInt64), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := VerifySignature(webhookTestSecret, Sign(webhookTestSecret, tt.signed, body), body, now, tt.tolerance)
			if tt.ok {
				assert.NoError(t, err)
				return
			}
			assertSignatureError(t, err, ErrSignatureExpired)
		})
	}
	t.Run("says how far off the timestamp is", func(t *testing.T) {
		err := VerifySignature(webhookTestSecret, Sign(webhookTestSecret, now.Add(-73*time.Hour), body), body, now, DefaultTolerance)
		assert.ErrorContains(t, err, "signed 73h0m0s ago")
		err = VerifySignature(webhookTestSecret, Sign(webhookTestSecret, now.Add(2*time.Hour), body), body, now, time.Hour)
		assert.ErrorContains(t, err, "2h0m0s in the future")
	})
	t.Run("the extreme timestamps do not overflow", func(t *testing.T) {
		header := "t=9223372036854775807,s=" + base64.StdEncoding.EncodeToString(make([]byte, 32))
		assertSignatureError(t, VerifySignature(webhookTestSecret, header, body, now, time.Hour), ErrSignatureMismatch)
	})
}

func TestVerifySignatureRefusesAModifiedBody(t *testing.T) {
	v := loadWebhookVectors(t)[0]
	body := []byte(v.Body)
	t.Run("any one byte changed", func(t *testing.T) {
		for _, i := range []int{0, 1, len(body) / 2, len(body) - 1} {
			changed := bytes.Clone(body)
			changed[i] ^= 0x01
			assertSignatureError(t, VerifySignature(v.Secret, v.Header, changed, v.time(t), DefaultTolerance), ErrSignatureMismatch)
		}
	})
	t.Run("one byte more or less", func(t *testing.T) {
		assertSignatureError(t, VerifySignature(v.Secret, v.Header, append(bytes.Clone(body), '\n'), v.time(t), DefaultTolerance), ErrSignatureMismatch)
		assertSignatureError(t, VerifySignature(v.Secret, v.Header, body[:len(body)-1], v.time(t), DefaultTolerance), ErrSignatureMismatch)
	})
	t.Run("the same JSON re-encoded without the \\/ escapes", func(t *testing.T) {
		reencoded := bytes.ReplaceAll(body, []byte(`\/`), []byte(`/`))
		require.NotEqual(t, body, reencoded)
		var a, b any
		require.NoError(t, json.Unmarshal(body, &a))
		require.NoError(t, json.Unmarshal(reencoded, &b))
		require.Equal(t, a, b, "the same JSON value")
		assertSignatureError(t, VerifySignature(v.Secret, v.Header, reencoded, v.time(t), DefaultTolerance), ErrSignatureMismatch)
	})
}

func TestVerifySignatureHeaderVariants(t *testing.T) {
	body := []byte(`{"payment_id":"abc"}`)
	now := time.UnixMilli(1764633600000)
	good := strings.TrimPrefix(Sign(webhookTestSecret, now, body), "t=1764633600000,s=")
	wrong := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))
	tests := []struct {
		name, header string
		want         error // nil: accepted
	}{
		{"accepts t then s", "t=1764633600000,s=" + good, nil},
		{"accepts s then t", "s=" + good + ",t=1764633600000", nil},
		{"accepts whitespace around parts, keys and values", " t = 1764633600000 ,\ts=" + good + " ", nil},
		{"accepts any matching s among several (a change of secret)", "t=1764633600000,s=" + wrong + ",s=" + good, nil},
		{"accepts a matching s before a wrong one", "t=1764633600000,s=" + good + ",s=" + wrong, nil},
		{"ignores keys it does not know", "v1=whatever,t=1764633600000,s=" + good, nil},
		{"refuses when no s matches", "t=1764633600000,s=" + wrong + ",s=" + wrong, ErrSignatureMismatch},
		{"refuses another t for the same s", "t=1764633600001,s=" + good, ErrSignatureMismatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := VerifySignature(webhookTestSecret, tt.header, body, now, time.Minute)
			if tt.want == nil {
				assert.NoError(t, err)
				return
			}
			assertSignatureError(t, err, tt.want)
		})
	}
}

func TestVerifySignatureRefusesMalformedHeaders(t *testing.T) {
	v := loadWebhookVectors(t)[0]
	s := v.Signature
	// The same 32 bytes, spelled with non-zero padding bits: a lenient
	// decoder would take it for the documented signature.
	paddingBits := strings.TrimSuffix(s, "g=") + "h="
	lenient, err := base64.StdEncoding.DecodeString(paddingBits)
	require.NoError(t, err)
	canonical, _ := base64.StdEncoding.DecodeString(s)
	require.Equal(t, canonical, lenient)

	tests := []struct{ name, header string }{
		{"no t", "s=" + s},
		{"no s", "t=" + v.T},
		{"an empty t", "t=,s=" + s},
		{"an empty s", "t=" + v.T + ",s="},
		{"t twice, even the same", "t=" + v.T + ",t=" + v.T + ",s=" + s},
		{"t in seconds with a fraction", "t=1711965600.393,s=" + s},
		{"a negative t", "t=-1711965600393,s=" + s},
		{"a t with a plus sign", "t=+1711965600393,s=" + s},
		{"a t with a leading zero", "t=0" + v.T + ",s=" + s},
		{"a t as a date", "t=2024-04-01T10:00:00Z,s=" + s},
		{"a t beyond int64", "t=99999999999999999999,s=" + s},
		{"a t in hexadecimal", "t=0x18e99f2b389,s=" + s},
		{"semicolons instead of commas", "t=" + v.T + ";s=" + s},
		{"an empty part", "t=" + v.T + ",,s=" + s},
		{"a trailing comma", "t=" + v.T + ",s=" + s + ","},
		{"a part without '='", "t=" + v.T + ",s=" + s + ",v1"},
		{"a part with no key", "=x,t=" + v.T + ",s=" + s},
		{"an s that is not base64", "t=" + v.T + ",s=not base64!"},
		{"an s in hexadecimal", "t=" + v.T + ",s=1998e98e75e54ca43e04963ba5926acce8c380598c4896d3abf7f795e04a4dd8"},
		{"an s of URL-safe base64", "t=" + v.T + ",s=" + strings.NewReplacer("+", "-", "/", "_").Replace(s)},
		{"an s without padding", "t=" + v.T + ",s=" + strings.TrimSuffix(s, "=")},
		{"an s with non-zero padding bits", "t=" + v.T + ",s=" + paddingBits},
		{"an s with a newline inside", "t=" + v.T + ",s=" + s[:10] + "\n" + s[10:]},
		{"an s of 31 bytes", "t=" + v.T + ",s=" + base64.StdEncoding.EncodeToString(canonical[:31])},
		{"a bare signature", s},
		{"Stripe's format", "t=1711965600,v1=" + s},
		{"keys in upper case", "T=" + v.T + ",S=" + s},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := VerifySignature(v.Secret, tt.header, []byte(v.Body), v.time(t), DefaultTolerance)
			assertSignatureError(t, err, ErrSignatureMalformed)
			assert.NotContains(t, err.Error(), s[:8], "the header is not quoted")
		})
	}
}

func TestVerifySignatureRefusesAMissingHeader(t *testing.T) {
	for _, header := range []string{"", " ", "\t \t"} {
		assertSignatureError(t, VerifySignature(webhookTestSecret, header, []byte(`{}`), time.Now(), DefaultTolerance), ErrSignatureMissing)
	}
}

func TestVerifySignatureRefusesAnEmptySecret(t *testing.T) {
	body := []byte(`{"payment_id":"abc"}`)
	now := time.Now()
	for _, secret := range []string{"", " ", "\t\n"} {
		// Signed with that very secret: anyone could have.
		err := VerifySignature(secret, Sign(secret, now, body), body, now, DefaultTolerance)
		assertSignatureError(t, err, nil)
		assert.ErrorContains(t, err, "secret is empty")
	}
}

// Item 4 of issue 17: a tolerance of 0 used to leave the timestamp
// unchecked, so a genuine notification of any age passed.
func TestVerifySignatureRefusesAToleranceOfZeroOrLess(t *testing.T) {
	v := loadWebhookVectors(t)[0] // signed in 2024
	for _, tolerance := range []time.Duration{0, -time.Nanosecond, -time.Second, math.MinInt64} {
		for _, now := range []time.Time{v.time(t), time.Now()} {
			err := VerifySignature(v.Secret, v.Header, []byte(v.Body), now, tolerance)
			assertSignatureError(t, err, nil)
			assert.ErrorContains(t, err, "tolerance must be positive")
		}
	}
}

func TestSignatureErrorsHoldNeitherSecretNorSignature(t *testing.T) {
	v := loadWebhookVectors(t)[0]
	body := []byte(v.Body)
	at := v.time(t)
	headers := []string{
		"", "t=" + v.T, "t=x,s=" + v.Signature, "t=" + v.T + ",s=" + v.Signature + ",t=1",
		Sign(v.Secret, at.Add(-100*time.Hour), body), Sign(v.Secret, at.Add(100*time.Hour), body),
		Sign(v.Secret+"x", at, body),
	}
	for _, h := range headers {
		for _, b := range [][]byte{body, []byte("{}")} {
			err := VerifySignature(v.Secret, h, b, at, DefaultTolerance)
			require.Error(t, err)
			msg := fmt.Sprintf("%v %+v %#v", err, err, err)
			assert.NotContains(t, msg, v.Secret)
			assert.NotContains(t, msg, v.Signature)
			assert.NotContains(t, msg, Sign(v.Secret, at, b)[len("t=1711965600393,s="):], "the expected signature")
		}
	}
}
