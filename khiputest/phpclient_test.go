package khiputest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/khipu-go/khipu"
	"github.com/khipu-go/khipu/internal/sign"
	"github.com/khipu-go/khipu/khiputest"
)

// These tests send requests shaped like those of Khipu's official PHP client
// (khipu-api-php-client 2.9.1), whose signing code produced the vectors in
// testdata/signing-vectors.json: every request carries its User-Agent,
// Accept: application/json and a form Content-Type, even a GET; a form is
// built with PHP's http_build_query, in the order of the client's
// parameters; a DateTime is written with PHP's DateTime::ISO8601, whose
// offset has no colon; a bool is written as 1 or 0; and a float amount as
// PHP prints it.

// phpParam is one parameter, in the order the PHP client adds it.
type phpParam struct{ key, value string }

// phpBuildQuery encodes params as PHP's http_build_query does: urlencode,
// which leaves only letters, digits, '-', '_' and '.' as they are and writes
// a space as '+'.
func phpBuildQuery(params []phpParam) string {
	escape := func(s string) string {
		var b strings.Builder
		for _, c := range []byte(s) {
			switch {
			case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '_', c == '.':
				b.WriteByte(c)
			case c == ' ':
				b.WriteByte('+')
			default:
				fmt.Fprintf(&b, "%%%02X", c)
			}
		}
		return b.String()
	}
	parts := make([]string, len(params))
	for i, p := range params {
		parts[i] = escape(p.key) + "=" + escape(p.value)
	}
	return strings.Join(parts, "&")
}

// phpDate is t as PHP's DateTime::ISO8601 writes it.
func phpDate(t time.Time) string { return t.Format("2006-01-02T15:04:05-0700") }

// phpCall sends a request as the PHP client does and returns the status and
// the JSON answer.
func phpCall(t *testing.T, srv *khiputest.Server, method, path string, params []phpParam) (int, map[string]any) {
	t.Helper()
	full := srv.URL() + path
	signed := url.Values{}
	for _, p := range params {
		signed.Set(p.key, p.value)
	}
	var body io.Reader
	target := full
	switch {
	case method == http.MethodPost:
		body = strings.NewReader(phpBuildQuery(params))
	case len(params) > 0:
		target += "?" + phpBuildQuery(params)
	}
	req, err := http.NewRequest(method, target, body)
	require.NoError(t, err)
	req.Header.Set("User-Agent", "khipu-api-php-client/2.9.1")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", sign.New(receiverID, secret).Authorization(method, full, signed))
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var answer map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&answer))
	return resp.StatusCode, answer
}

