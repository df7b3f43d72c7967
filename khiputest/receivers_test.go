package khiputest_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-querystring/query"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/khipu-go/khipu/internal/sign"
	"github.com/khipu-go/khipu/khiputest"
)

func TestAReceiverCreatedInV3HasAnAPIKeyOfItsOwn(t *testing.T) {
	srv := newV3Server(t)
	answer := v3OK(t, srv, http.MethodPost, "/v3/receivers", receiverJSON(nil))
	key, _ := answer["api_key"].(string)
	require.NotEmpty(t, key)
	assert.NotEqual(t, srv.APIKey(), key)
	childID, _ := answer["receiver_id"].(string) // v3 answers it as a string, as its document has it
	require.NotEmpty(t, childID)

	a := v3Send(t, srv, key, http.MethodPost, "/v3/payments", v3Order)
	require.Equal(t, http.StatusOK, a.status, "%s", a.raw)
	id, _ := a.object(t)["payment_id"].(string)

	a = v3Send(t, srv, key, http.MethodGet, "/v3/payments/"+id, "")
	require.Equal(t, http.StatusOK, a.status, "%s", a.raw)
	assert.Equal(t, json.Number(childID), a.object(t)["receiver_id"], "the payment is the new account's")
	assert.Equal(t, childID, lastRequest(t, srv).ReceiverID, "the request acts as the new account")
	v3OK(t, srv, http.MethodGet, "/v3/payments/"+id, "") // and its integrator sees it

	t.Run("it does not see its integrator's payments", func(t *testing.T) {
		own := v3Create(t, srv, v3Order)
		a := v3Send(t, srv, key, http.MethodGet, "/v3/payments/"+own, "")
		assert.Equal(t, http.StatusForbidden, a.status, "%s", a.raw)
	})
	t.Run("its secret signs its notifications 3.0", func(t *testing.T) {
		notifyURL, got := notifiedShop(t, http.StatusOK)
		a := v3Send(t, srv, key, http.MethodPost, "/v3/payments", `{"amount": 1000, "currency": "CLP", "subject": "x", "notify_url": "`+notifyURL+`"}`)
		require.Equal(t, http.StatusOK, a.status, "%s", a.raw)
		require.NoError(t, srv.Pay(a.object(t)["payment_id"].(string)))
		d := recv(t, got)
		header := d.header.Get("x-khipu-signature")
		assert.NotContains(t, header, "s="+signatureWith(t, secret, header, d.body), "not the integrator's")
		assert.Contains(t, header, "s="+signatureWith(t, answer["secret"].(string), header, d.body))
	})
	t.Run("a v2 answer has no api_key, as v2's never had", func(t *testing.T) {
		var params []phpParam
		form, err := query.Values(receiverParams())
		require.NoError(t, err)
		for _, k := range sortedKeys(form) {
			params = append(params, phpParam{k, form.Get(k)})
		}
		status, answer := phpCall(t, srv, http.MethodPost, "/receivers", params)
		require.Equal(t, http.StatusOK, status, "%v", answer)
		assert.Equal(t, []string{"receiver_id", "secret"}, sorted(keysOfMap(answer)))
	})
}

func TestV3ReceiversChildrenListsTheAccountsTheCallerCreated(t *testing.T) {
	clock := newClock()
	srv := newV3Server(t, khiputest.WithClock(clock.Now))
	names := []string{"Tienda B", "Tienda C", "Tienda A"}
	var ids []string
	var keys []string
	for _, name := range names {
		answer := v3OK(t, srv, http.MethodPost, "/v3/receivers", receiverJSON(map[string]any{"business_name": name}))
		ids = append(ids, answer["receiver_id"].(string)) // v3 answers it as a string
		keys = append(keys, answer["api_key"].(string))
		clock.Add(time.Hour)
	}
	list := func(t *testing.T, key string, query url.Values) ([]map[string]any, int) {
		t.Helper()
		path := "/v3/receivers/children"
		if len(query) > 0 {
			path += "?" + query.Encode()
		}
		a := v3Send(t, srv, key, http.MethodGet, path, "")
		require.Equal(t, http.StatusOK, a.status, "%s", a.raw)
		assert.Equal(t, []string{"receivers", "total"}, keysIn(t, a.raw))
		obj := a.object(t)
		var out []map[string]any
		for _, r := range obj["receivers"].([]any) {
			out = append(out, r.(map[string]any))
		}
		total, err := obj["total"].(json.Number).Int64()
		require.NoError(t, err)
		return out, int(total)
	}
	idsOf := func(rs []map[string]any) []string {
		var out []string
		for _, r := range rs {
			out = append(out, string(r["id"].(json.Number)))
		}
		return out
	}

	all, total := list(t, srv.APIKey(), nil)
	assert.Equal(t, 3, total)
	assert.Equal(t, ids, idsOf(all), "sorted by id, ascending, by default")
	first := all[0]
	assert.Equal(t, []string{"can_collect", "date_created", "disabled", "id", "name"}, sorted(keysOfMap(first)))
	assert.Equal(t, "Tienda B", first["name"])
	assert.Equal(t, clock.Now().Add(-3*time.Hour).UTC().Format("2006-01-02T15:04:05.000Z"), first["date_created"], "the server's clock, as v3 writes dates")
	assert.Equal(t, false, first["disabled"])
	assert.Equal(t, true, first["can_collect"])

	for _, tt := range []struct {
		query url.Values
		want  []string
	}{
		{url.Values{"sort": {"name"}}, []string{ids[2], ids[0], ids[1]}},
		{url.Values{"sort": {"name"}, "order": {"desc"}}, []string{ids[1], ids[0], ids[2]}},
		{url.Values{"sort": {"date_created"}, "order": {"desc"}}, []string{ids[2], ids[1], ids[0]}},
		{url.Values{"order": {"asc"}, "offset": {"1"}}, []string{ids[1], ids[2]}},
		{url.Values{"max": {"2"}}, []string{ids[0], ids[1]}},
		{url.Values{"offset": {"1"}, "max": {"1"}}, []string{ids[1]}},
		{url.Values{"offset": {"3"}}, nil},
		{url.Values{"offset": {"99"}, "max": {"100"}}, nil},
	} {
		got, total := list(t, srv.APIKey(), tt.query)
		assert.Equal(t, tt.want, idsOf(got), tt.query.Encode())
		assert.Equal(t, 3, total, "total counts them all, whatever the page: %s", tt.query.Encode())
	}

	t.Run("an account lists only its own children", func(t *testing.T) {
		got, total := list(t, keys[0], nil)
		assert.Empty(t, got)
		assert.Zero(t, total)
		a := v3Send(t, srv, keys[0], http.MethodPost, "/v3/receivers", receiverJSON(nil))
		require.Equal(t, http.StatusOK, a.status, "%s", a.raw)
		got, total = list(t, keys[0], nil)
		assert.Len(t, got, 1)
		assert.Equal(t, 1, total)
		_, total = list(t, srv.APIKey(), nil)
		assert.Equal(t, 3, total, "a grandchild is not the server's account's child")
	})
	t.Run("an empty list is [] and not null", func(t *testing.T) {
		a := v3Send(t, srv, keys[1], http.MethodGet, "/v3/receivers/children", "")
		assert.JSONEq(t, `{"receivers": [], "total": 0}`, string(a.raw))
	})
	t.Run("bad parameters are a 400 naming them", func(t *testing.T) {
		for _, q := range []string{"offset=-1", "offset=x", "max=0", "max=1.5", "sort=created", "order=up", "page=2"} {
			ke := v3Fails(t, srv, http.StatusBadRequest, http.MethodGet, "/v3/receivers/children?"+q, "")
			field, _, _ := strings.Cut(q, "=")
			assert.Equal(t, []string{field}, ke.fields(), q)
		}
	})
	t.Run("it takes the API key", func(t *testing.T) {
		a := v3Send(t, srv, "", http.MethodGet, "/v3/receivers/children", "")
		assert.Equal(t, http.StatusUnauthorized, a.status)
	})
	t.Run("FailNext names it", func(t *testing.T) {
		srv.FailNext(khiputest.EndpointV3ReceiversChildren, http.StatusServiceUnavailable, 1)
		a := v3Call(t, srv, http.MethodGet, "/v3/receivers/children", "")
		assert.Equal(t, http.StatusServiceUnavailable, a.status)
		assert.Equal(t, khiputest.EndpointV3ReceiversChildren, lastRequest(t, srv).Endpoint)
		_, total := list(t, srv.APIKey(), nil)
		assert.Equal(t, 3, total, "once")
	})
}

// signatureWith is the signature a notification 3.0 with header and body
// would carry if signed with secret.
func signatureWith(t *testing.T, secret, header string, body []byte) string {
	t.Helper()
	ts, _, _ := strings.Cut(strings.TrimPrefix(header, "t="), ",")
	ms, err := strconv.ParseInt(ts, 10, 64)
	require.NoError(t, err, header)
	return sign.Webhook(secret, ms, body)
}

func sortedKeys(v url.Values) []string {
	keys := make([]string, 0, len(v))
	for k := range v {
		keys = append(keys, k)
	}
	return sorted(keys)
}
