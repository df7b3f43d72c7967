package main

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/khipu-go/khipu"
)

// at is a time for the store tests, far from the real one.
var at = time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)

// newOrder stores an order for 12990 CLP with the payment paymentID, due
// for its first check at at, expiring an hour later.
func newOrder(t *testing.T, s *Store, paymentID string) Order {
	t.Helper()
	ctx := context.Background()
	o, err := s.Create(ctx, "mate", khipu.NewAmount(12990), "CLP", at)
	require.NoError(t, err)
	require.NoError(t, s.SetPayment(ctx, o.ID, paymentID, at.Add(time.Hour), at))
	o, err = s.Get(ctx, o.ID)
	require.NoError(t, err)
	return o
}

// done is the payment paymentID, done, paying o as Khipu reports it.
func done(o Order, paymentID string) *VerifiedPayment {
	return fromPayment(&khipu.Payment{
		PaymentID: paymentID, TransactionID: o.ID, Amount: o.Amount, Currency: o.Currency,
		Status: khipu.StatusDone, StatusDetail: khipu.StatusDetailNormal,
	})
}

// shipments is how many shipments the store holds for the order.
func shipments(t *testing.T, s *Store, orderID string) int {
	t.Helper()
	n, err := s.Shipments(context.Background(), orderID)
	require.NoError(t, err)
	return n
}

// get reads an order that must exist.
func get(t *testing.T, s *Store, orderID string) Order {
	t.Helper()
	o, err := s.Get(context.Background(), orderID)
	require.NoError(t, err)
	return o
}

// atOnce runs fn(0) to fn(n-1) in n goroutines released together, so that
// they race, and returns once all have returned.
func atOnce(n int, fn func(i int)) {
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			fn(i)
		})
	}
	close(start)
	wg.Wait()
}

func TestStoreKeepsAnOrderExactly(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		s := openStore(t, dsn)
		for _, amount := range []string{"12990", "19.99", "0.0001", "922337203685477"} {
			created, err := s.Create(ctx, "mate", khipu.MustParseAmount(amount), "CLP", time.Now())
			require.NoError(t, err)
			got := get(t, s, created.ID)
			assert.Equal(t, amount, got.Amount.String(), "the amount reads back exactly")
			assert.True(t, created.CreatedAt.Equal(got.CreatedAt), "created_at %v reads back as %v", created.CreatedAt, got.CreatedAt)
			assert.Equal(t, OrderPending, got.State())
			assert.Empty(t, got.PaymentID)
			assert.True(t, got.NextCheckAt.IsZero(), "without a payment there is nothing to ask Khipu")
		}
		o := newOrder(t, s, "pay1")
		assert.True(t, at.Add(time.Hour).Equal(o.ExpiresAt), "expires_at reads back: %v", o.ExpiresAt)
		assert.True(t, at.Equal(o.NextCheckAt), "next_check_at reads back: %v", o.NextCheckAt)
	})
}

func TestStoreSaysWhenThereIsNoSuchOrder(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, dsn string) {
		s := openStore(t, dsn)
		_, err := s.Get(context.Background(), "order-nope")
		assert.ErrorIs(t, err, ErrNoOrder)
		_, err = s.Settle(context.Background(), done(Order{ID: "order-nope", Amount: khipu.NewAmount(1), Currency: "CLP"}, "pay1"), at)
		assert.ErrorIs(t, err, ErrNoOrder)
	})
}

func TestStoreSetsAnOrdersPaymentOnce(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		s := openStore(t, dsn)
		o := newOrder(t, s, "pay1")
		assert.Error(t, s.SetPayment(ctx, o.ID, "pay2", at, at), "an order's payment is never replaced")
		assert.Equal(t, "pay1", get(t, s, o.ID).PaymentID)

		other, err := s.Create(ctx, "mate", khipu.NewAmount(12990), "CLP", at)
		require.NoError(t, err)
		assert.Error(t, s.SetPayment(ctx, other.ID, "pay1", at, at), "one payment pays at most one order")
	})
}

