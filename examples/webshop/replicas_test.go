package main

import (
	"context"
	"net/http"
	"path"
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

			atOnce(20, func(i int) {
				to := []*shopProcess{a, b}[i%2]
				status, err := held[0].deliver(context.Background(), to)
				assert.NoError(t, err)
				assert.Equal(t, http.StatusOK, status, "every delivery is acknowledged, so Khipu stops")
			})
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

func TestALostNotificationIsPaidOnceByTheReconcilerOfAShopProcess(t *testing.T) {
	forEachAPI(t, func(t *testing.T, api khipuAPI) {
		forEachDatabase(t, func(t *testing.T, dsn string) {
			rs := newReplicaSet(t, api, dsn)
			shop := rs.start(t, "-reconcile-every", "100ms")
			rs.front.route(shop)
			orderID, paymentID := rs.buy(t, "mate")

			require.NoError(t, rs.khipu.PayWithoutNotifying(paymentID))
			store := rs.store(t)
			eventually(t, "the reconciler pays the order", func() bool {
				o, err := store.Get(context.Background(), orderID)
				require.NoError(t, err)
				return o.State() == OrderPaid
			})
			assertPaidOnce(t, rs, orderID, shop)
			assert.Equal(t, 1, shop.loggedWith(t, "order paid", orderID, "via=reconciler"))
		})
	})
}

func TestTwoShopProcessesReconcile200LostNotificationsOnceEach(t *testing.T) {
	ctx := context.Background()
	forEachAPI(t, func(t *testing.T, api khipuAPI) {
		rs := newReplicaSet(t, api, postgresTestDSN(t))

		// 200 payers pay through two replicas whose reconcilers would first
		// ask in an hour; every notification is lost.
		a, b := rs.start(t, "-reconcile-every", "1h"), rs.start(t, "-reconcile-every", "1h")
		rs.front.route(a, b)
		const orders = 200
		payments := make(map[string]string, orders) // order id by payment id
		var mu sync.Mutex
		var wg sync.WaitGroup
		work := make(chan struct{}, orders)
		for range orders {
			work <- struct{}{}
		}
		close(work)
		for range 8 {
			wg.Go(func() {
				for range work {
					orderID, paymentID := rs.buy(t, "mate")
					assert.NoError(t, rs.khipu.PayWithoutNotifying(paymentID))
					mu.Lock()
					payments[paymentID] = orderID
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		require.Len(t, payments, orders)
		a.stop(t)
		b.stop(t)

		// An hour later, two shop processes reconcile every 100 ms.
		asked := len(rs.khipu.Requests())
		c, d := rs.start(t, "-reconcile-every", "100ms"), rs.start(t, "-reconcile-every", "100ms")
		store := rs.store(t)
		_, err := store.db.ExecContext(ctx, `UPDATE orders SET next_check_at = next_check_at - INTERVAL '1 hour'`)
		require.NoError(t, err)
		eventually(t, "the reconcilers pay every order", func() bool {
			var paid int
			require.NoError(t, store.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM orders WHERE paid_at IS NOT NULL`).Scan(&paid))
			return paid == orders
		})

		var shipped, shipments int
		require.NoError(t, store.db.QueryRowContext(ctx,
			`SELECT COUNT(DISTINCT order_id), COUNT(*) FROM shipments`).Scan(&shipped, &shipments))
		assert.Equal(t, orders, shipped, "every order shipped")
		assert.Equal(t, orders, shipments, "once")
		lookups := map[string]int{}
		for _, r := range rs.khipu.Requests()[asked:] {
			if r.Endpoint == api.getEndpoint {
				lookups[path.Base(r.Path)]++
			}
		}
		for paymentID := range payments {
			assert.Equal(t, 1, lookups[paymentID], "Khipu asked about payment %s once in all", paymentID)
		}
		assert.Len(t, lookups, orders, "and about nothing else")
		byC, byD := c.count(t, "order paid", "via=reconciler"), d.count(t, "order paid", "via=reconciler")
		assert.Equal(t, orders, byC+byD, "one process paid each order")
		t.Logf("the two processes paid %d and %d orders", byC, byD)
	})
}
