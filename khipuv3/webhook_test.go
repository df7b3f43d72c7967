package khipuv3

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
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
	assert.NoError(t, VerifySignature(v.Secret, v.Header, []byte(v.Body), time.Now(), 0), "tolerance 0 leaves the timestamp unchecked")
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

func TestEveryRealWorldNotificationDecodes(t *testing.T) {
	docs := loadWebhookVectors(t)[0]
	want := map[string]struct {
		paymentID, amount, txID string
	}{
		"webhook3-khipudocs-1.json":        {"zfxnocsow6mz", "1000", "15f836bd-e8a7-4d12-b2f1-56403012b555"},
		"webhook3-flaskmerchantssm-1.json": {"ltoyxrpcwx8s", "5900", "c14d6d4f-34c8-4659-ac47-15c7ddcfa63b"},
		"webhook3-whatsappguide-1.json":    {"r6uqukroeqbp", "100", "6810baa4-feb2-4fdc-8585-dd9a128e1278"},
	}
	bodies := loadRealWorldWebhooks(t)
	require.Len(t, bodies, len(want))
	for name, body := range bodies {
		t.Run(name, func(t *testing.T) {
			var n *Notification
			var err error
			if name == "webhook3-khipudocs-1.json" {
				// Khipu's own signature, with the vector's secret and t.
				require.Equal(t, docs.Body, string(body))
				r := httptest.NewRequest(http.MethodPost, "/khipu/notify", bytes.NewReader(body))
				r.Header.Set(SignatureHeader, "t="+docs.T+",s="+docs.Signature)
				n, err = parseNotification(docs.Secret, r, docs.time(t).Add(time.Minute), DefaultTolerance)
			} else {
				n, err = ParseNotification(webhookTestSecret, signedNotificationRequest(webhookTestSecret, time.Now(), body))
			}
			require.NoError(t, err)
			w := want[name]
			assert.Equal(t, w.paymentID, n.PaymentID)
			assert.Equal(t, khipu.MustParseAmount(w.amount), n.Amount)
			assert.True(t, n.Discount.IsZero())
			assert.Equal(t, "CLP", n.Currency)
			assert.Equal(t, w.txID, n.TransactionID)
			assert.Equal(t, khipu.PaymentMethodSimplifiedTransfer, n.PaymentMethod, "upper case SIMPLIFIED_TRANSFER included")
			assert.Equal(t, "DemoBank", n.Bank)
			assert.False(t, n.ConciliationDate.IsZero())
			assert.Equal(t, body, []byte(n.Raw), "Raw is the body as received")
			assert.NoError(t, n.Check(w.txID, khipu.MustParseAmount(w.amount), "clp"))
		})
	}
}

func TestKhipusDocumentedExampleDecodesEveryField(t *testing.T) {
	v := loadWebhookVectors(t)[0]
	var n Notification
	require.NoError(t, json.Unmarshal([]byte(v.Body), &n))
	assert.Equal(t, Notification{
		PaymentID:             "zfxnocsow6mz",
		ReceiverID:            "990939",
		Subject:               "TEST_COBRO",
		Amount:                khipu.NewAmount(1000),
		Discount:              khipu.Amount{},
		Currency:              "CLP",
		ReceiptURL:            "https://s3.amazonaws.com/staging.notifications.khipu.com/CPKH-1804240956-zfxnocsow6mz.pdf",
		Bank:                  "DemoBank",
		BankID:                "Bawdf",
		PayerName:             "Cobrador de desarrollo #990.939",
		PayerEmail:            "test@khipu.com",
		PersonalIdentifier:    "44.444.444-4",
		BankAccountNumber:     "000000000000444444444",
		OutOfDateConciliation: false,
		TransactionID:         "15f836bd-e8a7-4d12-b2f1-56403012b555",
		ResponsibleUserEmail:  "test@khipu.com",
		PaymentMethod:         khipu.PaymentMethodSimplifiedTransfer,
		ConciliationDate:      time.Date(2024, 4, 18, 13, 56, 54, 859e6, time.UTC),
		Raw:                   json.RawMessage(v.Body),
	}, n)
}

