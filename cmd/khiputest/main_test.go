package main

// The program is tested as a PHP or Python shop's tests would use it: built,
// started as a process of its own, and driven only over HTTP, with v2
// requests signed by hand from Khipu's specification (not with this
// module's signer) and v3 requests carrying x-api-key. A fake shop receives
// the notifications.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// binary is the program, built once for every test.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "khiputest-cmd-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "khiputest")
	if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building the program: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// program is the server running as a process of its own.
type program struct {
	cmd    *exec.Cmd
	banner map[string]string // what it printed: api_v2_url, secret...
	stderr string            // the file its stderr goes to
	exited chan struct{}     // closed once it exited
	err    error             // how it exited, once exited is closed
}

// log is what the program wrote to stderr so far.
func (p *program) log() string {
	b, _ := os.ReadFile(p.stderr)
	return string(b)
}

// start runs the program with args and waits until it has printed its
// URLs and credentials; it is listening by then.
func start(t *testing.T, args ...string) *program {
	t.Helper()
	p := &program{cmd: exec.Command(binary, args...), stderr: filepath.Join(t.TempDir(), "stderr"), exited: make(chan struct{})}
	stderr, err := os.Create(p.stderr)
	require.NoError(t, err)
	defer stderr.Close() // the program has its own copy
	p.cmd.Stderr = stderr
	stdout, err := p.cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, p.cmd.Start())
	ready, drained := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(drained)
		banner := map[string]string{}
		for lines := bufio.NewScanner(stdout); lines.Scan(); {
			name, value, _ := strings.Cut(lines.Text(), ": ")
			if banner == nil || name == "khiputest" {
				continue // its title, or after it
			}
			banner[name] = value
			if name == "control_url" { // its last line
				p.banner, banner = banner, nil
				close(ready)
			}
		}
	}()
	go func() {
		<-drained // Wait closes the pipe: read it all first
		p.err = p.cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		<-p.exited
	})
	select {
	case <-ready:
	case <-p.exited:
		t.Fatalf("the program exited before printing its URLs: %v; stderr: %s", p.err, p.log())
	case <-time.After(10 * time.Second):
		t.Fatalf("the program did not start; stderr: %s", p.log())
	}
	return p
}

// recv receives from ch, or fails the test after 10 s: what a test waits for
// that never comes (a notification, a callback) fails it then, rather than
// hanging it until go test's timeout. Call it from the test's goroutine.
func recv[T any](t testing.TB, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(10 * time.Second):
		t.Fatal("waited 10 s for what never came")
		var zero T
		return zero
	}
}

// stop sends SIGTERM and returns how the program exited.
func (p *program) stop(t *testing.T) error {
	t.Helper()
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
	select {
	case <-p.exited:
		return p.err
	case <-time.After(10 * time.Second):
		t.Fatal("the program did not stop on SIGTERM")
		return nil
	}
}

// khipuEncode is RFC 3986 percent-encoding as Khipu's signature uses it:
// every byte but A-Z a-z 0-9 - _ . ~ as %XX in upper-case hex.
func khipuEncode(s string) string {
	var b strings.Builder
	for _, c := range []byte(s) {
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// signV2 is the Authorization header of a v2 request, from the
// specification: receiver_id ":" hex(HMAC-SHA256(secret, METHOD "&"
// encode(url) then "&" encode(key) "=" encode(value) for each parameter
// sorted by key)).
func signV2(receiverID, secret, method, fullURL string, params map[string]string) string {
	toSign := method + "&" + khipuEncode(fullURL)
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		toSign += "&" + khipuEncode(k) + "=" + khipuEncode(params[k])
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(toSign))
	return receiverID + ":" + hex.EncodeToString(mac.Sum(nil))
}

func TestTheHandWrittenSignerReproducesKhipusVectors(t *testing.T) {
	raw, err := os.ReadFile("../../testdata/signing-vectors.json")
	require.NoError(t, err)
	var file struct {
		Secret     string `json:"secret"`
		ReceiverID string `json:"receiver_id"`
		Vectors    []struct {
			Name, Method, URL, Hash string
			Params                  map[string]string
		}
	}
	require.NoError(t, json.Unmarshal(raw, &file))
	for _, v := range file.Vectors {
		assert.Equal(t, file.ReceiverID+":"+v.Hash, signV2(file.ReceiverID, file.Secret, v.Method, v.URL, v.Params), v.Name)
	}
}

// answer is an HTTP answer: its status and body.
type answer struct {
	status int
	body   []byte
}

func (a answer) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(a.body, &m), "%d %s", a.status, a.body)
	return m
}

