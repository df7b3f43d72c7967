package main

import (
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A shop in another language plays a lost notification and an expired
// payment through the program's control API.
func TestTheProgramLosesANotificationAndMovesItsClock(t *testing.T) {
	const apiKey = "K3y"
	p := start(t, "-addr", "127.0.0.1:0", "-api-key", apiKey)
	v3URL := p.banner["api_v3_url"]
	notifyURL, notified := fakeShop(t)
	create := func() string {
		expires := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
		a := v3(t, apiKey, http.MethodPost, v3URL+"/v3/payments",
			`{"amount": 5000, "currency": "CLP", "subject": "Pedido", "notify_url": "`+notifyURL+`", "expires_date": "`+expires+`"}`)
		require.Equal(t, http.StatusOK, a.status, "%s", a.body)
		return a.json(t)["payment_id"].(string)
	}
	lookUp := func(id string) map[string]any {
		a := v3(t, apiKey, http.MethodGet, v3URL+"/v3/payments/"+id, "")
		require.Equal(t, http.StatusOK, a.status, "%s", a.body)
		return a.json(t)
	}

	lost := create()
	a := control(t, p, http.MethodPost, "/khiputest/payments/"+lost+"/pay", `{"notify": false}`)
	require.Equal(t, http.StatusOK, a.status, "%s", a.body)
	assert.Equal(t, map[string]any{"payment_id": lost, "status": "done", "status_detail": "normal", "notify_url": notifyURL}, a.json(t))
	assert.Equal(t, "done", lookUp(lost)["status"], "paid at Khipu")
	assert.Empty(t, notified, "the shop heard nothing")

	unpaid := create()
	a = control(t, p, http.MethodPost, "/khiputest/clock", `{"advance": "90m"}`)
	require.Equal(t, http.StatusOK, a.status, "%s", a.body)
	now, err := time.Parse(time.RFC3339Nano, a.json(t)["now"].(string))
	require.NoError(t, err)
	assert.True(t, now.After(time.Now().Add(89*time.Minute)), "the program's time is 90 minutes ahead: %v", now)

	a = control(t, p, http.MethodPost, "/khiputest/payments/"+unpaid+"/pay", "")
	assert.Equal(t, http.StatusConflict, a.status, "expired: it cannot be paid")
	assert.Contains(t, a.json(t)["error"], "expired")
	assert.Equal(t, "pending", lookUp(unpaid)["status"])
	resp, err := http.Get(lookUp(unpaid)["payment_url"].(string))
	require.NoError(t, err)
	page, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	assert.Contains(t, string(page), "expired since", "its page says so")

	a = control(t, p, http.MethodPost, "/khiputest/clock", `{"advance": "-1m"}`)
	assert.Equal(t, http.StatusBadRequest, a.status)
}