func TestNotificationUnmarshalJSON(t *testing.T) {
	t.Run("keeps its own copy of the bytes in Raw", func(t *testing.T) {
		body := []byte(`{"payment_id":"abc","amount":"19.9900","currency":"USD","extra":{"x":1}}`)
		var n Notification
		require.NoError(t, json.Unmarshal(body, &n))
		assert.Equal(t, string(body), string(n.Raw))
		body[2] = 'X'
		assert.Equal(t, byte('p'), n.Raw[2])
		assert.Equal(t, khipu.MustParseAmount("19.99"), n.Amount)
	})
	t.Run("refuses what is not a notification", func(t *testing.T) {
		for _, body := range []string{`null`, `[]`, `"payment_id"`, `{}`, `{"payment_id":""}`, `{"payment_id":null}`,
			`{"payment_id":7}`, `{"payment_id":"a","amount":true}`, `{"payment_id":"a","currency":1}`} {
			var n Notification
			assert.Error(t, json.Unmarshal([]byte(body), &n), body)
		}
	})
	t.Run("tolerates odd values where nothing is decided", func(t *testing.T) {
		var n Notification
		require.NoError(t, json.Unmarshal([]byte(`{"payment_id":"a","out_of_date_conciliation":"true","conciliation_date":5,"discount":"n/a","payment_method":"WEBPAY_PSP","unknown":[1]}`), &n))
		assert.True(t, n.OutOfDateConciliation)
		assert.True(t, n.ConciliationDate.IsZero())
		assert.True(t, n.Discount.IsZero())
		assert.Equal(t, khipu.PaymentMethodWebpayPSP, n.PaymentMethod)
	})
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
		{"accepts one at the epoch with tolerance 0", time.UnixMilli(0), 0, true},
		{"accepts one far ahead with tolerance 0", now.AddDate(100, 0, 0), 0, true},
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
			assertSignatureError(t, VerifySignature(v.Secret, v.Header, changed, v.time(t), 0), ErrSignatureMismatch)
		}
	})
	t.Run("one byte more or less", func(t *testing.T) {
		assertSignatureError(t, VerifySignature(v.Secret, v.Header, append(bytes.Clone(body), '\n'), v.time(t), 0), ErrSignatureMismatch)
		assertSignatureError(t, VerifySignature(v.Secret, v.Header, body[:len(body)-1], v.time(t), 0), ErrSignatureMismatch)
	})
	t.Run("the same JSON re-encoded without the \\/ escapes", func(t *testing.T) {
		reencoded := bytes.ReplaceAll(body, []byte(`\/`), []byte(`/`))
		require.NotEqual(t, body, reencoded)
		var a, b any
		require.NoError(t, json.Unmarshal(body, &a))
		require.NoError(t, json.Unmarshal(reencoded, &b))
		require.Equal(t, a, b, "the same JSON value")
		assertSignatureError(t, VerifySignature(v.Secret, v.Header, reencoded, v.time(t), 0), ErrSignatureMismatch)
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
			err := VerifySignature(v.Secret, tt.header, []byte(v.Body), v.time(t), 0)
			assertSignatureError(t, err, ErrSignatureMalformed)
			assert.NotContains(t, err.Error(), s[:8], "the header is not quoted")
		})
	}
}

