package khipu_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/khipu-go/khipu"
)

// endpoint is one of Khipu's nine endpoints as the tests drive it: how to
// call it through the Client and what the server must receive.
type endpoint struct {
	name    string
	method  string
	path    string     // what the server sees, base path included
	params  url.Values // the query (GET, DELETE) or form (POST) expected
	fixture string     // the recorded success response
	call    func(ctx context.Context, c *khipu.Client) (any, error)
	check   func(t *testing.T, out any) // asserts the decoded success response
}

// createParams is a create-payment request with every kind of field:
// required, optional strings needing escaping, a date, booleans, an amount
// with decimals, and an integrator fee.
func createParams() *khipu.PaymentCreateParams {
	return &khipu.PaymentCreateParams{
		Subject:              "Pedido 1037 — mochila ñandú & co",
		Currency:             "USD",
		Amount:               khipu.MustParseAmount("19.99"),
		TransactionID:        "ORD-1037",
		Custom:               "<cart a='1'>~*!+ %20</cart>",
		ReturnURL:            "https://shop.example/return?order=1037&x=a b",
		CancelURL:            "https://shop.example/cancel",
		NotifyURL:            "https://shop.example/khipu/notify",
		ExpiresDate:          time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC),
		SendEmail:            true,
		PayerName:            "Ana Pérez",
		PayerEmail:           "ana@example.com",
		SendReminders:        true,
		IntegratorFee:        khipu.MustParseAmount("0.5"),
		ResponsibleUserEmail: "sales@shop.example",
	}
}

func receiverParams() *khipu.ReceiverCreateParams {
	return &khipu.ReceiverCreateParams{
		AdminFirstName: "Ana", AdminLastName: "Pérez", AdminEmail: "ana@example.com",
		CountryCode: "CL", BusinessIdentifier: "76.123.456-7", BusinessCategory: "retail",
		BusinessName: "Tienda Ñuñoa", BusinessPhone: "+56 2 2345 6789",
		BusinessAddressLine1: "Av. Irarrázaval 123", BusinessAddressLine2: "Ñuñoa", BusinessAddressLine3: "Santiago",
		ContactFullName: "Ana Pérez", ContactJobTitle: "Owner", ContactEmail: "ana@example.com", ContactPhone: "+56 9 1234 5678",
		NotifyURL: "https://platform.example/khipu",
	}
}

