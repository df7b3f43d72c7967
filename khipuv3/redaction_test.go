package khipuv3_test

// The API key never leaves the x-api-key header: not in an error, a printed
// value or a log record. A created receiver's secret is not kept in an error
// either.

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/khipu-go/khipu"
	"github.com/khipu-go/khipu/khipuv3"
)

// newSecret and newAPIKey are a created receiver's credentials.
const (
	newSecret = "n3w-RECEIVER-s3cret-c4b5a6d7"
	newAPIKey = "n3w-RECEIVER-ap1-k3y-9e8d7c6b"
)

// assertNeverPrinted formats v with every verb and checks that no secret,
// in clear or in hex, is in any of them.
func assertNeverPrinted(t *testing.T, name string, v any, secrets ...string) {
	t.Helper()
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X"} {
		out := fmt.Sprintf(verb, v)
		for _, s := range secrets {
			for _, form := range []string{s, hex.EncodeToString([]byte(s)), strings.ToUpper(hex.EncodeToString([]byte(s)))} {
				assert.NotContains(t, out, form, "%s printed with %s", name, verb)
			}
		}
	}
	if err, ok := v.(error); ok {
		for _, s := range secrets {
			assert.NotContains(t, err.Error(), s, "%s.Error()", name)
		}
	}
}

// closedPortClient returns a client whose requests find nothing listening.
func closedPortClient(t *testing.T, opts ...khipuv3.Option) *khipuv3.Client {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	all := append([]khipuv3.Option{khipuv3.WithBaseURL("http://" + addr), khipuv3.WithRetry(khipu.RetryPolicy{MaxRetries: 0})}, opts...)
	c, err := khipuv3.NewClient(testAPIKey, all...)
	require.NoError(t, err)
	return c
}

