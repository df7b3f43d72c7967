package openapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"regexp"
	"strings"

	openapi_types "github.com/oapi-codegen/runtime/types"
)

// realworld holds the bodies Khipu really sent, in the repository's
// testdata; its SOURCES.md says where each came from.
const realworld = "../../testdata/realworld/"

// A deviation is a place where Khipu's real answers depart from Khipu's own
// OpenAPI document. khiputest answers as Khipu does there, and the checks
// accept exactly that departure and nothing else: before an answer is
// validated, undo turns the departure back into what the document says,
// only in the field named and only in the form Khipu sends.
type deviation struct {
	name      string
	operation string // the operationId whose answers carry it
	field     string // "amount"; "banks[].min_amount" is min_amount in every item of banks
	kind      kind
	evidence  string // the file in testdata/realworld that shows it
	// generated reports whether err is how a client generated from the
	// document (package khipuapi) fails to read an answer that carries the
	// deviation; it is nil when such a client reads it.
	generated func(err error) bool
}

// deviations are all of them. An answer that departs from the document in
// any other way fails.
var deviations = []deviation{
	{
		name: "payment amount as a string", operation: "getPaymentById", field: "amount", kind: stringAmount,
		evidence:  "v3-payment-derekillo-1.json", // "amount": "3.0000"
		generated: typeError("amount"),
	},
	{
		name: "payment discount as a string", operation: "getPaymentById", field: "discount", kind: stringAmount,
		evidence:  "v3-payment-derekillo-1.json", // "discount": "0.0000"
		generated: typeError("discount"),
	},
	{
		name: "bank min_amount as a string", operation: "getBanks", field: "banks[].min_amount", kind: stringAmount,
		evidence:  "v3-banks-khiputools-1.json", // "min_amount": "200.0000"
		generated: typeError("banks.min_amount"),
	},
	{
		// The evidence is a v2 answer; Khipu's v3 is a gateway in front of
		// v2 (v3-payment-created-testkhipu-1.json's Location header).
		name: "conciliation_date absent while unpaid", operation: "getPaymentById", field: "conciliation_date", kind: absentWhileUnpaid,
		evidence: "v2-payment-infosicoes-1.json", // "status": "pending" and no conciliation_date
		// An oapi-codegen client checks no required field: it reads a zero time.
	},
	{
		name: "payer_email empty while unpaid", operation: "getPaymentById", field: "payer_email", kind: emptyWhileUnpaid,
		evidence:  "v2-payment-infosicoes-1.json", // "status": "pending", "payer_email": ""
		generated: func(err error) bool { return errors.Is(err, openapi_types.ErrValidationEmail) },
	},
}

// kind is how an answer departs from the document.
type kind int

const (
	// stringAmount: a number of the document, sent as a JSON string with
	// four decimals, "1000.0000".
	stringAmount kind = iota
	// absentWhileUnpaid: a required field left out of a payment that is
	// not paid.
	absentWhileUnpaid
	// emptyWhileUnpaid: a string of a documented format sent as "" in a
	// payment that is not paid.
	emptyWhileUnpaid
)

// khipuAmount is how Khipu writes an amount in a string.
var khipuAmount = regexp.MustCompile(`^[0-9]+\.[0-9]{4}$`)

// placeholders stand in, for the validator, for what absentWhileUnpaid
// and emptyWhileUnpaid leave out, so that the rest of the answer is still
// checked. They are of the document's format.
var placeholders = map[string]string{
	"conciliation_date": "1970-01-01T00:00:00Z",
	"payer_email":       "placeholder@example.invalid",
}

// undo applies to the object obj holding d's field.
func (d deviation) undo(obj map[string]any, key string) bool {
	v, present := obj[key]
	switch d.kind {
	case stringAmount:
		if s, ok := v.(string); ok && khipuAmount.MatchString(s) {
			obj[key] = json.Number(s)
			return true
		}
	case absentWhileUnpaid:
		if !present && unpaid(obj) {
			obj[key] = placeholders[key]
			return true
		}
	case emptyWhileUnpaid:
		if v == "" && unpaid(obj) {
			obj[key] = placeholders[key]
			return true
		}
	}
	return false
}

// unpaid reports whether the payment obj is not paid: pending, being
// verified, or refused by the payer.
func unpaid(obj map[string]any) bool {
	switch obj["status"] {
	case "pending", "verifying":
		return true
	}
	switch obj["status_detail"] {
	case "rejected-by-payer", "marked-as-abuse":
		return true
	}
	return false
}

// all, none, only and allBut choose which deviations undo undoes.
func all(deviation) bool { return true }

func none(deviation) bool { return false }

func only(d deviation) func(deviation) bool {
	return func(e deviation) bool { return e.name == d.name }
}

func allBut(d deviation) func(deviation) bool {
	return func(e deviation) bool { return e.name != d.name }
}

// undo turns the deviations of operation op that which chooses in the JSON
// body back into what the document says, and returns the body that
// results and the names of those it undid.
func undo(op string, body []byte, which func(deviation) bool) ([]byte, []string, error) {
	v, err := decodeJSON(body)
	if err != nil {
		return nil, nil, err
	}
	var undone []string
	for _, d := range deviations {
		if d.operation != op || !which(d) {
			continue
		}
		hit := false
		eachHolder(v, strings.Split(d.field, "."), func(obj map[string]any, key string) {
			if d.undo(obj, key) {
				hit = true
			}
		})
		if hit {
			undone = append(undone, d.name)
		}
	}
	if undone == nil {
		return body, nil, nil // the bytes as they were
	}
	fixed, err := json.Marshal(v)
	return fixed, undone, err
}

// eachHolder calls fn with every object in v that holds the field at path
// ("banks[]", "min_amount"), and the field's name.
func eachHolder(v any, path []string, fn func(map[string]any, string)) {
	obj, ok := v.(map[string]any)
	if !ok {
		return
	}
	if len(path) == 1 {
		fn(obj, path[0])
		return
	}
	name, isArray := strings.CutSuffix(path[0], "[]")
	if !isArray {
		eachHolder(obj[name], path[1:], fn)
		return
	}
	items, _ := obj[name].([]any)
	for _, item := range items {
		eachHolder(item, path[1:], fn)
	}
}

// decodeJSON decodes one JSON value, keeping numbers as they were written.
func decodeJSON(body []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, errors.New("more than one JSON value")
	}
	return v, nil
}

// typeError matches encoding/json's error for a string where the generated
// model has a number, at field (dotted, as encoding/json names it).
func typeError(field string) func(error) bool {
	return func(err error) bool {
		var te *json.UnmarshalTypeError
		return errors.As(err, &te) && te.Value == "string" && te.Field == field
	}
}
