package khipuv3_test

// Every endpoint's exact request (method, path, query, headers, body) and
// the decoding of Khipu's recorded answer.

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/khipu-go/khipu"
	"github.com/khipu-go/khipu/khipuv3"
)

// endpoint is one call of the client as the tests drive it: how to make it
// and what Khipu must receive.
type endpoint struct {
	name    string
	method  string
	path    string
	query   url.Values // nil: no query at all
	body    string     // the exact JSON body; "" for a request without one
	fixture string     // the recorded answer (fixture's naming)
	write   bool       // it changes something at Khipu: never retried
	call    func(ctx context.Context, c *khipuv3.Client) (any, error)
	check   func(t *testing.T, out any) // asserts the decoded answer
}

// Exact bodies of the requests below, as Khipu must receive them.
const (
	fullPaymentBody = `{"subject":"Pedido 1037 — mochila ñandú \u0026 \u003cco\u003e","currency":"USD","amount":19.99,` +
		`"transaction_id":"ORD-1037","custom":"\u003ccart a=\"1\"\u003e~*!+ %20\u003c/cart\u003e",` +
		`"body":"Mochila de 30 litros\nColor: azul","bank_id":"SDdGj",` +
		`"return_url":"https://shop.example/return?order=1037\u0026x=a b","cancel_url":"https://shop.example/cancel",` +
		`"picture_url":"https://shop.example/mochila.png","notify_url":"https://shop.example/khipu/notify",` +
		`"contract_url":"https://shop.example/contract.pdf","notify_api_version":"3.0","expires_date":"2030-01-02T03:04:05Z",` +
		`"send_email":true,"payer_name":"Ana Pérez","payer_email":"ana@example.com","send_reminders":true,` +
		`"responsible_user_email":"sales@shop.example","fixed_payer_personal_identifier":"11.111.111-1",` +
		`"collect_account_uuid":"9c1f0a5e-3b7d-4e21-8f6a-2d4c8b9e0f13","confirm_timeout_date":"2030-01-03T00:00:00-03:00",` +
		`"mandatory_payment_method":"simplified_transfer","psp_client_merchant_name":"Tienda Ñuñoa","integrator_fee":"0.5"}`
	receiverBody = `{"admin_first_name":"Ana","admin_last_name":"Pérez","admin_email":"ana@example.com","country_code":"CL",` +
		`"business_identifier":"76.123.456-7","business_category":"retail","business_name":"Tienda Ñuñoa",` +
		`"business_phone":"+56 2 2345 6789","business_address_line_1":"Av. Irarrázaval 123","business_address_line_2":"Ñuñoa",` +
		`"business_address_line_3":"Santiago","contact_full_name":"Ana Pérez","contact_job_title":"Owner",` +
		`"contact_email":"ana@example.com","contact_phone":"+56 9 1234 5678","notify_url":"https://platform.example/khipu"}`
	subscriptionBody = `{"name":"Plan mensual","email":"ana@example.com","max_amount":50000,"currency":"CLP",` +
		`"notify_url":"https://shop.example/khipu/subscription","return_url":"https://shop.example/subscribed",` +
		`"cancel_url":"https://shop.example/cancelled"}`
	chargeBody = `{"subscription_id":"13a0f1aa-5e47-4894-aa8b-282dd19593ec","amount":19990,"subject":"Plan mensual, marzo",` +
		`"body":"Cargo mensual del plan","error_response_url":"https://shop.example/khipu/charge-error",` +
		`"custom":"{\"plan\":\"mensual\"}","transaction_id":"charge-2026-03","notify_url":"https://shop.example/khipu/notify",` +
		`"notify_api_version":"3.0"}`
)

func endpoints() []endpoint {
	return []endpoint{
		{
			name: "Banks.List", method: "GET", path: "/v3/banks", fixture: "../realworld/v3-banks-khiputoolsmock-1.json",
			call: func(ctx context.Context, c *khipuv3.Client) (any, error) { return c.Banks.List(ctx) },
			check: func(t *testing.T, out any) {
				assert.Equal(t, []khipuv3.Bank{
					{BankID: "SDdGj", Name: "Banco Estado", Message: "Tarifa de $300 de transferencia a otros bancos, usando CuentaRUT.",
						MinAmount: khipu.NewAmount(1000), Type: "Persona", LogoURL: "https://s3.amazonaws.com/static.khipu.com/logos/bancos/chile/estado-icon.png"},
					{BankID: "SDdGa", Name: "Banco Santander", MinAmount: khipu.NewAmount(1), Type: "Persona",
						LogoURL: "https://s3.amazonaws.com/static.khipu.com/logos/bancos/chile/santander-icon.png"},
				}, out)
			},
		},
		{
			name: "Payments.Create", method: "POST", path: "/v3/payments", body: fullPaymentBody, write: true,
			fixture: "../realworld/v3-payment-created-testkhipu-1.json",
			call: func(ctx context.Context, c *khipuv3.Client) (any, error) {
				return c.Payments.Create(ctx, fullPayment())
			},
			check: func(t *testing.T, out any) {
				created := out.(*khipuv3.PaymentCreated)
				assert.Equal(t, strings.TrimSpace(string(realworld(t, "v3-payment-created-testkhipu-1.json"))), string(created.Raw), "Raw is the body as received")
				created.Raw = nil
				assert.Equal(t, &khipuv3.PaymentCreated{
					PaymentID:             "bez9pzbytkoq",
					PaymentURL:            "https://khipu.com/payment/info/bez9pzbytkoq",
					SimplifiedTransferURL: "https://app.khipu.com/payment/simplified/bez9pzbytkoq",
					TransferURL:           "https://khipu.com/payment/manual/bez9pzbytkoq",
					AppURL:                "khipu:///pos/bez9pzbytkoq",
				}, created)
			},
		},
		{
			name: "Payments.Get", method: "GET", path: "/v3/payments/gqzdy6chjne9", fixture: "../realworld/v3-payment-khiputools-1.json",
			call:  func(ctx context.Context, c *khipuv3.Client) (any, error) { return c.Payments.Get(ctx, "gqzdy6chjne9") },
			check: func(t *testing.T, out any) { assertDocPayment(t, out.(*khipuv3.Payment)) },
		},
		{
			name: "Payments.Delete", method: "DELETE", path: "/v3/payments/gqzdy6chjne9", fixture: "success-delete.json", write: true,
			call: func(ctx context.Context, c *khipuv3.Client) (any, error) {
				return c.Payments.Delete(ctx, "gqzdy6chjne9")
			},
			check: func(t *testing.T, out any) { assert.Equal(t, &khipu.Success{Message: "Pago eliminado"}, out) },
		},
		{
			name: "Payments.Confirm", method: "POST", path: "/v3/payments/gqzdy6chjne9/confirm", fixture: "success-confirm.json", write: true,
			call: func(ctx context.Context, c *khipuv3.Client) (any, error) {
				return c.Payments.Confirm(ctx, "gqzdy6chjne9")
			},
			check: func(t *testing.T, out any) { assert.Equal(t, &khipu.Success{Message: "Pago confirmado"}, out) },
		},
		{
			name: "Payments.Refund full", method: "POST", path: "/v3/payments/gqzdy6chjne9/refunds", fixture: "success-refund.json", write: true,
			call: func(ctx context.Context, c *khipuv3.Client) (any, error) {
				return c.Payments.Refund(ctx, "gqzdy6chjne9", nil)
			},
			check: func(t *testing.T, out any) { assert.Equal(t, &khipu.Success{Message: "Reembolso solicitado"}, out) },
		},
		{
			name: "Payments.Refund partial", method: "POST", path: "/v3/payments/gqzdy6chjne9/refunds", body: `{"amount":250.5}`,
			fixture: "success-refund.json", write: true,
			call: func(ctx context.Context, c *khipuv3.Client) (any, error) {
				return c.Payments.Refund(ctx, "gqzdy6chjne9", &khipuv3.RefundParams{Amount: khipu.MustParseAmount("250.50")})
			},
			check: func(t *testing.T, out any) { assert.Equal(t, &khipu.Success{Message: "Reembolso solicitado"}, out) },
		},
		{
			name: "Payments.Predict", method: "GET", path: "/v3/predict", fixture: "../realworld/v3-predict-khiputools-1.json",
			query: url.Values{"payer_email": {"ana+pagos@example.com"}, "bank_id": {"SDdGj"}, "amount": {"50000.5"}, "currency": {"USD"}},
			call: func(ctx context.Context, c *khipuv3.Client) (any, error) {
				return c.Payments.Predict(ctx, predictParams())
			},
			check: func(t *testing.T, out any) {
				assert.Equal(t, &khipuv3.Prediction{
					Result:                  khipuv3.PredictionOK,
					MaxAmount:               khipu.NewAmount(5000000),
					CoolDownDate:            time.Date(2024, 6, 21, 11, 23, 9, 123e6, time.UTC),
					NewDestinataryMaxAmount: khipu.NewAmount(100000),
				}, out)
			},
		},
		{
			name: "Receivers.Create", method: "POST", path: "/v3/receivers", body: receiverBody, fixture: "receiver-created.json", write: true,
			call: func(ctx context.Context, c *khipuv3.Client) (any, error) {
				return c.Receivers.Create(ctx, receiverParams())
			},
			check: func(t *testing.T, out any) {
				assert.Equal(t, &khipuv3.ReceiverCreated{ReceiverID: "7654321", Secret: "a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9"}, out)
			},
		},
		{
			name: "PaymentMethods.List", method: "GET", path: "/v3/merchants/985101/paymentMethods",
			fixture: "../realworld/v2-payment-methods-khiputools-1.json",
			call:    func(ctx context.Context, c *khipuv3.Client) (any, error) { return c.PaymentMethods.List(ctx, "985101") },
			check: func(t *testing.T, out any) {
				assert.Equal(t, []khipu.PaymentMethod{{ID: "simplified_transfer", Name: "simplified_transfer",
					LogoURL: "https://s3.amazonaws.com/static.khipu.com/buttons/2015/150x50-transparent.png"}}, out)
			},
		},
		{
			name: "Subscriptions.Create", method: "POST", path: "/v1/automatic-payment/subscription", body: subscriptionBody, write: true,
			fixture: "../realworld/subscription-khiputools-1.json",
			call: func(ctx context.Context, c *khipuv3.Client) (any, error) {
				return c.Subscriptions.Create(ctx, subscriptionParams())
			},
			check: func(t *testing.T, out any) {
				assert.Equal(t, &khipuv3.SubscriptionCreated{
					SubscriptionID: "13a0f1aa-5e47-4894-aa8b-282dd19593ec",
					RedirectURL:    "https://khipu.com/pac-manager/13a0f1aa-5e47-4894-aa8b-282dd19593ec",
				}, out)
			},
		},
		{
			name: "Subscriptions.Get", method: "GET", path: "/v1/automatic-payment/subscription/" + subscriptionID,
			fixture: "../realworld/subscription-khiputools-2.json",
			call: func(ctx context.Context, c *khipuv3.Client) (any, error) {
				return c.Subscriptions.Get(ctx, subscriptionID)
			},
			check: func(t *testing.T, out any) {
				assert.Equal(t, &khipuv3.Subscription{
					SubscriptionID: subscriptionID, Status: khipuv3.SubscriptionSigned,
					CustomerBankCode: "8", ServiceReference: "My Merchant name",
				}, out)
			},
		},
		{
			name: "Charges.Create", method: "POST", path: "/v1/automatic-payment/charge-intent", body: chargeBody, write: true,
			fixture: "charge-created.json",
			call: func(ctx context.Context, c *khipuv3.Client) (any, error) {
				return c.Charges.Create(ctx, chargeParams())
			},
			check: func(t *testing.T, out any) {
				assert.Equal(t, &khipuv3.ChargeCreated{PaymentID: "pe9x2ny2rmfd"}, out)
			},
		},
	}
}

// assertDocPayment checks every field of realworld/v3-payment-khiputools-1.json,
// Khipu's own v3 example.
func assertDocPayment(t *testing.T, p *khipuv3.Payment) {
	t.Helper()
	want := &khipuv3.Payment{
		PaymentID:             "gqzdy6chjne9",
		PaymentURL:            "https://khipu.com/payment/info/gqzdy6chjne9",
		SimplifiedTransferURL: "https://app.khipu.com/payment/simplified/gqzdy6chjne9",
		TransferURL:           "https://khipu.com/payment/manual/gqzdy6chjne9",
		AppURL:                "khipu:///pos/gqzdy6chjne9",
		NotificationToken:     "9dec8aa176c5223026919b3b5579a4776923e646ff3be686b9e6b62ec042e91f",
		ReceiverID:            "985101",
		Subject:               "Test",
		Amount:                khipu.NewAmount(1000),
		Currency:              "CLP",
		Status:                khipu.StatusDone,
		StatusDetail:          khipu.StatusDetailNormal,
		Body:                  "Test",
		PictureURL:            "https://micomercio.com/picture_url",
		ReceiptURL:            "https://micomercio.com/order/receipt_url",
		ReturnURL:             "https://micomercio.com/order/return_url",
		CancelURL:             "https://micomercio.com/order/cancel_url",
		NotifyURL:             "https://micomercio.com/webhook/notify_url",
		NotifyAPIVersion:      "3.0",
		AttachmentURLs:        []string{"https://micomercio.com/attachment1.pdf"},
		Bank:                  "Banco de Chile (Edwards Citi)",
		BankID:                "dfFbF",
		PayerName:             "Nombre Pagador",
		PayerEmail:            "pagador@email.com",
		PersonalIdentifier:    "11.000.111-9",
		BankAccountNumber:     "001120490689",
		OutOfDateConciliation: true,
		TransactionID:         "zwo3wqz6uulcvajt",
		Custom:                "<xml>...</xml>",
		ResponsibleUserEmail:  "responsible@email.com",
		SendReminders:         true,
		SendEmail:             true,
		PaymentMethod:         khipu.PaymentMethodSimplifiedTransfer,
		FundsSource:           "debit",
	}
	got := *p
	assert.Equal(t, strings.TrimSpace(string(realworld(t, "v3-payment-khiputools-1.json"))), string(got.Raw), "Raw is the body as received")
	assert.True(t, got.ConciliationDate.Equal(time.Date(2017, 3, 1, 13, 0, 0, 0, time.UTC)), "conciliation_date %v", got.ConciliationDate)
	assert.True(t, got.ExpiresDate.Equal(time.Date(2023, 12, 31, 19, 45, 0, 0, time.UTC)), "expires_date %v", got.ExpiresDate)
	_, offset := got.ExpiresDate.Zone()
	assert.Equal(t, -4*3600, offset, "the offset Khipu sent is kept")
	got.Raw, got.ConciliationDate, got.ExpiresDate = nil, time.Time{}, time.Time{}
	assert.Equal(t, want, &got)
}

func TestEveryEndpointSendsExactlyWhatKhipuExpects(t *testing.T) {
	for _, ep := range endpoints() {
		t.Run(ep.name, func(t *testing.T) {
			f, c := setup(t)
			f.on(ep.method+" "+ep.path, http.StatusOK, fixture(t, ep.fixture))

			out, err := ep.call(context.Background(), c)
			require.NoError(t, err)
			ep.check(t, out)

			reqs := f.requests()
			require.Len(t, reqs, 1)
			got := reqs[0]
			assert.Equal(t, ep.method, got.Method)
			assert.Equal(t, ep.path, got.Path)
			if ep.query == nil {
				assert.Empty(t, got.RawQuery, "no query")
			} else {
				assert.Equal(t, ep.query, got.Query)
			}
			assert.Equal(t, ep.body, got.Body, "the body, byte for byte")
			if ep.body == "" {
				assert.Empty(t, got.Header.Get("Content-Type"), "no body, no Content-Type")
				assert.Zero(t, got.ContentLength)
			} else {
				assert.Equal(t, "application/json", got.Header.Get("Content-Type"))
				assert.Equal(t, int64(len(ep.body)), got.ContentLength)
				assert.JSONEq(t, ep.body, got.Body)
			}
			assert.Equal(t, []string{testAPIKey}, got.Header.Values("x-api-key"))
			assert.Equal(t, "application/json", got.Header.Get("Accept"))
			assert.Equal(t, "khipu-go/"+khipu.Version, got.Header.Get("User-Agent"))
			assert.Empty(t, got.Header.Get("Authorization"), "v3 signs nothing: the key is the authentication")
		})
	}
}

func TestWithUserAgentPrependsTheProduct(t *testing.T) {
	f, c := setup(t, khipuv3.WithUserAgent("  myshop/1.2 (+https://shop.example) "))
	f.on("GET /v3/banks", 200, realworld(t, "v3-banks-khiputools-1.json"))
	_, err := c.Banks.List(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "myshop/1.2 (+https://shop.example) khipu-go/"+khipu.Version, f.requests()[0].Header.Get("User-Agent"))

	for _, bad := range []string{"", "   ", "shop\r\nX-Evil: 1", "shop\x00"} {
		_, err := khipuv3.NewClient(testAPIKey, khipuv3.WithUserAgent(bad))
		var pe *khipu.ParamError
		require.ErrorAs(t, err, &pe, "%q", bad)
		assert.Equal(t, "user agent", pe.Param)
	}
}

// TestAmountsAreJSONNumbersWrittenCanonically: an amount is written as
// Amount.String writes it, never 1000.0, "1000" or a float64 round trip;
// integrator_fee alone is a JSON string, as Khipu asks.
func TestAmountsAreJSONNumbersWrittenCanonically(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"1000", "1000"}, {"1000.00", "1000"}, {"19.99", "19.99"}, {"19.990", "19.99"},
		{"50000.5", "50000.5"}, {"0.0001", "0.0001"}, {"0.1", "0.1"},
		{"123456789012.3456", "123456789012.3456"}, // beyond float64's exact digits
	} {
		t.Run(tc.in, func(t *testing.T) {
			f, c := setup(t)
			f.on("POST /", 200, []byte(`{"payment_id":"gqzdy6chjne9","subscription_id":"`+subscriptionID+`","message":"ok"}`))
			ctx := context.Background()
			amount := khipu.MustParseAmount(tc.in)

			p := minimalPayment()
			p.Currency = "USD" // a peso has no decimals
			p.Amount, p.IntegratorFee = amount, amount
			_, err := c.Payments.Create(ctx, p)
			require.NoError(t, err)
			_, err = c.Payments.Refund(ctx, "gqzdy6chjne9", &khipuv3.RefundParams{Amount: amount})
			require.NoError(t, err)
			s := subscriptionParams()
			s.Currency = "USD"
			s.MaxAmount = amount
			_, err = c.Subscriptions.Create(ctx, s)
			require.NoError(t, err)

			reqs := f.requests()
			require.Len(t, reqs, 3)
			created := rawFields(t, reqs[0].Body)
			assert.Equal(t, tc.want, created["amount"])
			assert.Equal(t, `"`+tc.want+`"`, created["integrator_fee"], "integrator_fee is a JSON string")
			assert.Equal(t, `{"amount":`+tc.want+`}`, reqs[1].Body)
			assert.Equal(t, tc.want, rawFields(t, reqs[2].Body)["max_amount"])

			if amount.Compare(khipu.NewAmount(1)) >= 0 {
				ch := chargeParams()
				ch.Amount = amount
				_, err = c.Charges.Create(ctx, ch)
				require.NoError(t, err)
				assert.Equal(t, tc.want, rawFields(t, f.requests()[3].Body)["amount"])
			}
		})
	}
}

func TestPaymentsCreateLeavesOutUnsetFieldsAndAsksForNotifications30(t *testing.T) {
	created := realworld(t, "v3-payment-created-khiputools-1.json")
	cases := []struct {
		name  string
		edit  func(p *khipuv3.PaymentCreateParams)
		want  string
		param string // the ParamError expected instead, naming this parameter
	}{
		{name: "minimal", edit: func(*khipuv3.PaymentCreateParams) {},
			want: `{"subject":"Order 1001","currency":"CLP","amount":1000}`},
		{name: "notify_url asks for 3.0", edit: func(p *khipuv3.PaymentCreateParams) { p.NotifyURL = "https://shop.example/n" },
			want: `{"subject":"Order 1001","currency":"CLP","amount":1000,"notify_url":"https://shop.example/n","notify_api_version":"3.0"}`},
		{name: "3.0 given", edit: func(p *khipuv3.PaymentCreateParams) {
			p.NotifyURL, p.NotifyAPIVersion = "https://shop.example/n", "3.0"
		}, want: `{"subject":"Order 1001","currency":"CLP","amount":1000,"notify_url":"https://shop.example/n","notify_api_version":"3.0"}`},
		{name: "psp_client_merchant_name", edit: func(p *khipuv3.PaymentCreateParams) { p.PSPClientMerchantName = "Tienda Ñuñoa" },
			want: `{"subject":"Order 1001","currency":"CLP","amount":1000,"psp_client_merchant_name":"Tienda Ñuñoa"}`},
		{name: "1.3 refused", edit: func(p *khipuv3.PaymentCreateParams) {
			p.NotifyURL, p.NotifyAPIVersion = "https://shop.example/n", "1.3"
		}, param: "notify_api_version"},
		{name: "1.2 refused", edit: func(p *khipuv3.PaymentCreateParams) {
			p.NotifyURL, p.NotifyAPIVersion = "https://shop.example/n", "1.2"
		}, param: "notify_api_version"},
		{name: "3 refused", edit: func(p *khipuv3.PaymentCreateParams) { p.NotifyAPIVersion = "3" }, param: "notify_api_version"},
		{name: "no subject", edit: func(p *khipuv3.PaymentCreateParams) { p.Subject = " " }, param: "subject"},
		{name: "no currency", edit: func(p *khipuv3.PaymentCreateParams) { p.Currency = "" }, param: "currency"},
		{name: "zero amount", edit: func(p *khipuv3.PaymentCreateParams) { p.Amount = khipu.Amount{} }, param: "amount"},
		{name: "negative amount", edit: func(p *khipuv3.PaymentCreateParams) { p.Amount = khipu.NewAmount(-1000) }, param: "amount"},
		{name: "negative integrator fee", edit: func(p *khipuv3.PaymentCreateParams) { p.IntegratorFee = khipu.NewAmount(-1) }, param: "integrator_fee"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f, c := setup(t)
			f.on("POST /v3/payments", 200, created)
			p := minimalPayment()
			tc.edit(p)
			before := *p
			out, err := c.Payments.Create(context.Background(), p)
			assert.Equal(t, before, *p, "the caller's params are left as they were")
			if tc.param != "" {
				var pe *khipu.ParamError
				require.ErrorAs(t, err, &pe)
				assert.Equal(t, tc.param, pe.Param)
				assert.Zero(t, f.count(), "nothing is sent")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, "gqzdy6chjne9", out.PaymentID)
			require.Equal(t, 1, f.count())
			assert.Equal(t, tc.want, f.requests()[0].Body)
		})
	}
}

func TestRefunds(t *testing.T) {
	t.Run("a zero or negative amount is refused and nothing is sent", func(t *testing.T) {
		for name, amount := range map[string]khipu.Amount{
			"zero": {}, "negative": khipu.NewAmount(-5), "out of range": khipu.NewAmount(1 << 62),
		} {
			f, c := setup(t)
			_, err := c.Payments.Refund(context.Background(), "gqzdy6chjne9", &khipuv3.RefundParams{Amount: amount})
			var pe *khipu.ParamError
			require.ErrorAs(t, err, &pe, name)
			assert.Equal(t, "amount", pe.Param, name)
			assert.Zero(t, f.count(), name)
		}
	})
	t.Run("nil params refund everything with no body", func(t *testing.T) {
		f, c := setup(t)
		f.on("POST /v3/payments/{id}/refunds", 200, fixture(t, "success-refund.json"))
		_, err := c.Payments.Refund(context.Background(), "gqzdy6chjne9", nil)
		require.NoError(t, err)
		got := f.requests()[0]
		assert.Empty(t, got.Body)
		assert.Empty(t, got.Header.Get("Content-Type"))
	})
}

func TestPredictRefusesAMissingParameterByName(t *testing.T) {
	cases := map[string]func(p *khipuv3.PredictParams){
		"payer_email": func(p *khipuv3.PredictParams) { p.PayerEmail = "" },
		"bank_id":     func(p *khipuv3.PredictParams) { p.BankID = "" },
		"amount":      func(p *khipuv3.PredictParams) { p.Amount = khipu.Amount{} },
		"currency":    func(p *khipuv3.PredictParams) { p.Currency = "" },
	}
	for param, edit := range cases {
		t.Run(param, func(t *testing.T) {
			f, c := setup(t)
			p := predictParams()
			edit(p)
			_, err := c.Payments.Predict(context.Background(), p)
			var pe *khipu.ParamError
			require.ErrorAs(t, err, &pe)
			assert.Equal(t, param, pe.Param)
			assert.Equal(t, "is required", pe.Reason)
			assert.Zero(t, f.count())
		})
	}
	t.Run("negative amount", func(t *testing.T) {
		f, c := setup(t)
		p := predictParams()
		p.Amount = khipu.NewAmount(-1)
		_, err := c.Payments.Predict(context.Background(), p)
		var pe *khipu.ParamError
		require.ErrorAs(t, err, &pe)
		assert.Equal(t, "amount", pe.Param)
		assert.Zero(t, f.count())
	})
	t.Run("the query is escaped", func(t *testing.T) {
		f, c := setup(t)
		f.on("GET /v3/predict", 200, realworld(t, "v3-predict-khiputools-1.json"))
		_, err := c.Payments.Predict(context.Background(), predictParams())
		require.NoError(t, err)
		assert.Equal(t, "amount=50000.5&bank_id=SDdGj&currency=USD&payer_email=ana%2Bpagos%40example.com", f.requests()[0].RawQuery,
			"a '+' in an e-mail is sent as %2B, never as a space")
	})
}

func TestSubscriptionsCreateChecksEveryRequiredParameter(t *testing.T) {
	cases := []struct {
		param string
		edit  func(p *khipuv3.SubscriptionCreateParams)
	}{
		{"name", func(p *khipuv3.SubscriptionCreateParams) { p.Name = "" }},
		{"email", func(p *khipuv3.SubscriptionCreateParams) { p.Email = "" }},
		{"email", func(p *khipuv3.SubscriptionCreateParams) { p.Email = "ana" }},
		{"email", func(p *khipuv3.SubscriptionCreateParams) { p.Email = "Ana <ana@example.com>" }},
		{"max_amount", func(p *khipuv3.SubscriptionCreateParams) { p.MaxAmount = khipu.Amount{} }},
		{"max_amount", func(p *khipuv3.SubscriptionCreateParams) { p.MaxAmount = khipu.NewAmount(-1) }},
		{"currency", func(p *khipuv3.SubscriptionCreateParams) { p.Currency = "" }},
		{"notify_url", func(p *khipuv3.SubscriptionCreateParams) { p.NotifyURL = "" }},
		{"notify_url", func(p *khipuv3.SubscriptionCreateParams) { p.NotifyURL = "/khipu/subscription" }},
		{"return_url", func(p *khipuv3.SubscriptionCreateParams) { p.ReturnURL = "" }},
		{"return_url", func(p *khipuv3.SubscriptionCreateParams) { p.ReturnURL = "ftp://shop.example/x" }},
		{"cancel_url", func(p *khipuv3.SubscriptionCreateParams) { p.CancelURL = "" }},
		{"cancel_url", func(p *khipuv3.SubscriptionCreateParams) { p.CancelURL = "https://" }},
	}
	for _, tc := range cases {
		f, c := setup(t)
		p := subscriptionParams()
		tc.edit(p)
		_, err := c.Subscriptions.Create(context.Background(), p)
		var pe *khipu.ParamError
		require.ErrorAs(t, err, &pe, "%+v", p)
		assert.Equal(t, tc.param, pe.Param, "%+v", p)
		assert.Zero(t, f.count())
	}

	t.Run("optional fields are sent when set", func(t *testing.T) {
		f, c := setup(t)
		f.on("POST /v1/automatic-payment/subscription", 200, realworld(t, "subscription-khiputools-1.json"))
		p := subscriptionParams()
		p.ServiceReference, p.ImageURL, p.Description = "My Merchant name", "https://shop.example/logo.png", "Plan mensual de café"
		_, err := c.Subscriptions.Create(context.Background(), p)
		require.NoError(t, err)
		assert.Equal(t, subscriptionBody[:len(subscriptionBody)-1]+
			`,"service_reference":"My Merchant name","image_url":"https://shop.example/logo.png","description":"Plan mensual de café"}`,
			f.requests()[0].Body)
	})
}

func TestChargesCreateChecksEveryRequiredParameter(t *testing.T) {
	cases := []struct {
		param string
		edit  func(p *khipuv3.ChargeCreateParams)
	}{
		{"subscription_id", func(p *khipuv3.ChargeCreateParams) { p.SubscriptionID = "" }},
		{"subscription_id", func(p *khipuv3.ChargeCreateParams) { p.SubscriptionID = "../x" }},
		{"amount", func(p *khipuv3.ChargeCreateParams) { p.Amount = khipu.Amount{} }},
		{"amount", func(p *khipuv3.ChargeCreateParams) { p.Amount = khipu.MustParseAmount("0.5") }},
		{"amount", func(p *khipuv3.ChargeCreateParams) { p.Amount = khipu.MustParseAmount("0.9999") }},
		{"amount", func(p *khipuv3.ChargeCreateParams) { p.Amount = khipu.NewAmount(-1) }},
		{"subject", func(p *khipuv3.ChargeCreateParams) { p.Subject = "" }},
		{"body", func(p *khipuv3.ChargeCreateParams) { p.Body = "" }},
		{"error_response_url", func(p *khipuv3.ChargeCreateParams) { p.ErrorResponseURL = "" }},
		{"error_response_url", func(p *khipuv3.ChargeCreateParams) { p.ErrorResponseURL = "shop.example/err" }},
		{"custom", func(p *khipuv3.ChargeCreateParams) { p.Custom = "" }},
		{"transaction_id", func(p *khipuv3.ChargeCreateParams) { p.TransactionID = "" }},
		{"notify_url", func(p *khipuv3.ChargeCreateParams) { p.NotifyURL = "" }},
		{"notify_url", func(p *khipuv3.ChargeCreateParams) { p.NotifyURL = "mailto:ana@example.com" }},
		{"notify_api_version", func(p *khipuv3.ChargeCreateParams) { p.NotifyAPIVersion = "1.2" }},
		{"notify_api_version", func(p *khipuv3.ChargeCreateParams) { p.NotifyAPIVersion = "2.0" }},
	}
	for _, tc := range cases {
		f, c := setup(t)
		p := chargeParams()
		tc.edit(p)
		_, err := c.Charges.Create(context.Background(), p)
		var pe *khipu.ParamError
		require.ErrorAs(t, err, &pe, "%+v", p)
		assert.Equal(t, tc.param, pe.Param, "%+v", p)
		assert.Zero(t, f.count())
	}

	for _, version := range []string{"3.0", "1.3"} {
		t.Run("notify_api_version "+version+" is accepted", func(t *testing.T) {
			f, c := setup(t)
			f.on("POST /v1/automatic-payment/charge-intent", 200, fixture(t, "charge-created.json"))
			p := chargeParams()
			p.NotifyAPIVersion = version
			_, err := c.Charges.Create(context.Background(), p)
			require.NoError(t, err)
			assert.Equal(t, `"`+version+`"`, rawFields(t, f.requests()[0].Body)["notify_api_version"])
			assert.Equal(t, version, p.NotifyAPIVersion)
		})
	}
	t.Run("an amount of exactly 1 is accepted", func(t *testing.T) {
		f, c := setup(t)
		f.on("POST /v1/automatic-payment/charge-intent", 200, fixture(t, "charge-created.json"))
		p := chargeParams()
		p.Amount = khipu.NewAmount(1)
		_, err := c.Charges.Create(context.Background(), p)
		require.NoError(t, err)
		assert.Equal(t, "1", rawFields(t, f.requests()[0].Body)["amount"])
	})
}

// TestPathIDs: an id reaches the URL path only when it is letters, digits,
// '-' and '_', at most 255 of them; anything else is refused by name before
// anything is sent.
func TestPathIDs(t *testing.T) {
	ctx := context.Background()
	calls := []struct {
		name, param, pattern, answer string
		path                         func(id string) string
		call                         func(c *khipuv3.Client, id string) error
	}{
		{"Payments.Get", "payment_id", "GET /v3/payments/{id}", "../realworld/v3-payment-khiputools-1.json",
			func(id string) string { return "/v3/payments/" + id },
			func(c *khipuv3.Client, id string) error { _, err := c.Payments.Get(ctx, id); return err }},
		{"Payments.Delete", "payment_id", "DELETE /v3/payments/{id}", "success-delete.json",
			func(id string) string { return "/v3/payments/" + id },
			func(c *khipuv3.Client, id string) error { _, err := c.Payments.Delete(ctx, id); return err }},
		{"Payments.Confirm", "payment_id", "POST /v3/payments/{id}/confirm", "success-confirm.json",
			func(id string) string { return "/v3/payments/" + id + "/confirm" },
			func(c *khipuv3.Client, id string) error { _, err := c.Payments.Confirm(ctx, id); return err }},
		{"Payments.Refund", "payment_id", "POST /v3/payments/{id}/refunds", "success-refund.json",
			func(id string) string { return "/v3/payments/" + id + "/refunds" },
			func(c *khipuv3.Client, id string) error { _, err := c.Payments.Refund(ctx, id, nil); return err }},
		{"PaymentMethods.List", "merchant_id", "GET /v3/merchants/{id}/paymentMethods", "../realworld/v2-payment-methods-khiputools-1.json",
			func(id string) string { return "/v3/merchants/" + id + "/paymentMethods" },
			func(c *khipuv3.Client, id string) error { _, err := c.PaymentMethods.List(ctx, id); return err }},
		{"Subscriptions.Get", "subscription_id", "GET /v1/automatic-payment/subscription/{id}", "../realworld/subscription-khiputools-2.json",
			func(id string) string { return "/v1/automatic-payment/subscription/" + id },
			func(c *khipuv3.Client, id string) error { _, err := c.Subscriptions.Get(ctx, id); return err }},
	}
	long := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = "abcXYZ019-_"[i%11]
		}
		return string(b)
	}
	bad := []string{"", "../x", "a/b", "a?b", "a#b", "a b", "a%2Fb", "a.b", "ñandú", "a\x00b", long(256)}
	good := []string{"gqzdy6chjne9", subscriptionID, "985101", "A_b-9", long(255)}
	for _, call := range calls {
		t.Run(call.name, func(t *testing.T) {
			for _, id := range bad {
				f, c := setup(t)
				err := call.call(c, id)
				var pe *khipu.ParamError
				require.ErrorAs(t, err, &pe, "%q", id)
				assert.Equal(t, call.param, pe.Param, "%q", id)
				assert.Zero(t, f.count(), "%q: nothing is sent", id)
			}
			for _, id := range good {
				f, c := setup(t)
				f.on(call.pattern, 200, fixture(t, call.answer))
				require.NoError(t, call.call(c, id), "%q", id)
				assert.Equal(t, call.path(id), f.requests()[0].Path)
			}
		})
	}
}

func TestNilParamsAndNilContextAreRefused(t *testing.T) {
	f, c := setup(t)
	var nilCtx context.Context // a nil context, not context.TODO
	ctx := context.Background()
	var pe *khipu.ParamError
	calls := map[string]func() error{
		"Payments.Create":      func() error { _, err := c.Payments.Create(ctx, nil); return err },
		"Payments.Predict":     func() error { _, err := c.Payments.Predict(ctx, nil); return err },
		"Receivers.Create":     func() error { _, err := c.Receivers.Create(ctx, nil); return err },
		"Subscriptions.Create": func() error { _, err := c.Subscriptions.Create(ctx, nil); return err },
		"Charges.Create":       func() error { _, err := c.Charges.Create(ctx, nil); return err },
	}
	for name, call := range calls {
		require.ErrorAs(t, call(), &pe, name)
		assert.Equal(t, "params", pe.Param, name)
	}
	_, err := c.Banks.List(nilCtx)
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, "ctx", pe.Param)
	assert.Zero(t, f.count())
}

