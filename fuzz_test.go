package khipu_test

// Fuzz targets. `go test ./...` runs each on its seeds (the f.Add calls and
// the files in testdata/fuzz/<target>/); `go test -fuzz '^FuzzX$' .` explores
// further. Each checks properties, not only the absence of a panic. The
// targets that go through net/http (FuzzResponse, FuzzParseNotification) are
// slow to minimize a new input; add -fuzzminimizetime 1s to keep them
// exploring.

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/khipu-go/khipu"
)

// FuzzParseAmount: an accepted amount is digits with at most one '.', its
// canonical form parses back to it and is a fixed point, and it survives a
// JSON round trip.
func FuzzParseAmount(f *testing.F) {
	for _, s := range []string{"0", "1000", "19.99", "0.0001", "1.23456", "1,000", "1e3", "-1", "NaN", ".5", "922337203685477.5807", "922337203685477.5808"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := khipu.ParseAmount(s)
		if err != nil {
			var ae *khipu.AmountError
			if !errors.As(err, &ae) || ae.Input != s || !a.IsZero() {
				t.Fatalf("ParseAmount(%q) = %v, %#v", s, a, err)
			}
			return
		}
		if strings.Trim(s, "0123456789.") != "" || strings.Count(s, ".") > 1 {
			t.Fatalf("ParseAmount accepted %q", s)
		}
		canon := a.String()
		back, err := khipu.ParseAmount(canon)
		if err != nil || back != a || back.String() != canon {
			t.Fatalf("%q → %q → %v, %v", s, canon, back, err)
		}
		raw, err := json.Marshal(a)
		if err != nil || string(raw) != canon {
			t.Fatalf("json.Marshal(%q) = %s, %v", s, raw, err)
		}
		var fromJSON khipu.Amount
		if err := json.Unmarshal(raw, &fromJSON); err != nil || fromJSON != a {
			t.Fatalf("JSON round trip of %q: %v, %v", s, fromJSON, err)
		}
	})
}

// FuzzAmountJSON: whatever JSON decodes into an Amount re-encodes to a
// canonical number that decodes to the same Amount; a failure leaves the
// Amount as it was.
func FuzzAmountJSON(f *testing.F) {
	for _, s := range []string{`1000`, `19.990`, `"19.99"`, `null`, `1000.000000`, `-1`, `1e3`, `"\u0031"`, `{}`, `0.00001`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		before := khipu.MustParseAmount("7.5")
		a := before
		if err := json.Unmarshal(b, &a); err != nil {
			if a != before {
				t.Fatalf("a failed decode of %q changed the amount to %v", b, a)
			}
			return
		}
		raw, err := json.Marshal(a)
		if err != nil {
			t.Fatalf("decoded %q to %v, which does not encode: %v", b, a, err)
		}
		var back khipu.Amount
		if err := json.Unmarshal(raw, &back); err != nil || back != a || string(raw) != a.String() {
			t.Fatalf("%q → %v → %s → %v, %v", b, a, raw, back, err)
		}
	})
}

