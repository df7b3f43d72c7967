package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/khipu-go/khipu"
	"github.com/khipu-go/khipu/khiputest"
	"github.com/khipu-go/khipu/khipuv3"
)

func TestSubscriptionsRunsTheWholeStoryOffline(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out bytes.Buffer
	require.NoError(t, run(ctx, &out, func(string) string { return "" }), out.String())
	text := out.String()

	assert.Contains(t, text, "/pac-manager/", "the mandate URL is printed")
	assert.Contains(t, text, "Before signing, Khipu says it is DISABLED (bank: no-bank)")
	assert.Contains(t, text, "callback confirmed with Khipu: the subscription is ENABLED (bank 8)")
	for _, month := range []string{"March", "April", "May"} {
		assert.Contains(t, text, "it matches the bill: "+month+" is paid")
	}
	assert.NotContains(t, text, "June is paid")
	assert.Contains(t, text, `report for invoice plan-hogar-2025-06: "Fondos insuficientes"`)
	assert.Regexp(t, `Khipu says payment \w+ is pending \(rejected-by-payer\): June is set aside to reconcile`, text)
	assert.Contains(t, text, "Done: 3 months paid, 1 to reconcile.")

	payments := regexp.MustCompile(`Khipu accepted the charge: payment (\w+)`).FindAllStringSubmatch(text, -1)
	require.Len(t, payments, 4)
	seen := map[string]bool{}
	for _, m := range payments {
		seen[m[1]] = true
	}
	assert.Len(t, seen, 4, "one payment per charge")
	for _, invoice := range []string{"03", "04", "05", "06"} {
		assert.Contains(t, text, "as invoice plan-hogar-2025-"+invoice, "distinct transaction ids")
	}
}

func TestTheShopDeliversOnlyItsOwnBills(t *testing.T) {
	srv := khiputest.NewServer("12345", accountSecret)
	defer srv.Close()
	client, err := khipuv3.NewClient(srv.APIKey(), khipuv3.WithBaseURL(srv.V3URL()))
	require.NoError(t, err)
	s := newShop(client)
	s.bills["inv-1"] = &bill{Month: "March", TransactionID: "inv-1", Amount: monthlyFee, Currency: "CLP"}
	endpoints := httptest.NewServer(s.handler())
	defer endpoints.Close()

	notify := func(body string) int {
		req, err := http.NewRequest(http.MethodPost, endpoints.URL+"/khipu/notify", strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set(khipuv3.SignatureHeader, khipuv3.Sign(accountSecret, time.Now(), []byte(body)))
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	assert.Equal(t, http.StatusInternalServerError, notify(`{"payment_id":"p1","amount":"9990.0000","currency":"CLP","transaction_id":"inv-9"}`),
		"an invoice the shop never charged is not delivered")
	assert.Empty(t, s.paid)

	assert.Equal(t, http.StatusOK, notify(`{"payment_id":"p2","amount":"990.0000","currency":"CLP","transaction_id":"inv-1"}`))
	v := <-s.paid
	var mismatch *khipu.MismatchError
	assert.ErrorAs(t, v.mismatch, &mismatch, "a payment of another amount does not pay the bill")
}

// watchedOutput is what run writes, which a test can wait on as it arrives.
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

// waitFor waits until the output matches re and returns its first group.
func (w *watchedOutput) waitFor(t *testing.T, re string) string {
	t.Helper()
	pattern := regexp.MustCompile(re)
	timeout := time.After(20 * time.Second)
	for {
		w.mu.Lock()
		m, changed := pattern.FindStringSubmatch(w.buf.String()), w.changed
		w.mu.Unlock()
		if m != nil {
			return m[len(m)-1]
		}
		select {
		case <-changed:
		case <-timeout:
			t.Fatalf("the output never matched %q:\n%s", re, w.String())
		}
	}
}

// liveRun runs the KHIPU_API_KEY path in the background against srv, a
// khiputest server standing in for Khipu (KHIPU_BASE_URL), polling every
// 10 ms, with its callbacks and notifications sent to a local endpoint that
// accepts everything. Cancel it to interrupt it; done gets what run returned.
type liveRun struct {
	out    *watchedOutput
	done   chan error
	cancel context.CancelFunc
}

func startLive(t *testing.T, srv *khiputest.Server, apiKey string) *liveRun {
	t.Helper()
	pollInterval = 10 * time.Millisecond
	accepting := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	t.Cleanup(accepting.Close)
	env := map[string]string{"KHIPU_API_KEY": apiKey, "KHIPU_BASE_URL": srv.V3URL(), "KHIPU_NOTIFY_URL": accepting.URL}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	l := &liveRun{out: newWatchedOutput(), done: make(chan error, 1), cancel: cancel}
	go func() { l.done <- run(ctx, l.out, func(k string) string { return env[k] }) }()
	return l
}

func TestSubscriptionsLiveModeWaitsForTheMandateThenCharges(t *testing.T) {
	srv := khiputest.NewServer("12345", "live-secret")
	defer srv.Close()
	live := startLive(t, srv, srv.APIKey())

	id := live.out.waitFor(t, `Subscription (\S+) created`)
	live.out.waitFor(t, `status: DISABLED \(bank: no-bank\)`)
	require.NoError(t, srv.SignSubscription(id))
	live.out.waitFor(t, `status: SIGNED \(bank: 8\)`)
	require.NoError(t, srv.AuthorizeSubscription(id))
	paymentID := live.out.waitFor(t, `payment (\w+)\. Waiting for the bank`)
	live.out.waitFor(t, `status: pending \(pending\)`)
	require.NoError(t, srv.Pay(paymentID))
	require.NoError(t, <-live.done, live.out.String())

	text := live.out.String()
	assert.Contains(t, text, srv.V3URL()+"/pac-manager/"+id, "the mandate URL is printed")
	assert.Contains(t, text, "status: ENABLED (bank: 8)")
	assert.Contains(t, text, "Charged 1000 CLP")
	assert.Contains(t, text, "status: done (normal)")
	assert.Contains(t, text, "4. Paid and checked.")
}

func TestSubscriptionsLiveModeStopsWhenInterrupted(t *testing.T) {
	srv := khiputest.NewServer("12345", "live-secret")
	defer srv.Close()
	live := startLive(t, srv, srv.APIKey())
	live.out.waitFor(t, `status: DISABLED`)
	live.cancel()
	assert.ErrorIs(t, <-live.done, context.Canceled)
	assert.Contains(t, live.out.String(), "Stopped before the mandate was enabled.")
}

func TestSubscriptionsLiveModeReportsAWrongKeyWithoutPrintingIt(t *testing.T) {
	srv := khiputest.NewServer("12345", "live-secret")
	defer srv.Close()
	live := startLive(t, srv, "wrong-api-key")
	err := <-live.done
	var ae *khipu.AuthorizationError
	require.ErrorAs(t, err, &ae)
	assert.NotContains(t, err.Error(), "wrong-api-key")
	assert.NotContains(t, live.out.String(), "wrong-api-key")
}
