package openapi

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
)

// specFile is Khipu's OpenAPI 3.1 document of API v3, as testdata/SOURCES.md
// says where it came from.
const specFile = "testdata/khipu-v3-instant-payments.yaml"

// khipuServer is the document's server. Requests here go to loopback; they
// are routed as if they went to Khipu.
const khipuServer = "https://payment-api.khipu.com"

// contract checks requests and answers against the document.
type contract struct {
	doc    *openapi3.T
	router routers.Router
	opts   *openapi3filter.Options
}

// loadContract loads the document; requests must carry apiKey in x-api-key,
// the document's only security scheme.
func loadContract(t testing.TB, apiKey string) *contract {
	t.Helper()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromFile(specFile)
	if err != nil {
		t.Fatalf("loading %s: %v", specFile, err)
	}
	if !doc.IsOpenAPI31OrLater() {
		t.Fatalf("%s is OpenAPI %s; these tests expect 3.1 (JSON Schema 2020-12)", specFile, doc.OpenAPI)
	}
	// The copy lost every description (SOURCES.md), and OpenAPI requires
	// one on each Response Object: an empty one is put back. Descriptions
	// constrain nothing.
	for _, path := range doc.Paths.Map() {
		for _, op := range path.Operations() {
			for _, resp := range op.Responses.Map() {
				if resp.Value != nil && resp.Value.Description == nil {
					resp.Value.Description = new(string)
				}
			}
		}
	}
	// Khipu's current reference (2026) lists what this copy lacks
	// (testdata/SOURCES.md): the answer of POST /v3/receivers may carry the
	// new account's api_key, a string.
	created := doc.Components.Schemas["receiver-post-receiver-2"]
	if created == nil || created.Value == nil {
		t.Fatalf("%s: no schema receiver-post-receiver-2", specFile)
	}
	created.Value.Properties["api_key"] = openapi3.NewStringSchema().NewRef()
	// And an operation: GET /v3/receivers/children, with which an
	// integrator lists its collection accounts a page at a time.
	doc.Paths.Set("/v3/receivers/children", &openapi3.PathItem{Get: receiverChildren()})
	// The examples are not checked: the generator that re-serialised the
	// document wrote some unquoted, so YAML reads them as other types than
	// their schemas' (bank_account_number 001120490689 as a number,
	// conciliation_date 2017-03-01 13:00:00+00:00 as a timestamp). Examples
	// constrain nothing either; everything else is validated.
	router, err := legacy.NewRouter(doc, openapi3.DisableExamplesValidation())
	if err != nil {
		t.Fatalf("%s: %v", specFile, err)
	}
	opts := &openapi3filter.Options{
		AuthenticationFunc: func(_ context.Context, in *openapi3filter.AuthenticationInput) error {
			if in.SecurityScheme.In != "header" || in.RequestValidationInput.Request.Header.Get(in.SecurityScheme.Name) != apiKey {
				return fmt.Errorf("no valid %s %s", in.SecurityScheme.Name, in.SecurityScheme.In)
			}
			return nil
		},
		IncludeResponseStatus:             true, // a status the document does not list is an error
		RejectWhenRequestBodyNotSpecified: true, // so is a body where the document has none
		MultiError:                        true,
		// The document says format: email. kin-openapi asserts date-time
		// but not email unless asked; a generated client asserts both
		// (oapi-codegen's types.Email), so this validator does too.
		SchemaValidationOptions: []openapi3.SchemaValidationOption{
			openapi3.WithStringFormatValidator("email", openapi3.NewRegexpFormatValidator(openapi3.FormatOfStringForEmail)),
		},
	}
	// Where and why, without the whole schema and value.
	opts.WithCustomSchemaErrorFunc(func(err *openapi3.SchemaError) string {
		return "/" + strings.Join(err.JSONPointer(), "/") + ": " + err.Reason
	})
	return &contract{doc: doc, router: router, opts: opts}
}

