package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers "pgx" with database/sql
	_ "modernc.org/sqlite"             // registers "sqlite", pure Go: no cgo

	"github.com/khipu-go/khipu"
)

// Order is what the shop sold: the payment Khipu reports must match it.
type Order struct {
	ID          string
	Product     string
	Amount      khipu.Amount
	Currency    string
	PaymentID   string // the Khipu payment created for the order; "" until then
	CreatedAt   time.Time
	PaidAt      time.Time // zero while unpaid
	CancelledAt time.Time // zero unless the payer cancelled at Khipu
}

// OrderState is where an order stands.
type OrderState string

// The states of an order.
const (
	OrderPending   OrderState = "pending"
	OrderPaid      OrderState = "paid"
	OrderCancelled OrderState = "cancelled"
)

// State is paid once a verified payment paid the order, even if the payer
// cancelled first: the money arrived, and the shop owes the goods.
func (o Order) State() OrderState {
	switch {
	case !o.PaidAt.IsZero():
		return OrderPaid
	case !o.CancelledAt.IsZero():
		return OrderCancelled
	}
	return OrderPending
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
// column types, and how concurrent schema creation is serialised. The
// queries are the same; both drivers take $1-style placeholders.
type dialect struct {
	name       string // "sqlite" or "postgres"
	driver     string
	amountType string // never a float: khipu.Amount stores its exact decimal text
	timeType   string
	// lockSchema runs first in the transaction that creates the schema, so
	// that replicas starting together do not race on CREATE TABLE.
	lockSchema string
}

var (
	sqliteDialect = dialect{
		name: "sqlite", driver: "sqlite", amountType: "TEXT", timeType: "TIMESTAMP",
		// No lockSchema: every transaction is BEGIN IMMEDIATE (see
		// sqliteDSN), which takes the database's one write lock.
	}
	postgresDialect = dialect{
		name: "postgres", driver: "pgx", amountType: "NUMERIC", timeType: "TIMESTAMPTZ",
		lockSchema: "SELECT pg_advisory_xact_lock(727160)", // any constant the shop owns
	}
)

// OpenStore opens the database dsn names and creates the schema if it is
// missing. A dsn starting with postgres:// or postgresql:// is a PostgreSQL
// server; anything else is the path of a SQLite file, created if needed.
func OpenStore(ctx context.Context, dsn string) (*Store, error) {
	d, source := sqliteDialect, sqliteDSN(dsn)
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		d, source = postgresDialect, dsn
	}
	db, err := sql.Open(d.driver, source)
	if err != nil {
		return nil, err
	}
	s := &Store{db: db, dialect: d}
	if err := s.createSchema(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("opening the %s database: %w", d.name, err)
	}
	return s, nil
}

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

// createSchema creates the tables if they are missing.
//
// payment_id is UNIQUE: one Khipu payment pays at most one order. shipments
// is what the shop owes once an order is paid, written in the transaction
// that marks the order paid; its primary key on order_id makes a second
// "paid" for the same order fail in the database, whatever the code above
// it does. A worker that ships from that table ships each order once.
func (s *Store) createSchema(ctx context.Context) error {
	d := s.dialect
	statements := []string{
		`CREATE TABLE IF NOT EXISTS orders (
			id           TEXT PRIMARY KEY,
			product      TEXT NOT NULL,
			amount       ` + d.amountType + ` NOT NULL,
			currency     TEXT NOT NULL,
			payment_id   TEXT UNIQUE,
			created_at   ` + d.timeType + ` NOT NULL,
			paid_at      ` + d.timeType + `,
			cancelled_at ` + d.timeType + `
		)`,
		`CREATE TABLE IF NOT EXISTS shipments (
			order_id   TEXT PRIMARY KEY REFERENCES orders (id),
			payment_id TEXT NOT NULL UNIQUE,
			created_at ` + d.timeType + ` NOT NULL
		)`,
	}
	if d.lockSchema != "" {
		statements = append([]string{d.lockSchema}, statements...)
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		for _, stmt := range statements {
			if _, err := tx.ExecContext(ctx, stmt); err != nil {
				return err
			}
		}
		return nil
	})
}

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

// Create stores a new unpaid order and returns it.
func (s *Store) Create(ctx context.Context, product string, amount khipu.Amount, currency string) (Order, error) {
	o := Order{ID: newOrderID(), Product: product, Amount: amount, Currency: currency, CreatedAt: dbTime(time.Now())}
	_, err := s.db.ExecContext(ctx,
		`INSERT INTO orders (id, product, amount, currency, created_at) VALUES ($1, $2, $3, $4, $5)`,
		o.ID, o.Product, o.Amount, o.Currency, o.CreatedAt)
	if err != nil {
		return Order{}, fmt.Errorf("storing order: %w", err)
	}
	return o, nil
}

