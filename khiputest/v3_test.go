package khiputest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/khipu-go/khipu"
	"github.com/khipu-go/khipu/internal/sign"
	"github.com/khipu-go/khipu/khiputest"
)

// These tests speak API v3 as any HTTP client would, from Khipu's
// description: plain net/http requests with an x-api-key header and JSON
// bodies.

const apiKey = "test-api-key"

func newV3Server(t *testing.T, opts ...khiputest.ServerOption) *khiputest.Server {
	t.Helper()
	srv := khiputest.NewServer(receiverID, secret, append(opts, khiputest.WithAPIKey(apiKey))...)
	t.Cleanup(srv.Close)
	return srv
}

// v3Answer is what the server answered a v3 request.
type v3Answer struct {
	status int
	header http.Header
	raw    []byte
}

// object is the answer's JSON object, numbers kept as json.Number so that
// a test can tell a number from a string.
func (a v3Answer) object(t *testing.T) map[string]any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(a.raw))
	dec.UseNumber()
	var m map[string]any
	require.NoError(t, dec.Decode(&m), "%s", a.raw)
	return m
}

// error is the answer as an error body; every v3 error is JSON.
func (a v3Answer) error(t *testing.T) khipuError {
	t.Helper()
	require.Equal(t, "application/json", a.header.Get("Content-Type"), "%d %s", a.status, a.raw)
	var ke khipuError
	require.NoError(t, json.Unmarshal(a.raw, &ke), "%s", a.raw)
	assert.NotEmpty(t, ke.Message)
	return ke
}

// v3Send sends a v3 request with key (none when ""), body as JSON (none
// when ""), and returns the answer.
func v3Send(t *testing.T, srv *khiputest.Server, key, method, path, body string) v3Answer {
	t.Helper()
	return v3Do(t, newV3Request(t, srv, key, method, path, body))
}

// newV3Request is a v3 request with key (none when ""), body as JSON (none
// when "").
func newV3Request(t *testing.T, srv *khiputest.Server, key, method, path, body string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, srv.V3URL()+path, strings.NewReader(body))
	require.NoError(t, err)
	if key != "" {
		req.Header.Set("x-api-key", key)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	return req
}

// v3Do sends req and returns the answer.
func v3Do(t *testing.T, req *http.Request) v3Answer {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return v3Answer{resp.StatusCode, resp.Header, raw}
}

// v3Call sends a v3 request with the server's key.
func v3Call(t *testing.T, srv *khiputest.Server, method, path, body string) v3Answer {
	t.Helper()
	return v3Send(t, srv, srv.APIKey(), method, path, body)
}

// v3OK sends a v3 request that must succeed and returns its JSON object.
func v3OK(t *testing.T, srv *khiputest.Server, method, path, body string) map[string]any {
	t.Helper()
	a := v3Call(t, srv, method, path, body)
	require.Equal(t, http.StatusOK, a.status, "%s", a.raw)
	require.Equal(t, "application/json", a.header.Get("Content-Type"))
	return a.object(t)
}

// v3Fails sends a v3 request that must fail with status and returns its
// error body.
func v3Fails(t *testing.T, srv *khiputest.Server, status int, method, path, body string) khipuError {
	t.Helper()
	a := v3Call(t, srv, method, path, body)
	require.Equal(t, status, a.status, "%s", a.raw)
	ke := a.error(t)
	assert.Equal(t, status, ke.Status, "the body repeats the status, as v2's")
	return ke
}

// v3Create creates a payment through v3 from a JSON body and returns its id.
func v3Create(t *testing.T, srv *khiputest.Server, body string) string {
	t.Helper()
	id, _ := v3OK(t, srv, http.MethodPost, "/v3/payments", body)["payment_id"].(string)
	require.NotEmpty(t, id)
	return id
}

const v3Order = `{"amount": 5000, "currency": "CLP", "subject": "Order 7", "transaction_id": "order-7"}`

// keysIn returns the keys of the JSON object raw, in order.
func keysIn(t *testing.T, raw []byte) []string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(raw))
	_, err := dec.Token()
	require.NoError(t, err)
	var keys []string
	for dec.More() {
		tok, err := dec.Token()
		require.NoError(t, err)
		keys = append(keys, tok.(string))
		var skip json.RawMessage
		require.NoError(t, dec.Decode(&skip))
	}
	return keys
}

// realKeys are the keys of a body Khipu really sent, in its order.
func realKeys(t *testing.T, name string) []string {
	t.Helper()
	raw, err := os.ReadFile("../testdata/realworld/" + name)
	require.NoError(t, err)
	return keysIn(t, raw)
}

func sorted(s []string) []string { return slices.Sorted(slices.Values(s)) }

func TestV3URLAndAPIKey(t *testing.T) {
	srv := khiputest.NewServer(receiverID, secret)
	defer srv.Close()
	assert.Equal(t, srv.V3URL()+khiputest.APIPath, srv.URL(), "v3 lives at the root, v2 below /api/2.0")
	assert.NotContains(t, srv.V3URL(), "/v3", "v3 paths carry their /v3")

	other := khiputest.NewServer(receiverID, secret)
	defer other.Close()
	assert.GreaterOrEqual(t, len(srv.APIKey()), 32)
	assert.NotEqual(t, srv.APIKey(), other.APIKey(), "a random key by default")
	assert.Equal(t, http.StatusOK, v3Call(t, srv, http.MethodGet, "/v3/banks", "").status)
	assert.Equal(t, http.StatusUnauthorized, v3Send(t, srv, other.APIKey(), http.MethodGet, "/v3/banks", "").status)

	assert.Equal(t, apiKey, newV3Server(t).APIKey(), "WithAPIKey sets it")
	assert.PanicsWithValue(t, "khiputest: WithAPIKey: the key is empty", func() { khiputest.WithAPIKey(" ") }, "a server that takes no key hides a client that sends none")
	assert.PanicsWithValue(t, "khiputest: WithAPIKey: the key has a space or a control character, which Khipu's clients refuse to send", func() { khiputest.WithAPIKey("a key") })
}

// v3Endpoint is a request to one v3 endpoint.
type v3Endpoint struct{ endpoint, method, path, body string }

