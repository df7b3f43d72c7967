package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers "pgx" with database/sql
	_ "modernc.org/sqlite"             // registers "sqlite", pure Go: no cgo

	"github.com/pressly/goose/v3"

	"github.com/khipu-go/khipu"
)

// Order is what the shop sold: the payment Khipu reports must match it.
type Order struct {
	ID        string
	Product   string
	Amount    khipu.Amount
	Currency  string
	PaymentID string // the Khipu payment created for the order; "" until then
	CreatedAt time.Time
	// ExpiresAt is the expires_date the shop gave the payment: after it the
	// payer can no longer pay. Zero for an order from before the shop
	// recorded it, until the reconciler learns it from Khipu.
	ExpiresAt   time.Time
	PaidAt      time.Time // zero while unpaid
	CancelledAt time.Time // the payer followed the cancel link; the payment may still arrive
	// ClosedAt is when the order closed unpaid, and ClosedAs why:
	// OrderExpired, OrderRejected, OrderDeleted or OrderFailed.
	ClosedAt time.Time
	ClosedAs OrderState
	// LatePaidAt is when a payment arrived that the shop cannot simply
	// ship: after the order closed, or reconciled by Khipu after its
	// expires_date. No shipment was queued; a person ships or refunds.
	LatePaidAt time.Time
	// KhipuStatus is the payment's status when the reconciler last asked
	// Khipu, "" before it has.
	KhipuStatus khipu.PaymentStatus
	NextCheckAt time.Time // when the reconciler asks Khipu next; zero for never
	Checks      int       // how many times it has asked
}

// OrderState is where an order stands.
type OrderState string

// The states of an order. An order is open while pending, verifying or
// cancelled: the payment may still arrive, and the reconciler asks Khipu
// about it. The others are final.
const (
	OrderPending   OrderState = "pending"   // waiting for the payment
	OrderVerifying OrderState = "verifying" // Khipu is verifying the payer's transfer
	OrderCancelled OrderState = "cancelled" // the payer followed the cancel link; still open
	OrderPaid      OrderState = "paid"      // paid, shipment queued
	OrderPaidLate  OrderState = "paid-late" // paid after expiry: a person ships or refunds
	OrderExpired   OrderState = "expired"   // closed: the payment expired unpaid
	OrderRejected  OrderState = "rejected"  // closed: the payer refused to pay, or the payment was reversed
	OrderDeleted   OrderState = "deleted"   // closed: the payment was deleted at Khipu
	OrderFailed    OrderState = "failed"    // closed: Khipu could not create the payment
)

// State is paid once a verified payment paid the order, even if the payer
// cancelled first: the money arrived, and the shop owes the goods.
func (o Order) State() OrderState {
	switch {
	case !o.PaidAt.IsZero():
		return OrderPaid
	case !o.LatePaidAt.IsZero():
		return OrderPaidLate
	case !o.ClosedAt.IsZero():
		return o.ClosedAs
	case o.KhipuStatus == khipu.StatusVerifying || o.KhipuStatus == khipu.StatusDone:
		return OrderVerifying
	case !o.CancelledAt.IsZero():
		return OrderCancelled
	}
	return OrderPending
}

// Final reports whether nothing will change the order's state any more.
func (o Order) Final() bool {
	switch o.State() {
	case OrderPending, OrderVerifying, OrderCancelled:
		return false
	}
	return true
}

// Store keeps the shop's orders in a SQL database, SQLite or PostgreSQL,
// with the same code for both. Everything that must happen once is decided
// by the database, never by this process's memory, so it holds across
// restarts and between shop processes sharing the database.
type Store struct {
	db      *sql.DB
	dialect dialect
}

// dialect is what differs between the two databases: the driver, the
// migrations (their column types differ) and row locks. The queries are the same; both drivers take $1-style
// placeholders.
type dialect struct {
	name   string // "sqlite" or "postgres": also the migrations' directory
	driver string
	goose  goose.Dialect
	// forUpdate locks the rows a transaction reads to change them, and
	// skipLocked the rows it claims, passing over those another
	// transaction holds. SQLite needs neither: every transaction is BEGIN
	// IMMEDIATE (see sqliteDSN), which takes the database's one write lock.
	forUpdate, skipLocked string
}

var (
	sqliteDialect = dialect{
		name: "sqlite", driver: "sqlite", goose: goose.DialectSQLite3,
	}
	postgresDialect = dialect{
		name: "postgres", driver: "pgx", goose: goose.DialectPostgres,
		forUpdate: " FOR UPDATE", skipLocked: " FOR UPDATE SKIP LOCKED",
	}
)

