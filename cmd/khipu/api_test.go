package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/khipu-go/khipu"
	"github.com/khipu-go/khipu/khiputest"
	"github.com/khipu-go/khipu/khipuv3"
)

// v3Client is a library client of srv, to set up and look at what the
// commands did.
func v3Client(t *testing.T, srv *khiputest.Server) *khipuv3.Client {
	t.Helper()
	c, err := khipuv3.NewClient(testAPIKey, khipuv3.WithBaseURL(srv.V3URL()))
	require.NoError(t, err)
	return c
}

// newPayment creates a payment of 1000 CLP at srv and returns its id.
func newPayment(t *testing.T, srv *khiputest.Server) string {
	t.Helper()
	created, err := v3Client(t, srv).Payments.Create(context.Background(), &khipuv3.PaymentCreateParams{
		Subject: "Mate de calabaza", Currency: "CLP", Amount: khipu.NewAmount(1000), TransactionID: "order-42",
	})
	require.NoError(t, err)
	return created.PaymentID
}

// names replaces srv's address and the ids with names.
func names(srv *khiputest.Server, ids ...string) *normalizer {
	n := (&normalizer{}).replace(srv.V3URL(), "http://khiputest")
	for i, id := range ids {
		n.replace(id, []string{"PAYMENT_ID", "OTHER_ID"}[i])
	}
	return n
}

// decode decodes the JSON printed by -json.
func decode(t *testing.T, out string) map[string]any {
	t.Helper()
	require.True(t, strings.HasSuffix(out, "}\n"), "one JSON value and a newline: %q", out)
	var m map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &m), out)
	return m
}

// lastRequest is the last API request srv received.
func lastRequest(t *testing.T, srv *khiputest.Server) khiputest.Request {
	t.Helper()
	reqs := srv.Requests()
	require.NotEmpty(t, reqs)
	return reqs[len(reqs)-1]
}

func TestBanks(t *testing.T) {
	srv := newKhipu(t)
	out := ok(t, env(srv), "", "banks")
	golden(t, "banks.txt", out)
	assert.Equal(t, out, ok(t, env(srv), "", "banks", "-api", "v2"), "API v2 lists the same banks the same way")
	assert.Equal(t, khiputest.EndpointBanksList, lastRequest(t, srv).Endpoint, "-api v2 called API v2")

	want, err := v3Client(t, srv).Banks.List(context.Background())
	require.NoError(t, err)
	for _, api := range []string{"v3", "v2"} {
		got := decode(t, ok(t, env(srv), "", "banks", "-api", api, "-json"))["banks"].([]any)
		require.Len(t, got, len(want), api)
		for i, b := range want {
			bank := got[i].(map[string]any)
			assert.Equal(t, b.BankID, bank["bank_id"], api)
			assert.Equal(t, b.Name, bank["name"], api)
		}
	}
}

func TestPaymentMethods(t *testing.T) {
	srv := newKhipu(t)
	out := ok(t, env(srv), "", "payment-methods")
	golden(t, "payment-methods.txt", out)
	assert.Equal(t, "/v3/merchants/"+testReceiverID+"/paymentMethods", lastRequest(t, srv).Path, "KHIPU_RECEIVER_ID is the default account")
	assert.Equal(t, out, ok(t, env(srv), "", "payment-methods", "-api", "v2", testReceiverID))

	got := decode(t, ok(t, env(srv), "", "payment-methods", "-json", testReceiverID))["paymentMethods"].([]any)
	require.NotEmpty(t, got)
	first := got[0].(map[string]any)
	assert.Contains(t, out, first["id"].(string)+"  ")
}

