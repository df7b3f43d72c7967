package main

// The program is tested in process: run with its arguments, stdin, stdout,
// stderr and environment, against an embedded khiputest (a real HTTP
// server on loopback) or a real khipuv3.NotificationHandler. Readable
// output is compared with golden files under testdata/golden (go test
// -update rewrites them) after the values that change from run to run
// (payment ids, the server's port, durations) are replaced by names; -json
// output is decoded and compared with what the server holds.

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/khipu-go/khipu/khiputest"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

// The embedded Khipu's account. The credentials are long enough to be
// redacted, and every test checks that none of them is printed.
const (
	testReceiverID = "12345"
	testSecret     = "cli-test-secret-0123456789abcdef01234567"
	testAPIKey     = "cli-test-api-key-0123456789abcdef"
)

// testNow is the embedded Khipu's clock: the dates it writes are this one.
var testNow = time.Date(2026, 3, 9, 2, 22, 27, 266_000_000, time.UTC)

// newKhipu starts an embedded Khipu whose account the environment env()
// configures.
func newKhipu(t *testing.T, opts ...khiputest.ServerOption) *khiputest.Server {
	t.Helper()
	opts = append([]khiputest.ServerOption{khiputest.WithAPIKey(testAPIKey), khiputest.WithClock(func() time.Time { return testNow })}, opts...)
	srv := khiputest.NewServer(testReceiverID, testSecret, opts...)
	t.Cleanup(srv.Close)
	return srv
}

// env is the environment of a shop's operator using srv: every credential
// and srv's address.
func env(srv *khiputest.Server) map[string]string {
	return map[string]string{
		"KHIPU_API_KEY":     testAPIKey,
		"KHIPU_RECEIVER_ID": testReceiverID,
		"KHIPU_SECRET":      testSecret,
		"KHIPU_BASE_URL":    srv.V3URL(),
	}
}

// result is what one run printed and its exit status.
type result struct {
	stdout, stderr string
	code           int
}

// khipuCmd runs the program with args, stdin and environment, and checks
// what every run must do: no credential in its output, and an error, if
// any, on one line of stderr.
func khipuCmd(t *testing.T, environ map[string]string, stdin string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	code := run(ctx, args, strings.NewReader(stdin), &stdout, &stderr, func(k string) string { return environ[k] })
	r := result{stdout.String(), stderr.String(), code}
	for _, secret := range []string{testSecret, testAPIKey} {
		assert.NotContains(t, r.stdout, secret, "khipu %s: a credential on stdout", strings.Join(args, " "))
		assert.NotContains(t, r.stderr, secret, "khipu %s: a credential on stderr", strings.Join(args, " "))
	}
	if r.stderr != "" {
		assert.Equal(t, 1, strings.Count(r.stderr, "\n"), "khipu %s: stderr is one line: %q", strings.Join(args, " "), r.stderr)
		assert.True(t, strings.HasPrefix(r.stderr, "khipu: "), r.stderr)
	}
	return r
}

// ok runs the program and requires exit status 0 with nothing on stderr.
func ok(t *testing.T, environ map[string]string, stdin string, args ...string) string {
	t.Helper()
	r := khipuCmd(t, environ, stdin, args...)
	require.Equal(t, 0, r.code, "khipu %s\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.stdout, r.stderr)
	require.Empty(t, r.stderr)
	return r.stdout
}

// normalizer replaces what changes from run to run with names.
type normalizer struct{ old, new []string }

func (n *normalizer) replace(old, new string) *normalizer {
	n.old, n.new = append(n.old, old), append(n.new, new)
	return n
}

var durationRE = regexp.MustCompile(`in [0-9.]+(µs|ms|s)\b`)

func (n *normalizer) apply(s string) string {
	for i := range n.old {
		if n.old[i] != "" {
			s = strings.ReplaceAll(s, n.old[i], n.new[i])
		}
	}
	return durationRE.ReplaceAllString(s, "in DURATION")
}

// golden compares got with testdata/golden/name, or writes it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "no golden file: run go test ./cmd/khipu -update and review it")
	assert.Equal(t, string(want), got, "output differs from %s (go test ./cmd/khipu -update rewrites it)", path)
}