// OpenStore opens the database dsn names and migrates its schema to the
// newest version (see migrate). A dsn starting with postgres:// or
// postgresql:// is a PostgreSQL server; anything else is the path of a
// SQLite file, created if needed.
func OpenStore(ctx context.Context, dsn string, log *slog.Logger) (*Store, error) {
	d, source := sqliteDialect, sqliteDSN(dsn)
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		d, source = postgresDialect, dsn
	}
	db, err := sql.Open(d.driver, source)
	if err != nil {
		return nil, err
	}
	// A burst of notifications waits for a connection rather than opening
	// one each: PostgreSQL allows 100 in all by default, for every
	// replica, and SQLite lets one writer in at a time anyway.
	db.SetMaxOpenConns(maxOpenConns)
	if err := migrate(ctx, db, d, dsn, log); err != nil {
		db.Close()
		return nil, fmt.Errorf("opening the %s database: %w", d.name, err)
	}
	return &Store{db: db, dialect: d}, nil
}

// maxOpenConns bounds each shop process's connections to its database.
const maxOpenConns = 16

// sqliteDSN adds to a file path what two shop processes sharing it need:
// WAL, so that readers do not block the writer; a busy timeout, so that a
// writer waits for the other process's transaction instead of failing; and
// BEGIN IMMEDIATE, so that a transaction takes the write lock when it starts
// rather than failing halfway when it first writes. A dsn that already
// carries parameters ("shop.db?_pragma=...") is used as it is.
func sqliteDSN(path string) string {
	if strings.Contains(path, "?") {
		return path
	}
	return path + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)" +
		"&_txlock=immediate&_time_format=sqlite"
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// inTx runs fn in a transaction, committed when fn returns nil and rolled
// back otherwise.
func (s *Store) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback() // the error that matters is fn's
		return err
	}
	return tx.Commit()
}

// newOrderID returns an order id that is never reused, not even after a
// restart or with a new database: Khipu keeps old payments, and a payment
// made for an earlier order must not pay a new one with the same id. It is
// random rather than sequential because it is in the order's URLs.
func newOrderID() string { return "order-" + strings.ToLower(rand.Text()[:16]) }

// Create stores a new unpaid order, made at the time at, and returns it.
func (s *Store) Create(ctx context.Context, product string, amount khipu.Amount, currency string, at time.Time) (Order, error) {
	o := Order{ID: newOrderID(), Product: product, Amount: amount, Currency: currency, CreatedAt: dbTime(at)}
	_, err := s.db.ExecContext(ctx,
		`INSERT INTO orders (id, product, amount, currency, created_at) VALUES ($1, $2, $3, $4, $5)`,
		o.ID, o.Product, o.Amount, o.Currency, o.CreatedAt)
	if err != nil {
		return Order{}, fmt.Errorf("storing order: %w", err)
	}
	return o, nil
}

// SetPayment records the Khipu payment created for an order, the
// expires_date it was given, and when the reconciler first asks Khipu about
// it should its notification not arrive. It is set once: an order's payment
// is never replaced, so that only the payment the payer was sent to can pay
// it.
func (s *Store) SetPayment(ctx context.Context, orderID, paymentID string, expires, firstCheck time.Time) error {
	what := fmt.Sprintf("recording payment %s for order %s", paymentID, orderID)
	// An error may be the row count's: the payment may well be recorded.
	set, err := s.update(ctx, what,
		`UPDATE orders SET payment_id = $1, expires_at = $2, next_check_at = $3 WHERE id = $4 AND payment_id IS NULL`,
		paymentID, dbTime(expires), dbTime(firstCheck), orderID)
	if err != nil {
		return err
	}
	if !set {
		return fmt.Errorf("%s: no such order without a payment", what)
	}
	return nil
}

// ErrNoOrder is the answer for an order id the store does not have.
var ErrNoOrder = errors.New("no such order")

// Get returns the order with the given id, or ErrNoOrder.
func (s *Store) Get(ctx context.Context, id string) (Order, error) {
	return getOrder(ctx, s.db, id, "")
}

// orderColumns are the columns scanOrder reads, in its order.
const orderColumns = `id, product, amount, currency, payment_id, created_at, expires_at, paid_at, cancelled_at,
	closed_at, closed_reason, late_paid_at, khipu_status, next_check_at, checks`

// querier is what *sql.DB and *sql.Tx share, so that an order is read the
// same way inside and outside a transaction.
type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// getOrder reads an order; lock is "" or the dialect's forUpdate.
func getOrder(ctx context.Context, q querier, id, lock string) (Order, error) {
	o, err := scanOrder(q.QueryRowContext(ctx, `SELECT `+orderColumns+` FROM orders WHERE id = $1`+lock, id))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return Order{}, fmt.Errorf("%w: %q", ErrNoOrder, id)
	case err != nil:
		return Order{}, fmt.Errorf("reading order %q: %w", id, err)
	}
	return o, nil
}

