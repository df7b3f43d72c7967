package khipu_test

// DecodeResponse on its own: the answers a caller's own call can get, with
// or without the request that asked.

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/khipu-go/khipu"
)

// answer is an *http.Response to a request made with the given header (nil:
// no request at all).
func answer(status int, header http.Header) *http.Response {
	resp := &http.Response{StatusCode: status, Header: http.Header{}, Body: http.NoBody}
	if header != nil {
		resp.Request = &http.Request{Method: http.MethodGet, URL: &url.URL{Scheme: "https", Host: "example.com", Path: "/v3/banks"}, Header: header}
	}
	return resp
}

func TestDecodeResponse(t *testing.T) {
	var out struct {
		Message string `json:"message"`
	}
	require.NoError(t, khipu.DecodeResponse(answer(200, http.Header{}), []byte(` {"message":"ok"} `), &out))
	assert.Equal(t, "ok", out.Message)
	assert.NoError(t, khipu.DecodeResponse(answer(204, nil), []byte("not JSON"), nil), "nil v: the body is not looked at")

	err := khipu.DecodeResponse(answer(200, http.Header{}), []byte(`{"message":`), &out)
	var ue *khipu.UnexpectedResponseError
	require.ErrorAs(t, err, &ue)
	assert.Equal(t, "khipu: unexpected response (HTTP 200): GET /v3/banks: malformed JSON: unexpected end of JSON input: body \"{\\\"message\\\":\"", err.Error())

	err = khipu.DecodeResponse(answer(200, nil), bytes.Repeat([]byte(" "), 1<<20+1), &out)
	require.ErrorAs(t, err, &ue)
	assert.Contains(t, err.Error(), "body larger than 1048576 bytes")

	err = khipu.DecodeResponse(answer(400, http.Header{"X-Api-Key": {"k"}}), []byte(`{"message":"Monto inválido","errors":[{"field":"amount","message":"es 0"}]}`), &out)
	var ve *khipu.ValidationError
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, []khipu.FieldError{{Field: "amount", Message: "es 0"}}, ve.Errors)
}

func TestDecodeResponseHintsWhichAPIsBaseURL(t *testing.T) {
	page := []byte("404 page not found\n")
	for name, tc := range map[string]struct {
		resp *http.Response
		hint string
	}{
		"v2 (signed)":        {answer(404, http.Header{"Authorization": {"12345:sig"}}), v2Hint},
		"v3 (x-api-key)":     {answer(404, http.Header{"X-Api-Key": {"k"}}), v3Hint},
		"no request to tell": {answer(404, nil), "check the base URL: API v2's is https://khipu.com/api/2.0, API v3's the host root, https://payment-api.khipu.com"},
	} {
		err := khipu.DecodeResponse(tc.resp, page, nil)
		var ue *khipu.UnexpectedResponseError
		require.ErrorAs(t, err, &ue, name)
		assert.Equal(t, `khipu: unexpected response (HTTP 404): HTTP status 404 without Khipu's JSON error; `+tc.hint+`: body "404 page not found\n"`, err.Error(), name)
	}
}

// A caller's own *http.Request may have no URL (DecodeResponse does not
// need one): its answer is mapped as any other, never a panic.
func TestDecodeResponseOfARequestWithoutAURL(t *testing.T) {
	for _, header := range []http.Header{{"X-Api-Key": {"k"}}, {"Authorization": {"12345:sig"}}} {
		resp := answer(500, header)
		resp.Request.URL = nil
		err := khipu.DecodeResponse(resp, []byte(`{"message":"Servicio no disponible"}`), nil)
		var se *khipu.ServiceError
		require.ErrorAs(t, err, &se, "%v", header)
		assert.Equal(t, "khipu: service error (HTTP 500): Servicio no disponible", err.Error(), "%v", header)
	}
}

func TestDecodeResponseNeverKeepsACreatedReceiversSecret(t *testing.T) {
	body := []byte(`{"receiver_id": 4242, "secret": "n3w-S3CRET", "oops"`)
	err := khipu.DecodeResponse(answer(200, http.Header{}), body, new(khipu.ReceiverCreated))
	var ue *khipu.UnexpectedResponseError
	require.ErrorAs(t, err, &ue)
	assert.NotContains(t, err.Error(), "n3w-S3CRET")
	assert.NotContains(t, string(ue.Body), "n3w-S3CRET")
}

func TestAnUnexpectedResponseIsLoggedWithoutItsBody(t *testing.T) {
	const email = "payer@example.com"
	err := khipu.DecodeResponse(answer(502, http.Header{}), []byte("<html>upstream sent "+email+"</html>"), nil)
	var ue *khipu.UnexpectedResponseError
	require.ErrorAs(t, err, &ue)
	require.Contains(t, err.Error(), email, "Error() quotes the body, for diagnosis")

	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Error("call failed", "error", err)
	assert.NotContains(t, buf.String(), email, "a log record does not")
	summary := "khipu: unexpected response (HTTP 502): HTTP status 502 without Khipu's JSON error: wrong JSON type: something that is not JSON where an object was expected"
	assert.Equal(t, summary, ue.LogValue().String())
	assert.Contains(t, buf.String(), `"error":"`+summary+`"`)
	assert.Equal(t, summary+`: body "<html>upstream sent `+email+`</html>"`, err.Error())
}