func TestVerifySignatureRefusesAMissingHeader(t *testing.T) {
	for _, header := range []string{"", " ", "\t \t"} {
		assertSignatureError(t, VerifySignature(webhookTestSecret, header, []byte(`{}`), time.Now(), 0), ErrSignatureMissing)
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

func TestVerifySignatureRefusesANegativeTolerance(t *testing.T) {
	body := []byte(`{"payment_id":"abc"}`)
	now := time.Now()
	err := VerifySignature(webhookTestSecret, Sign(webhookTestSecret, now, body), body, now, -time.Second)
	assertSignatureError(t, err, nil)
	assert.ErrorContains(t, err, "negative tolerance")
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

func TestParseNotification(t *testing.T) {
	const maxBody = 1 << 20
	padded := func(size int) []byte {
		head := `{"payment_id":"abc","pad":"`
		return []byte(head + strings.Repeat("x", size-len(head)-2) + `"}`)
	}
	tests := []struct {
		name   string
		method string
		body   []byte
		want   error // nil: accepted
	}{
		{"accepts a signed notification", http.MethodPost, []byte(`{"payment_id":"abc","amount":"10.00","currency":"CLP"}`), nil},
		{"accepts a body of exactly 1 MiB", http.MethodPost, padded(maxBody), nil},
		{"refuses a body of 1 MiB and one byte, signed or not", http.MethodPost, padded(maxBody + 1), khipu.ErrInvalidNotification},
		{"refuses a GET", http.MethodGet, []byte(`{"payment_id":"abc"}`), khipu.ErrInvalidNotification},
		{"refuses a PUT", http.MethodPut, []byte(`{"payment_id":"abc"}`), khipu.ErrInvalidNotification},
		{"refuses an empty body", http.MethodPost, nil, khipu.ErrInvalidNotification},
		{"refuses JSON null", http.MethodPost, []byte(`null`), khipu.ErrInvalidNotification},
		{"refuses a JSON list", http.MethodPost, []byte(`[{"payment_id":"abc"}]`), khipu.ErrInvalidNotification},
		{"refuses a JSON string", http.MethodPost, []byte(`"abc"`), khipu.ErrInvalidNotification},
		{"refuses a form", http.MethodPost, []byte(`api_version=1.3&notification_token=abc`), khipu.ErrInvalidNotification},
		{"refuses an object without payment_id", http.MethodPost, []byte(`{"amount":"10.00"}`), khipu.ErrInvalidNotification},
		{"refuses an empty payment_id", http.MethodPost, []byte(`{"payment_id":""}`), khipu.ErrInvalidNotification},
		{"refuses a payment_id of the wrong type", http.MethodPost, []byte(`{"payment_id":["abc"]}`), khipu.ErrInvalidNotification},
		{"refuses an amount of the wrong type", http.MethodPost, []byte(`{"payment_id":"abc","amount":{"value":1}}`), khipu.ErrInvalidNotification},
		{"refuses truncated JSON", http.MethodPost, []byte(`{"payment_id":"abc"`), khipu.ErrInvalidNotification},
		{"refuses an object followed by more", http.MethodPost, []byte(`{"payment_id":"abc"}{"payment_id":"def"}`), khipu.ErrInvalidNotification},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := signedNotificationRequest(webhookTestSecret, time.Now(), tt.body)
			r.Method = tt.method
			n, err := ParseNotification(webhookTestSecret, r)
			if tt.want == nil {
				require.NoError(t, err)
				assert.Equal(t, "abc", n.PaymentID)
				assert.Equal(t, tt.body, []byte(n.Raw))
				again, err := io.ReadAll(r.Body)
				require.NoError(t, err)
				assert.Equal(t, tt.body, again, "r.Body can be read again")
				return
			}
			assert.Nil(t, n)
			assert.ErrorIs(t, err, tt.want)
			assert.NotErrorIs(t, err, ErrInvalidSignature)
			assert.NotContains(t, err.Error(), "payment_id\":", "the body is not quoted")
		})
	}
}

func TestParseNotificationRefusesBadSignatures(t *testing.T) {
	body := []byte(`{"payment_id":"abc"}`)
	now := time.Now()
	tests := []struct {
		name   string
		secret string
		header []string
		want   error
	}{
		{"refuses a missing header", webhookTestSecret, nil, ErrSignatureMissing},
		{"refuses a forged header", webhookTestSecret, []string{Sign("forger", now, body)}, ErrSignatureMismatch},
		{"refuses a header 73 hours old", webhookTestSecret, []string{Sign(webhookTestSecret, now.Add(-73*time.Hour), body)}, ErrSignatureExpired},
		{"refuses a header 73 hours ahead", webhookTestSecret, []string{Sign(webhookTestSecret, now.Add(73*time.Hour), body)}, ErrSignatureExpired},
		{"refuses a malformed header", webhookTestSecret, []string{"t=now"}, ErrSignatureMalformed},
		{"refuses an empty secret", "", []string{Sign("", now, body)}, nil},
		{"refuses a blank secret", "  ", []string{Sign("  ", now, body)}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/khipu/notify", bytes.NewReader(body))
			for _, h := range tt.header {
				r.Header.Add(SignatureHeader, h)
			}
			n, err := ParseNotification(tt.secret, r)
			assert.Nil(t, n)
			assertSignatureError(t, err, tt.want)
		})
	}
}

func TestParseNotificationReadsTheHeaderInAnyCaseAndOverSeveralLines(t *testing.T) {
	body := []byte(`{"payment_id":"abc"}`)
	header := Sign(webhookTestSecret, time.Now(), body)
	t.Run("X-Khipu-Signature", func(t *testing.T) {
		r := httptest.NewRequest(http.MethodPost, "/khipu/notify", bytes.NewReader(body))
		r.Header["X-Khipu-Signature"] = []string{header}
		_, err := ParseNotification(webhookTestSecret, r)
		assert.NoError(t, err)
	})
	t.Run("t and s on two lines", func(t *testing.T) {
		tPart, sPart, _ := strings.Cut(header, ",")
		r := httptest.NewRequest(http.MethodPost, "/khipu/notify", bytes.NewReader(body))
		r.Header.Add(SignatureHeader, sPart)
		r.Header.Add(SignatureHeader, tPart)
		_, err := ParseNotification(webhookTestSecret, r)
		assert.NoError(t, err)
	})
}

func TestParseNotificationRefusesANilRequestOrBody(t *testing.T) {
	n, err := ParseNotification(webhookTestSecret, nil)
	assert.Nil(t, n)
	assert.ErrorIs(t, err, khipu.ErrInvalidNotification)

	r := &http.Request{Method: http.MethodPost, Header: http.Header{}}
	r.Header.Set(SignatureHeader, Sign(webhookTestSecret, time.Now(), nil))
	n, err = ParseNotification(webhookTestSecret, r)
	assert.Nil(t, n)
	assert.ErrorIs(t, err, khipu.ErrInvalidNotification)
	assert.ErrorContains(t, err, "not a JSON object")
}

// cutBodyReader fails after its first bytes, as a connection cut mid-body.
type cutBodyReader struct{ sent bool }

func (f *cutBodyReader) Read(p []byte) (int, error) {
	if f.sent {
		return 0, errors.New("connection reset")
	}
	f.sent = true
	return copy(p, `{"payment_id":`), nil
}

func TestParseNotificationRefusesABodyCutShort(t *testing.T) {
	r := httptest.NewRequest(http.MethodPost, "/khipu/notify", &cutBodyReader{})
	r.Header.Set(SignatureHeader, Sign(webhookTestSecret, time.Now(), []byte(`{"payment_id":"abc"}`)))
	_, err := ParseNotification(webhookTestSecret, r)
	assert.ErrorIs(t, err, khipu.ErrInvalidNotification)
	assert.ErrorContains(t, err, "connection reset")
}

func TestParseNotificationAcceptsAByteIdenticalRedelivery(t *testing.T) {
	v := loadWebhookVectors(t)[0]
	for range 3 {
		r := httptest.NewRequest(http.MethodPost, "/khipu/notify", strings.NewReader(v.Body))
		r.Header.Set(SignatureHeader, v.Header)
		n, err := parseNotification(v.Secret, r, v.time(t), DefaultTolerance)
		require.NoError(t, err)
		assert.Equal(t, "zfxnocsow6mz", n.PaymentID)
	}
}

func TestVerifySignatureThenUnmarshalIsParseNotification(t *testing.T) {
	for name, body := range loadRealWorldWebhooks(t) {
		now := time.Now()
		header := Sign(webhookTestSecret, now, body)
		require.NoError(t, VerifySignature(webhookTestSecret, header, body, now, DefaultTolerance), name)
		var viaJSON Notification
		require.NoError(t, json.Unmarshal(body, &viaJSON), name)
		parsed, err := ParseNotification(webhookTestSecret, signedNotificationRequest(webhookTestSecret, now, body))
		require.NoError(t, err, name)
		assert.Equal(t, body, []byte(parsed.Raw), name)
		// json.Unmarshal trims the whitespace around the object.
		assert.Equal(t, bytes.TrimSpace(body), []byte(viaJSON.Raw), name)
		parsed.Raw, viaJSON.Raw = nil, nil
		assert.Equal(t, *parsed, viaJSON, name)
	}
}

func TestNotificationCheck(t *testing.T) {
	decode := func(body string) *Notification {
		var n Notification
		require.NoError(t, json.Unmarshal([]byte(body), &n))
		return &n
	}
	paid := decode(`{"payment_id":"p1","transaction_id":"order-7","amount":"19.9900","currency":"USD"}`)
	tests := []struct {
		name          string
		n             *Notification
		txID, amount  string
		currency      string
		wantMismatchs []string // the fields at fault; none: nil
	}{
		{"passes the order it pays", paid, "order-7", "19.99", "USD", nil},
		{"compares currencies without regard to case", paid, "order-7", "19.99", "usd", nil},
		{"refuses another transaction id", paid, "order-8", "19.99", "USD", []string{"transaction_id"}},
		{"refuses another amount", paid, "order-7", "19.98", "USD", []string{"amount"}},
		{"refuses another currency", paid, "order-7", "19.99", "CLP", []string{"currency"}},
		{"refuses an empty expected currency", paid, "order-7", "19.99", "", []string{"currency"}},
		{"names every difference", paid, "order-8", "20", "CLP", []string{"transaction_id", "amount", "currency"}},
		{"refuses a notification with another status, should Khipu send one",
			decode(`{"payment_id":"p1","status":"pending","transaction_id":"order-7","amount":"19.99","currency":"USD"}`), "order-7", "19.99", "USD", []string{"status"}},
		{"refuses a notification of a reversed payment, should Khipu send one",
			decode(`{"payment_id":"p1","status":"done","status_detail":"reversed","transaction_id":"order-7","amount":"19.99","currency":"USD"}`), "order-7", "19.99", "USD", []string{"status_detail"}},
		{"passes a notification that says it is done",
			decode(`{"payment_id":"p1","status":"DONE","status_detail":"normal","transaction_id":"order-7","amount":"19.99","currency":"USD"}`), "order-7", "19.99", "USD", nil},
		{"refuses nil", nil, "order-7", "19.99", "USD", []string{"notification"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.n.Check(tt.txID, khipu.MustParseAmount(tt.amount), tt.currency)
			if tt.wantMismatchs == nil {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			errs := []error{err}
			if joined, ok := err.(interface{ Unwrap() []error }); ok {
				errs = joined.Unwrap()
			}
			var fields []string
			for _, e := range errs {
				var me *khipu.MismatchError
				require.ErrorAs(t, e, &me)
				fields = append(fields, me.Field)
			}
			assert.Equal(t, tt.wantMismatchs, fields)
		})
	}
}

// webhookLogBuffer is a log destination written by server goroutines and read
// by the test.
type webhookLogBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *webhookLogBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *webhookLogBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// webhookServer serves h over real HTTP and returns its notify URL.
func webhookServer(t *testing.T, h http.Handler) string {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // a panicking fn is expected in one test
	srv.Start()
	t.Cleanup(srv.Close)
	return srv.URL + "/khipu/notify"
}

// postNotification sends body with the signature header (none if empty) and returns
// the answer's status and header.
func postNotification(method, url, header string, body []byte) (int, http.Header, error) {
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if header != "" {
		req.Header.Set(SignatureHeader, header)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, resp.Header, nil
}

// deliverNotification is postNotification for the test's own goroutine.
func deliverNotification(t *testing.T, method, url, header string, body []byte) (int, http.Header) {
	t.Helper()
	status, h, err := postNotification(method, url, header, body)
	require.NoError(t, err)
	return status, h
}

func TestNotificationHandlerAnswers(t *testing.T) {
	body, err := os.ReadFile("../testdata/realworld/webhook3-flaskmerchantssm-1.json")
	require.NoError(t, err)
	now := time.Now()
	received := make(chan *Notification, 10)
	fn := func(ctx context.Context, n *Notification) error {
		received <- n
		if n.TransactionID == "fail" {
			return errors.New("database down")
		}
		return nil
	}
	url := webhookServer(t, NotificationHandler(webhookTestSecret, fn, WithHandlerLogger(slog.New(slog.DiscardHandler))))
	failing := []byte(`{"payment_id":"p2","transaction_id":"fail","amount":"1","currency":"CLP"}`)

	tests := []struct {
		name   string
		method string
		header string
		body   []byte
		status int
		called bool
	}{
		{"200 when fn returns nil", http.MethodPost, Sign(webhookTestSecret, now, body), body, http.StatusOK, true},
		{"200 again for the same notification redelivered", http.MethodPost, Sign(webhookTestSecret, now, body), body, http.StatusOK, true},
		{"500 when fn returns an error, so that Khipu retries", http.MethodPost, Sign(webhookTestSecret, now, failing), failing, http.StatusInternalServerError, true},
		{"405 to a GET", http.MethodGet, Sign(webhookTestSecret, now, nil), nil, http.StatusMethodNotAllowed, false},
		{"405 to a PUT", http.MethodPut, Sign(webhookTestSecret, now, body), body, http.StatusMethodNotAllowed, false},
		{"400 unsigned", http.MethodPost, "", body, http.StatusBadRequest, false},
		{"400 forged", http.MethodPost, Sign("forger", now, body), body, http.StatusBadRequest, false},
		{"400 stale", http.MethodPost, Sign(webhookTestSecret, now.Add(-73*time.Hour), body), body, http.StatusBadRequest, false},
		{"400 from the future", http.MethodPost, Sign(webhookTestSecret, now.Add(73*time.Hour), body), body, http.StatusBadRequest, false},
		{"400 malformed", http.MethodPost, "t=yesterday,s=abc", body, http.StatusBadRequest, false},
		{"400 signed but not a notification", http.MethodPost, Sign(webhookTestSecret, now, []byte(`{"amount":1}`)), []byte(`{"amount":1}`), http.StatusBadRequest, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, header := deliverNotification(t, tt.method, url, tt.header, tt.body)
			assert.Equal(t, tt.status, status)
			if status == http.StatusMethodNotAllowed {
				assert.Equal(t, "POST", header.Get("Allow"))
			}
			select {
			case n := <-received:
				assert.True(t, tt.called, "fn was called")
				assert.Equal(t, tt.body, []byte(n.Raw))
			default:
				assert.False(t, tt.called, "fn was not called")
			}
		})
	}
}

func TestNotificationHandlerWithToleranceZeroAcceptsAnOldNotification(t *testing.T) {
	v := loadWebhookVectors(t)[0] // signed in 2024
	called := make(chan string, 1)
	fn := func(_ context.Context, n *Notification) error { called <- n.PaymentID; return nil }
	quiet := WithHandlerLogger(slog.New(slog.DiscardHandler))

	status, _ := deliverNotification(t, http.MethodPost, webhookServer(t, NotificationHandler(v.Secret, fn, quiet)), v.Header, []byte(v.Body))
	assert.Equal(t, http.StatusBadRequest, status, "DefaultTolerance")

	status, _ = deliverNotification(t, http.MethodPost, webhookServer(t, NotificationHandler(v.Secret, fn, quiet, WithTolerance(0))), v.Header, []byte(v.Body))
	assert.Equal(t, http.StatusOK, status)
	assert.Equal(t, "zfxnocsow6mz", <-called)
}

func TestNotificationHandlerRefusesABodyOverOneMiB(t *testing.T) {
	var called atomic.Bool
	fn := func(context.Context, *Notification) error { called.Store(true); return nil }
	url := webhookServer(t, NotificationHandler(webhookTestSecret, fn, WithHandlerLogger(slog.New(slog.DiscardHandler))))
	head := `{"payment_id":"abc","pad":"`
	body := []byte(head + strings.Repeat("x", 1<<20+1-len(head)-2) + `"}`)
	require.Len(t, body, 1<<20+1)
	status, _ := deliverNotification(t, http.MethodPost, url, Sign(webhookTestSecret, time.Now(), body), body)
	assert.Equal(t, http.StatusBadRequest, status)
	assert.False(t, called.Load())
}

func TestNotificationHandlerGivesFnA20SecondContext(t *testing.T) {
	deadlines := make(chan time.Duration, 1)
	fn := func(ctx context.Context, n *Notification) error {
		d, ok := ctx.Deadline()
		if !ok {
			d = time.Time{} // fails the check below
		}
		deadlines <- time.Until(d)
		return nil
	}
	body := []byte(`{"payment_id":"abc"}`)
	status, _ := deliverNotification(t, http.MethodPost, webhookServer(t, NotificationHandler(webhookTestSecret, fn)), Sign(webhookTestSecret, time.Now(), body), body)
	require.Equal(t, http.StatusOK, status)
	d := <-deadlines
	assert.True(t, d > 15*time.Second && d <= 20*time.Second, "deadline in %v", d)
}

func TestNotificationHandlerLogsRefusalsAndFailures(t *testing.T) {
	v := loadWebhookVectors(t)[0]
	var logs webhookLogBuffer
	fn := func(context.Context, *Notification) error { return errors.New("stock service unavailable") }
	url := webhookServer(t, NotificationHandler(v.Secret, fn, WithTolerance(0), WithHandlerLogger(slog.New(slog.NewTextHandler(&logs, nil)))))
	body := []byte(v.Body)
	forged := Sign("forger", v.time(t), body)

	for _, d := range []struct {
		method, header string
		status         int
	}{
		{http.MethodGet, "", http.StatusMethodNotAllowed},
		{http.MethodPost, "", http.StatusBadRequest},
		{http.MethodPost, forged, http.StatusBadRequest},
		{http.MethodPost, "t=" + v.T + ",s=" + v.Signature + ",t=1", http.StatusBadRequest},
		{http.MethodPost, v.Header, http.StatusInternalServerError},
	} {
		status, _ := deliverNotification(t, d.method, url, d.header, body)
		require.Equal(t, d.status, status)
	}
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	require.Len(t, lines, 5, logs.String())
	for i, want := range []string{"status=405", ErrSignatureMissing.Error(), ErrSignatureMismatch.Error(), ErrSignatureMalformed.Error()} {
		assert.Contains(t, lines[i], "level=WARN")
		assert.Contains(t, lines[i], "khipu notification refused")
		assert.Contains(t, lines[i], want)
	}
	assert.Contains(t, lines[4], "level=ERROR")
	assert.Contains(t, lines[4], "payment_id=zfxnocsow6mz")
	assert.Contains(t, lines[4], "stock service unavailable")

	all := logs.String()
	for _, secret := range []string{v.Secret, v.Signature, strings.TrimPrefix(forged, "t="+v.T+",s="), "TEST_COBRO", "test@khipu.com", "44.444.444-4", `"payment_id"`} {
		assert.NotContains(t, all, secret)
	}
}

func TestNotificationHandlerLogsToSlogDefaultWithoutAnOption(t *testing.T) {
	var logs webhookLogBuffer
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&logs, nil)))
	t.Cleanup(func() { slog.SetDefault(prev) })

	h := NotificationHandler(webhookTestSecret, func(context.Context, *Notification) error { return nil }, WithHandlerLogger(nil))
	status, _ := deliverNotification(t, http.MethodPost, webhookServer(t, h), "t=1", []byte(`{}`))
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Contains(t, logs.String(), "khipu notification refused")
}

