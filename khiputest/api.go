package khiputest

import (
	"crypto/rand"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/khipu-go/khipu/internal/phpjson"
)

// maxRequestBody caps a request body: Khipu's largest request, a payment
// with a 4096-character custom field, is a few KiB.
const maxRequestBody = 64 << 10

// dialect is what differs between the API versions on the way in and out of
// the handlers, which both share.
type dialect struct {
	v3       bool
	name     string // for messages
	prefix   string // what stands before its endpoints' paths in a URL path
	root     string // the path every URL of this version lies below
	bodyType string // the media type of its POST bodies
	// faultJSON are the statuses FailNext answers with a JSON error; any
	// other with a proxy's HTML page.
	faultJSON []int
}

var (
	apiV2 = &dialect{
		name: "API v2", prefix: APIPath, root: APIPath + "/", bodyType: "application/x-www-form-urlencoded",
		faultJSON: []int{http.StatusBadRequest, http.StatusForbidden, http.StatusServiceUnavailable},
	}
	// v3 paths carry their /v3 in the Endpoint constants.
	apiV3 = &dialect{
		v3: true, name: "API v3", prefix: "", root: "/v3/", bodyType: jsonType,
		faultJSON: []int{
			http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound,
			http.StatusInternalServerError, http.StatusServiceUnavailable,
		},
	}
)

// call is one authenticated API request, as a handler sees it.
type call struct {
	caller *account   // the account whose signature or API key the request carries
	params url.Values // query or form parameters; a v3 POST's, once validate read them from body
	body   []byte     // the raw body
	id     string     // the {id} path value, if any
	v3     bool       // the request came through API v3
	json   bool       // its parameters are the JSON object in body

	endpoint string   // the endpoint it matched, e.g. EndpointPaymentsCreate
	strict   bool     // refuse what is likely a mistake instead of warning (WithStrict)
	warnings []string // what Khipu probably accepts but is likely a mistake (see question)
}

// response is what a handler answers: a status and a value to write as JSON.
type response struct {
	status int
	body   any
	html   bool // body is a string of HTML, not a value for JSON
}

type handlerFunc func(*call) response

// api wraps the handler of an endpoint (nil for a path that is none) with
// what every request goes through, in Khipu's order: the body is read, an
// injected fault answers first, then the signature or API key is checked,
// then the handler runs. Every request is recorded.
func (s *Server) api(d *dialect, endpoint string, h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := Request{
			Method:   r.Method,
			Path:     strings.TrimPrefix(r.URL.Path, d.prefix),
			Endpoint: endpoint,
			Header:   r.Header.Clone(),
		}
		rec.ReceiverID = s.claimedReceiver(d, r)
		params, body, resp := readRequest(r, d.bodyType)
		rec.Params = params
		if len(body) > 0 {
			rec.Body = body
		}
		if resp.status == 0 {
			resp, rec.Warnings = s.serve(d, endpoint, r, params, body, h)
		}
		rec.Status = resp.status
		s.record(rec)
		s.logWarnings(endpoint, rec.Warnings)
		resp.write(w, d)
	})
}

// serve answers a request whose parameters have been read, and returns
// the warnings the handler had about it.
func (s *Server) serve(d *dialect, endpoint string, r *http.Request, params url.Values, body []byte, h handlerFunc) (response, []string) {
	if status, ok := s.takeFault(endpoint); ok {
		return faultResponse(d, status), nil
	}
	caller, resp := s.authenticate(d, r, params)
	if caller == nil {
		return resp, nil
	}
	if h == nil {
		return errorResponse(http.StatusNotFound, "no such endpoint in Khipu's "+d.name), nil
	}
	if errs := duplicated(params); errs != nil {
		return validationResponse(errs), nil
	}
	c := &call{
		caller: caller, params: params, body: body, id: r.PathValue("id"),
		v3: d.v3, json: d.v3 && r.Method == http.MethodPost,
		endpoint: endpoint, strict: s.strict,
	}
	resp = h(c)
	return resp, c.warnings
}

