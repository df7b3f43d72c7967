package khiputest_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/khipu-go/khipu"
	"github.com/khipu-go/khipu/khiputest"
)

// These tests speak Khipu's Automatic Payments API v1 as any HTTP client
// would, from Khipu's description: plain net/http requests with an
// x-api-key header and JSON bodies.

const (
	subscriptionPath = "/v1/automatic-payment/subscription"
	chargePath       = "/v1/automatic-payment/charge-intent"
)

// withChanges is m with changes applied: a nil value removes the key.
func withChanges(m, changes map[string]any) string {
	for k, v := range changes {
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
	}
	b, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// subscriptionJSON is a create-subscription body Khipu accepts, with
// changes.
func subscriptionJSON(notifyURL string, changes map[string]any) string {
	return withChanges(map[string]any{
		"name": "Plan Hogar, Ana", "email": "ana@example.com", "max_amount": json.Number("10000"), "currency": "CLP",
		"notify_url": notifyURL, "return_url": "https://shop.example/subscribed", "cancel_url": "https://shop.example/plans",
	}, changes)
}

// chargeJSON is a charge-intent body Khipu accepts for an enabled
// subscription, with changes.
func chargeJSON(subscriptionID, errorURL, notifyURL string, changes map[string]any) string {
	return withChanges(map[string]any{
		"subscription_id": subscriptionID, "amount": json.Number("9990"), "subject": "Plan Hogar, March",
		"body": "Monthly fee", "error_response_url": errorURL, "custom": "invoice 2025-03",
		"transaction_id": "inv-2025-03", "notify_url": notifyURL,
	}, changes)
}

// newSubscription creates a subscription that calls back notifyURL and
// returns its id and redirect_url.
func newSubscription(t *testing.T, srv *khiputest.Server, notifyURL string) (string, string) {
	t.Helper()
	created := v3OK(t, srv, http.MethodPost, subscriptionPath, subscriptionJSON(notifyURL, nil))
	id, _ := created["subscription_id"].(string)
	redirect, _ := created["redirect_url"].(string)
	require.NotEmpty(t, id)
	return id, redirect
}

// subscriptionStatus is what GET /subscription/{id} says of id.
func subscriptionStatus(t *testing.T, srv *khiputest.Server, id string) map[string]any {
	t.Helper()
	return v3OK(t, srv, http.MethodGet, subscriptionPath+"/"+id, "")
}

// enabledSubscription is a server with an ENABLED subscription, whose id it
// returns, and the channel of its status callbacks (the first, "enabled",
// already taken).
func enabledSubscription(t *testing.T, opts ...khiputest.ServerOption) (*khiputest.Server, string, <-chan delivery) {
	t.Helper()
	srv := newV3Server(t, opts...)
	notifyURL, callbacks := notifiedShop(t, http.StatusOK)
	id, _ := newSubscription(t, srv, notifyURL)
	require.NoError(t, srv.AuthorizeSubscription(id))
	recv(t, callbacks)
	return srv, id, callbacks
}

// newCharge charges subscription id and returns the payment's id.
func newCharge(t *testing.T, srv *khiputest.Server, body string) string {
	t.Helper()
	a := v3Call(t, srv, http.MethodPost, chargePath, body)
	require.Equal(t, http.StatusOK, a.status, "%s", a.raw)
	assert.Equal(t, []string{"payment_id"}, keysIn(t, a.raw))
	id, _ := a.object(t)["payment_id"].(string)
	require.NotEmpty(t, id)
	return id
}

// callbackJSON is a callback's body as a map, checking it was sent as Khipu
// sends its unsigned callbacks.
func callbackJSON(t *testing.T, d delivery) map[string]string {
	t.Helper()
	assert.Equal(t, "application/json", d.header.Get("Content-Type"))
	assert.Empty(t, d.header.Get("x-khipu-signature"), "Khipu signs no callback of automatic payments")
	var m map[string]string
	require.NoError(t, json.Unmarshal(d.body, &m), "%s", d.body)
	return m
}

func TestAutomaticPaymentsRefuseAMissingOrWrongAPIKey(t *testing.T) {
	srv, id, _ := enabledSubscription(t)
	requests := []struct{ method, path, body string }{
		{http.MethodPost, subscriptionPath, subscriptionJSON("https://shop.example/n", nil)},
		{http.MethodGet, subscriptionPath + "/" + id, ""},
		{http.MethodPost, chargePath, chargeJSON(id, "https://shop.example/e", "https://shop.example/n", nil)},
	}
	for _, r := range requests {
		for name, key := range map[string]string{"no": "", "a wrong": "wrong", "v2's secret as": secret} {
			t.Run(r.method+" "+r.path+" with "+name+" key is a 401", func(t *testing.T) {
				a := v3Send(t, srv, key, r.method, r.path, r.body)
				require.Equal(t, http.StatusUnauthorized, a.status, "%s", a.raw)
				assert.Equal(t, http.StatusUnauthorized, a.error(t).Status)
			})
		}
	}
	for _, r := range srv.Requests()[2:] {
		assert.Equal(t, http.StatusUnauthorized, r.Status, "nothing was created or charged: %s", r.Path)
	}
}

func TestCreateSubscriptionAnswersLikeKhipu(t *testing.T) {
	srv := newV3Server(t, khiputest.WithCurrencies("CLP", "USD"))
	a := v3Call(t, srv, http.MethodPost, subscriptionPath, subscriptionJSON("https://shop.example/n", nil))
	require.Equal(t, http.StatusOK, a.status, "%s", a.raw)
	assert.Equal(t, realKeys(t, "subscription-khiputools-1.json"), keysIn(t, a.raw))
	created := a.object(t)
	id, _ := created["subscription_id"].(string)
	assert.Regexp(t, `^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`, id, "a UUID, as Khipu's")
	assert.Equal(t, srv.V3URL()+"/pac-manager/"+id, created["redirect_url"], "a /pac-manager/ URL, as Khipu's")
	assert.Contains(t, string(a.raw), `\/pac-manager\/`, "slashes escaped as Khipu's JSON has them")

	a = v3Call(t, srv, http.MethodGet, subscriptionPath+"/"+id, "")
	require.Equal(t, http.StatusOK, a.status, "%s", a.raw)
	assert.Equal(t, realKeys(t, "subscription-khiputools-2.json"), keysIn(t, a.raw), "the fields of Khipu's example, in its order")
	assert.Equal(t, map[string]any{
		"subscription_id": id, "status": "DISABLED", "developer": true, "customer_bank_code": "no-bank", "service_reference": "",
	}, a.object(t), "not signed yet: DISABLED, no bank; a test server is a developer account")

	t.Run("with every optional field", func(t *testing.T) {
		body := subscriptionJSON("https://shop.example/n", map[string]any{
			"service_reference": "12345678K", "image_url": "https://shop.example/logo.png",
			"description": "PAC subscription for the Plan Hogar", "max_amount": 19.99, "currency": "USD",
		})
		id := v3OK(t, srv, http.MethodPost, subscriptionPath, body)["subscription_id"].(string)
		assert.Equal(t, "12345678K", subscriptionStatus(t, srv, id)["service_reference"])
	})

	t.Run("a currency the account does not collect in is a 400 naming it, as for a payment", func(t *testing.T) {
		body := subscriptionJSON("https://shop.example/n", map[string]any{"currency": "EUR"})
		ke := v3Fails(t, srv, http.StatusBadRequest, http.MethodPost, subscriptionPath, body)
		assert.Equal(t, []string{"currency"}, ke.fields())
		assert.Contains(t, ke.Errors[0].Message, "does not collect in EUR")
	})

	t.Run("an unknown subscription is a 404", func(t *testing.T) {
		v3Fails(t, srv, http.StatusNotFound, http.MethodGet, subscriptionPath+"/13a0f1aa-5e47-4894-aa8b-282dd19593ec", "")
	})
	t.Run("a GET with a parameter is a 400", func(t *testing.T) {
		ke := v3Fails(t, srv, http.StatusBadRequest, http.MethodGet, subscriptionPath+"/"+id+"?status=ENABLED", "")
		assert.Equal(t, []string{"status"}, ke.fields())
	})
	t.Run("an unknown path below the API is a 404", func(t *testing.T) {
		v3Fails(t, srv, http.StatusNotFound, http.MethodGet, "/v1/automatic-payment/subscriptions", "")
		v3Fails(t, srv, http.StatusNotFound, http.MethodDelete, subscriptionPath+"/"+id, "")
	})
}

func TestCreateSubscriptionValidatesTheJSON(t *testing.T) {
	srv := newV3Server(t, khiputest.WithStrict()) // a null or unknown field is refused, not a warning
	const notifyURL = "https://shop.example/n"
	tests := []struct {
		name       string
		body       string
		wantFields []string
	}{
		{"an unknown field", subscriptionJSON(notifyURL, map[string]any{"plan": "gold"}), []string{"plan"}},
		{"max_amount as a string", subscriptionJSON(notifyURL, map[string]any{"max_amount": "10000"}), []string{"max_amount"}},
		{"a name as a number", subscriptionJSON(notifyURL, map[string]any{"name": 7}), []string{"name"}},
		{"a null description", subscriptionJSON(notifyURL, map[string]any{"description": json.RawMessage("null")}), []string{"description"}},
		{"an empty service_reference", subscriptionJSON(notifyURL, map[string]any{"service_reference": ""}), []string{"service_reference"}},
		{"no name", subscriptionJSON(notifyURL, map[string]any{"name": nil}), []string{"name"}},
		{"no email", subscriptionJSON(notifyURL, map[string]any{"email": nil}), []string{"email"}},
		{"no max_amount", subscriptionJSON(notifyURL, map[string]any{"max_amount": nil}), []string{"max_amount"}},
		{"no currency", subscriptionJSON(notifyURL, map[string]any{"currency": nil}), []string{"currency"}},
		{"no notify_url", subscriptionJSON(notifyURL, map[string]any{"notify_url": nil}), []string{"notify_url"}},
		{"no return_url", subscriptionJSON(notifyURL, map[string]any{"return_url": nil}), []string{"return_url"}},
		{"no cancel_url", subscriptionJSON(notifyURL, map[string]any{"cancel_url": nil}), []string{"cancel_url"}},
		{"nothing", `{}`, []string{"cancel_url", "currency", "email", "max_amount", "name", "notify_url", "return_url"}},
		{"an e-mail that is not one", subscriptionJSON(notifyURL, map[string]any{"email": "ana at example"}), []string{"email"}},
		{"a relative URL", subscriptionJSON(notifyURL, map[string]any{"return_url": "/subscribed"}), []string{"return_url"}},
		{"an image_url that is no URL", subscriptionJSON(notifyURL, map[string]any{"image_url": "logo.png"}), []string{"image_url"}},
		{"a currency Khipu does not collect here", subscriptionJSON(notifyURL, map[string]any{"currency": "XAU"}), []string{"currency"}},
		{"a zero max_amount", subscriptionJSON(notifyURL, map[string]any{"max_amount": 0}), []string{"max_amount"}},
		{"a negative max_amount", subscriptionJSON(notifyURL, map[string]any{"max_amount": -1}), []string{"max_amount"}},
		{"a CLP max_amount with cents", subscriptionJSON(notifyURL, map[string]any{"max_amount": 9990.5}), []string{"max_amount"}},
		{"a name over 255 characters", subscriptionJSON(notifyURL, map[string]any{"name": strings.Repeat("ñ", 256)}), []string{"name"}},
	}
	for _, tt := range tests {
		t.Run(tt.name+" is a 400 naming it", func(t *testing.T) {
			ke := v3Fails(t, srv, http.StatusBadRequest, http.MethodPost, subscriptionPath, tt.body)
			assert.Equal(t, tt.wantFields, ke.fields(), "%+v", ke)
		})
	}
	t.Run("a body that is not a JSON object is a 400", func(t *testing.T) {
		v3Fails(t, srv, http.StatusBadRequest, http.MethodPost, subscriptionPath, `["name"]`)
	})
	t.Run("none of them created a subscription", func(t *testing.T) {
		for _, r := range srv.Requests() {
			assert.Equal(t, http.StatusBadRequest, r.Status, "%s", r.Body)
		}
	})
}

func TestAuthorizeSubscriptionPostsTheCallback(t *testing.T) {
	srv := newV3Server(t)
	notifyURL, callbacks := notifiedShop(t, http.StatusOK)
	id, _ := newSubscription(t, srv, notifyURL)

	require.NoError(t, srv.AuthorizeSubscription(id))
	d := recv(t, callbacks)
	assert.Equal(t, `{"subscription_id":"`+id+`","status":"enabled"}`, string(d.body), "status in lower case, as Khipu's callbacks")
	assert.Equal(t, map[string]string{"subscription_id": id, "status": "enabled"}, callbackJSON(t, d))
	sub := subscriptionStatus(t, srv, id)
	assert.Equal(t, "ENABLED", sub["status"], "upper case, as Khipu's answers")
	assert.Equal(t, "8", sub["customer_bank_code"], "a number in a string, as Khipu's example")

	require.NoError(t, srv.DisableSubscription(id))
	assert.Equal(t, map[string]string{"subscription_id": id, "status": "disabled"}, callbackJSON(t, recv(t, callbacks)))
	sub = subscriptionStatus(t, srv, id)
	assert.Equal(t, "DISABLED", sub["status"])
	assert.Equal(t, "8", sub["customer_bank_code"], "it was signed at that bank")

	t.Run("a shop that refuses the callback gets a CallbackError, and the status changed all the same", func(t *testing.T) {
		refusing, got := notifiedShop(t, http.StatusServiceUnavailable)
		id, _ := newSubscription(t, srv, refusing)
		err := srv.AuthorizeSubscription(id)
		var ce *khiputest.CallbackError
		require.ErrorAs(t, err, &ce)
		assert.Equal(t, khiputest.CallbackError{SubscriptionID: id, URL: refusing, StatusCode: 503}, *ce)
		assert.Equal(t, "khiputest: the status callback of subscription "+id+" to "+refusing+` was answered 503: ""`, err.Error())
		recv(t, got)
		assert.Equal(t, "ENABLED", subscriptionStatus(t, srv, id)["status"], "as at Khipu, which would call again")
	})

	t.Run("a notify_url nobody answers is a CallbackError with the cause", func(t *testing.T) {
		id, _ := newSubscription(t, srv, "http://127.0.0.1:1/khipu") // nothing listens on port 1
		err := srv.DisableSubscription(id)
		var ce *khiputest.CallbackError
		require.ErrorAs(t, err, &ce)
		assert.Zero(t, ce.StatusCode)
		require.Error(t, ce.Err)
		assert.ErrorIs(t, err, ce.Err, "Unwrap")
		assert.Contains(t, err.Error(), "the status callback of subscription "+id+" to http://127.0.0.1:1/khipu: ")
		assert.Equal(t, "DISABLED", subscriptionStatus(t, srv, id)["status"])
	})
}

func TestSubscriptionLifecycle(t *testing.T) {
	srv := newV3Server(t)
	notifyURL, callbacks := notifiedShop(t, http.StatusOK)

	t.Run("signed, then enabled", func(t *testing.T) {
		id, _ := newSubscription(t, srv, notifyURL)
		require.NoError(t, srv.SignSubscription(id))
		sub := subscriptionStatus(t, srv, id)
		assert.Equal(t, "SIGNED", sub["status"])
		assert.Equal(t, "8", sub["customer_bank_code"])
		require.NoError(t, srv.AuthorizeSubscription(id), "AuthorizeSubscription passes from SIGNED to ENABLED")
		assert.Equal(t, "enabled", callbackJSON(t, recv(t, callbacks))["status"], "SIGNED sent no callback: this is the first")
		assert.Equal(t, "ENABLED", subscriptionStatus(t, srv, id)["status"])
	})

	t.Run("refused transitions", func(t *testing.T) {
		enabled, _ := newSubscription(t, srv, notifyURL)
		require.NoError(t, srv.AuthorizeSubscription(enabled))
		recv(t, callbacks)
		disabled, _ := newSubscription(t, srv, notifyURL)
		require.NoError(t, srv.DisableSubscription(disabled))
		assert.Equal(t, "disabled", callbackJSON(t, recv(t, callbacks))["status"], "one never signed can be disabled too")
		signed, _ := newSubscription(t, srv, notifyURL)
		require.NoError(t, srv.SignSubscription(signed))

		for _, tt := range []struct {
			name string
			err  error
			want string
		}{
			{"authorizing an enabled one", srv.AuthorizeSubscription(enabled), "is ENABLED already"},
			{"signing an enabled one", srv.SignSubscription(enabled), "is ENABLED already"},
			{"authorizing a disabled one", srv.AuthorizeSubscription(disabled), "create a new subscription"},
			{"signing a disabled one", srv.SignSubscription(disabled), "create a new subscription"},
			{"disabling a disabled one", srv.DisableSubscription(disabled), "was disabled"},
			{"signing a signed one", srv.SignSubscription(signed), "is SIGNED"},
			{"authorizing an unknown one", srv.AuthorizeSubscription("nope"), `no subscription "nope"`},
			{"disabling an unknown one", srv.DisableSubscription("nope"), `no subscription "nope"`},
			{"signing an unknown one", srv.SignSubscription("nope"), `no subscription "nope"`},
		} {
			require.Error(t, tt.err, tt.name)
			assert.Contains(t, tt.err.Error(), tt.want, tt.name)
			var ce *khiputest.CallbackError
			assert.False(t, errors.As(tt.err, &ce), "%s sent nothing", tt.name)
		}
		assert.Empty(t, callbacks, "no callback for a refused transition")
		assert.Equal(t, "ENABLED", subscriptionStatus(t, srv, enabled)["status"])
		assert.Equal(t, "DISABLED", subscriptionStatus(t, srv, disabled)["status"])
		assert.Equal(t, "SIGNED", subscriptionStatus(t, srv, signed)["status"])
	})

	t.Run("an enabled subscription can be disabled", func(t *testing.T) {
		id, _ := newSubscription(t, srv, notifyURL)
		require.NoError(t, srv.AuthorizeSubscription(id))
		recv(t, callbacks)
		require.NoError(t, srv.DisableSubscription(id))
		assert.Equal(t, "disabled", callbackJSON(t, recv(t, callbacks))["status"])
	})
}

func TestTheMandatePageAuthorizes(t *testing.T) {
	srv := newV3Server(t)
	notifyURL, callbacks := notifiedShop(t, http.StatusOK)
	body := subscriptionJSON(notifyURL, map[string]any{"service_reference": "Casa 12", "description": "Plan <Hogar>"})
	created := v3OK(t, srv, http.MethodPost, subscriptionPath, body)
	id, redirect := created["subscription_id"].(string), created["redirect_url"].(string)

	page := func(t *testing.T) (int, string) {
		t.Helper()
		resp, err := http.Get(redirect)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp.StatusCode, string(b)
	}
	status, html := page(t)
	assert.Equal(t, http.StatusOK, status)
	for _, want := range []string{
		"Plan Hogar, Ana", "up to 10000 CLP", "Casa 12", "ana@example.com", "<strong>DISABLED</strong>",
		`<form method="post"><button>Authorize`, `<a href="https://shop.example/plans">`,
		"Plan &lt;Hogar&gt;", // escaped: a shop's text is never HTML
	} {
		assert.Contains(t, html, want)
	}

	browser := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := browser.PostForm(redirect, nil)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusSeeOther, resp.StatusCode)
	assert.Equal(t, "https://shop.example/subscribed", resp.Header.Get("Location"), "back to the shop's return_url")
	assert.Equal(t, map[string]string{"subscription_id": id, "status": "enabled"}, callbackJSON(t, recv(t, callbacks)))
	assert.Equal(t, "ENABLED", subscriptionStatus(t, srv, id)["status"])

	_, html = page(t)
	assert.Contains(t, html, "<strong>ENABLED</strong>")
	assert.NotContains(t, html, "<form", "nothing left to authorize")
	assert.Contains(t, html, `<a href="https://shop.example/subscribed">`)

	resp, err = browser.PostForm(redirect, nil)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusConflict, resp.StatusCode, "authorized once")

	t.Run("a shop that refuses the callback does not stop the customer", func(t *testing.T) {
		refusing, got := notifiedShop(t, http.StatusInternalServerError)
		created := v3OK(t, srv, http.MethodPost, subscriptionPath, subscriptionJSON(refusing, nil))
		resp, err := browser.PostForm(created["redirect_url"].(string), nil)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusSeeOther, resp.StatusCode)
		recv(t, got)
	})

	t.Run("an unknown subscription has no page", func(t *testing.T) {
		unknown := srv.V3URL() + "/pac-manager/13a0f1aa-5e47-4894-aa8b-282dd19593ec"
		resp, err := http.Get(unknown)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusNotFound, resp.StatusCode)
		resp, err = browser.PostForm(unknown, nil)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	})
}

func TestChargeIntentValidatesTheJSONAndTheSubscription(t *testing.T) {
	srv, id, callbacks := enabledSubscription(t, khiputest.WithStrict()) // a null or unknown field is refused, not a warning
	const errorURL, notifyURL = "https://shop.example/e", "https://shop.example/n"
	charge := func(changes map[string]any) string { return chargeJSON(id, errorURL, notifyURL, changes) }

	tests := []struct {
		name       string
		body       string
		wantFields []string
	}{
		{"an unknown field", charge(map[string]any{"currency": "CLP"}), []string{"currency"}},
		{"an amount as a string", charge(map[string]any{"amount": "9990"}), []string{"amount"}},
		{"a subject as a number", charge(map[string]any{"subject": 3}), []string{"subject"}},
		{"a null custom", charge(map[string]any{"custom": json.RawMessage("null")}), []string{"custom"}},
		{"notify_api_version 2.0", charge(map[string]any{"notify_api_version": "2.0"}), []string{"notify_api_version"}},
		{"no subscription_id", charge(map[string]any{"subscription_id": nil}), []string{"subscription_id"}},
		{"no amount", charge(map[string]any{"amount": nil}), []string{"amount"}},
		{"no subject", charge(map[string]any{"subject": nil}), []string{"subject"}},
		{"no body", charge(map[string]any{"body": nil}), []string{"body"}},
		{"no error_response_url", charge(map[string]any{"error_response_url": nil}), []string{"error_response_url"}},
		{"no custom", charge(map[string]any{"custom": nil}), []string{"custom"}},
		{"no transaction_id", charge(map[string]any{"transaction_id": nil}), []string{"transaction_id"}},
		{"no notify_url", charge(map[string]any{"notify_url": nil}), []string{"notify_url"}},
		{"an empty transaction_id", charge(map[string]any{"transaction_id": ""}), []string{"transaction_id"}},
		{"nothing", `{}`, []string{"amount", "body", "custom", "error_response_url", "notify_url", "subject", "subscription_id", "transaction_id"}},
		{"an amount below 1", charge(map[string]any{"amount": 0.5}), []string{"amount"}},
		{"a zero amount", charge(map[string]any{"amount": 0}), []string{"amount"}},
		{"an amount with 5 decimals", charge(map[string]any{"amount": 1.00001}), []string{"amount"}},
		{"a relative error_response_url", charge(map[string]any{"error_response_url": "/e"}), []string{"error_response_url"}},
		{"a body over 5120 characters", charge(map[string]any{"body": strings.Repeat("b", 5121)}), []string{"body"}},
		{"a CLP amount with cents", charge(map[string]any{"amount": 9990.5}), []string{"amount"}},
		{"an amount over the subscription's max_amount", charge(map[string]any{"amount": 10001}), []string{"amount"}},
		{"an unknown subscription", chargeJSON("13a0f1aa-5e47-4894-aa8b-282dd19593ec", errorURL, notifyURL, nil), []string{"subscription_id"}},
	}
	for _, tt := range tests {
		t.Run(tt.name+" is a 400 naming it", func(t *testing.T) {
			ke := v3Fails(t, srv, http.StatusBadRequest, http.MethodPost, chargePath, tt.body)
			assert.Equal(t, tt.wantFields, ke.fields(), "%+v", ke)
		})
	}
	t.Run("the subscription's max_amount itself is accepted", func(t *testing.T) {
		newCharge(t, srv, charge(map[string]any{"amount": 10000, "transaction_id": "max"}))
	})

	t.Run("a subscription that is not ENABLED cannot be charged: a 400 saying why", func(t *testing.T) {
		notifyURL, got := notifiedShop(t, http.StatusOK)
		unsigned, _ := newSubscription(t, srv, notifyURL)
		signed, _ := newSubscription(t, srv, notifyURL)
		require.NoError(t, srv.SignSubscription(signed))
		require.NoError(t, srv.DisableSubscription(id))
		recv(t, callbacks)
		for status, sub := range map[string]string{"DISABLED (never signed)": unsigned, "SIGNED": signed, "DISABLED": id} {
			ke := v3Fails(t, srv, http.StatusBadRequest, http.MethodPost, chargePath, chargeJSON(sub, errorURL, notifyURL, nil))
			assert.Equal(t, []string{"subscription_id"}, ke.fields(), status)
			assert.Contains(t, ke.Message, "only an ENABLED subscription can be", status)
			assert.Contains(t, ke.Message, "it is "+strings.Fields(status)[0], status)
		}
		assert.Empty(t, got)
	})
	t.Run("none of the refusals made a payment", func(t *testing.T) {
		made := 0
		for _, r := range srv.Requests() {
			if r.Endpoint == khiputest.EndpointChargesCreate && r.Status == http.StatusOK {
				made++
			}
		}
		assert.Equal(t, 1, made, "the max_amount charge")
	})
}

func TestChargesArePaymentsPaidAndNotified(t *testing.T) {
	srv, id, _ := enabledSubscription(t)
	notifyURL, notifications := notifiedShop(t, http.StatusOK)
	errorURL, errorReports := notifiedShop(t, http.StatusOK)

	t.Run("with notifications 3.0 by default", func(t *testing.T) {
		paymentID := newCharge(t, srv, chargeJSON(id, errorURL, notifyURL, nil))
		p := v3OK(t, srv, http.MethodGet, "/v3/payments/"+paymentID, "")
		assert.Equal(t, "pending", p["status"])
		assert.Equal(t, "9990.0000", p["amount"])
		assert.Equal(t, "CLP", p["currency"], "the subscription's")
		for field, want := range map[string]string{
			"subject": "Plan Hogar, March", "body": "Monthly fee", "custom": "invoice 2025-03",
			"transaction_id": "inv-2025-03", "notify_url": notifyURL, "notify_api_version": "3.0",
		} {
			assert.Equal(t, want, p[field], field)
		}
		assert.Equal(t, json.Number(receiverID), p["receiver_id"])

		require.NoError(t, srv.Pay(paymentID))
		d := recv(t, notifications)
		verified(t, d)
		var n khipu.Payment
		require.NoError(t, json.Unmarshal(d.body, &n))
		assert.Equal(t, paymentID, n.PaymentID)
		assert.Equal(t, "inv-2025-03", n.TransactionID)
		assert.Equal(t, khipu.NewAmount(9990), n.Amount)
		assert.Equal(t, "CLP", n.Currency)

		v2, err := newClient(t, srv, receiverID, secret).Payments.Get(context.Background(), paymentID)
		require.NoError(t, err, "the charge's payment is visible through v2 too")
		assert.NoError(t, v2.Check("inv-2025-03", khipu.NewAmount(9990), "CLP"))
	})

	t.Run("with notifications 1.3 when the charge asks for them", func(t *testing.T) {
		paymentID := newCharge(t, srv, chargeJSON(id, errorURL, notifyURL, map[string]any{"notify_api_version": "1.3", "transaction_id": "inv-13"}))
		require.NoError(t, srv.Pay(paymentID))
		d := recv(t, notifications)
		assert.Equal(t, "application/x-www-form-urlencoded", d.header.Get("Content-Type"))
		form, err := url.ParseQuery(string(d.body))
		require.NoError(t, err)
		assert.Equal(t, "1.3", form.Get("api_version"))
		p, err := newClient(t, srv, receiverID, secret).Payments.GetByNotificationToken(context.Background(), form.Get("notification_token"))
		require.NoError(t, err)
		assert.Equal(t, paymentID, p.PaymentID)
		assert.NoError(t, p.Check("inv-13", khipu.NewAmount(9990), "CLP"))
	})

	t.Run("a paid charge is not paid twice and cannot fail", func(t *testing.T) {
		paymentID := newCharge(t, srv, chargeJSON(id, errorURL, notifyURL, nil))
		require.NoError(t, srv.Pay(paymentID))
		recv(t, notifications)
		assert.Error(t, srv.Pay(paymentID))
		err := srv.FailCharge(paymentID, "insufficient funds")
		require.Error(t, err)
		assert.Contains(t, err.Error(), "is done, not pending")
	})
	assert.Empty(t, errorReports, "no charge failed")
}

func TestFailChargePostsTheErrorCallback(t *testing.T) {
	srv, id, _ := enabledSubscription(t)
	notifyURL, notifications := notifiedShop(t, http.StatusOK)
	errorURL, errorReports := notifiedShop(t, http.StatusOK)
	paymentID := newCharge(t, srv, chargeJSON(id, errorURL, notifyURL, nil))

	require.NoError(t, srv.FailCharge(paymentID, "Fondos insuficientes"))
	d := recv(t, errorReports)
	assert.Equal(t, `{"subscription_id":"`+id+`","transaction_id":"inv-2025-03","error_message":"Fondos insuficientes"}`, string(d.body))
	assert.Equal(t, map[string]string{"subscription_id": id, "transaction_id": "inv-2025-03", "error_message": "Fondos insuficientes"}, callbackJSON(t, d))

	p := v3OK(t, srv, http.MethodGet, "/v3/payments/"+paymentID, "")
	assert.Equal(t, "pending", p["status"], "never paid")
	assert.Equal(t, "rejected-by-payer", p["status_detail"])
	err := srv.Pay(paymentID)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "is rejected-by-payer and can no longer be paid")
	assert.Empty(t, notifications, "a failed charge is not notified as a payment")

	for _, tt := range []struct{ name, paymentID, message, want string }{
		{"failing it again", paymentID, "again", "has failed already"},
		{"a payment that is no charge", v3Create(t, srv, v3Order), "x", "is not the payment of a charge"},
		{"an unknown payment", "zzzzzzzzzzzz", "x", "is not the payment of a charge"},
		{"no message", newCharge(t, srv, chargeJSON(id, errorURL, notifyURL, nil)), "", "needs a message"},
	} {
		err := srv.FailCharge(tt.paymentID, tt.message)
		require.Error(t, err, tt.name)
		assert.Contains(t, err.Error(), tt.want, tt.name)
	}
	assert.Empty(t, errorReports, "refused: nothing sent")

	t.Run("a deleted charge cannot fail", func(t *testing.T) {
		paymentID := newCharge(t, srv, chargeJSON(id, errorURL, notifyURL, nil))
		v3OK(t, srv, http.MethodDelete, "/v3/payments/"+paymentID, "")
		err := srv.FailCharge(paymentID, "x")
		require.Error(t, err)
		assert.Contains(t, err.Error(), "was deleted")
	})

	t.Run("a shop that refuses the error callback gets a CallbackError, and the charge failed all the same", func(t *testing.T) {
		refusing, got := notifiedShop(t, http.StatusNotFound)
		paymentID := newCharge(t, srv, chargeJSON(id, refusing, notifyURL, nil))
		err := srv.FailCharge(paymentID, "Mandato revocado")
		var ce *khiputest.CallbackError
		require.ErrorAs(t, err, &ce)
		assert.Equal(t, khiputest.CallbackError{SubscriptionID: id, PaymentID: paymentID, URL: refusing, StatusCode: 404}, *ce)
		assert.Contains(t, err.Error(), "the error callback of the charge of payment "+paymentID+" to "+refusing+" was answered 404")
		recv(t, got)
		assert.Equal(t, "rejected-by-payer", v3OK(t, srv, http.MethodGet, "/v3/payments/"+paymentID, "")["status_detail"])
	})
}

func TestAutomaticPaymentsFailNext(t *testing.T) {
	srv, id, _ := enabledSubscription(t)
	requests := []struct{ endpoint, path, body string }{
		{khiputest.EndpointSubscriptionsCreate, subscriptionPath, subscriptionJSON("https://shop.example/n", nil)},
		{khiputest.EndpointSubscriptionsGet, subscriptionPath + "/" + id, ""},
		{khiputest.EndpointChargesCreate, chargePath, chargeJSON(id, "https://shop.example/e", "https://shop.example/n", nil)},
	}
	for _, r := range requests {
		method, _, _ := strings.Cut(r.endpoint, " ")
		t.Run(r.endpoint, func(t *testing.T) {
			for _, status := range []int{400, 401, 403, 404, 500, 503} {
				srv.FailNext(r.endpoint, status, 1)
				a := v3Call(t, srv, method, r.path, r.body)
				assert.Equal(t, status, a.status)
				assert.Equal(t, status, a.error(t).Status, "a JSON error")
			}
			srv.FailNext(r.endpoint, http.StatusBadGateway, 1)
			a := v3Call(t, srv, method, r.path, r.body)
			assert.Equal(t, http.StatusBadGateway, a.status)
			assert.Contains(t, string(a.raw), "<html>", "a proxy's page")

			assert.Equal(t, http.StatusOK, v3Call(t, srv, method, r.path, r.body).status, "then it works again")
		})
	}
	t.Run("the failed requests created and charged nothing", func(t *testing.T) {
		ok := map[string]int{}
		for _, r := range srv.Requests() {
			if r.Status == http.StatusOK {
				ok[r.Endpoint]++
			}
		}
		assert.Equal(t, 2, ok[khiputest.EndpointSubscriptionsCreate], "enabledSubscription's and the one after the faults")
		assert.Equal(t, 1, ok[khiputest.EndpointChargesCreate])
	})
}

