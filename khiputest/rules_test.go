package khiputest_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/khipu-go/khipu"
	"github.com/khipu-go/khipu/khiputest"
)

// lastRequest is the last request srv recorded.
func lastRequest(t *testing.T, srv *khiputest.Server) khiputest.Request {
	t.Helper()
	list := srv.Requests()
	require.NotEmpty(t, list)
	return list[len(list)-1]
}

func TestEveryNotificationAPIVersionIsTakenByBothAPIs(t *testing.T) {
	srv := newV3Server(t)
	for _, version := range []string{"1.2", "1.3", "3.0"} {
		t.Run("v2 takes "+version, func(t *testing.T) {
			form := validCreate()
			form.Set("notify_url", "https://shop.example/khipu")
			form.Set("notify_api_version", version)
			status, ke := rawCall(t, srv, receiverID, secret, http.MethodPost, "/payments", form)
			assert.Equal(t, http.StatusOK, status, "%+v", ke)
		})
		t.Run("v3 takes "+version, func(t *testing.T) {
			v3Create(t, srv, `{"amount": 1000, "currency": "CLP", "subject": "x", "notify_url": "https://shop.example/k", "notify_api_version": "`+version+`"}`)
		})
	}
	for _, version := range []string{"2.0", "1.0", "3", "1.3.0", "v3"} {
		t.Run("neither takes "+version, func(t *testing.T) {
			form := validCreate()
			form.Set("notify_api_version", version)
			status, ke := rawCall(t, srv, receiverID, secret, http.MethodPost, "/payments", form)
			assert.Equal(t, http.StatusBadRequest, status)
			assert.Equal(t, []string{"notify_api_version"}, ke.fields())
			ke = v3Fails(t, srv, http.StatusBadRequest, http.MethodPost, "/v3/payments", `{"amount": 1000, "currency": "CLP", "subject": "x", "notify_api_version": "`+version+`"}`)
			assert.Equal(t, []string{"notify_api_version"}, ke.fields())
		})
	}

	t.Run("a v2 payment that asks for 3.0 is notified with a signed notification 3.0", func(t *testing.T) {
		notifyURL, got := notifiedShop(t, http.StatusOK)
		form := validCreate()
		form.Set("notify_url", notifyURL)
		form.Set("notify_api_version", "3.0")
		id := mustCreateForm(t, srv, form)
		require.NoError(t, srv.Pay(id))
		d := recv(t, got)
		verified(t, d)
		assert.Equal(t, "application/json", d.header.Get("Content-Type"))
		var body map[string]any
		require.NoError(t, json.Unmarshal(d.body, &body))
		assert.Equal(t, id, body["payment_id"])
	})
}

func TestIntegratorFeeAndCollectAccountUUID(t *testing.T) {
	t.Run("an integrator_fee from an account without an integrator is accepted with a warning", func(t *testing.T) {
		srv, lines := loggingServer(t)
		form := validCreate()
		form.Set("integrator_fee", "100")
		mustCreateForm(t, srv, form)
		warnings := lastRequest(t, srv).Warnings
		require.Len(t, warnings, 1)
		assert.True(t, strings.HasPrefix(warnings[0], "integrator_fee is only valid for a collection account that has an integrator"), warnings[0])
		assert.Contains(t, lines.take(), `level=WARN msg="khiputest: a request Khipu probably accepts, but likely a mistake" endpoint="POST /payments" warning="`+warnings[0]+`"`)

		id := v3Create(t, srv, `{"amount": 1000, "currency": "CLP", "subject": "x", "integrator_fee": "100"}`)
		assert.Len(t, lastRequest(t, srv).Warnings, 1, "v3 too")
		assert.NotEmpty(t, id)
	})

	t.Run("with WithStrict it is a 400 naming it", func(t *testing.T) {
		srv := newV3Server(t, khiputest.WithStrict())
		form := validCreate()
		form.Set("integrator_fee", "100")
		status, ke := rawCall(t, srv, receiverID, secret, http.MethodPost, "/payments", form)
		assert.Equal(t, http.StatusBadRequest, status)
		assert.Equal(t, []string{"integrator_fee"}, ke.fields())
		ke = v3Fails(t, srv, http.StatusBadRequest, http.MethodPost, "/v3/payments", `{"amount": 1000, "currency": "CLP", "subject": "x", "integrator_fee": "100"}`)
		assert.Equal(t, []string{"integrator_fee"}, ke.fields())
	})

	t.Run("an account an integrator created sends one without a warning, strict or not", func(t *testing.T) {
		srv := newV3Server(t, khiputest.WithStrict())
		owner := newClient(t, srv, receiverID, secret)
		created, err := owner.Receivers.Create(context.Background(), receiverParams())
		require.NoError(t, err)
		shop := newClient(t, srv, created.ReceiverID, created.Secret)
		_, err = shop.Payments.Create(context.Background(), &khipu.PaymentCreateParams{
			Subject: "x", Currency: "CLP", Amount: khipu.NewAmount(1000), IntegratorFee: khipu.NewAmount(100),
		})
		require.NoError(t, err)
		assert.Empty(t, lastRequest(t, srv).Warnings)
	})

	t.Run("collect_account_uuid is accepted, strict or not, without a warning", func(t *testing.T) {
		srv := newV3Server(t, khiputest.WithStrict())
		form := validCreate()
		form.Set("collect_account_uuid", "007367340234")
		mustCreateForm(t, srv, form)
		assert.Empty(t, lastRequest(t, srv).Warnings)
		v3Create(t, srv, `{"amount": 1000, "currency": "CLP", "subject": "x", "collect_account_uuid": "007367340234"}`)
		assert.Empty(t, lastRequest(t, srv).Warnings)
	})
}

// lenientCases are v3 bodies with a null optional field and a field the
// endpoint does not define, each with the warnings it gets.
func lenientCases(t *testing.T, srv *khiputest.Server) []struct {
	path, body string
	warnings   []string
} {
	callbackURL, _ := notifiedShop(t, http.StatusOK)
	subscription, _ := newSubscription(t, srv, callbackURL)
	require.NoError(t, srv.AuthorizeSubscription(subscription))
	paid := v3Create(t, srv, v3Order)
	require.NoError(t, srv.Pay(paid))
	return []struct {
		path, body string
		warnings   []string
	}{
		{"/v3/payments", `{"amount": 1000, "currency": "CLP", "subject": "x", "receiver_id": 12345, "transaction_id": null}`, []string{
			"receiver_id is not a field of POST /v3/payments: ignored",
			"transaction_id is null: leave out a field that is not set: taken as left out",
		}},
		{"/v3/payments/" + paid + "/refunds", `{"amount": 1000, "reason": "broken"}`, []string{
			"reason is not a field of POST /v3/payments/{id}/refunds: ignored",
		}},
		{"/v3/receivers", receiverJSON(map[string]any{"receiver_id": "x", "notify_url": json.RawMessage("null")}), []string{
			"receiver_id is not a field of POST /v3/receivers: ignored",
			"notify_url is null: leave out a field that is not set: taken as left out",
		}},
		{subscriptionPath, subscriptionJSON("https://shop.example/s", map[string]any{"plan": "gold", "description": json.RawMessage("null")}), []string{
			"plan is not a field of POST /v1/automatic-payment/subscription: ignored",
			"description is null: leave out a field that is not set: taken as left out",
		}},
		{chargePath, chargeJSON(subscription, "https://shop.example/e", "https://shop.example/n", map[string]any{"currency": "CLP", "notify_api_version": json.RawMessage("null")}), []string{
			"currency is not a field of POST /v1/automatic-payment/charge-intent: ignored",
			"notify_api_version is null: leave out a field that is not set: taken as left out",
		}},
	}
}

func TestNullAndUnknownV3FieldsAreWarnings(t *testing.T) {
	srv, lines := loggingServer(t)
	for _, tt := range lenientCases(t, srv) {
		a := v3Call(t, srv, http.MethodPost, tt.path, tt.body)
		assert.Equal(t, http.StatusOK, a.status, "%s: %s", tt.path, a.raw)
		got := lastRequest(t, srv)
		assert.Equal(t, tt.path, got.Path)
		assert.ElementsMatch(t, tt.warnings, got.Warnings, "%s: in the order of the body", tt.path)
		logged := lines.take()
		for _, w := range tt.warnings {
			assert.Contains(t, logged, `level=WARN msg="khiputest: a request Khipu probably accepts, but likely a mistake" endpoint="`+got.Endpoint+`" warning="`+w+`"`)
		}
	}

	t.Run("a null field reads as left out", func(t *testing.T) {
		id := v3Create(t, srv, `{"amount": 1000, "currency": "CLP", "subject": "x", "transaction_id": null, "send_email": null}`)
		p := v3OK(t, srv, http.MethodGet, "/v3/payments/"+id, "")
		assert.Equal(t, "", p["transaction_id"])
		assert.Equal(t, false, p["send_email"])
	})
	t.Run("a required field that is null is still a 400", func(t *testing.T) {
		ke := v3Fails(t, srv, http.StatusBadRequest, http.MethodPost, "/v3/payments", `{"amount": null, "currency": "CLP", "subject": "x"}`)
		assert.Equal(t, []string{"amount"}, ke.fields())
	})
	t.Run("a request without a doubt has no warning", func(t *testing.T) {
		v3Create(t, srv, v3Order)
		assert.Nil(t, lastRequest(t, srv).Warnings)
	})
	t.Run("Requests returns a copy of the warnings", func(t *testing.T) {
		v3Create(t, srv, `{"amount": 1000, "currency": "CLP", "subject": "x", "foo": 1}`)
		lastRequest(t, srv).Warnings[0] = "changed"
		assert.Equal(t, "foo is not a field of POST /v3/payments: ignored", lastRequest(t, srv).Warnings[0])
	})
}

func TestWithStrictRefusesNullAndUnknownV3Fields(t *testing.T) {
	srv := newV3Server(t, khiputest.WithStrict())
	for _, tt := range lenientCases(t, srv) {
		ke := v3Fails(t, srv, http.StatusBadRequest, http.MethodPost, tt.path, tt.body)
		var want []string
		for _, w := range tt.warnings {
			want = append(want, strings.Fields(w)[0])
		}
		assert.ElementsMatch(t, want, ke.fields(), tt.path)
		assert.Empty(t, lastRequest(t, srv).Warnings, "refused, not warned of")
	}
}
