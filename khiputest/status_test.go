package khiputest_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/khipu-go/khipu"
)

func TestSetStatusPutsAPaymentInEveryStateKhipuDocuments(t *testing.T) {
	ctx := context.Background()
	srv, client := newServer(t)
	tests := []struct {
		status     khipu.PaymentStatus
		detail     khipu.StatusDetail
		paid       bool // has a conciliation date and a payer's bank
		delivered  bool // Payment.Check lets the shop deliver
		refundable bool
	}{
		{khipu.StatusPending, khipu.StatusDetailPending, false, false, false},
		{khipu.StatusPending, khipu.StatusDetailRejectedByPayer, false, false, false},
		{khipu.StatusPending, khipu.StatusDetailMarkedAsAbuse, false, false, false},
		{khipu.StatusVerifying, khipu.StatusDetailPending, false, false, false},
		{khipu.StatusVerifying, khipu.StatusDetailNormal, false, false, false},
		{khipu.StatusDone, khipu.StatusDetailNormal, true, true, true},
		{khipu.StatusDone, khipu.StatusDetailMarkedPaidByReceiver, true, true, false},
		{khipu.StatusDone, khipu.StatusDetailRejectedByPayer, false, false, false},
		{khipu.StatusDone, khipu.StatusDetailMarkedAsAbuse, false, false, false},
		{khipu.StatusDone, khipu.StatusDetailReversed, true, false, false},
	}
	for _, tt := range tests {
		t.Run(string(tt.status)+"/"+string(tt.detail), func(t *testing.T) {
			created, err := client.Payments.Create(ctx, &khipu.PaymentCreateParams{
				Subject: "x", Currency: "CLP", Amount: khipu.NewAmount(1000), TransactionID: "order-1",
			})
			require.NoError(t, err)
			require.NoError(t, srv.SetStatus(created.PaymentID, tt.status, tt.detail))

			p, err := client.Payments.Get(ctx, created.PaymentID)
			require.NoError(t, err)
			assert.Equal(t, tt.status, p.Status)
			assert.Equal(t, tt.detail, p.StatusDetail)
			assert.Equal(t, tt.paid, !p.ConciliationDate.IsZero(), "conciliation date")
			assert.Equal(t, tt.paid, p.Bank != "", "payer's bank")
			assert.Equal(t, tt.delivered, p.Check("order-1", khipu.NewAmount(1000), "CLP") == nil)

			_, err = client.Payments.Refund(ctx, created.PaymentID, &khipu.RefundParams{Amount: khipu.NewAmount(1)})
			assert.Equal(t, tt.refundable, err == nil, "refund: %v", err)
		})
	}

	t.Run("a verifying payment is paid by Pay", func(t *testing.T) {
		created := mustCreate(t, client)
		require.NoError(t, srv.SetStatus(created.PaymentID, khipu.StatusVerifying, khipu.StatusDetailPending))
		require.NoError(t, srv.Pay(created.PaymentID))
		p, err := client.Payments.Get(ctx, created.PaymentID)
		require.NoError(t, err)
		assert.Equal(t, khipu.StatusDone, p.Status)
		assert.Equal(t, khipu.StatusDetailNormal, p.StatusDetail)
	})

	t.Run("a payment the payer refused cannot be paid", func(t *testing.T) {
		created := mustCreate(t, client)
		require.NoError(t, srv.SetStatus(created.PaymentID, khipu.StatusPending, khipu.StatusDetailRejectedByPayer))
		assert.ErrorContains(t, srv.Pay(created.PaymentID), "is rejected-by-payer and can no longer be paid")
	})

	t.Run("a payment set back to pending can be paid and deleted again", func(t *testing.T) {
		created := mustCreate(t, client)
		require.NoError(t, srv.Pay(created.PaymentID))
		require.NoError(t, srv.SetStatus(created.PaymentID, khipu.StatusPending, khipu.StatusDetailPending))
		p, err := client.Payments.Get(ctx, created.PaymentID)
		require.NoError(t, err)
		assert.True(t, p.ConciliationDate.IsZero())
		_, err = client.Payments.Delete(ctx, created.PaymentID)
		require.NoError(t, err)
	})

	t.Run("reversed is refunded in full, and normal again has nothing refunded", func(t *testing.T) {
		created := mustCreate(t, client)
		require.NoError(t, srv.Pay(created.PaymentID))
		_, err := client.Payments.Confirm(ctx, created.PaymentID)
		require.NoError(t, err)
		require.NoError(t, srv.SetStatus(created.PaymentID, khipu.StatusDone, khipu.StatusDetailReversed))
		_, err = client.Payments.Refund(ctx, created.PaymentID, nil)
		var ve *khipu.ValidationError
		require.ErrorAs(t, err, &ve)
		assert.Contains(t, ve.Errors[0].Message, "refunded in full")

		require.NoError(t, srv.SetStatus(created.PaymentID, khipu.StatusDone, khipu.StatusDetailNormal))
		_, err = client.Payments.Confirm(ctx, created.PaymentID)
		require.NoError(t, err, "no longer confirmed: it was reversed meanwhile")
		_, err = client.Payments.Refund(ctx, created.PaymentID, nil)
		require.ErrorAs(t, err, &ve, "confirmed")
	})

	t.Run("pairs Khipu does not report, and payments that do not exist, are errors", func(t *testing.T) {
		id := mustCreate(t, client).PaymentID
		for _, pair := range []struct {
			status khipu.PaymentStatus
			detail khipu.StatusDetail
		}{
			{khipu.StatusPending, khipu.StatusDetailNormal},
			{khipu.StatusPending, khipu.StatusDetailReversed},
			{khipu.StatusPending, khipu.StatusDetailMarkedPaidByReceiver},
			{khipu.StatusVerifying, khipu.StatusDetailReversed},
			{khipu.StatusDone, khipu.StatusDetailPending},
			{"paid", khipu.StatusDetailNormal},
			{khipu.StatusDone, "refunded"},
			{"DONE", khipu.StatusDetailNormal},
		} {
			err := srv.SetStatus(id, pair.status, pair.detail)
			assert.ErrorContains(t, err, "khiputest: SetStatus with", "%s/%s", pair.status, pair.detail)
		}
		p, err := client.Payments.Get(ctx, id)
		require.NoError(t, err)
		assert.Equal(t, khipu.StatusPending, p.Status, "unchanged")

		assert.ErrorContains(t, srv.SetStatus("nope", khipu.StatusDone, khipu.StatusDetailNormal), `no payment "nope"`)
		_, err = client.Payments.Delete(ctx, id)
		require.NoError(t, err)
		assert.Error(t, srv.SetStatus(id, khipu.StatusDone, khipu.StatusDetailNormal), "deleted")
	})
}

