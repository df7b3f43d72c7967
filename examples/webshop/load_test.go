package main

import (
	"context"
	"errors"
	"flag"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/khipu-go/khipu/khiputest"
)

// The load run: many payments made at once against real shop processes,
// with some notifications sent twice and some lost, until every order is
// paid exactly once. It is a benchmark, run once, for its figures:
//
//	WEBSHOP_TEST_POSTGRES=postgres://... go test -run '^$' -bench Load -benchtime 1x
//
// README.md reports what it measured.

var (
	loadPayments = flag.Int("load-payments", 1000, "how many payments BenchmarkLoad makes at once")
	// Long enough that no order is due while its notification is being
	// sent: the reconciler's work is the lost notifications', after it.
	loadEvery = flag.Duration("load-reconcile-every", 10*time.Second, "the shops' -reconcile-every in BenchmarkLoad")
)

// The shares of notifications sent twice, and lost, in BenchmarkLoad: one
// payment in 10 is notified twice, one in 20 not at all.
const (
	loadTwiceEvery = 10
	loadLostEvery  = 20
)

func BenchmarkLoad(b *testing.B) {
	for _, api := range apis {
		b.Run(api.version+"/PostgreSQL/2-processes", func(b *testing.B) { benchLoad(b, api, postgresTestDSN(b), 2) })
		b.Run(api.version+"/PostgreSQL/1-process", func(b *testing.B) { benchLoad(b, api, postgresTestDSN(b), 1) })
		b.Run(api.version+"/SQLite/1-process", func(b *testing.B) { benchLoad(b, api, sqliteTestDSN(b), 1) })
	}
}

// benchLoad runs the load once per b.N against processes shop processes
// sharing dsn, and reports how long it took until every order was paid,
// and the notifications each process handled per second while Khipu was
// sending them.
func benchLoad(b *testing.B, api khipuAPI, dsn string, processes int) {
	for range b.N {
		b.StopTimer()
		rs := newReplicaSet(b, api, dsn)
		shops := make([]*shopProcess, processes)
		for i := range shops {
			shops[i] = rs.start(b, "-reconcile-every", loadEvery.String())
		}
		rs.front.route(shops...)
		payments := buyMany(b, rs, *loadPayments)

		b.StartTimer()
		start := time.Now()
		var notified atomic.Int64
		var wg sync.WaitGroup
		for i, paymentID := range payments {
			wg.Go(func() {
				if i%loadLostEvery == 0 {
					require.NoError(b, rs.khipu.PayWithoutNotifying(paymentID))
					return
				}
				sends := 1
				err := rs.khipu.Pay(paymentID)
				if i%loadTwiceEvery == 1 && err == nil {
					sends, err = 2, rs.khipu.Notify(paymentID)
				}
				if err != nil {
					var ne *khiputest.NotificationError
					require.True(b, errors.As(err, &ne), "%v", err)
					b.Errorf("a notification was not accepted: %v", err) // Khipu would send it again; here it is a failure
					return
				}
				notified.Add(int64(sends))
			})
		}
		wg.Wait()
		notifying := time.Since(start)
		store := rs.store(b)
		waitAllPaid(b, store, len(payments))
		allPaid := time.Since(start)
		b.StopTimer()

		var paid, shipped, shipments int
		require.NoError(b, store.db.QueryRow(`SELECT COUNT(*) FILTER (WHERE paid_at IS NOT NULL) FROM orders`).Scan(&paid))
		require.NoError(b, store.db.QueryRow(`SELECT COUNT(DISTINCT order_id), COUNT(*) FROM shipments`).Scan(&shipped, &shipments))
		require.Equal(b, len(payments), paid, "every order paid")
		require.Equal(b, len(payments), shipped, "and shipped")
		require.Equal(b, len(payments), shipments, "once")
		logged, byReconciler := 0, 0
		for _, shop := range shops {
			logged += shop.count(b, "order paid")
			byReconciler += shop.count(b, "order paid", "via=reconciler")
		}
		require.Equal(b, len(payments), logged, "one \"order paid\" per order")

		b.ReportMetric(allPaid.Seconds(), "s-until-all-paid")
		b.ReportMetric(notifying.Seconds(), "s-notifying")
		b.ReportMetric(float64(notified.Load())/notifying.Seconds()/float64(processes), "notifications/s/process")
		b.ReportMetric(float64(byReconciler), "paid-by-reconciler")
		b.Logf("%d payments, %d notifications (%d lost, sent twice for %d), shop processes: %d, -reconcile-every %v: "+
			"notifications answered in %v, every order paid after %v, %d of them by the reconciler",
			len(payments), notified.Load(), (len(payments)+loadLostEvery-1)/loadLostEvery, len(payments)/loadTwiceEvery,
			processes, *loadEvery, notifying.Round(time.Millisecond), allPaid.Round(time.Millisecond), byReconciler)
	}
}

// buyMany makes n orders through the front, 16 payers at a time, and
// returns their payments' ids.
func buyMany(b *testing.B, rs *replicaSet, n int) []string {
	b.Helper()
	payments := make([]string, n)
	work := make(chan int)
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for i := range work {
				payments[i] = rs.checkout(b, "mate")
			}
		})
	}
	for i := range n {
		work <- i
	}
	close(work)
	wg.Wait()
	return payments
}

// waitAllPaid waits until n orders are paid, for up to 10 minutes.
func waitAllPaid(b *testing.B, store *Store, n int) {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		var paid int
		require.NoError(b, store.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM orders WHERE paid_at IS NOT NULL`).Scan(&paid))
		if paid == n {
			return
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			b.Fatalf("%d of %d orders paid after 10 minutes", paid, n)
		}
	}
}
