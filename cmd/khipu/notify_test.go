package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/khipu-go/khipu"
	"github.com/khipu-go/khipu/khipuv3"
)

// vector is one of the repository's webhook vectors
// (testdata/webhook-vectors.json, a copy of the specification's), the first
// of which is Khipu's documented example.
type vector struct{ Name, Secret, T, Body, Header, Signature string }

func loadVectors(t *testing.T) []vector {
	t.Helper()
	raw, err := os.ReadFile("../../testdata/webhook-vectors.json")
	require.NoError(t, err)
	var file struct{ Vectors []vector }
	require.NoError(t, json.Unmarshal(raw, &file))
	require.Len(t, file.Vectors, 2)
	require.Equal(t, "khipu-doc-example", file.Vectors[0].Name)
	return file.Vectors
}

func TestNotifySignGivesTheVectorsSignatures(t *testing.T) {
	for _, v := range loadVectors(t) {
		out := ok(t, map[string]string{"KHIPU_SECRET": v.Secret}, v.Body, "notify", "sign", "-t", v.T)
		assert.Equal(t, "t="+v.T+",s="+v.Signature+"\n", out, v.Name)
		assert.NotContains(t, out, v.Secret)

		// -secret wins over KHIPU_SECRET. KHIPU_WEBHOOK_SECRET, an old
		// name of the examples', is not read: the secret is the
		// account's, KHIPU_SECRET, for both API versions.
		assert.Equal(t, out, ok(t, map[string]string{"KHIPU_SECRET": "wrong-secret"}, v.Body, "notify", "sign", "-secret", v.Secret, "-t", v.T), v.Name)
		assert.Equal(t, out, ok(t, map[string]string{"KHIPU_SECRET": v.Secret, "KHIPU_WEBHOOK_SECRET": "wrong-secret"}, v.Body, "notify", "sign", "-t", v.T), v.Name)
		r := khipuCmd(t, map[string]string{"KHIPU_WEBHOOK_SECRET": v.Secret}, v.Body, "notify", "sign", "-t", v.T)
		assert.Equal(t, exitUsage, r.code, v.Name)
		assert.Contains(t, r.stderr, "set KHIPU_SECRET (or -secret)", v.Name)
	}
	// The body is signed exactly as read: echo's newline changes it.
	v := loadVectors(t)[0]
	assert.NotEqual(t, "t="+v.T+",s="+v.Signature+"\n", ok(t, map[string]string{"KHIPU_SECRET": v.Secret}, v.Body+"\n", "notify", "sign", "-t", v.T))

	// Without -t, now.
	before := time.Now().UnixMilli()
	out := ok(t, map[string]string{"KHIPU_SECRET": v.Secret}, v.Body, "notify", "sign")
	ms, _ := headerMillis(strings.TrimSpace(out))
	assert.GreaterOrEqual(t, ms, before)
	assert.NoError(t, khipuv3.VerifySignature(v.Secret, strings.TrimSpace(out), []byte(v.Body), time.Now(), time.Minute))
}

func TestNotifyVerifySaysWhyASignatureFails(t *testing.T) {
	vectors := loadVectors(t)
	for _, v := range vectors {
		out := ok(t, map[string]string{"KHIPU_SECRET": v.Secret}, v.Body, "notify", "verify", "-header", v.Header, "-now", v.T)
		assert.Regexp(t, `^signature: +valid\nsigned_at: +\S+ \(t=`+v.T+`\)\npayment_id: `, out, v.Name)
	}
	v := vectors[0]
	golden(t, "notify-verify-valid.txt", ok(t, map[string]string{"KHIPU_SECRET": v.Secret}, v.Body, "notify", "verify", "-header", v.Header, "-now", v.T))

	ms, err := strconv.ParseInt(v.T, 10, 64)
	require.NoError(t, err)
	later := func(d time.Duration) string { return strconv.FormatInt(ms+d.Milliseconds(), 10) }
	environ := map[string]string{"KHIPU_SECRET": v.Secret}
	for _, c := range []struct {
		name, body, kind string
		args             []string
		environ          map[string]string
	}{
		{"no header", v.Body, "missing", []string{"-now", v.T}, environ},
		{"no s", v.Body, "malformed", []string{"-header", "t=" + v.T, "-now", v.T}, environ},
		{"t not a number", v.Body, "malformed", []string{"-header", "t=1e12,s=" + v.Signature, "-now", v.T}, environ},
		{"73 hours later", v.Body, "expired", []string{"-header", v.Header, "-now", later(73 * time.Hour)}, environ},
		{"a tolerance of 5 minutes, 6 minutes later", v.Body, "expired", []string{"-header", v.Header, "-now", later(6 * time.Minute), "-tolerance", "5m"}, environ},
		{"echo's newline", v.Body + "\n", "mismatch", []string{"-header", v.Header, "-now", v.T}, environ},
		{"slashes unescaped", strings.ReplaceAll(v.Body, `\/`, `/`), "mismatch", []string{"-header", v.Header, "-now", v.T}, environ},
		{"another secret", v.Body, "mismatch", []string{"-header", v.Header, "-now", v.T}, map[string]string{"KHIPU_SECRET": testSecret}},
	} {
		r := khipuCmd(t, c.environ, c.body, append([]string{"notify", "verify"}, c.args...)...)
		assert.Equal(t, exitFailed, r.code, c.name)
		assert.Empty(t, r.stderr, c.name)
		assert.Regexp(t, `^signature: +refused: `+c.kind+`\nerror: +khipuv3: invalid notification signature: .+\nwhy: +.+\n$`, r.stdout, c.name)
	}
	r := khipuCmd(t, environ, v.Body+"\n", "notify", "verify", "-header", v.Header, "-now", v.T)
	golden(t, "notify-verify-mismatch.txt", r.stdout)

	// A valid signature of something that is not a notification: refused
	// as khipuv3 refuses it, with its words.
	for body, want := range map[string]string{
		"[1]":                 "khipu: invalid notification: body is not a JSON object",
		`{"amount":"1.0000"}`: "khipu: invalid notification: body is not a notification 3.0: ",
	} {
		header := strings.TrimSpace(ok(t, environ, body, "notify", "sign"))
		r = khipuCmd(t, environ, body, "notify", "verify", "-header", header)
		assert.Equal(t, exitFailed, r.code, body)
		assert.Empty(t, r.stderr, body)
		assert.Regexp(t, `^signature: +valid\nsigned_at: .*\nbody: +refused: `+regexp.QuoteMeta(want), r.stdout, body)
	}
}

// -tolerance is the only bound on the signature's time, even where it is
// longer than khipuv3.DefaultTolerance, which VerifyNotification uses: a
// notification signed 73 hours before -now is decoded with -tolerance 100h.
func TestNotifyVerifyTakesAnyTolerance(t *testing.T) {
	v := loadVectors(t)[0]
	ms, err := strconv.ParseInt(v.T, 10, 64)
	require.NoError(t, err)
	environ := map[string]string{"KHIPU_SECRET": v.Secret}
	for _, later := range []time.Duration{-99 * time.Hour, 73 * time.Hour, 99 * time.Hour} {
		now := strconv.FormatInt(ms+later.Milliseconds(), 10)
		out := ok(t, environ, v.Body, "notify", "verify", "-header", v.Header, "-now", now, "-tolerance", "100h")
		assert.Regexp(t, `^signature: +valid\nsigned_at: +\S+ \(t=`+v.T+`\)\npayment_id: +\S+\n`, out, later)
		assert.Equal(t, ok(t, environ, v.Body, "notify", "verify", "-header", v.Header, "-now", v.T), out, "the same as at the signature's time")

		r := khipuCmd(t, environ, v.Body, "notify", "verify", "-header", v.Header, "-now", now)
		assert.Equal(t, exitFailed, r.code, "beyond the default tolerance (%v)", later)
		assert.Regexp(t, `^signature: +refused: expired\n`, r.stdout)
	}
}

// shop is a notification endpoint built with khipuv3.NotificationHandler,
// as a Go shop's is; it keeps every notification it took.
type shop struct {
	*httptest.Server
	mu   sync.Mutex
	got  []*khipuv3.Notification
	logs strings.Builder
}

func newShop(t *testing.T, secret string) *shop {
	t.Helper()
	s := &shop{}
	logger := slog.New(slog.NewTextHandler(&lockedWriter{mu: &s.mu, w: &s.logs}, nil))
	s.Server = httptest.NewServer(khipuv3.NotificationHandler(secret, func(ctx context.Context, n *khipuv3.Notification) error {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.got = append(s.got, n)
		return nil
	}, khipuv3.WithHandlerLogger(logger)))
	t.Cleanup(s.Close)
	return s
}

func (s *shop) notifications() []*khipuv3.Notification {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*khipuv3.Notification(nil), s.got...)
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