func endpoints() []endpoint {
	return []endpoint{
		{
			name: "Banks.List", method: "GET", path: "/api/2.0/banks", params: url.Values{}, fixture: "banks.json",
			call: func(ctx context.Context, c *khipu.Client) (any, error) { return c.Banks.List(ctx) },
			check: func(t *testing.T, out any) {
				banks := out.([]khipu.Bank)
				require.Len(t, banks, 4)
				assert.Equal(t, khipu.Bank{
					BankID: "SDdR", Name: "Banco de Chile (Edwards Citi)", MinAmount: khipu.NewAmount(200), Type: "Persona",
					LogoURL: "https://s3.amazonaws.com/static.khipu.com/logos/bancos/chile/chile-icon.png",
				}, banks[0])
				assert.Equal(t, "Transferencias por sobre $300.000 requieren clave dinámica", banks[1].Message)
				assert.Equal(t, "", banks[1].Parent, "null parent")
				assert.Equal(t, khipu.NewAmount(1000), banks[2].MinAmount, "min_amount sent as a string")
				assert.Equal(t, "SDdR", banks[2].Parent)
				assert.Equal(t, "0.5", banks[3].MinAmount.String())
			},
		},
		{
			name: "Payments.GetByNotificationToken", method: "GET", path: "/api/2.0/payments",
			params:  url.Values{"notification_token": {"9dec8aa176c5223026919b3b5579a477 +/="}},
			fixture: "payment-done.json",
			call: func(ctx context.Context, c *khipu.Client) (any, error) {
				return c.Payments.GetByNotificationToken(ctx, "9dec8aa176c5223026919b3b5579a477 +/=")
			},
			check: func(t *testing.T, out any) { assertPaymentDone(t, out.(*khipu.Payment)) },
		},
		{
			name: "Payments.Create", method: "POST", path: "/api/2.0/payments", fixture: "payment-created.json",
			params: url.Values{
				"subject": {"Pedido 1037 — mochila ñandú & co"}, "currency": {"USD"}, "amount": {"19.99"},
				"transaction_id": {"ORD-1037"}, "custom": {"<cart a='1'>~*!+ %20</cart>"},
				"return_url": {"https://shop.example/return?order=1037&x=a b"}, "cancel_url": {"https://shop.example/cancel"},
				"notify_url": {"https://shop.example/khipu/notify"}, "notify_api_version": {"1.3"},
				"expires_date": {"2030-01-02T03:04:05Z"}, "send_email": {"true"}, "payer_name": {"Ana Pérez"},
				"payer_email": {"ana@example.com"}, "send_reminders": {"true"}, "integrator_fee": {"0.5"},
				"responsible_user_email": {"sales@shop.example"},
			},
			call: func(ctx context.Context, c *khipu.Client) (any, error) { return c.Payments.Create(ctx, createParams()) },
			check: func(t *testing.T, out any) {
				created := out.(*khipu.PaymentCreated)
				assert.Equal(t, strings.TrimSpace(string(fixture(t, "payment-created.json"))), string(created.Raw), "Raw is the body as received")
				assert.Contains(t, string(created.Raw), `"hites_url"`, "so fields this version does not know stay reachable")
				created.Raw = nil
				assert.Equal(t, &khipu.PaymentCreated{
					PaymentID:             "gqzdy6chjne9",
					PaymentURL:            "https://khipu.com/payment/info/gqzdy6chjne9",
					SimplifiedTransferURL: "https://app.khipu.com/payment/simplified/gqzdy6chjne9",
					TransferURL:           "https://khipu.com/payment/manual/gqzdy6chjne9",
					WebpayURL:             "https://khipu.com/payment/webpay/gqzdy6chjne9",
					AppURL:                "khipu:///pos/gqzdy6chjne9",
					ReadyForTerminal:      true,
				}, out)
			},
		},
		{
			name: "Payments.Get", method: "GET", path: "/api/2.0/payments/gqzdy6chjne9", params: url.Values{}, fixture: "payment-done.json",
			call:  func(ctx context.Context, c *khipu.Client) (any, error) { return c.Payments.Get(ctx, "gqzdy6chjne9") },
			check: func(t *testing.T, out any) { assertPaymentDone(t, out.(*khipu.Payment)) },
		},
		{
			name: "Payments.Delete", method: "DELETE", path: "/api/2.0/payments/gqzdy6chjne9", params: url.Values{}, fixture: "success.json",
			call:  func(ctx context.Context, c *khipu.Client) (any, error) { return c.Payments.Delete(ctx, "gqzdy6chjne9") },
			check: func(t *testing.T, out any) { assert.Equal(t, &khipu.Success{Message: "Message"}, out) },
		},
		{
			name: "Payments.Confirm", method: "POST", path: "/api/2.0/payments/gqzdy6chjne9/confirm", params: url.Values{}, fixture: "success.json",
			call: func(ctx context.Context, c *khipu.Client) (any, error) {
				return c.Payments.Confirm(ctx, "gqzdy6chjne9")
			},
			check: func(t *testing.T, out any) { assert.Equal(t, &khipu.Success{Message: "Message"}, out) },
		},
		{
			name: "Payments.Refund", method: "POST", path: "/api/2.0/payments/gqzdy6chjne9/refunds",
			params: url.Values{"amount": {"250.5"}}, fixture: "success.json",
			call: func(ctx context.Context, c *khipu.Client) (any, error) {
				return c.Payments.Refund(ctx, "gqzdy6chjne9", &khipu.RefundParams{Amount: khipu.MustParseAmount("250.50")})
			},
			check: func(t *testing.T, out any) { assert.Equal(t, &khipu.Success{Message: "Message"}, out) },
		},
		{
			name: "Receivers.Create", method: "POST", path: "/api/2.0/receivers", fixture: "receiver-created.json",
			params: url.Values{
				"admin_first_name": {"Ana"}, "admin_last_name": {"Pérez"}, "admin_email": {"ana@example.com"},
				"country_code": {"CL"}, "business_identifier": {"76.123.456-7"}, "business_category": {"retail"},
				"business_name": {"Tienda Ñuñoa"}, "business_phone": {"+56 2 2345 6789"},
				"business_address_line_1": {"Av. Irarrázaval 123"}, "business_address_line_2": {"Ñuñoa"},
				"business_address_line_3": {"Santiago"}, "contact_full_name": {"Ana Pérez"}, "contact_job_title": {"Owner"},
				"contact_email": {"ana@example.com"}, "contact_phone": {"+56 9 1234 5678"},
				"notify_url": {"https://platform.example/khipu"},
			},
			call: func(ctx context.Context, c *khipu.Client) (any, error) {
				return c.Receivers.Create(ctx, receiverParams())
			},
			check: func(t *testing.T, out any) {
				got := out.(*khipu.ReceiverCreated)
				assert.Equal(t, "1234567", got.ReceiverID, "Khipu sends the id as a number")
				assert.Equal(t, "fixture-secret-0123456789abcdef", got.Secret)
			},
		},
		{
			name: "PaymentMethods.List", method: "GET", path: "/api/2.0/merchants/985101/paymentMethods", params: url.Values{}, fixture: "payment-methods.json",
			call: func(ctx context.Context, c *khipu.Client) (any, error) { return c.PaymentMethods.List(ctx, "985101") },
			check: func(t *testing.T, out any) {
				assert.Equal(t, []khipu.PaymentMethod{
					{ID: "simplified_transfer", Name: "Transferencia simplificada", LogoURL: "https://s3.amazonaws.com/static.khipu.com/buttons/2015/150x50-transfer.png"},
					{ID: "regular_transfer", Name: "Transferencia normal"},
					{ID: "webpay", Name: "Tarjetas de crédito o débito", LogoURL: "https://s3.amazonaws.com/static.khipu.com/buttons/2015/150x50-webpay.png"},
				}, out)
			},
		},
	}
}

