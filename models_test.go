package khipu_test

import (
	"encoding/json"
	"math"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-querystring/query"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/khipu-go/khipu"
)

func TestParseAmountAcceptsPlainDecimals(t *testing.T) {
	cases := []struct{ in, canonical string }{
		{"0", "0"},
		{"1000", "1000"},
		{"19.99", "19.99"},
		{"19.990", "19.99"},
		{"0.0001", "0.0001"},
		{"1.5000", "1.5"},
		{"007", "7"},
		{"100.10", "100.1"},
		{"922337203685477", "922337203685477"}, // the largest whole amount
		{"922337203685477.5806", "922337203685477.5806"}, // the largest amount: one unit more is the refused amount
	}
	for _, tc := range cases {
		a, err := khipu.ParseAmount(tc.in)
		require.NoError(t, err, tc.in)
		assert.Equal(t, tc.canonical, a.String(), tc.in)
		again, err := khipu.ParseAmount(a.String())
		require.NoError(t, err)
		assert.Equal(t, a, again, "the canonical form parses to the same amount")
	}
}

func TestParseAmountRejectsWhatIsNotAnExactAmount(t *testing.T) {
	cases := []struct{ in, reason string }{
		{"", "empty"},
		{"1,000", "want digits"},
		{"1.000,50", "want digits"},
		{"1e3", "want digits"},
		{"1E3", "want digits"},
		{"-1", "negative"},
		{"+1", "want digits"},
		{"1.23456", "more than 4 decimal places"},
		{"0.00001", "more than 4 decimal places"},
		{"NaN", "want digits"},
		{"Inf", "want digits"},
		{"-Inf", "negative"},
		{" 10", "want digits"},
		{"10 ", "want digits"},
		{".5", "a '.' needs digits on both sides"},
		{"5.", "a '.' needs digits on both sides"},
		{"1.2.3", "want digits"},
		{"0x10", "want digits"},
		{"١٢", "want digits"}, // Arabic-Indic digits
		{"922337203685478", "too large"},
		{"922337203685477.5808", "too large"},
		{"99999999999999999999", "too large"},
		{"1" + string(make([]byte, 50)), "too long"},
	}
	for _, tc := range cases {
		a, err := khipu.ParseAmount(tc.in)
		var ae *khipu.AmountError
		require.ErrorAs(t, err, &ae, "%q parsed as %v", tc.in, a)
		assert.Equal(t, tc.in, ae.Input)
		assert.Contains(t, err.Error(), tc.reason, tc.in)
		assert.True(t, a.IsZero(), "a failed parse returns zero")
	}
}

func TestNewAmount(t *testing.T) {
	assert.Equal(t, "1000", khipu.NewAmount(1000).String())
	assert.Equal(t, khipu.MustParseAmount("1000"), khipu.NewAmount(1000))
	assert.Equal(t, "-5", khipu.NewAmount(-5).String(), "kept so validation can reject it")
	assert.Equal(t, "invalid", khipu.NewAmount(math.MaxInt64).String())
	_, err := json.Marshal(khipu.NewAmount(math.MaxInt64))
	assert.Error(t, err, "an unrepresentable amount is never written")
	// Nor a negative one, which UnmarshalJSON and ParseAmount would refuse:
	// every encoded amount reads back.
	for _, a := range []khipu.Amount{khipu.NewAmount(-5), khipu.NewAmount(math.MaxInt64)} {
		_, err = json.Marshal(a)
		assert.Error(t, err, "JSON of %v", a)
		_, err = a.MarshalText()
		assert.Error(t, err, "text of %v", a)
		_, err = query.Values(khipu.RefundParams{Amount: a})
		assert.Error(t, err, "form of %v", a)
	}
	assert.Panics(t, func() { khipu.MustParseAmount("1,5") })
}

func TestAmountJSON(t *testing.T) {
	decode := []struct{ in, want string }{
		{`1000`, "1000"},
		{`1000.0000`, "1000"},
		{`1000.000000`, "1000"}, // trailing zeros past the 4th decimal change nothing
		{`19.99`, "19.99"},
		{`"19.99"`, "19.99"},
		{`"\u0031\u0039.5"`, "19.5"}, // an escaped JSON string
		{` 7 `, "7"},
		{`null`, "0"},
		{`0.1`, "0.1"}, // exact, never through a float
	}
	for _, tc := range decode {
		var a khipu.Amount
		require.NoError(t, json.Unmarshal([]byte(tc.in), &a), tc.in)
		assert.Equal(t, tc.want, a.String(), tc.in)
	}
	for _, bad := range []string{`-1`, `1e3`, `"1,000"`, `1.23456`, `true`, `{}`, `[]`, `""`, `"abc`} {
		var a khipu.Amount
		assert.Error(t, json.Unmarshal([]byte(bad), &a), bad)
	}

	// Marshal writes a JSON number that decodes to the same amount.
	for _, s := range []string{"0", "1000", "19.99", "0.0001", "922337203685477.5806"} {
		a := khipu.MustParseAmount(s)
		b, err := json.Marshal(struct {
			A khipu.Amount `json:"a"`
		}{a})
		require.NoError(t, err)
		assert.Equal(t, `{"a":`+s+`}`, string(b))
		var back struct {
			A khipu.Amount `json:"a"`
		}
		require.NoError(t, json.Unmarshal(b, &back))
		assert.Equal(t, a, back.A)
	}

	// A float64 would lose this amount; Amount does not.
	var a khipu.Amount
	require.NoError(t, json.Unmarshal([]byte(`900719925474099.3`), &a))
	assert.Equal(t, "900719925474099.3", a.String())
	var f float64
	require.NoError(t, json.Unmarshal([]byte(`900719925474099.3`), &f))
	assert.NotEqual(t, "900719925474099.3", strconv.FormatFloat(f, 'f', 4, 64), "what a float64 would have kept")
}

func TestAmountTextAndForm(t *testing.T) {
	a := khipu.MustParseAmount("250.50")
	text, err := a.MarshalText()
	require.NoError(t, err)
	assert.Equal(t, "250.5", string(text))
	var back khipu.Amount
	require.NoError(t, back.UnmarshalText(text))
	assert.Equal(t, a, back)
	assert.Error(t, back.UnmarshalText([]byte("1e3")))
	assert.Equal(t, a, back, "a failed UnmarshalText leaves the amount as it was")

	v, err := query.Values(khipu.RefundParams{Amount: a})
	require.NoError(t, err)
	assert.Equal(t, "amount=250.5", v.Encode())
}

func TestAmountsCompareWithEquals(t *testing.T) {
	assert.True(t, khipu.MustParseAmount("10.50") == khipu.MustParseAmount("10.5"))
	assert.False(t, khipu.MustParseAmount("10.5001") == khipu.MustParseAmount("10.5"))
	assert.True(t, khipu.Amount{}.IsZero())
	assert.False(t, khipu.MustParseAmount("0.0001").IsZero())
}

func TestPaymentDecodesKhipusDateAndIDForms(t *testing.T) {
	cases := []struct {
		name       string
		json       string
		receiverID string
		expires    time.Time
	}{
		{"number and RFC 3339", `{"payment_id": "p1", "receiver_id": 985101, "expires_date": "2026-11-25T10:00:00Z"}`, "985101", time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)},
		{"string and offset without colon", `{"payment_id": "p1", "receiver_id": "985101", "expires_date": "2026-11-25T07:00:00.123-0300"}`, "985101", time.Date(2026, 11, 25, 10, 0, 0, 123e6, time.UTC)},
		{"null and empty", `{"payment_id": "p1", "receiver_id": null, "expires_date": ""}`, "", time.Time{}},
		{"date only", `{"payment_id": "p1", "receiver_id": 1, "expires_date": "2026-11-25"}`, "1", time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)},
		{"big receiver id kept exactly", `{"payment_id": "p1", "receiver_id": 123456789012345678901234567890}`, "123456789012345678901234567890", time.Time{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var p khipu.Payment
			require.NoError(t, json.Unmarshal([]byte(tc.json), &p))
			assert.Equal(t, tc.receiverID, p.ReceiverID)
			assert.True(t, tc.expires.Equal(p.ExpiresDate), "got %v", p.ExpiresDate)
		})
	}
	// What a shop decides on is strict: an odd type there fails the call.
	for _, bad := range []string{
		`{"payment_id": "p1", "receiver_id": true}`,
		`{"payment_id": "p1", "receiver_id": 12.5}`,
		`{"payment_id": "p1", "amount": "1,000"}`,
		`{"payment_id": "p1", "amount": -5}`,
		`{"payment_id": "p1", "amount": true}`,
		`{"payment_id": "p1", "status": 1}`,
		`{"payment_id": "p1", "currency": ["CLP"]}`,
		`{"payment_id": "p1", "transaction_id": {"id": 1}}`,
		`{"payment_id": 123}`,
		`{"receiver_id": 1}`, // no payment_id: not a payment
		`{"payment_id": ""}`,
		`[]`,
		`"a payment"`,
	} {
		var p khipu.Payment
		assert.Error(t, json.Unmarshal([]byte(bad), &p), bad)
	}
	// Anything else of an odd type is its zero value.
	for _, odd := range []string{
		`{"payment_id": "p1", "expires_date": "next tuesday"}`,
		`{"payment_id": "p1", "expires_date": 20261125}`,
		`{"payment_id": "p1", "attachment_urls": "one"}`,
		`{"payment_id": "p1", "attachment_urls": ""}`,
		`{"payment_id": "p1", "out_of_date_conciliation": 0}`,
		`{"payment_id": "p1", "ready_for_terminal": "false"}`,
		`{"payment_id": "p1", "send_email": {}}`,
		`{"payment_id": "p1", "subject": ["x"]}`,
		`{"payment_id": "p1", "discount": "n/a"}`,
	} {
		var p khipu.Payment
		require.NoError(t, json.Unmarshal([]byte(odd), &p), odd)
		zero := khipu.Payment{PaymentID: "p1", Raw: p.Raw}
		assert.Equal(t, zero, p, odd)
	}
}

func TestReceiverCreatedDecodesANumericID(t *testing.T) {
	var r khipu.ReceiverCreated
	require.NoError(t, json.Unmarshal(fixture(t, "receiver-created.json"), &r))
	assert.Equal(t, "1234567", r.ReceiverID)
	assert.Equal(t, "fixture-secret-0123456789abcdef", r.Secret)
}
