package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/khipu-go/khipu/khipuv3"
)

func TestHelpListsEveryCommandWithAnExample(t *testing.T) {
	out := ok(t, nil, "", "-h")
	for _, cmd := range commands {
		if cmd.name == "" {
			continue
		}
		assert.Contains(t, out, "  "+cmd.name+" ", "khipu -h lists %s", cmd.name)
		assert.Contains(t, out, "e.g. "+cmd.example)
	}
	golden(t, "help.txt", out)

	r := khipuCmd(t, nil, "")
	assert.Equal(t, exitUsage, r.code, "no command is a usage error")
	assert.Equal(t, out, r.stdout, "and shows the help")
}

// Every command answers -h with exit status 0, an example and its flags.
func TestEveryCommandHasHelpWithAnExample(t *testing.T) {
	for _, cmd := range commands {
		if cmd.name == "" {
			continue
		}
		args := append(strings.Fields(cmd.name), "-h")
		out := ok(t, nil, "", args...)
		assert.Contains(t, out, "Usage: khipu "+cmd.name, cmd.name)
		assert.Contains(t, out, "Example:\n  "+cmd.example[:5], cmd.name)
		assert.Contains(t, out, "Flags (before the arguments):\n  -", cmd.name)
	}
}

// payments create has a flag for every parameter of a payment, named
// after its JSON name with dashes, and its help shows each with an
// example.
func TestPaymentsCreateHasAFlagForEveryParameter(t *testing.T) {
	out := ok(t, nil, "", "payments", "create", "-h")
	typ := reflect.TypeFor[khipuv3.PaymentCreateParams]()
	n := 0
	for i := range typ.NumField() {
		tag := strings.Split(typ.Field(i).Tag.Get("json"), ",")[0]
		if tag == "" || tag == "-" {
			tag = "integrator_fee" // written by MarshalJSON
		}
		name := "\n  -" + strings.ReplaceAll(tag, "_", "-")
		i := strings.Index(out, name+" ")
		if i < 0 {
			i = strings.Index(out, name+"\n") // a boolean flag
		}
		if assert.GreaterOrEqual(t, i, 0, "a flag for %s", tag) {
			usage, _, _ := strings.Cut(out[i+len(name)+1:], "\n  -")
			assert.Contains(t, usage, "e.g. ", "-%s shows an example", tag)
		}
		n++
	}
	require.Greater(t, n, 20)
	golden(t, "payments-create-help.txt", out)
}

func TestUsageErrorsExit2WithOneLine(t *testing.T) {
	environ := map[string]string{"KHIPU_API_KEY": testAPIKey, "KHIPU_BASE_URL": "http://127.0.0.1:1"}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"paymnts"}, `unknown command "paymnts"`},
		{[]string{"payments"}, "payments needs one of: create, get, delete, confirm, refund"},
		{[]string{"payments", "fetch", "x"}, `unknown command "payments fetch"`},
		{[]string{"-api", "v2", "banks"}, "flags go after the command"},
		{[]string{"payments", "get"}, "missing argument"},
		{[]string{"payments", "get", "abc", "-json"}, "flag -json after an argument: flags go before the arguments"},
		{[]string{"payments", "get", "abc", "def"}, `unexpected argument "def"`},
		{[]string{"banks", "-nope"}, "flag provided but not defined: -nope"},
		{[]string{"banks", "-api", "v4"}, `-api "v4": want v2 or v3`},
		{[]string{"predict", "-api", "v2"}, "predict is a call of API v3 only"},
		{[]string{"payments", "create", "-subject", "x", "-currency", "CLP"}, "-amount is required"},
		{[]string{"payments", "create", "-amount", "1e3"}, "invalid value \"1e3\" for flag -amount"},
		{[]string{"payments", "create", "-amount", "1000", "-currency", "CLP"}, "invalid parameter subject: is required"},
		{[]string{"payments", "create", "-amount", "1000", "-subject", "x", "-currency", "CLP", "-expires-date", "tomorrow"}, "want an RFC 3339 date"},
		{[]string{"payments", "refund", "-amount", "0", "abc"}, "-amount 0 refunds nothing"},
		{[]string{"payments", "get", "../banks"}, "invalid parameter payment_id"},
		{[]string{"receivers", "create", "-admin-first-name", "Ana"}, "-show-credentials is required"},
		{[]string{"notify", "send", "-amount", "1"}, "-to is required"},
		{[]string{"notify", "send", "-to", "127.0.0.1:8080/khipu/notify"}, "want an http or https URL"},
		{[]string{"notify", "send", "-to", "http://x", "-stale", "-replay"}, "one of -bad-signature, -stale and -replay at a time"},
		{[]string{"notify", "verify", "-tolerance", "0s", "-header", "t=1,s=x"}, "-tolerance must be more than 0"},
		{[]string{"notify", "sign", "-t", "-5"}, "want Unix time in milliseconds"},
	} {
		r := khipuCmd(t, environ, "", c.args...)
		assert.Equal(t, exitUsage, r.code, "khipu %s: %s", strings.Join(c.args, " "), r.stderr)
		assert.Contains(t, r.stderr, c.want, strings.Join(c.args, " "))
		assert.Empty(t, r.stdout, strings.Join(c.args, " "))
	}

	// Missing credentials are usage errors too, named by their variable.
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"banks"}, "API v3 needs KHIPU_API_KEY"},
		{[]string{"banks", "-api", "v2"}, "-api v2 needs KHIPU_RECEIVER_ID and KHIPU_SECRET"},
		{[]string{"notify", "sign"}, "set KHIPU_SECRET"},
		{[]string{"payment-methods", "-api-key", "k"}, "give MERCHANT_ID, or set KHIPU_RECEIVER_ID"},
	} {
		r := khipuCmd(t, nil, "", c.args...)
		assert.Equal(t, exitUsage, r.code, "khipu %s: %s", strings.Join(c.args, " "), r.stderr)
		assert.Contains(t, r.stderr, c.want)
	}
}

// A credential never appears in an error, even one that quotes what it was
// given: redact replaces every credential the run has seen.
func TestErrorsNeverShowACredential(t *testing.T) {
	// A gateway that quotes the key it was sent in its error message: the
	// library keeps Khipu's message in its error, the command does not
	// print the key.
	gateway := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprintf(w, `{"message": "unknown key %s"}`, r.Header.Get("x-api-key"))
	}))
	defer gateway.Close()
	r := khipuCmd(t, map[string]string{"KHIPU_API_KEY": testAPIKey, "KHIPU_BASE_URL": gateway.URL}, "", "banks")
	assert.Equal(t, exitFailed, r.code)
	assert.Equal(t, "khipu: authorization error (HTTP 401): unknown key [redacted]\n", r.stderr)

	c := &cli{secrets: []string{testSecret, "short"}}
	assert.Equal(t, "a [redacted] b short c \\x1b[31m", c.redact("a "+testSecret+"\nb short c \x1b[31m"))
}

// A credential typed where something else was expected, from the
// environment or after its flag, is hidden too, although the mistake
// stops the command before it has read its credentials: a flag missing its
// value (-to -secret S) makes the secret an argument, which the error
// quotes.
func TestAMisplacedCredentialIsNeverShown(t *testing.T) {
	gateway := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"message": "unknown key"}`)
	}))
	defer gateway.Close()
	env := map[string]string{"KHIPU_SECRET": testSecret, "KHIPU_API_KEY": testAPIKey, "KHIPU_BASE_URL": gateway.URL}
	for _, c := range []struct {
		args []string
		code int
	}{
		{[]string{"notify", "send", "-to", testSecret}, exitUsage},
		{[]string{"notify", "send", "-to", "-secret", testSecret}, exitUsage},
		{[]string{"payments", "create", "-amount", testSecret}, exitUsage},
	} {
		r := khipuCmd(t, env, "", c.args...) // checks that no credential is printed
		assert.Equal(t, c.code, r.code, "%v: %s", c.args, r.stderr)
		assert.Contains(t, r.stderr, "[redacted]", "%v", c.args)
	}
	// A credential given with its flag, in any of the flag package's
	// forms, when the environment has none.
	other := "a-credential-not-in-the-environment"
	for _, args := range [][]string{
		{"payments", "create", "-api-key", other, "-amount", other},
		{"payments", "create", "--api-key=" + other, "-amount", other},
		{"payments", "create", "-api", "v2", "-secret=" + other, "-amount", other},
		{"notify", "send", "-secret", other, "-to", other},
	} {
		r := khipuCmd(t, map[string]string{"KHIPU_BASE_URL": gateway.URL}, "", args...)
		assert.Equal(t, exitUsage, r.code, "%v: %s", args, r.stderr)
		assert.NotContains(t, r.stderr, other, "%v", args)
		assert.Contains(t, r.stderr, "[redacted]", "%v", args)
	}
}

// One KHIPU_BASE_URL serves both APIs of a cmd/khiputest: API v2 lives
// below /api/2.0 of a server's root; a base URL with a path is kept.
func TestV2BaseURL(t *testing.T) {
	for in, want := range map[string]string{
		"http://127.0.0.1:8090":      "http://127.0.0.1:8090/api/2.0",
		"http://127.0.0.1:8090/":     "http://127.0.0.1:8090/api/2.0",
		"https://khipu.com/api/2.0":  "https://khipu.com/api/2.0",
		"http://proxy.example/khipu": "http://proxy.example/khipu",
		"::not a url":                "::not a url",
	} {
		assert.Equal(t, want, v2BaseURL(in), in)
	}
}