func TestPaymentsCreate(t *testing.T) {
	srv := newKhipu(t)
	out := ok(t, env(srv), "", "payments", "create",
		"-subject", "Poncho de lana", "-currency", "CLP", "-amount", "45000", "-transaction-id", "order-7",
		"-notify-url", "https://shop.example/khipu/notify", "-return-url", "https://shop.example/ok",
		"-expires-date", "2026-03-10T00:00:00-03:00", "-payer-email", "ana@example.com", "-body", "1 poncho")
	id := strings.TrimSpace(strings.TrimPrefix(strings.Split(out, "\n")[0], "payment_id:"))
	require.NotEmpty(t, id)
	golden(t, "payments-create.txt", names(srv, id).apply(out))

	// What reached Khipu: every flag, the amount as an exact JSON number,
	// and notifications 3.0 asked for.
	req := lastRequest(t, srv)
	assert.Equal(t, khiputest.EndpointV3PaymentsCreate, req.Endpoint)
	var body map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(req.Body, &body))
	assert.Equal(t, "45000", string(body["amount"]))
	assert.Equal(t, `"order-7"`, string(body["transaction_id"]))
	assert.Equal(t, `"3.0"`, string(body["notify_api_version"]))
	assert.Equal(t, `"2026-03-10T00:00:00-03:00"`, string(body["expires_date"]))
	assert.Equal(t, `"1 poncho"`, string(body["body"]))

	p, err := v3Client(t, srv).Payments.Get(context.Background(), id)
	require.NoError(t, err)
	assert.Equal(t, "45000", p.Amount.String())

	created := decode(t, ok(t, env(srv), "", "payments", "create", "-json", "-subject", "x", "-currency", "CLP", "-amount", "1"))
	assert.Len(t, created["payment_id"], 12)
	assert.Contains(t, created["payment_url"], created["payment_id"])

	// API v2: the same flags, a form, notifications 1.3.
	out = ok(t, env(srv), "", "payments", "create", "-api", "v2", "-subject", "Mate", "-currency", "CLP", "-amount", "12990", "-notify-url", "https://shop.example/n")
	req = lastRequest(t, srv)
	assert.Equal(t, khiputest.EndpointPaymentsCreate, req.Endpoint)
	assert.Equal(t, "12990", req.Params.Get("amount"))
	assert.Equal(t, "1.3", req.Params.Get("notify_api_version"))
	id = strings.TrimSpace(strings.TrimPrefix(strings.Split(out, "\n")[0], "payment_id:"))
	golden(t, "payments-create-v2.txt", names(srv, id).apply(out))

	r := khipuCmd(t, env(srv), "", "payments", "create", "-api", "v2", "-subject", "x", "-currency", "CLP", "-amount", "1", "-psp-client-merchant-name", "y")
	assert.Equal(t, exitUsage, r.code)
	assert.Contains(t, r.stderr, "API v3 only")
}

func TestPaymentsGet(t *testing.T) {
	srv := newKhipu(t)
	id := newPayment(t, srv)
	golden(t, "payments-get-pending.txt", names(srv, id).apply(ok(t, env(srv), "", "payments", "get", id)))

	require.NoError(t, srv.Pay(id))
	out := ok(t, env(srv), "", "payments", "get", id)
	golden(t, "payments-get-done.txt", names(srv, id).apply(out))
	golden(t, "payments-get-done-v2.txt", names(srv, id).apply(ok(t, env(srv), "", "payments", "get", "-api", "v2", id)))

	v3 := decode(t, ok(t, env(srv), "", "payments", "get", "-json", id))
	assert.Equal(t, id, v3["payment_id"])
	assert.Equal(t, "done", v3["status"])
	assert.Equal(t, "1000.0000", v3["amount"], "Khipu's v3 JSON as it answered: the amount a string")
	assert.Equal(t, "order-42", v3["transaction_id"])
	v2 := decode(t, ok(t, env(srv), "", "payments", "get", "-json", "-api", "v2", id))
	assert.Equal(t, 1000.0, v2["amount"], "and v2's: a number")
}