// scanOrder reads a row of orderColumns.
func scanOrder(row interface{ Scan(...any) error }) (Order, error) {
	var o Order
	var paymentID, closedAs, status sql.NullString
	var expires, paid, cancelled, closed, latePaid, nextCheck sql.NullTime
	err := row.Scan(&o.ID, &o.Product, &o.Amount, &o.Currency, &paymentID, &o.CreatedAt, &expires, &paid, &cancelled,
		&closed, &closedAs, &latePaid, &status, &nextCheck, &o.Checks)
	o.PaymentID, o.ClosedAs, o.KhipuStatus = paymentID.String, OrderState(closedAs.String), khipu.PaymentStatus(status.String)
	o.ExpiresAt, o.PaidAt, o.CancelledAt, o.ClosedAt = expires.Time, paid.Time, cancelled.Time, closed.Time
	o.LatePaidAt, o.NextCheckAt = latePaid.Time, nextCheck.Time
	return o, err
}

// What Settle did.
type settled int

const (
	settledBefore settled = iota // the order was paid before (or paid late): nothing changed
	settledPaid                  // paid, and its shipment queued
	settledLate                  // paid late: no shipment, a person ships or refunds
)

var (
	// errNotOrdersPayment is Settle's answer to a payment other than the
	// one created for the order.
	errNotOrdersPayment = errors.New("not the payment created for the order")
	// errMismatch is Settle's answer to the order's payment when it does
	// not pay the order: another amount, currency or transaction id, or a
	// status that is not done.
	errMismatch = errors.New("the payment does not pay its order")
)