// assertPaymentDone checks every field of testdata/payment-done.json.
// assertAPIError checks that err also opens as an *APIError with the
// status, message and (capped) body of Khipu's answer.
func assertAPIError(t *testing.T, err error, status int, message string, body []byte) {
	t.Helper()
	var ae *khipu.APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, status, ae.StatusCode)
	assert.Equal(t, message, ae.Message)
	assert.Equal(t, string(body[:min(len(body), 1024)]), string(ae.Body))
}

func assertPaymentDone(t *testing.T, p *khipu.Payment) {
	t.Helper()
	want := &khipu.Payment{
		PaymentID:             "gqzdy6chjne9",
		PaymentURL:            "https://khipu.com/payment/info/gqzdy6chjne9",
		SimplifiedTransferURL: "https://app.khipu.com/payment/simplified/gqzdy6chjne9",
		TransferURL:           "https://khipu.com/payment/manual/gqzdy6chjne9",
		WebpayURL:             "https://khipu.com/payment/webpay/gqzdy6chjne9",
		AppURL:                "khipu:///pos/gqzdy6chjne9",
		NotificationToken:     "9dec8aa176c5223026919b3b5579a4776923e646ff3be686b9e6b62ec042e91f",
		ReceiverID:            "985101",
		Subject:               "Pedido 1037 — mochila ñandú",
		Amount:                khipu.NewAmount(1000),
		Currency:              "CLP",
		Status:                khipu.StatusDone,
		StatusDetail:          khipu.StatusDetailNormal,
		Body:                  "Mochila de 30 litros",
		PictureURL:            "https://micomercio.com/mochila.png",
		ReceiptURL:            "https://s3.amazonaws.com/notifications.khipu.com/CPKH-0103171300-gqzdy6chjne9.pdf",
		ReturnURL:             "https://micomercio.com/order/return_url",
		CancelURL:             "https://micomercio.com/order/cancel_url",
		NotifyURL:             "https://micomercio.com/webhook/notify_url",
		NotifyAPIVersion:      "1.3",
		AttachmentURLs:        []string{"https://micomercio.com/order/attachment.pdf"},
		Bank:                  "Banco de Chile (Edwards Citi)",
		BankID:                "SDdR",
		PayerName:             "Nombre Pagador",
		PayerEmail:            "pagador@email.com",
		PersonalIdentifier:    "11.111.111-1",
		BankAccountNumber:     "001120490689",
		OutOfDateConciliation: true,
		TransactionID:         "zwo3wqz6uulcvajt",
		Custom:                "<customizedData><data>customized data</data></customizedData>",
		ResponsibleUserEmail:  "responsible@email.com",
		SendReminders:         true,
		SendEmail:             true,
		PaymentMethod:         khipu.PaymentMethodSimplifiedTransfer,
	}
	// Dates are compared as instants; their zones are checked apart.
	gotConc, gotExp := p.ConciliationDate, p.ExpiresDate
	cp := *p
	cp.ConciliationDate, cp.ExpiresDate = time.Time{}, time.Time{}
	assert.JSONEq(t, string(fixture(t, "payment-done.json")), string(p.Raw), "Raw is the body as received")
	cp.Raw = nil
	assert.Equal(t, want, &cp)
	assert.True(t, gotConc.Equal(time.Date(2017, 3, 1, 13, 0, 0, 0, time.UTC)), "conciliation_date %v", gotConc)
	assert.True(t, gotExp.Equal(time.Date(2023, 12, 31, 18, 45, 0, 0, time.UTC)), "expires_date %v", gotExp)
	_, offset := gotExp.Zone()
	assert.Equal(t, -3*3600, offset, "the offset Khipu sent is kept")
}

// server answers every request with status and body, and records what it
// received.
type server struct {
	mu    sync.Mutex
	got   []received
	count atomic.Int32
}

func (s *server) requests() []received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]received(nil), s.got...)
}

// serve registers on mux a handler for every path that records the request
// and answers with status, contentType and body.
func serve(t *testing.T, mux *http.ServeMux, base string, status int, contentType string, body []byte) *server {
	s := &server{}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.count.Add(1)
		got := capture(t, r, base)
		s.mu.Lock()
		s.got = append(s.got, got)
		s.mu.Unlock()
		w.Header().Set("Content-Type", contentType)
		w.WriteHeader(status)
		_, _ = w.Write(body)
	})
	return s
}