func TestNotificationHandlerRunsOneDeliveryPerPaymentAtATime(t *testing.T) {
	var (
		mu      sync.Mutex
		running = map[string]int{}
		maxRun  = map[string]int{}
		calls   = map[string]int{}
	)
	// The first delivery of each payment waits inside fn until the other
	// payment's first delivery is inside too: it proves that different
	// payments run in parallel (a handler that ran one delivery at a time
	// overall would answer 500 after the timeout).
	arrived := map[string]chan struct{}{"pay-a": make(chan struct{}), "pay-b": make(chan struct{})}
	other := map[string]string{"pay-a": "pay-b", "pay-b": "pay-a"}
	fn := func(ctx context.Context, n *Notification) error {
		id := n.PaymentID
		mu.Lock()
		running[id]++
		maxRun[id] = max(maxRun[id], running[id])
		calls[id]++
		first := calls[id] == 1
		mu.Unlock()
		defer func() {
			mu.Lock()
			running[id]--
			mu.Unlock()
		}()
		if first {
			close(arrived[id])
			select {
			case <-arrived[other[id]]:
			case <-time.After(5 * time.Second):
				return errors.New("the other payment never ran alongside")
			}
		}
		time.Sleep(5 * time.Millisecond) // long enough for a second delivery of the same id to overlap
		return nil
	}
	h := NotificationHandler(webhookTestSecret, fn)
	url := webhookServer(t, h)

	const perPayment = 8
	var wg sync.WaitGroup
	statuses := make(chan int, 2*perPayment)
	for _, id := range []string{"pay-a", "pay-b"} {
		body := []byte(`{"payment_id":"` + id + `"}`)
		header := Sign(webhookTestSecret, time.Now(), body)
		for range perPayment {
			wg.Add(1)
			go func() {
				defer wg.Done()
				req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
				req.Header.Set(SignatureHeader, header)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					statuses <- 0
					return
				}
				resp.Body.Close()
				statuses <- resp.StatusCode
			}()
		}
	}
	wg.Wait()
	close(statuses)
	for s := range statuses {
		assert.Equal(t, http.StatusOK, s)
	}
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, map[string]int{"pay-a": 1, "pay-b": 1}, maxRun, "one delivery per payment at a time")
	assert.Equal(t, map[string]int{"pay-a": perPayment, "pay-b": perPayment}, calls, "every delivery reached fn")
	assertNoPaymentLocks(t, h)
}

