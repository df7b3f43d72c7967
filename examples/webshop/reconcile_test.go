package main

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/khipu-go/khipu"
)

// The reconciler in the shop's process, with the clock moved by the test:
// what it does when a notification does not come. The same with real shop
// processes is in replicas_test.go and browser_test.go.

func TestALostNotificationIsPaidByTheReconcilerWithinOneStep(t *testing.T) {
	forEachShop(t, func(t *testing.T, f *shopFixture) {
		order, _ := f.buy(t, "mate")
		require.NoError(t, f.khipu.PayWithoutNotifying(order.PaymentID))

		f.round(t, time.Minute-time.Second)
		assert.Zero(t, f.lookups(order.PaymentID), "not due before its first step")
		assert.Equal(t, "pending", f.state(t, order.ID))

		f.round(t, time.Second)
		assert.Equal(t, 1, f.lookups(order.PaymentID))
		assert.Equal(t, "paid", f.state(t, order.ID), "paid by the reconciler at its first step")
		assert.Equal(t, 1, shipments(t, f.shop.Orders, order.ID))

		for _, d := range []time.Duration{time.Minute, 5 * time.Minute, time.Hour, 24 * time.Hour} {
			f.round(t, d)
		}
		assert.Equal(t, 1, f.lookups(order.PaymentID), "a paid order is never asked about again")
		assert.Equal(t, 1, shipments(t, f.shop.Orders, order.ID))
	})
}

func TestAPaymentMadeAfterTheFirstLookupIsPaidAtTheNextStep(t *testing.T) {
	forEachShop(t, func(t *testing.T, f *shopFixture) {
		order, _ := f.buy(t, "mate")
		f.round(t, time.Minute)
		assert.Equal(t, 1, f.lookups(order.PaymentID))
		assert.Equal(t, "pending", f.state(t, order.ID))

		require.NoError(t, f.khipu.PayWithoutNotifying(order.PaymentID))
		f.round(t, 5*time.Minute-time.Second)
		assert.Equal(t, "pending", f.state(t, order.ID), "the second step is 5 minutes after the first")
		f.round(t, time.Second)
		assert.Equal(t, "paid", f.state(t, order.ID))
		assert.Equal(t, 2, f.lookups(order.PaymentID))
	})
}

func TestANotificationArrivingWhileTheReconcilerFindsThePaymentPaysOnce(t *testing.T) {
	forEachShop(t, func(t *testing.T, f *shopFixture) {
		order, _ := f.buy(t, "poncho")
		require.NoError(t, f.khipu.PayWithoutNotifying(order.PaymentID))
		f.clock.Add(time.Minute)
		var wg sync.WaitGroup
		wg.Go(func() { assert.NoError(t, f.khipu.Notify(order.PaymentID)) })
		wg.Go(func() { assert.NoError(t, f.shop.ReconcileRound(context.Background())) })
		wg.Wait()
		assert.Equal(t, "paid", f.state(t, order.ID))
		assert.Equal(t, 1, shipments(t, f.shop.Orders, order.ID))
	})
}

func TestTheReconcilerBacksOffUntilThePaymentExpiresThenClosesTheOrder(t *testing.T) {
	forEachShop(t, func(t *testing.T, f *shopFixture) {
		f.shop.PayWithin = 3 * time.Hour
		order, _ := f.buy(t, "mate")
		var askedAt []int // minutes after the order
		for minute := 1; minute <= 240; minute++ {
			f.round(t, time.Minute)
			if n := f.lookups(order.PaymentID); n > len(askedAt) {
				askedAt = append(askedAt, minute)
			}
		}
		// 1, then 5, 30 and 60 minutes later, and hourly; the last one a
		// minute after the payment expired at 180.
		assert.Equal(t, []int{1, 6, 36, 96, 156, 181}, askedAt)
		got := f.order(t, order.ID)
		assert.Equal(t, OrderExpired, got.State())
		assert.Equal(t, "expired", f.state(t, order.ID))
		_, page := f.get(t, "/orders/"+order.ID)
		assert.Contains(t, page, "Expirado")
		assert.False(t, polls(page), "nothing will change it")
		assert.Error(t, f.khipu.Pay(order.PaymentID), "Khipu's clock moved too: the payer cannot pay")
	})
}

func TestTheReconcilerKeepsAVerifyingPaymentOpenPastItsExpiry(t *testing.T) {
	forEachShop(t, func(t *testing.T, f *shopFixture) {
		order, _ := f.buy(t, "mate")
		require.NoError(t, f.khipu.SetStatus(order.PaymentID, khipu.StatusVerifying, khipu.StatusDetailNormal))
		f.round(t, 2*time.Hour)
		assert.Equal(t, "verifying", f.state(t, order.ID), "the payer transferred in time: not expired")
		require.NoError(t, f.khipu.PayWithoutNotifying(order.PaymentID))
		f.round(t, time.Hour)
		assert.Equal(t, "paid-late", f.state(t, order.ID), "reconciled after its expires_date: a person looks")
	})
}

