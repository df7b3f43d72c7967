package khipu

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/khipu-go/khipu/internal/rest"
	"github.com/khipu-go/khipu/internal/wire"
)

// DecodeResponse reads an answer of Khipu's API, v2's or v3's, as the
// clients of this module do: it is their one mapping of an answer to the
// typed errors (go-github's CheckResponse), exported for a call they do not
// make, such as an endpoint Khipu adds later, sent with an http.Client of
// the caller's own.
//
// resp is the answer and body its body, read by the caller (DecodeResponse
// does not read resp.Body); a body over 1 MiB is an error. A 2xx answer's
// JSON is decoded into v, a pointer (nil: the body is not looked at); an
// empty body, null or JSON that does not fit v is an
// *UnexpectedResponseError. Any other status is a *ValidationError (400), an
// *AuthorizationError (401, 403), a *NotFoundError (404) or a *ServiceError
// (5xx) when body is Khipu's JSON error, and otherwise an
// *UnexpectedResponseError. Every one of them opens as an *APIError.
//
// An answer that shows that the request did not reach the API it was meant
// for gets an error that ends with a hint to check the base URL, and says
// what it should be: a redirect (Khipu's API never redirects), a 404 without
// Khipu's JSON error (a path the server does not know), HTML where JSON was
// expected, a 401 to a v2 request (v2 answers bad credentials with 403; v3
// answers a missing API key with 401) and any error to a v3 request sent
// below "/api/2.0/". A request with an x-api-key header is v3's, any other
// v2's (resp.Request tells; without it, the hint names both). A 404 with
// Khipu's JSON error, such as v3's answer about an unknown payment, is a
// *NotFoundError without a hint.
func DecodeResponse(resp *http.Response, body []byte, v any) error {
	method, path := "", ""
	if resp.Request != nil && resp.Request.URL != nil {
		method, path = resp.Request.Method, resp.Request.URL.Path
	}
	return decodeResponse(resp, body, v, method, path)
}

// decodeResponse is DecodeResponse for this package's client: method and
// path name the call in errors (path below the base URL, without the query).
// The body of a successful answer that holds a secret (a ReceiverCreated) is
// never kept in an error.
func decodeResponse(resp *http.Response, body []byte, v any, method, path string) error {
	err := checkResponse(resp, body)
	if err == nil && v != nil {
		err = decodeBody(resp, body, v, method, path)
	}
	_, secret := v.(*ReceiverCreated)
	if err != nil && secret && resp.StatusCode >= 200 && resp.StatusCode <= 299 {
		redactBody(err)
	}
	return err
}

// redactBody replaces the body an UnexpectedResponseError in err keeps with
// a note that it held a secret.
func redactBody(err error) {
	var ue *UnexpectedResponseError
	if errors.As(err, &ue) && len(ue.Body) > 0 {
		ue.Body = []byte("[redacted: this response carries a secret]")
	}
}

// decodeBody decodes a successful answer's JSON into v.
func decodeBody(resp *http.Response, body []byte, v any, method, path string) error {
	name := func() string {
		if method == "" {
			return ""
		}
		return method + " " + path + ": "
	}
	trimmed := bytes.Trim(body, " \t\r\n")
	switch {
	case len(trimmed) == 0:
		return newUnexpected(resp.StatusCode, body, name()+"empty body where JSON was expected", nil)
	case string(trimmed) == "null":
		return newUnexpected(resp.StatusCode, body, name()+"null where a JSON object was expected", nil)
	case trimmed[0] == '<':
		return newUnexpected(resp.StatusCode, body, withHint(name()+"HTML where JSON was expected", baseURLHint(resp)), nil)
	}
	if err := unmarshal(trimmed, v); err != nil {
		return newUnexpected(resp.StatusCode, body, name()+"malformed JSON", wire.CleanError(err))
	}
	return nil
}