// Settle is the one place where a payment Khipu reports done pays an order,
// whoever brought it: a notification or the reconciler. In one
// transaction, holding the order's row, it checks that the payment is the
// one created for the order and that it pays it (VerifiedPayment.Check:
// status, transaction id, amount and currency), and then either marks the
// order paid and queues its shipment, or, for a payment that arrived after
// the order closed or that Khipu reconciled after its expires_date, marks
// it paid late: no shipment, a person decides.
//
// A replayed notification, the reconciler finding a payment a notification
// has just paid, or the same notification reaching two shop processes at
// once finds the order paid and changes nothing: PostgreSQL makes the
// second transaction wait for the first's lock on the row (FOR UPDATE),
// SQLite lets one writer in at a time, and the shipments table's primary
// key would refuse a second shipment anyway.
//
// A payment for an order the store does not have is ErrNoOrder; one that is
// not the order's is errNotOrdersPayment; one that does not pay it,
// errMismatch.
func (s *Store) Settle(ctx context.Context, p *VerifiedPayment, at time.Time) (settled, error) {
	outcome := settledBefore
	at = dbTime(at)
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		o, err := getOrder(ctx, tx, p.TransactionID, s.dialect.forUpdate)
		switch {
		case err != nil:
			return err
		case o.PaymentID != p.PaymentID:
			return fmt.Errorf("%w: order %s has payment %q", errNotOrdersPayment, o.ID, o.PaymentID)
		}
		if err := p.Check(o); err != nil {
			return fmt.Errorf("%w: %w", errMismatch, err)
		}
		switch {
		case !o.PaidAt.IsZero() || !o.LatePaidAt.IsZero():
			return nil
		case !o.ClosedAt.IsZero() || p.OutOfDate:
			outcome = settledLate
			_, err := tx.ExecContext(ctx, `UPDATE orders SET late_paid_at = $1, next_check_at = NULL WHERE id = $2`, at, o.ID)
			return err
		}
		outcome = settledPaid
		if _, err := tx.ExecContext(ctx, `UPDATE orders SET paid_at = $1, next_check_at = NULL WHERE id = $2`, at, o.ID); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO shipments (order_id, payment_id, created_at) VALUES ($1, $2, $3)`, o.ID, p.PaymentID, at)
		return err
	})
	if err != nil {
		return settledBefore, fmt.Errorf("settling payment %s of order %s: %w", p.PaymentID, p.TransactionID, err)
	}
	return outcome, nil
}

// Cancel records that the payer followed the cancel link of an open order,
// and reports whether this call did it. It does not close the order: the
// payer may have paid in another tab, or pay yet, and a payment that
// arrives still pays it.
func (s *Store) Cancel(ctx context.Context, orderID string, at time.Time) (bool, error) {
	return s.update(ctx, "cancelling order "+orderID,
		`UPDATE orders SET cancelled_at = $1 WHERE id = $2
			AND paid_at IS NULL AND late_paid_at IS NULL AND closed_at IS NULL AND cancelled_at IS NULL`,
		dbTime(at), orderID)
}

// CloseUnpaid closes an order that was not paid, as the state as (expired,
// rejected, deleted or failed) says, and reports whether this call did it.
// A paid order, or a closed one, stays as it is.
func (s *Store) CloseUnpaid(ctx context.Context, orderID string, as OrderState, at time.Time) (bool, error) {
	return s.update(ctx, "closing order "+orderID,
		`UPDATE orders SET closed_at = $1, closed_reason = $2, next_check_at = NULL WHERE id = $3
			AND paid_at IS NULL AND late_paid_at IS NULL AND closed_at IS NULL`,
		dbTime(at), string(as), orderID)
}

// update runs a statement that changes at most one row and reports
// whether it changed it.
func (s *Store) update(ctx context.Context, what, query string, args ...any) (bool, error) {
	res, err := s.db.ExecContext(ctx, query, args...)
	if err != nil {
		return false, fmt.Errorf("%s: %w", what, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("%s: %w", what, err)
	}
	return n == 1, nil
}

// ClaimDue claims, for this process alone, up to limit orders whose next
// check is due at now, and returns them with the check counted. Until lease
// the order is this process's: no other process, and no later round of
// this one, finds it due, so Khipu is asked about an order at most once a
// round whatever the number of shop processes. The process looks the orders
// up before lease and sets each one's next check (CheckAgain), or settles
// or closes it; should it die first, the order is due again at lease.
//
// On PostgreSQL, SKIP LOCKED makes processes claiming at the same moment
// take different orders instead of waiting for each other; SQLite runs one
// writing statement at a time.
func (s *Store) ClaimDue(ctx context.Context, now, lease time.Time, limit int) ([]Order, error) {
	rows, err := s.db.QueryContext(ctx, `UPDATE orders SET checks = checks + 1, next_check_at = $1
		WHERE id IN (SELECT id FROM orders WHERE next_check_at <= $2 ORDER BY next_check_at LIMIT $3`+s.dialect.skipLocked+`)
		RETURNING `+orderColumns,
		dbTime(lease), dbTime(now), limit)
	if err != nil {
		return nil, fmt.Errorf("claiming the orders due: %w", err)
	}
	defer rows.Close()
	var claimed []Order
	for rows.Next() {
		o, err := scanOrder(rows)
		if err != nil {
			return nil, fmt.Errorf("claiming the orders due: %w", err)
		}
		claimed = append(claimed, o)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("claiming the orders due: %w", err)
	}
	return claimed, nil
}

// CheckAgain schedules the next check of an open order at next, and records
// what the reconciler found at Khipu, if it found anything: the payment's
// status ("" for no answer), and its expires_date when the order has none
// (an order from before the shop recorded it). A paid or closed order stays
// unscheduled.
func (s *Store) CheckAgain(ctx context.Context, orderID string, next time.Time, status khipu.PaymentStatus, expires time.Time) error {
	var st sql.NullString
	if status != "" {
		st = sql.NullString{String: string(status), Valid: true}
	}
	var exp sql.NullTime
	if !expires.IsZero() {
		exp = sql.NullTime{Time: dbTime(expires), Valid: true}
	}
	_, err := s.db.ExecContext(ctx, `UPDATE orders
		SET next_check_at = $1, khipu_status = COALESCE($2, khipu_status), expires_at = COALESCE(expires_at, $3)
		WHERE id = $4 AND paid_at IS NULL AND late_paid_at IS NULL AND closed_at IS NULL`,
		dbTime(next), st, exp, orderID)
	if err != nil {
		return fmt.Errorf("scheduling order %s: %w", orderID, err)
	}
	return nil
}

// StopChecking stops the reconciler asking about an order that a person
// must look at.
func (s *Store) StopChecking(ctx context.Context, orderID string) error {
	_, err := s.db.ExecContext(ctx, `UPDATE orders SET next_check_at = NULL WHERE id = $1`, orderID)
	if err != nil {
		return fmt.Errorf("unscheduling order %s: %w", orderID, err)
	}
	return nil
}

// Shipments returns how many shipments the store holds for the order: 1
// once it is paid, never more.
func (s *Store) Shipments(ctx context.Context, orderID string) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM shipments WHERE order_id = $1`, orderID).Scan(&n)
	return n, err
}

// dbTime is t as the store records it: in UTC, to the microsecond that both
// databases keep, so that an order reads back as it was written. In SQLite
// a time is text, compared as text: UTC throughout keeps that order the
// order of the times.
func dbTime(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }
