package khiputest_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/khipu-go/khipu/internal/sign"
)

// A request body is capped at 64 KiB. Each body here starts with a valid
// request and is padded past the cap with what the API would ignore (JSON
// white space, empty form fields) before its end: were the cap's check gone,
// the body cut at the cap would read as the valid request alone and create a
// payment; were the cap gone, the garbage at the end would be read.
func TestABodyOverTheCapIsRefusedWhole(t *testing.T) {
	srv := newV3Server(t)
	pad := 70_000

	t.Run("v3 JSON", func(t *testing.T) {
		ke := v3Fails(t, srv, http.StatusBadRequest, http.MethodPost, "/v3/payments", v3Order+strings.Repeat(" ", pad)+"garbage")
		assert.Contains(t, ke.Message, "larger than 64 KiB")
	})
	t.Run("v2 form", func(t *testing.T) {
		form := validCreate()
		full := srv.URL() + "/payments"
		req, err := http.NewRequest(http.MethodPost, full, strings.NewReader(form.Encode()+strings.Repeat("&", pad)+"garbage"))
		require.NoError(t, err)
		req.Header.Set("Authorization", sign.New(receiverID, secret).Authorization(http.MethodPost, full, form))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		var ke khipuError
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&ke))
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode, "%+v", ke)
		assert.Contains(t, ke.Message, "larger than 64 KiB")
	})
	t.Run("just under the cap is read", func(t *testing.T) {
		body := v3Order + strings.Repeat(" ", 64<<10-len(v3Order))
		require.Len(t, body, 64<<10)
		v3Create(t, srv, body)
	})
	t.Run("neither created a payment", func(t *testing.T) {
		received := srv.Requests()
		require.Len(t, received, 3)
		assert.Equal(t, http.StatusBadRequest, received[0].Status)
		assert.Equal(t, http.StatusBadRequest, received[1].Status)
	})
}
