package openapi

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The checks accept the listed deviations only in the form, the field and
// the state of payment that Khipu's answers show, and refuse every other
// departure from the document, as khiputest's old "expires_date": null.
func TestOnlyTheListedDeviationsPass(t *testing.T) {
	c := loadContract(t, "")
	paid := realBody(t, "v3-payment-derekillo-1.json") // done, normal
	pending := with(paid, map[string]any{"status": "pending", "status_detail": "pending", "conciliation_date": nil, "payer_email": ""})
	for _, tt := range []struct {
		name    string
		body    map[string]any
		refused string // what the error says; "" for an answer accepted
	}{
		{"Khipu's paid answer", paid, ""},
		{"a pending answer without conciliation_date and with payer_email \"\"", pending, ""},
		{"a verifying one without conciliation_date", with(pending, map[string]any{"status": "verifying"}), ""},
		{"one refused by the payer without conciliation_date", with(pending, map[string]any{"status": "done", "status_detail": "rejected-by-payer"}), ""},
		{"amounts as numbers, as the document has them", with(paid, map[string]any{"amount": json.Number("3"), "discount": json.Number("0")}), ""},

		{"expires_date null", with(pending, map[string]any{"expires_date": json.RawMessage("null")}), "at '/expires_date': got null, want string"},
		{"expires_date absent", with(pending, map[string]any{"expires_date": nil}), "missing property 'expires_date'"},
		{"conciliation_date null while pending", with(pending, map[string]any{"conciliation_date": json.RawMessage("null")}), "at '/conciliation_date': got null, want string"},
		{"conciliation_date absent once paid", with(paid, map[string]any{"conciliation_date": nil}), "missing property 'conciliation_date'"},
		{"payer_email \"\" once paid", with(paid, map[string]any{"payer_email": ""}), "at '/payer_email': '' is not valid email"},
		{"another required field absent while pending", with(pending, map[string]any{"notification_token": nil}), "missing property 'notification_token'"},
		{"an amount with two decimals", with(paid, map[string]any{"amount": "3.00"}), "at '/amount': got string, want number"},
		{"an amount string that is no number", with(paid, map[string]any{"amount": "three"}), "at '/amount': got string, want number"},
		{"receiver_id as a string", with(paid, map[string]any{"receiver_id": "497684"}), "at '/receiver_id': got string, want integer"},
		{"a payment_method the document does not list", with(paid, map[string]any{"payment_method": "webpay_psp"}), "at '/payment_method': value must be one of"},
		{"a field the document does not list", with(paid, map[string]any{"webpay_url": "https://khipu.com/x"}), "field webpay_url is not in the document"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			body, err := json.Marshal(tt.body)
			require.NoError(t, err)
			_, err = c.checkBody(context.Background(), http.MethodGet, "/v3/payments/drp7wjy8qfoq", body, all)
			if tt.refused == "" {
				assert.NoError(t, err)
			} else {
				assert.ErrorContains(t, err, tt.refused)
			}
		})
	}

	t.Run("a string amount where no deviation is listed", func(t *testing.T) {
		body := realBody(t, "v3-predict-khiputools-1.json")
		raw, err := json.Marshal(with(body, map[string]any{"max_amount": "5000000.0000"}))
		require.NoError(t, err)
		_, err = c.checkBody(context.Background(), http.MethodGet, "/v3/predict", raw, all)
		assert.ErrorContains(t, err, "at '/max_amount': got string, want number", "predict's amounts are numbers at Khipu")
	})
}

