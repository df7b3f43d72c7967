package khipuv3_test

import (
	"context"
	"errors"
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/khipu-go/khipu"
	"github.com/khipu-go/khipu/khipuv3"
)

// Item 2 of issue 17: v3's models are this package's own types, each with
// only its API's fields, so that a v3 value can never reach the v2 client
// and a v3 field never becomes one of package khipu's promises.
func TestTheModelsAreKhipuv3sOwnTypes(t *testing.T) {
	pairs := []struct{ v3, v2 reflect.Type }{
		{reflect.TypeFor[khipuv3.Payment](), reflect.TypeFor[khipu.Payment]()},
		{reflect.TypeFor[khipuv3.PaymentCreated](), reflect.TypeFor[khipu.PaymentCreated]()},
		{reflect.TypeFor[khipuv3.Bank](), reflect.TypeFor[khipu.Bank]()},
		{reflect.TypeFor[khipuv3.PaymentCreateParams](), reflect.TypeFor[khipu.PaymentCreateParams]()},
		{reflect.TypeFor[khipuv3.RefundParams](), reflect.TypeFor[khipu.RefundParams]()},
		{reflect.TypeFor[khipuv3.ReceiverCreateParams](), reflect.TypeFor[khipu.ReceiverCreateParams]()},
		{reflect.TypeFor[khipuv3.ReceiverCreated](), reflect.TypeFor[khipu.ReceiverCreated]()},
	}
	for _, p := range pairs {
		assert.NotEqual(t, p.v2, p.v3)
		assert.Equal(t, "github.com/khipu-go/khipu/khipuv3", p.v3.PkgPath(), p.v3.Name())
	}

	for _, typ := range []reflect.Type{reflect.TypeFor[khipuv3.Payment](), reflect.TypeFor[khipuv3.PaymentCreated]()} {
		_, ok := typ.FieldByName("WebpayURL")
		assert.False(t, ok, "API v3 sends no webpay_url: %s", typ)
	}
	_, ok := reflect.TypeFor[khipu.PaymentCreateParams]().FieldByName("PSPClientMerchantName")
	assert.False(t, ok, "psp_client_merchant_name is API v3's")
	for _, typ := range []reflect.Type{reflect.TypeFor[khipu.PaymentCreateParams](), reflect.TypeFor[khipu.RefundParams](), reflect.TypeFor[khipu.ReceiverCreateParams]()} {
		for i := range typ.NumField() {
			assert.Empty(t, typ.Field(i).Tag.Get("json"), "%s.%s: API v2 sends forms", typ.Name(), typ.Field(i).Name)
		}
		_, hasJSON := reflect.PointerTo(typ).MethodByName("MarshalJSON")
		assert.False(t, hasJSON, "%s", typ)
	}
	for _, typ := range []reflect.Type{reflect.TypeFor[khipuv3.PaymentCreateParams](), reflect.TypeFor[khipuv3.RefundParams](), reflect.TypeFor[khipuv3.ReceiverCreateParams]()} {
		for i := range typ.NumField() {
			f := typ.Field(i)
			assert.NotEmpty(t, f.Tag.Get("json"), "%s.%s: API v3 sends JSON", typ.Name(), f.Name)
			assert.Empty(t, f.Tag.Get("url"), "%s.%s", typ.Name(), f.Name)
		}
	}
}

// Item 6 of issue 17: in Chile a dot groups thousands, so "12.990" typed by
// a person is twelve thousand nine hundred ninety pesos, and ParseAmount
// reads it as 12.99. A CLP amount with a fraction is refused before anything
// is sent, with what to write instead.
func TestACLPAmountWithDecimalsIsRefused(t *testing.T) {
	ctx := context.Background()
	f, c := setup(t)
	chileanPrice := khipu.MustParseAmount("12.990") // $12.990 typed as it is printed
	require.Equal(t, "12.99", chileanPrice.String())

	paramOf := func(t *testing.T, err error) *khipu.ParamError {
		t.Helper()
		var pe *khipu.ParamError
		require.ErrorAs(t, err, &pe)
		return pe
	}
	p := minimalPayment()
	p.Amount = chileanPrice
	_, err := c.Payments.Create(ctx, p)
	pe := paramOf(t, err)
	assert.Equal(t, "amount", pe.Param)
	assert.Equal(t, "is 12.99 CLP, and a Chilean peso has no decimals: if 12.99 is a price written with a thousands dot ($12.990), the amount is 12990", pe.Reason)
	assert.Equal(t, pe, p.Validate())

	p.Amount = khipu.MustParseAmount("0.5")
	assert.Equal(t, "is 0.5 CLP, and a Chilean peso has no decimals", paramOf(t, p.Validate()).Reason,
		"no suggestion where no Chilean price fits")
	p.Amount = khipu.MustParseAmount("1234.5")
	assert.Equal(t, "is 1234.5 CLP, and a Chilean peso has no decimals", paramOf(t, p.Validate()).Reason)
	p.Amount = khipu.MustParseAmount("1.5")
	assert.Contains(t, paramOf(t, p.Validate()).Reason, "($1.500), the amount is 1500")

	s := subscriptionParams()
	s.MaxAmount = khipu.MustParseAmount("49.990")
	_, err = c.Subscriptions.Create(ctx, s)
	assert.Equal(t, "max_amount", paramOf(t, err).Param)

	pp := predictParams()
	pp.Currency, pp.Amount = "clp", chileanPrice // Predict's currency in any case
	_, err = c.Payments.Predict(ctx, pp)
	assert.Equal(t, "amount", paramOf(t, err).Param)
	assert.Zero(t, f.count(), "nothing was sent")

	// Whole pesos, and decimals in other currencies, go through.
	f.on("POST /v3/payments", 200, []byte(`{"payment_id":"gqzdy6chjne9"}`))
	for _, ok := range []struct{ amount, currency string }{{"12990", "CLP"}, {"12.99", "USD"}, {"0.0001", "CLF"}, {"12990.0000", "CLP"}} {
		p := minimalPayment()
		p.Amount, p.Currency = khipu.MustParseAmount(ok.amount), ok.currency
		_, err := c.Payments.Create(ctx, p)
		assert.NoError(t, err, "%s %s", ok.amount, ok.currency)
	}
}