func TestTheOfficialPHPClientsRequestsAreAccepted(t *testing.T) {
	srv, client := newServer(t)
	expires := time.Date(2036, 12, 3, 0, 55, 0, 0, time.UTC)
	create := []phpParam{
		{"subject", "Compra de prueba ñandú & co"}, {"currency", "CLP"}, {"amount", "1000"},
		{"transaction_id", "MTI-100"}, {"custom", "<xml a='1'>~*!</xml>"}, {"body", "Detalle"},
		{"bank_id", "Bawdf"}, {"return_url", "https://mi-ecomerce.com/backend/return?x=1&y=a b"},
		{"cancel_url", "https://mi-ecomerce.com/backend/cancel"}, {"picture_url", "https://mi-ecomerce.com/p.png"},
		{"notify_url", "https://mi-ecomerce.com/backend/notify"}, {"notify_api_version", "1.3"},
		{"expires_date", phpDate(expires)}, {"send_email", "1"}, {"payer_name", "Ana"},
		{"payer_email", "ana@example.com"}, {"send_reminders", "0"},
		{"responsible_user_email", "ventas@example.com"}, {"fixed_payer_personal_identifier", "11.111.111-1"},
	}
	require.Equal(t, "2036-12-03T00:55:00+0000", phpDate(expires), "PHP's ISO8601: no colon in the offset")

	status, created := phpCall(t, srv, http.MethodPost, "/payments", create)
	require.Equal(t, http.StatusOK, status, "%v", created)
	id, _ := created["payment_id"].(string)
	require.NotEmpty(t, id)

	t.Run("the payment reads back as the PHP client sent it", func(t *testing.T) {
		p, err := client.Payments.Get(context.Background(), id)
		require.NoError(t, err)
		assert.True(t, expires.Equal(p.ExpiresDate), "%v", p.ExpiresDate)
		assert.True(t, p.SendEmail, "send_email=1")
		assert.False(t, p.SendReminders, "send_reminders=0")
		assert.Equal(t, "Compra de prueba ñandú & co", p.Subject)
		assert.Equal(t, "https://mi-ecomerce.com/backend/return?x=1&y=a b", p.ReturnURL)
	})

	t.Run("every other call of the PHP client is accepted", func(t *testing.T) {
		paid, err := client.Payments.Create(context.Background(), &khipu.PaymentCreateParams{Subject: "x", Currency: "CLP", Amount: khipu.NewAmount(2000)})
		require.NoError(t, err)
		require.NoError(t, srv.Pay(paid.PaymentID))
		p, err := client.Payments.Get(context.Background(), paid.PaymentID)
		require.NoError(t, err)
		calls := []struct {
			method, path string
			params       []phpParam
		}{
			{http.MethodGet, "/banks", nil},
			{http.MethodGet, "/payments", []phpParam{{"notification_token", p.NotificationToken}}},
			{http.MethodGet, "/payments/" + id, nil},
			{http.MethodGet, "/merchants/" + receiverID + "/paymentMethods", nil},
			{http.MethodPost, "/receivers", []phpParam{
				{"admin_first_name", "Ana"}, {"admin_last_name", "Pérez"}, {"admin_email", "ana@shop.example"},
				{"country_code", "CL"}, {"business_identifier", "76.123.456-7"}, {"business_category", "ecommerce"},
				{"business_name", "Tienda Ana"}, {"business_phone", "+56 2 2345 6789"},
				{"business_address_line_1", "Av. Providencia 123"}, {"business_address_line_2", "Providencia"},
				{"business_address_line_3", "Santiago"}, {"contact_full_name", "Ana Pérez"},
				{"contact_job_title", "Gerente"}, {"contact_email", "ana@shop.example"}, {"contact_phone", "+56 9 8765 4321"},
			}},
			{http.MethodPost, "/payments/" + paid.PaymentID + "/refunds", []phpParam{{"amount", "500"}}},
			{http.MethodPost, "/payments/" + paid.PaymentID + "/confirm", nil},
			{http.MethodDelete, "/payments/" + id, nil},
		}
		for _, c := range calls {
			status, answer := phpCall(t, srv, c.method, c.path, c.params)
			assert.Equal(t, http.StatusOK, status, "%s %s: %v", c.method, c.path, answer)
		}
	})

	t.Run("booleans and dates no client sends are still refused", func(t *testing.T) {
		for _, change := range []phpParam{
			{"send_reminders", "2"}, {"send_reminders", "yes"}, {"send_reminders", "on"}, {"send_reminders", "t"},
			{"expires_date", "2036-12-03 00:55:00+0000"}, {"expires_date", "03/12/2036"}, {"expires_date", "2036-12-03"},
			{"expires_date", "Wed, 03 Dec 2036 00:55:00 GMT"}, {"expires_date", "2112309700"},
			{"expires_date", "2036-12-03 00:55:00 CLT"}, {"expires_date", "2036-12-03T00:55"},
		} {
			params := []phpParam{{"subject", "x"}, {"currency", "CLP"}, {"amount", "1000"}, change}
			status, answer := phpCall(t, srv, http.MethodPost, "/payments", params)
			require.Equal(t, http.StatusBadRequest, status, "%s=%s", change.key, change.value)
			errs, _ := answer["errors"].([]any)
			require.Len(t, errs, 1, "%v", answer)
			assert.Equal(t, change.key, errs[0].(map[string]any)["field"])
		}
	})
}