func send(t *testing.T, req *http.Request) answer {
	t.Helper()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return answer{resp.StatusCode, body}
}

// v2 sends a v2 request to addr (the program's listening address, "" for
// the URL it names), signed for the URL it names, as a shop does.
func v2(t *testing.T, receiverID, secret, method, fullURL, addr string, params map[string]string) answer {
	t.Helper()
	form := url.Values{}
	for k, v := range params {
		form.Set(k, v)
	}
	target, body := fullURL, ""
	if method == http.MethodPost {
		body = form.Encode()
	} else if len(params) > 0 {
		target += "?" + form.Encode()
	}
	req, err := http.NewRequest(method, target, strings.NewReader(body))
	require.NoError(t, err)
	if addr != "" { // through a tunnel: to addr, for the URL it names
		req.URL.Host, req.URL.Scheme = addr, "http"
	}
	req.Header.Set("Authorization", signV2(receiverID, secret, method, fullURL, params))
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	return send(t, req)
}

// v3 sends a v3 request with the key.
func v3(t *testing.T, key, method, fullURL, body string) answer {
	t.Helper()
	req, err := http.NewRequest(method, fullURL, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("x-api-key", key)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	return send(t, req)
}

// control sends a request to the control API.
func control(t *testing.T, p *program, method, path, body string) answer {
	t.Helper()
	req, err := http.NewRequest(method, strings.TrimSuffix(p.banner["control_url"], "/khiputest/")+path, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	return send(t, req)
}

// notification is what the fake shop received.
type notification struct {
	header http.Header
	body   []byte
}

// fakeShop is a shop's notify_url: it records what it receives and
// answers 200.
func fakeShop(t *testing.T) (string, <-chan notification) {
	t.Helper()
	got := make(chan notification, 8)
	shop := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		assert.NoError(t, err) // the server's goroutine: not require
		got <- notification{r.Header, body}
	}))
	t.Cleanup(shop.Close)
	return shop.URL + "/khipu/notify", got
}

