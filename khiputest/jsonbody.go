// How a request's parameters are read and checked: a v2 form or query, or
// a v3 JSON object, held to the same rules once translated.

package khiputest

import (
	"bytes"
	"cmp"
	"encoding/json"
	"net/url"
	"slices"
)

// validate reads the request's parameters and checks them against rs,
// returning one field error per parameter at fault. A v3 POST's JSON object
// is first checked for JSON types and translated into the parameters v2
// takes, so that both APIs are held to the same rules.
func (c *call) validate(rs rules) []fieldError {
	if !c.json {
		return validate(c.params, rs)
	}
	params, typeErrs := c.formFromJSON(rs)
	if errs := duplicated(params); errs != nil {
		return errs
	}
	c.params = params
	// A field of the wrong type was left out of params: what validate says
	// of it ("is required") is not news.
	errs := typeErrs
	for _, e := range validate(params, rs) {
		if !slices.ContainsFunc(typeErrs, func(t fieldError) bool { return t.Field == e.Field }) {
			errs = append(errs, e)
		}
	}
	slices.SortStableFunc(errs, func(a, b fieldError) int { return cmp.Compare(a.Field, b.Field) })
	return errs
}

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

// formFromJSON translates the call's JSON object into the parameters v2
// takes: a string as its text, a number as its digits as sent, a boolean as
// "true" or "false". A field rs knows must have the JSON type its rule
// says; a field sent twice is passed on twice, for duplicated to refuse.
//
// Nothing says Khipu refuses a null optional field or a field the endpoint
// does not define (code written from v2's habits sends "receiver_id"), and
// both are taken as left out, with a warning (see question); with
// WithStrict they are field errors. A required field that is null is one
// always. The body is empty (no parameters) or a JSON object.
func (c *call) formFromJSON(rs rules) (url.Values, []fieldError) {
	params := url.Values{}
	if len(c.body) == 0 {
		return params, nil
	}
	dec := json.NewDecoder(bytes.NewReader(c.body))
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
		switch {
		case !known:
			errs = append(errs, c.question(key, "is not a field of "+c.endpoint, "ignored")...)
			continue
		case raw[0] == 'n' && r.required:
			errs = append(errs, fieldError{key, "is null, and it is required"})
			continue
		case raw[0] == 'n':
			errs = append(errs, c.question(key, "is null: leave out a field that is not set", "taken as left out")...)
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

// jsonText is raw, a JSON value other than null that should be of kind k,
// as the text of a v2 parameter, or what is wrong with it.
func jsonText(raw json.RawMessage, k jsonKind) (string, string) {
	switch c := raw[0]; {
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