// FuzzDecodeModels decodes any JSON into every model. A Payment that decodes
// encodes again and decodes to the same payment: nothing read is lost (dates
// compare as instants).
func FuzzDecodeModels(f *testing.F) {
	for _, name := range []string{"payment-done.json", "payment-pending-nulls.json", "payment-created.json", "banks.json", "receiver-created.json", "success.json"} {
		f.Add(fixture(f, name))
	}
	f.Add([]byte(`{"receiver_id": 1e3, "expires_date": "2026-11-25 10:00:00"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var p khipu.Payment
		if err := json.Unmarshal(b, &p); err == nil {
			raw, err := json.Marshal(p)
			if err != nil {
				t.Fatalf("decoded payment %+v does not encode: %v", p, err)
			}
			var back khipu.Payment
			if err := json.Unmarshal(raw, &back); err != nil {
				t.Fatalf("re-decoding %s: %v", raw, err)
			}
			if !back.ExpiresDate.Equal(p.ExpiresDate) || !back.ConciliationDate.Equal(p.ConciliationDate) {
				t.Fatalf("dates changed: %v %v → %v %v", p.ExpiresDate, p.ConciliationDate, back.ExpiresDate, back.ConciliationDate)
			}
			back.ExpiresDate, back.ConciliationDate = p.ExpiresDate, p.ConciliationDate
			back.Raw = p.Raw // the body as received, by definition not the same
			if !reflect.DeepEqual(back, p) {
				t.Fatalf("round trip changed the payment:\n%+v\n%+v", p, back)
			}
		}
		var r khipu.ReceiverCreated
		if err := json.Unmarshal(b, &r); err == nil {
			raw, err := json.Marshal(r)
			var back khipu.ReceiverCreated
			if err != nil || json.Unmarshal(raw, &back) != nil || back != r {
				t.Fatalf("receiver %q round trip: %s, %v", r.ReceiverID, raw, err)
			}
		}
		roundTrip[khipu.PaymentCreated](t, b)
		roundTrip[khipu.Success](t, b)
		roundTrip[[]khipu.Bank](t, b)
		roundTrip[[]khipu.PaymentMethod](t, b)
	})
}

// roundTrip checks that whatever b decodes to as a T encodes and decodes
// back to the same T.
func roundTrip[T any](t *testing.T, b []byte) {
	t.Helper()
	var v T
	if json.Unmarshal(b, &v) != nil {
		return
	}
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("decoded %T %+v does not encode: %v", v, v, err)
	}
	var back T
	err = json.Unmarshal(raw, &back)
	withoutRaw(&v)
	withoutRaw(&back)
	if err != nil || !reflect.DeepEqual(back, v) {
		t.Fatalf("%T round trip: %+v → %s → %+v, %v", v, v, raw, back, err)
	}
}

// withoutRaw zeroes the Raw field of the struct *v has one: the body as
// received, which a round trip changes by definition.
func withoutRaw(v any) {
	if f := reflect.ValueOf(v).Elem(); f.Kind() == reflect.Struct {
		if raw := f.FieldByName("Raw"); raw.IsValid() {
			raw.SetZero()
		}
	}
}

// FuzzResponse serves any body with status 200 to Payments.Get: the call
// returns a payment or an *UnexpectedResponseError, nothing else.
func FuzzResponse(f *testing.F) {
	f.Add(fixture(f, "payment-done.json"))
	f.Add([]byte(`{"payment_id":"abc","amount":10`))
	f.Add([]byte(""))
	f.Add([]byte("<html>502</html>"))
	f.Add([]byte(`{"amount":"1,000"}`))
	var body atomic.Pointer[[]byte]
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(*body.Load())
	}))
	f.Cleanup(srv.Close)
	c, err := khipu.NewClient(testReceiverID, testSecret, khipu.WithBaseURL(srv.URL))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		body.Store(&b)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		p, err := c.Payments.Get(ctx, "gqzdy6chjne9")
		var ue *khipu.UnexpectedResponseError
		switch {
		case err == nil && p == nil:
			t.Fatal("no payment and no error")
		case err != nil && p != nil:
			t.Fatalf("a payment and an error: %v", err)
		case err != nil && !errors.As(err, &ue):
			t.Fatalf("error of type %T: %v", err, err)
		case err != nil && (ue.StatusCode != 200 || len(ue.Body) > 1024):
			t.Fatalf("status %d, %d bytes kept", ue.StatusCode, len(ue.Body))
		}
	})
}

// FuzzParseNotification: a notification is accepted only with api_version
// 1.3 and a token of printable ASCII, both as sent; everything else wraps
// ErrInvalidNotification.
func FuzzParseNotification(f *testing.F) {
	for _, s := range []string{
		"api_version=1.3&notification_token=abc", "api_version=1.2&notification_token=abc",
		"notification_token=abc", "api_version=1.3", "api_version=1.3&notification_token=a%20b",
		"api_version=1.3&notification_token=%zz", "api_version=1.3;notification_token=x",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		r := httptest.NewRequest(http.MethodPost, "/khipu/notify", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		n, err := khipu.ParseNotification(r)
		if err != nil {
			if n != nil || !errors.Is(err, khipu.ErrInvalidNotification) {
				t.Fatalf("ParseNotification(%q) = %v, %v", body, n, err)
			}
			return
		}
		form, perr := url.ParseQuery(body)
		if perr != nil || n.APIVersion != "1.3" || n.Token == "" || n.Token != form.Get("notification_token") {
			t.Fatalf("ParseNotification(%q) accepted %+v", body, n)
		}
		for _, c := range []byte(n.Token) {
			if c <= ' ' || c >= 0x7f {
				t.Fatalf("token %q has byte %q", n.Token, c)
			}
		}
	})
}
