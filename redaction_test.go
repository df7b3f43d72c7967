package khipu_test

// No value of the package prints a secret, and the debug log holds neither
// secrets nor what identifies a payer or a notification.

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/khipu-go/khipu"
)

const (
	ownSecret = "s3cr3t-DO-NOT-PRINT-9f8e7d" // the client's
	newSecret = "n3w-acc0unt-S3CRET-c4b5a6"  // a created receiver's
)

// assertNeverPrinted formats v with every verb and checks that secret, in
// clear or in hex, is in none of them.
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

func TestNoValuePrintsASecret(t *testing.T) {
	mux, _, base := setup(t)
	var logged bytes.Buffer // every call below is also logged at debug level
	logger := slog.New(slog.NewJSONHandler(&logged, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c, err := khipu.NewClient(testReceiverID, ownSecret, khipu.WithBaseURL(base), khipu.WithRetry(khipu.RetryPolicy{MaxRetries: 0}), khipu.WithLogger(logger))
	require.NoError(t, err)
	var answer sync.Map // path → func(w)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		f, _ := answer.Load(r.URL.Path)
		f.(func(http.ResponseWriter))(w)
	})
	on := func(path string, code int, body string) {
		answer.Store("/api/2.0"+path, func(w http.ResponseWriter) { respond(w, code, []byte(body)) })
	}
	values := map[string]any{"*Client": c, "Client": *c}

	// A created receiver, and two malformed answers that carry its secret.
	on("/receivers", 200, `{"receiver_id": 4242, "secret": "`+newSecret+`"}`)
	rc, err := c.Receivers.Create(context.Background(), receiverParams())
	require.NoError(t, err)
	require.Equal(t, newSecret, rc.Secret)
	values["*ReceiverCreated"], values["ReceiverCreated"] = rc, *rc
	values["[]ReceiverCreated"] = []khipu.ReceiverCreated{*rc}
	for name, body := range map[string]string{
		"truncated": `{"receiver_id": 4242, "secret": "` + newSecret,
		"bad id":    `{"receiver_id": true, "secret": "` + newSecret + `"}`,
		"oversized": `{"receiver_id": 4242, "secret": "` + newSecret + `", "pad": "` + strings.Repeat("x", 2<<20) + `"}`,
	} {
		on("/receivers", 200, body)
		_, err := c.Receivers.Create(context.Background(), receiverParams())
		var ue *khipu.UnexpectedResponseError
		require.ErrorAs(t, err, &ue)
		values["UnexpectedResponseError with a secret: "+name] = err
	}

	// Every other error a call can end with.
	for name, answer := range map[string][2]string{
		"ValidationError":         {"400", `{"status":400,"message":"bad","errors":[{"field":"amount","message":"x"}]}`},
		"AuthorizationError":      {"403", `{"status":403,"message":"no"}`},
		"ServiceError":            {"503", `{"status":503,"message":"down"}`},
		"UnexpectedResponseError": {"502", `<html>bad gateway</html>`},
	} {
		code := 0
		_, _ = fmt.Sscan(answer[0], &code)
		on("/banks", code, answer[1])
		_, err := c.Banks.List(context.Background())
		require.Error(t, err)
		values[name] = err
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = c.Banks.List(ctx)
	require.ErrorIs(t, err, context.Canceled)
	values["context error"] = err
	_, err = closedPortClient(t, ownSecret).Banks.List(context.Background())
	require.Error(t, err)
	values["transport error"] = err
	_, err = c.Payments.Get(context.Background(), "../x")
	values["ParamError"] = err
	_, err = khipu.ParseAmount("1,5")
	values["AmountError"] = err
	values["MismatchError"] = (&khipu.Payment{Status: khipu.StatusDone, TransactionID: "a", Amount: khipu.NewAmount(1), Currency: "CLP"}).Check("b", khipu.NewAmount(2), "USD")

	// Credentials NewClient refuses: the secret is never echoed, not even
	// when it was passed as the receiver id.
	for name, creds := range map[string][2]string{
		"swapped":           {ownSecret, testReceiverID},
		"secret with a \\n": {testReceiverID, ownSecret + "\n"},
	} {
		_, err := khipu.NewClient(creds[0], creds[1])
		var pe *khipu.ParamError
		require.ErrorAs(t, err, &pe, name)
		values["NewClient "+name] = err
	}

	for name, v := range values {
		assertNeverPrinted(t, name, v, ownSecret, newSecret)
	}
	require.Contains(t, logged.String(), "/receivers", "the calls were logged")
	assert.NotContains(t, logged.String(), newSecret, "no log record quotes a body that held the secret")
	assert.NotContains(t, logged.String(), ownSecret)
	// The printed forms still say what they are.
	assert.Contains(t, fmt.Sprint(c), "receiverID: "+testReceiverID)
	assert.Contains(t, fmt.Sprintf("%+v", rc), `ReceiverID: "4242"`)
	assert.Contains(t, fmt.Sprint(values["UnexpectedResponseError with a secret: truncated"]), "redacted")
}

// closedPortClient returns a client whose requests find nothing listening.
func closedPortClient(t *testing.T, secret string, opts ...khipu.Option) *khipu.Client {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	all := append([]khipu.Option{khipu.WithBaseURL("http://" + addr + "/api/2.0"), khipu.WithRetry(khipu.RetryPolicy{MaxRetries: 0})}, opts...)
	c, err := khipu.NewClient(testReceiverID, secret, all...)
	require.NoError(t, err)
	return c
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
}

func records(t *testing.T, buf *bytes.Buffer) []logRecord {
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

func TestTheLogHasOneRecordPerAttemptAndNoSecrets(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	mux, _, base := setup(t)
	c, err := khipu.NewClient(testReceiverID, ownSecret, khipu.WithBaseURL(base), khipu.WithLogger(logger),
		khipu.WithRetry(khipu.RetryPolicy{MaxRetries: 2, MinBackoff: time.Millisecond, MaxBackoff: time.Millisecond}))
	require.NoError(t, err)

	const token = "tok-9dec8aa176c5223026919b3b5579a477"
	const email = "payer@example.com"
	var (
		mu    sync.Mutex
		auths []string
	)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		auths = append(auths, r.Header.Get("Authorization"))
		mu.Unlock()
		switch r.URL.Path {
		case "/api/2.0/banks":
			respond(w, 200, fixture(t, "banks.json"))
		case "/api/2.0/payments":
			if r.Method == http.MethodGet {
				respond(w, 503, []byte(`{"status":503,"message":"Servicio no disponible"}`))
				return
			}
			respond(w, 400, []byte(`{"status":400,"message":"Parámetros inválidos","errors":[{"field":"payer_email","message":"`+email+` no es válido"}]}`))
		case "/api/2.0/receivers":
			respond(w, 200, []byte(`{"receiver_id": 4242, "secret": "`+newSecret+`"}`))
		default:
			respond(w, 403, []byte(`{"status":403,"message":"no autorizado"}`))
		}
	})

	ctx := context.Background()
	_, err = c.Banks.List(ctx)
	require.NoError(t, err)
	_, err = c.Payments.GetByNotificationToken(ctx, token)
	require.Error(t, err)
	_, err = c.Payments.Create(ctx, &khipu.PaymentCreateParams{Subject: "x", Currency: "CLP", Amount: khipu.NewAmount(1),
		SendEmail: true, PayerName: "Ana", PayerEmail: email})
	require.Error(t, err)
	_, err = c.Receivers.Create(ctx, receiverParams())
	require.NoError(t, err)
	_, err = c.PaymentMethods.List(ctx, "999")
	require.Error(t, err)

	got := records(t, &buf)
	type key struct {
		method, path    string
		attempt, status int
		khipuMessage    string
	}
	var keys []key
	for _, r := range got {
		assert.Equal(t, "DEBUG", r.Level)
		assert.Equal(t, "khipu request", r.Msg)
		assert.Positive(t, r.Duration)
		keys = append(keys, key{r.Method, r.Path, r.Attempt, r.Status, r.KhipuMessage})
	}
	assert.Equal(t, []key{
		{"GET", "/banks", 1, 200, ""},
		{"GET", "/payments", 1, 503, "Servicio no disponible"},
		{"GET", "/payments", 2, 503, "Servicio no disponible"},
		{"GET", "/payments", 3, 503, "Servicio no disponible"},
		{"POST", "/payments", 1, 400, "Parámetros inválidos"},
		{"POST", "/receivers", 1, 200, ""},
		{"GET", "/merchants/999/paymentMethods", 1, 403, "no autorizado"},
	}, keys)

	// A transport failure is logged with its cause, without the URL.
	tbuf := new(bytes.Buffer)
	tc := closedPortClient(t, ownSecret, khipu.WithLogger(slog.New(slog.NewJSONHandler(tbuf, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	_, err = tc.Payments.GetByNotificationToken(ctx, token)
	require.Error(t, err)
	trecs := records(t, tbuf)
	require.Len(t, trecs, 1)
	assert.Equal(t, 0, trecs[0].Status)
	assert.Contains(t, trecs[0].Error, "connect")
	assert.NotContains(t, err.Error(), token, "nor does the error carry the token in the URL")

	log := buf.String() + tbuf.String()
	require.NotEmpty(t, auths)
	for _, secret := range append([]string{ownSecret, newSecret, token, email}, auths...) {
		assert.NotContains(t, log, secret)
	}
	assert.NotContains(t, log, strings.SplitN(auths[0], ":", 2)[1], "no part of a signature")
}

func TestNoLogBelowDebugOrWithoutALogger(t *testing.T) {
	var buf bytes.Buffer
	info := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo}))
	for _, opt := range []khipu.Option{khipu.WithLogger(info), khipu.WithLogger(nil)} {
		mux, c, base := setup(t, opt)
		serve(t, mux, base, 503, "application/json", fixture(t, "error-503.json"))
		_, err := c.Banks.List(context.Background())
		var se *khipu.ServiceError
		require.True(t, errors.As(err, &se))
	}
	assert.Empty(t, buf.String(), "an Info logger gets no debug records")
}

func TestSlogNeverShowsACreatedReceiversSecret(t *testing.T) {
	rc := khipu.ReceiverCreated{ReceiverID: "4242", Secret: newSecret}
	for name, h := range map[string]func(w io.Writer) slog.Handler{
		"JSON": func(w io.Writer) slog.Handler { return slog.NewJSONHandler(w, nil) },
		"text": func(w io.Writer) slog.Handler { return slog.NewTextHandler(w, nil) },
	} {
		var buf bytes.Buffer
		logger := slog.New(h(&buf))
		logger.Info("created", "receiver", rc, "ptr", &rc)
		assert.NotContains(t, buf.String(), newSecret, name)
		assert.Contains(t, buf.String(), "4242", "%s: the id is still logged", name)
	}
}

func TestNoPrinterShowsTheSecretOfAClientValue(t *testing.T) {
	// A Client value (not a pointer: its String and Format are *Client's)
	// printed with any verb, as a careless log line or a test's diff would.
	c, err := khipu.NewClient(testReceiverID, ownSecret)
	require.NoError(t, err)
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X"} {
		out := fmt.Sprintf(verb, *c)
		assert.NotContains(t, out, ownSecret, verb)
		assert.NotContains(t, strings.ToLower(out), fmt.Sprintf("%x", ownSecret), verb)
		assert.NotContains(t, out, fmt.Sprint([]byte(ownSecret)), verb)
	}
}