func TestStorePaysAnOrderOnlyByItsOwnPaymentWhenItMatches(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		s := openStore(t, dsn)
		o := newOrder(t, s, "pay1")

		_, err := s.Settle(ctx, done(o, "someone-elses"), at)
		assert.ErrorIs(t, err, errNotOrdersPayment)
		for name, p := range map[string]*VerifiedPayment{
			"amount":   done(Order{ID: o.ID, Amount: khipu.NewAmount(1), Currency: "CLP"}, "pay1"),
			"currency": done(Order{ID: o.ID, Amount: o.Amount, Currency: "USD"}, "pay1"),
			"status": fromPayment(&khipu.Payment{
				PaymentID: "pay1", TransactionID: o.ID, Amount: o.Amount, Currency: o.Currency, Status: khipu.StatusVerifying,
			}),
		} {
			_, err := s.Settle(ctx, p, at)
			assert.ErrorIs(t, err, errMismatch, name)
			assert.ErrorContains(t, err, name)
		}
		assert.Zero(t, shipments(t, s, o.ID))
		assert.Equal(t, OrderPending, get(t, s, o.ID).State())

		outcome, err := s.Settle(ctx, done(o, "pay1"), at)
		require.NoError(t, err)
		assert.Equal(t, settledPaid, outcome)
		paid := get(t, s, o.ID)
		assert.Equal(t, OrderPaid, paid.State())
		assert.True(t, paid.NextCheckAt.IsZero(), "a paid order is not asked about")
		assert.Equal(t, 1, shipments(t, s, o.ID))
	})
}

func TestStorePaysAnOrderOnceWhenThePaymentArrivesTenTimes(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, dsn string) {
		s := openStore(t, dsn)
		o := newOrder(t, s, "pay1")
		paid := 0
		for i := range 10 {
			outcome, err := s.Settle(context.Background(), done(o, "pay1"), at.Add(time.Duration(i)*time.Minute))
			require.NoError(t, err)
			if outcome == settledPaid {
				paid++
			}
		}
		assert.Equal(t, 1, paid)
		assert.True(t, at.Equal(get(t, s, o.ID).PaidAt), "paid_at is the first delivery's")
		assert.Equal(t, 1, shipments(t, s, o.ID))
	})
}

func TestStorePaysAnOrderOnceFromTwoConnectionPoolsAtOnce(t *testing.T) {
	// Two stores on one database are two replicas' connection pools; the
	// process-level version of this test is in replicas_test.go.
	forEachDatabase(t, func(t *testing.T, dsn string) {
		a, b := openStore(t, dsn), openStore(t, dsn)
		o := newOrder(t, a, "pay1")

		results := make(chan settled, 20)
		atOnce(20, func(i int) {
			store := []*Store{a, b}[i%2]
			outcome, err := store.Settle(context.Background(), done(o, "pay1"), time.Now())
			assert.NoError(t, err)
			results <- outcome
		})
		close(results)
		paid := 0
		for outcome := range results {
			if outcome == settledPaid {
				paid++
			}
		}
		assert.Equal(t, 1, paid)
		assert.Equal(t, 1, shipments(t, b, o.ID))
	})
}

func TestStoreKeepsOrdersAcrossARestart(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, dsn string) {
		before, err := OpenStore(context.Background(), dsn, quiet)
		require.NoError(t, err)
		o := newOrder(t, before, "pay1")
		require.NoError(t, before.Close())

		after := openStore(t, dsn) // migrating again keeps the data
		outcome, err := after.Settle(context.Background(), done(o, "pay1"), at)
		require.NoError(t, err)
		assert.Equal(t, settledPaid, outcome)
		assert.Equal(t, OrderPaid, get(t, after, o.ID).State())
	})
}

func TestStoreCancelLeavesAnOrderOpenToItsPayment(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		s := openStore(t, dsn)
		o := newOrder(t, s, "pay1")
		changed, err := s.Cancel(ctx, o.ID, at)
		require.NoError(t, err)
		assert.True(t, changed)
		changed, err = s.Cancel(ctx, o.ID, at)
		require.NoError(t, err)
		assert.False(t, changed, "cancelled once")
		cancelled := get(t, s, o.ID)
		assert.Equal(t, OrderCancelled, cancelled.State())
		assert.False(t, cancelled.Final(), "the payer may have paid in another tab")
		assert.False(t, cancelled.NextCheckAt.IsZero(), "the reconciler still asks about it")

		// The payer cancelled, went back and paid after all: the money
		// arrived, so the order is paid and ships.
		outcome, err := s.Settle(ctx, done(o, "pay1"), at)
		require.NoError(t, err)
		assert.Equal(t, settledPaid, outcome)
		assert.Equal(t, OrderPaid, get(t, s, o.ID).State())
		assert.Equal(t, 1, shipments(t, s, o.ID))

		changed, err = s.Cancel(ctx, o.ID, at)
		require.NoError(t, err)
		assert.False(t, changed, "a paid order is not cancelled")
		assert.Equal(t, OrderPaid, get(t, s, o.ID).State())
	})
}