func TestSetStatusSendsNothingAndNotifySendsTheStateAsItIsNow(t *testing.T) {
	ctx := context.Background()
	srv, client := newServer(t)
	type seen struct {
		status khipu.PaymentStatus
		detail khipu.StatusDetail
	}
	got := make(chan seen, 4)
	shop := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := client.VerifyNotification(r.Context(), r)
		if !assert.NoError(t, err) {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		got <- seen{p.Status, p.StatusDetail}
	}))
	defer shop.Close()
	created, err := client.Payments.Create(ctx, &khipu.PaymentCreateParams{
		Subject: "x", Currency: "CLP", Amount: khipu.NewAmount(1000), NotifyURL: shop.URL,
	})
	require.NoError(t, err)

	require.NoError(t, srv.SetStatus(created.PaymentID, khipu.StatusVerifying, khipu.StatusDetailPending))
	assert.ErrorContains(t, srv.Notify(created.PaymentID), "not done", "Khipu notifies a payment once it is done")
	require.NoError(t, srv.Pay(created.PaymentID))
	assert.Equal(t, seen{khipu.StatusDone, khipu.StatusDetailNormal}, recv(t, got))

	for _, detail := range []khipu.StatusDetail{khipu.StatusDetailReversed, khipu.StatusDetailRejectedByPayer, khipu.StatusDetailMarkedAsAbuse} {
		require.NoError(t, srv.SetStatus(created.PaymentID, khipu.StatusDone, detail))
		require.NoError(t, srv.Notify(created.PaymentID))
		assert.Equal(t, seen{khipu.StatusDone, detail}, recv(t, got))
		assert.Empty(t, got, "one notification per Notify: SetStatus sent none")
	}
}

func TestThePaymentPageShowsThePaymentAsItIs(t *testing.T) {
	srv, client := newServer(t)
	page := func(t *testing.T, paymentURL string) string {
		t.Helper()
		resp, err := http.Get(paymentURL)
		require.NoError(t, err)
		defer resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
		body, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return string(body)
	}
	created, err := client.Payments.Create(context.Background(), &khipu.PaymentCreateParams{
		Subject: "Mate", Currency: "CLP", Amount: khipu.NewAmount(12990),
		ReturnURL: "https://shop.example/orders/1", CancelURL: "https://shop.example/orders/1/cancel",
	})
	require.NoError(t, err)
	const payButton, cancelLink, backLink = `<form method="post">`,
		`<a href="https://shop.example/orders/1/cancel">Cancel and go back to the shop</a>`,
		`<a href="https://shop.example/orders/1">Back to the shop</a>`

	html := page(t, created.PaymentURL)
	assert.Contains(t, html, "is <strong>pending</strong>")
	assert.Contains(t, html, payButton)
	assert.Contains(t, html, cancelLink, "a Cancel link back to cancel_url")
	assert.NotContains(t, html, backLink)

	require.NoError(t, srv.SetStatus(created.PaymentID, khipu.StatusVerifying, khipu.StatusDetailPending))
	html = page(t, created.PaymentURL)
	assert.Contains(t, html, "is <strong>verifying (pending)</strong>")
	assert.NotContains(t, html, payButton)
	assert.NotContains(t, html, cancelLink)
	assert.Contains(t, html, backLink)

	require.NoError(t, srv.SetStatus(created.PaymentID, khipu.StatusDone, khipu.StatusDetailReversed))
	assert.Contains(t, page(t, created.PaymentURL), "is <strong>done (reversed)</strong>")

	require.NoError(t, srv.SetStatus(created.PaymentID, khipu.StatusPending, khipu.StatusDetailRejectedByPayer))
	html = page(t, created.PaymentURL)
	assert.Contains(t, html, "is <strong>pending (rejected-by-payer)</strong>")
	assert.NotContains(t, html, payButton, "refused: it cannot be paid")
	assert.Contains(t, html, cancelLink)
}