func TestPaymentsRefund(t *testing.T) {
	srv := newKhipu(t)
	id := newPayment(t, srv)
	require.NoError(t, srv.Pay(id))

	out := ok(t, env(srv), "", "payments", "refund", "-amount", "300", id)
	golden(t, "payments-refund-partial.txt", names(srv, id).apply(out))
	req := lastRequest(t, srv)
	assert.Equal(t, khiputest.EndpointV3PaymentsRefund, req.Endpoint)
	assert.JSONEq(t, `{"amount":300}`, string(req.Body))

	out = ok(t, env(srv), "", "payments", "refund", id)
	golden(t, "payments-refund-full.txt", names(srv, id).apply(out))
	assert.Empty(t, lastRequest(t, srv).Body, "a full refund sends no amount")
	assert.Regexp(t, `\nstatus: +done \(reversed\)\n`, ok(t, env(srv), "", "payments", "get", id))

	// Nothing left to refund: Khipu's refusal, exit status 1.
	r := khipuCmd(t, env(srv), "", "payments", "refund", "-api", "v2", "-amount", "1", id)
	assert.Equal(t, exitFailed, r.code)
	assert.Contains(t, r.stderr, "khipu: validation error (HTTP 400)")
	assert.Empty(t, r.stdout)

	// API v2: a partial refund sends its amount in the form.
	other := newPayment(t, srv)
	require.NoError(t, srv.Pay(other))
	ok(t, env(srv), "", "payments", "refund", "-api", "v2", "-amount", "250", other)
	req = lastRequest(t, srv)
	assert.Equal(t, khiputest.EndpointPaymentsRefund, req.Endpoint)
	assert.Equal(t, "250", req.Params.Get("amount"))

	// -json prints Khipu's answer.
	other = newPayment(t, srv)
	require.NoError(t, srv.Pay(other))
	assert.Equal(t, "refunded 1000", decode(t, ok(t, env(srv), "", "payments", "refund", "-json", "-api", "v2", other))["message"])
}

func TestPaymentsDeleteAndConfirm(t *testing.T) {
	srv := newKhipu(t)
	id := newPayment(t, srv)
	golden(t, "payments-delete.txt", names(srv, id).apply(ok(t, env(srv), "", "payments", "delete", id)))
	assert.Equal(t, khiputest.EndpointV3PaymentsDelete, lastRequest(t, srv).Endpoint)
	r := khipuCmd(t, env(srv), "", "payments", "get", id)
	assert.Equal(t, exitFailed, r.code, "deleted")

	id = newPayment(t, srv)
	require.NoError(t, srv.Pay(id))
	golden(t, "payments-confirm.txt", names(srv, id).apply(ok(t, env(srv), "", "payments", "confirm", "-api", "v2", id)))
	assert.Equal(t, khiputest.EndpointPaymentsConfirm, lastRequest(t, srv).Endpoint)
	// Confirmed: no refund any more.
	r = khipuCmd(t, env(srv), "", "payments", "refund", id)
	assert.Equal(t, exitFailed, r.code)
	assert.Contains(t, r.stderr, "confirmed")
}

// Every kind of API error is exit status 1 with Khipu's message on one
// line of stderr, and nothing on stdout.
func TestAPIErrorsExit1WithOneLine(t *testing.T) {
	srv := newKhipu(t)
	for _, c := range []struct {
		name    string
		environ map[string]string
		args    []string
		want    string
	}{
		{"unknown payment", env(srv), []string{"payments", "get", "nosuchpayment"}, "khipu: not found (HTTP 404)"},
		{"unknown payment, -json", env(srv), []string{"payments", "get", "-json", "nosuchpayment"}, "khipu: not found (HTTP 404)"},
		{"wrong API key", env(srv), []string{"banks", "-api-key", "wrong-key-0123456789"}, "khipu: authorization error (HTTP 401)"},
		{"wrong v2 secret", env(srv), []string{"banks", "-api", "v2", "-secret", "wrong-secret-0123456789"}, "khipu: authorization error (HTTP 403)"},
		{"refund of a pending payment", env(srv), []string{"payments", "refund", newPayment(t, srv)}, "khipu: validation error (HTTP 400)"},
		{"no server", map[string]string{"KHIPU_API_KEY": testAPIKey, "KHIPU_BASE_URL": "http://127.0.0.1:1"}, []string{"banks"}, "connection refused"},
	} {
		r := khipuCmd(t, c.environ, "", c.args...)
		assert.Equal(t, exitFailed, r.code, "%s: %s", c.name, r.stderr)
		assert.Contains(t, r.stderr, c.want, c.name)
		assert.Empty(t, r.stdout, c.name)
	}

	srv.FailNext(khiputest.EndpointV3PaymentsCreate, http.StatusServiceUnavailable, 1)
	r := khipuCmd(t, env(srv), "", "payments", "create", "-subject", "x", "-currency", "CLP", "-amount", "1")
	assert.Equal(t, exitFailed, r.code)
	assert.Contains(t, r.stderr, "(HTTP 503)")
}

