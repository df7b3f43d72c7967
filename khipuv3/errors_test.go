package khipuv3_test

// Every error status of every endpoint, retries of reads only, and answers
// that are not what was expected. The fake counts the requests it receives:
// nothing that creates, deletes, confirms, refunds or charges is sent twice.

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/khipu-go/khipu"
	"github.com/khipu-go/khipu/khipuv3"
)

// answer is one way for the fake to answer.
type answer func(w http.ResponseWriter, r *http.Request)

// status answers with code, body and the given header pairs (JSON unless
// told otherwise).
func status(code int, body string, headers ...string) answer {
	return func(w http.ResponseWriter, r *http.Request) {
		for i := 0; i+1 < len(headers); i += 2 {
			w.Header().Set(headers[i], headers[i+1])
		}
		if w.Header().Get("Content-Type") == "" {
			w.Header().Set("Content-Type", "application/json")
		}
		w.WriteHeader(code)
		_, _ = w.Write([]byte(body))
	}
}

// closeMidReply sends the start of a 200 and closes the connection.
func closeMidReply(w http.ResponseWriter, r *http.Request) {
	conn, buf, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(err)
	}
	_, _ = buf.WriteString("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{\"payment_id\":")
	_ = buf.Flush()
	_ = conn.Close()
}

// closeWithoutReply closes the connection without answering.
func closeWithoutReply(w http.ResponseWriter, r *http.Request) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(err)
	}
	_ = conn.Close()
}

// scripted answers the n-th request with answers[n-1] and every later one
// with the last answer, on every path.
func scripted(t *testing.T, answers ...answer) (*fake, *khipuv3.Client) {
	t.Helper()
	f, c := setup(t)
	f.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		n := f.count() // the recorder has counted this request already
		answers[min(n, len(answers))-1](w, r)
	})
	return f, c
}

// success is a 200 that every endpoint decodes.
const success = `{"banks":[],"paymentMethods":[],"payment_id":"gqzdy6chjne9","message":"ok","result":"ok",` +
	`"receiver_id":1,"secret":"s","subscription_id":"13a0f1aa-5e47-4894-aa8b-282dd19593ec","status":"ENABLED"}`

