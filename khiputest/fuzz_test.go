package khiputest_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

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
		list := srv.Requests()
		return rec.Code, list[len(list)-1].Warnings
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