func TestPredict(t *testing.T) {
	srv := newKhipu(t)
	out := ok(t, env(srv), "", "predict", "-payer-email", "ana@example.com", "-bank-id", "Bawdf", "-amount", "50000", "-currency", "CLP")
	golden(t, "predict.txt", out)
	req := lastRequest(t, srv)
	assert.Equal(t, "50000", req.Params.Get("amount"))
	js := decode(t, ok(t, env(srv), "", "predict", "-json", "-payer-email", "ana@example.com", "-bank-id", "Bawdf", "-amount", "9000000", "-currency", "CLP"))
	assert.Equal(t, "max_amount_exceeded", js["result"])

	r := khipuCmd(t, env(srv), "", "predict", "-payer-email", "ana@example.com", "-bank-id", "Bawdf", "-currency", "CLP")
	assert.Equal(t, exitUsage, r.code, "the library refuses a missing amount before sending")
	assert.Contains(t, r.stderr, "invalid parameter amount")
}

func TestSubscriptionsAndCharges(t *testing.T) {
	shop := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})) // takes the callbacks
	t.Cleanup(shop.Close)
	srv := newKhipu(t)
	out := ok(t, env(srv), "", "subscriptions", "create", "-name", "Plan Mensual", "-email", "ana@example.com",
		"-max-amount", "20000", "-currency", "CLP", "-notify-url", shop.URL+"/sub", "-return-url", "https://shop.example/ok",
		"-cancel-url", "https://shop.example/no", "-service-reference", "customer-17")
	id := strings.TrimSpace(strings.TrimPrefix(strings.Split(out, "\n")[0], "subscription_id:"))
	require.NotEmpty(t, id)
	n := (&normalizer{}).replace(srv.V3URL(), "http://khiputest").replace(id, "SUBSCRIPTION_ID")
	golden(t, "subscriptions-create.txt", n.apply(out))
	golden(t, "subscriptions-get-disabled.txt", n.apply(ok(t, env(srv), "", "subscriptions", "get", id)))

	require.NoError(t, srv.AuthorizeSubscription(id))
	js := decode(t, ok(t, env(srv), "", "subscriptions", "get", "-json", id))
	assert.Equal(t, "ENABLED", js["status"])
	assert.Equal(t, id, js["subscription_id"])

	out = ok(t, env(srv), "", "charges", "create", "-subscription-id", id, "-amount", "9990", "-subject", "May",
		"-body", "Plan, May", "-custom", "c", "-transaction-id", "may-1", "-notify-url", shop.URL+"/notify",
		"-error-response-url", shop.URL+"/charge-error")
	paymentID := strings.TrimSpace(strings.TrimPrefix(out, "payment_id:"))
	assert.Equal(t, "payment_id: "+paymentID+"\n", out)
	p, err := v3Client(t, srv).Payments.Get(context.Background(), paymentID)
	require.NoError(t, err)
	assert.Equal(t, "9990", p.Amount.String())
	assert.Equal(t, "may-1", p.TransactionID)

	r := khipuCmd(t, env(srv), "", "subscriptions", "get", "-api", "v2", id)
	assert.Equal(t, exitUsage, r.code)
}