func TestEveryErrorStatusIsATypedAPIError(t *testing.T) {
	big := `{"message":"Parámetros inválidos","pad":"` + strings.Repeat("x", 4096) + `"}`
	html := string(fixture(t, "../error-502.html"))
	cases := []struct {
		name    string
		answer  answer
		body    string
		status  int
		message string // APIError.Message; for an UnexpectedResponseError, a part of it
		check   func(t *testing.T, err error)
	}{
		{"400 with field errors", status(400, string(fixture(t, "../error-400.json"))), string(fixture(t, "../error-400.json")), 400, "Parámetros inválidos",
			func(t *testing.T, err error) {
				var ve *khipu.ValidationError
				require.ErrorAs(t, err, &ve)
				assert.Equal(t, "Parámetros inválidos", ve.Message)
				assert.Equal(t, []khipu.FieldError{
					{Field: "amount", Message: "El monto debe ser mayor que 0"},
					{Field: "currency", Message: "Moneda no soportada"},
				}, ve.Errors)
			}},
		{"400 with an error key", status(400, `{"error":"Monto inválido"}`), `{"error":"Monto inválido"}`, 400, "Monto inválido",
			func(t *testing.T, err error) {
				var ve *khipu.ValidationError
				require.ErrorAs(t, err, &ve)
				assert.Equal(t, "Monto inválido", ve.Message)
				assert.Empty(t, ve.Errors)
			}},
		{"400 over 1 KiB", status(400, big), big, 400, "Parámetros inválidos",
			func(t *testing.T, err error) {
				var ve *khipu.ValidationError
				require.ErrorAs(t, err, &ve)
			}},
		{"401", status(401, `{"message":"Invalid API key"}`), `{"message":"Invalid API key"}`, 401, "Invalid API key",
			func(t *testing.T, err error) {
				var ae *khipu.AuthorizationError
				require.ErrorAs(t, err, &ae)
				assert.Equal(t, 401, ae.StatusCode)
			}},
		{"403", status(403, string(fixture(t, "../error-403.json"))), string(fixture(t, "../error-403.json")), 403, "Cobrador no autorizado",
			func(t *testing.T, err error) {
				var ae *khipu.AuthorizationError
				require.ErrorAs(t, err, &ae)
				assert.Equal(t, 403, ae.StatusCode)
			}},
		{"404", status(404, `{"message":"Pago no encontrado"}`), `{"message":"Pago no encontrado"}`, 404, "Pago no encontrado",
			func(t *testing.T, err error) {
				var ne *khipu.NotFoundError
				require.ErrorAs(t, err, &ne)
				assert.Equal(t, "Pago no encontrado", ne.Message)
			}},
		{"500", status(500, `{"error":"Error interno"}`), `{"error":"Error interno"}`, 500, "Error interno",
			func(t *testing.T, err error) {
				var se *khipu.ServiceError
				require.ErrorAs(t, err, &se)
				assert.Equal(t, 500, se.StatusCode)
			}},
		{"503", status(503, string(fixture(t, "../error-503.json"))), string(fixture(t, "../error-503.json")), 503, "Servicio no disponible, intente nuevamente",
			func(t *testing.T, err error) {
				var se *khipu.ServiceError
				require.ErrorAs(t, err, &se)
				assert.Equal(t, 503, se.StatusCode)
			}},
		{"409, a status Khipu does not use", status(409, `{"message":"conflicto"}`), `{"message":"conflicto"}`, 409, "HTTP status Khipu does not use",
			unexpected},
		{"429", status(429, `{"message":"Too Many Requests"}`, "Retry-After", "1"), `{"message":"Too Many Requests"}`, 429, "HTTP status Khipu does not use",
			unexpected},
		{"a gateway's text 401", status(401, "Unauthorized\n", "Content-Type", "text/plain"), "Unauthorized\n", 401, "without Khipu's JSON error",
			unexpected},
		{"a proxy's HTML 502", status(502, html, "Content-Type", "text/html"), html, 502, "without Khipu's JSON error",
			unexpected},
		{"a JSON 500 without a message", status(500, `{"status":500}`), `{"status":500}`, 500, "without Khipu's JSON error",
			unexpected},
	}
	for _, ep := range endpoints() {
		for _, tc := range cases {
			t.Run(ep.name+"/"+tc.name, func(t *testing.T) {
				f, c := scripted(t, tc.answer)
				out, err := ep.call(context.Background(), c)
				require.Error(t, err, "answer %v", out)
				tc.check(t, err)

				var ae *khipu.APIError
				require.ErrorAs(t, err, &ae, "every error that carries an answer opens as an APIError")
				assert.Equal(t, tc.status, ae.StatusCode)
				assert.Contains(t, ae.Message, tc.message)
				assert.Equal(t, tc.body[:min(len(tc.body), 1024)], string(ae.Body), "the body, capped at 1 KiB")
				assert.LessOrEqual(t, len(ae.Body), 1024)
				assert.NotContains(t, err.Error(), "\n", "one line")

				want := 1
				if !ep.write && (tc.status == 502 || tc.status == 503 || tc.status == 504) {
					want = 3 // a read is retried twice
				}
				assert.Equal(t, want, f.count())
			})
		}
	}
}

// unexpected checks that err is an UnexpectedResponseError.
func unexpected(t *testing.T, err error) {
	t.Helper()
	var ue *khipu.UnexpectedResponseError
	require.ErrorAs(t, err, &ue)
}

func TestReadsAreRetriedOnGatewayStatusesAndTransportErrors(t *testing.T) {
	faults := map[string]answer{
		"502":                 status(502, string(fixture(t, "../error-502.html")), "Content-Type", "text/html"),
		"503":                 status(503, `{"message":"Servicio no disponible"}`),
		"504":                 status(504, `{"message":"Gateway Timeout"}`, "Retry-After", "0"),
		"closed mid-reply":    closeMidReply,
		"closed before reply": closeWithoutReply,
	}
	for _, ep := range endpoints() {
		if ep.write {
			continue
		}
		for name, fault := range faults {
			t.Run(ep.name+"/"+name, func(t *testing.T) {
				f, c := scripted(t, fault, func(w http.ResponseWriter, r *http.Request) {
					respond(w, 200, fixture(t, ep.fixture))
				})
				out, err := ep.call(context.Background(), c)
				require.NoError(t, err)
				ep.check(t, out)
				assert.Equal(t, 2, f.count())
			})
		}
	}
}