// SetPayment records the Khipu payment created for an order. It is set
// once: an order's payment is never replaced, so that only the payment the
// payer was sent to can pay it.
func (s *Store) SetPayment(ctx context.Context, orderID, paymentID string) error {
	res, err := s.db.ExecContext(ctx,
		`UPDATE orders SET payment_id = $1 WHERE id = $2 AND payment_id IS NULL`, paymentID, orderID)
	if err != nil {
		return fmt.Errorf("recording payment %s for order %s: %w", paymentID, orderID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		// The payment may well be recorded: what failed is finding out.
		return fmt.Errorf("recording payment %s for order %s: %w", paymentID, orderID, err)
	}
	if n != 1 {
		return fmt.Errorf("recording payment %s for order %s: no such order without a payment", paymentID, orderID)
	}
	return nil
}

// ErrNoOrder is the answer for an order id the store does not have.
var ErrNoOrder = errors.New("no such order")

// Get returns the order with the given id, or ErrNoOrder.
func (s *Store) Get(ctx context.Context, id string) (Order, error) {
	return getOrder(ctx, s.db, id)
}

// querier is what *sql.DB and *sql.Tx share, so that an order is read the
// same way inside and outside a transaction.
type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func getOrder(ctx context.Context, q querier, id string) (Order, error) {
	var o Order
	var paymentID sql.NullString
	var paidAt, cancelledAt sql.NullTime
	err := q.QueryRowContext(ctx,
		`SELECT id, product, amount, currency, payment_id, created_at, paid_at, cancelled_at FROM orders WHERE id = $1`, id,
	).Scan(&o.ID, &o.Product, &o.Amount, &o.Currency, &paymentID, &o.CreatedAt, &paidAt, &cancelledAt)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return Order{}, fmt.Errorf("%w: %q", ErrNoOrder, id)
	case err != nil:
		return Order{}, fmt.Errorf("reading order %q: %w", id, err)
	}
	o.PaymentID, o.PaidAt, o.CancelledAt = paymentID.String, paidAt.Time, cancelledAt.Time
	return o, nil
}

// errNotOrdersPayment is MarkPaid's answer to a payment other than the one
// created for the order.
var errNotOrdersPayment = errors.New("not the payment created for the order")

// MarkPaid marks the order paid by its payment and reports whether this call
// did it. A replayed notification, or the same notification reaching
// another shop process at the same moment, finds the order paid and changes
// nothing. A payment other than the one created for the order does not pay
// it (errNotOrdersPayment), and an unknown order is ErrNoOrder.
//
// The database decides, in one transaction: the conditional UPDATE changes
// the row only while it is unpaid and has this payment, and the database
// lets one transaction do that (PostgreSQL makes a concurrent UPDATE of the
// row wait for the first to commit and then finds paid_at set; SQLite lets
// one writer in at a time). The shipment is written in the same
// transaction, or not at all.
func (s *Store) MarkPaid(ctx context.Context, orderID, paymentID string, at time.Time) (bool, error) {
	changed := false
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx,
			`UPDATE orders SET paid_at = $1 WHERE id = $2 AND payment_id = $3 AND paid_at IS NULL`,
			dbTime(at), orderID, paymentID)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		if n == 0 {
			return whyNotPaid(ctx, tx, orderID, paymentID)
		}
		if _, err := tx.ExecContext(ctx,
			`INSERT INTO shipments (order_id, payment_id, created_at) VALUES ($1, $2, $3)`,
			orderID, paymentID, dbTime(at)); err != nil {
			return err
		}
		changed = true
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("marking order %s paid by %s: %w", orderID, paymentID, err)
	}
	return changed, nil
}

// whyNotPaid explains an UPDATE that changed nothing: nil when the order is
// already paid by this payment, an error otherwise.
func whyNotPaid(ctx context.Context, tx *sql.Tx, orderID, paymentID string) error {
	o, err := getOrder(ctx, tx, orderID)
	switch {
	case err != nil:
		return err
	case o.PaymentID != paymentID:
		return fmt.Errorf("%w: order %s has payment %q", errNotOrdersPayment, orderID, o.PaymentID)
	}
	return nil // paid before, by this very payment
}

// Cancel marks an unpaid order cancelled, as the payer asked at Khipu, and
// reports whether this call did it. A paid order stays paid.
func (s *Store) Cancel(ctx context.Context, orderID string, at time.Time) (bool, error) {
	res, err := s.db.ExecContext(ctx,
		`UPDATE orders SET cancelled_at = $1 WHERE id = $2 AND paid_at IS NULL AND cancelled_at IS NULL`,
		dbTime(at), orderID)
	if err != nil {
		return false, fmt.Errorf("cancelling order %s: %w", orderID, err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// Shipments returns how many shipments the store holds for the order: 1
// once it is paid, never more.
func (s *Store) Shipments(ctx context.Context, orderID string) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM shipments WHERE order_id = $1`, orderID).Scan(&n)
	return n, err
}

// dbTime is t as the store records it: in UTC, to the microsecond that both
// databases keep, so that an order reads back as it was written.
func dbTime(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }
