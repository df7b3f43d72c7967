package khipuv3_test

// Khipu's answers as Khipu sends them: nulls, unknown fields, numbers as
// strings, enums in upper case, and answers without what the caller cannot
// do without.

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/khipu-go/khipu"
	"github.com/khipu-go/khipu/khipuv3"
)

// TestAnAnswerWithoutWhatTheCallerNeedsIsUnexpected: a 200 whose id is
// missing (or null, or "") is an UnexpectedResponseError naming the field,
// never a success with an empty id — also for the models package khipu
// shares with khipuv3 (PaymentCreated, Payment, ReceiverCreated).
func TestAnAnswerWithoutWhatTheCallerNeedsIsUnexpected(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name, pattern, body, missing string
		call                         func(c *khipuv3.Client) (any, error)
	}{
		{"Payments.Create", "POST /v3/payments", `{"payment_url":"https://khipu.com/payment/info/x","ready_for_terminal":false}`, "payment_id",
			func(c *khipuv3.Client) (any, error) { return c.Payments.Create(ctx, minimalPayment()) }},
		{"Payments.Create null id", "POST /v3/payments", `{"payment_id":null,"payment_url":"https://khipu.com/payment/info/x"}`, "payment_id",
			func(c *khipuv3.Client) (any, error) { return c.Payments.Create(ctx, minimalPayment()) }},
		{"Payments.Get", "GET /v3/payments/{id}", `{"payment_id":"","status":"done","amount":1000,"currency":"CLP"}`, "payment_id",
			func(c *khipuv3.Client) (any, error) { return c.Payments.Get(ctx, "gqzdy6chjne9") }},
		{"Payments.Predict", "GET /v3/predict", `{"max_amount":5000000}`, "result",
			func(c *khipuv3.Client) (any, error) { return c.Payments.Predict(ctx, predictParams()) }},
		{"Receivers.Create without receiver_id", "POST /v3/receivers", `{"secret":"only-a-secret"}`, "receiver_id",
			func(c *khipuv3.Client) (any, error) { return c.Receivers.Create(ctx, receiverParams()) }},
		{"Receivers.Create without secret", "POST /v3/receivers", `{"receiver_id":4242}`, "secret",
			func(c *khipuv3.Client) (any, error) { return c.Receivers.Create(ctx, receiverParams()) }},
		{"Subscriptions.Create", "POST /v1/automatic-payment/subscription", `{"redirect_url":"https://khipu.com/pac-manager/x"}`, "subscription_id",
			func(c *khipuv3.Client) (any, error) { return c.Subscriptions.Create(ctx, subscriptionParams()) }},
		{"Subscriptions.Get", "GET /v1/automatic-payment/subscription/{id}", `{"status":"ENABLED"}`, "subscription_id",
			func(c *khipuv3.Client) (any, error) { return c.Subscriptions.Get(ctx, subscriptionID) }},
		{"Charges.Create", "POST /v1/automatic-payment/charge-intent", `{"status":"ok"}`, "payment_id",
			func(c *khipuv3.Client) (any, error) { return c.Charges.Create(ctx, chargeParams()) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f, c := setup(t)
			f.on(tc.pattern, 200, []byte(tc.body))
			out, err := tc.call(c)
			var ue *khipu.UnexpectedResponseError
			require.ErrorAs(t, err, &ue, "answer %v", out)
			assert.Equal(t, 200, ue.StatusCode)
			assert.Contains(t, err.Error(), "the response has no "+tc.missing)
			if tc.pattern == "POST /v3/receivers" {
				assert.NotContains(t, string(ue.Body), "only-a-secret")
			} else {
				assert.Equal(t, tc.body, string(ue.Body), "the body is kept for diagnosis")
			}
			assert.Equal(t, 1, f.count())
		})
	}
}