func TestNoValuePrintsTheAPIKeyOrAReceiversSecret(t *testing.T) {
	f := newFake(t)
	var logged bytes.Buffer // every call below is also logged at debug level
	logger := slog.New(slog.NewJSONHandler(&logged, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c := f.client(t, khipuv3.WithRetry(khipu.RetryPolicy{MaxRetries: 0}), khipuv3.WithLogger(logger))
	ctx := context.Background()
	var answers sync.Map // path → [status, body]
	f.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		a, ok := answers.Load(r.URL.Path)
		if !assert.True(t, ok, "no answer for %s", r.URL.Path) {
			return
		}
		respond(w, a.([2]any)[0].(int), []byte(a.([2]any)[1].(string)))
	})
	on := func(path string, status int, body string) { answers.Store(path, [2]any{status, body}) }

	values := map[string]any{
		"*Client": c, "Client": *c, "[]*Client": []*khipuv3.Client{c},
		"Banks": c.Banks, "Payments": c.Payments, "Receivers": c.Receivers, "PaymentMethods": c.PaymentMethods,
		"Subscriptions": c.Subscriptions, "Charges": c.Charges, "*Banks": *c.Banks,
	}

	// A created receiver, and malformed answers that carry its secret.
	on("/v3/receivers", 200, `{"receiver_id": 4242, "secret": "`+newSecret+`", "api_key": "`+newAPIKey+`"}`)
	rc, err := c.Receivers.Create(ctx, receiverParams())
	require.NoError(t, err)
	require.Equal(t, newSecret, rc.Secret)
	require.Equal(t, newAPIKey, rc.APIKey)
	require.Equal(t, "4242", rc.ReceiverID)
	values["*ReceiverCreated"], values["ReceiverCreated"] = rc, *rc
	values["[]ReceiverCreated"] = []khipuv3.ReceiverCreated{*rc}
	var slogged bytes.Buffer
	slog.New(slog.NewJSONHandler(&slogged, nil)).Info("created", "receiver", rc, "value", *rc)
	slog.New(slog.NewTextHandler(&slogged, nil)).Info("created", "receiver", rc, "value", *rc)
	assert.NotContains(t, slogged.String(), newSecret)
	assert.NotContains(t, slogged.String(), newAPIKey)
	assert.Contains(t, slogged.String(), "4242")
	for name, body := range map[string]string{
		"api key not a string": `{"receiver_id": 4242, "secret": "s", "api_key": {"k": "` + newAPIKey + `"}}`,
		"truncated":            `{"receiver_id": 4242, "secret": "` + newSecret,
		"id of a wrong type":   `{"receiver_id": true, "secret": "` + newSecret + `"}`,
		"without its id":       `{"secret": "` + newSecret + `"}`,
		"secret not a string":  `{"receiver_id": 4242, "secret": ["` + newSecret + `"]}`,
		"oversized":            `{"receiver_id": 4242, "secret": "` + newSecret + `", "pad": "` + strings.Repeat("x", 2<<20) + `"}`,
	} {
		on("/v3/receivers", 200, body)
		_, err := c.Receivers.Create(ctx, receiverParams())
		var ue *khipu.UnexpectedResponseError
		require.ErrorAs(t, err, &ue, name)
		assert.NotContains(t, string(ue.Body), newSecret, name)
		var ae *khipu.APIError
		require.ErrorAs(t, err, &ae, name)
		assert.NotContains(t, string(ae.Body), newSecret, name)
		values["UnexpectedResponseError with a secret: "+name] = err
	}

	// Every other error a call can end with.
	for name, a := range map[string]struct {
		status int
		body   string
	}{
		"ValidationError":         {400, `{"message":"bad","errors":[{"field":"amount","message":"x"}]}`},
		"AuthorizationError":      {401, `{"message":"invalid api key"}`},
		"NotFoundError":           {404, `{"message":"not found"}`},
		"ServiceError":            {503, `{"message":"down"}`},
		"UnexpectedResponseError": {502, `<html>bad gateway</html>`},
		"malformed 200":           {200, `{"banks": 7}`},
	} {
		on("/v3/banks", a.status, a.body)
		_, err := c.Banks.List(ctx)
		require.Error(t, err, name)
		values[name] = err
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	_, err = c.Banks.List(cancelled)
	require.ErrorIs(t, err, context.Canceled)
	values["context error"] = err
	_, err = closedPortClient(t).Banks.List(ctx)
	require.Error(t, err)
	values["transport error"] = err
	_, err = closedPortClient(t).Payments.Create(ctx, minimalPayment())
	require.Error(t, err)
	values["transport error of a write"] = err
	_, err = c.Payments.Get(ctx, "../x")
	values["ParamError"] = err

	// Keys NewClient refuses are never echoed.
	for name, key := range map[string]string{"trailing newline": testAPIKey + "\n", "leading space": " " + testAPIKey} {
		_, err := khipuv3.NewClient(key)
		var pe *khipu.ParamError
		require.ErrorAs(t, err, &pe, name)
		values["NewClient "+name] = err
	}

	for name, v := range values {
		assertNeverPrinted(t, name, v, testAPIKey, newSecret, newAPIKey)
	}
	require.Contains(t, logged.String(), "/v3/receivers", "the calls were logged")
	assert.NotContains(t, logged.String(), testAPIKey)
	assert.NotContains(t, logged.String(), newSecret, "no log record quotes a body that held the secret")
	assert.NotContains(t, logged.String(), newAPIKey, "nor one that held the API key")
	// The printed forms still say what they are.
	assert.Equal(t, "khipuv3.Client{baseURL: "+f.srv.URL+", apiKey: [redacted]}", fmt.Sprint(c))
	assert.Equal(t, c.String(), c.GoString())
	assert.Equal(t, `khipuv3.ReceiverCreated{ReceiverID: "4242", Secret: [redacted], APIKey: [redacted]}`, fmt.Sprintf("%+v", rc))
	assert.Contains(t, fmt.Sprint(values["UnexpectedResponseError with a secret: truncated"]), "redacted")
}

func TestTheAPIKeyTravelsOnlyInItsHeader(t *testing.T) {
	f, c := setup(t)
	f.on("POST /v3/payments", 200, realworld(t, "v3-payment-created-khiputools-1.json"))
	f.on("GET /v3/predict", 200, realworld(t, "v3-predict-khiputools-1.json"))
	_, err := c.Payments.Create(context.Background(), fullPayment())
	require.NoError(t, err)
	_, err = c.Payments.Predict(context.Background(), predictParams())
	require.NoError(t, err)
	for _, r := range f.requests() {
		assert.Equal(t, []string{testAPIKey}, r.Header.Values("x-api-key"))
		assert.NotContains(t, r.Path+"?"+r.RawQuery, testAPIKey)
		assert.NotContains(t, r.Body, testAPIKey)
		for name, vs := range r.Header {
			if name != "X-Api-Key" {
				assert.NotContains(t, strings.Join(vs, ","), testAPIKey, "header %s", name)
			}
		}
	}
}

// logRecord is one record of slog's JSON handler.
type logRecord struct {
	Level        string        `json:"level"`
	Msg          string        `json:"msg"`
	Method       string        `json:"method"`
	Path         string        `json:"path"`
	Attempt      int           `json:"attempt"`
	Status       int           `json:"status"`
	Duration     time.Duration `json:"duration"`
	KhipuMessage string        `json:"khipu_message"`
	Error        string        `json:"error"`
	// The callback handlers' attributes.
	SubscriptionID string `json:"subscription_id"`
	TransactionID  string `json:"transaction_id"`
	ErrorMessage   string `json:"error_message"`
}

// records parses what slog's JSON handler wrote to buf.
func records(t *testing.T, buf *syncBuffer) []logRecord {
	t.Helper()
	var out []logRecord
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		if line == "" {
			continue
		}
		var r logRecord
		require.NoError(t, json.Unmarshal([]byte(line), &r), line)
		out = append(out, r)
	}
	return out
}

