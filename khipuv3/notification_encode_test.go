package khipuv3_test

import (
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/khipu-go/khipu"
	"github.com/khipu-go/khipu/khipuv3"
)

// docNotification reads Khipu's documented notification 3.0, the first of
// ../testdata/webhook-vectors.json: its exact bytes, secret, t and header.
func docNotification(t testing.TB) (body []byte, secret string, ms int64, header string) {
	t.Helper()
	raw, err := os.ReadFile("../testdata/webhook-vectors.json")
	require.NoError(t, err)
	var file struct {
		Vectors []struct{ Name, Secret, T, Body, Header string }
	}
	require.NoError(t, json.Unmarshal(raw, &file))
	require.NotEmpty(t, file.Vectors)
	v := file.Vectors[0]
	require.Equal(t, "khipu-doc-example", v.Name)
	var n json.Number = json.Number(v.T)
	ms, err = n.Int64()
	require.NoError(t, err)
	return []byte(v.Body), v.Secret, ms, v.Header
}

// Khipu's documented notification, decoded and encoded again, is the same
// bytes, and so carries the same signature: field order, "\/" escapes,
// "1000.0000" amounts, a numeric receiver_id and millisecond dates are all
// Khipu's.
func TestMarshalNotificationWritesKhipusDocumentedBodyByteForByte(t *testing.T) {
	body, secret, ms, header := docNotification(t)
	var n khipuv3.Notification
	require.NoError(t, json.Unmarshal(body, &n))

	got, err := khipuv3.MarshalNotification(&n)
	require.NoError(t, err)
	assert.Equal(t, string(body), string(got))
	assert.Equal(t, header, khipuv3.Sign(secret, time.UnixMilli(ms), got))
}

func TestMarshalNotificationOfAFreshNotification(t *testing.T) {
	n := &khipuv3.Notification{
		PaymentID: "abc123", ReceiverID: "12345", Subject: "Café <b>&</b> / más 😀",
		Amount: khipu.MustParseAmount("19.99"), Currency: "USD", TransactionID: "order-7",
		PaymentMethod:    khipu.PaymentMethodSimplifiedTransfer,
		ConciliationDate: time.Date(2026, 3, 9, 2, 22, 27, 266_900_000, time.FixedZone("CLT", -3*3600)),
	}
	got, err := khipuv3.MarshalNotification(n)
	require.NoError(t, err)
	assert.Equal(t, `{"payment_id":"abc123","receiver_id":12345,"subject":"Caf\u00e9 <b>&<\/b> \/ m\u00e1s \ud83d\ude00",`+
		`"amount":"19.9900","discount":"0.0000","currency":"USD","receipt_url":"","bank":"","bank_id":"","payer_name":"",`+
		`"payer_email":"","personal_identifier":"","bank_account_number":"","out_of_date_conciliation":false,`+
		`"transaction_id":"order-7","responsible_user_email":"","payment_method":"simplified_transfer",`+
		`"conciliation_date":"2026-03-09T05:22:27.266Z"}`, string(got))

	var back khipuv3.Notification
	require.NoError(t, json.Unmarshal(got, &back))
	back.Raw = nil
	want := *n
	want.ConciliationDate = time.Date(2026, 3, 9, 5, 22, 27, 266_000_000, time.UTC)
	assert.Equal(t, want, back, "decoding gives the notification back, its date in UTC to the millisecond")

	n.ConciliationDate = time.Time{}
	got, err = khipuv3.MarshalNotification(n)
	require.NoError(t, err)
	assert.True(t, strings.HasSuffix(string(got), `"conciliation_date":null}`), string(got))
}