func TestEveryEndpointSendsExactlyWhatKhipuExpects(t *testing.T) {
	for _, ep := range endpoints() {
		t.Run(ep.name, func(t *testing.T) {
			mux, c, base := setup(t)
			srv := serve(t, mux, base, http.StatusOK, "application/json", fixture(t, ep.fixture))

			out, err := ep.call(context.Background(), c)
			require.NoError(t, err)
			ep.check(t, out)

			reqs := srv.requests()
			require.Len(t, reqs, 1)
			got := reqs[0]
			assert.Equal(t, ep.method, got.Method)
			assert.Equal(t, ep.path, got.Path)
			if ep.method == http.MethodPost {
				assert.Equal(t, ep.params, got.Form, "form body")
				assert.Empty(t, got.Query, "a POST carries no query")
				assert.Equal(t, "application/x-www-form-urlencoded", got.Header.Get("Content-Type"))
				for key := range got.Form {
					assert.NotEmpty(t, got.Form.Get(key), "%s sent empty: unset optional fields are not sent", key)
				}
			} else {
				assert.Equal(t, ep.params, got.Query, "query")
				assert.Empty(t, got.RawBody, "a %s carries no body", ep.method)
				assert.Empty(t, got.Header.Get("Content-Type"))
			}
			assert.Equal(t, "application/json", got.Header.Get("Accept"))
			assert.Equal(t, "khipu-go/"+khipu.Version, got.Header.Get("User-Agent"))
			auth := got.Header.Get("Authorization")
			assert.True(t, strings.HasPrefix(auth, testReceiverID+":"), "Authorization %q", auth)
			assert.True(t, got.SignatureOK, "the Authorization header signs exactly what was received")
			assert.Equal(t, got.HandSignature, auth, "an independent signer agrees")
		})
	}
}

func TestEveryEndpointTurnsEachErrorStatusIntoATypedError(t *testing.T) {
	html := fixture(t, "error-502.html")
	statuses := []struct {
		name        string
		status      int
		contentType string
		body        []byte
		check       func(t *testing.T, err error)
	}{
		{"400 field errors", 400, "application/json", fixture(t, "error-400.json"), func(t *testing.T, err error) {
			var ve *khipu.ValidationError
			require.ErrorAs(t, err, &ve)
			assert.Equal(t, 400, ve.StatusCode)
			assert.Equal(t, "Parámetros inválidos", ve.Message)
			assert.Equal(t, []khipu.FieldError{
				{Field: "amount", Message: "El monto debe ser mayor que 0"},
				{Field: "currency", Message: "Moneda no soportada"},
			}, ve.Errors)
			assert.Contains(t, err.Error(), "amount: El monto debe ser mayor que 0")
			assertAPIError(t, err, 400, "Parámetros inválidos", fixture(t, "error-400.json"))
		}},
		{"403", 403, "application/json", fixture(t, "error-403.json"), func(t *testing.T, err error) {
			var ae *khipu.AuthorizationError
			require.ErrorAs(t, err, &ae)
			assert.Equal(t, 403, ae.StatusCode)
			assert.Equal(t, "Cobrador no autorizado", ae.Message)
			assertAPIError(t, err, 403, "Cobrador no autorizado", fixture(t, "error-403.json"))
		}},
		{"503", 503, "application/json", fixture(t, "error-503.json"), func(t *testing.T, err error) {
			var se *khipu.ServiceError
			require.ErrorAs(t, err, &se)
			assert.Equal(t, 503, se.StatusCode)
			assert.Equal(t, "Servicio no disponible, intente nuevamente", se.Message)
			assertAPIError(t, err, 503, "Servicio no disponible, intente nuevamente", fixture(t, "error-503.json"))
		}},
		{"500 HTML", 500, "text/html", html, func(t *testing.T, err error) {
			var ue *khipu.UnexpectedResponseError
			require.ErrorAs(t, err, &ue)
			assert.Equal(t, 500, ue.StatusCode)
			assert.Equal(t, html, ue.Body, "the body is kept for diagnosis")
			assert.Contains(t, err.Error(), "HTTP 500")
			assert.Contains(t, err.Error(), "502 Bad Gateway")
		}},
		{"200 truncated JSON", 200, "application/json", []byte(`{"payment_id":"gqzdy6chjne9","banks":[{"bank_id":"SDdR","paymentMethods":[{"id":"x`), func(t *testing.T, err error) {
			var ue *khipu.UnexpectedResponseError
			require.ErrorAs(t, err, &ue)
			assert.Equal(t, 200, ue.StatusCode)
			assert.Contains(t, err.Error(), "malformed JSON")
			assert.Contains(t, err.Error(), "unexpected end of JSON input")
		}},
		{"200 empty", 200, "application/json", nil, func(t *testing.T, err error) {
			var ue *khipu.UnexpectedResponseError
			require.ErrorAs(t, err, &ue)
			assert.Contains(t, err.Error(), "empty body")
		}},
		{"200 JSON of the wrong shape", 200, "application/json", []byte(`["not", "an", "object"]`), func(t *testing.T, err error) {
			var ue *khipu.UnexpectedResponseError
			require.ErrorAs(t, err, &ue)
			assert.Contains(t, err.Error(), "malformed JSON")
		}},
	}
	for _, ep := range endpoints() {
		for _, st := range statuses {
			t.Run(ep.name+"/"+st.name, func(t *testing.T) {
				mux, c, base := setup(t)
				srv := serve(t, mux, base, st.status, st.contentType, st.body)
				out, err := ep.call(context.Background(), c)
				require.Error(t, err)
				assert.Nil(t, nilIfTypedNil(out), "no value with an error")
				st.check(t, err)
				want := 1
				if st.status == 503 && ep.method == http.MethodGet {
					want = 3 // a read is retried twice (setup's policy)
				}
				assert.EqualValues(t, want, srv.count.Load(), "requests sent")
			})
		}
	}
}

