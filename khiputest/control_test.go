package khiputest_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/khipu-go/khipu"
	"github.com/khipu-go/khipu/khiputest"
)

// controlServer is a server and its control API on one address, as
// cmd/khiputest serves them, and a client of its API v2.
func controlServer(t *testing.T) (*khiputest.Server, string, *khipu.Client) {
	t.Helper()
	srv, client := newServer(t)
	web := httptest.NewServer(srv.ControlHandler())
	t.Cleanup(web.Close)
	return srv, web.URL, client
}

// control sends a control request with a JSON body (none when "") and
// returns the status and the JSON answer.
func control(t *testing.T, base, method, path, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, base+path, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	var answer map[string]any
	require.NoError(t, json.Unmarshal(raw, &answer), "%s", raw)
	return resp.StatusCode, answer
}

func TestControlPayAndNotify(t *testing.T) {
	_, base, client := controlServer(t)
	refuse := answer(http.StatusInternalServerError)
	shop := newScriptedShop(t, refuse)
	created, err := client.Payments.Create(context.Background(), &khipu.PaymentCreateParams{
		Subject: "x", Currency: "CLP", Amount: khipu.NewAmount(1000), NotifyURL: shop.url,
	})
	require.NoError(t, err)
	path := "/khiputest/payments/" + created.PaymentID

	status, got := control(t, base, http.MethodPost, path+"/pay", "")
	assert.Equal(t, http.StatusOK, status, "paid, though the shop refused the notification")
	assert.Equal(t, created.PaymentID, got["payment_id"])
	assert.Equal(t, "done", got["status"])
	assert.Equal(t, "normal", got["status_detail"])
	assert.Equal(t, shop.url, got["notify_url"])
	assert.Equal(t, 500.0, got["notify_status"])
	assert.Contains(t, got["notify_error"], "was answered 500")
	recv(t, shop.got)

	status, got = control(t, base, http.MethodPost, path+"/notify", "")
	assert.Equal(t, http.StatusOK, status)
	assert.Equal(t, 200.0, got["notify_status"])
	assert.NotContains(t, got, "notify_error")
	recv(t, shop.got)

	status, got = control(t, base, http.MethodPost, path+"/pay", "")
	assert.Equal(t, http.StatusConflict, status, "paid already")
	assert.Contains(t, got["error"], "not pending")

	status, got = control(t, base, http.MethodPost, "/khiputest/payments/nope/pay", "")
	assert.Equal(t, http.StatusNotFound, status)
	assert.Equal(t, "no payment nope", got["error"])

	t.Run("a payment without notify_url is paid without notify fields", func(t *testing.T) {
		id := mustCreate(t, client).PaymentID
		status, got := control(t, base, http.MethodPost, "/khiputest/payments/"+id+"/notify", "")
		assert.Equal(t, http.StatusConflict, status, "pending: Khipu notifies done payments")
		assert.Contains(t, got["error"], "not done")
		status, got = control(t, base, http.MethodPost, "/khiputest/payments/"+id+"/pay", "")
		assert.Equal(t, http.StatusOK, status)
		assert.Equal(t, map[string]any{"payment_id": id, "status": "done", "status_detail": "normal"}, got)
	})
}

func TestControlStatus(t *testing.T) {
	_, base, client := controlServer(t)
	id := mustCreate(t, client).PaymentID
	path := "/khiputest/payments/" + id + "/status"

	status, got := control(t, base, http.MethodPost, path, `{"status": "done", "status_detail": "rejected-by-payer"}`)
	assert.Equal(t, http.StatusOK, status)
	assert.Equal(t, map[string]any{"payment_id": id, "status": "done", "status_detail": "rejected-by-payer"}, got)
	p, err := client.Payments.Get(context.Background(), id)
	require.NoError(t, err)
	assert.Equal(t, khipu.StatusDetailRejectedByPayer, p.StatusDetail)

	for body, want := range map[string]int{
		`{"status": "pending", "status_detail": "reversed"}`: http.StatusBadRequest,
		`{"status": "done", "detail": "normal"}`:             http.StatusBadRequest,
		`{"status": "done"`:                                  http.StatusBadRequest,
		``:                                                   http.StatusBadRequest,
	} {
		status, got := control(t, base, http.MethodPost, path, body)
		assert.Equal(t, want, status, body)
		assert.NotEmpty(t, got["error"], body)
	}
	status, _ = control(t, base, http.MethodPost, "/khiputest/payments/nope/status", `{"status": "done", "status_detail": "normal"}`)
	assert.Equal(t, http.StatusNotFound, status)
}