func TestMarshalNotificationRefusesWhatKhipuNeverSends(t *testing.T) {
	valid := func() *khipuv3.Notification {
		return &khipuv3.Notification{PaymentID: "abc", ReceiverID: "12345", Amount: khipu.NewAmount(1000), Currency: "CLP"}
	}
	for _, c := range []struct {
		param  string
		change func(n *khipuv3.Notification)
	}{
		{"payment_id", func(n *khipuv3.Notification) { n.PaymentID = "" }},
		{"receiver_id", func(n *khipuv3.Notification) { n.ReceiverID = "" }},
		{"receiver_id", func(n *khipuv3.Notification) { n.ReceiverID = "0123" }},
		{"receiver_id", func(n *khipuv3.Notification) { n.ReceiverID = "12a" }},
		{"receiver_id", func(n *khipuv3.Notification) { n.ReceiverID = "1,\"x\":2" }},
		{"amount", func(n *khipuv3.Notification) { n.Amount = khipu.NewAmount(-1) }},
		{"amount", func(n *khipuv3.Notification) { n.Amount = khipu.NewAmount(1 << 62) }},
		{"discount", func(n *khipuv3.Notification) { n.Discount = khipu.NewAmount(-1) }},
		{"conciliation_date", func(n *khipuv3.Notification) { n.ConciliationDate = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) }},
		{"payer_name", func(n *khipuv3.Notification) { n.PayerName = "Jos\xe9" }},
	} {
		n := valid()
		c.change(n)
		body, err := khipuv3.MarshalNotification(n)
		var pe *khipu.ParamError
		if assert.True(t, errors.As(err, &pe), "%s: %v", c.param, err) {
			assert.Equal(t, c.param, pe.Param)
		}
		assert.Nil(t, body)
	}
	_, err := khipuv3.MarshalNotification(nil)
	assert.Error(t, err)

	body, err := khipuv3.MarshalNotification(valid())
	require.NoError(t, err)
	assert.Contains(t, string(body), `"receiver_id":12345,`)
}

// FuzzMarshalNotification: every notification that decodes (the seeds are
// Khipu's bodies) encodes, and the encoding decodes to the same
// notification and encodes to the same bytes again.
func FuzzMarshalNotification(f *testing.F) {
	body, _, _, _ := docNotification(f)
	f.Add(body)
	f.Add([]byte(`{"payment_id":"x","receiver_id":"7","amount":1.5,"subject":"\u00e9\/\ud83d\ude00<>&\n\t\u0001"}`))
	f.Add([]byte(`{"payment_id":"x","receiver_id":1,"amount":"2","conciliation_date":"2024-01-02T03:04:05-03:00"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var n khipuv3.Notification
		if json.Unmarshal(body, &n) != nil {
			return
		}
		first, err := khipuv3.MarshalNotification(&n)
		if err != nil {
			var pe *khipu.ParamError
			if !errors.As(err, &pe) {
				t.Fatalf("not a ParamError: %v", err)
			}
			return // a value Khipu never sends (a negative amount, a receiver id with a leading zero)
		}
		var back khipuv3.Notification
		if err := json.Unmarshal(first, &back); err != nil {
			t.Fatalf("the encoding does not decode: %v\n%s", err, first)
		}
		second, err := khipuv3.MarshalNotification(&back)
		if err != nil {
			t.Fatalf("the decoded encoding does not encode: %v", err)
		}
		if string(first) != string(second) {
			t.Fatalf("not stable:\n%s\n%s", first, second)
		}
		n.Raw, back.Raw = nil, nil
		n.ConciliationDate = n.ConciliationDate.UTC().Truncate(time.Millisecond)
		if !n.ConciliationDate.Equal(back.ConciliationDate) {
			t.Fatalf("date %v became %v", n.ConciliationDate, back.ConciliationDate)
		}
		n.ConciliationDate, back.ConciliationDate = time.Time{}, time.Time{}
		if n.PaymentMethod != back.PaymentMethod && strings.ToLower(string(n.PaymentMethod)) != string(back.PaymentMethod) {
			t.Fatalf("payment method %q became %q", n.PaymentMethod, back.PaymentMethod)
		}
		n.PaymentMethod, back.PaymentMethod = "", ""
		if !equalNotifications(n, back) {
			t.Fatalf("round trip changed the notification:\n%+v\n%+v", n, back)
		}
	})
}

func equalNotifications(a, b khipuv3.Notification) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb)
}