// nilIfTypedNil turns a typed nil pointer or slice in an interface into nil.
func nilIfTypedNil(v any) any {
	if rv := reflect.ValueOf(v); rv.IsValid() && (rv.Kind() == reflect.Pointer || rv.Kind() == reflect.Slice) && rv.IsNil() {
		return nil
	}
	return v
}

func TestPathIDsThatCouldChangeTheURLAreRefusedBeforeSending(t *testing.T) {
	bad := []string{
		"", "a/b", "../banks", "..", "a?b", "a#b", "a b", "%2e%2e", "abc%2F", "a\nb", "a\x00", "ñandú",
		"gqzdy6chjne9/refunds", "gqzdy6chjne9?x=1", strings.Repeat("a", 65),
	}
	calls := map[string]func(ctx context.Context, c *khipu.Client, id string) error{
		"Payments.Get": func(ctx context.Context, c *khipu.Client, id string) error {
			_, err := c.Payments.Get(ctx, id)
			return err
		},
		"Payments.Delete": func(ctx context.Context, c *khipu.Client, id string) error {
			_, err := c.Payments.Delete(ctx, id)
			return err
		},
		"Payments.Confirm": func(ctx context.Context, c *khipu.Client, id string) error {
			_, err := c.Payments.Confirm(ctx, id)
			return err
		},
		"Payments.Refund": func(ctx context.Context, c *khipu.Client, id string) error {
			_, err := c.Payments.Refund(ctx, id, nil)
			return err
		},
		"PaymentMethods.List": func(ctx context.Context, c *khipu.Client, id string) error {
			_, err := c.PaymentMethods.List(ctx, id)
			return err
		},
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			mux, c, base := setup(t)
			srv := serve(t, mux, base, 200, "application/json", []byte(`{"payment_id":"gqzdy6chjne9","message":"ok"}`))
			param := "payment_id"
			if name == "PaymentMethods.List" {
				param = "merchant_id"
			}
			for _, id := range bad {
				err := call(context.Background(), c, id)
				var pe *khipu.ParamError
				require.ErrorAs(t, err, &pe, "id %q", id)
				assert.Equal(t, param, pe.Param, "id %q", id)
			}
			assert.Zero(t, srv.count.Load(), "nothing reached the server")
			// A good id of the same shape goes through.
			require.NoError(t, call(context.Background(), c, "gqzdy6chjne9_-X"))
			assert.EqualValues(t, 1, srv.count.Load())
		})
	}
}

func TestInvalidParametersAreRefusedBeforeSending(t *testing.T) {
	tooLong := strings.Repeat("ñ", 4097)
	with := func(edit func(p *khipu.PaymentCreateParams)) *khipu.PaymentCreateParams {
		p := &khipu.PaymentCreateParams{Subject: "Order 1", Currency: "CLP", Amount: khipu.NewAmount(1000)}
		edit(p)
		return p
	}
	cases := []struct {
		name  string
		call  func(ctx context.Context, c *khipu.Client) error
		param string
	}{
		{"create nil params", func(ctx context.Context, c *khipu.Client) error {
			_, err := c.Payments.Create(ctx, nil)
			return err
		}, "params"},
		{"create without subject", createWith(with(func(p *khipu.PaymentCreateParams) { p.Subject = "  " })), "subject"},
		{"create without currency", createWith(with(func(p *khipu.PaymentCreateParams) { p.Currency = "" })), "currency"},
		{"create with a currency that is not ISO-4217", createWith(with(func(p *khipu.PaymentCreateParams) { p.Currency = "clp" })), "currency"},
		{"create without amount", createWith(with(func(p *khipu.PaymentCreateParams) { p.Amount = khipu.Amount{} })), "amount"},
		{"create with a negative amount", createWith(with(func(p *khipu.PaymentCreateParams) { p.Amount = khipu.NewAmount(-5) })), "amount"},
		{"create with an amount out of range", createWith(with(func(p *khipu.PaymentCreateParams) { p.Amount = khipu.NewAmount(1 << 62) })), "amount"},
		{"create with a negative integrator fee", createWith(with(func(p *khipu.PaymentCreateParams) { p.IntegratorFee = khipu.NewAmount(-1) })), "integrator_fee"},
		{"create with custom over 4096 characters", createWith(with(func(p *khipu.PaymentCreateParams) { p.Custom = tooLong })), "custom"},
		{"create send_email without payer", createWith(with(func(p *khipu.PaymentCreateParams) { p.SendEmail = true; p.PayerName = "Ana" })), "send_email"},
		{"create contract_url without identifier", createWith(with(func(p *khipu.PaymentCreateParams) { p.ContractURL = "https://x.example/c" })), "contract_url"},
		{"refund a negative amount", func(ctx context.Context, c *khipu.Client) error {
			_, err := c.Payments.Refund(ctx, "gqzdy6chjne9", &khipu.RefundParams{Amount: khipu.NewAmount(-1)})
			return err
		}, "amount"},
		{"token empty", func(ctx context.Context, c *khipu.Client) error {
			_, err := c.Payments.GetByNotificationToken(ctx, "")
			return err
		}, "notification_token"},
		{"token too long", func(ctx context.Context, c *khipu.Client) error {
			_, err := c.Payments.GetByNotificationToken(ctx, strings.Repeat("t", 1025))
			return err
		}, "notification_token"},
		{"receiver nil params", func(ctx context.Context, c *khipu.Client) error {
			_, err := c.Receivers.Create(ctx, nil)
			return err
		}, "params"},
		{"receiver bad country", func(ctx context.Context, c *khipu.Client) error {
			p := receiverParams()
			p.CountryCode = "Chile"
			_, err := c.Receivers.Create(ctx, p)
			return err
		}, "country_code"},
		{"nil context", func(_ context.Context, c *khipu.Client) error {
			_, err := c.Banks.List(nilContext())
			return err
		}, "ctx"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			mux, c, base := setup(t)
			srv := serve(t, mux, base, 200, "application/json", []byte(`{}`))
			err := tc.call(context.Background(), c)
			var pe *khipu.ParamError
			require.ErrorAs(t, err, &pe)
			assert.Equal(t, tc.param, pe.Param)
			assert.Contains(t, err.Error(), tc.param, "the message names the parameter")
			assert.Zero(t, srv.count.Load(), "nothing was sent")
		})
	}
}

// nilContext hides a nil context from vet's check.
func nilContext() context.Context { return nil }

func createWith(p *khipu.PaymentCreateParams) func(ctx context.Context, c *khipu.Client) error {
	return func(ctx context.Context, c *khipu.Client) error {
		_, err := c.Payments.Create(ctx, p)
		return err
	}
}

func TestReceiversCreateNamesEveryMissingParameter(t *testing.T) {
	mux, c, base := setup(t)
	srv := serve(t, mux, base, 200, "application/json", fixture(t, "receiver-created.json"))
	p := receiverParams()
	p.AdminEmail, p.ContactPhone, p.BusinessAddressLine3 = "", " ", ""
	_, err := c.Receivers.Create(context.Background(), p)
	require.Error(t, err)
	for _, name := range []string{"admin_email", "contact_phone", "business_address_line_3"} {
		assert.Contains(t, err.Error(), "invalid parameter "+name+": is required")
	}
	var pe *khipu.ParamError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, "admin_email", pe.Param, "the first one missing")
	assert.Zero(t, srv.count.Load())
}

func TestCreateSendsOnlyWhatTheCallerSet(t *testing.T) {
	mux, c, base := setup(t)
	srv := serve(t, mux, base, 200, "application/json", fixture(t, "payment-created.json"))
	p := &khipu.PaymentCreateParams{Subject: "Order 1", Currency: "CLP", Amount: khipu.NewAmount(5000)}
	_, err := c.Payments.Create(context.Background(), p)
	require.NoError(t, err)
	got := srv.requests()[0]
	assert.Equal(t, url.Values{"subject": {"Order 1"}, "currency": {"CLP"}, "amount": {"5000"}}, got.Form)
	assert.True(t, got.SignatureOK)

	// A NotifyURL without a version asks for the one this library speaks, and
	// the caller's struct is left as it was; an explicit version is kept.
	p.NotifyURL = "https://shop.example/notify"
	_, err = c.Payments.Create(context.Background(), p)
	require.NoError(t, err)
	assert.Equal(t, khipu.NotifyAPIVersion, srv.requests()[1].Form.Get("notify_api_version"))
	assert.Empty(t, p.NotifyAPIVersion)
	p.NotifyAPIVersion = "1.3"
	_, err = c.Payments.Create(context.Background(), p)
	require.NoError(t, err)
	assert.Equal(t, "1.3", srv.requests()[2].Form.Get("notify_api_version"))

	// Any other version would create a payment whose notification the
	// handler then refuses: it is refused before sending.
	for _, v := range []string{"1.2", "3.0", "1.3 "} {
		p.NotifyAPIVersion = v
		_, err = c.Payments.Create(context.Background(), p)
		var pe *khipu.ParamError
		require.ErrorAs(t, err, &pe, v)
		assert.Equal(t, "notify_api_version", pe.Param)
	}
	assert.Len(t, srv.requests(), 3, "nothing reached Khipu")
}

func TestRefundWithNilParamsRefundsTheWholePayment(t *testing.T) {
	mux, c, base := setup(t)
	srv := serve(t, mux, base, 200, "application/json", fixture(t, "success.json"))
	_, err := c.Payments.Refund(context.Background(), "gqzdy6chjne9", nil)
	require.NoError(t, err)
	got := srv.requests()[0]
	assert.Empty(t, got.Form, "no amount: Khipu refunds the whole payment")
	assert.Empty(t, got.RawBody)
	assert.True(t, got.SignatureOK)
}