func TestControlFailNextAndRequests(t *testing.T) {
	_, base, client := controlServer(t)
	status, got := control(t, base, http.MethodPost, "/khiputest/fail-next", `{"endpoint": "POST /payments", "status": 503}`)
	assert.Equal(t, http.StatusOK, status)
	assert.Equal(t, map[string]any{"endpoint": "POST /payments", "status": 503.0, "times": 1.0}, got, "times is 1 when left out")

	_, err := client.Payments.Create(context.Background(), &khipu.PaymentCreateParams{Subject: "x", Currency: "CLP", Amount: khipu.NewAmount(1000)})
	var se *khipu.ServiceError
	require.ErrorAs(t, err, &se)
	mustCreate(t, client)

	status, got = control(t, base, http.MethodPost, "/khiputest/fail-next", `{"endpoint": "GET /banks", "status": 503, "times": 1000}`)
	assert.Equal(t, http.StatusOK, status, "MaxFailNextTimes is allowed")
	assert.Equal(t, 1000.0, got["times"])

	for _, body := range []string{
		`{"endpoint": "POST /nope", "status": 503}`,
		`{"endpoint": "POST /payments", "status": 200}`,
		`{"endpoint": "POST /payments", "status": 503, "times": 0}`,
		`{"endpoint": "POST /payments", "status": 503, "times": 1001}`,
		`{"endpoint": "POST /payments", "status": 503, "times": 50000000}`,
		`{"endpoint": "POST /payments", "code": 503}`,
	} {
		status, got := control(t, base, http.MethodPost, "/khiputest/fail-next", body)
		assert.Equal(t, http.StatusBadRequest, status, body)
		assert.NotEmpty(t, got["error"], body)
	}

	req, err := http.NewRequest(http.MethodGet, base+"/khiputest/requests", nil)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var list []struct {
		Method, Path, Endpoint, Body string
		Params                       map[string][]string
		Header                       http.Header
		ReceiverID                   string `json:"receiver_id"`
		Status                       int
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&list))
	require.Len(t, list, 2)
	assert.Equal(t, http.StatusServiceUnavailable, list[0].Status)
	assert.Equal(t, "POST", list[1].Method)
	assert.Equal(t, "/payments", list[1].Path)
	assert.Equal(t, khiputest.EndpointPaymentsCreate, list[1].Endpoint)
	assert.Equal(t, []string{"1000"}, list[1].Params["amount"])
	assert.Equal(t, "amount=1000&currency=CLP&subject=x", list[1].Body)
	assert.Contains(t, list[1].Header.Get("Authorization"), receiverID+":")
	assert.Equal(t, receiverID, list[1].ReceiverID)
	assert.Equal(t, http.StatusOK, list[1].Status)
}