var signedAtRE = regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z \(t=\d+\)`)

// sendNames replaces what changes from one notify send to the next.
func sendNames(s *shop, out string) string {
	out = (&normalizer{}).replace(s.URL, "http://shop").apply(out)
	return signedAtRE.ReplaceAllString(out, "TIME (t=MILLIS)")
}

func TestNotifySendIsAcceptedByKhipuv3sHandler(t *testing.T) {
	s := newShop(t, testSecret)
	environ := map[string]string{"KHIPU_SECRET": testSecret, "KHIPU_RECEIVER_ID": testReceiverID}
	before := time.Now()
	out := ok(t, environ, "", "notify", "send", "-to", s.URL+"/khipu/notify", "-payment-id", "zfxnocsow6mz", "-amount", "12990", "-transaction-id", "order-1")
	golden(t, "notify-send-accepted.txt", sendNames(s, out))

	got := s.notifications()
	require.Len(t, got, 1)
	n := got[0]
	assert.NoError(t, n.Check("order-1", khipu.NewAmount(12990), "CLP"), "the notification pays the order")
	assert.Equal(t, "zfxnocsow6mz", n.PaymentID)
	assert.Equal(t, testReceiverID, n.ReceiverID)
	assert.Equal(t, "Notificación de prueba", n.Subject)
	assert.Equal(t, khipu.PaymentMethodSimplifiedTransfer, n.PaymentMethod)
	assert.WithinRange(t, n.ConciliationDate, before.Add(-time.Second), time.Now().Add(time.Second))
	// Khipu's wire format: string amounts with four decimals, a numeric
	// receiver_id, \/ and \u escapes, Khipu's field order.
	raw := string(n.Raw)
	assert.Contains(t, raw, `"receiver_id":12345,`)
	assert.Contains(t, raw, `"amount":"12990.0000","discount":"0.0000","currency":"CLP"`)
	assert.Contains(t, raw, `"subject":"Notificaci\u00f3n de prueba"`)
	assert.Contains(t, raw, `"receipt_url":"https:\/\/s3.amazonaws.com\/notifications.khipu.com\/CPKH-`)
	assert.True(t, strings.HasPrefix(raw, `{"payment_id":"zfxnocsow6mz","receiver_id":`), raw)

	// -v shows the header and body sent, which verify.
	out = ok(t, environ, "", "notify", "send", "-v", "-to", s.URL, "-payment-id", "zfxnocsow6mz")
	header := regexp.MustCompile(`\nx-khipu-signature: +(\S+)\n`).FindStringSubmatch(out)
	body := regexp.MustCompile(`\nbody: +(\{.*\})\n`).FindStringSubmatch(out)
	require.NotNil(t, header, out)
	require.NotNil(t, body, out)
	assert.Equal(t, string(s.notifications()[1].Raw), body[1])
	ok(t, environ, body[1], "notify", "verify", "-header", header[1])
}

func TestNotifySendShowsWhyAnEndpointRefuses(t *testing.T) {
	s := newShop(t, testSecret)
	environ := map[string]string{"KHIPU_SECRET": testSecret}

	// Signed with another secret than the shop's: refused, exit 1, and
	// the shop's answer says why.
	r := khipuCmd(t, map[string]string{"KHIPU_SECRET": "another-secret-of-another-account"}, "", "notify", "send", "-to", s.URL, "-payment-id", "abcdefghijkl")
	assert.Equal(t, exitFailed, r.code)
	assert.Empty(t, r.stderr, "the explanation is the output")
	golden(t, "notify-send-other-secret.txt", sendNames(s, r.stdout))
	assert.Regexp(t, `\nanswer_body: +khipuv3: invalid notification signature: no signature matches the body\n`, r.stdout)

	// -bad-signature and -stale: refused by the shop, as they should be,
	// so exit status 0.
	out := ok(t, environ, "", "notify", "send", "-bad-signature", "-to", s.URL, "-payment-id", "abcdefghijkl")
	golden(t, "notify-send-bad-signature.txt", sendNames(s, out))
	out = ok(t, environ, "", "notify", "send", "-stale", "-to", s.URL, "-payment-id", "abcdefghijkl")
	golden(t, "notify-send-stale.txt", sendNames(s, out))
	assert.Contains(t, out, "timestamp outside the tolerance: signed 96h0m0s ago, tolerance 72h0m0s")
	assert.Empty(t, s.notifications(), "the shop took none of them")

	// -replay: the same bytes twice, both accepted, as khipuv3's handler
	// must (Khipu sends a notification again after an answer it missed).
	out = ok(t, environ, "", "notify", "send", "-replay", "-to", s.URL, "-payment-id", "abcdefghijkl")
	golden(t, "notify-send-replay.txt", sendNames(s, out))
	got := s.notifications()
	require.Len(t, got, 2)
	assert.Equal(t, string(got[0].Raw), string(got[1].Raw), "the same bytes")
}

