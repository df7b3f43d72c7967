package main

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/khipu-go/khipu/khiputest"
)

func TestShopRefusesToStartWhenItCouldNotTakePayments(t *testing.T) {
	env := func(kv ...string) func(string) string {
		return func(name string) string {
			for i := 0; i < len(kv); i += 2 {
				if kv[i] == name {
					return kv[i+1]
				}
			}
			return ""
		}
	}
	tests := []struct {
		name string
		cfg  config
		want string
	}{
		{"an unknown API version", config{api: "v4", getenv: env()}, "want v2 or v3"},
		{"v2 with a receiver id but no secret", config{api: "v2", getenv: env("KHIPU_RECEIVER_ID", "1")}, "KHIPU_SECRET"},
		{"v2 live without credentials", config{api: "v2", live: true, getenv: env()}, "KHIPU_RECEIVER_ID and KHIPU_SECRET"},
		{"v2 at a Khipu URL without credentials", config{api: "v2", khipuURL: "http://127.0.0.1:1/api/2.0", getenv: env()}, "KHIPU_RECEIVER_ID"},
		{"v3 with an API key but no secret", config{api: "v3", getenv: env("KHIPU_API_KEY", "k")}, "KHIPU_SECRET"},
		{"v3 live without credentials", config{api: "v3", live: true, getenv: env()}, "KHIPU_API_KEY"},
		{
			// Khipu could not notify the shop, and every order would
			// stay unpaid.
			"real Khipu without a public URL",
			config{api: "v2", getenv: env("KHIPU_RECEIVER_ID", "1", "KHIPU_SECRET", "s")}, "-public-url",
		},
		{"real Khipu v3 with a relative public URL", config{api: "v3", publicURL: "/shop", getenv: env("KHIPU_API_KEY", "k", "KHIPU_SECRET", "s")}, "-public-url"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.addr, tt.cfg.db = "127.0.0.1:0", sqliteTestDSN(t)
			err := serve(context.Background(), quiet, tt.cfg)
			if assert.Error(t, err) {
				assert.Contains(t, err.Error(), tt.want)
			}
		})
	}
}

// TestShopAnswersANotificationInFlightBeforeItStops stops the shop (as
// SIGTERM does: serve's context ends) while a notification is being
// processed: the shop must finish it, and Khipu must get its 200, before the
// database closes. The embedded khiputest notifies once, so a notification
// lost here is a payment the shop never delivers.
//
// The notification is held where the v2 handler asks Khipu for the payment.
// v3 verifies a notification without asking Khipu, so it has no such place;
// serve's shutdown does not depend on the API.
func TestShopAnswersANotificationInFlightBeforeItStops(t *testing.T) {
	// Khipu, served by the test so that it can hold the lookup of a
	// notification's token until released.
	lookedUp := make(chan struct{}, 1)
	release := make(chan struct{})
	var releaseOnce sync.Once
	releaseLookups := func() { releaseOnce.Do(func() { close(release) }) }
	khipuSrv := httptest.NewUnstartedServer(nil)
	fake := khiputest.NewServer(testReceiverID, testSecret, khiputest.WithPublicURL("http://"+khipuSrv.Listener.Addr().String()))
	khipuSrv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && r.URL.Path == khiputest.APIPath+"/payments" && r.URL.Query().Has("notification_token") {
			select {
			case lookedUp <- struct{}{}:
			default:
			}
			<-release
		}
		fake.ServeHTTP(w, r)
	})
	khipuSrv.Start()
	t.Cleanup(fake.Close)
	t.Cleanup(khipuSrv.Close)
	t.Cleanup(releaseLookups) // first: Close waits for the held requests

	ctx, stop := context.WithCancel(context.Background())
	t.Cleanup(stop)
	out := newWatchedOutput()
	dsn := sqliteTestDSN(t)
	cfg := config{
		addr: "127.0.0.1:0", db: dsn, api: "v2", khipuURL: fake.URL(),
		getenv: func(name string) string {
			return map[string]string{"KHIPU_RECEIVER_ID": testReceiverID, "KHIPU_SECRET": testSecret}[name]
		},
	}
	served := make(chan error, 1)
	go func() { served <- serve(ctx, slog.New(slog.NewTextHandler(out, nil)), cfg) }()
	shopURL := out.waitFor(t, `msg="shop open" url=(\S+)`)

	noRedirects := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noRedirects.PostForm(shopURL+"/orders", url.Values{"product": {"mate"}})
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	paymentID := path.Base(resp.Header.Get("Location"))
	orderID := apiV2.paymentOrder(t, fake, paymentID)

	// The payer pays; Khipu notifies, and the shop asks Khipu about the
	// token, where the test holds it.
	notified := make(chan error, 1)
	go func() { notified <- fake.Pay(paymentID) }()
	select {
	case <-lookedUp:
	case err := <-notified:
		t.Fatalf("the notification was answered before its lookup was held: %v", err)
	case <-time.After(processDeadline):
		t.Fatal("the shop never looked the notification up")
	}

	// The shop is told to stop and stops listening; then Khipu answers.
	stop()
	out.waitFor(t, `msg="shop closing`)
	releaseLookups()

	select {
	case err := <-notified:
		require.NoError(t, err, "Khipu got a 2xx for its notification\n%s", out)
	case <-time.After(processDeadline):
		t.Fatal("the notification was never answered")
	}
	select {
	case err := <-served:
		require.NoError(t, err, "serve ends cleanly")
	case <-time.After(processDeadline):
		t.Fatal("serve did not return")
	}
	order, err := openStore(t, dsn).Get(context.Background(), orderID)
	require.NoError(t, err)
	assert.Equal(t, OrderPaid, order.State(), "the notification paid the order")
}

// watchedOutput is a log that the code under test writes while the test
// reads it, and waits on: nothing else makes a line arrive before the test
// looks for it.
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

// waitFor waits up to processDeadline until the output matches re and
// returns the match's last group (the whole match without a group).
func (w *watchedOutput) waitFor(t *testing.T, re string) string {
	t.Helper()
	pattern := regexp.MustCompile(re)
	timeout := time.After(processDeadline)
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