func TestAReadGivesUpAfterMaxRetries(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute) // longer than any wait: the policy ends each call
	defer cancel()
	f, c := scripted(t, status(503, `{"message":"Servicio no disponible"}`))
	_, err := c.Subscriptions.Get(ctx, subscriptionID)
	var se *khipu.ServiceError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, 3, f.count(), "the first attempt and 2 retries")

	f, _ = scripted(t, status(503, `{"message":"Servicio no disponible"}`))
	c = f.client(t, khipuv3.WithRetry(khipu.RetryPolicy{MaxRetries: 0}))
	_, err = c.Banks.List(ctx)
	require.ErrorAs(t, err, &se)
	assert.Equal(t, 1, f.count(), "MaxRetries 0: no retry")

	f, c = scripted(t, status(503, `{"message":"Servicio no disponible"}`, "Retry-After", "3600"))
	clock := &fakeClock{}
	khipuv3.SetClock(c, clock)
	_, err = c.Banks.List(ctx)
	require.ErrorAs(t, err, &se)
	assert.Equal(t, 1, f.count(), "a Retry-After beyond 30 s ends the call at once")
	assert.Empty(t, clock.slept(), "without waiting 30 s first")

	f, c = scripted(t, status(503, `{"message":"Servicio no disponible"}`, "Retry-After", "30"), status(200, `{"banks":[]}`))
	clock = &fakeClock{}
	khipuv3.SetClock(c, clock)
	_, err = c.Banks.List(ctx)
	require.NoError(t, err)
	assert.Equal(t, 2, f.count())
	assert.Equal(t, []time.Duration{30 * time.Second}, clock.slept(), "a Retry-After of 30 s is waited, on the client's clock")
}

// fakeClock is a retry loop's clock that waits no real time: each Sleep
// records the wait and moves the time on by it.
type fakeClock struct {
	mu    sync.Mutex
	now   time.Time
	waits []time.Duration
}

func (f *fakeClock) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.waits = append(f.waits, d)
	f.now = f.now.Add(d)
	return ctx.Err()
}

func (f *fakeClock) slept() []time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]time.Duration(nil), f.waits...)
}

func TestWritesAreNeverSentTwice(t *testing.T) {
	faults := map[string]answer{
		"503":                 status(503, `{"message":"Servicio no disponible"}`),
		"502 HTML":            status(502, string(fixture(t, "../error-502.html")), "Content-Type", "text/html"),
		"504 Retry-After":     status(504, `{"message":"Gateway Timeout"}`, "Retry-After", "0"),
		"closed mid-reply":    closeMidReply,
		"closed before reply": closeWithoutReply,
	}
	for _, ep := range endpoints() {
		if !ep.write {
			continue
		}
		for name, fault := range faults {
			t.Run(ep.name+"/"+name, func(t *testing.T) {
				f, c := scripted(t, fault, status(200, success))
				_, err := ep.call(context.Background(), c)
				require.Error(t, err)
				assert.Equal(t, 1, f.count(), "a write is sent once, whatever happens")
			})
		}
	}
}

// TestDecodingErrorsNameNoGoType: what is wrong with an answer is said in
// terms of its JSON, never of the Go types it was decoded into.
func TestDecodingErrorsNameNoGoType(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name, body string
		call       func(c *khipuv3.Client) error
	}{
		{"banks not a list", `{"banks":"none"}`, func(c *khipuv3.Client) error { _, err := c.Banks.List(ctx); return err }},
		{"a bank not an object", `{"banks":[1]}`, func(c *khipuv3.Client) error { _, err := c.Banks.List(ctx); return err }},
		{"payment methods an object", `{"paymentMethods":{}}`, func(c *khipuv3.Client) error { _, err := c.PaymentMethods.List(ctx, "985101"); return err }},
		{"payment_id a number", `{"payment_id":12,"amount":1000,"currency":"CLP","status":"done"}`,
			func(c *khipuv3.Client) error { _, err := c.Payments.Get(ctx, "gqzdy6chjne9"); return err }},
		{"amount a boolean", `{"payment_id":"gqzdy6chjne9","amount":true,"currency":"CLP","status":"done"}`,
			func(c *khipuv3.Client) error { _, err := c.Payments.Get(ctx, "gqzdy6chjne9"); return err }},
		{"amount not a number", `{"payment_id":"gqzdy6chjne9","amount":"mil","currency":"CLP","status":"done"}`,
			func(c *khipuv3.Client) error { _, err := c.Payments.Get(ctx, "gqzdy6chjne9"); return err }},
		{"status a number", `{"payment_id":"gqzdy6chjne9","amount":1000,"currency":"CLP","status":2}`,
			func(c *khipuv3.Client) error { _, err := c.Payments.Get(ctx, "gqzdy6chjne9"); return err }},
		{"a list for a payment", `[{"payment_id":"gqzdy6chjne9"}]`,
			func(c *khipuv3.Client) error { _, err := c.Payments.Get(ctx, "gqzdy6chjne9"); return err }},
		{"a string for a payment", `"gqzdy6chjne9"`,
			func(c *khipuv3.Client) error { _, err := c.Payments.Create(ctx, minimalPayment()); return err }},
		{"truncated", `{"payment_id":"gqzdy6chjne9","amount":10`,
			func(c *khipuv3.Client) error { _, err := c.Payments.Create(ctx, minimalPayment()); return err }},
		{"null", `null`, func(c *khipuv3.Client) error { _, err := c.Payments.Predict(ctx, predictParams()); return err }},
		{"empty", ``, func(c *khipuv3.Client) error { _, err := c.Payments.Delete(ctx, "gqzdy6chjne9"); return err }},
		{"subscription_id a number", `{"subscription_id":5,"status":"ENABLED"}`,
			func(c *khipuv3.Client) error { _, err := c.Subscriptions.Get(ctx, subscriptionID); return err }},
		{"subscription status a boolean", `{"subscription_id":"13a0f1aa-5e47-4894-aa8b-282dd19593ec","status":true}`,
			func(c *khipuv3.Client) error { _, err := c.Subscriptions.Get(ctx, subscriptionID); return err }},
		{"created subscription_id a list", `{"subscription_id":["x"],"redirect_url":"https://khipu.com/pac-manager/x"}`,
			func(c *khipuv3.Client) error { _, err := c.Subscriptions.Create(ctx, subscriptionParams()); return err }},
		{"charge payment_id an object", `{"payment_id":{"id":"x"}}`,
			func(c *khipuv3.Client) error { _, err := c.Charges.Create(ctx, chargeParams()); return err }},
		{"receiver_id a boolean", `{"receiver_id":true,"secret":"s"}`,
			func(c *khipuv3.Client) error { _, err := c.Receivers.Create(ctx, receiverParams()); return err }},
	}
	// A Go type's name (khipu.Payment, []khipuv3.Bank, wire.String,
	// json.RawMessage) or encoding/json's wording of one.
	goType := regexp.MustCompile(`\b(khipu|khipuv3|wire|json|rest)\.[A-Z]|Go (value|struct)|\bstruct\b|\b(u?int|float)(8|16|32|64)?\b|interface \{|[Uu]nmarshal`)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, c := scripted(t, status(200, tc.body))
			err := tc.call(c)
			var ue *khipu.UnexpectedResponseError
			require.ErrorAs(t, err, &ue)
			assert.Equal(t, 200, ue.StatusCode)
			var ae *khipu.APIError
			require.ErrorAs(t, err, &ae)
			assert.NotRegexp(t, goType, err.Error())
			assert.NotRegexp(t, goType, ae.Message)
		})
	}
}