func TestControlUnknownRoutes(t *testing.T) {
	_, base, _ := controlServer(t)
	status, got := control(t, base, http.MethodPost, "/khiputest/nope", "")
	assert.Equal(t, http.StatusNotFound, status)
	assert.NotEmpty(t, got["error"])
	assert.Contains(t, got["error"], "POST /khiputest/nope")
	assert.Contains(t, got["error"], "its routes are GET /khiputest/, POST /khiputest/payments/{id}/pay, POST /khiputest/payments/{id}/notify, ")

	for _, tt := range []struct{ method, path, allow string }{
		{http.MethodGet, "/khiputest/payments/x/pay", "POST"},
		{http.MethodPut, "/khiputest/payments/x/status", "POST"},
		{http.MethodGet, "/khiputest/fail-next", "POST"},
		{http.MethodPost, "/khiputest/requests", "GET, HEAD"},
		{http.MethodDelete, "/khiputest/subscriptions/x/authorize", "POST"},
		{http.MethodPost, "/khiputest/", "GET, HEAD"},
	} {
		req, err := http.NewRequest(tt.method, base+tt.path, nil)
		require.NoError(t, err)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		var answer map[string]string
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&answer))
		resp.Body.Close()
		assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode, "%s %s", tt.method, tt.path)
		assert.Equal(t, tt.allow, resp.Header.Get("Allow"), "%s %s", tt.method, tt.path)
		assert.Contains(t, answer["error"], tt.method+" "+tt.path+": this route of the khiputest control API takes", tt.path)
	}
}

func TestControlAuthorizeSubscription(t *testing.T) {
	srv, base, _ := controlServer(t)
	shop := newScriptedShop(t, answer(http.StatusInternalServerError))
	refused, _ := newSubscription(t, srv, shop.url)
	accepted, _ := newSubscription(t, srv, shop.url)

	status, got := control(t, base, http.MethodPost, "/khiputest/subscriptions/"+refused+"/authorize", "")
	assert.Equal(t, http.StatusOK, status, "enabled, though the shop refused the callback")
	assert.Equal(t, refused, got["subscription_id"])
	assert.Equal(t, "ENABLED", got["status"])
	assert.Equal(t, shop.url, got["notify_url"])
	assert.Equal(t, 500.0, got["callback_status"])
	assert.Contains(t, got["callback_error"], "was answered 500")
	assert.JSONEq(t, `{"subscription_id": "`+refused+`", "status": "enabled"}`, string((recv(t, shop.got)).body))

	status, got = control(t, base, http.MethodPost, "/khiputest/subscriptions/"+accepted+"/authorize", "")
	assert.Equal(t, http.StatusOK, status)
	assert.Equal(t, map[string]any{"subscription_id": accepted, "status": "ENABLED", "notify_url": shop.url}, got)
	recv(t, shop.got)
	assert.Equal(t, "ENABLED", subscriptionStatus(t, srv, accepted)["status"])

	status, got = control(t, base, http.MethodPost, "/khiputest/subscriptions/"+accepted+"/authorize", "")
	assert.Equal(t, http.StatusConflict, status)
	assert.Contains(t, got["error"], "ENABLED already")
	status, _ = control(t, base, http.MethodPost, "/khiputest/subscriptions/nope/authorize", "")
	assert.Equal(t, http.StatusNotFound, status)
}

func TestControlRequestsHidesCredentials(t *testing.T) {
	srv, base, client := controlServer(t)
	mustCreate(t, client)
	v3Create(t, srv, `{"amount": 1000, "currency": "CLP", "subject": "x", "receiver_id": 12345}`)
	req, err := http.NewRequest(http.MethodGet, srv.V3URL()+"/v3/banks", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+srv.APIKey()) // a credential in a header Khipu does not read
	req.Header.Set("x-api-key", "wrong-key-"+srv.APIKey())
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	received := srv.Requests()
	require.Len(t, received, 3)
	signature := received[0].Header.Get("Authorization")
	require.Contains(t, signature, receiverID+":", "Requests, in Go, has the headers as received")

	resp, err = http.Get(base + "/khiputest/requests")
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	for _, credential := range []string{secret, srv.APIKey(), strings.TrimPrefix(signature, receiverID+":")} {
		assert.NotContains(t, string(raw), credential)
	}
	var list []struct {
		Header   http.Header
		Warnings []string
	}
	require.NoError(t, json.Unmarshal(raw, &list))
	require.Len(t, list, 3)
	assert.Equal(t, receiverID+":[redacted]", list[0].Header.Get("Authorization"), "the account a v2 request acts as stays")
	assert.Equal(t, "[redacted]", list[1].Header.Get("X-Api-Key"))
	assert.Equal(t, "[redacted]", list[2].Header.Get("Authorization"))
	assert.Equal(t, "[redacted]", list[2].Header.Get("X-Api-Key"))
	assert.Equal(t, "application/json", list[1].Header.Get("Content-Type"), "other headers as received")
	assert.Equal(t, []string{}, list[0].Warnings)
	assert.Equal(t, []string{"receiver_id is not a field of POST /v3/payments: ignored"}, list[1].Warnings)
}

