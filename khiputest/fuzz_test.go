package khiputest_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/khipu-go/khipu/internal/sign"
	"github.com/khipu-go/khipu/khiputest"
)

// FuzzV3Body sends any body to POST /v3/payments of a server that warns and
// of one that is strict (WithStrict), both served in process, and checks
// that neither fails but with a 400, and that they agree: the strict one
// accepts exactly what the other accepts without a warning, and refuses
// whatever the other refuses.
func FuzzV3Body(f *testing.F) {
	for _, seed := range []string{
		v3Order,
		`{"amount": 1000, "currency": "CLP", "subject": "x", "receiver_id": 12345, "transaction_id": null}`,
		`{"amount": null, "currency": "CLP", "subject": "x"}`,
		`{"amount": 1000, "currency": "CLP", "subject": "x", "amount": 1000}`,
		`{"amount": 1000, "currency": "CLP", "subject": "x", "expires_date": "2036-12-08 12:25:27 +0000"}`,
		`{"amount": 1000, "currency": "CLP", "subject": "x", "expires_date": "2037-01-15T10:00:00.000"}`,
		`{"amount": 1000, "currency": "CLP", "subject": "x", "send_email": true, "payer_name": "A", "payer_email": "a@b.cl"}`,
		`{"amount": 1000, "currency": "CLP", "subject": "x", "integrator_fee": "10"}`,
		`{"amount": 1e3}`, `[]`, `null`, `{`, `{"a":{"b":[1,2,{"c":null}]}}`, "",
	} {
		f.Add(seed)
	}
	lenient := khiputest.NewServer(receiverID, secret, khiputest.WithAPIKey(apiKey), khiputest.WithPublicURL("http://khipu.test"), khiputest.WithMaxRequests(1))
	strict := khiputest.NewServer(receiverID, secret, khiputest.WithAPIKey(apiKey), khiputest.WithPublicURL("http://khipu.test"), khiputest.WithMaxRequests(1), khiputest.WithStrict())
	f.Cleanup(lenient.Close)
	f.Cleanup(strict.Close)
	send := func(t *testing.T, srv *khiputest.Server, body string) (int, []string) {
		req := httptest.NewRequest(http.MethodPost, "http://khipu.test/v3/payments", strings.NewReader(body))
		req.Header.Set("x-api-key", apiKey)
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK && rec.Code != http.StatusBadRequest {
			t.Fatalf("%q: status %d: %s", body, rec.Code, rec.Body)
		}
		return rec.Code, lastRequest(t, srv).Warnings
	}
	f.Fuzz(func(t *testing.T, body string) {
		status, warnings := send(t, lenient, body)
		strictStatus, strictWarnings := send(t, strict, body)
		if len(strictWarnings) > 0 {
			t.Fatalf("%q: a strict server warned: %q", body, strictWarnings)
		}
		accepted := status == http.StatusOK && len(warnings) == 0
		if accepted != (strictStatus == http.StatusOK) {
			t.Fatalf("%q: the strict server answered %d; the other %d with warnings %q", body, strictStatus, status, warnings)
		}
		// A refused request keeps its warnings: a 400 for a missing amount
		// with a warning that "ammount" is no field says what went wrong.
		if status == http.StatusBadRequest && strictStatus != http.StatusBadRequest {
			t.Fatalf("%q: the strict server accepted what the other refused", body)
		}
	})
}