func TestTheReconcilerClosesAnOrderThePayerRejected(t *testing.T) {
	forEachShop(t, func(t *testing.T, f *shopFixture) {
		order, _ := f.buy(t, "mate")
		require.NoError(t, f.khipu.SetStatus(order.PaymentID, khipu.StatusPending, khipu.StatusDetailRejectedByPayer))
		f.round(t, time.Minute)
		assert.Equal(t, "rejected", f.state(t, order.ID))
		_, page := f.get(t, "/orders/"+order.ID)
		assert.Contains(t, page, "Rechazado")
		assert.False(t, polls(page))
	})
}

func TestTheReconcilerClosesAnOrderWhosePaymentWasDeleted(t *testing.T) {
	forEachShop(t, func(t *testing.T, f *shopFixture) {
		order, _ := f.buy(t, "mate")
		req, err := http.NewRequest(http.MethodDelete, f.khipu.V3URL()+"/v3/payments/"+order.PaymentID, nil)
		require.NoError(t, err)
		req.Header.Set("x-api-key", f.khipu.APIKey())
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)

		f.round(t, time.Minute)
		assert.Equal(t, "deleted", f.state(t, order.ID))
		_, page := f.get(t, "/orders/"+order.ID)
		assert.Contains(t, page, "Anulado")
	})
}

func TestTheReconcilerAsksAgainAtTheNextStepWhenKhipuIsDown(t *testing.T) {
	forEachShop(t, func(t *testing.T, f *shopFixture) {
		order, _ := f.buy(t, "mate")
		require.NoError(t, f.khipu.PayWithoutNotifying(order.PaymentID))
		f.khipu.FailNext(f.api.getEndpoint, http.StatusInternalServerError, 1)
		f.round(t, time.Minute)
		assert.Equal(t, "pending", f.state(t, order.ID))
		got := f.order(t, order.ID)
		assert.True(t, f.clock.Now().Add(5*time.Minute).Equal(got.NextCheckAt), "next check %v", got.NextCheckAt)

		f.round(t, 5*time.Minute)
		assert.Equal(t, "paid", f.state(t, order.ID))
	})
}

func TestTheReconcilerDoesNotPayAPaymentThatDoesNotPayItsOrder(t *testing.T) {
	forEachShop(t, func(t *testing.T, f *shopFixture) {
		out := newWatchedOutput()
		f.shop.Log = slog.New(slog.NewTextHandler(out, nil))
		order, _ := f.buy(t, "mate")
		require.NoError(t, f.khipu.PayWithoutNotifying(order.PaymentID))
		// The order's price, as the shop reads it, is not what was paid.
		_, err := f.shop.Orders.db.Exec(`UPDATE orders SET amount = '99999' WHERE id = $1`, order.ID)
		require.NoError(t, err)

		f.round(t, time.Minute)
		assert.Equal(t, "pending", f.state(t, order.ID), "checked by the same function as a notification: not paid")
		assert.Zero(t, shipments(t, f.shop.Orders, order.ID))
		assert.Contains(t, out.String(), `msg="payment does not match its order; not delivering"`)
		assert.Contains(t, out.String(), "via=reconciler")
		f.round(t, 24*time.Hour)
		assert.Equal(t, 1, f.lookups(order.PaymentID), "a person must look: asking Khipu again would not change it")
	})
}

func TestAPaymentArrivingAfterTheOrderExpiredWaitsForAPerson(t *testing.T) {
	forEachShop(t, func(t *testing.T, f *shopFixture) {
		out := newWatchedOutput()
		f.shop.Log = slog.New(slog.NewTextHandler(out, nil))

		t.Run("its notification arrives after the order closed", func(t *testing.T) {
			order, _ := f.buy(t, "poncho")
			f.round(t, 2*time.Hour)
			require.Equal(t, "expired", f.state(t, order.ID))

			// The payer's transfer is reconciled late, and notified.
			require.NoError(t, f.khipu.SetStatus(order.PaymentID, khipu.StatusDone, khipu.StatusDetailNormal))
			require.NoError(t, f.khipu.Notify(order.PaymentID), "acknowledged: it is not dropped")
			assertPaidLate(t, f, out, order.ID, "notification")
		})

		t.Run("the reconciler finds it, reconciled out of date, at its last lookup", func(t *testing.T) {
			order, _ := f.buy(t, "poncho")
			f.clock.Add(time.Hour + time.Second) // expired at Khipu; not yet asked
			require.NoError(t, f.khipu.SetStatus(order.PaymentID, khipu.StatusDone, khipu.StatusDetailNormal))
			f.round(t, time.Minute)
			assertPaidLate(t, f, out, order.ID, "reconciler")
		})
	})
}

// assertPaidLate checks an order paid after it expired: neither shipped nor
// dropped, its page says so, and the shop logged it for a person.
func assertPaidLate(t *testing.T, f *shopFixture, out *watchedOutput, orderID, via string) {
	t.Helper()
	assert.Equal(t, "paid-late", f.state(t, orderID))
	assert.Zero(t, shipments(t, f.shop.Orders, orderID), "not shipped")
	_, page := f.get(t, "/orders/"+orderID)
	assert.Contains(t, page, "Recibimos tu pago después de que venció el plazo")
	assert.False(t, polls(page))
	logged := false
	for _, line := range strings.Split(out.String(), "\n") {
		if strings.Contains(line, `level=ERROR msg="paid after expiry: ship or refund" order=`+orderID) && strings.Contains(line, "via="+via) {
			logged = true
		}
	}
	assert.True(t, logged, "logged for a person:\n%s", out)
}