func TestARefundOfZeroIsRefusedAndNeverRefundsEverything(t *testing.T) {
	mux, c, base := setup(t)
	srv := serve(t, mux, base, 200, "application/json", fixture(t, "success.json"))
	// An amount computed as 0 by a bug: a full refund would be the worst
	// reading of it.
	for _, params := range []*khipu.RefundParams{{}, {Amount: khipu.MustParseAmount("0.0000")}} {
		_, err := c.Payments.Refund(context.Background(), "gqzdy6chjne9", params)
		var pe *khipu.ParamError
		require.ErrorAs(t, err, &pe)
		assert.Equal(t, "amount", pe.Param)
	}
	_, err := c.Payments.Refund(context.Background(), "gqzdy6chjne9", &khipu.RefundParams{Amount: khipu.NewAmount(-1)})
	assert.ErrorContains(t, err, "negative")
	assert.Empty(t, srv.requests(), "nothing reached Khipu")

	_, err = c.Payments.Refund(context.Background(), "gqzdy6chjne9", &khipu.RefundParams{Amount: khipu.MustParseAmount("0.5")})
	require.NoError(t, err)
	assert.Equal(t, url.Values{"amount": {"0.5"}}, srv.requests()[0].Form)
}

func TestPaymentMethodsAcceptBothSpellingsOfTheList(t *testing.T) {
	mux, c, base := setup(t)
	serve(t, mux, base, 200, "application/json", fixture(t, "payment-methods-snake.json"))
	methods, err := c.PaymentMethods.List(context.Background(), "985101")
	require.NoError(t, err)
	require.Len(t, methods, 1)
	assert.Equal(t, "simplified_transfer", methods[0].ID)
}

func TestPaymentDecodingToleratesNullAndMissingFields(t *testing.T) {
	mux, c, base := setup(t)
	serve(t, mux, base, 200, "application/json", fixture(t, "payment-pending-nulls.json"))
	p, err := c.Payments.Get(context.Background(), "pe9x2ny2rmfd")
	require.NoError(t, err)
	assert.Equal(t, &khipu.Payment{
		PaymentID:     "pe9x2ny2rmfd",
		PaymentURL:    "https://khipu.com/payment/info/pe9x2ny2rmfd",
		ReceiverID:    "985101",
		Subject:       "Suscripción mensual",
		Amount:        khipu.MustParseAmount("19.99"),
		Currency:      "USD",
		Status:        khipu.StatusPending,
		StatusDetail:  khipu.StatusDetailPending,
		TransactionID: "ORD-2",
		PaymentMethod: khipu.PaymentMethodNotAvailable,
		Raw:           json.RawMessage(strings.TrimSpace(string(fixture(t, "payment-pending-nulls.json")))),
	}, p)
}

func TestUserAgentAndBaseURLOptions(t *testing.T) {
	mux, c, base := setup(t, khipu.WithUserAgent("  myshop/1.2 "))
	srv := serve(t, mux, base, 200, "application/json", fixture(t, "banks.json"))
	_, err := c.Banks.List(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "myshop/1.2 khipu-go/"+khipu.Version, srv.requests()[0].Header.Get("User-Agent"))

	// A trailing slash on the base URL does not double the path's slash.
	c2, err := khipu.NewClient(testReceiverID, testSecret, khipu.WithBaseURL(base+"/"))
	require.NoError(t, err)
	_, err = c2.Banks.List(context.Background())
	require.NoError(t, err)
	got := srv.requests()[1]
	assert.Equal(t, "/api/2.0/banks", got.Path)
	assert.True(t, got.SignatureOK)
}

func TestNewClientRefusesBadCredentialsAndOptions(t *testing.T) {
	cases := []struct {
		name       string
		id, secret string
		opt        khipu.Option
		param      string
	}{
		{"empty receiver id", "", "s", nil, "receiverID"},
		{"receiver id not numeric", "abc", "s", nil, "receiverID"},
		{"swapped credentials", "abc123", "12345", nil, "receiverID"},
		{"empty secret", "12345", "", nil, "secret"},
		{"secret with a newline", "12345", "abc123\n", nil, "secret"},
		{"relative base URL", "12345", "s", khipu.WithBaseURL("/api/2.0"), "base URL"},
		{"base URL of another scheme", "12345", "s", khipu.WithBaseURL("ftp://khipu.com/api"), "base URL"},
		{"base URL with a query", "12345", "s", khipu.WithBaseURL("https://khipu.com/api/2.0?x=1"), "base URL"},
		{"base URL with user info", "12345", "s", khipu.WithBaseURL("https://u:p@khipu.com/api/2.0"), "base URL"},
		{"unparsable base URL", "12345", "s", khipu.WithBaseURL("https://[::1"), "base URL"},
		{"base URL with an empty query", "12345", "s", khipu.WithBaseURL("https://khipu.com/api/2.0?"), "base URL"},
		{"empty user agent", "12345", "s", khipu.WithUserAgent(" "), "user agent"},
		{"user agent with a newline", "12345", "s", khipu.WithUserAgent("shop\r\nX-Evil: 1"), "user agent"},
		{"negative retries", "12345", "s", khipu.WithRetry(khipu.RetryPolicy{MaxRetries: -1}), "retry policy"},
		{"too many retries", "12345", "s", khipu.WithRetry(khipu.RetryPolicy{MaxRetries: 11}), "retry policy"},
		{"backoffs reversed", "12345", "s", khipu.WithRetry(khipu.RetryPolicy{MaxRetries: 1, MinBackoff: time.Second, MaxBackoff: time.Millisecond}), "retry policy"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := khipu.NewClient(tc.id, tc.secret, tc.opt)
			assert.Nil(t, c)
			var pe *khipu.ParamError
			require.ErrorAs(t, err, &pe)
			assert.Equal(t, tc.param, pe.Param)
			if tc.secret != "s" && len(tc.secret) > 3 {
				assert.NotContains(t, err.Error(), strings.TrimSpace(tc.secret), "the secret is never echoed")
			}
		})
	}
}

