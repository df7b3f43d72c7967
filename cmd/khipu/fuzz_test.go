package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// FuzzCommandLine runs the program with any command line (the arguments
// separated by NUL) and any stdin, with credentials in the environment and
// its context already ended, so that nothing reaches the network: whatever
// it is given, it exits 0, 1 or 2, writes at most one line to stderr, and
// never shows a credential.
func FuzzCommandLine(f *testing.F) {
	for _, seed := range []struct{ args, stdin string }{
		{"banks", ""},
		{"banks\x00-api\x00v2\x00-json", ""},
		{"payments\x00create\x00-amount\x0019.99\x00-currency\x00CLP\x00-subject\x00x\x00-expires-date\x002026-12-31T23:59:00-03:00", ""},
		{"payments\x00create\x00-amount\x00-1e3\x00-integrator-fee\x00x", ""},
		{"payments\x00get\x00-json\x00abc", ""},
		{"payments\x00refund\x00-amount\x000\x00abc", ""},
		{"payments\x00delete\x00abc\x00-json", ""},
		{"receivers\x00children\x00-offset\x00-1\x00-max\x0099999999999999999999", ""},
		{"receivers\x00create\x00-show-credentials", ""},
		{"subscriptions\x00create\x00-max-amount\x001", ""},
		{"charges\x00create\x00-amount\x001", ""},
		{"notify\x00sign\x00-t\x001711965600393", `{"payment_id":"abc"}`},
		{"notify\x00sign\x00-t\x009223372036854775807", "x"},
		{"notify\x00verify\x00-header\x00t=1,s=x\x00-now\x001\x00-tolerance\x001ns", "{}"},
		{"notify\x00verify\x00-header\x00t=9223372036854775807,s=AAAA", "{}"},
		{"notify\x00send\x00-to\x00http://127.0.0.1:1/n\x00-replay\x00-amount\x0012990\x00-conciliation-date\x000001-01-01T00:00:00Z", ""},
		{"notify\x00send\x00-to\x00http://127.0.0.1:1/n\x00-payment\x00abc\x00-api\x00v2", ""},
		{"notify\x00send\x00-to\x00http://127.0.0.1:1/n\x00-receiver-id\x000012\x00-amount\x0099999999999999999999", ""},
		{"-h", ""}, {"help", ""}, {"payments", ""}, {"payments\x00nope", ""}, {"notify\x00send\x00-h", ""},
	} {
		f.Add(seed.args, seed.stdin)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	env := map[string]string{
		"KHIPU_API_KEY": testAPIKey, "KHIPU_SECRET": testSecret, "KHIPU_RECEIVER_ID": "12345",
		"KHIPU_BASE_URL": "http://127.0.0.1:1",
	}
	f.Fuzz(func(t *testing.T, line, stdin string) {
		var args []string
		if line != "" {
			args = strings.Split(line, "\x00")
		}
		var stdout, stderr bytes.Buffer
		code := run(ctx, args, strings.NewReader(stdin), &stdout, &stderr, func(k string) string { return env[k] })
		if code != exitOK && code != exitFailed && code != exitUsage {
			t.Fatalf("%q: exit status %d", args, code)
		}
		for _, secret := range []string{testSecret, testAPIKey} {
			if strings.Contains(stdout.String(), secret) || strings.Contains(stderr.String(), secret) {
				t.Fatalf("%q: a credential in the output:\nstdout: %s\nstderr: %s", args, stdout.String(), stderr.String())
			}
		}
		if e := stderr.String(); e != "" && (strings.Count(e, "\n") != 1 || !strings.HasSuffix(e, "\n") || !strings.HasPrefix(e, "khipu: ")) {
			t.Fatalf("%q: stderr is not one line starting with khipu: %q", args, e)
		}
		if code == exitOK && stderr.Len() > 0 {
			t.Fatalf("%q: exit status 0 with %q on stderr", args, stderr.String())
		}
	})
}