// TestEveryRealWorldBodyDecodes serves each recorded v3 and automatic
// payments body of ../testdata/realworld (see SOURCES.md) through the
// endpoint that answers it and checks what it decodes to. A body added
// there without a case here fails the test.
func TestEveryRealWorldBodyDecodes(t *testing.T) {
	ctx := context.Background()
	created := func(id string, ready bool) *khipuv3.PaymentCreated {
		return &khipuv3.PaymentCreated{
			PaymentID:             id,
			PaymentURL:            "https://khipu.com/payment/info/" + id,
			SimplifiedTransferURL: "https://app.khipu.com/payment/simplified/" + id,
			TransferURL:           "https://khipu.com/payment/manual/" + id,
			AppURL:                "khipu:///pos/" + id,
			ReadyForTerminal:      ready,
		}
	}
	cases := map[string]struct {
		pattern string
		call    func(c *khipuv3.Client) (any, error)
		check   func(t *testing.T, out any, raw string)
	}{
		"v3-banks-khiputools-1.json": {"GET /v3/banks",
			func(c *khipuv3.Client) (any, error) { return c.Banks.List(ctx) },
			func(t *testing.T, out any, _ string) {
				assert.Equal(t, []khipuv3.Bank{{
					BankID: "Bawdf", Name: "DemoBank", Message: "Este es un banco de pruebas. Las transacciones no son reales.",
					MinAmount: khipu.NewAmount(200), Type: "Persona",
					LogoURL: "https://s3.amazonaws.com/static.khipu.com/logos/bancos/chile/demobank-icon.png",
				}}, out, `min_amount "200.0000", a string, is 200`)
			}},
		"v3-banks-khiputoolsmock-1.json": {"GET /v3/banks",
			func(c *khipuv3.Client) (any, error) { return c.Banks.List(ctx) },
			func(t *testing.T, out any, _ string) {
				banks := out.([]khipuv3.Bank)
				require.Len(t, banks, 2)
				assert.Equal(t, khipu.NewAmount(1000), banks[0].MinAmount)
				assert.Equal(t, "Banco Santander", banks[1].Name)
				assert.Equal(t, khipu.NewAmount(1), banks[1].MinAmount)
				assert.Empty(t, banks[1].Message)
			}},
		"v3-payment-created-khiputools-1.json": {"POST /v3/payments",
			func(c *khipuv3.Client) (any, error) { return c.Payments.Create(ctx, minimalPayment()) },
			func(t *testing.T, out any, raw string) {
				got := out.(*khipuv3.PaymentCreated)
				assert.Equal(t, raw, string(got.Raw))
				got.Raw = nil
				assert.Equal(t, created("gqzdy6chjne9", false), got)
			}},
		"v3-payment-created-testkhipu-1.json": {"POST /v3/payments",
			func(c *khipuv3.Client) (any, error) { return c.Payments.Create(ctx, minimalPayment()) },
			func(t *testing.T, out any, raw string) {
				got := out.(*khipuv3.PaymentCreated)
				assert.Equal(t, raw, string(got.Raw))
				got.Raw = nil
				assert.Equal(t, created("bez9pzbytkoq", false), got, "key order does not matter")
			}},
		"v3-payment-derekillo-1.json": {"GET /v3/payments/{id}",
			func(c *khipuv3.Client) (any, error) { return c.Payments.Get(ctx, "drp7wjy8qfoq") },
			func(t *testing.T, out any, raw string) {
				p := *out.(*khipuv3.Payment)
				assert.Equal(t, raw, string(p.Raw))
				assert.True(t, p.ConciliationDate.Equal(time.Date(2025, 5, 9, 18, 20, 28, 884e6, time.UTC)), "%v", p.ConciliationDate)
				assert.True(t, p.ExpiresDate.Equal(time.Date(2025, 5, 10, 18, 19, 29, 309e6, time.UTC)), "%v", p.ExpiresDate)
				p.Raw, p.ConciliationDate, p.ExpiresDate = nil, time.Time{}, time.Time{}
				want := khipuv3.Payment{
					PaymentID:             "drp7wjy8qfoq",
					PaymentURL:            "https://khipu.com/payment/info/drp7wjy8qfoq",
					SimplifiedTransferURL: "https://app.khipu.com/payment/simplified/drp7wjy8qfoq",
					TransferURL:           "https://khipu.com/payment/manual/drp7wjy8qfoq",
					AppURL:                "khipu:///pos/drp7wjy8qfoq",
					ReadyForTerminal:      true,
					NotificationToken:     "3d6c1abc2f545e64fe9508f54330da65eabdc63ce405bcbced0c26e6d05a7de0",
					ReceiverID:            "497684",
					Subject:               "3",
					Amount:                khipu.NewAmount(3), // "3.0000", a string
					Currency:              "CLP",
					Status:                khipu.StatusDone,
					StatusDetail:          khipu.StatusDetailNormal,
					ReceiptURL:            "https://s3.amazonaws.com/notifications.khipu.com/CPKH-0905251420-drp7wjy8qfoq.pdf",
					ReturnURL:             "https://www.khipu.com/",
					CancelURL:             "https://www.khipu.com/",
					AttachmentURLs:        []string{},
					Bank:                  "DemoBank",
					BankID:                "Bawdf",
					PayerName:             "Cobrador de desarrollo #497.684",
					PayerEmail:            "payer@example.com",
					PersonalIdentifier:    "11.111.111-1",
					BankAccountNumber:     "000000000001",
					TransactionID:         "tx-20250509141928",
					ResponsibleUserEmail:  "payer@example.com",
					PaymentMethod:         khipu.PaymentMethodSimplifiedTransfer,
					FundsSource:           "not-available",
				}
				assert.Equal(t, want, p)
				assert.True(t, p.Discount.IsZero(), `discount "0.0000"`)
			}},
		"v3-payment-khiputools-1.json": {"GET /v3/payments/{id}",
			func(c *khipuv3.Client) (any, error) { return c.Payments.Get(ctx, "gqzdy6chjne9") },
			func(t *testing.T, out any, _ string) { assertDocPayment(t, out.(*khipuv3.Payment)) }},
		"v3-predict-khiputools-1.json": {"GET /v3/predict",
			func(c *khipuv3.Client) (any, error) { return c.Payments.Predict(ctx, predictParams()) },
			func(t *testing.T, out any, _ string) {
				p := out.(*khipuv3.Prediction)
				assert.Equal(t, khipuv3.PredictionOK, p.Result)
				assert.Equal(t, "5000000", p.MaxAmount.String())
				assert.Equal(t, "100000", p.NewDestinataryMaxAmount.String())
				assert.Equal(t, time.Date(2024, 6, 21, 11, 23, 9, 123e6, time.UTC), p.CoolDownDate)
			}},
		"subscription-khiputools-1.json": {"POST /v1/automatic-payment/subscription",
			func(c *khipuv3.Client) (any, error) { return c.Subscriptions.Create(ctx, subscriptionParams()) },
			func(t *testing.T, out any, _ string) {
				assert.Equal(t, &khipuv3.SubscriptionCreated{
					SubscriptionID: "13a0f1aa-5e47-4894-aa8b-282dd19593ec",
					RedirectURL:    "https://khipu.com/pac-manager/13a0f1aa-5e47-4894-aa8b-282dd19593ec",
				}, out)
			}},
		"subscription-khiputools-2.json": {"GET /v1/automatic-payment/subscription/{id}",
			func(c *khipuv3.Client) (any, error) { return c.Subscriptions.Get(ctx, subscriptionID) },
			func(t *testing.T, out any, _ string) {
				assert.Equal(t, &khipuv3.Subscription{
					SubscriptionID: "13a0f1aa-5e47-4894-aa8b-282dd19593ec", Status: khipuv3.SubscriptionSigned,
					Developer: false, CustomerBankCode: "8", ServiceReference: "My Merchant name",
				}, out, `"SIGNED" in upper case; customer_bank_code "8"`)
			}},
		// A v2 documentation copy of what documents /v3/merchants/{id}/paymentMethods.
		"v2-payment-methods-khiputools-1.json": {"GET /v3/merchants/{id}/paymentMethods",
			func(c *khipuv3.Client) (any, error) { return c.PaymentMethods.List(ctx, "985101") },
			func(t *testing.T, out any, _ string) {
				assert.Equal(t, []khipu.PaymentMethod{{ID: "simplified_transfer", Name: "simplified_transfer",
					LogoURL: "https://s3.amazonaws.com/static.khipu.com/buttons/2015/150x50-transparent.png"}}, out)
			}},
	}

	var files []string
	for _, pattern := range []string{"v3-*.json", "subscription-*.json"} {
		m, err := filepath.Glob(filepath.Join("..", "testdata", "realworld", pattern))
		require.NoError(t, err)
		files = append(files, m...)
	}
	require.Len(t, files, 9)
	for _, path := range files {
		_, ok := cases[filepath.Base(path)]
		assert.True(t, ok, "%s has no case here", path)
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			f, c := setup(t)
			body := realworld(t, name)
			f.on(tc.pattern, 200, body)
			out, err := tc.call(c)
			require.NoError(t, err)
			tc.check(t, out, strings.TrimSpace(string(body)))
		})
	}
}

func TestTolerantDecoding(t *testing.T) {
	ctx := context.Background()
	get := func(t *testing.T, body string) *khipuv3.Payment {
		t.Helper()
		f, c := setup(t)
		f.on("GET /v3/payments/{id}", 200, []byte(body))
		p, err := c.Payments.Get(ctx, "gqzdy6chjne9")
		require.NoError(t, err)
		return p
	}

	t.Run("nulls, numbers as strings and unknown fields", func(t *testing.T) {
		body := fixture(t, "../payment-pending-nulls.json")
		p := get(t, string(body))
		assert.Equal(t, "pe9x2ny2rmfd", p.PaymentID)
		assert.Equal(t, "985101", p.ReceiverID, "receiver_id as a string")
		assert.Equal(t, khipu.MustParseAmount("19.99"), p.Amount, "amount as a string")
		assert.Equal(t, khipu.StatusPending, p.Status)
		assert.Empty(t, p.SimplifiedTransferURL)
		assert.False(t, p.ReadyForTerminal)
		assert.True(t, p.ConciliationDate.IsZero())
		assert.True(t, p.ExpiresDate.IsZero(), `expires_date ""`)
		assert.Nil(t, p.AttachmentURLs)
		assert.Empty(t, p.FundsSource)
		assert.JSONEq(t, string(body), string(p.Raw))
	})
	t.Run("upper-case enums", func(t *testing.T) {
		p := get(t, `{"payment_id":"gqzdy6chjne9","status":"DONE","status_detail":"NORMAL","payment_method":"SIMPLIFIED_TRANSFER",`+
			`"funds_source":"DEBIT","amount":"100.00","currency":"CLP"}`)
		assert.Equal(t, khipu.StatusDone, p.Status)
		assert.Equal(t, khipu.StatusDetailNormal, p.StatusDetail)
		assert.Equal(t, khipu.PaymentMethodSimplifiedTransfer, p.PaymentMethod)
		assert.Equal(t, "debit", p.FundsSource)
		assert.Equal(t, khipu.NewAmount(100), p.Amount)
	})
	t.Run("odd types in fields no shop decides on", func(t *testing.T) {
		p := get(t, `{"payment_id":"gqzdy6chjne9","amount":19.989999999999998,"currency":"USD","status":"done",`+
			`"send_email":"true","send_reminders":1,"out_of_date_conciliation":"0","attachment_urls":"","subject":1037,`+
			`"discount":"n/a","third_party_authorization_details":{"id":"x"},"authorizer_operation_code":"AUT-1"}`)
		assert.Equal(t, khipu.MustParseAmount("19.99"), p.Amount, "a float artifact is rounded to 4 decimals")
		assert.True(t, p.SendEmail)
		assert.True(t, p.SendReminders)
		assert.False(t, p.OutOfDateConciliation)
		assert.Nil(t, p.AttachmentURLs)
		assert.Equal(t, "1037", p.Subject)
		assert.True(t, p.Discount.IsZero())
		assert.Contains(t, string(p.Raw), `"authorizer_operation_code":"AUT-1"`, "unknown fields stay in Raw")
	})

	t.Run("subscriptions", func(t *testing.T) {
		for body, want := range map[string]khipuv3.Subscription{
			`{"subscription_id":"s-1","status":"ENABLED","developer":true,"customer_bank_code":8}`: {
				SubscriptionID: "s-1", Status: khipuv3.SubscriptionEnabled, Developer: true, CustomerBankCode: "8"},
			`{"subscription_id":"s-1","status":"signed","developer":"true","customer_bank_code":"8"}`: {
				SubscriptionID: "s-1", Status: khipuv3.SubscriptionSigned, Developer: true, CustomerBankCode: "8"},
			`{"subscription_id":"s-1","status":"Disabled","developer":null,"customer_bank_code":"no-bank","service_reference":null,"x":[]}`: {
				SubscriptionID: "s-1", Status: khipuv3.SubscriptionDisabled, CustomerBankCode: "no-bank"},
			`{"subscription_id":"s-1","status":null,"developer":1,"customer_bank_code":null,"service_reference":42}`: {
				SubscriptionID: "s-1", Developer: true, ServiceReference: "42"},
		} {
			f, c := setup(t)
			f.on("GET /v1/automatic-payment/subscription/{id}", 200, []byte(body))
			got, err := c.Subscriptions.Get(ctx, "s-1")
			require.NoError(t, err, body)
			assert.Equal(t, &want, got, body)
		}
	})
	t.Run("predictions", func(t *testing.T) {
		for body, want := range map[string]khipuv3.Prediction{
			`{"result":"MAX_AMOUNT_EXCEEDED","max_amount":"5000000.0000","new_destinatary_max_amount":"100000","cool_down_date":null}`: {
				Result: khipuv3.PredictionMaxAmountExceeded, MaxAmount: khipu.NewAmount(5000000), NewDestinataryMaxAmount: khipu.NewAmount(100000)},
			`{"result":"new_destinatary_cool_down","cool_down_date":"2024-06-21T11:23:09-04:00","max_amount":null,"extra":{}}`: {
				Result: khipuv3.PredictionNewDestinataryCoolDown, CoolDownDate: time.Date(2024, 6, 21, 15, 23, 9, 0, time.UTC)},
			`{"result":"not_available_account","cool_down_date":"mañana","max_amount":true}`: {
				Result: khipuv3.PredictionNotAvailableAccount},
			`{"result":"something_new"}`: {Result: "something_new"},
		} {
			f, c := setup(t)
			f.on("GET /v3/predict", 200, []byte(body))
			got, err := c.Payments.Predict(ctx, predictParams())
			require.NoError(t, err, body)
			assert.True(t, want.CoolDownDate.Equal(got.CoolDownDate), "%s: %v", body, got.CoolDownDate)
			want.CoolDownDate, got.CoolDownDate = time.Time{}, time.Time{}
			assert.Equal(t, &want, got, body)
		}
	})
	t.Run("banks, receivers and messages", func(t *testing.T) {
		f, c := setup(t)
		f.on("GET /v3/banks", 200, fixture(t, "../banks.json"))
		f.on("POST /v3/receivers", 200, []byte(`{"receiver_id":"4242","secret":"s3","created_at":null}`))
		f.on("DELETE /v3/payments/{id}", 200, []byte(`{"message":null,"extra":[1]}`))
		banks, err := c.Banks.List(ctx)
		require.NoError(t, err)
		require.Len(t, banks, 4)
		assert.Equal(t, khipu.NewAmount(200), banks[0].MinAmount, "200.0000 as a number")
		assert.Empty(t, banks[1].Parent, "null")
		assert.Empty(t, banks[2].Message, "null")
		assert.Equal(t, khipu.NewAmount(1000), banks[2].MinAmount, `"1000"`)
		assert.Equal(t, "0.5", banks[3].MinAmount.String())
		rc, err := c.Receivers.Create(ctx, receiverParams())
		require.NoError(t, err)
		assert.Equal(t, "4242", rc.ReceiverID, "a receiver id as a string")
		ok, err := c.Payments.Delete(ctx, "gqzdy6chjne9")
		require.NoError(t, err)
		assert.Equal(t, &khipu.Success{}, ok)
	})
}

func TestANullBankInTheListIsAZeroBankInBothAPIVersions(t *testing.T) {
	body := []byte(`{"banks":[null,{"bank_id":"Bawdf","name":"DemoBank","min_amount":"200.0000"}]}`)
	f, c := setup(t)
	f.on("GET /v3/banks", 200, body)
	v3, err := c.Banks.List(context.Background())
	require.NoError(t, err)

	v2srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	}))
	defer v2srv.Close()
	v2client, err := khipu.NewClient("12345", "secret", khipu.WithBaseURL(v2srv.URL))
	require.NoError(t, err)
	v2, err := v2client.Banks.List(context.Background())
	require.NoError(t, err)

	require.Len(t, v2, 2)
	require.Len(t, v3, 2)
	for i := range v3 {
		assert.Equal(t, khipu.Bank(v3[i]), v2[i], "the same bank in both API versions")
	}
	assert.Equal(t, khipuv3.Bank{}, v3[0])
	assert.Equal(t, "DemoBank", v3[1].Name)
}
