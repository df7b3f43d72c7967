package openapi

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Each listed deviation is in the body Khipu sent that the list cites.
func TestEachDeviationIsInItsEvidence(t *testing.T) {
	for _, d := range deviations {
		t.Run(d.name, func(t *testing.T) {
			body, err := os.ReadFile(realworld + d.evidence)
			require.NoError(t, err)
			_, undone, err := undo(d.operation, body, only(d))
			require.NoError(t, err)
			assert.Equal(t, []string{d.name}, undone, "%s shows it in %s", d.evidence, d.field)
		})
	}
}

// Khipu's v3 answers (testdata/realworld: real ones and the examples of
// its documentation) conform to its document once the listed deviations
// are undone, and the real ones do not before: the list is what they need,
// and all they need. (v2 bodies, cited above for what v3 passes on from
// v2, lack v3's fields and are not checked whole.)
func TestKhipusV3AnswersConformButForTheListedDeviations(t *testing.T) {
	c := loadContract(t, "")
	for _, tt := range []struct {
		file, method, path string
		deviations         []string
	}{
		{"v3-payment-derekillo-1.json", http.MethodGet, "/v3/payments/drp7wjy8qfoq", []string{"payment amount as a string", "payment discount as a string"}},
		{"v3-banks-khiputools-1.json", http.MethodGet, "/v3/banks", []string{"bank min_amount as a string"}},
		{"v3-payment-created-testkhipu-1.json", http.MethodPost, "/v3/payments", nil},
		// Khipu's documentation examples.
		{"v3-payment-khiputools-1.json", http.MethodGet, "/v3/payments/gqzdy6chjne9", nil},
		{"v3-payment-created-khiputools-1.json", http.MethodPost, "/v3/payments", nil},
		{"v3-predict-khiputools-1.json", http.MethodGet, "/v3/predict", nil},
	} {
		t.Run(tt.file, func(t *testing.T) {
			body, err := os.ReadFile(realworld + tt.file)
			require.NoError(t, err)
			undone, err := c.checkBody(context.Background(), tt.method, tt.path, body, all)
			require.NoError(t, err, "conforms once the listed deviations are undone")
			assert.Equal(t, tt.deviations, undone)
			if tt.deviations != nil {
				_, err := c.checkBody(context.Background(), tt.method, tt.path, body, none)
				assert.Error(t, err, "does not conform as Khipu sent it")
			}
		})
	}
}

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

// realBody is a JSON object of testdata/realworld.
func realBody(t *testing.T, file string) map[string]any {
	t.Helper()
	raw, err := os.ReadFile(realworld + file)
	require.NoError(t, err)
	v, err := decodeJSON(raw)
	require.NoError(t, err)
	obj, ok := v.(map[string]any)
	require.True(t, ok, "%s is a JSON object", file)
	return obj
}

// with is obj with changes: a nil value removes the field.
func with(obj, changes map[string]any) map[string]any {
	out := make(map[string]any, len(obj))
	for k, v := range obj {
		out[k] = v
	}
	for k, v := range changes {
		if v == nil {
			delete(out, k)
		} else {
			out[k] = v
		}
	}
	return out
}
