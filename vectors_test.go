package khipu_test

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/khipu-go/khipu"
)

// TestTheClientSendsKhipusOwnSignatures sends each request of
// testdata/signing-vectors.json through a real Client to
// https://khipu.com/api/2.0 — the URL the vectors were signed for — with a
// transport that dials a TLS server on loopback instead of Khipu. The
// Authorization header that arrives must be the vector's, byte for byte:
// the hashes were computed by Khipu's official client, not by this code.
func TestTheClientSendsKhipusOwnSignatures(t *testing.T) {
	raw := fixture(t, "signing-vectors.json")
	var file struct {
		Secret     string `json:"secret"`
		ReceiverID string `json:"receiver_id"`
		Vectors    []struct {
			Name   string            `json:"name"`
			Method string            `json:"method"`
			URL    string            `json:"url"`
			Params map[string]string `json:"params"`
			Hash   string            `json:"hash"`
		} `json:"vectors"`
	}
	require.NoError(t, json.Unmarshal(raw, &file))

	type arrival struct {
		method, url, auth string
		params            url.Values
	}
	var (
		mu  sync.Mutex
		got []arrival
	)
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		assert.NoError(t, r.ParseForm())
		params := r.URL.Query()
		if r.Method == http.MethodPost {
			params = r.PostForm
		}
		mu.Lock()
		got = append(got, arrival{r.Method, "https://" + r.Host + r.URL.Path, r.Header.Get("Authorization"), params})
		mu.Unlock()
		switch r.URL.Path {
		case "/api/2.0/banks":
			respond(w, 200, fixture(t, "banks.json"))
		case "/api/2.0/payments":
			if r.Method == http.MethodPost {
				respond(w, 200, fixture(t, "payment-created.json"))
				return
			}
			respond(w, 200, fixture(t, "payment-done.json"))
		default:
			respond(w, 200, fixture(t, "success.json"))
		}
	}))
	defer srv.Close()
	transport := srv.Client().Transport.(*http.Transport).Clone()
	transport.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, srv.Listener.Addr().String())
	}
	transport.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} // loopback stands in for khipu.com
	c, err := khipu.NewClient(file.ReceiverID, file.Secret, khipu.WithHTTPClient(&http.Client{Transport: transport}))
	require.NoError(t, err)

	// The call each vector describes.
	ctx := context.Background()
	calls := map[string]func() error{
		"list banks": func() error { _, err := c.Banks.List(ctx); return err },
		"payment by notification token": func() error {
			_, err := c.Payments.GetByNotificationToken(ctx, "j8kPBHaHgvkDGAaTn2gVnWSVUYfk6wYw9LgtnHJc")
			return err
		},
		"create payment with characters that need encoding": func() error {
			_, err := c.Payments.Create(ctx, &khipu.PaymentCreateParams{
				Subject: "Compra de prueba ñandú & co", Currency: "CLP", Amount: khipu.NewAmount(1000),
				TransactionID: "MTI-100", ReturnURL: "https://mi-ecomerce.com/backend/return?x=1&y=a b",
				Custom: "<xml a='1'>~*!</xml>",
			})
			return err
		},
		"delete payment": func() error { _, err := c.Payments.Delete(ctx, "abc123def456"); return err },
	}
	require.Len(t, calls, len(file.Vectors), "one call per vector")
	for i, v := range file.Vectors {
		call, ok := calls[v.Name]
		require.True(t, ok, "no call for vector %q", v.Name)
		require.NoError(t, call(), v.Name)
		mu.Lock()
		a := got[i]
		mu.Unlock()
		want := url.Values{}
		for k, val := range v.Params {
			want.Set(k, val)
		}
		assert.Equal(t, v.Method, a.method, v.Name)
		assert.Equal(t, v.URL, a.url, v.Name)
		assert.Equal(t, want, a.params, "%s: the client sent exactly the vector's parameters", v.Name)
		assert.Equal(t, file.ReceiverID+":"+v.Hash, a.auth, "%s: Khipu's signature, byte for byte", v.Name)
	}
}
