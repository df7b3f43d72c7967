package main

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/khipu-go/khipu"
)

func TestStoreKeepsAnOrderExactly(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		s := openStore(t, dsn)
		for _, amount := range []string{"12990", "19.99", "0.0001", "922337203685477"} {
			created, err := s.Create(ctx, "mate", khipu.MustParseAmount(amount), "CLP")
			require.NoError(t, err)
			got, err := s.Get(ctx, created.ID)
			require.NoError(t, err)
			assert.Equal(t, amount, got.Amount.String(), "the amount reads back exactly")
			assert.True(t, created.CreatedAt.Equal(got.CreatedAt), "created_at %v reads back as %v", created.CreatedAt, got.CreatedAt)
			assert.Equal(t, OrderPending, got.State())
			assert.Empty(t, got.PaymentID)
		}
	})
}

func TestStoreSaysWhenThereIsNoSuchOrder(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, dsn string) {
		s := openStore(t, dsn)
		_, err := s.Get(context.Background(), "order-nope")
		assert.ErrorIs(t, err, ErrNoOrder)
		_, err = s.MarkPaid(context.Background(), "order-nope", "pay1", time.Now())
		assert.ErrorIs(t, err, ErrNoOrder)
	})
}

func TestStoreSetsAnOrdersPaymentOnce(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		s := openStore(t, dsn)
		o, err := s.Create(ctx, "mate", khipu.NewAmount(12990), "CLP")
		require.NoError(t, err)
		require.NoError(t, s.SetPayment(ctx, o.ID, "pay1"))
		assert.Error(t, s.SetPayment(ctx, o.ID, "pay2"), "an order's payment is never replaced")
		got, err := s.Get(ctx, o.ID)
		require.NoError(t, err)
		assert.Equal(t, "pay1", got.PaymentID)

		other, err := s.Create(ctx, "mate", khipu.NewAmount(12990), "CLP")
		require.NoError(t, err)
		assert.Error(t, s.SetPayment(ctx, other.ID, "pay1"), "one payment pays at most one order")
	})
}

func TestStorePaysAnOrderOnlyByItsOwnPayment(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		s := openStore(t, dsn)
		o, err := s.Create(ctx, "mate", khipu.NewAmount(12990), "CLP")
		require.NoError(t, err)
		require.NoError(t, s.SetPayment(ctx, o.ID, "pay1"))

		changed, err := s.MarkPaid(ctx, o.ID, "someone-elses", time.Now())
		assert.ErrorIs(t, err, errNotOrdersPayment)
		assert.False(t, changed)
		n, err := s.Shipments(ctx, o.ID)
		require.NoError(t, err)
		assert.Zero(t, n)

		changed, err = s.MarkPaid(ctx, o.ID, "pay1", time.Now())
		require.NoError(t, err)
		assert.True(t, changed)
	})
}

func TestStoreMarksAnOrderPaidOnceWhenTheNotificationIsReplayedTenTimes(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		s := openStore(t, dsn)
		o, err := s.Create(ctx, "poncho", khipu.NewAmount(45000), "CLP")
		require.NoError(t, err)
		require.NoError(t, s.SetPayment(ctx, o.ID, "pay1"))

		first := time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)
		changes := 0
		for i := range 10 {
			changed, err := s.MarkPaid(ctx, o.ID, "pay1", first.Add(time.Duration(i)*time.Minute))
			require.NoError(t, err)
			if changed {
				changes++
			}
		}
		assert.Equal(t, 1, changes)
		got, err := s.Get(ctx, o.ID)
		require.NoError(t, err)
		assert.True(t, first.Equal(got.PaidAt), "paid_at is the first delivery's, got %v", got.PaidAt)
		n, err := s.Shipments(ctx, o.ID)
		require.NoError(t, err)
		assert.Equal(t, 1, n)
	})
}

func TestStoreMarksAnOrderPaidOnceFromTwoConnectionPoolsAtOnce(t *testing.T) {
	// Two stores on one database are two replicas' connection pools; the
	// process-level version of this test is in replicas_test.go.
	forEachDatabase(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		a, b := openStore(t, dsn), openStore(t, dsn)
		o, err := a.Create(ctx, "poncho", khipu.NewAmount(45000), "CLP")
		require.NoError(t, err)
		require.NoError(t, a.SetPayment(ctx, o.ID, "pay1"))

		var wg sync.WaitGroup
		start := make(chan struct{})
		results := make(chan bool, 20)
		for i := range 20 {
			store := []*Store{a, b}[i%2]
			wg.Go(func() {
				<-start
				changed, err := store.MarkPaid(ctx, o.ID, "pay1", time.Now())
				assert.NoError(t, err)
				results <- changed
			})
		}
		close(start)
		wg.Wait()
		close(results)
		changes := 0
		for changed := range results {
			if changed {
				changes++
			}
		}
		assert.Equal(t, 1, changes)
		n, err := b.Shipments(ctx, o.ID)
		require.NoError(t, err)
		assert.Equal(t, 1, n)
	})
}

func TestStoreKeepsOrdersAcrossARestart(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		before, err := OpenStore(ctx, dsn)
		require.NoError(t, err)
		o, err := before.Create(ctx, "mate", khipu.NewAmount(12990), "CLP")
		require.NoError(t, err)
		require.NoError(t, before.SetPayment(ctx, o.ID, "pay1"))
		require.NoError(t, before.Close())

		after := openStore(t, dsn) // creating the schema again keeps the data
		changed, err := after.MarkPaid(ctx, o.ID, "pay1", time.Now())
		require.NoError(t, err)
		assert.True(t, changed)
		got, err := after.Get(ctx, o.ID)
		require.NoError(t, err)
		assert.Equal(t, OrderPaid, got.State())
	})
}

func TestStoreCancelsOnlyAnUnpaidOrder(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		s := openStore(t, dsn)
		unpaid, err := s.Create(ctx, "mate", khipu.NewAmount(12990), "CLP")
		require.NoError(t, err)
		require.NoError(t, s.SetPayment(ctx, unpaid.ID, "pay1"))
		changed, err := s.Cancel(ctx, unpaid.ID, time.Now())
		require.NoError(t, err)
		assert.True(t, changed)
		changed, err = s.Cancel(ctx, unpaid.ID, time.Now())
		require.NoError(t, err)
		assert.False(t, changed, "cancelled once")
		got, err := s.Get(ctx, unpaid.ID)
		require.NoError(t, err)
		assert.Equal(t, OrderCancelled, got.State())

		// The payer cancelled, went back and paid after all: the money
		// arrived, so the order is paid.
		changed, err = s.MarkPaid(ctx, unpaid.ID, "pay1", time.Now())
		require.NoError(t, err)
		assert.True(t, changed)
		got, err = s.Get(ctx, unpaid.ID)
		require.NoError(t, err)
		assert.Equal(t, OrderPaid, got.State())

		paid, err := s.Create(ctx, "mate", khipu.NewAmount(12990), "CLP")
		require.NoError(t, err)
		require.NoError(t, s.SetPayment(ctx, paid.ID, "pay2"))
		_, err = s.MarkPaid(ctx, paid.ID, "pay2", time.Now())
		require.NoError(t, err)
		changed, err = s.Cancel(ctx, paid.ID, time.Now())
		require.NoError(t, err)
		assert.False(t, changed, "a paid order is not cancelled")
		got, err = s.Get(ctx, paid.ID)
		require.NoError(t, err)
		assert.Equal(t, OrderPaid, got.State())
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
	err := s.SetPayment(context.Background(), "order-1", "pay1")
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