// v3Endpoints are a request to each v3 endpoint that the server's key
// makes succeed, given a paid payment id.
func v3Endpoints(paid string) []v3Endpoint {
	list := []v3Endpoint{
		{endpoint: khiputest.EndpointV3BanksList, path: "/v3/banks", body: ""},
		{endpoint: khiputest.EndpointV3PaymentsCreate, path: "/v3/payments", body: v3Order},
		{endpoint: khiputest.EndpointV3PaymentsGet, path: "/v3/payments/" + paid, body: ""},
		{endpoint: khiputest.EndpointV3PaymentsRefund, path: "/v3/payments/" + paid + "/refunds", body: `{"amount": 1}`},
		{endpoint: khiputest.EndpointV3PaymentsConfirm, path: "/v3/payments/" + paid + "/confirm", body: ""},
		{endpoint: khiputest.EndpointV3Predict, path: "/v3/predict?" + predictQuery("1000").Encode(), body: ""},
		{endpoint: khiputest.EndpointV3ReceiversCreate, path: "/v3/receivers", body: receiverJSON(nil)},
		{endpoint: khiputest.EndpointV3PaymentMethodsList, path: "/v3/merchants/" + receiverID + "/paymentMethods", body: ""},
		{endpoint: khiputest.EndpointV3PaymentsDelete, path: "/v3/payments/" + paid, body: ""}, // last: it answers 400, the payment is paid
	}
	for i, e := range list {
		list[i].method, _, _ = strings.Cut(e.endpoint, " ")
	}
	return list
}

// paidV3Server is a v3 server with a paid payment, whose id it returns.
func paidV3Server(t *testing.T) (*khiputest.Server, string) {
	t.Helper()
	srv := newV3Server(t)
	id := v3Create(t, srv, v3Order)
	require.NoError(t, srv.Pay(id))
	return srv, id
}

func TestV3RefusesAMissingOrWrongAPIKey(t *testing.T) {
	srv, id := paidV3Server(t)
	for _, e := range v3Endpoints(id) {
		for name, key := range map[string]string{"no": "", "a wrong": "wrong", "v2's secret as": secret, "a longer": apiKey + "x"} {
			t.Run(e.endpoint+" with "+name+" key is a 401", func(t *testing.T) {
				a := v3Send(t, srv, key, e.method, e.path, e.body)
				require.Equal(t, http.StatusUnauthorized, a.status, "%s", a.raw)
				assert.Equal(t, http.StatusUnauthorized, a.error(t).Status)
			})
		}
	}
	t.Run("nothing was created, paid or changed", func(t *testing.T) {
		p := v3OK(t, srv, http.MethodGet, "/v3/payments/"+id, "")
		assert.Equal(t, "done", p["status"])
		assert.Equal(t, "normal", p["status_detail"])
		for _, r := range srv.Requests()[1 : len(srv.Requests())-1] {
			assert.Equal(t, http.StatusUnauthorized, r.Status, r.Path)
			assert.Empty(t, r.ReceiverID, "a wrong key names no account")
		}
		assert.Len(t, srv.Requests(), 2+4*len(v3Endpoints(id)))
	})
	t.Run("with the key, every endpoint answers", func(t *testing.T) {
		for _, e := range v3Endpoints(id) {
			a := v3Call(t, srv, e.method, e.path, e.body)
			assert.Contains(t, []int{200, 400}, a.status, "%s %s", e.endpoint, a.raw)
		}
	})
}

func TestV3Banks(t *testing.T) {
	srv := newV3Server(t)
	a := v3Call(t, srv, http.MethodGet, "/v3/banks", "")
	require.Equal(t, http.StatusOK, a.status)
	assert.Equal(t, realKeys(t, "v3-banks-khiputools-1.json"), keysIn(t, a.raw))
	banks, _ := a.object(t)["banks"].([]any)
	require.NotEmpty(t, banks)
	for _, b := range banks {
		bank := b.(map[string]any)
		assert.IsType(t, "", bank["min_amount"], "min_amount is a string, as Khipu's v3 sends it")
		assert.Regexp(t, `^\d+\.\d{4}$`, bank["min_amount"])
		assert.NotEmpty(t, bank["bank_id"])
		assert.Contains(t, []any{"Persona", "Empresa"}, bank["type"])
	}
	real, err := os.ReadFile("../testdata/realworld/v3-banks-khiputools-1.json")
	require.NoError(t, err)
	assert.Equal(t, sorted(keysIn(t, firstBank(t, real))), sorted(keysIn(t, firstBank(t, a.raw))), "a bank's fields")
	assert.Contains(t, string(a.raw), `https:\/\/`, "slashes escaped as Khipu's JSON has them")

	var typed struct{ Banks []khipu.Bank }
	require.NoError(t, json.Unmarshal(a.raw, &typed))
	assert.Equal(t, "200", typed.Banks[0].MinAmount.String())
}

// firstBank is the first bank of a GET /v3/banks answer.
func firstBank(t *testing.T, raw []byte) []byte {
	t.Helper()
	var list struct{ Banks []json.RawMessage }
	require.NoError(t, json.Unmarshal(raw, &list))
	require.NotEmpty(t, list.Banks)
	return list.Banks[0]
}