func TestStoreClosesOnlyAnUnpaidOrder(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		s := openStore(t, dsn)
		for _, as := range []OrderState{OrderExpired, OrderRejected, OrderDeleted, OrderFailed} {
			o := newOrder(t, s, "pay-"+string(as))
			closed, err := s.CloseUnpaid(ctx, o.ID, as, at)
			require.NoError(t, err)
			assert.True(t, closed)
			got := get(t, s, o.ID)
			assert.Equal(t, as, got.State())
			assert.True(t, got.Final())
			assert.True(t, got.NextCheckAt.IsZero(), "a closed order is not asked about")
			closed, err = s.CloseUnpaid(ctx, o.ID, OrderExpired, at)
			require.NoError(t, err)
			assert.False(t, closed, "closed once")
			assert.Equal(t, as, get(t, s, o.ID).State())
		}
		paid := newOrder(t, s, "pay-paid")
		_, err := s.Settle(ctx, done(paid, "pay-paid"), at)
		require.NoError(t, err)
		closed, err := s.CloseUnpaid(ctx, paid.ID, OrderExpired, at)
		require.NoError(t, err)
		assert.False(t, closed, "a paid order stays paid")
		assert.Equal(t, OrderPaid, get(t, s, paid.ID).State())
	})
}

func TestStoreHoldsAPaymentAfterExpiryForAPerson(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		s := openStore(t, dsn)

		// The order closed as expired; then the payment arrives.
		closed := newOrder(t, s, "pay1")
		_, err := s.CloseUnpaid(ctx, closed.ID, OrderExpired, at.Add(time.Hour))
		require.NoError(t, err)
		outcome, err := s.Settle(ctx, done(closed, "pay1"), at.Add(2*time.Hour))
		require.NoError(t, err)
		assert.Equal(t, settledLate, outcome, "neither dropped")
		got := get(t, s, closed.ID)
		assert.Equal(t, OrderPaidLate, got.State())
		assert.True(t, got.Final())
		assert.Zero(t, shipments(t, s, closed.ID), "nor shipped")
		outcome, err = s.Settle(ctx, done(closed, "pay1"), at.Add(3*time.Hour))
		require.NoError(t, err)
		assert.Equal(t, settledBefore, outcome, "once")
		assert.True(t, at.Add(2*time.Hour).Equal(get(t, s, closed.ID).LatePaidAt))

		// Still open, but Khipu says it reconciled the payment after its
		// expires_date.
		open := newOrder(t, s, "pay2")
		late := done(open, "pay2")
		late.OutOfDate = true
		outcome, err = s.Settle(ctx, late, at)
		require.NoError(t, err)
		assert.Equal(t, settledLate, outcome)
		assert.Equal(t, OrderPaidLate, get(t, s, open.ID).State())
		assert.Zero(t, shipments(t, s, open.ID))
		closedNow, err := s.CloseUnpaid(ctx, open.ID, OrderExpired, at)
		require.NoError(t, err)
		assert.False(t, closedNow, "a payment that arrived is not closed over")
	})
}

func TestStoreClaimsEachDueOrderForOneProcessOnly(t *testing.T) {
	// Two connection pools claim at once, as two shop processes do: each
	// due order goes to one of them, once a round.
	forEachDatabase(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		a, b := openStore(t, dsn), openStore(t, dsn)
		due := map[string]bool{}
		for i := range 200 {
			due[newOrder(t, a, fmt.Sprintf("pay%d", i)).ID] = true
		}
		notYet := newOrder(t, a, "pay-later")
		_, err := a.db.ExecContext(ctx, `UPDATE orders SET next_check_at = $1 WHERE id = $2`, dbTime(at.Add(time.Second)), notYet.ID)
		require.NoError(t, err)

		lease := at.Add(time.Minute)
		var mu sync.Mutex
		claims := map[string]int{}
		atOnce(8, func(i int) {
			store := []*Store{a, b}[i%2]
			for {
				orders, err := store.ClaimDue(ctx, at, lease, 7)
				if !assert.NoError(t, err) || len(orders) == 0 {
					return
				}
				mu.Lock()
				for _, o := range orders {
					claims[o.ID]++
					assert.Equal(t, 1, o.Checks, "counted")
					assert.True(t, lease.Equal(o.NextCheckAt), "leased")
				}
				mu.Unlock()
			}
		})
		assert.Len(t, claims, len(due), "every due order claimed")
		for id, n := range claims {
			assert.True(t, due[id], "%s was not due", id)
			assert.Equal(t, 1, n, "%s claimed %d times in one round", id, n)
		}
		o := get(t, b, notYet.ID)
		assert.Zero(t, o.Checks, "not claimed before its time")

		// A process that claimed orders and died: they are due again when
		// its lease ends.
		orders, err := a.ClaimDue(ctx, lease, lease.Add(time.Minute), 500)
		require.NoError(t, err)
		assert.Len(t, orders, len(due)+1, "all due again at the end of the lease")
	})
}