// assertNoPaymentLocks checks that the handler keeps no entry for a
// payment id no delivery is using.
func assertNoPaymentLocks(t *testing.T, h http.Handler) {
	t.Helper()
	wh := h.(*webhookHandler)
	wh.mu.Lock()
	defer wh.mu.Unlock()
	assert.Empty(t, wh.locks)
}

func TestAPanickingFnDoesNotLockItsPayment(t *testing.T) {
	var mu sync.Mutex
	calls := 0
	fn := func(context.Context, *Notification) error {
		mu.Lock()
		calls++
		n := calls
		mu.Unlock()
		if n == 1 {
			panic("bug in the shop")
		}
		return nil
	}
	h := NotificationHandler(webhookTestSecret, fn)
	url := webhookServer(t, h)
	body := []byte(`{"payment_id":"abc"}`)
	header := Sign(webhookTestSecret, time.Now(), body)

	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	req.Header.Set(SignatureHeader, header)
	_, err := http.DefaultClient.Do(req)
	require.Error(t, err, "net/http drops the connection of a panicking handler")

	done := make(chan int)
	go func() {
		status, _, _ := postNotification(http.MethodPost, url, header, body)
		done <- status
	}()
	select {
	case status := <-done:
		assert.Equal(t, http.StatusOK, status)
	case <-time.After(5 * time.Second):
		t.Fatal("the payment id stayed locked after fn panicked")
	}
	assertNoPaymentLocks(t, h)
}