// An endpoint that does not verify, or answers the wrong way, is shown for
// what it is, with exit status 1.
func TestNotifySendFailsOnABadEndpoint(t *testing.T) {
	var status int
	var mu sync.Mutex
	endpoint := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if status == http.StatusFound {
			http.Redirect(w, r, "/elsewhere", status)
			return
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, "\x1b[31mred\nline two")
	}))
	t.Cleanup(endpoint.Close)
	environ := map[string]string{"KHIPU_SECRET": testSecret}
	for _, c := range []struct {
		status int
		flag   string
		want   string
	}{
		{200, "-bad-signature", "ACCEPTED a notification signed with a wrong secret"},
		{200, "-stale", "ACCEPTED a notification signed 96h0m0s ago"},
		{500, "-stale", "refuse it with a 4xx"},
		{500, "-v", "not accepted: Khipu would send the notification again later"},
		{200, "-replay", "accepted twice"},
		{302, "-v", "Khipu does not follow redirects"},
	} {
		mu.Lock()
		status = c.status
		mu.Unlock()
		r := khipuCmd(t, environ, "", "notify", "send", c.flag, "-to", endpoint.URL)
		wantCode := exitFailed
		if c.flag == "-replay" {
			wantCode = exitOK
		}
		assert.Equal(t, wantCode, r.code, "%d %s: %s", c.status, c.flag, r.stdout)
		assert.Regexp(t, `\nresult: +.*`+regexp.QuoteMeta(c.want), r.stdout, "%d %s", c.status, c.flag)
		assert.NotContains(t, r.stdout, "\x1b", "the endpoint's answer cannot drive the terminal")
		if c.status != 302 {
			assert.Regexp(t, `\n(replay_)?answer_body: +\\x1b\[31mred line two\n`, r.stdout)
		}
	}

	endpoint.Close()
	r := khipuCmd(t, environ, "", "notify", "send", "-to", endpoint.URL)
	assert.Equal(t, exitFailed, r.code)
	assert.Contains(t, r.stderr, "khipu: POST "+endpoint.URL+": ")
}

// notify send -payment sends the payment as Khipu would: byte for byte
// the body khiputest (which writes Khipu's format) sends for it.
func TestNotifySendOfAPaymentIsWhatKhipuSends(t *testing.T) {
	var mu sync.Mutex
	var bodies []string
	endpoint := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies = append(bodies, string(b))
		mu.Unlock()
	}))
	t.Cleanup(endpoint.Close)
	srv := newKhipu(t)
	created, err := v3Client(t, srv).Payments.Create(context.Background(), &khipuv3.PaymentCreateParams{
		Subject: "Café / té", Currency: "CLP", Amount: khipu.NewAmount(12990), TransactionID: "order-9", NotifyURL: endpoint.URL,
	})
	require.NoError(t, err)

	// Not paid yet: sent as if paid, and said so.
	out := ok(t, env(srv), "", "notify", "send", "-payment", created.PaymentID, "-to", endpoint.URL)
	assert.Regexp(t, `\nnote: +payment `+created.PaymentID+` is pending at Khipu, which notifies only payments that are done`, out)

	require.NoError(t, srv.Pay(created.PaymentID)) // khiputest notifies it
	for _, api := range []string{"v3", "v2"} {
		out = ok(t, env(srv), "", "notify", "send", "-api", api, "-payment", created.PaymentID, "-to", endpoint.URL)
		assert.NotContains(t, out, "note:")
	}
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, bodies, 4)
	assert.Contains(t, bodies[1], `"subject":"Caf\u00e9 \/ t\u00e9"`)
	assert.Equal(t, bodies[1], bodies[2], "notify send -payment sends what khiputest sent")
	assert.Equal(t, bodies[1], bodies[3], "with either API")

	r := khipuCmd(t, env(srv), "", "notify", "send", "-payment", "nosuchpayment", "-to", endpoint.URL)
	assert.Equal(t, exitFailed, r.code)
	assert.Contains(t, r.stderr, "(HTTP 404)")
}
