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

// syncBuffer is a bytes.Buffer that run can write to while the test reads.
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

// TestQuickstartLiveModePollsUntilPaid runs the credentials path against a
// khiputest server standing in for Khipu (KHIPU_BASE_URL), and pays the
// payment the quickstart prints.
func TestQuickstartLiveModePollsUntilPaid(t *testing.T) {
	srv := khiputest.NewServer("12345", "live-secret")
	defer srv.Close()
	pollInterval = 10 * time.Millisecond
	env := map[string]string{"KHIPU_RECEIVER_ID": "12345", "KHIPU_SECRET": "live-secret", "KHIPU_BASE_URL": srv.URL()}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	out := &syncBuffer{}
	done := make(chan error, 1)
	go func() { done <- run(ctx, out, func(k string) string { return env[k] }) }()

	created := regexp.MustCompile(`Payment (\w+) created`)
	var id string
	require.Eventually(t, func() bool {
		if m := created.FindStringSubmatch(out.String()); m != nil {
			id = m[1]
		}
		return id != ""
	}, 10*time.Second, 5*time.Millisecond, out.String())
	require.NoError(t, srv.Pay(id))
	require.NoError(t, <-done, out.String())

	text := out.String()
	assert.Contains(t, text, "DemoBank", "the banks are listed")
	assert.Contains(t, text, srv.URL()[:len(srv.URL())-len(khiputest.APIPath)]+"/payment/info/"+id, "the payment URL is printed")
	assert.Contains(t, text, "status: done")
	assert.Contains(t, text, "Paid and checked")
}

func TestQuickstartLiveModeStopsWhenInterrupted(t *testing.T) {
	srv := khiputest.NewServer("12345", "live-secret")
	defer srv.Close()
	pollInterval = 10 * time.Millisecond
	env := map[string]string{"KHIPU_RECEIVER_ID": "12345", "KHIPU_SECRET": "live-secret", "KHIPU_BASE_URL": srv.URL()}
	ctx, cancel := context.WithCancel(context.Background())
	out := &syncBuffer{}
	done := make(chan error, 1)
	go func() { done <- run(ctx, out, func(k string) string { return env[k] }) }()
	require.Eventually(t, func() bool { return strings.Contains(out.String(), "status: pending") }, 10*time.Second, 5*time.Millisecond)
	cancel()
	err := <-done
	assert.ErrorIs(t, err, context.Canceled)
	assert.Contains(t, out.String(), "Stopped before the payment was done")
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
	pollInterval = 10 * time.Millisecond
	// More failures than the client's own retries absorb in one poll.
	require.NoError(t, srv.FailNext(khiputest.EndpointPaymentsGet, 503, 4))
	env := map[string]string{"KHIPU_RECEIVER_ID": "12345", "KHIPU_SECRET": "live-secret", "KHIPU_BASE_URL": srv.URL()}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out := &syncBuffer{}
	done := make(chan error, 1)
	go func() { done <- run(ctx, out, func(k string) string { return env[k] }) }()
	require.Eventually(t, func() bool { return strings.Contains(out.String(), "status: pending") }, 20*time.Second, 5*time.Millisecond, out.String())
	assert.Contains(t, out.String(), "could not read the payment, trying again")
	id := regexp.MustCompile(`Payment (\w+) created`).FindStringSubmatch(out.String())[1]
	require.NoError(t, srv.Pay(id))
	require.NoError(t, <-done, out.String())
	assert.Contains(t, out.String(), "Paid and checked")
}