func TestACancelledContextSendsNothing(t *testing.T) {
	mux, c, base := setup(t)
	srv := serve(t, mux, base, 200, "application/json", fixture(t, "banks.json"))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, ep := range endpoints() {
		_, err := ep.call(ctx, c)
		require.ErrorIs(t, err, context.Canceled, ep.name)
	}
	assert.Zero(t, srv.count.Load())
}

func TestContextEndingMidCallIsReportedAndNotRetried(t *testing.T) {
	for _, tc := range []struct {
		name string
		// ctx returns the call's context and what the server does when the
		// request arrives.
		ctx  func() (ctx context.Context, onArrival func(), cancel context.CancelFunc)
		want error
	}{
		{"deadline", func() (context.Context, func(), context.CancelFunc) {
			ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
			return ctx, func() {}, cancel
		}, context.DeadlineExceeded},
		{"cancel", func() (context.Context, func(), context.CancelFunc) {
			ctx, cancel := context.WithCancel(context.Background())
			return ctx, cancel, cancel // cancelled once the request is in flight
		}, context.Canceled},
	} {
		for _, ep := range endpoints() {
			t.Run(tc.name+"/"+ep.name, func(t *testing.T) {
				mux, c, _ := setup(t)
				var count atomic.Int32
				release := make(chan struct{})
				t.Cleanup(func() { close(release) })
				ctx, onArrival, cancel := tc.ctx()
				defer cancel()
				mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
					count.Add(1)
					onArrival()
					select { // stall until the client gives up
					case <-r.Context().Done():
					case <-release:
					}
				})
				out, err := ep.call(ctx, c)
				require.ErrorIs(t, err, tc.want)
				assert.Nil(t, nilIfTypedNil(out))
				assert.Contains(t, err.Error(), ep.method+" ", "the error says which call")
				// 1, or 0 when a loaded machine let the deadline pass
				// before the request was sent; never a retry.
				assert.LessOrEqual(t, count.Load(), int32(1), "a call whose context ended is not retried")
				if tc.name == "cancel" {
					assert.EqualValues(t, 1, count.Load())
				}
				assert.False(t, errors.Is(err, context.Canceled) && tc.want == context.DeadlineExceeded)
			})
		}
	}
}

// Item 6 of issue 17: "12.990", a Chilean price as it is printed, parses as
// 12.99, which Khipu v2 would charge as twelve pesos and ninety-nine cents.
// A CLP amount with a fraction is refused before anything is sent.
func TestCreateRefusesACLPAmountWithDecimals(t *testing.T) {
	mux, c, base := setup(t)
	srv := serve(t, mux, base, 200, "application/json", fixture(t, "payment-created.json"))
	p := &khipu.PaymentCreateParams{Subject: "Zapatillas", Currency: "CLP", Amount: khipu.MustParseAmount("12.990")}
	_, err := c.Payments.Create(context.Background(), p)
	var pe *khipu.ParamError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, "amount", pe.Param)
	assert.Equal(t, "khipu: invalid parameter amount: is 12.99 CLP, and a Chilean peso has no decimals: "+
		"if 12.99 is a price written with a thousands dot ($12.990), the amount is 12990", err.Error())
	assert.Equal(t, pe, p.Validate())
	assert.Zero(t, srv.count.Load(), "nothing was sent")

	for _, ok := range []*khipu.PaymentCreateParams{
		{Subject: "x", Currency: "CLP", Amount: khipu.NewAmount(12990)},
		{Subject: "x", Currency: "CLP", Amount: khipu.MustParseAmount("12990.0000")},
		{Subject: "x", Currency: "USD", Amount: khipu.MustParseAmount("12.99")},
	} {
		_, err := c.Payments.Create(context.Background(), ok)
		assert.NoError(t, err, "%s %s", ok.Amount, ok.Currency)
	}
	assert.EqualValues(t, 3, srv.count.Load())
}