// checkResponse returns nil for a 2xx answer of at most rest.MaxBody bytes,
// and otherwise its error.
func checkResponse(resp *http.Response, body []byte) error {
	status := resp.StatusCode
	if len(body) > rest.MaxBody {
		return newUnexpected(status, body, "body larger than "+strconv.Itoa(rest.MaxBody)+" bytes", nil)
	}
	if status >= 200 && status <= 299 {
		return nil
	}
	hint := ""
	switch {
	case status >= 300 && status <= 399:
		hint = baseURLHint(resp)
	case isV3(resp) && resp.Request.URL != nil && strings.Contains(resp.Request.URL.Path, "/api/2.0/"):
		hint = baseURLHint(resp)
	case status == http.StatusUnauthorized && resp.Request != nil && !isV3(resp):
		hint = baseURLHint(resp)
	}
	e, ok, cause := rest.ParseError(body)
	if !ok {
		reason := "HTTP status " + strconv.Itoa(status) + " without Khipu's JSON error"
		if status == http.StatusNotFound {
			hint = baseURLHint(resp) // not a missing payment: a wrong address
		}
		if hint != "" {
			// The body, which the error quotes, says more than why it is
			// not JSON ("wrong JSON type: a number" for "404 page not found").
			return newUnexpected(status, body, withHint(reason, hint), nil)
		}
		return newUnexpected(status, body, reason, cause)
	}
	body = capBody(body)
	switch {
	case status == http.StatusBadRequest:
		errs := make([]FieldError, len(e.Fields))
		for i, f := range e.Fields {
			errs[i] = FieldError(f)
		}
		return &ValidationError{StatusCode: status, Message: e.Message, Errors: errs, body: body, hint: hint}
	case status == http.StatusUnauthorized, status == http.StatusForbidden:
		return &AuthorizationError{StatusCode: status, Message: e.Message, body: body, hint: hint}
	case status == http.StatusNotFound:
		return &NotFoundError{StatusCode: status, Message: e.Message, body: body, hint: hint}
	case status >= 500:
		return &ServiceError{StatusCode: status, Message: e.Message, body: body, hint: hint}
	}
	return newUnexpected(status, body, withHint("HTTP status Khipu does not use", hint), nil)
}

// isV3 says whether resp answers a request of API v3, which carries its API
// key in the x-api-key header (v2's are signed in Authorization).
func isV3(resp *http.Response) bool {
	return resp.Request != nil && resp.Request.Header.Get("x-api-key") != ""
}

// The hints of an answer that shows the request went somewhere other than
// the API it was meant for. khipuv3.DefaultBaseURL is spelled out: this
// package cannot import khipuv3 (a test keeps them equal).
const (
	hintV2   = "check the base URL: API v2's is " + DefaultBaseURL + " (a khiputest server's URL())"
	hintV3   = "check the base URL: API v3's is the host root, " + defaultV3BaseURL + " (a khiputest server's V3URL()), without API v2's /api/2.0"
	hintBoth = "check the base URL: API v2's is " + DefaultBaseURL + ", API v3's the host root, " + defaultV3BaseURL

	defaultV3BaseURL = "https://payment-api.khipu.com"
)

// baseURLHint is the hint for an answer to resp.Request.
func baseURLHint(resp *http.Response) string {
	switch {
	case resp.Request == nil:
		return hintBoth
	case isV3(resp):
		return hintV3
	}
	return hintV2
}

// unmarshal decodes the JSON body into out. A model that decodes itself
// (Payment, PaymentCreated, Subscription...) is handed the body directly:
// json.Unmarshal would first scan all of it twice (to validate it, then to
// find where the value ends) before calling its UnmarshalJSON, which
// validates and decodes it again. Such a model must refuse anything but one
// whole JSON value, as every model does through wire.Object.
func unmarshal(body []byte, out any) error {
	if u, ok := out.(json.Unmarshaler); ok {
		return u.UnmarshalJSON(body)
	}
	return json.Unmarshal(body, out)
}