func TestV3CreatePaymentAnswersLikeKhipu(t *testing.T) {
	srv := newV3Server(t, khiputest.WithCurrencies("CLP", "USD"))
	a := v3Call(t, srv, http.MethodPost, "/v3/payments", v3Order)
	require.Equal(t, http.StatusOK, a.status, "%s", a.raw)
	assert.Equal(t, sorted(realKeys(t, "v3-payment-created-khiputools-1.json")), sorted(keysIn(t, a.raw)), "no webpay_url")
	assert.Equal(t, sorted(realKeys(t, "v3-payment-created-testkhipu-1.json")), sorted(keysIn(t, a.raw)))
	created := a.object(t)
	assert.Regexp(t, `^[a-z0-9]{12}$`, created["payment_id"])
	assert.Equal(t, false, created["ready_for_terminal"])
	assert.Equal(t, "khipu:///pos/"+created["payment_id"].(string), created["app_url"])
	assert.Contains(t, string(a.raw), `khipu:\/\/\/pos\/`)

	t.Run("a payment with every field of PaymentCreate is accepted", func(t *testing.T) {
		body := `{
			"amount": 19.99, "currency": "USD", "subject": "Every field", "transaction_id": "o-1",
			"custom": "<x/>", "body": "` + strings.Repeat("b", 5120) + `", "bank_id": "Bawdf",
			"return_url": "https://s.example/r", "cancel_url": "https://s.example/c",
			"picture_url": "https://s.example/p.png", "notify_url": "https://s.example/n",
			"contract_url": "https://s.example/c.pdf", "notify_api_version": "3.0",
			"expires_date": "` + time.Now().Add(time.Hour).Format(time.RFC3339) + `",
			"send_email": true, "payer_name": "Ana", "payer_email": "ana@example.com",
			"send_reminders": false, "responsible_user_email": "v@example.com",
			"fixed_payer_personal_identifier": "11.111.111-1", "integrator_fee": "1.5",
			"collect_account_uuid": "u-1",
			"confirm_timeout_date": "` + time.Now().Add(48*time.Hour).Format(time.RFC3339) + `",
			"mandatory_payment_method": "simplified_transfer", "psp_client_merchant_name": "Tienda"
		}`
		id := v3Create(t, srv, body)
		p := v3OK(t, srv, http.MethodGet, "/v3/payments/"+id, "")
		assert.Equal(t, "19.9900", p["amount"])
		assert.Equal(t, "USD", p["currency"])
		assert.Equal(t, true, p["send_email"])
		assert.Equal(t, false, p["send_reminders"])
		assert.Equal(t, "3.0", p["notify_api_version"])
		assert.Equal(t, "Ana", p["payer_name"])
	})
}

func TestV3CreatePaymentValidatesTheJSON(t *testing.T) {
	srv := newV3Server(t, khiputest.WithStrict()) // a null or unknown field is refused, not a warning
	tests := []struct {
		name       string
		body       string
		wantFields []string
	}{
		{"an unknown field", `{"amount": 1000, "currency": "CLP", "subject": "x", "ammount": 1000}`, []string{"ammount"}},
		{"an amount as a string", `{"amount": "1000", "currency": "CLP", "subject": "x"}`, []string{"amount"}},
		{"send_email as a string", `{"amount": 1000, "currency": "CLP", "subject": "x", "send_email": "true"}`, []string{"send_email"}},
		{"send_reminders as a number", `{"amount": 1000, "currency": "CLP", "subject": "x", "send_reminders": 1}`, []string{"send_reminders"}},
		{"integrator_fee as a number", `{"amount": 1000, "currency": "CLP", "subject": "x", "integrator_fee": 10}`, []string{"integrator_fee"}},
		{"a subject as a number", `{"amount": 1000, "currency": "CLP", "subject": 7}`, []string{"subject"}},
		{"a subject as an object", `{"amount": 1000, "currency": "CLP", "subject": {"text": "x"}}`, []string{"subject"}},
		{"a null field", `{"amount": 1000, "currency": "CLP", "subject": "x", "transaction_id": null}`, []string{"transaction_id"}},
		{"an empty optional string", `{"amount": 1000, "currency": "CLP", "subject": "x", "transaction_id": ""}`, []string{"transaction_id"}},
		{"no amount, currency or subject", `{}`, []string{"amount", "currency", "subject"}},
		{"an unknown currency", `{"amount": 1000, "currency": "clp", "subject": "x"}`, []string{"currency"}},
		{"a currency Khipu does not collect here", `{"amount": 1000, "currency": "XAU", "subject": "x"}`, []string{"currency"}},
		{"a negative amount", `{"amount": -5, "currency": "CLP", "subject": "x"}`, []string{"amount"}},
		{"a zero amount", `{"amount": 0, "currency": "CLP", "subject": "x"}`, []string{"amount"}},
		{"an amount with an exponent", `{"amount": 1e3, "currency": "CLP", "subject": "x"}`, []string{"amount"}},
		{"an amount with a float artifact", `{"amount": 19.989999999999998, "currency": "USD", "subject": "x"}`, []string{"amount"}},
		{"a CLP amount with cents", `{"amount": 19.99, "currency": "CLP", "subject": "x"}`, []string{"amount"}},
		{"a subject over 255 characters", `{"amount": 1000, "currency": "CLP", "subject": "` + strings.Repeat("ñ", 256) + `"}`, []string{"subject"}},
		{"a body over 5120 characters", `{"amount": 1000, "currency": "CLP", "subject": "x", "body": "` + strings.Repeat("b", 5121) + `"}`, []string{"body"}},
		{"an integrator_fee over 16 characters", `{"amount": 1000, "currency": "CLP", "subject": "x", "integrator_fee": "0.00000000000001"}`, []string{"integrator_fee"}},
		{"notify_api_version 2.0", `{"amount": 1000, "currency": "CLP", "subject": "x", "notify_api_version": "2.0"}`, []string{"notify_api_version"}},
		{"notify_api_version as a number", `{"amount": 1000, "currency": "CLP", "subject": "x", "notify_api_version": 3.0}`, []string{"notify_api_version"}},
		{"a date that is not ISO-8601", `{"amount": 1000, "currency": "CLP", "subject": "x", "expires_date": "31/12/2030"}`, []string{"expires_date"}},
		{"a relative notify_url", `{"amount": 1000, "currency": "CLP", "subject": "x", "notify_url": "/notify"}`, []string{"notify_url"}},
		{"a field sent twice", `{"amount": 1000, "currency": "CLP", "subject": "x", "amount": 2000}`, []string{"amount"}},
		{"a wrong type and an unknown field at once", `{"amount": "1000", "currency": "CLP", "subject": "x", "foo": 1}`, []string{"amount", "foo"}},
	}
	for _, tt := range tests {
		t.Run(tt.name+" is a 400 naming it", func(t *testing.T) {
			ke := v3Fails(t, srv, http.StatusBadRequest, http.MethodPost, "/v3/payments", tt.body)
			assert.Equal(t, tt.wantFields, ke.fields(), "%+v", ke)
		})
	}
	t.Run("none of them created a payment", func(t *testing.T) {
		for _, r := range srv.Requests() {
			assert.Equal(t, http.StatusBadRequest, r.Status, "%s", r.Body)
		}
	})
}

