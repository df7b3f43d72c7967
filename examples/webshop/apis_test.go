package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/khipu-go/khipu"
	"github.com/khipu-go/khipu/khiputest"
	"github.com/khipu-go/khipu/khipuv3"
)

// The Khipu API versions the shop speaks, as the tests drive them. Every
// test that goes through Khipu runs once per version (forEachAPI).

// The account of the khiputest server the tests start; in v3 its secret
// also signs notifications.
const (
	testReceiverID = "12345"
	testSecret     = "shop-secret"
)

// newKhipu starts the in-memory Khipu, closed at the end of the test.
func newKhipu(t testing.TB, opts ...khiputest.ServerOption) *khiputest.Server {
	srv := khiputest.NewServer(testReceiverID, testSecret, opts...)
	t.Cleanup(srv.Close)
	return srv
}

// khipuAPI is one API version, and how the tests use it.
type khipuAPI struct {
	version string // as -api takes it
	// createEndpoint and getEndpoint are khiputest's names for creating a
	// payment and for asking for one.
	createEndpoint, getEndpoint string
	// flags returns the flags and environment of a shop process that talks
	// to srv.
	flags func(srv *khiputest.Server) (args, env []string)
	// gateway returns the Gateway of a shop in the test process.
	gateway func(t *testing.T, srv *khiputest.Server) Gateway
	// paymentOrder returns the order id (transaction_id) of a payment.
	paymentOrder func(t testing.TB, srv *khiputest.Server, paymentID string) string
	// forgedNotification is a notification that does not come from Khipu,
	// naming a real payment.
	forgedNotification func(t *testing.T, srv *khiputest.Server, notifyURL, paymentID string) *http.Request
}

var apis = []khipuAPI{apiV2, apiV3}

// forEachAPI runs test once per API version.
func forEachAPI(t *testing.T, test func(t *testing.T, api khipuAPI)) {
	for _, api := range apis {
		t.Run(api.version, func(t *testing.T) { test(t, api) })
	}
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func v2Client(t testing.TB, srv *khiputest.Server) *khipu.Client {
	client, err := khipu.NewClient(testReceiverID, testSecret, khipu.WithBaseURL(srv.URL()))
	require.NoError(t, err)
	return client
}

func v3Client(t testing.TB, srv *khiputest.Server) *khipuv3.Client {
	client, err := khipuv3.NewClient(srv.APIKey(), khipuv3.WithBaseURL(srv.V3URL()))
	require.NoError(t, err)
	return client
}

var apiV2 = khipuAPI{
	version:        "v2",
	createEndpoint: khiputest.EndpointPaymentsCreate,
	getEndpoint:    khiputest.EndpointPaymentsGet,
	flags: func(srv *khiputest.Server) ([]string, []string) {
		return []string{"-api", "v2", "-khipu-url", srv.URL()},
			[]string{"KHIPU_RECEIVER_ID=" + testReceiverID, "KHIPU_SECRET=" + testSecret}
	},
	gateway: func(t *testing.T, srv *khiputest.Server) Gateway {
		client, err := khipu.NewClient(testReceiverID, testSecret, khipu.WithBaseURL(srv.URL()), khipu.WithLogger(quiet))
		require.NoError(t, err)
		return v2Gateway{client}
	},
	paymentOrder: func(t testing.TB, srv *khiputest.Server, paymentID string) string {
		p, err := v2Client(t, srv).Payments.Get(context.Background(), paymentID)
		require.NoError(t, err)
		return p.TransactionID
	},
	forgedNotification: func(t *testing.T, _ *khiputest.Server, notifyURL, _ string) *http.Request {
		// A token Khipu never issued: the lookup fails at Khipu.
		form := url.Values{"api_version": {"1.3"}, "notification_token": {"forged-token"}}
		req, err := http.NewRequest(http.MethodPost, notifyURL, strings.NewReader(form.Encode()))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return req
	},
}

var apiV3 = khipuAPI{
	version:        "v3",
	createEndpoint: khiputest.EndpointV3PaymentsCreate,
	getEndpoint:    khiputest.EndpointV3PaymentsGet,
	flags: func(srv *khiputest.Server) ([]string, []string) {
		return []string{"-api", "v3", "-khipu-url", srv.V3URL()},
			[]string{"KHIPU_API_KEY=" + srv.APIKey(), "KHIPU_SECRET=" + testSecret}
	},
	gateway: func(t *testing.T, srv *khiputest.Server) Gateway {
		return v3Gateway{client: v3Client(t, srv), secret: testSecret, log: quiet}
	},
	paymentOrder: func(t testing.TB, srv *khiputest.Server, paymentID string) string {
		p, err := v3Client(t, srv).Payments.Get(context.Background(), paymentID)
		require.NoError(t, err)
		return p.TransactionID
	},
	forgedNotification: func(t *testing.T, srv *khiputest.Server, notifyURL, paymentID string) *http.Request {
		// The real payment, as Khipu would send it, but signed with
		// another secret.
		p, err := v3Client(t, srv).Payments.Get(context.Background(), paymentID)
		require.NoError(t, err)
		body := []byte(`{"payment_id":"` + p.PaymentID + `","receiver_id":"` + testReceiverID + `","amount":` + p.Amount.String() +
			`,"currency":"` + p.Currency + `","transaction_id":"` + p.TransactionID + `"}`)
		req, err := http.NewRequest(http.MethodPost, notifyURL, bytes.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set(khipuv3.SignatureHeader, khipuv3.Sign("not-the-shop-secret", time.Now(), body))
		return req
	},
}