// FuzzV2Request sends any signed v2 request (a method, a path below the API,
// a query and a form body) to a server served in process: whatever it is,
// the server answers as Khipu does, with a status it documents, never a 5xx
// of its own nor a panic.
func FuzzV2Request(f *testing.F) {
	for _, seed := range []struct{ method, path, query, body string }{
		{"POST", "/payments", "", "amount=1000&currency=CLP&subject=x"},
		{"POST", "/payments", "", "amount=1000&currency=CLP&subject=x&send_email=True&payer_name=A&payer_email=a%40b.cl&expires_date=2037-01-15T10%3A00%3A00.000"},
		{"POST", "/payments", "", "amount=1000&amount=2&currency=CLP&subject=x&integrator_fee=10&notify_api_version=2.0"},
		{"POST", "/payments", "", "%zz"},
		{"GET", "/payments", "notification_token=x", ""},
		{"GET", "/payments/abc", "", ""},
		{"DELETE", "/payments/abc", "", ""},
		{"POST", "/payments/abc/refunds", "", "amount=1"},
		{"POST", "/payments/abc/confirm", "", ""},
		{"GET", "/banks", "a=%zz", ""},
		{"GET", "/merchants/12345/paymentMethods", "", ""},
		{"POST", "/receivers", "", "admin_first_name=A"},
		{"PUT", "/banks", "", ""},
	} {
		f.Add(seed.method, seed.path, seed.query, seed.body)
	}
	srv := khiputest.NewServer(receiverID, secret, khiputest.WithPublicURL("http://khipu.test"), khiputest.WithMaxRequests(1))
	f.Cleanup(srv.Close)
	signer := sign.New(receiverID, secret)
	f.Fuzz(func(t *testing.T, method, path, query, body string) {
		target := "http://khipu.test" + khiputest.APIPath + "/" + strings.TrimPrefix(path, "/")
		if query != "" {
			target += "?" + query
		}
		req, err := http.NewRequest(method, target, strings.NewReader(body))
		if err != nil {
			return // not a request a client can send
		}
		params := req.URL.Query()
		if method == http.MethodPost {
			params, _ = url.ParseQuery(body)
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		req.Header.Set("Authorization", signer.Authorization(method, "http://khipu.test"+req.URL.EscapedPath(), params))
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		switch rec.Code {
		case http.StatusOK, http.StatusBadRequest, http.StatusForbidden, http.StatusNotFound, http.StatusMethodNotAllowed,
			http.StatusMovedPermanently, http.StatusTemporaryRedirect: // ServeMux cleans a path with . or //
		default:
			t.Fatalf("%s %s with %q: status %d: %s", method, target, body, rec.Code, rec.Body)
		}
	})
}

// FuzzControl sends any body to every route of the control API, with any
// payment or subscription id: it answers each with one of the statuses its
// documentation lists and a JSON body, and never panics.
func FuzzControl(f *testing.F) {
	routes := []string{
		"POST payments/{id}/pay", "POST payments/{id}/notify", "POST payments/{id}/status",
		"POST subscriptions/{id}/authorize", "POST fail-next", "GET requests", "POST clock", "GET ", "DELETE clock",
	}
	for _, seed := range []struct {
		route uint8
		id    string
		body  string
	}{
		{0, "", `{"notify": false}`}, {0, "", ""}, {0, "nope", `{"notify": "no"}`}, {0, "", `{"notify": false} x`},
		{2, "", `{"status": "done", "status_detail": "reversed"}`}, {2, "", `{"status": "done"}`},
		{4, "", `{"endpoint": "POST /payments", "status": 503, "times": 1}`}, {4, "", `{"endpoint": "GET /v3/banks", "status": 99}`},
		{6, "", `{"advance": "90m"}`}, {6, "", `{"advance": "-1s"}`}, {6, "", `{"advance": "2562047h47m16s"}`},
		{3, "x", `{}`}, {5, "", ""}, {7, "", ""}, {8, "", ""},
	} {
		f.Add(seed.route, seed.id, seed.body)
	}
	srv := khiputest.NewServer(receiverID, secret, khiputest.WithPublicURL("http://khipu.test"), khiputest.WithMaxRequests(1))
	f.Cleanup(srv.Close)
	control := srv.ControlHandler()
	// A payment to act on, paid or not, without a notify_url: no fuzzed
	// request makes the server POST anywhere.
	form := url.Values{"amount": {"1000"}, "currency": {"CLP"}, "subject": {"x"}}
	full := "http://khipu.test" + khiputest.APIPath + "/payments"
	req := httptest.NewRequest(http.MethodPost, full, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", sign.New(receiverID, secret).Authorization(http.MethodPost, full, form))
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	var created struct {
		PaymentID string `json:"payment_id"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &created); err != nil || created.PaymentID == "" {
		f.Fatalf("creating a payment: %d %s", rec.Code, rec.Body)
	}
	f.Fuzz(func(t *testing.T, route uint8, id, body string) {
		method, path, _ := strings.Cut(routes[int(route)%len(routes)], " ")
		if id == "" {
			id = created.PaymentID
		}
		path = strings.ReplaceAll(path, "{id}", url.PathEscape(id))
		req, err := http.NewRequest(method, "http://khipu.test"+khiputest.ControlPath+path, strings.NewReader(body))
		if err != nil {
			return
		}
		rec := httptest.NewRecorder()
		control.ServeHTTP(rec, req)
		switch rec.Code {
		case http.StatusOK, http.StatusBadRequest, http.StatusNotFound, http.StatusMethodNotAllowed, http.StatusConflict,
			http.StatusMovedPermanently, http.StatusTemporaryRedirect: // ServeMux cleans a path with . or //
		default:
			t.Fatalf("%s %s with %q: status %d: %s", method, req.URL, body, rec.Code, rec.Body)
		}
		if rec.Code < 300 || rec.Code >= 400 {
			if !json.Valid(rec.Body.Bytes()) {
				t.Fatalf("%s %s with %q: %d and not JSON: %s", method, req.URL, body, rec.Code, rec.Body)
			}
		}
	})
}