func TestReceiversChildren(t *testing.T) {
	ctx := context.Background()
	t.Run("the page Khipu answers, decoded", func(t *testing.T) {
		f, c := setup(t)
		f.on("GET /v3/receivers/children", 200, []byte(`{"receivers":[
			{"id":1234567,"name":"Tienda Ñuñoa","date_created":"2026-03-01T12:00:00Z","disabled":false,"can_collect":true},
			{"id":"7654321","name":"Kiosko","date_created":"2026-03-02T09:30:00.000-03:00","disabled":"true","can_collect":0,"extra":1},
			null],"total":"42"}`))
		got, err := c.Receivers.Children(ctx, &khipuv3.ReceiverChildrenParams{Offset: 20, Max: 2, Sort: "date_created", Order: "desc"})
		require.NoError(t, err)
		require.Len(t, got.Receivers, 3)
		assert.Equal(t, 42, got.Total)
		assert.Equal(t, khipuv3.ReceiverChild{ID: "1234567", Name: "Tienda Ñuñoa", DateCreated: mustTime(t, "2026-03-01T12:00:00Z"), CanCollect: true}, got.Receivers[0])
		assert.Equal(t, "7654321", got.Receivers[1].ID)
		assert.True(t, got.Receivers[1].Disabled)
		assert.False(t, got.Receivers[1].CanCollect)
		assert.True(t, got.Receivers[1].DateCreated.Equal(mustTime(t, "2026-03-02T12:30:00Z")))
		assert.Equal(t, khipuv3.ReceiverChild{}, got.Receivers[2], "null is a zero value")
		req := f.requests()[0]
		assert.Equal(t, "max=2&offset=20&order=desc&sort=date_created", req.RawQuery)
		assert.Equal(t, []string{testAPIKey}, req.Header.Values("x-api-key"))
		assert.Empty(t, req.Body)
	})
	t.Run("nil params: Khipu's defaults, no query", func(t *testing.T) {
		f, c := setup(t)
		f.on("GET /v3/receivers/children", 200, []byte(`{"receivers":[],"total":0}`))
		for _, p := range []*khipuv3.ReceiverChildrenParams{nil, {}} {
			got, err := c.Receivers.Children(ctx, p)
			require.NoError(t, err)
			assert.Empty(t, got.Receivers)
		}
		for _, r := range f.requests() {
			assert.Empty(t, r.RawQuery)
		}
	})
	t.Run("odd answers", func(t *testing.T) {
		f, c := setup(t)
		f.on("GET /v3/receivers/children", 200, []byte(`{"receivers":"","total":null}`))
		got, err := c.Receivers.Children(ctx, nil)
		require.NoError(t, err, "a list that is not one is no accounts")
		assert.Equal(t, &khipuv3.ReceiverChildren{}, got)

		f2, c2 := setup(t)
		f2.on("GET /v3/receivers/children", 200, []byte(`{"receivers":[{"id":true}],"total":1}`))
		_, err = c2.Receivers.Children(ctx, nil)
		var ue *khipu.UnexpectedResponseError
		assert.ErrorAs(t, err, &ue, "an id that is neither a string nor a number")
	})
	t.Run("refused before sending", func(t *testing.T) {
		f, c := setup(t)
		for param, p := range map[string]*khipuv3.ReceiverChildrenParams{
			"offset": {Offset: -1},
			"max":    {Max: -5},
			"sort":   {Sort: "created"},
			"order":  {Order: "DESC"},
		} {
			_, err := c.Receivers.Children(ctx, p)
			var pe *khipu.ParamError
			require.ErrorAs(t, err, &pe, param)
			assert.Equal(t, param, pe.Param)
		}
		assert.Zero(t, f.count())
	})
	t.Run("Khipu's errors", func(t *testing.T) {
		f, c := setup(t)
		f.on("GET /v3/receivers/children", 403, []byte(`{"message":"not an integrator"}`))
		_, err := c.Receivers.Children(ctx, nil)
		var ae *khipu.AuthorizationError
		require.ErrorAs(t, err, &ae)
		assert.Equal(t, http.StatusForbidden, ae.StatusCode)
		assert.False(t, errors.Is(err, context.Canceled))
	})
}

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339Nano, s)
	require.NoError(t, err)
	return v
}
