package main

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/khipu-go/khipu"
	"github.com/khipu-go/khipu/khiputest"
)

func TestQuickstartRunsTheWholeFlowOffline(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out bytes.Buffer
	err := run(ctx, &out, func(string) string { return "" })
	require.NoError(t, err, out.String())
	text := out.String()
	assert.Contains(t, text, `Before paying, Khipu says the payment is "pending"`)
	assert.Contains(t, text, `is "done", 5000 CLP, order order-1001, receiver 12345`)
	assert.Contains(t, text, "It matches the order: deliver order-1001.")
}

func TestQuickstartRefusesHalfTheCredentials(t *testing.T) {
	env := map[string]string{"KHIPU_RECEIVER_ID": "12345"}
	err := run(context.Background(), &bytes.Buffer{}, func(k string) string { return env[k] })
	require.Error(t, err)
	assert.Contains(t, err.Error(), "KHIPU_SECRET")
}

func TestQuickstartRefusesMalformedCredentialsWithoutPrintingThem(t *testing.T) {
	env := map[string]string{"KHIPU_RECEIVER_ID": "not-a-number", "KHIPU_SECRET": "s3cr3t-value"}
	err := run(context.Background(), &bytes.Buffer{}, func(k string) string { return env[k] })
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "s3cr3t-value")
}

// watchedOutput is what run writes, which a test can wait on as it
// arrives: each write wakes the waiters, so nothing polls.
type watchedOutput struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	changed chan struct{} // closed and replaced on every write
}

func newWatchedOutput() *watchedOutput { return &watchedOutput{changed: make(chan struct{})} }

func (w *watchedOutput) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	close(w.changed)
	w.changed = make(chan struct{})
	return w.buf.Write(p)
}

func (w *watchedOutput) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// waitFor waits until the output holds text, failing the test if it does
// not within 20 s (a run that hangs, not a slow one).
func (w *watchedOutput) waitFor(t *testing.T, text string) {
	t.Helper()
	timeout := time.After(20 * time.Second)
	for {
		w.mu.Lock()
		found, changed := strings.Contains(w.buf.String(), text), w.changed
		w.mu.Unlock()
		if found {
			return
		}
		select {
		case <-changed:
		case <-timeout:
			t.Fatalf("the output never held %q:\n%s", text, w.String())
		}
	}
}

// liveRun runs the credentials path in the background against srv, a
// khiputest server standing in for Khipu (KHIPU_BASE_URL), polling every
// 10 ms. Cancel ctx to interrupt it; done gets what run returned.
type liveRun struct {
	out    *watchedOutput
	done   chan error
	cancel context.CancelFunc
}

func startLive(t *testing.T, srv *khiputest.Server) *liveRun {
	t.Helper()
	pollInterval = 10 * time.Millisecond
	env := map[string]string{"KHIPU_RECEIVER_ID": "12345", "KHIPU_SECRET": "live-secret", "KHIPU_BASE_URL": srv.URL()}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	l := &liveRun{out: newWatchedOutput(), done: make(chan error, 1), cancel: cancel}
	go func() { l.done <- run(ctx, l.out, func(k string) string { return env[k] }) }()
	return l
}

// waitFor waits until the output holds text and returns the id of the
// payment the run created.
func (l *liveRun) waitFor(t *testing.T, text string) string {
	t.Helper()
	l.out.waitFor(t, text)
	m := regexp.MustCompile(`Payment (\w+) created`).FindStringSubmatch(l.out.String())
	require.NotNil(t, m, l.out.String())
	return m[1]
}

func TestQuickstartLiveModePollsUntilPaid(t *testing.T) {
	srv := khiputest.NewServer("12345", "live-secret")
	defer srv.Close()
	live := startLive(t, srv)
	id := live.waitFor(t, "status: pending")
	require.NoError(t, srv.Pay(id))
	require.NoError(t, <-live.done, live.out.String())

	text := live.out.String()
	assert.Contains(t, text, "DemoBank", "the banks are listed")
	assert.Contains(t, text, srv.URL()[:len(srv.URL())-len(khiputest.APIPath)]+"/payment/info/"+id, "the payment URL is printed")
	assert.Contains(t, text, "status: done")
	assert.Contains(t, text, "Paid and checked")
}

func TestQuickstartLiveModeStopsWhenInterrupted(t *testing.T) {
	srv := khiputest.NewServer("12345", "live-secret")
	defer srv.Close()
	live := startLive(t, srv)
	live.waitFor(t, "status: pending")
	live.cancel()
	assert.ErrorIs(t, <-live.done, context.Canceled)
	assert.Contains(t, live.out.String(), "Stopped before the payment was done")
}

func TestQuickstartReportsAWrongSecret(t *testing.T) {
	srv := khiputest.NewServer("12345", "live-secret")
	defer srv.Close()
	env := map[string]string{"KHIPU_RECEIVER_ID": "12345", "KHIPU_SECRET": "wrong-secret", "KHIPU_BASE_URL": srv.URL()}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second) // not forever if it polled
	defer cancel()
	err := run(ctx, &bytes.Buffer{}, func(k string) string { return env[k] })
	var ae *khipu.AuthorizationError
	require.ErrorAs(t, err, &ae)
	assert.NotContains(t, err.Error(), "wrong-secret")
}

func TestQuickstartLiveModeKeepsPollingThroughKhipuOutages(t *testing.T) {
	srv := khiputest.NewServer("12345", "live-secret")
	defer srv.Close()
	// More failures than the client's own retries absorb in one poll.
	srv.FailNext(khiputest.EndpointPaymentsGet, 503, 4)
	live := startLive(t, srv)
	id := live.waitFor(t, "status: pending")
	assert.Contains(t, live.out.String(), "could not read the payment, trying again")
	require.NoError(t, srv.Pay(id))
	require.NoError(t, <-live.done, live.out.String())
	assert.Contains(t, live.out.String(), "Paid and checked")
}
