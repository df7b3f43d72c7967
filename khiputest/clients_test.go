package khiputest_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/khipu-go/khipu/internal/sign"
	"github.com/khipu-go/khipu/khiputest"
)

// These tests send what Khipu's official v2 clients other than PHP's (see
// phpclient_test.go) write for a bool and a date, which Khipu accepts:
//
//   - .NET (khipu-api-dotnet-client 2.9.1) writes every parameter with
//     ApiClient.ParameterToString: a bool with Convert.ToString ("True",
//     "False"), a DateTime as "yyyy-MM-ddTHH:mm:ss.fffK", where K is "Z" for
//     a UTC DateTime, the offset for a local one, and nothing for one of
//     unspecified kind.
//   - Ruby (khipu-api-client 2.9.1) writes every form parameter with to_s:
//     a bool as "true", a Time as "2026-12-08 12:25:27 +0000" (" UTC" for a
//     time in UTC).
//
// Khipu's own API reference writes its example dates with a space:
// "2023-12-31 15:45:00-04:00".

func TestTheOfficialClientsBooleansAreAcceptedInAnyCase(t *testing.T) {
	srv, client := newServer(t)
	for _, tt := range []struct{ sendEmail, sendReminders string }{
		{"True", "False"}, {"true", "false"}, {"TRUE", "FALSE"}, {"1", "0"},
	} {
		form := validCreate()
		form.Set("send_email", tt.sendEmail)
		form.Set("payer_name", "Ana")
		form.Set("payer_email", "ana@example.com")
		form.Set("send_reminders", tt.sendReminders)
		id := mustCreateForm(t, srv, form)
		p, err := client.Payments.Get(context.Background(), id)
		require.NoError(t, err)
		assert.True(t, p.SendEmail, "send_email=%s", tt.sendEmail)
		assert.False(t, p.SendReminders, "send_reminders=%s", tt.sendReminders)
	}
	form := validCreate()
	form.Set("send_reminders", "True")
	p, err := client.Payments.Get(context.Background(), mustCreateForm(t, srv, form))
	require.NoError(t, err)
	assert.True(t, p.SendReminders, "True is true")
}

func TestTheOfficialClientsDatesAreAccepted(t *testing.T) {
	srv, client := newServer(t)
	chile, err := time.LoadLocation("America/Santiago")
	require.NoError(t, err)
	for _, tt := range []struct {
		who, sent string
		want      time.Time
	}{
		{".NET, a UTC DateTime", "2027-01-15T10:00:00.000Z", time.Date(2027, 1, 15, 10, 0, 0, 0, time.UTC)},
		{".NET, a local DateTime", "2027-01-15T10:00:00.000-03:00", time.Date(2027, 1, 15, 13, 0, 0, 0, time.UTC)},
		{".NET, a DateTime of unspecified kind: Chile's time, in summer", "2027-01-15T10:00:00.000", time.Date(2027, 1, 15, 13, 0, 0, 0, time.UTC)},
		{".NET, a DateTime of unspecified kind: Chile's time, in winter", "2027-07-15T10:00:00.000", time.Date(2027, 7, 15, 14, 0, 0, 0, time.UTC)},
		{"an ISO-8601 local time without fractions", "2027-07-15T10:00:00", time.Date(2027, 7, 15, 10, 0, 0, 0, chile)},
		{"Ruby, a Time", "2026-12-08 12:25:27 +0000", time.Date(2026, 12, 8, 12, 25, 27, 0, time.UTC)},
		{"Ruby, a Time in Chile", "2026-12-08 12:25:27 -0300", time.Date(2026, 12, 8, 15, 25, 27, 0, time.UTC)},
		{"Ruby, a Time in UTC", "2026-12-08 12:25:27 UTC", time.Date(2026, 12, 8, 12, 25, 27, 0, time.UTC)},
		{"Khipu's own examples", "2026-12-31 15:45:00-04:00", time.Date(2026, 12, 31, 19, 45, 0, 0, time.UTC)},
		{"a local time with a space", "2026-12-31 15:45:00", time.Date(2026, 12, 31, 15, 45, 0, 0, chile)},
	} {
		t.Run(tt.who, func(t *testing.T) {
			form := validCreate()
			form.Set("expires_date", tt.sent)
			p, err := client.Payments.Get(context.Background(), mustCreateForm(t, srv, form))
			require.NoError(t, err)
			assert.True(t, tt.want.Equal(p.ExpiresDate), "sent %s, read back %v, want %v", tt.sent, p.ExpiresDate, tt.want)

			// The same in v3's JSON, and as a confirm_timeout_date.
			v3 := newV3Server(t)
			id := v3Create(t, v3, `{"amount": 1000, "currency": "CLP", "subject": "x", "expires_date": "`+tt.sent+`", "confirm_timeout_date": "`+tt.sent+`"}`)
			got, err := time.Parse(time.RFC3339, v3OK(t, v3, http.MethodGet, "/v3/payments/"+id, "")["expires_date"].(string))
			require.NoError(t, err)
			assert.True(t, tt.want.Equal(got), "v3: sent %s, read back %v", tt.sent, got)
		})
	}
}

// mustCreateForm creates a payment with a v2 form signed as the server's
// account and returns its id.
func mustCreateForm(t *testing.T, srv *khiputest.Server, form url.Values) string {
	t.Helper()
	full := srv.URL() + "/payments"
	req, err := http.NewRequest(http.MethodPost, full, strings.NewReader(form.Encode()))
	require.NoError(t, err)
	req.Header.Set("Authorization", sign.New(receiverID, secret).Authorization(http.MethodPost, full, form))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var answer map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&answer))
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s: %v", form.Encode(), answer)
	id, _ := answer["payment_id"].(string)
	require.NotEmpty(t, id)
	return id
}