func TestV3RefusesMalformedRequests(t *testing.T) {
	srv := newV3Server(t)
	id := v3Create(t, srv, v3Order)
	send := func(t *testing.T, method, path, contentType, body string) v3Answer {
		t.Helper()
		req := newV3Request(t, srv, apiKey, method, path, body)
		req.Header.Del("Content-Type")
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		return v3Do(t, req)
	}
	tests := []struct {
		name                            string
		method, path, contentType, body string
		want                            int
	}{
		{"a body that is not JSON", "POST", "/v3/payments", "application/json", `amount=1000`, 400},
		{"a JSON array", "POST", "/v3/payments", "application/json", `[{"amount": 1000}]`, 400},
		{"JSON null", "POST", "/v3/payments", "application/json", `null`, 400},
		{"two JSON objects", "POST", "/v3/payments", "application/json", v3Order + v3Order, 400},
		{"truncated JSON", "POST", "/v3/payments", "application/json", v3Order[:20], 400},
		{"a form body", "POST", "/v3/payments", "application/x-www-form-urlencoded", v3Order, 400},
		{"a JSON body without Content-Type", "POST", "/v3/payments", "", v3Order, 400},
		{"a POST with a query", "POST", "/v3/payments?amount=1000", "application/json", v3Order, 400},
		{"a GET with a body", "GET", "/v3/payments/" + id, "application/json", `{}`, 400},
		{"a DELETE with a body", "DELETE", "/v3/payments/" + id, "application/json", `{}`, 400},
		{"a GET with an unknown parameter", "GET", "/v3/banks?page=2", "", "", 400},
		{"a parameter sent twice", "GET", "/v3/predict?" + predictQuery("1000").Encode() + "&amount=2", "", "", 400},
		{"an unknown path", "GET", "/v3/nope", "", "", 404},
		{"a method the path does not take", "PUT", "/v3/payments/" + id, "", "", 404},
		{"a POST to a read", "POST", "/v3/banks", "", "", 404},
	}
	for _, tt := range tests {
		t.Run(tt.name+" is a "+strconv.Itoa(tt.want), func(t *testing.T) {
			a := send(t, tt.method, tt.path, tt.contentType, tt.body)
			assert.Equal(t, tt.want, a.status, "%s", a.raw)
			assert.Equal(t, tt.want, a.error(t).Status)
		})
	}
	t.Run("application/json with a charset is JSON", func(t *testing.T) {
		a := send(t, "POST", "/v3/payments", "application/json; charset=utf-8", v3Order)
		assert.Equal(t, http.StatusOK, a.status, "%s", a.raw)
	})
	t.Run("the payment is untouched", func(t *testing.T) {
		assert.Equal(t, "pending", v3OK(t, srv, http.MethodGet, "/v3/payments/"+id, "")["status"])
	})
}

func TestV3GetPaymentAnswersLikeKhipu(t *testing.T) {
	srv := newV3Server(t)
	id := v3Create(t, srv, v3Order)
	want := sorted(realKeys(t, "v3-payment-derekillo-1.json"))
	assert.Equal(t, want, sorted(realKeys(t, "v3-payment-khiputools-1.json")), "Khipu's real answer and its example agree")

	check := func(t *testing.T, a v3Answer, want []string) map[string]any {
		t.Helper()
		require.Equal(t, http.StatusOK, a.status, "%s", a.raw)
		assert.Equal(t, want, sorted(keysIn(t, a.raw)), "the fields of Khipu's real answer, no webpay_url")
		p := a.object(t)
		assert.Equal(t, "5000.0000", p["amount"], "a string with 4 decimals, as Khipu sends it")
		assert.Equal(t, "0.0000", p["discount"])
		assert.Equal(t, json.Number(receiverID), p["receiver_id"], "a number")
		assert.Equal(t, "", p["third_party_authorization_details"])
		assert.Equal(t, "order-7", p["transaction_id"])
		assert.Equal(t, []any{}, p["attachment_urls"])
		return p
	}

	// Unpaid, it has no conciliation_date, as Khipu's pending answer
	// (v2-payment-infosicoes-1.json) has none.
	unpaid := slices.DeleteFunc(slices.Clone(want), func(k string) bool { return k == "conciliation_date" })
	p := check(t, v3Call(t, srv, http.MethodGet, "/v3/payments/"+id, ""), unpaid)
	assert.Equal(t, "pending", p["status"])
	assert.Regexp(t, `^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`, p["expires_date"], "created without one, it expires all the same, as Khipu's do")
	assert.Equal(t, "not_available", p["payment_method"])
	assert.Equal(t, "", p["funds_source"])

	require.NoError(t, srv.Pay(id))
	a := v3Call(t, srv, http.MethodGet, "/v3/payments/"+id, "")
	p = check(t, a, want)
	assert.Equal(t, "done", p["status"])
	assert.Equal(t, "normal", p["status_detail"])
	assert.Regexp(t, `^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`, p["conciliation_date"], "milliseconds and Z, as Khipu's dates")
	assert.Equal(t, "simplified_transfer", p["payment_method"])
	assert.Equal(t, "not-available", p["funds_source"], "as Khipu's DemoBank payments have it")
	assert.NotEmpty(t, p["receipt_url"])
	assert.Contains(t, string(a.raw), `http:\/\/127.0.0.1`, "slashes escaped as Khipu's JSON has them")

	var decoded khipu.Payment
	require.NoError(t, json.Unmarshal(a.raw, &decoded), "package khipu reads it")
	assert.NoError(t, decoded.Check("order-7", khipu.NewAmount(5000), "CLP"))
	assert.Equal(t, receiverID, decoded.ReceiverID)
	assert.False(t, decoded.ConciliationDate.IsZero())
}

