package khiputest_test

import (
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/khipu-go/khipu"
	"github.com/khipu-go/khipu/khiputest"
)

// get fetches url and returns its status, Content-Type and body.
func get(t *testing.T, url string) (int, string, string) {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, resp.Header.Get("Content-Type"), string(body)
}

func TestAPaidPaymentHasAReceiptAtItsReceiptURL(t *testing.T) {
	srv, client := newServer(t)
	ctx := context.Background()
	created, err := client.Payments.Create(ctx, &khipu.PaymentCreateParams{
		Subject: "Order <7> & co", Currency: "CLP", Amount: khipu.NewAmount(5000), TransactionID: "order-7",
	})
	require.NoError(t, err)
	receipt := srv.V3URL() + "/receipts/" + created.PaymentID

	p, err := client.Payments.Get(ctx, created.PaymentID)
	require.NoError(t, err)
	assert.Empty(t, p.ReceiptURL, "a pending payment has no receipt_url")
	status, contentType, body := get(t, receipt)
	assert.Equal(t, http.StatusNotFound, status, "and no receipt")
	assert.Equal(t, "text/html; charset=utf-8", contentType)
	assert.Contains(t, body, "is pending: only a paid payment has a receipt")

	require.NoError(t, srv.Pay(created.PaymentID))
	p, err = client.Payments.Get(ctx, created.PaymentID)
	require.NoError(t, err)
	require.Equal(t, receipt, p.ReceiptURL)
	status, contentType, body = get(t, p.ReceiptURL)
	assert.Equal(t, http.StatusOK, status, "%s", body)
	assert.Equal(t, "text/html; charset=utf-8", contentType)
	for _, want := range []string{
		created.PaymentID, "Order &lt;7&gt; &amp; co", "5000 CLP", receiverID, "order-7",
		p.PayerName, p.PersonalIdentifier, p.Bank, p.BankAccountNumber, p.ConciliationDate.Format(time.RFC3339),
	} {
		assert.Contains(t, body, want)
	}

	t.Run("receipt_url and the receipt follow the status", func(t *testing.T) {
		for _, tt := range []struct {
			status khipu.PaymentStatus
			detail khipu.StatusDetail
			paid   bool
		}{
			{khipu.StatusDone, khipu.StatusDetailReversed, true},
			{khipu.StatusDone, khipu.StatusDetailMarkedPaidByReceiver, true},
			{khipu.StatusDone, khipu.StatusDetailRejectedByPayer, false},
			{khipu.StatusVerifying, khipu.StatusDetailNormal, false},
			{khipu.StatusPending, khipu.StatusDetailMarkedAsAbuse, false},
			{khipu.StatusDone, khipu.StatusDetailNormal, true},
		} {
			require.NoError(t, srv.SetStatus(created.PaymentID, tt.status, tt.detail))
			p, err := client.Payments.Get(ctx, created.PaymentID)
			require.NoError(t, err)
			status, _, body := get(t, receipt)
			if tt.paid {
				assert.Equal(t, receipt, p.ReceiptURL, "%s/%s", tt.status, tt.detail)
				assert.Equal(t, http.StatusOK, status, "%s/%s", tt.status, tt.detail)
				assert.Contains(t, body, string(tt.status), "%s/%s", tt.status, tt.detail)
			} else {
				assert.Empty(t, p.ReceiptURL, "%s/%s", tt.status, tt.detail)
				assert.Equal(t, http.StatusNotFound, status, "%s/%s", tt.status, tt.detail)
			}
		}
	})
	t.Run("no payment, no receipt", func(t *testing.T) {
		status, _, _ := get(t, srv.V3URL()+"/receipts/zzzzzzzzzzzz")
		assert.Equal(t, http.StatusNotFound, status)
	})
}

// chromium returns the path of Debian's chromium; the test skips without it
// unless KHIPUTEST_REQUIRE_CHROMIUM=1 (set by .ci/run, which installs it).
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if path, err := exec.LookPath(name); err == nil {
			return path
		}
	}
	if os.Getenv("KHIPUTEST_REQUIRE_CHROMIUM") == "1" {
		t.Fatal("no chromium on PATH, and KHIPUTEST_REQUIRE_CHROMIUM=1 (Debian: apt-get install chromium)")
	}
	t.Skip("skipped: no chromium on PATH (Debian: apt-get install chromium)")
	return ""
}

// dumpDOM loads url in a headless Chromium and returns the page's DOM once
// loaded, as the browser built it.
func dumpDOM(t *testing.T, url string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, chromium(t), "--headless", "--no-sandbox", "--disable-gpu",
		"--disable-component-update", "--user-data-dir="+t.TempDir(), "--dump-dom", url).Output()
	require.NoError(t, err, "chromium --dump-dom %s", url)
	return string(out)
}

func TestTheReceiptInABrowser(t *testing.T) {
	srv := newV3Server(t, khiputest.WithCurrencies("CLP", "USD"))
	id := v3Create(t, srv, `{"amount": 19.99, "currency": "USD", "subject": "Café ñandú", "transaction_id": "o-1"}`)
	dom := dumpDOM(t, srv.V3URL()+"/receipts/"+id)
	assert.Contains(t, dom, `<p id="reason">payment `+id+` is pending: only a paid payment has a receipt</p>`)

	require.NoError(t, srv.Pay(id))
	p := v3OK(t, srv, http.MethodGet, "/v3/payments/"+id, "")
	dom = dumpDOM(t, p["receipt_url"].(string))
	for _, want := range []string{
		`<title>khiputest: receipt of payment ` + id + `</title>`,
		`<dd id="payment_id">` + id + `</dd>`,
		`<dd id="subject">Café ñandú</dd>`,
		`<dd id="amount">19.99 USD</dd>`,
		`<dd id="transaction_id">o-1</dd>`,
		`<dd id="payer">` + p["payer_name"].(string) + `, ` + p["personal_identifier"].(string) + `</dd>`,
		`<dd id="status">done (normal)</dd>`,
	} {
		assert.Contains(t, dom, want)
	}
	assert.False(t, strings.Contains(dom, "reason"), "a receipt, not the page of none")
}
