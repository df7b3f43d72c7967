package khiputest

import (
	"encoding/json"
	"maps"
	"time"

	"github.com/khipu-go/khipu/internal/phpjson"
)

// jsonType is the media type of v3 bodies.
const jsonType = "application/json"

// createPaymentParamsV3 are the parameters of POST /v3/payments: v2's, but
// where Khipu's v3 description says otherwise.
var createPaymentParamsV3 = withRules(createPaymentParams, rules{
	"body":                     optional(maxChars(5120)),
	"integrator_fee":           optional(maxChars(16), nonNegativeAmount),
	"psp_client_merchant_name": optional(maxChars(255)),
})

// withRules is base with the rules of changes added or replacing base's.
func withRules(base, changes rules) rules {
	out := maps.Clone(base)
	maps.Copy(out, changes)
	return out
}

// v3Date is how Khipu's v3 writes a date: UTC with milliseconds.
const v3Date = "2006-01-02T15:04:05.000Z07:00"

// notification3Fields are the fields of a notification 3.0, in the order of
// Khipu's example: a notification is the payment, less some of its fields.
var notification3Fields = []string{
	"payment_id", "receiver_id", "subject", "amount", "discount", "currency", "receipt_url",
	"bank", "bank_id", "payer_name", "payer_email", "personal_identifier", "bank_account_number",
	"out_of_date_conciliation", "transaction_id", "responsible_user_email", "payment_method",
	"conciliation_date",
}

// notification3 is the body of the notification 3.0 of the payment v (a v3
// view), as Khipu writes it.
func (v paymentView) notification3() []byte {
	plain, err := phpjson.Plain(v)
	var fields map[string]json.RawMessage
	if err == nil {
		err = json.Unmarshal(plain, &fields)
	}
	if err != nil { // strings, numbers and booleans always encode
		panic("khiputest: encoding a notification: " + err.Error())
	}
	body := []byte{'{'}
	for i, name := range notification3Fields {
		if i > 0 {
			body = append(body, ',')
		}
		body = append(body, `"`+name+`":`...)
		body = append(body, fields[name]...)
	}
	return phpjson.Escape(append(body, '}'))
}

// The limits GET /v3/predict reports, the same for every payer, bank and
// currency.
const (
	predictMaxAmount         = 5_000_000 * amountScale
	predictNewDestinataryMax = 100_000 * amountScale
)

// predictParams are the parameters of GET /v3/predict.
var predictParams = rules{
	"payer_email": required(email),
	"bank_id":     required(knownBank),
	"amount":      required(positiveAmount),
	"currency":    required(currencyCode),
}

// prediction is Khipu's answer to GET /v3/predict; its amounts are JSON
// numbers, as in Khipu's example.
type prediction struct {
	Result                  string      `json:"result"`
	MaxAmount               json.Number `json:"max_amount"`
	CoolDownDate            string      `json:"cool_down_date"`
	NewDestinataryMaxAmount json.Number `json:"new_destinatary_max_amount"`
}

// predict answers whether a payment would go through: it would not above
// predictMaxAmount, and would otherwise.
func (s *Server) predict(c *call) response {
	if errs := c.validate(predictParams); errs != nil {
		return validationResponse(errs)
	}
	result := "ok"
	if a, _ := parseAmount(c.params.Get("amount")); a > predictMaxAmount {
		result = "max_amount_exceeded"
	}
	return ok(prediction{
		Result:                  result,
		MaxAmount:               json.Number(amount(predictMaxAmount).String()),
		CoolDownDate:            s.now().UTC().Add(24 * time.Hour).Format(v3Date),
		NewDestinataryMaxAmount: json.Number(amount(predictNewDestinataryMax).String()),
	})
}
