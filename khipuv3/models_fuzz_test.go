package khipuv3_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
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
