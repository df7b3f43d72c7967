package khiputest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"net/url"
	"time"
	"unicode/utf16"
	"unicode/utf8"
)

// jsonType is the media type of v3 bodies.
const jsonType = "application/json"

// jsonKind is the JSON type a v3 field must have. v3 takes the parameters
// of v2 as a JSON object; what v2 reads from form text, v3 reads from JSON
// values of one type each.
type jsonKind int

const (
	kindString jsonKind = iota // the default: most fields are strings
	kindNumber
	kindBool
)

var jsonKindNames = map[jsonKind]string{kindString: "string", kindNumber: "number", kindBool: "boolean (true or false)"}

// as returns r for a field whose v3 JSON value is of kind k.
func (r rule) as(k jsonKind) rule {
	r.json = k
	return r
}

// isJSONObject reports whether b is one JSON object and nothing else.
func isJSONObject(b []byte) bool {
	b = bytes.TrimSpace(b)
	return len(b) > 0 && b[0] == '{' && json.Valid(b)
}

// formFromJSON translates a v3 JSON object into the parameters v2 takes: a
// string as its text, a number as its digits as sent, a boolean as "true" or
// "false". A field rs knows must have the JSON type its rule says, and none
// may be null; a field rs does not know is passed on as its JSON text, for
// validate to refuse by name, and a field sent twice is passed on twice, for
// duplicated to refuse. body is empty (no parameters) or a JSON object.
func formFromJSON(body []byte, rs rules) (url.Values, []fieldError) {
	params := url.Values{}
	if len(body) == 0 {
		return params, nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if _, err := dec.Token(); err != nil { // the '{': the body was checked to be an object
		return nil, []fieldError{{"", "the body is not a JSON object"}}
	}
	var errs []fieldError
	for dec.More() {
		tok, err := dec.Token()
		key, isKey := tok.(string)
		var raw json.RawMessage
		if err == nil && isKey {
			err = dec.Decode(&raw)
		}
		if err != nil || !isKey {
			return nil, []fieldError{{"", "the body is not a JSON object"}}
		}
		r, known := rs[key]
		if !known {
			params.Add(key, string(raw))
			continue
		}
		text, msg := jsonText(raw, r.json)
		if msg != "" {
			errs = append(errs, fieldError{key, msg})
			continue
		}
		params.Add(key, text)
	}
	return params, errs
}

// jsonText is raw, a JSON value that should be of kind k, as the text of a
// v2 parameter, or what is wrong with it.
func jsonText(raw json.RawMessage, k jsonKind) (string, string) {
	switch c := raw[0]; {
	case c == 'n':
		return "", "is null: leave out a field that is not set"
	case k == kindString && c == '"':
		var s string
		_ = json.Unmarshal(raw, &s) // a valid JSON string: the body is valid JSON
		return s, ""
	case k == kindNumber && (c == '-' || '0' <= c && c <= '9'):
		return string(raw), "" // the digits as sent, for the amount rules to judge
	case k == kindBool && (c == 't' || c == 'f'):
		return string(raw), ""
	}
	return "", "must be a JSON " + jsonKindNames[k]
}

// createPaymentParamsV3 are the parameters of POST /v3/payments: v2's, but
// where Khipu's v3 description says otherwise.
var createPaymentParamsV3 = withRules(createPaymentParams, rules{
	"notify_api_version":       optional(oneOf("3.0", "1.3")),
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

// phpJSON encodes v as PHP's json_encode does with its default flags, which
// is how Khipu writes JSON (see phpEscape).
func phpJSON(v any) ([]byte, error) {
	plain, err := plainJSON(v)
	if err != nil {
		return nil, err
	}
	return phpEscape(plain), nil
}

// plainJSON is v as JSON, with <, > and & left as they are (Go escapes
// them; PHP does not).
func plainJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// phpEscape escapes the JSON text plain as PHP's json_encode does: '/' as
// \/ and every non-ASCII character as \uXXXX. Khipu's notifications are
// escaped so; a receiver that re-encodes one instead of verifying the bytes
// it received computes another signature, and escaping as Khipu does makes
// that mistake fail in tests as it would in production.
func phpEscape(plain []byte) []byte {
	out := make([]byte, 0, len(plain)+len(plain)/8)
	// '/' and non-ASCII characters stand only inside JSON strings, where
	// their escaped forms mean the same: no parsing is needed.
	for _, r := range string(plain) {
		switch {
		case r == '/':
			out = append(out, `\/`...)
		case r < utf8.RuneSelf:
			out = append(out, byte(r))
		default:
			for _, u := range utf16.AppendRune(nil, r) {
				out = fmt.Appendf(out, `\u%04x`, u)
			}
		}
	}
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
	plain, err := plainJSON(v)
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
	return phpEscape(append(body, '}'))
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