func TestV3PaymentLifecycle(t *testing.T) {
	srv := newV3Server(t, khiputest.WithStrict()) // a null or unknown field is refused, not a warning
	path := func(id, action string) string { return "/v3/payments/" + id + action }
	fieldAtFault := func(t *testing.T, method, path, body string) string {
		t.Helper()
		ke := v3Fails(t, srv, http.StatusBadRequest, method, path, body)
		require.NotEmpty(t, ke.Errors, "%+v", ke)
		return ke.Errors[0].Field
	}

	t.Run("a pending payment can be deleted, then it is a 404", func(t *testing.T) {
		id := v3Create(t, srv, v3Order)
		assert.NotEmpty(t, v3OK(t, srv, http.MethodDelete, path(id, ""), "")["message"])
		v3Fails(t, srv, http.StatusNotFound, http.MethodGet, path(id, ""), "")
		v3Fails(t, srv, http.StatusNotFound, http.MethodDelete, path(id, ""), "")
		assert.Error(t, srv.Pay(id))
	})

	t.Run("an unknown payment is a 404 on every payment endpoint", func(t *testing.T) {
		v3Fails(t, srv, http.StatusNotFound, http.MethodGet, path("zzzzzzzzzzzz", ""), "")
		v3Fails(t, srv, http.StatusNotFound, http.MethodDelete, path("zzzzzzzzzzzz", ""), "")
		v3Fails(t, srv, http.StatusNotFound, http.MethodPost, path("zzzzzzzzzzzz", "/confirm"), "")
		v3Fails(t, srv, http.StatusNotFound, http.MethodPost, path("zzzzzzzzzzzz", "/refunds"), "")
	})

	t.Run("only a paid payment is confirmed, once, and then not refunded", func(t *testing.T) {
		id := v3Create(t, srv, v3Order)
		assert.Equal(t, "payment_id", fieldAtFault(t, http.MethodPost, path(id, "/confirm"), ""), "pending")
		require.NoError(t, srv.Pay(id))
		assert.Equal(t, "payment_id", fieldAtFault(t, http.MethodDelete, path(id, ""), ""), "paid")
		assert.NotEmpty(t, v3OK(t, srv, http.MethodPost, path(id, "/confirm"), "")["message"])
		assert.Equal(t, "payment_id", fieldAtFault(t, http.MethodPost, path(id, "/confirm"), ""), "twice")
		assert.Equal(t, "payment_id", fieldAtFault(t, http.MethodPost, path(id, "/refunds"), ""), "settled")
	})

	t.Run("refunds: partial with an amount, the rest without a body", func(t *testing.T) {
		id := v3Create(t, srv, v3Order)
		assert.Equal(t, "payment_id", fieldAtFault(t, http.MethodPost, path(id, "/refunds"), ""), "pending")
		require.NoError(t, srv.Pay(id))
		for body, field := range map[string]string{
			`{"amount": "1000"}`: "amount", `{"amount": 5001}`: "amount", `{"amount": 0.5}`: "amount",
			`{"amount": 0}`: "amount", `{"amount": null}`: "amount", `{"value": 10}`: "value",
		} {
			assert.Equal(t, field, fieldAtFault(t, http.MethodPost, path(id, "/refunds"), body), body)
		}
		assert.Equal(t, "refunded 2000", v3OK(t, srv, http.MethodPost, path(id, "/refunds"), `{"amount": 2000}`)["message"])
		assert.Equal(t, "refunded 3000", v3OK(t, srv, http.MethodPost, path(id, "/refunds"), "")["message"], "no body: the rest")
		p := v3OK(t, srv, http.MethodGet, path(id, ""), "")
		assert.Equal(t, "reversed", p["status_detail"])
		assert.Equal(t, "payment_id", fieldAtFault(t, http.MethodPost, path(id, "/refunds"), `{}`), "nothing left")
	})
}

func TestV2AndV3ShareOneStore(t *testing.T) {
	srv := newV3Server(t)
	client := newClient(t, srv, receiverID, secret)
	ctx := context.Background()

	t.Run("a payment created with v3 is seen, paid and refunded through v2", func(t *testing.T) {
		id := v3Create(t, srv, v3Order)
		p, err := client.Payments.Get(ctx, id)
		require.NoError(t, err)
		assert.Equal(t, khipu.StatusPending, p.Status)
		assert.Equal(t, khipu.NewAmount(5000), p.Amount)
		assert.Equal(t, "order-7", p.TransactionID)
		assert.NotEmpty(t, p.WebpayURL, "v2 answers have webpay_url")

		require.NoError(t, srv.Pay(id))
		_, err = client.Payments.Refund(ctx, id, &khipu.RefundParams{Amount: khipu.NewAmount(1000)})
		require.NoError(t, err)
		v3OK(t, srv, http.MethodPost, "/v3/payments/"+id+"/refunds", "")
		assert.Equal(t, "reversed", v3OK(t, srv, http.MethodGet, "/v3/payments/"+id, "")["status_detail"])
	})

	t.Run("a payment created with v2 is seen and deleted through v3", func(t *testing.T) {
		created, err := client.Payments.Create(ctx, &khipu.PaymentCreateParams{
			Subject: "v2", Currency: "CLP", Amount: khipu.NewAmount(1234), TransactionID: "v2-1",
		})
		require.NoError(t, err)
		p := v3OK(t, srv, http.MethodGet, "/v3/payments/"+created.PaymentID, "")
		assert.Equal(t, "1234.0000", p["amount"])
		assert.Equal(t, "v2-1", p["transaction_id"])
		v3OK(t, srv, http.MethodDelete, "/v3/payments/"+created.PaymentID, "")

		_, err = client.Payments.Get(ctx, created.PaymentID)
		var ve *khipu.ValidationError
		require.ErrorAs(t, err, &ve, "v2 answers a deleted payment as it always has: a 400 naming payment_id")
		assert.Equal(t, "payment_id", ve.Errors[0].Field)
	})
}

func TestV3AnotherAccountsResourcesAre403(t *testing.T) {
	srv := newV3Server(t)
	integrator := newClient(t, srv, receiverID, secret)
	ctx := context.Background()

	// The server's account creates a shop, which creates one of its own:
	// the integrator sees its shop's payments, not those of its shop's shop.
	shop := receiverCreated(t, v3OK(t, srv, http.MethodPost, "/v3/receivers", receiverJSON(nil)))
	shopClient := newClient(t, srv, shop.ReceiverID, shop.Secret)
	grandchild, err := shopClient.Receivers.Create(ctx, receiverParams())
	require.NoError(t, err)
	other := newClient(t, srv, grandchild.ReceiverID, grandchild.Secret)

	seen := mustCreate(t, shopClient)
	p := v3OK(t, srv, http.MethodGet, "/v3/payments/"+seen.PaymentID, "")
	assert.Equal(t, json.Number(shop.ReceiverID), p["receiver_id"])

	hidden := mustCreate(t, other)
	require.NoError(t, srv.Pay(hidden.PaymentID))
	v3Fails(t, srv, http.StatusForbidden, http.MethodGet, "/v3/payments/"+hidden.PaymentID, "")
	v3Fails(t, srv, http.StatusForbidden, http.MethodPost, "/v3/payments/"+hidden.PaymentID+"/refunds", "")
	v3Fails(t, srv, http.StatusForbidden, http.MethodGet, "/v3/merchants/"+grandchild.ReceiverID+"/paymentMethods", "")
	v3Fails(t, srv, http.StatusForbidden, http.MethodGet, "/v3/merchants/99999/paymentMethods", "")
	_, err = integrator.Payments.Get(ctx, hidden.PaymentID)
	var ae *khipu.AuthorizationError
	assert.ErrorAs(t, err, &ae, "as v2 does")
}

func receiverParams() *khipu.ReceiverCreateParams {
	return &khipu.ReceiverCreateParams{
		AdminFirstName: "Ana", AdminLastName: "Pérez", AdminEmail: "ana@shop.example", CountryCode: "CL",
		BusinessIdentifier: "76.123.456-7", BusinessCategory: "ecommerce", BusinessName: "Tienda Ana",
		BusinessPhone: "+56 2 2345 6789", BusinessAddressLine1: "Av. Providencia 123", BusinessAddressLine2: "Providencia",
		BusinessAddressLine3: "Santiago", ContactFullName: "Ana Pérez", ContactJobTitle: "Gerente",
		ContactEmail: "ana@shop.example", ContactPhone: "+56 9 8765 4321",
	}
}

// receiverJSON is a ReceiverCreate body with every required field, changed
// by changes (a nil value leaves a field out).
func receiverJSON(changes map[string]any) string {
	fields := map[string]any{
		"admin_first_name": "Ana", "admin_last_name": "Pérez", "admin_email": "ana@shop.example",
		"country_code": "CL", "business_identifier": "76.123.456-7", "business_category": "ecommerce",
		"business_name": "Tienda Ana", "business_phone": "+56 2 2345 6789",
		"business_address_line_1": "Av. Providencia 123", "business_address_line_2": "Providencia",
		"business_address_line_3": "Santiago", "contact_full_name": "Ana Pérez", "contact_job_title": "Gerente",
		"contact_email": "ana@shop.example", "contact_phone": "+56 9 8765 4321",
		"notify_url": "https://shop.example/khipu/receiver",
	}
	for k, v := range changes {
		if v == nil {
			delete(fields, k)
		} else {
			fields[k] = v
		}
	}
	body, _ := json.Marshal(fields)
	return string(body)
}

func receiverCreated(t *testing.T, answer map[string]any) khipu.ReceiverCreated {
	t.Helper()
	raw, err := json.Marshal(answer)
	require.NoError(t, err)
	var rc khipu.ReceiverCreated
	require.NoError(t, json.Unmarshal(raw, &rc))
	return rc
}

func TestV3Receivers(t *testing.T) {
	srv := newV3Server(t, khiputest.WithStrict()) // a null or unknown field is refused, not a warning
	answer := v3OK(t, srv, http.MethodPost, "/v3/receivers", receiverJSON(nil))
	assert.Equal(t, []string{"api_key", "receiver_id", "secret"}, sorted(keysOfMap(answer)), "v3's answer has the new account's API key (receivers_test.go)")
	created := receiverCreated(t, answer)
	assert.NotEqual(t, receiverID, created.ReceiverID)

	shop := newClient(t, srv, created.ReceiverID, created.Secret)
	payment := mustCreate(t, shop)
	p := v3OK(t, srv, http.MethodGet, "/v3/payments/"+payment.PaymentID, "")
	assert.Equal(t, json.Number(created.ReceiverID), p["receiver_id"], "the integrator's key sees the new account's payments")
	v3OK(t, srv, http.MethodGet, "/v3/merchants/"+created.ReceiverID+"/paymentMethods", "")

	for name, tt := range map[string]struct {
		changes map[string]any
		fields  []string
	}{
		"a missing required field":     {map[string]any{"admin_last_name": nil}, []string{"admin_last_name"}},
		"a phone as a number":          {map[string]any{"business_phone": 56223456789}, []string{"business_phone"}},
		"a country that is not a code": {map[string]any{"country_code": "Chile"}, []string{"country_code"}},
		"an unknown field":             {map[string]any{"receiver_id": "x"}, []string{"receiver_id"}},
	} {
		t.Run(name+" is a 400 naming it", func(t *testing.T) {
			ke := v3Fails(t, srv, http.StatusBadRequest, http.MethodPost, "/v3/receivers", receiverJSON(tt.changes))
			assert.Equal(t, tt.fields, ke.fields())
		})
	}
}

func keysOfMap(m map[string]any) []string {
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	return keys
}

func TestV3PaymentMethods(t *testing.T) {
	srv := newV3Server(t)
	a := v3Call(t, srv, http.MethodGet, "/v3/merchants/"+receiverID+"/paymentMethods", "")
	require.Equal(t, http.StatusOK, a.status)
	assert.Equal(t, realKeys(t, "v2-payment-methods-khiputools-1.json"), keysIn(t, a.raw), "camelCase paymentMethods, as Khipu's")
	var typed struct{ PaymentMethods []khipu.PaymentMethod }
	require.NoError(t, json.Unmarshal(a.raw, &typed))
	require.NotEmpty(t, typed.PaymentMethods)
	for _, m := range typed.PaymentMethods {
		assert.NotEmpty(t, m.ID)
		assert.NotEmpty(t, m.Name)
	}
}

func predictQuery(amount string) url.Values {
	return url.Values{"payer_email": {"ana@example.com"}, "bank_id": {"Bawdf"}, "amount": {amount}, "currency": {"CLP"}}
}

