package khipu_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/khipu-go/khipu"
)

func TestClientsWithoutAnHTTPClientShareOneTransport(t *testing.T) {
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		respond(w, 200, fixture(t, "banks.json"))
	}))
	srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)

	// Two collection accounts, as an integrator serves many.
	shopA, err := khipu.NewClient("111111", "secret-a", khipu.WithBaseURL(srv.URL))
	require.NoError(t, err)
	shopB, err := khipu.NewClient("222222", "secret-b", khipu.WithBaseURL(srv.URL))
	require.NoError(t, err)
	require.NotNil(t, khipu.HTTPClientOf(shopA).Transport)
	assert.Same(t, khipu.HTTPClientOf(shopA).Transport, khipu.HTTPClientOf(shopB).Transport, "one transport")
	assert.NotSame(t, khipu.HTTPClientOf(shopA), khipu.HTTPClientOf(shopB), "each Client has its own http.Client")

	// Reading a body to its end puts its connection back in the pool
	// before the read returns: the second account's call finds it there.
	_, err = shopA.Banks.List(context.Background())
	require.NoError(t, err)
	_, err = shopB.Banks.List(context.Background())
	require.NoError(t, err)
	assert.EqualValues(t, 1, conns.Load(), "the second account reused the first one's connection")

	// A Client given its own http.Client uses it, and its transport.
	own := &http.Client{Transport: &http.Transport{}}
	shopC, err := khipu.NewClient("333333", "secret-c", khipu.WithBaseURL(srv.URL), khipu.WithHTTPClient(own))
	require.NoError(t, err)
	assert.Same(t, own.Transport, khipu.HTTPClientOf(shopC).Transport)
	_, err = shopC.Banks.List(context.Background())
	require.NoError(t, err)
	assert.EqualValues(t, 2, conns.Load(), "not the shared pool's connection")
}