func TestADeliveryWaitingForItsPaymentGivesUpWithItsContext(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	fn := func(context.Context, *Notification) error {
		close(entered)
		<-release
		return nil
	}
	var logs webhookLogBuffer
	h := NotificationHandler(webhookTestSecret, fn, WithHandlerLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	body := []byte(`{"payment_id":"abc"}`)
	header := Sign(webhookTestSecret, time.Now(), body)

	first := make(chan int)
	go func() {
		r := httptest.NewRequest(http.MethodPost, "/khipu/notify", bytes.NewReader(body))
		r.Header.Set(SignatureHeader, header)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		first <- w.Code
	}()
	<-entered

	ctx, cancel := context.WithCancel(context.Background())
	cancel() // Khipu hung up while the delivery waited
	r := httptest.NewRequest(http.MethodPost, "/khipu/notify", bytes.NewReader(body)).WithContext(ctx)
	r.Header.Set(SignatureHeader, header)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	assert.Equal(t, http.StatusServiceUnavailable, w.Code)
	assert.Contains(t, logs.String(), "level=ERROR")
	assert.Contains(t, logs.String(), "context canceled")

	wh := h.(*webhookHandler)
	wh.mu.Lock()
	assert.Equal(t, 1, wh.locks["abc"].users, "only the first delivery still uses the payment id")
	wh.mu.Unlock()

	close(release)
	assert.Equal(t, http.StatusOK, <-first)
	assertNoPaymentLocks(t, h)
}

func TestNotificationHandlerPanicsWhenMisconfigured(t *testing.T) {
	fn := func(context.Context, *Notification) error { return nil }
	assert.PanicsWithValue(t, "khipuv3: NotificationHandler needs the secret notifications are signed with", func() { NotificationHandler("", fn) })
	assert.Panics(t, func() { NotificationHandler(" \t", fn) })
	assert.Panics(t, func() { NotificationHandler(webhookTestSecret, nil) })
	assert.Panics(t, func() { WithTolerance(-time.Nanosecond) })
	assert.NotPanics(t, func() { NotificationHandler(webhookTestSecret, fn, nil, WithTolerance(0)) })
}

func TestNotificationHandlerNeverPrintsItsSecret(t *testing.T) {
	h := NotificationHandler(webhookTestSecret, func(context.Context, *Notification) error { return nil })
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X"} {
		out := fmt.Sprintf(verb, h)
		assert.NotContains(t, out, webhookTestSecret, verb)
		assert.NotContains(t, strings.ToLower(out), fmt.Sprintf("%x", webhookTestSecret), verb)
	}
	var logs webhookLogBuffer
	slog.New(slog.NewTextHandler(&logs, nil)).Info("handler", "h", h)
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("handler", "h", h)
	assert.NotContains(t, logs.String(), webhookTestSecret)
}

func TestAPaymentThatDoesNotMatchTheOrderIsLoggedAndAnswered200(t *testing.T) {
	// fn returning Check's error is the natural code; a retry would not
	// change the payment, so Khipu is told 200 and the shop's log says why.
	var logs webhookLogBuffer
	fn := func(ctx context.Context, n *Notification) error {
		return n.Check("order-1", khipu.NewAmount(1000), "CLP")
	}
	url := webhookServer(t, NotificationHandler(webhookTestSecret, fn, WithHandlerLogger(slog.New(slog.NewTextHandler(&logs, nil)))))
	body := []byte(`{"payment_id":"p9","transaction_id":"order-1","amount":"999.0000","currency":"CLP"}`)
	status, _ := deliverNotification(t, http.MethodPost, url, Sign(webhookTestSecret, time.Now(), body), body)
	assert.Equal(t, http.StatusOK, status)
	assert.Contains(t, logs.String(), "level=WARN")
	assert.Contains(t, logs.String(), "does not match the order")
	assert.Contains(t, logs.String(), "payment_id=p9")
	assert.Contains(t, logs.String(), "amount")
}

func TestNoPrinterShowsTheWebhookSecretOfAHandlerValue(t *testing.T) {
	h := NotificationHandler(webhookTestSecret, func(context.Context, *Notification) error { return nil }).(*webhookHandler)
	// The handler's fields as a printer that ignores its Format method
	// (testify's diffs, spew) would reach them: by reflection.
	fields := reflect.ValueOf(h).Elem()
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x"} {
		out := fmt.Sprintf(verb, fields.FieldByName("secret"))
		assert.NotContains(t, out, webhookTestSecret, verb)
		assert.NotContains(t, out, fmt.Sprintf("%x", webhookTestSecret), verb)
	}
}