func TestReceiversCreateShowsCredentialsOnlyWhenAsked(t *testing.T) {
	srv := newKhipu(t)
	args := []string{"receivers", "create",
		"-admin-first-name", "Ana", "-admin-last-name", "Pérez", "-admin-email", "ana@shop.example",
		"-country-code", "CL", "-business-identifier", "76.123.456-7", "-business-category", "Retail",
		"-business-name", "Tienda Ana SpA", "-business-phone", "+56 2 2345 6789",
		"-business-address-line-1", "Av. Siempre Viva 742", "-business-address-line-2", "Providencia",
		"-business-address-line-3", "Santiago", "-contact-full-name", "Ana Pérez", "-contact-job-title", "Owner",
		"-contact-email", "ana@shop.example", "-contact-phone", "+56 9 8765 4321"}
	before := len(srv.Requests())
	r := khipuCmd(t, env(srv), "", args...)
	assert.Equal(t, exitUsage, r.code)
	assert.Empty(t, r.stdout)
	assert.Len(t, srv.Requests(), before, "nothing was created: its secret would have been lost")

	out := ok(t, env(srv), "", append(args[:2:2], append([]string{"-show-credentials"}, args[2:]...)...)...)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, lines, 3, out)
	assert.Regexp(t, `^receiver_id: [0-9]+$`, lines[0])
	assert.Regexp(t, `^secret:      [0-9a-z]{40}$`, lines[1])
	assert.Regexp(t, `^api_key:     [0-9a-z]{32}$`, lines[2], "v3 answers the new account's API key too")
	// They are the new account's: its API key works with API v3, its id
	// and secret with API v2.
	field := func(line string) string { _, v, _ := strings.Cut(line, ":"); return strings.TrimSpace(v) }
	ok(t, map[string]string{"KHIPU_API_KEY": field(lines[2]), "KHIPU_BASE_URL": srv.V3URL()}, "", "banks")
	ok(t, map[string]string{"KHIPU_RECEIVER_ID": field(lines[0]), "KHIPU_SECRET": field(lines[1]), "KHIPU_BASE_URL": srv.V3URL()}, "", "banks", "-api", "v2")
	r = khipuCmd(t, map[string]string{"KHIPU_API_KEY": field(lines[1]), "KHIPU_BASE_URL": srv.V3URL()}, "", "banks")
	assert.Equal(t, exitFailed, r.code, "the secret is not the API key")

	js := decode(t, ok(t, env(srv), "", append(args[:2:2], append([]string{"-show-credentials", "-json", "-api", "v2"}, args[2:]...)...)...))
	assert.Len(t, js["secret"], 40)
}