func TestAStallingKhipuEndsAtTheCallersDeadline(t *testing.T) {
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	arrived := make(chan struct{}, 1)
	f, c := scripted(t, func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-arrived // Khipu has the request; the caller gives up
		cancel()
	}()
	_, err := c.Subscriptions.Get(ctx, subscriptionID)
	require.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, 1, f.count(), "no retry once the caller has given up")
}

// TestAnAnswerIsOneWholeJSONValue: trailing data after the JSON value is
// refused by every endpoint (the models are handed the body directly, and
// each must check all of it), and white space around it is not part of Raw.
func TestAnAnswerIsOneWholeJSONValue(t *testing.T) {
	for _, ep := range endpoints() {
		t.Run(ep.name, func(t *testing.T) {
			body := strings.TrimSpace(string(fixture(t, ep.fixture)))
			for _, trailing := range []string{" x", "{}", ` {"payment_id":"other"}`, "]", "\x00"} {
				_, c := scripted(t, status(200, body+trailing))
				_, err := ep.call(context.Background(), c)
				var ue *khipu.UnexpectedResponseError
				require.ErrorAs(t, err, &ue, "%q after the answer", trailing)
				assert.Contains(t, err.Error(), "malformed JSON")
			}
			_, c := scripted(t, status(200, "\r\n\t "+body+"\n\n"))
			out, err := ep.call(context.Background(), c)
			require.NoError(t, err, "white space around the answer")
			switch v := out.(type) {
			case *khipuv3.PaymentCreated:
				assert.Equal(t, body, string(v.Raw))
			case *khipuv3.Payment:
				assert.Equal(t, body, string(v.Raw))
			}
			ep.check(t, out)
		})
	}
}

func TestAnErrorListOfAnotherShapeKeepsKhipusMessage(t *testing.T) {
	// v3's error body is undocumented: a list that is not v2's must not
	// turn Khipu's 400 into an unexpected answer.
	for _, body := range []string{
		`{"message":"Invalid request","errors":["amount is required"]}`,
		`{"message":"Invalid request","errors":{"amount":"is required"}}`,
		`{"message":"Invalid request","errors":null}`,
	} {
		f, c := setup(t)
		f.on("POST /v3/payments", 400, []byte(body))
		_, err := c.Payments.Create(context.Background(), &khipuv3.PaymentCreateParams{Subject: "x", Currency: "CLP", Amount: khipu.NewAmount(1000)})
		var ve *khipu.ValidationError
		require.ErrorAs(t, err, &ve, body)
		assert.Equal(t, "Invalid request", ve.Message, body)
		assert.Empty(t, ve.Errors, body)
	}
}