// operationsNotInTheCopy are the operations that Khipu's current reference
// lists and the copy lacks, which loadContract adds to the document: the
// client generated from the copy (package khipuapi) has no method for them.
var operationsNotInTheCopy = []string{"getReceiverChildren"}

// receiverChildren is GET /v3/receivers/children as Khipu's current
// reference (2026) lists it, which the copy lacks (testdata/SOURCES.md; the
// project's spec/khipu-api-v3.md, endpoint 10): four optional query
// parameters, offset and max whole numbers, sort one of id, name and
// date_created, order asc or desc; a 200 answer {"receivers": [{"id":
// integer, "name": string, "date_created": date-time, "disabled": boolean,
// "can_collect": boolean}], "total": integer}; and 400, 401, 403, 404 and
// 500 as every operation of the document has them. Two things are this
// module's, as the reference's are not recorded here: the operationId,
// named as the document names the others (getBanks, postReceiver), and the
// required lists: every field of the answer is required, as the document
// requires every field of its other answers but a few optional ones
// (logo_url).
func receiverChildren() *openapi3.Operation {
	query := func(name string, schema *openapi3.Schema) *openapi3.ParameterRef {
		return &openapi3.ParameterRef{Value: openapi3.NewQueryParameter(name).WithSchema(schema)}
	}
	child := openapi3.NewObjectSchema().
		WithProperty("id", openapi3.NewIntegerSchema()).
		WithProperty("name", openapi3.NewStringSchema()).
		WithProperty("date_created", openapi3.NewDateTimeSchema()).
		WithProperty("disabled", openapi3.NewBoolSchema()).
		WithProperty("can_collect", openapi3.NewBoolSchema()).
		WithRequired([]string{"can_collect", "date_created", "disabled", "id", "name"})
	answer := openapi3.NewObjectSchema().
		WithProperty("receivers", openapi3.NewArraySchema().WithItems(child)).
		WithProperty("total", openapi3.NewIntegerSchema()).
		WithRequired([]string{"receivers", "total"})
	responses := openapi3.NewResponses(openapi3.WithStatus(http.StatusOK,
		&openapi3.ResponseRef{Value: openapi3.NewResponse().WithDescription("").WithJSONSchema(answer)}))
	for _, status := range []int{400, 401, 403, 404, 500} {
		responses.Set(strconv.Itoa(status), &openapi3.ResponseRef{Value: openapi3.NewResponse().WithDescription("")})
	}
	return &openapi3.Operation{
		OperationID: "getReceiverChildren",
		Parameters: openapi3.Parameters{
			query("offset", openapi3.NewIntegerSchema()),
			query("max", openapi3.NewIntegerSchema()),
			query("sort", openapi3.NewStringSchema().WithEnum("id", "name", "date_created")),
			query("order", openapi3.NewStringSchema().WithEnum("asc", "desc")),
		},
		Responses: responses,
	}
}

// operationIDs are the operationIds of doc, sorted.
func operationIDs(doc *openapi3.T) []string {
	var ids []string
	for _, path := range doc.Paths.Map() {
		for _, op := range path.Operations() {
			ids = append(ids, op.OperationID)
		}
	}
	slices.Sort(ids)
	return ids
}

// schema is a component schema of the document, by name.
func (c *contract) schema(t testing.TB, name string) *openapi3.Schema {
	t.Helper()
	ref := c.doc.Components.Schemas[name]
	if ref == nil || ref.Value == nil {
		t.Fatalf("the document has no schema %q", name)
	}
	return ref.Value
}