func TestStoreRecordsWhatKhipuSaid(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		s := openStore(t, dsn)
		o := newOrder(t, s, "pay1")
		require.NoError(t, s.CheckAgain(ctx, o.ID, at.Add(time.Minute), khipu.StatusVerifying, at.Add(5*time.Hour)))
		got := get(t, s, o.ID)
		assert.Equal(t, OrderVerifying, got.State())
		assert.True(t, at.Add(time.Minute).Equal(got.NextCheckAt))
		assert.True(t, at.Add(time.Hour).Equal(got.ExpiresAt), "the shop's own expires_at stays")
		require.NoError(t, s.CheckAgain(ctx, o.ID, at.Add(2*time.Minute), "", time.Time{}))
		assert.Equal(t, OrderVerifying, get(t, s, o.ID).State(), "no answer changes nothing Khipu said")

		// An order from before expires_at was recorded learns it.
		_, err := s.db.ExecContext(ctx, `UPDATE orders SET expires_at = NULL WHERE id = $1`, o.ID)
		require.NoError(t, err)
		require.NoError(t, s.CheckAgain(ctx, o.ID, at, khipu.StatusPending, at.Add(5*time.Hour)))
		got = get(t, s, o.ID)
		assert.Equal(t, OrderPending, got.State())
		assert.True(t, at.Add(5*time.Hour).Equal(got.ExpiresAt))

		require.NoError(t, s.StopChecking(ctx, o.ID))
		assert.True(t, get(t, s, o.ID).NextCheckAt.IsZero())

		// A paid order is not scheduled again.
		paid := newOrder(t, s, "pay2")
		_, err = s.Settle(ctx, done(paid, "pay2"), at)
		require.NoError(t, err)
		require.NoError(t, s.CheckAgain(ctx, paid.ID, at, khipu.StatusPending, time.Time{}))
		assert.True(t, get(t, s, paid.ID).NextCheckAt.IsZero())
	})
}

func TestOrderIDsAreNeverReused(t *testing.T) {
	// Two shops with new databases: the first order of one must not have
	// the id of the other's, or an old payment could pay a new order.
	seen := make(map[string]bool)
	for range 1000 {
		id := newOrderID()
		require.False(t, seen[id], "id %s repeated", id)
		seen[id] = true
	}
}

func TestStoreReportsWhyItCouldNotTellWhetherThePaymentWasRecorded(t *testing.T) {
	s := &Store{db: sql.OpenDB(uncountedDB{}), dialect: sqliteDialect}
	defer s.Close()
	err := s.SetPayment(context.Background(), "order-1", "pay1", at, at)
	assert.ErrorIs(t, err, errUncounted, "the driver's error, not a missing order")
	assert.NotContains(t, err.Error(), "no such order")
}

// errUncounted is uncountedDB's answer to RowsAffected.
var errUncounted = errors.New("the driver cannot count the rows")

// uncountedDB is a database/sql driver whose statements all succeed but
// cannot say how many rows they changed. It is its own connector and
// connection, and answers nothing but ExecContext.
type uncountedDB struct{}

func (uncountedDB) Open(string) (driver.Conn, error)             { return uncountedDB{}, nil }
func (uncountedDB) Connect(context.Context) (driver.Conn, error) { return uncountedDB{}, nil }
func (uncountedDB) Driver() driver.Driver                        { return uncountedDB{} }
func (uncountedDB) Prepare(string) (driver.Stmt, error)          { return nil, errors.New("no Prepare") }
func (uncountedDB) Begin() (driver.Tx, error)                    { return nil, errors.New("no Begin") }
func (uncountedDB) Close() error                                 { return nil }
func (uncountedDB) LastInsertId() (int64, error)                 { return 0, errUncounted }
func (uncountedDB) RowsAffected() (int64, error)                 { return 0, errUncounted }
func (uncountedDB) ExecContext(context.Context, string, []driver.NamedValue) (driver.Result, error) {
	return uncountedDB{}, nil
}
