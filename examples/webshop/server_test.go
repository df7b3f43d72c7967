package main

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTheShopsServerHasLimitsForTheInternet(t *testing.T) {
	srv := newHTTPServer(http.NotFoundHandler())
	// A slow client that sends its headers, or its body, a byte at a time,
	// or never reads the answer, or keeps a connection idle, is cut off.
	assert.Positive(t, srv.ReadHeaderTimeout)
	assert.Positive(t, srv.ReadTimeout)
	assert.Positive(t, srv.WriteTimeout)
	assert.Positive(t, srv.IdleTimeout)
	assert.GreaterOrEqual(t, srv.WriteTimeout, lookupTimeout, "a v2 notification asks Khipu before it is answered")
	assert.Positive(t, srv.MaxHeaderBytes)
	assert.Less(t, srv.MaxHeaderBytes, http.DefaultMaxHeaderBytes)

	// The running shop refuses headers over its limit.
	ctx, stop := context.WithCancel(context.Background())
	out := newWatchedOutput()
	served := make(chan error, 1)
	go func() {
		served <- serve(ctx, slog.New(slog.NewTextHandler(out, nil)), config{
			addr: "127.0.0.1:0", db: sqliteTestDSN(t), api: "v2", getenv: func(string) string { return "" },
		})
	}()
	t.Cleanup(func() {
		stop()
		assert.NoError(t, <-served)
	})
	shopURL := out.waitFor(t, `msg="shop open" url=(\S+)`)

	req, err := http.NewRequest(http.MethodGet, shopURL+"/", nil)
	require.NoError(t, err)
	req.Header.Set("X-Padding", strings.Repeat("a", 2*srv.MaxHeaderBytes))
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusRequestHeaderFieldsTooLarge, resp.StatusCode)

	resp, err = http.Get(shopURL + "/")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode, "an ordinary request is served")
}