func TestAutomaticPaymentRequestsAreRecorded(t *testing.T) {
	srv := newV3Server(t)
	body := subscriptionJSON("https://shop.example/n", nil)
	id := v3OK(t, srv, http.MethodPost, subscriptionPath, body)["subscription_id"].(string)
	subscriptionStatus(t, srv, id)
	v3Call(t, srv, http.MethodPost, chargePath, chargeJSON(id, "https://shop.example/e", "https://shop.example/n", nil))

	reqs := srv.Requests()
	require.Len(t, reqs, 3)
	assert.Equal(t, khiputest.Request{
		Method: "POST", Path: subscriptionPath, Endpoint: khiputest.EndpointSubscriptionsCreate,
		Body: []byte(body), Header: reqs[0].Header, ReceiverID: receiverID, Status: 200,
	}, reqs[0])
	assert.Equal(t, subscriptionPath+"/"+id, reqs[1].Path)
	assert.Equal(t, khiputest.EndpointSubscriptionsGet, reqs[1].Endpoint)
	assert.Equal(t, khiputest.EndpointChargesCreate, reqs[2].Endpoint)
	assert.Equal(t, http.StatusBadRequest, reqs[2].Status, "not enabled")
}

func TestAClosedServerAuthorizesAndFailsNothing(t *testing.T) {
	srv := khiputest.NewServer(receiverID, secret, khiputest.WithAPIKey(apiKey))
	notifyURL, callbacks := notifiedShop(t, http.StatusOK)
	id, _ := newSubscription(t, srv, notifyURL)
	require.NoError(t, srv.AuthorizeSubscription(id))
	recv(t, callbacks)
	paymentID := newCharge(t, srv, chargeJSON(id, notifyURL, notifyURL, nil))
	srv.Close()
	for name, err := range map[string]error{
		"AuthorizeSubscription": srv.AuthorizeSubscription(id),
		"DisableSubscription":   srv.DisableSubscription(id),
		"FailCharge":            srv.FailCharge(paymentID, "x"),
	} {
		assert.ErrorIs(t, err, context.Canceled, name)
	}
	assert.Empty(t, callbacks)
}

func TestSubscriptionsChangeConcurrently(t *testing.T) {
	srv := newV3Server(t)
	notifyURL, callbacks := notifiedShop(t, http.StatusOK)
	const n = 8
	ids := make([]string, n)
	for i := range ids {
		ids[i], _ = newSubscription(t, srv, notifyURL)
	}
	errs := make(chan error, n)
	for i := range ids {
		go func() {
			err := srv.AuthorizeSubscription(ids[i])
			if err == nil {
				err = srv.DisableSubscription(ids[i])
			}
			errs <- err
		}()
		go func() { <-callbacks; <-callbacks }()
	}
	for range n {
		assert.NoError(t, recv(t, errs))
	}
	for i, id := range ids {
		assert.Equal(t, "DISABLED", subscriptionStatus(t, srv, id)["status"], strconv.Itoa(i))
	}
}
