package khipuv3

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/khipu-go/khipu"
)

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
				n, err = VerifyNotification(docs.Secret, "t="+docs.T+",s="+docs.Signature, body, docs.time(t).Add(time.Minute))
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

// Item 2 of issue 17: a notification is decoded by Payment's code, and
// every field it has is the Payment field of the same name, so that a field
// added to both later reaches both.
func TestANotificationHasThePaymentsFieldsOfTheSameBody(t *testing.T) {
	for name, body := range loadRealWorldWebhooks(t) {
		var p Payment
		require.NoError(t, json.Unmarshal(body, &p), name)
		var n Notification
		require.NoError(t, json.Unmarshal(body, &n), name)
		nv, pv := reflect.ValueOf(n), reflect.ValueOf(p)
		set := 0
		for i := range nv.NumField() {
			f := nv.Type().Field(i)
			if !f.IsExported() {
				continue
			}
			pf := pv.FieldByName(f.Name)
			require.True(t, pf.IsValid(), "%s: Payment has no field %s", name, f.Name)
			assert.Equal(t, pf.Interface(), nv.Field(i).Interface(), "%s: %s", name, f.Name)
			if !nv.Field(i).IsZero() {
				set++
			}
		}
		assert.Greater(t, set, 15, "%s: the body sets most fields", name)
	}
	assert.Len(t, notificationFields, reflect.TypeFor[Notification]().NumField()-3, "every field but Raw, status and statusDetail")
}

func TestFieldPairsPanicsOnAFieldWithoutItsTwin(t *testing.T) {
	type dst struct{ PaymentID, Nickname string }
	assert.PanicsWithValue(t, "khipuv3: Payment has no field Nickname of type string for dst", func() {
		fieldPairs(reflect.TypeFor[dst](), reflect.TypeFor[Payment]())
	})
	type wrongType struct{ Amount string }
	assert.Panics(t, func() { fieldPairs(reflect.TypeFor[wrongType](), reflect.TypeFor[Payment]()) })
	assert.Equal(t, [][2]int{{0, 0}}, fieldPairs(reflect.TypeFor[dst](), reflect.TypeFor[Payment](), "Nickname"))
}

func TestPaymentCheckIsNotificationCheck(t *testing.T) {
	for _, body := range []string{
		`{"payment_id":"p1","status":"done","transaction_id":"order-7","amount":"19.99","currency":"USD"}`,
		`{"payment_id":"p1","status":"done","status_detail":"reversed","transaction_id":"order-7","amount":"19.99","currency":"USD"}`,
		`{"payment_id":"p1","status":"pending","transaction_id":"order-8","amount":"20","currency":"CLP"}`,
	} {
		var p Payment
		require.NoError(t, json.Unmarshal([]byte(body), &p))
		var n Notification
		require.NoError(t, json.Unmarshal([]byte(body), &n))
		for _, want := range []struct {
			tx, amount, currency string
		}{{"order-7", "19.99", "USD"}, {"order-8", "19.99", "usd"}, {"order-7", "20", ""}} {
			pe := p.Check(want.tx, khipu.MustParseAmount(want.amount), want.currency)
			ne := n.Check(want.tx, khipu.MustParseAmount(want.amount), want.currency)
			assert.Equal(t, fmt.Sprint(pe), fmt.Sprint(ne), body)
		}
	}
	var nilPayment *Payment
	var me *khipu.MismatchError
	assert.ErrorAs(t, nilPayment.Check("x", khipu.NewAmount(1), "CLP"), &me)
}