func TestTheProgramServesAShopInAnyLanguage(t *testing.T) {
	const receiverID, secret, apiKey = "12345", "S3cr3t", "K3y"
	p := start(t, "-addr", "127.0.0.1:0", "-receiver-id", receiverID, "-secret", secret, "-api-key", apiKey)
	v2URL, v3URL := p.banner["api_v2_url"], p.banner["api_v3_url"]
	require.Regexp(t, `^http://127\.0\.0\.1:\d+/api/2\.0$`, v2URL)
	assert.Equal(t, strings.TrimSuffix(v2URL, "/api/2.0"), v3URL)
	assert.Equal(t, map[string]string{
		"listen_addr": strings.TrimPrefix(v3URL, "http://"), "api_v2_url": v2URL, "receiver_id": receiverID, "secret": secret, "api_v3_url": v3URL, "api_key": apiKey,
		"payment_pages": v3URL + "/payment/info/{payment_id}", "control_url": v3URL + "/khiputest/",
	}, p.banner)
	notifyURL, notified := fakeShop(t)

	var v2ID, token string
	t.Run("v2: create, pay through the control API, the shop is notified and looks the payment up", func(t *testing.T) {
		a := v2(t, receiverID, secret, http.MethodPost, v2URL+"/payments", "", map[string]string{
			"subject": "Pedido 7 — ñandú", "currency": "CLP", "amount": "12990", "transaction_id": "order-7",
			"notify_url": notifyURL, "notify_api_version": "1.3", "return_url": "https://shop.example/back?x=1&y=a b",
		})
		require.Equal(t, http.StatusOK, a.status, "%s", a.body)
		v2ID = a.json(t)["payment_id"].(string)
		assert.Equal(t, v3URL+"/payment/info/"+v2ID, a.json(t)["payment_url"])

		a = control(t, p, http.MethodPost, "/khiputest/payments/"+v2ID+"/pay", "")
		require.Equal(t, http.StatusOK, a.status, "%s", a.body)
		assert.Equal(t, map[string]any{
			"payment_id": v2ID, "status": "done", "status_detail": "normal", "notify_url": notifyURL, "notify_status": 200.0,
		}, a.json(t))

		n := recv(t, notified)
		form, err := url.ParseQuery(string(n.body))
		require.NoError(t, err)
		assert.Equal(t, "1.3", form.Get("api_version"))
		token = form.Get("notification_token")
		a = v2(t, receiverID, secret, http.MethodGet, v2URL+"/payments", "", map[string]string{"notification_token": token})
		require.Equal(t, http.StatusOK, a.status, "%s", a.body)
		payment := a.json(t)
		assert.Equal(t, v2ID, payment["payment_id"])
		assert.Equal(t, "done", payment["status"])
		assert.Equal(t, "order-7", payment["transaction_id"])
		assert.Equal(t, "Pedido 7 — ñandú", payment["subject"])
	})

	t.Run("a wrong signature is a 403", func(t *testing.T) {
		a := v2(t, receiverID, "wrong", http.MethodGet, v2URL+"/banks", "", nil)
		assert.Equal(t, http.StatusForbidden, a.status)
	})

	t.Run("v3: create, pay, a signed notification 3.0; status and notify again through the control API", func(t *testing.T) {
		a := v3(t, apiKey, http.MethodPost, v3URL+"/v3/payments",
			`{"amount": 5000, "currency": "CLP", "subject": "Pedido 8", "transaction_id": "order-8", "notify_url": "`+notifyURL+`"}`)
		require.Equal(t, http.StatusOK, a.status, "%s", a.body)
		id := a.json(t)["payment_id"].(string)
		assert.Equal(t, http.StatusUnauthorized, v3(t, "wrong", http.MethodGet, v3URL+"/v3/payments/"+id, "").status)

		a = control(t, p, http.MethodPost, "/khiputest/payments/"+id+"/pay", "")
		require.Equal(t, http.StatusOK, a.status, "%s", a.body)
		assert.Equal(t, 200.0, a.json(t)["notify_status"])
		n := recv(t, notified)
		verifyNotification3(t, secret, n)
		assert.Contains(t, string(n.body), `"payment_id":"`+id+`"`)

		a = control(t, p, http.MethodPost, "/khiputest/payments/"+id+"/status", `{"status": "done", "status_detail": "reversed"}`)
		require.Equal(t, http.StatusOK, a.status, "%s", a.body)
		a = v3(t, apiKey, http.MethodGet, v3URL+"/v3/payments/"+id, "")
		assert.Equal(t, "reversed", a.json(t)["status_detail"])

		a = control(t, p, http.MethodPost, "/khiputest/payments/"+id+"/notify", "")
		require.Equal(t, http.StatusOK, a.status, "%s", a.body)
		verifyNotification3(t, secret, recv(t, notified))

		a = control(t, p, http.MethodPost, "/khiputest/payments/"+id+"/status", `{"status": "pending", "status_detail": "reversed"}`)
		assert.Equal(t, http.StatusBadRequest, a.status, "a pair Khipu does not report")
	})

	t.Run("automatic payments: a subscription authorized through the control API", func(t *testing.T) {
		a := v3(t, apiKey, http.MethodPost, v3URL+"/v1/automatic-payment/subscription",
			`{"name": "Plan Hogar", "email": "ana@example.com", "max_amount": 10000, "currency": "CLP",
			  "notify_url": "`+notifyURL+`", "return_url": "https://shop.example/ok", "cancel_url": "https://shop.example/no"}`)
		require.Equal(t, http.StatusOK, a.status, "%s", a.body)
		id := a.json(t)["subscription_id"].(string)

		a = control(t, p, http.MethodPost, "/khiputest/subscriptions/"+id+"/authorize", "")
		require.Equal(t, http.StatusOK, a.status, "%s", a.body)
		assert.Equal(t, map[string]any{"subscription_id": id, "status": "ENABLED", "notify_url": notifyURL}, a.json(t))
		assert.JSONEq(t, `{"subscription_id": "`+id+`", "status": "enabled"}`, string((recv(t, notified).body)))
	})

	t.Run("fail-next makes the next requests to an endpoint fail", func(t *testing.T) {
		a := control(t, p, http.MethodPost, "/khiputest/fail-next", `{"endpoint": "POST /v3/payments", "status": 503, "times": 1}`)
		require.Equal(t, http.StatusOK, a.status, "%s", a.body)
		order := `{"amount": 1000, "currency": "CLP", "subject": "Pedido 9"}`
		assert.Equal(t, http.StatusServiceUnavailable, v3(t, apiKey, http.MethodPost, v3URL+"/v3/payments", order).status)
		assert.Equal(t, http.StatusOK, v3(t, apiKey, http.MethodPost, v3URL+"/v3/payments", order).status)
		a = control(t, p, http.MethodPost, "/khiputest/fail-next", `{"endpoint": "POST /v3/nope", "status": 503}`)
		assert.Equal(t, http.StatusBadRequest, a.status)
	})

	t.Run("the currency is checked against the account: CLP by default", func(t *testing.T) {
		a := v3(t, apiKey, http.MethodPost, v3URL+"/v3/payments", `{"amount": 10, "currency": "USD", "subject": "x"}`)
		assert.Equal(t, http.StatusBadRequest, a.status)
		assert.Contains(t, string(a.body), "does not collect in USD")
	})

	t.Run("the payment page pays and sends the payer back", func(t *testing.T) {
		a := v2(t, receiverID, secret, http.MethodPost, v2URL+"/payments", "", map[string]string{
			"subject": "Pedido 10", "currency": "CLP", "amount": "1000", "return_url": "https://shop.example/back",
		})
		require.Equal(t, http.StatusOK, a.status, "%s", a.body)
		pageURL := a.json(t)["payment_url"].(string)
		page, err := http.NewRequest(http.MethodGet, pageURL, nil)
		require.NoError(t, err)
		assert.Contains(t, string(send(t, page).body), "Pay with DemoBank")
		pay, err := http.NewRequest(http.MethodPost, pageURL, nil)
		require.NoError(t, err)
		assert.Equal(t, http.StatusSeeOther, send(t, pay).status)
	})

	t.Run("the requests received are listed", func(t *testing.T) {
		a := control(t, p, http.MethodGet, "/khiputest/requests", "")
		require.Equal(t, http.StatusOK, a.status)
		var list []struct {
			Method, Path, Endpoint, Body string
			Status                       int
		}
		require.NoError(t, json.Unmarshal(a.body, &list))
		var seen []string
		for _, r := range list {
			seen = append(seen, fmt.Sprintf("%s %d", r.Endpoint, r.Status))
		}
		assert.Equal(t, []string{
			"POST /payments 200", "GET /payments 200", "GET /banks 403",
			"POST /v3/payments 200", "GET /v3/payments/{id} 401", "GET /v3/payments/{id} 200",
			"POST /v1/automatic-payment/subscription 200", "POST /v3/payments 503", "POST /v3/payments 200", "POST /v3/payments 400", "POST /payments 200",
		}, seen)
		assert.Contains(t, list[0].Body, "notify_api_version=1.3")
	})

	t.Run("SIGTERM stops it cleanly, after one log line per request", func(t *testing.T) {
		require.NoError(t, p.stop(t), "exit code 0")
		log := p.log()
		assert.Contains(t, log, "khiputest: stopped")
		for _, line := range []string{
			`POST /api/2\.0/payments 200 `, `POST /khiputest/payments/\w+/pay 200 `, `GET /api/2\.0/banks 403 `,
			`POST /v3/payments 503 `, `GET /khiputest/requests 200 `, `POST /payment/info/\w+ 303 `,
			`POST /khiputest/subscriptions/[\w-]+/authorize 200 `,
		} {
			assert.Regexp(t, regexp.MustCompile(`(?m)^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d\.\d+ `+line+`\S+$`), log)
		}
		assert.Len(t, regexp.MustCompile(`(?m)^\d{4}/.* \d{3} \S+$`).FindAllString(log, -1), 22, "one line per request:\n%s", log)
		assert.NotContains(t, log, secret)
		assert.NotContains(t, log, apiKey)
	})
}