// checkRequest checks a request and its body against the document and
// returns what checkAnswer needs to check its answer. The input is nil when
// the document has no such operation.
func (c *contract) checkRequest(r *http.Request, body []byte) (*openapi3filter.RequestValidationInput, error) {
	u, err := url.Parse(khipuServer + r.URL.RequestURI())
	if err != nil {
		return nil, err
	}
	routed := r.Clone(r.Context())
	routed.URL, routed.Host = u, u.Host
	routed.Body = http.NoBody
	if len(body) > 0 {
		routed.Body = io.NopCloser(bytes.NewReader(body))
	}
	route, params, err := c.router.FindRoute(routed)
	if err != nil {
		return nil, fmt.Errorf("%s %s is no operation of the document: %w", r.Method, r.URL.Path, err)
	}
	in := &openapi3filter.RequestValidationInput{Request: routed, PathParams: params, Route: route, Options: c.opts}
	var errs []error
	if err := openapi3filter.ValidateRequest(r.Context(), in); err != nil {
		errs = append(errs, err)
	}
	if rb := route.Operation.RequestBody; rb != nil && len(body) > 0 {
		if mt := rb.Value.Content.Get("application/json"); mt != nil {
			errs = append(errs, undocumented(mt.Schema.Value, body)...)
		}
	}
	return in, errors.Join(errs...)
}

// checkAnswer checks the answer to the request in, after undoing the
// deviations listed for its operation that which chooses (all of them, but
// in tests of the list itself), and returns the names of those it undid.
// Only a 200 has a schema to depart from.
func (c *contract) checkAnswer(ctx context.Context, in *openapi3filter.RequestValidationInput, status int, header http.Header, body []byte, which func(deviation) bool) ([]string, error) {
	fixed, undone := body, []string(nil)
	if status == http.StatusOK {
		var err error
		if fixed, undone, err = undo(in.Route.Operation.OperationID, body, which); err != nil {
			return nil, fmt.Errorf("%s answered with a body that is not JSON: %w", in.Route.Operation.OperationID, err)
		}
	}
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: status, Header: header, Options: c.opts}
	out.SetBodyBytes(fixed)
	var errs []error
	if err := openapi3filter.ValidateResponse(ctx, out); err != nil {
		errs = append(errs, err)
	}
	if resp := in.Route.Operation.Responses.Status(status); resp != nil && status == http.StatusOK {
		if mt := resp.Value.Content.Get("application/json"); mt != nil {
			errs = append(errs, undocumented(mt.Schema.Value, body)...)
		}
	}
	return undone, errors.Join(errs...)
}

// checkBody checks body as the answer, with status 200, of the operation a
// request of method to path would be, as checkAnswer does.
func (c *contract) checkBody(ctx context.Context, method, path string, body []byte, which func(deviation) bool) ([]string, error) {
	r, err := http.NewRequestWithContext(ctx, method, khipuServer+path, nil)
	if err != nil {
		return nil, err
	}
	route, params, err := c.router.FindRoute(r)
	if err != nil {
		return nil, err
	}
	in := &openapi3filter.RequestValidationInput{Request: r, PathParams: params, Route: route, Options: c.opts}
	return c.checkAnswer(ctx, in, http.StatusOK, http.Header{"Content-Type": {"application/json"}}, body, which)
}

// undocumented names every field of the JSON body that schema does not
// list, at any depth. The document does not forbid other fields (it has no
// additionalProperties: false), but a field it does not list is one that
// neither Khipu nor a client generated from the document knows.
func undocumented(schema *openapi3.Schema, body []byte) []error {
	v, err := decodeJSON(body)
	if err != nil {
		return nil // the schema check says so
	}
	var errs []error
	var walk func(s *openapi3.Schema, v any, at string)
	walk = func(s *openapi3.Schema, v any, at string) {
		switch v := v.(type) {
		case map[string]any:
			for k, field := range v {
				prop, known := s.Properties[k]
				if !known {
					errs = append(errs, fmt.Errorf("field %s%s is not in the document", at, k))
					continue
				}
				walk(prop.Value, field, at+k+".")
			}
		case []any:
			if s.Items != nil {
				for _, item := range v {
					walk(s.Items.Value, item, at)
				}
			}
		}
	}
	walk(schema, v, "")
	return errs
}