func TestReceiversChildren(t *testing.T) {
	srv := newKhipu(t)
	out := ok(t, env(srv), "", "receivers", "children")
	assert.Equal(t, "total: 0\n", out, "no accounts yet")
	client := v3Client(t, srv)
	for _, name := range []string{"Tienda Ana SpA", "Bodega Beto Ltda", "Café Carla"} {
		_, err := client.Receivers.Create(context.Background(), &khipuv3.ReceiverCreateParams{
			AdminFirstName: "Ana", AdminLastName: "Pérez", AdminEmail: "ana@shop.example", CountryCode: "CL",
			BusinessIdentifier: "76.123.456-7", BusinessCategory: "Retail", BusinessName: name,
			BusinessPhone: "+56 2 2345 6789", BusinessAddressLine1: "Av. Siempre Viva 742",
			BusinessAddressLine2: "Providencia", BusinessAddressLine3: "Santiago", ContactFullName: "Ana Pérez",
			ContactJobTitle: "Owner", ContactEmail: "ana@shop.example", ContactPhone: "+56 9 8765 4321",
		})
		require.NoError(t, err)
	}

	golden(t, "receivers-children.txt", ok(t, env(srv), "", "receivers", "children"))
	assert.Equal(t, khiputest.EndpointV3ReceiversChildren, lastRequest(t, srv).Endpoint)
	assert.Empty(t, lastRequest(t, srv).Params, "no flag, no parameter: Khipu's defaults")

	// Every flag reaches Khipu as its parameter.
	out = ok(t, env(srv), "", "receivers", "children", "-sort", "name", "-order", "desc", "-max", "1", "-offset", "1")
	golden(t, "receivers-children-page.txt", out)
	assert.Equal(t, url.Values{"offset": {"1"}, "max": {"1"}, "sort": {"name"}, "order": {"desc"}}, lastRequest(t, srv).Params)
	assert.Equal(t, "total: 3 (none from -offset 3)\n", ok(t, env(srv), "", "receivers", "children", "-offset", "3"))

	// -json prints Khipu's answer: the library reads the same accounts.
	want, err := client.Receivers.Children(context.Background(), &khipuv3.ReceiverChildrenParams{Sort: "date_created", Order: "desc"})
	require.NoError(t, err)
	js := decode(t, ok(t, env(srv), "", "receivers", "children", "-json", "-sort", "date_created", "-order", "desc"))
	assert.Equal(t, 3.0, js["total"])
	got := js["receivers"].([]any)
	require.Len(t, got, len(want.Receivers))
	for i, r := range want.Receivers {
		child := got[i].(map[string]any)
		assert.Equal(t, r.ID, strconv.FormatFloat(child["id"].(float64), 'f', -1, 64), "Khipu's id, a number")
		assert.Equal(t, r.Name, child["name"])
	}

	// What Khipu would refuse, the library refuses before sending: exit
	// status 2. And API v2 has no such call.
	before := len(srv.Requests())
	for args, want := range map[string]string{
		"-sort size":   "invalid parameter sort",
		"-order up":    "invalid parameter order",
		"-offset -1":   "invalid parameter offset",
		"-max -20":     "invalid parameter max",
		"-offset ten":  `invalid value "ten" for flag -offset`,
		"-api v2":      "receivers children is a call of API v3 only",
		"-json extra1": `unexpected argument "extra1"`,
	} {
		r := khipuCmd(t, env(srv), "", append([]string{"receivers", "children"}, strings.Fields(args)...)...)
		assert.Equal(t, exitUsage, r.code, "%s: %s", args, r.stderr)
		assert.Contains(t, r.stderr, want, args)
		assert.Empty(t, r.stdout, args)
	}
	assert.Len(t, srv.Requests(), before, "nothing was sent")

	// An integrator that did not contract it: Khipu's refusal, exit 1.
	srv.FailNext(khiputest.EndpointV3ReceiversChildren, http.StatusForbidden, 1)
	r := khipuCmd(t, env(srv), "", "receivers", "children")
	assert.Equal(t, exitFailed, r.code)
	assert.Contains(t, r.stderr, "(HTTP 403)")
}

func TestPageNote(t *testing.T) {
	for _, c := range []struct {
		offset, n, total int
		want             string
	}{
		{0, 0, 0, "0"},
		{0, 3, 3, "3"},
		{0, 2, 3, "3 (1 to 2 listed; -offset 2 for the next page)"},
		{1, 1, 3, "3 (2 to 2 listed; -offset 2 for the next page)"},
		{2, 1, 3, "3 (3 to 3 listed)"},
		{3, 0, 3, "3 (none from -offset 3)"},
		{0, 0, 3, "3"}, // Khipu listed none from the start: say only how many
	} {
		assert.Equal(t, c.want, pageNote(c.offset, c.n, c.total), "%+v", c)
	}
}