// syncBuffer is a bytes.Buffer that handlers running in a server's
// goroutines may write to while the test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// debugLogger logs everything at debug level and above, as JSON, to buf.
func debugLogger(buf *syncBuffer) *slog.Logger {
	return slog.New(slog.NewJSONHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func TestTheLogHasOneRecordPerAttemptAndNeitherKeyNorParameters(t *testing.T) {
	var buf syncBuffer
	f, c := setup(t, khipuv3.WithLogger(debugLogger(&buf)))
	var attempts atomic.Int32
	f.mux.HandleFunc("GET /v3/predict", func(w http.ResponseWriter, r *http.Request) {
		if attempts.Add(1) == 1 {
			respond(w, 503, []byte(`{"message":"Servicio no disponible"}`))
			return
		}
		respond(w, 200, realworld(t, "v3-predict-khiputools-1.json"))
	})
	f.on("POST /v3/payments", 400, fixture(t, "../error-400.json"))

	_, err := c.Payments.Predict(context.Background(), predictParams())
	require.NoError(t, err)
	p := fullPayment()
	_, err = c.Payments.Create(context.Background(), p)
	require.Error(t, err)

	recs := records(t, &buf)
	require.Len(t, recs, 3, buf.String())
	assert.Equal(t, logRecord{Level: "DEBUG", Msg: "khipu request", Method: "GET", Path: "/v3/predict", Attempt: 1, Status: 503,
		KhipuMessage: "Servicio no disponible", Duration: recs[0].Duration}, recs[0])
	assert.Equal(t, logRecord{Level: "DEBUG", Msg: "khipu request", Method: "GET", Path: "/v3/predict", Attempt: 2, Status: 200,
		Duration: recs[1].Duration}, recs[1])
	assert.Equal(t, logRecord{Level: "DEBUG", Msg: "khipu request", Method: "POST", Path: "/v3/payments", Attempt: 1, Status: 400,
		KhipuMessage: "Parámetros inválidos", Duration: recs[2].Duration}, recs[2])
	for _, secretish := range []string{testAPIKey, "ana+pagos@example.com", "ana%2Bpagos", "50000.5", p.Subject, p.PayerEmail, p.TransactionID} {
		assert.NotContains(t, buf.String(), secretish)
	}
}

func TestARedirectNeverTakesTheAPIKeyElsewhereEvenWithTheCallersHTTPClient(t *testing.T) {
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("the redirect was followed: %s %s with x-api-key %q", r.Method, r.URL, r.Header.Get("x-api-key"))
	}))
	defer elsewhere.Close()
	for _, code := range []int{301, 302, 307, 308} {
		khipuSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, elsewhere.URL+r.URL.Path, code)
		}))
		// The zero http.Client follows redirects and keeps x-api-key on them.
		c, err := khipuv3.NewClient("key-that-must-stay-home", khipuv3.WithBaseURL(khipuSrv.URL), khipuv3.WithHTTPClient(&http.Client{}))
		require.NoError(t, err)
		_, err = c.Payments.Get(context.Background(), "gqzdy6chjne9")
		var ue *khipu.UnexpectedResponseError
		require.ErrorAs(t, err, &ue, "HTTP %d", code)
		assert.Equal(t, code, ue.StatusCode)
		khipuSrv.Close()
	}
}

func TestAnAPIKeyWithAControlCharacterIsRefusedWithoutPrintingIt(t *testing.T) {
	for _, key := range []string{"abc\ndef", "abc\x00def", "abc def", "abc\x7fdef"} {
		_, err := khipuv3.NewClient(key)
		var pe *khipu.ParamError
		require.ErrorAs(t, err, &pe, "%q", key)
		assert.Equal(t, "apiKey", pe.Param)
		assert.NotContains(t, err.Error(), "abc")
	}
}