// verifyNotification3 checks a notification 3.0's signature as the
// specification says: x-khipu-signature: t=<ms>,s=<base64 HMAC-SHA256 of
// t "." body>, under the account's secret.
func verifyNotification3(t *testing.T, secret string, n notification) {
	t.Helper()
	parts := map[string]string{}
	for _, part := range strings.Split(n.header.Get("x-khipu-signature"), ",") {
		k, v, _ := strings.Cut(part, "=")
		parts[k] = v
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(parts["t"] + "."))
	mac.Write(n.body)
	assert.Equal(t, base64.StdEncoding.EncodeToString(mac.Sum(nil)), parts["s"], "signed with the account's secret")
	assert.Equal(t, "application/json", n.header.Get("Content-Type"))
}

func TestThePublicURLAndRandomCredentials(t *testing.T) {
	const public = "https://khipu.example.test" // a tunnel in front of the program
	p := start(t, "-addr", "127.0.0.1:0", "-public-url", public)
	assert.Equal(t, public+"/api/2.0", p.banner["api_v2_url"], "URLs point at the public URL")
	assert.Equal(t, public+"/khiputest/", p.banner["control_url"])
	receiverID, secret, apiKey := p.banner["receiver_id"], p.banner["secret"], p.banner["api_key"]
	assert.Regexp(t, `^\d{6}$`, receiverID, "random credentials when the flags are absent")
	assert.Regexp(t, `^[0-9a-f]{40}$`, secret)
	assert.GreaterOrEqual(t, len(apiKey), 32)
	addr := p.banner["listen_addr"]

	// Through the tunnel: requests go to the program's address, signed for
	// the public URL, as a shop behind the tunnel signs them.
	a := v2(t, receiverID, secret, http.MethodPost, public+"/api/2.0/payments", addr, map[string]string{
		"subject": "x", "currency": "CLP", "amount": "1000",
	})
	require.Equal(t, http.StatusOK, a.status, "%s", a.body)
	assert.True(t, strings.HasPrefix(a.json(t)["payment_url"].(string), public+"/payment/info/"), "payment URLs point there")

	a = v2(t, receiverID, secret, http.MethodGet, "http://"+addr+"/api/2.0/banks", "", nil)
	assert.Equal(t, http.StatusForbidden, a.status, "signed for the program's own address: refused, as Khipu checks its own")

	req, err := http.NewRequest(http.MethodGet, "http://"+addr+"/v3/banks", nil)
	require.NoError(t, err)
	req.Header.Set("x-api-key", apiKey)
	assert.Equal(t, http.StatusOK, send(t, req).status)

	require.NoError(t, p.cmd.Process.Signal(os.Interrupt))
	recv(t, p.exited)
	assert.NoError(t, p.err, "SIGINT stops it cleanly too")
}