// paymentFromV2 copies every field of khipuv3.Payment from API v2's
// payment, where v2 has it: a field added to both models and forgotten
// there fails here.
func TestPaymentFromV2CopiesEveryField(t *testing.T) {
	var v2 khipu.Payment
	in := reflect.ValueOf(&v2).Elem()
	for i := range in.NumField() {
		f := in.Field(i)
		switch v := f.Addr().Interface().(type) {
		case *khipu.Amount:
			*v = khipu.NewAmount(int64(i + 1))
		case *time.Time:
			*v = testNow.Add(time.Duration(i) * time.Hour)
		case *[]string:
			*v = []string{in.Type().Field(i).Name}
		case *bool:
			*v = true
		case *json.RawMessage:
			*v = json.RawMessage(`{}`)
		default:
			require.Equal(t, reflect.String, f.Kind(), "a value for %s", in.Type().Field(i).Name)
			f.SetString(in.Type().Field(i).Name)
		}
	}
	v3 := reflect.ValueOf(paymentFromV2(&v2)).Elem()
	for i := range v3.NumField() {
		name := v3.Type().Field(i).Name
		if name == "Raw" {
			assert.Empty(t, v3.Field(i).Interface(), "Raw is v2's body, left out")
			continue
		}
		from := in.FieldByName(name)
		if assert.True(t, from.IsValid(), "API v2's payment has %s", name) {
			assert.Equal(t, from.Interface(), v3.Field(i).Interface(), name)
		}
	}
}

// receivers create has a flag for every parameter, named after its JSON
// name with dashes, and sends every one given, with either API.
func TestReceiversCreateSendsEveryFlag(t *testing.T) {
	srv := newKhipu(t)
	typ := reflect.TypeFor[khipuv3.ReceiverCreateParams]()
	args := []string{"receivers", "create", "-show-credentials"}
	want := map[string]string{}
	for i := range typ.NumField() {
		tag, _, _ := strings.Cut(typ.Field(i).Tag.Get("json"), ",")
		value := "value of " + tag
		switch {
		case strings.HasSuffix(tag, "email"):
			value = strings.ReplaceAll(tag, "_", "-") + "@shop.example"
		case strings.HasSuffix(tag, "url"):
			value = "https://shop.example/" + tag
		case tag == "country_code":
			value = "CL"
		case tag == "bank_account_bank_id":
			value = "Bawdf"
		}
		want[tag] = value
		args = append(args, "-"+strings.ReplaceAll(tag, "_", "-"), value)
	}
	require.Len(t, want, 21)

	ok(t, env(srv), "", args...)
	var body map[string]string
	require.NoError(t, json.Unmarshal(lastRequest(t, srv).Body, &body))
	assert.Equal(t, want, body, "API v3: every flag in the JSON body")

	ok(t, env(srv), "", append(args, "-api", "v2")...)
	form := map[string]string{}
	for k, v := range lastRequest(t, srv).Params {
		form[k] = strings.Join(v, ",")
	}
	assert.Equal(t, want, form, "API v2: every flag in the form")
}

// paymentParamsV2 copies every parameter of API v2's payments create from
// API v3's, which has them all: a parameter added to both and forgotten
// there fails here.
func TestPaymentParamsV2CopiesEveryField(t *testing.T) {
	var v3 khipuv3.PaymentCreateParams
	in := reflect.ValueOf(&v3).Elem()
	for i := range in.NumField() {
		switch v := in.Field(i).Addr().Interface().(type) {
		case *khipu.Amount:
			*v = khipu.NewAmount(int64(i + 1))
		case *time.Time:
			*v = testNow.Add(time.Duration(i) * time.Hour)
		case *bool:
			*v = true
		default:
			require.Equal(t, reflect.String, in.Field(i).Kind(), "a value for %s", in.Type().Field(i).Name)
			in.Field(i).SetString(in.Type().Field(i).Name)
		}
	}
	v2 := reflect.ValueOf(paymentParamsV2(&v3)).Elem()
	for i := range v2.NumField() {
		name := v2.Type().Field(i).Name
		from := in.FieldByName(name)
		if assert.True(t, from.IsValid(), "API v3's parameters have %s", name) {
			assert.Equal(t, from.Interface(), v2.Field(i).Interface(), name)
		}
	}
}
