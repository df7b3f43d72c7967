package khipuv3_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/khipu-go/khipu"
	"github.com/khipu-go/khipu/khipuv3"
)

// FuzzDecodeV3Models decodes any JSON into every model of API v3 and of
// automatic payments: nothing panics, and whatever decodes encodes and
// decodes back to the same value (nothing read is lost; dates compare as
// instants, Raw is left out).
func FuzzDecodeV3Models(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("..", "testdata", "realworld", "*.json"))
	if err != nil {
		f.Fatal(err)
	}
	more, _ := filepath.Glob(filepath.Join("testdata", "*.json"))
	for _, name := range append(files, more...) {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{
		`{"payment_id":"a","receiver_id":"12","amount":"1e3"}`, `{"payment_id":"a","amount":19.989999999999998}`,
		`{"receivers":[null,{"id":7,"date_created":"2026-01-02 03:04:05"}],"total":"2"}`,
		`{"result":"OK","max_amount":"x","cool_down_date":"2026-01-02T03:04:05-0400"}`,
		`{"subscription_id":"s","status":"enabled","developer":"1","customer_bank_code":12}`,
		`{"receiver_id":1,"secret":"s","api_key":7}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		roundTripV3[khipuv3.Payment](t, b)
		roundTripV3[khipuv3.PaymentCreated](t, b)
		roundTripV3[khipuv3.Bank](t, b)
		roundTripV3[[]khipuv3.Bank](t, b)
		roundTripV3[khipuv3.Prediction](t, b)
		roundTripV3[khipuv3.ReceiverChildren](t, b)
		roundTripV3[khipuv3.ReceiverCreated](t, b)
		roundTripV3[khipuv3.Subscription](t, b)
		roundTripV3[khipuv3.SubscriptionCreated](t, b)
		roundTripV3[khipuv3.ChargeCreated](t, b)
		roundTripV3[khipu.Success](t, b)
	})
}

// roundTripV3 checks that whatever b decodes to as a T encodes and decodes
// back to the same T.
func roundTripV3[T any](t *testing.T, b []byte) {
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
	if err := json.Unmarshal(raw, &back); err != nil {
		t.Fatalf("%T: re-decoding %s: %v", v, raw, err)
	}
	normalize(reflect.ValueOf(&v).Elem())
	normalize(reflect.ValueOf(&back).Elem())
	if !reflect.DeepEqual(back, v) {
		t.Fatalf("%T round trip: %+v → %s → %+v", v, v, raw, back)
	}
}

// normalize zeroes the Raw fields (the body as received, which a round
// trip changes by definition) and puts every time.Time in UTC, so that
// dates compare as instants.
func normalize(v reflect.Value) {
	switch v.Kind() {
	case reflect.Slice:
		for i := range v.Len() {
			normalize(v.Index(i))
		}
	case reflect.Struct:
		for i := range v.NumField() {
			f := v.Field(i)
			if !f.CanSet() {
				continue
			}
			switch {
			case v.Type().Field(i).Name == "Raw":
				f.SetZero()
			case f.Type().String() == "time.Time":
				m := f.MethodByName("UTC")
				f.Set(m.Call(nil)[0])
			default:
				normalize(f)
			}
		}
	}
}

// FuzzCallbacks POSTs any body, as JSON or as a form, to the two handlers
// of automatic payments' unsigned callbacks. Nothing panics; a callback is
// confirmed with Khipu, and reaches fn, only when its parser accepts it, and
// fn gets Khipu's answer for what it parsed; a malformed one is a 400 that
// reaches neither Khipu nor fn.
func FuzzCallbacks(f *testing.F) {
	for _, s := range []string{
		`{"subscription_id":"` + subscriptionID + `","status":"enabled"}`, `{"subscription_id":"a/b","status":"enabled"}`,
		`{"subscription_id":"x","status":5}`, `{"subscription_id":"x","transaction_id":"t","error_message":"\u2028\n"}`,
		"subscription_id=x&status=disabled", "subscription_id=x&transaction_id=%zz", ``, `null`, `[]`, `{"status":"ENABLED"}`,
	} {
		f.Add(s, true)
		f.Add(s, false)
	}
	// Khipu knows every subscription, and says each is ENABLED.
	var lookups atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		lookups.Add(1)
		id := strings.TrimPrefix(r.URL.Path, "/v1/automatic-payment/subscription/")
		respond(w, http.StatusOK, []byte(`{"subscription_id":"`+id+`","status":"ENABLED"}`))
	}))
	f.Cleanup(srv.Close)
	c, err := khipuv3.NewClient(testAPIKey, khipuv3.WithBaseURL(srv.URL))
	if err != nil {
		f.Fatal(err)
	}
	quiet := khipuv3.WithHandlerLogger(slog.New(slog.DiscardHandler))
	var (
		calls  int
		got    *khipuv3.Subscription
		report *khipuv3.ChargeErrorReport
	)
	subs := c.Subscriptions.CallbackHandler(func(ctx context.Context, s *khipuv3.Subscription) error {
		calls++
		got = s
		return nil
	}, quiet)
	charges := c.Charges.ErrorHandler(func(ctx context.Context, r *khipuv3.ChargeErrorReport) error {
		report = r
		return nil
	}, quiet)
	f.Fuzz(func(t *testing.T, body string, form bool) {
		ct := "application/json"
		if form {
			ct = formType
		}
		calls, got, report = 0, nil, nil
		before := lookups.Load()
		w := httptest.NewRecorder()
		subs.ServeHTTP(w, callback(body, ct))
		parsed, perr := khipuv3.ParseSubscriptionCallback(callback(body, ct))
		switch {
		case perr != nil:
			if w.Code != http.StatusBadRequest || calls != 0 || lookups.Load() != before || !errors.Is(perr, khipu.ErrInvalidNotification) {
				t.Fatalf("%q (%s): the parser refused it (%v), the handler answered %d, asked Khipu %d times and called fn %d times",
					body, ct, perr, w.Code, lookups.Load()-before, calls)
			}
		case parsed.Status == khipuv3.SubscriptionEnabled:
			if w.Code != http.StatusOK || calls != 1 || *got != (khipuv3.Subscription{SubscriptionID: parsed.SubscriptionID, Status: khipuv3.SubscriptionEnabled}) {
				t.Fatalf("%q (%s): parsed %+v, answered %d with fn called %d times with %+v", body, ct, parsed, w.Code, calls, got)
			}
		default: // Khipu contradicts it
			if w.Code != http.StatusConflict || calls != 0 {
				t.Fatalf("%q (%s): parsed %+v, answered %d with fn called %d times", body, ct, parsed, w.Code, calls)
			}
		}

		w = httptest.NewRecorder()
		charges.ServeHTTP(w, callback(body, ct))
		rep, rerr := khipuv3.ParseChargeErrorReport(callback(body, ct))
		switch {
		case rerr != nil:
			if w.Code != http.StatusBadRequest || report != nil || !errors.Is(rerr, khipu.ErrInvalidNotification) {
				t.Fatalf("%q (%s): the parser refused it (%v), the handler answered %d", body, ct, rerr, w.Code)
			}
		case w.Code != http.StatusOK || report == nil || *report != *rep:
			t.Fatalf("%q (%s): parsed %+v, answered %d with fn given %+v", body, ct, rep, w.Code, report)
		}
	})
}