func TestBadFlagsExitWith2(t *testing.T) {
	for _, tt := range []struct {
		args []string
		says string // what stderr says, after "khiputest: "
	}{
		{[]string{"-public-url", "ftp://khipu.test"}, `-public-url: "ftp://khipu.test" is not an http or https URL with a host and no path, query or fragment`},
		{[]string{"-currencies", "usd"}, `-currencies: "usd" is not a currency code Khipu collects in (CLP, CLF, ARS, PEN, MXN, USD, EUR, BOB, COP)`},
		{[]string{"-currencies", "CLP,clp"}, `-currencies: "clp" is not a currency code Khipu collects in (CLP, CLF, ARS, PEN, MXN, USD, EUR, BOB, COP)`},
		{[]string{"-api-key", " "}, "-api-key: the key is empty"},
		{[]string{"-api-key", "my key"}, "-api-key: the key has a space or a control character, which Khipu's clients refuse to send"},
		{[]string{"-max-requests", "0"}, "-max-requests: 0; want at least 1"},
		{[]string{"-receiver-id", "abc"}, "-receiver-id: must be the number of a collection account, as Khipu's receiver ids are and its clients require (are -receiver-id and -secret swapped?)"},
		{[]string{"-receiver-id", "12345 "}, "-receiver-id: must be the number of a collection account"},
		{[]string{"-secret", " s3cr3t"}, "-secret: has leading or trailing white space, which Khipu's clients refuse"},
		{[]string{"-nope"}, ""},
		{[]string{"extra"}, `unexpected arguments ["extra"]`},
	} {
		// A flag taken by mistake would start a server that never exits:
		// the deadline ends it, and the test fails, in seconds.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		cmd := exec.CommandContext(ctx, binary, append([]string{"-addr", "127.0.0.1:0"}, tt.args...)...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		err := cmd.Run()
		timedOut := ctx.Err() != nil
		cancel()
		require.False(t, timedOut, "%v: the program was still running after 10 s: it took the flag", tt.args)
		var exit *exec.ExitError
		require.True(t, errors.As(err, &exit), "%v: %v", tt.args, err)
		assert.Equal(t, 2, exit.ExitCode(), "%v", tt.args)
		assert.NotEmpty(t, stderr.String(), "%v says why", tt.args)
		if tt.says != "" {
			assert.True(t, strings.HasPrefix(stderr.String(), "khiputest: "+tt.says), "%v says %q", tt.args, stderr.String())
			assert.Equal(t, 1, strings.Count(stderr.String(), "khiputest:"), "%v: one prefix: %q", tt.args, stderr.String())
			assert.NotContains(t, stderr.String(), "With", "%v: the flag, not the Go function", tt.args)
		}
	}
}