func TestV3Predict(t *testing.T) {
	clock := newClock()
	srv := newV3Server(t, khiputest.WithClock(clock.Now))
	a := v3Call(t, srv, http.MethodGet, "/v3/predict?"+predictQuery("1000").Encode(), "")
	require.Equal(t, http.StatusOK, a.status, "%s", a.raw)
	assert.Equal(t, realKeys(t, "v3-predict-khiputools-1.json"), keysIn(t, a.raw))
	p := a.object(t)
	assert.Equal(t, "ok", p["result"])
	assert.Equal(t, json.Number("5000000"), p["max_amount"], "a number, as in Khipu's example")
	assert.Equal(t, json.Number("100000"), p["new_destinatary_max_amount"])
	coolDown, err := time.Parse(time.RFC3339, p["cool_down_date"].(string))
	require.NoError(t, err)
	assert.Equal(t, clock.Now().Add(24*time.Hour), coolDown, "a day after the request")

	assert.Equal(t, "ok", v3OK(t, srv, http.MethodGet, "/v3/predict?"+predictQuery("5000000").Encode(), "")["result"], "the maximum itself")
	assert.Equal(t, "max_amount_exceeded", v3OK(t, srv, http.MethodGet, "/v3/predict?"+predictQuery("5000001").Encode(), "")["result"])

	for _, field := range []string{"payer_email", "bank_id", "amount", "currency"} {
		t.Run("without "+field+" is a 400 naming it", func(t *testing.T) {
			q := predictQuery("1000")
			q.Del(field)
			ke := v3Fails(t, srv, http.StatusBadRequest, http.MethodGet, "/v3/predict?"+q.Encode(), "")
			assert.Equal(t, []string{field}, ke.fields())
		})
	}
	t.Run("bad values are a 400 naming them", func(t *testing.T) {
		q := url.Values{"payer_email": {"ana"}, "bank_id": {"nope"}, "amount": {"1,5"}, "currency": {"XXX"}}
		ke := v3Fails(t, srv, http.StatusBadRequest, http.MethodGet, "/v3/predict?"+q.Encode(), "")
		assert.Equal(t, []string{"amount", "bank_id", "currency", "payer_email"}, ke.fields())
	})
}

// delivery is a notification a shop received.
type delivery struct {
	header http.Header
	body   []byte
}

// notifiedShop is a shop's notify_url that records what it receives and
// answers with status.
func notifiedShop(t *testing.T, status int) (string, <-chan delivery) {
	t.Helper()
	got := make(chan delivery, 4)
	shop := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		assert.NoError(t, err) // the server's goroutine: not require
		assert.Equal(t, http.MethodPost, r.Method)
		got <- delivery{r.Header, body}
		w.WriteHeader(status)
	}))
	t.Cleanup(shop.Close)
	return shop.URL + "/khipu", got
}

// verified checks d's x-khipu-signature as a receiver must, over the raw
// body, and returns its time.
func verified(t *testing.T, d delivery) time.Time {
	t.Helper()
	header := d.header.Get("x-khipu-signature")
	parts := map[string]string{}
	for _, p := range strings.Split(header, ",") {
		k, v, _ := strings.Cut(p, "=")
		parts[k] = v
	}
	ms, err := strconv.ParseInt(parts["t"], 10, 64)
	require.NoError(t, err, header)
	assert.Equal(t, sign.Webhook(secret, ms, d.body), parts["s"], "signed over the raw body with the server's secret")
	return time.UnixMilli(ms)
}

func TestNotifySignsANotification3AnewAtTheTimeOfSending(t *testing.T) {
	clock := newClock()
	srv := newV3Server(t, khiputest.WithClock(clock.Now))
	notifyURL, got := notifiedShop(t, http.StatusOK)
	id := v3Create(t, srv, `{"amount": 1000, "currency": "CLP", "subject": "x", "notify_url": "`+notifyURL+`"}`)
	require.NoError(t, srv.Pay(id))
	first := recv(t, got)
	assert.Equal(t, clock.Now(), verified(t, first).UTC(), "signed at the clock's time")

	clock.Add(time.Minute)
	require.NoError(t, srv.Notify(id))
	again := recv(t, got)
	assert.Equal(t, first.body, again.body, "the same payment")
	assert.Equal(t, clock.Now(), verified(t, again).UTC(), "signed anew, a minute later")
}

func TestPayPostsASignedNotification3(t *testing.T) {
	srv := newV3Server(t)
	notifyURL, got := notifiedShop(t, http.StatusOK)
	id := v3Create(t, srv, `{"amount": 1000, "currency": "CLP", "subject": "Café", "transaction_id": "order-9",
		"notify_url": "`+notifyURL+`", "notify_api_version": "3.0"}`)

	before := time.Now().Truncate(time.Millisecond) // t is in whole milliseconds
	require.NoError(t, srv.Pay(id))
	after := time.Now()
	d := recv(t, got)
	assert.Equal(t, "application/json", d.header.Get("Content-Type"))
	signed := verified(t, d)
	assert.False(t, signed.Before(before) || signed.After(after), "signed at %v, while Pay ran from %v to %v", signed, before, after)
	assert.Equal(t, realKeys(t, "webhook3-khipudocs-1.json"), keysIn(t, d.body), "the fields of Khipu's example, in its order")
	assert.Contains(t, string(d.body), `"receipt_url":"http:\/\/127.0.0.1:`, "slashes escaped as Khipu's PHP does")
	assert.Contains(t, string(d.body), `"subject":"Caf\u00e9"`, "and non-ASCII characters")
	assert.Contains(t, string(d.body), `"amount":"1000.0000","discount":"0.0000"`)
	assert.Contains(t, string(d.body), `"receiver_id":`+receiverID+`,`, "a number")

	var p khipu.Payment
	require.NoError(t, json.Unmarshal(d.body, &p), "package khipu's decoder reads it")
	assert.Equal(t, id, p.PaymentID)
	assert.Equal(t, "Café", p.Subject)
	assert.Equal(t, khipu.NewAmount(1000), p.Amount)
	assert.Equal(t, "order-9", p.TransactionID)
	assert.Equal(t, receiverID, p.ReceiverID)
	assert.Equal(t, khipu.PaymentMethodSimplifiedTransfer, p.PaymentMethod)
	assert.False(t, p.ConciliationDate.IsZero())

	t.Run("re-encoded, the body no longer matches its signature", func(t *testing.T) {
		var m map[string]any
		require.NoError(t, json.Unmarshal(d.body, &m))
		reencoded, err := json.Marshal(m)
		require.NoError(t, err)
		ms := verified(t, d).UnixMilli()
		assert.NotEqual(t, sign.Webhook(secret, ms, d.body), sign.Webhook(secret, ms, reencoded))
	})

	t.Run("a v3 payment with a notify_url is notified with 3.0 by default", func(t *testing.T) {
		id := v3Create(t, srv, `{"amount": 1000, "currency": "CLP", "subject": "x", "notify_url": "`+notifyURL+`"}`)
		assert.Equal(t, "3.0", v3OK(t, srv, http.MethodGet, "/v3/payments/"+id, "")["notify_api_version"])
		require.NoError(t, srv.Pay(id))
		verified(t, recv(t, got))
	})

	t.Run("a v3 payment that asks for 1.3 gets the form of 1.3", func(t *testing.T) {
		id := v3Create(t, srv, `{"amount": 1000, "currency": "CLP", "subject": "x", "notify_url": "`+notifyURL+`", "notify_api_version": "1.3"}`)
		require.NoError(t, srv.Pay(id))
		d := recv(t, got)
		assert.Equal(t, "application/x-www-form-urlencoded", d.header.Get("Content-Type"))
		assert.Empty(t, d.header.Get("x-khipu-signature"))
		form, err := url.ParseQuery(string(d.body))
		require.NoError(t, err)
		assert.Equal(t, "1.3", form.Get("api_version"))
	})

	t.Run("a shop that refuses it is reported, as in 1.3", func(t *testing.T) {
		refusing, got := notifiedShop(t, http.StatusInternalServerError)
		id := v3Create(t, srv, `{"amount": 1000, "currency": "CLP", "subject": "x", "notify_url": "`+refusing+`"}`)
		var ne *khiputest.NotificationError
		require.ErrorAs(t, srv.Pay(id), &ne)
		assert.Equal(t, http.StatusInternalServerError, ne.StatusCode)
		verified(t, recv(t, got))
	})
}

