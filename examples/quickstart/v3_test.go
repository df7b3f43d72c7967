package main

import (
	"bytes"
	"context"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/khipu-go/khipu"
	"github.com/khipu-go/khipu/khiputest"
)

func TestQuickstartV3RunsTheWholeFlowOfflineWithASignedNotification(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out bytes.Buffer
	require.NoError(t, runV3(ctx, &out, func(string) string { return "" }), out.String())
	text := out.String()
	assert.Contains(t, text, "API v3")
	assert.Contains(t, text, `Before paying, Khipu says the payment is "pending"`)
	assert.Contains(t, text, "Signed notification 3.0 verified")
	assert.Contains(t, text, "5000 CLP, order order-1001, receiver 12345")
	assert.Contains(t, text, "It matches the order: deliver order-1001.")
}

// startLiveV3 runs the KHIPU_API_KEY path in the background against srv's
// v3, polling every 10 ms.
func startLiveV3(t *testing.T, srv *khiputest.Server, env map[string]string) *liveRun {
	t.Helper()
	pollInterval = 10 * time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	l := &liveRun{out: newWatchedOutput(), done: make(chan error, 1), cancel: cancel}
	go func() { l.done <- runV3(ctx, l.out, func(k string) string { return env[k] }) }()
	return l
}

func TestQuickstartV3LiveModePollsUntilPaid(t *testing.T) {
	srv := khiputest.NewServer("12345", "live-secret")
	defer srv.Close()
	live := startLiveV3(t, srv, map[string]string{"KHIPU_API_KEY": srv.APIKey(), "KHIPU_BASE_URL": srv.V3URL()})
	id := live.waitFor(t, "status: pending")
	require.NoError(t, srv.Pay(id))
	require.NoError(t, <-live.done, live.out.String())
	text := live.out.String()
	assert.Contains(t, text, "Using Khipu's API v3.")
	assert.Contains(t, text, "DemoBank", "the banks are listed")
	assert.Contains(t, text, srv.V3URL()+"/payment/info/"+id, "the payment URL is printed")
	assert.Contains(t, text, "Paid and checked")
}

func TestQuickstartV3LiveModeVerifiesTheSignedNotificationWhenItCanReceiveIt(t *testing.T) {
	srv := khiputest.NewServer("12345", "live-secret")
	defer srv.Close()
	// The run serves the notification endpoint on this listener, which the
	// test holds from the start: no other process can take its port.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() }) // closed by the run already, unless it failed first
	addr := ln.Addr().String()
	listen = func(network, address string) (net.Listener, error) {
		assert.Equal(t, addr, address, "KHIPU_LISTEN")
		return ln, nil
	}
	t.Cleanup(func() { listen = net.Listen })
	live := startLiveV3(t, srv, map[string]string{
		"KHIPU_API_KEY": srv.APIKey(), "KHIPU_BASE_URL": srv.V3URL(),
		"KHIPU_NOTIFY_URL": "http://" + addr + "/", "KHIPU_SECRET": "live-secret", "KHIPU_LISTEN": addr,
	})
	id := live.waitFor(t, "status: pending")
	require.NoError(t, srv.Pay(id), "the notification reached the quickstart and was verified (2xx)")
	require.NoError(t, <-live.done, live.out.String())
	assert.Contains(t, live.out.String(), "signed notification verified: payment "+id+", 1000 CLP; it matches the order")
}

func TestQuickstartV3LiveModeSaysSoWhenThePaidPaymentsNotificationNeverComes(t *testing.T) {
	srv := khiputest.NewServer("12345", "live-secret")
	defer srv.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() })
	addr := ln.Addr().String()
	listen = func(string, string) (net.Listener, error) { return ln, nil }
	t.Cleanup(func() { listen = net.Listen })
	notificationWait = 50 * time.Millisecond
	t.Cleanup(func() { notificationWait = 15 * time.Second })
	live := startLiveV3(t, srv, map[string]string{
		"KHIPU_API_KEY": srv.APIKey(), "KHIPU_BASE_URL": srv.V3URL(),
		"KHIPU_NOTIFY_URL": "http://" + addr + "/", "KHIPU_SECRET": "live-secret", "KHIPU_LISTEN": addr,
	})
	id := live.waitFor(t, "status: pending")
	require.NoError(t, srv.PayWithoutNotifying(id))
	require.NoError(t, <-live.done, "the payment was paid and checked: a lost notification is reported, not an error")
	text := live.out.String()
	assert.Contains(t, text, "Paid and checked")
	assert.Contains(t, text, "no signed notification arrived within 50ms")
	assert.NotContains(t, text, "signed notification verified")
}

func TestQuickstartV3ReportsAWrongAPIKeyWithoutPrintingIt(t *testing.T) {
	srv := khiputest.NewServer("12345", "live-secret")
	defer srv.Close()
	env := map[string]string{"KHIPU_API_KEY": "wrong-api-key", "KHIPU_BASE_URL": srv.V3URL()}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := runV3(ctx, &bytes.Buffer{}, func(k string) string { return env[k] })
	var ae *khipu.AuthorizationError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, 401, ae.StatusCode)
	assert.NotContains(t, err.Error(), "wrong-api-key")
}