func TestControlIndex(t *testing.T) {
	_, base, _ := controlServer(t)
	resp, err := http.Get(base + "/khiputest/")
	require.NoError(t, err)
	defer resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	var index struct {
		Routes []struct {
			Route, Does string
		}
		Endpoints []string
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&index))
	var routes []string
	for _, r := range index.Routes {
		routes = append(routes, r.Route)
		assert.NotEmpty(t, r.Does, "every route says what it does: %s", r.Route)
	}
	assert.Equal(t, []string{
		"GET /khiputest/", "POST /khiputest/payments/{id}/pay", "POST /khiputest/payments/{id}/notify",
		"POST /khiputest/payments/{id}/status", "POST /khiputest/subscriptions/{id}/authorize",
		"POST /khiputest/fail-next", "GET /khiputest/requests", "POST /khiputest/clock",
	}, routes)
	assert.Contains(t, index.Endpoints, khiputest.EndpointPaymentsCreate)
	assert.Contains(t, index.Endpoints, khiputest.EndpointV3ReceiversChildren)
	assert.Len(t, index.Endpoints, 22, "every endpoint fail-next takes")
	for _, e := range index.Endpoints {
		status, _ := control(t, base, http.MethodPost, "/khiputest/fail-next", `{"endpoint": "`+e+`", "status": 503}`)
		assert.Equal(t, http.StatusOK, status, e)
	}

	t.Run("fail-next with an unknown endpoint names the endpoints as strings", func(t *testing.T) {
		status, got := control(t, base, http.MethodPost, "/khiputest/fail-next", `{"endpoint": "POST /v3/payment", "status": 503}`)
		assert.Equal(t, http.StatusBadRequest, status)
		msg, _ := got["error"].(string)
		assert.True(t, strings.HasPrefix(msg, `unknown endpoint "POST /v3/payment"; the endpoints are "GET /banks", "GET /payments", "POST /payments", `), msg)
		for _, e := range index.Endpoints {
			assert.Contains(t, msg, `"`+e+`"`)
		}
		assert.NotContains(t, msg, "Endpoint", "no Go constants")
		assert.NotContains(t, msg, "FailNext", "no Go names")
	})
}

// A control body is one JSON object: anything after it makes it malformed,
// a 400, and the route does nothing, as a body cut short does.
func TestControlRefusesABodyWithMoreAfterItsObject(t *testing.T) {
	_, base, client := controlServer(t)
	id := mustCreate(t, client).PaymentID
	for path, body := range map[string]string{
		"/khiputest/payments/" + id + "/pay":    `{"notify": false} {"notify": true}`,
		"/khiputest/payments/" + id + "/status": `{"status": "done", "status_detail": "normal"} x`,
		"/khiputest/fail-next":                  `{"endpoint": "GET /banks", "status": 503}]`,
		"/khiputest/clock":                      `{"advance": "25h"}{"advance": "1h"}`,
	} {
		status, got := control(t, base, http.MethodPost, path, body)
		assert.Equal(t, http.StatusBadRequest, status, "%s %s: %v", path, body, got)
	}
	p, err := client.Payments.Get(context.Background(), id)
	require.NoError(t, err)
	assert.Equal(t, khipu.StatusPending, p.Status, "neither paid nor put in another status")
	_, err = client.Banks.List(context.Background())
	assert.NoError(t, err, "no failure queued")
	// White space after the object is no more than the object.
	status, got := control(t, base, http.MethodPost, "/khiputest/payments/"+id+"/pay", "{\"notify\": false}\n\t ")
	assert.Equal(t, http.StatusOK, status, "%v", got)
}