func TestV3FailNext(t *testing.T) {
	srv, id := paidV3Server(t)
	for _, e := range v3Endpoints(id) {
		t.Run(e.endpoint, func(t *testing.T) {
			for _, status := range []int{400, 401, 403, 404, 500, 503} {
				srv.FailNext(e.endpoint, status, 1)
				a := v3Call(t, srv, e.method, e.path, e.body)
				assert.Equal(t, status, a.status)
				assert.Equal(t, status, a.error(t).Status, "a JSON error")
			}
			srv.FailNext(e.endpoint, http.StatusBadGateway, 2)
			for range 2 {
				a := v3Call(t, srv, e.method, e.path, e.body)
				assert.Equal(t, http.StatusBadGateway, a.status)
				assert.Contains(t, a.header.Get("Content-Type"), "text/html", "a proxy's page")
				assert.Contains(t, string(a.raw), "<html>")
			}
		})
	}
	t.Run("nothing was created, refunded or confirmed, and the endpoints work again", func(t *testing.T) {
		p := v3OK(t, srv, http.MethodGet, "/v3/payments/"+id, "")
		assert.Equal(t, "normal", p["status_detail"])
		v3OK(t, srv, http.MethodPost, "/v3/payments/"+id+"/confirm", "")
		created := 0
		for _, r := range srv.Requests() {
			if r.Endpoint == khiputest.EndpointV3PaymentsCreate && r.Status == http.StatusOK {
				created++
			}
		}
		assert.Equal(t, 1, created)
	})
	t.Run("v2 endpoints are not affected", func(t *testing.T) {
		srv.FailNext(khiputest.EndpointV3BanksList, 503, 1)
		_, err := newClient(t, srv, receiverID, secret).Banks.List(context.Background())
		require.NoError(t, err)
		assert.Equal(t, http.StatusServiceUnavailable, v3Call(t, srv, http.MethodGet, "/v3/banks", "").status)
	})
}

func TestV3RequestsRecordTheBody(t *testing.T) {
	srv := newV3Server(t)
	id := v3Create(t, srv, v3Order)
	v3Call(t, srv, http.MethodGet, "/v3/predict?"+predictQuery("1000").Encode(), "")
	v3Call(t, srv, http.MethodPost, "/v3/payments/"+id+"/confirm", "")
	v3Send(t, srv, "wrong", http.MethodGet, "/v3/banks", "")

	reqs := srv.Requests()
	require.Len(t, reqs, 4)
	assert.Equal(t, khiputest.Request{
		Method: "POST", Path: "/v3/payments", Endpoint: khiputest.EndpointV3PaymentsCreate,
		Body: []byte(v3Order), Header: reqs[0].Header, ReceiverID: receiverID, Status: 200,
	}, reqs[0], "a v3 POST has its parameters in Body, none in Params")
	assert.Equal(t, apiKey, reqs[0].Header.Get("x-api-key"))
	assert.Equal(t, "application/json", reqs[0].Header.Get("Content-Type"))

	assert.Equal(t, khiputest.EndpointV3Predict, reqs[1].Endpoint)
	assert.Equal(t, "/v3/predict", reqs[1].Path)
	assert.Equal(t, predictQuery("1000"), reqs[1].Params, "a GET's query is in Params")
	assert.Empty(t, reqs[1].Body)

	assert.Equal(t, "/v3/payments/"+id+"/confirm", reqs[2].Path)
	assert.Empty(t, reqs[2].Body)
	assert.Equal(t, http.StatusBadRequest, reqs[2].Status, "pending")

	assert.Equal(t, khiputest.EndpointV3BanksList, reqs[3].Endpoint)
	assert.Empty(t, reqs[3].ReceiverID, "a wrong key names no account")
	assert.Equal(t, http.StatusUnauthorized, reqs[3].Status)

	reqs[0].Body[0] = 'X'
	assert.Equal(t, []byte(v3Order), srv.Requests()[0].Body, "Requests returns a copy")

	t.Run("a v2 POST's form is recorded in Body too", func(t *testing.T) {
		mustCreate(t, newClient(t, srv, receiverID, secret))
		last := lastRequest(t, srv)
		form, err := url.ParseQuery(string(last.Body))
		require.NoError(t, err)
		assert.Equal(t, last.Params, form)
	})
}
