package main

import (
	"context"
	"net/http"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The exactly-once tests, with real shop processes on SQLite and on
// PostgreSQL.

// assertPaidOnce checks the database and the shops' logs: the order is
// paid, one shipment is queued, and one process said it paid the order. It
// stops the shops, so that their logs are complete.
func assertPaidOnce(t *testing.T, rs *replicaSet, orderID string, shops ...*shopProcess) {
	t.Helper()
	store := rs.store(t)
	order, err := store.Get(context.Background(), orderID)
	require.NoError(t, err)
	assert.Equal(t, OrderPaid, order.State())
	n, err := store.Shipments(context.Background(), orderID)
	require.NoError(t, err)
	assert.Equal(t, 1, n, "shipments queued")
	said := 0
	for _, shop := range shops {
		said += shop.logged(t, "order paid", orderID)
	}
	assert.Equal(t, 1, said, "shop processes that marked the order paid")
}

func TestANotificationReplayedTenTimesPaysTheOrderOnce(t *testing.T) {
	forEachAPI(t, func(t *testing.T, api khipuAPI) {
		forEachDatabase(t, func(t *testing.T, dsn string) {
			rs := newReplicaSet(t, api, dsn)
			shop := rs.start(t)
			rs.front.route(shop)
			orderID, paymentID := rs.buy(t, "poncho")

			require.NoError(t, rs.khipu.Pay(paymentID))
			for range 9 {
				require.NoError(t, rs.khipu.Notify(paymentID), "Khipu notifies again")
			}
			assertPaidOnce(t, rs, orderID, shop)
		})
	})
}

func TestTwoShopProcessesReceivingTheSameNotificationAtOncePayTheOrderOnce(t *testing.T) {
	forEachAPI(t, func(t *testing.T, api khipuAPI) {
		forEachDatabase(t, func(t *testing.T, dsn string) {
			rs := newReplicaSet(t, api, dsn)
			a, b := rs.start(t), rs.start(t)
			rs.front.route(a, b)
			orderID, paymentID := rs.buy(t, "poncho")

			// Khipu's notification is held at the front, then delivered to
			// both replicas at once, ten times each.
			rs.front.setHolding(true)
			assert.Error(t, rs.khipu.Pay(paymentID), "the front answered 503")
			held := rs.front.heldNotifications()
			require.Len(t, held, 1)

			start := make(chan struct{})
			var wg sync.WaitGroup
			for i := range 20 {
				to := []*shopProcess{a, b}[i%2]
				wg.Go(func() {
					<-start
					status, err := held[0].deliver(context.Background(), to)
					assert.NoError(t, err)
					assert.Equal(t, http.StatusOK, status, "every delivery is acknowledged, so Khipu stops")
				})
			}
			close(start)
			wg.Wait()
			assertPaidOnce(t, rs, orderID, a, b)
		})
	})
}

func TestAnOrderCreatedBeforeARestartIsPaidAfterIt(t *testing.T) {
	forEachAPI(t, func(t *testing.T, api khipuAPI) {
		forEachDatabase(t, func(t *testing.T, dsn string) {
			rs := newReplicaSet(t, api, dsn)
			before := rs.start(t)
			rs.front.route(before)
			orderID, paymentID := rs.buy(t, "mate")

			// The payer is at Khipu's page while the shop restarts.
			before.stop(t)
			after := rs.start(t)
			rs.front.route(after)

			require.NoError(t, rs.khipu.Pay(paymentID))
			assertPaidOnce(t, rs, orderID, before, after)
			assert.Equal(t, 1, after.logged(t, "order paid", orderID), "the restarted shop paid it")
		})
	})
}