func TestAReceiverIDIsANumberAsTheClientsRequire(t *testing.T) {
	p := start(t, "-addr", "127.0.0.1:0", "-receiver-id", "0012345", "-secret", "s")
	assert.Equal(t, "0012345", p.banner["receiver_id"], "digits, as khipu.NewClient takes them")
}

func TestStrictAndWarnings(t *testing.T) {
	body := `{"amount": 1000, "currency": "CLP", "subject": "x", "receiver_id": 12345, "transaction_id": null}`
	lenient := start(t, "-addr", "127.0.0.1:0", "-api-key", "K")
	a := v3(t, "K", http.MethodPost, lenient.banner["api_v3_url"]+"/v3/payments", body)
	assert.Equal(t, http.StatusOK, a.status, "%s", a.body)
	warnings := []string{
		"receiver_id is not a field of POST /v3/payments: ignored",
		"transaction_id is null: leave out a field that is not set: taken as left out",
	}
	for _, w := range warnings {
		assert.Contains(t, lenient.log(), `level=WARN msg="khiputest: a request Khipu probably accepts, but likely a mistake" endpoint="POST /v3/payments" warning="`+w+`"`)
	}
	listed := control(t, lenient, http.MethodGet, "/khiputest/requests", "")
	var list []struct{ Warnings []string }
	require.NoError(t, json.Unmarshal(listed.body, &list))
	require.Len(t, list, 1)
	assert.Equal(t, warnings, list[0].Warnings)

	strict := start(t, "-addr", "127.0.0.1:0", "-api-key", "K", "-strict")
	a = v3(t, "K", http.MethodPost, strict.banner["api_v3_url"]+"/v3/payments", body)
	assert.Equal(t, http.StatusBadRequest, a.status, "%s", a.body)
	assert.Contains(t, string(a.body), `"field":"receiver_id"`)
	assert.Contains(t, string(a.body), `"field":"transaction_id"`)
}

func TestTheControlURLAnswersAnIndex(t *testing.T) {
	p := start(t, "-addr", "127.0.0.1:0")
	req, err := http.NewRequest(http.MethodGet, p.banner["control_url"], nil)
	require.NoError(t, err)
	a := send(t, req)
	require.Equal(t, http.StatusOK, a.status, "%s", a.body)
	index := a.json(t)
	assert.Contains(t, index["endpoints"], "POST /payments")
	assert.Contains(t, index["endpoints"], "GET /v3/banks")
	routes, _ := index["routes"].([]any)
	assert.NotEmpty(t, routes)
	assert.Contains(t, routes, map[string]any{"route": "GET /khiputest/requests", "does": "the API requests received, oldest first, credentials hidden, each with its warnings"})

	a = control(t, p, http.MethodPost, "/khiputest/fail-next", `{"endpoint": "EndpointPaymentsCreate", "status": 503}`)
	assert.Equal(t, http.StatusBadRequest, a.status)
	msg, _ := a.json(t)["error"].(string)
	assert.Contains(t, msg, `the endpoints are "GET /banks", "GET /payments", "POST /payments"`, "strings, as HTTP users write them")
}

func TestAListenerOnEveryInterfaceIsReachedAtLoopback(t *testing.T) {
	for addr, want := range map[string]string{
		"0.0.0.0:8090": "127.0.0.1:8090", "[::]:8090": "127.0.0.1:8090",
		"127.0.0.1:8090": "127.0.0.1:8090", "[::1]:8090": "[::1]:8090", "192.0.2.7:80": "192.0.2.7:80",
	} {
		tcp, err := net.ResolveTCPAddr("tcp", addr)
		require.NoError(t, err)
		assert.Equal(t, want, reachable(tcp), addr)
	}
}

func TestSIGTERMStopsCleanlyWhileAShopHangsOnANotification(t *testing.T) {
	p := start(t, "-addr", "127.0.0.1:0", "-api-key", "K")
	reached, release := make(chan struct{}), make(chan struct{})
	hanging := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(reached) // one notification only: a second would panic
		select {
		case <-release:
		case <-r.Context().Done(): // the program gave up on it
		}
	}))
	t.Cleanup(hanging.Close)
	t.Cleanup(func() { close(release) }) // before hanging.Close, which waits for the handler

	a := v3(t, "K", http.MethodPost, p.banner["api_v3_url"]+"/v3/payments",
		`{"amount": 1000, "currency": "CLP", "subject": "x", "notify_url": "`+hanging.URL+`"}`)
	require.Equal(t, http.StatusOK, a.status, "%s", a.body)
	id := a.json(t)["payment_id"].(string)
	type result struct {
		answer
		err error
	}
	paid := make(chan result, 1) // no t in the goroutine: it may outlive a failed test
	go func() {
		resp, err := http.Post(strings.TrimSuffix(p.banner["control_url"], "/")+"/payments/"+id+"/pay", "application/json", nil)
		if err != nil {
			paid <- result{err: err}
			return
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		paid <- result{answer{resp.StatusCode, body}, err}
	}()
	recv(t, reached) // the control request is waiting for the shop

	require.NoError(t, p.stop(t), "exit code 0, not 1 after waiting for the shop; stderr:\n%s", p.log())
	assert.Contains(t, p.log(), "khiputest: stopped")
	r := recv(t, paid)
	require.NoError(t, r.err)
	assert.Equal(t, http.StatusOK, r.status, "the control request was answered: paid, the notification abandoned")
	assert.Contains(t, r.json(t)["notify_error"], "context canceled")
}

func TestANotificationTheShopRefusesIsLogged(t *testing.T) {
	p := start(t, "-addr", "127.0.0.1:0", "-api-key", "K")
	refused := make(chan struct{}, 1)
	shop := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "database down", http.StatusInternalServerError)
		refused <- struct{}{}
	}))
	t.Cleanup(shop.Close)
	a := v3(t, "K", http.MethodPost, p.banner["api_v3_url"]+"/v3/payments",
		`{"amount": 1000, "currency": "CLP", "subject": "x", "notify_url": "`+shop.URL+`/notify"}`)
	require.Equal(t, http.StatusOK, a.status, "%s", a.body)
	created := a.json(t)

	// Paid from the payment page, as a browser test pays: no control
	// answer reports the refusal, so the log must.
	pay, err := http.NewRequest(http.MethodPost, created["payment_url"].(string), nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusSeeOther, send(t, pay).status)
	recv(t, refused)
	assert.Contains(t, p.log(), `level=WARN msg="khiputest: the shop did not accept a notification" payment_id=`+
		created["payment_id"].(string)+` url=`+shop.URL+`/notify status=500 answer="database down"`+"\n")
}

func TestTheRequestsListedAreTheLastMaxRequests(t *testing.T) {
	p := start(t, "-addr", "127.0.0.1:0", "-api-key", "K", "-max-requests", "2")
	for _, path := range []string{"/v3/banks", "/v3/predict", "/v3/payments/nope"} {
		v3(t, "K", http.MethodGet, p.banner["api_v3_url"]+path, "")
	}
	a := control(t, p, http.MethodGet, "/khiputest/requests", "")
	require.Equal(t, http.StatusOK, a.status)
	var list []struct{ Path string }
	require.NoError(t, json.Unmarshal(a.body, &list))
	assert.Equal(t, []struct{ Path string }{{"/v3/predict"}, {"/v3/payments/nope"}}, list, "the last two")
}

func TestTheREADMEListsTheEndpointsFailNextTakes(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	_, table, found := strings.Cut(string(readme), "`fail-next` takes these endpoints, as written here:")
	require.True(t, found, "the README lists them")
	table, _, _ = strings.Cut(table, "\n\n\n")
	var listed []string
	for _, m := range regexp.MustCompile("`((?:GET|POST|DELETE) /[^`]*)`").FindAllStringSubmatch(strings.Split(table, "\n\n")[1], -1) {
		listed = append(listed, m[1])
	}

	p := start(t, "-addr", "127.0.0.1:0")
	req, err := http.NewRequest(http.MethodGet, p.banner["control_url"], nil)
	require.NoError(t, err)
	var index struct{ Endpoints []string }
	require.NoError(t, json.Unmarshal(send(t, req).body, &index))
	assert.Equal(t, index.Endpoints, listed)
}

// TestAReversalAsEachShopSeesIt follows the README: a payment paid, then
// reversed and notified again. A v2 shop's token lookup says reversed; a v3
// shop's notification says nothing new (it has no status), and only GET
// /v3/payments/{id} tells.
func TestAReversalAsEachShopSeesIt(t *testing.T) {
	const secret = "S"
	p := start(t, "-addr", "127.0.0.1:0", "-receiver-id", "12345", "-secret", secret, "-api-key", "K")
	shopURL, notifications := fakeShop(t)
	a := v3(t, "K", http.MethodPost, p.banner["api_v3_url"]+"/v3/payments",
		`{"amount": 5000, "currency": "CLP", "subject": "Order 1001", "notify_url": "`+shopURL+`"}`)
	require.Equal(t, http.StatusOK, a.status, "%s", a.body)
	id := a.json(t)["payment_id"].(string)
	require.Equal(t, http.StatusOK, control(t, p, http.MethodPost, "/khiputest/payments/"+id+"/pay", "").status)
	first := recv(t, notifications)
	verifyNotification3(t, secret, first)

	require.Equal(t, http.StatusOK, control(t, p, http.MethodPost, "/khiputest/payments/"+id+"/status", `{"status": "done", "status_detail": "reversed"}`).status)
	require.Equal(t, http.StatusOK, control(t, p, http.MethodPost, "/khiputest/payments/"+id+"/notify", "").status)
	again := recv(t, notifications)
	verifyNotification3(t, secret, again)
	assert.Equal(t, string(first.body), string(again.body), "the notification 3.0 sent again is the first one, signed anew")
	assert.NotContains(t, string(again.body), "status")

	payment := v3(t, "K", http.MethodGet, p.banner["api_v3_url"]+"/v3/payments/"+id, "").json(t)
	assert.Equal(t, "done", payment["status"])
	assert.Equal(t, "reversed", payment["status_detail"], "what a v3 shop asks to learn of the reversal")
}