// The request checks refuse what the document refuses: the tests above
// would pass for the wrong reason if they let everything through.
func TestRequestsAreChecked(t *testing.T) {
	c := loadContract(t, apiKey)
	for _, tt := range []struct {
		name, method, target, key, body string
		refused                         string // what the error says; "" for a request accepted
	}{
		{"banks", http.MethodGet, "/v3/banks", apiKey, "", ""},
		{"no API key", http.MethodGet, "/v3/banks", "", "", "no valid x-api-key header"},
		{"another API key", http.MethodGet, "/v3/banks", "not-the-key", "", "no valid x-api-key header"},
		{"an operation the document lacks", http.MethodPost, "/v1/automatic-payment/subscription", apiKey, `{}`, "is no operation of the document"},
		{"receivers' children, added to the copy", http.MethodGet, "/v3/receivers/children", apiKey, "", ""},
		{"receivers' children, with every parameter", http.MethodGet, "/v3/receivers/children?offset=20&max=10&sort=date_created&order=desc", apiKey, "", ""},
		{"receivers' children, a sort the reference does not list", http.MethodGet, "/v3/receivers/children?sort=size", apiKey, "", "value must be one of 'id', 'name', 'date_created'"},
		{"receivers' children, an order the reference does not list", http.MethodGet, "/v3/receivers/children?order=up", apiKey, "", "value must be one of 'asc', 'desc'"},
		{"receivers' children, an offset that is no whole number", http.MethodGet, "/v3/receivers/children?offset=1.5", apiKey, "", `parameter "offset" in query has an error`},
		{"receivers' children, a max that is no number", http.MethodGet, "/v3/receivers/children?max=ten", apiKey, "", `parameter "max" in query has an error`},
		{"a body where the document has none", http.MethodPost, "/v3/payments/abc/confirm", apiKey, `{}`, "request body"},
		{"a payment without subject", http.MethodPost, "/v3/payments", apiKey, `{"amount": 1000, "currency": "CLP"}`, "missing property 'subject'"},
		{"a currency the document does not list", http.MethodPost, "/v3/payments", apiKey, `{"amount": 1000, "currency": "GBP", "subject": "x"}`, "at '/currency': value must be one of"},
		{"an amount as a string", http.MethodPost, "/v3/payments", apiKey, `{"amount": "1000", "currency": "CLP", "subject": "x"}`, "at '/amount': got string, want number"},
		{"a predict without currency", http.MethodGet, "/v3/predict?payer_email=a@b.cl&bank_id=Bawdf&amount=1000", apiKey, "", `parameter "currency" in query has an error: value is required but missing`},
		{"a merchant id that is no number", http.MethodGet, "/v3/merchants/abc/paymentMethods", apiKey, "", `parameter "id" in path has an error`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r, err := http.NewRequest(tt.method, "http://127.0.0.1"+tt.target, strings.NewReader(tt.body))
			require.NoError(t, err)
			if tt.body != "" {
				r.Header.Set("Content-Type", "application/json")
			}
			if tt.key != "" {
				r.Header.Set("x-api-key", tt.key)
			}
			_, err = c.checkRequest(r, []byte(tt.body))
			if tt.refused == "" {
				assert.NoError(t, err)
			} else {
				assert.ErrorContains(t, err, tt.refused)
			}
		})
	}
}

// The answers of GET /v3/receivers/children, which loadContract adds to the
// copy, are checked as the document's own operations' answers are.
func TestReceiverChildrenAnswersAreChecked(t *testing.T) {
	c := loadContract(t, "")
	child := `{"id": 100001, "name": "Tienda Ana SpA", "date_created": "2026-03-09T02:22:27.266Z", "disabled": false, "can_collect": true}`
	for _, tt := range []struct {
		name, body string
		refused    string // what the error says; "" for an answer accepted
	}{
		{"the reference's shape", `{"receivers": [` + child + `], "total": 1}`, ""},
		{"no accounts", `{"receivers": [], "total": 0}`, ""},
		{"an id as a string", `{"receivers": [` + strings.Replace(child, "100001", `"100001"`, 1) + `], "total": 1}`, "at '/receivers/0/id': got string, want integer"},
		{"a date that is no date-time", `{"receivers": [` + strings.Replace(child, "2026-03-09T02:22:27.266Z", "2026-03-09 02:22", 1) + `], "total": 1}`, "at '/receivers/0/date_created'"},
		{"can_collect absent", `{"receivers": [` + strings.Replace(child, `, "can_collect": true`, "", 1) + `], "total": 1}`, "missing property 'can_collect'"},
		{"no total", `{"receivers": []}`, "missing property 'total'"},
		{"a total as a string", `{"receivers": [], "total": "1"}`, "at '/total': got string, want integer"},
		{"a field the reference does not list", `{"receivers": [` + strings.Replace(child, `"disabled"`, `"secret": "s", "disabled"`, 1) + `], "total": 1}`, "field receivers.secret is not in the document"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.checkBody(context.Background(), http.MethodGet, "/v3/receivers/children", []byte(tt.body), all)
			if tt.refused == "" {
				assert.NoError(t, err)
			} else {
				assert.ErrorContains(t, err, tt.refused)
			}
		})
	}
}

// What loadContract adds to the copy is what the copy lacks, and the copy
// is read as it is: it is never edited to add them.
func TestTheAmendmentsAreWhatTheCopyLacks(t *testing.T) {
	copied, err := openapi3.NewLoader().LoadFromFile(specFile)
	require.NoError(t, err)
	amended := loadContract(t, "").doc
	assert.Nil(t, copied.Paths.Find("/v3/receivers/children"), "the copy lacks GET /v3/receivers/children")
	assert.NotNil(t, amended.Paths.Find("/v3/receivers/children"))
	assert.NotContains(t, copied.Components.Schemas["receiver-post-receiver-2"].Value.Properties, "api_key")
	assert.Contains(t, amended.Components.Schemas["receiver-post-receiver-2"].Value.Properties, "api_key")

	inCopy := operationIDs(copied)
	for _, op := range operationsNotInTheCopy {
		assert.NotContains(t, inCopy, op)
	}
	assert.Len(t, amended.Paths.Map(), len(copied.Paths.Map())+len(operationsNotInTheCopy))
}
