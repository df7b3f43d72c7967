package main

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A shop outside Go verifies notify send's notification: a Python endpoint
// written by hand from Khipu's description (testdata/endpoint.py, standard
// library only) accepts it, and refuses -bad-signature and -stale. CI
// installs python3 and sets KHIPU_CLI_REQUIRE_PYTHON, so that there the test
// cannot skip.
func TestNotifySendIsVerifiedByAPythonEndpoint(t *testing.T) {
	python, err := exec.LookPath("python3")
	if err != nil {
		if os.Getenv("KHIPU_CLI_REQUIRE_PYTHON") != "" {
			t.Fatal("python3 is not installed, and KHIPU_CLI_REQUIRE_PYTHON is set")
		}
		t.Skip("python3 is not installed")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, python, "testdata/endpoint.py")
	cmd.Env = append(os.Environ(), "KHIPU_SECRET="+testSecret)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })

	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	next := func() string {
		t.Helper()
		select {
		case l, ok := <-lines:
			require.True(t, ok, "the endpoint ended")
			return l
		case <-ctx.Done():
			t.Fatal("the endpoint said nothing within a minute")
			return ""
		}
	}
	url := "http://127.0.0.1:" + next() + "/khipu/notify"

	environ := map[string]string{"KHIPU_SECRET": testSecret, "KHIPU_RECEIVER_ID": testReceiverID}
	out := ok(t, environ, "", "notify", "send", "-to", url, "-amount", "12990", "-transaction-id", "order-1", "-subject", "Café / té")
	assert.Regexp(t, `\nanswer: +200 OK in `, out)
	var got map[string]any
	require.NoError(t, json.Unmarshal([]byte(next()), &got))
	assert.Equal(t, map[string]any{
		"receiver_id": 12345.0, "amount": "12990.0000", "currency": "CLP", "transaction_id": "order-1",
		"subject": "Café / té", "payment_id": got["payment_id"],
	}, got)
	assert.Regexp(t, regexp.MustCompile(`^[a-z0-9]{12}$`), got["payment_id"])

	for flag, why := range map[string]string{"-bad-signature": "signature mismatch", "-stale": "stale notification"} {
		out := ok(t, environ, "", "notify", "send", flag, "-to", url)
		assert.Regexp(t, `\nanswer_body: +`+why+`\nresult: +refused, as it should be`, out, flag)
	}
	r := khipuCmd(t, map[string]string{"KHIPU_SECRET": "the-secret-of-another-account"}, "", "notify", "send", "-to", url)
	assert.Equal(t, exitFailed, r.code)
	assert.Regexp(t, `\nanswer: +400 Bad Request in .*\nanswer_body: +signature mismatch\n`, r.stdout)

	// The replay is accepted again: the endpoint keeps no replay cache.
	ok(t, environ, "", "notify", "send", "-replay", "-to", url, "-payment-id", "replayreplay")
	for range 2 {
		require.NoError(t, json.Unmarshal([]byte(next()), &got))
		assert.Equal(t, "replayreplay", got["payment_id"])
	}
}