// readRequest returns the request's parameters and raw body: the query of a
// GET or DELETE, which has no body; the body of a POST, which has no query,
// sent as bodyType, and decoded into the parameters when that is a form. A
// non-zero response is the 400 that a malformed request gets.
func readRequest(r *http.Request, bodyType string) (url.Values, []byte, response) {
	raw, err := io.ReadAll(io.LimitReader(r.Body, maxRequestBody+1))
	if err != nil {
		return nil, raw, errorResponse(http.StatusBadRequest, "could not read the request body: "+err.Error())
	}
	if r.Method != http.MethodPost {
		q, err := url.ParseQuery(r.URL.RawQuery)
		if err != nil {
			return q, raw, errorResponse(http.StatusBadRequest, "malformed query string: "+err.Error())
		}
		if len(raw) > 0 {
			return q, raw, errorResponse(http.StatusBadRequest, "a "+r.Method+" request has no body")
		}
		return q, raw, response{}
	}
	if r.URL.RawQuery != "" {
		return nil, raw, errorResponse(http.StatusBadRequest, "a POST request sends its parameters in the body, not the query")
	}
	if len(raw) > maxRequestBody {
		return nil, raw, errorResponse(http.StatusBadRequest, "request body larger than 64 KiB")
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); len(raw) > 0 && (err != nil || mt != bodyType) {
		return nil, raw, errorResponse(http.StatusBadRequest, "the body must be "+bodyType)
	}
	if bodyType == jsonType { // read by the handler, against its rules
		if len(raw) > 0 && !isJSONObject(raw) {
			return nil, raw, errorResponse(http.StatusBadRequest, "the body is not a JSON object")
		}
		return nil, raw, response{}
	}
	form, err := url.ParseQuery(string(raw))
	if err != nil {
		return form, raw, errorResponse(http.StatusBadRequest, "malformed form body: "+err.Error())
	}
	return form, raw, response{}
}

// write sends resp as d writes its answers.
func (resp response) write(w http.ResponseWriter, d *dialect) {
	if resp.html {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(resp.status)
		_, _ = io.WriteString(w, resp.body.(string))
		return
	}
	encode := json.Marshal
	if d.v3 {
		encode = phpjson.Marshal
	}
	body, err := encode(resp.body)
	if err != nil { // a bug in this package: say so rather than send half an answer
		http.Error(w, "khiputest: encoding the response: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(resp.status)
	_, _ = w.Write(body)
}

// ok answers 200 with v.
func ok(v any) response { return response{status: http.StatusOK, body: v} }

// khipuError is Khipu's JSON error body.
type khipuError struct {
	Status  int          `json:"status"`
	Message string       `json:"message"`
	Errors  []fieldError `json:"errors,omitempty"`
}

type fieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

func errorResponse(status int, message string) response {
	return response{status: status, body: khipuError{Status: status, Message: message}}
}

func validationResponse(errs []fieldError) response {
	return response{status: http.StatusBadRequest, body: khipuError{
		Status: http.StatusBadRequest, Message: "invalid parameters", Errors: errs,
	}}
}

// duplicated lists the parameters sent more than once: Khipu's parameters
// are single-valued, and only the first value of each is signed.
func duplicated(params url.Values) []fieldError {
	var errs []fieldError
	for _, k := range sortedKeys(params) {
		if len(params[k]) > 1 {
			errs = append(errs, fieldError{Field: k, Message: "sent more than once"})
		}
	}
	return errs
}

func sortedKeys(v url.Values) []string {
	keys := make([]string, 0, len(v))
	for k := range v {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func cloneValues(v url.Values) url.Values {
	if v == nil {
		return nil
	}
	out := make(url.Values, len(v))
	for k, vs := range v {
		out[k] = slices.Clone(vs)
	}
	return out
}

// randomString returns n random characters of alphabet.
func randomString(n int, alphabet string) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails on supported platforms (crypto/rand's guarantee)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

const (
	lowerDigits = "abcdefghijklmnopqrstuvwxyz0123456789"
	alnum       = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
)