func TestReceiversCreateReportsEveryMissingParameter(t *testing.T) {
	f, c := setup(t)
	_, err := c.Receivers.Create(context.Background(), &khipuv3.ReceiverCreateParams{AdminFirstName: "Ana", CountryCode: "Chile"})
	var pe *khipu.ParamError
	require.ErrorAs(t, err, &pe)
	for _, param := range []string{"admin_last_name", "admin_email", "business_identifier", "contact_phone", "country_code"} {
		assert.Contains(t, err.Error(), "invalid parameter "+param)
	}
	assert.NotContains(t, err.Error(), "admin_first_name")
	assert.Zero(t, f.count())
}

func TestClientOptions(t *testing.T) {
	t.Run("NewClient refuses an empty or blank key", func(t *testing.T) {
		for _, key := range []string{"", "   ", "\t"} {
			_, err := khipuv3.NewClient(key)
			var pe *khipu.ParamError
			require.ErrorAs(t, err, &pe, "%q", key)
			assert.Equal(t, "apiKey", pe.Param)
		}
	})
	t.Run("a bad base URL is refused", func(t *testing.T) {
		for _, u := range []string{"", "payment-api.khipu.com", "/v3", "ftp://payment-api.khipu.com", "https://",
			"https://payment-api.khipu.com/?x=1", "https://payment-api.khipu.com/?", "https://payment-api.khipu.com/#f",
			"https://user:pw@payment-api.khipu.com", "https://payment-api.khipu.com/%zz"} {
			_, err := khipuv3.NewClient(testAPIKey, khipuv3.WithBaseURL(u))
			var pe *khipu.ParamError
			require.ErrorAs(t, err, &pe, "%q", u)
			assert.Equal(t, "base URL", pe.Param)
		}
	})
	t.Run("the default base URL is Khipu's", func(t *testing.T) {
		c, err := khipuv3.NewClient(testAPIKey)
		require.NoError(t, err)
		assert.Equal(t, "https://payment-api.khipu.com", khipuv3.DefaultBaseURL)
		assert.Contains(t, c.String(), "baseURL: "+khipuv3.DefaultBaseURL+",")
	})
	t.Run("a base URL with a trailing slash or a path prefix", func(t *testing.T) {
		f := newFake(t)
		f.on("GET /v3/banks", 200, realworld(t, "v3-banks-khiputools-1.json"))
		f.on("GET /proxy/v3/banks", 200, realworld(t, "v3-banks-khiputools-1.json"))
		for _, base := range []string{f.srv.URL + "/", f.srv.URL + "/proxy/"} {
			c, err := khipuv3.NewClient(testAPIKey, khipuv3.WithBaseURL(base))
			require.NoError(t, err)
			_, err = c.Banks.List(context.Background())
			require.NoError(t, err, base)
		}
		reqs := f.requests()
		assert.Equal(t, "/v3/banks", reqs[0].Path)
		assert.Equal(t, "/proxy/v3/banks", reqs[1].Path)
	})
	t.Run("WithHTTPClient sends through the given client; nil is the default", func(t *testing.T) {
		f := newFake(t)
		f.on("GET /v3/banks", 200, realworld(t, "v3-banks-khiputools-1.json"))
		var through int
		hc := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
			through++
			return http.DefaultTransport.RoundTrip(r)
		})}
		for _, opt := range []khipuv3.Option{khipuv3.WithHTTPClient(hc), khipuv3.WithHTTPClient(nil), nil} {
			c, err := khipuv3.NewClient(testAPIKey, khipuv3.WithBaseURL(f.srv.URL), opt)
			require.NoError(t, err)
			_, err = c.Banks.List(context.Background())
			require.NoError(t, err)
		}
		assert.Equal(t, 1, through)
		assert.Equal(t, 3, f.count())
	})
	t.Run("a bad retry policy is refused", func(t *testing.T) {
		for _, p := range []khipu.RetryPolicy{{MaxRetries: -1}, {MaxRetries: 11}, {MinBackoff: -1},
			{MinBackoff: time.Second, MaxBackoff: time.Millisecond}} {
			_, err := khipuv3.NewClient(testAPIKey, khipuv3.WithRetry(p))
			var pe *khipu.ParamError
			require.ErrorAs(t, err, &pe, "%+v", p)
			assert.Equal(t, "retry policy", pe.Param)
		}
	})
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestADateJSONCannotCarryIsRefusedByName: a year past 9999 or a zone
// offset of a day is a ParamError naming the date, never an encoding/json
// error naming Go types, and nothing is sent.
func TestADateJSONCannotCarryIsRefusedByName(t *testing.T) {
	farZone := time.FixedZone("far", 25*3600)
	cases := map[string]func(p *khipuv3.PaymentCreateParams){
		"expires_date": func(p *khipuv3.PaymentCreateParams) { p.ExpiresDate = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) },
		"confirm_timeout_date": func(p *khipuv3.PaymentCreateParams) {
			p.ConfirmTimeoutDate = time.Date(2030, 1, 1, 0, 0, 0, 0, farZone)
		},
	}
	for param, edit := range cases {
		f, c := setup(t)
		p := minimalPayment()
		edit(p)
		_, err := c.Payments.Create(context.Background(), p)
		var pe *khipu.ParamError
		require.ErrorAs(t, err, &pe, param)
		assert.Equal(t, param, pe.Param)
		assert.NotContains(t, err.Error(), "time.Time")
		assert.Zero(t, f.count(), param)
	}
}
