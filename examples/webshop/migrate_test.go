package main

import (
	"context"
	"database/sql"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/khipu-go/khipu"
)

// legacySchema is the schema the shop created in code, with CREATE TABLE IF
// NOT EXISTS, before it had migrations: the tables every database made by
// that shop has, word for word.
func legacySchema(dialectName string) []string {
	amountType, timeType := "TEXT", "TIMESTAMP"
	if dialectName == "postgres" {
		amountType, timeType = "NUMERIC", "TIMESTAMPTZ"
	}
	return []string{
		`CREATE TABLE IF NOT EXISTS orders (
			id           TEXT PRIMARY KEY,
			product      TEXT NOT NULL,
			amount       ` + amountType + ` NOT NULL,
			currency     TEXT NOT NULL,
			payment_id   TEXT UNIQUE,
			created_at   ` + timeType + ` NOT NULL,
			paid_at      ` + timeType + `,
			cancelled_at ` + timeType + `
		)`,
		`CREATE TABLE IF NOT EXISTS shipments (
			order_id   TEXT PRIMARY KEY REFERENCES orders (id),
			payment_id TEXT NOT NULL UNIQUE,
			created_at ` + timeType + ` NOT NULL
		)`,
	}
}

// openLegacy opens dsn as the shop before migrations did, and creates its
// schema.
func openLegacy(t *testing.T, dsn string) *sql.DB {
	t.Helper()
	driver, name, source := "sqlite", "sqlite", sqliteDSN(dsn)
	if strings.HasPrefix(dsn, "postgres://") {
		driver, name, source = "pgx", "postgres", dsn
	}
	db, err := sql.Open(driver, source)
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	for _, stmt := range legacySchema(name) {
		_, err := db.Exec(stmt)
		require.NoError(t, err)
	}
	return db
}

func TestADatabaseOfTheShopBeforeMigrationsIsUpgradedWithItsOrders(t *testing.T) {
	forEachAPI(t, func(t *testing.T, api khipuAPI) {
		forEachDatabase(t, func(t *testing.T, dsn string) {
			ctx := context.Background()
			fake := newKhipu(t)
			gw := api.gateway(t, fake)
			created := time.Now().Add(-2 * time.Hour).UTC().Truncate(time.Microsecond)
			pay := func(orderID string) string { // the payment the old shop created, without expires_date
				p, err := gw.CreatePayment(ctx, &khipu.PaymentCreateParams{
					Subject: "Mate", Currency: "CLP", Amount: khipu.NewAmount(12990), TransactionID: orderID,
				})
				require.NoError(t, err)
				return p.PaymentID
			}

			// The old shop's database, with an order in each state it knew.
			legacy := openLegacy(t, dsn)
			type row struct {
				id, paymentID      string
				paid, cancelled    bool
				want               OrderState
				wantFinal, wantDue bool
			}
			rows := []row{
				{id: "order-paid", paid: true, want: OrderPaid, wantFinal: true},
				{id: "order-pending", want: OrderPending, wantDue: true},
				{id: "order-cancelled-by-payer", cancelled: true, want: OrderCancelled, wantDue: true},
				{id: "order-payment-failed", cancelled: true, want: OrderFailed, wantFinal: true},
				{id: "order-creating-payment", want: OrderPending},
			}
			for i, r := range rows {
				if r.id != "order-payment-failed" && r.id != "order-creating-payment" {
					rows[i].paymentID = pay(r.id)
				}
				r = rows[i]
				var paymentID, paid, cancelled any
				if r.paymentID != "" {
					paymentID = r.paymentID
				}
				if r.paid {
					paid = created.Add(time.Minute)
				}
				if r.cancelled {
					cancelled = created.Add(time.Minute)
				}
				_, err := legacy.Exec(`INSERT INTO orders (id, product, amount, currency, payment_id, created_at, paid_at, cancelled_at)
					VALUES ($1, 'mate', $2, 'CLP', $3, $4, $5, $6)`, r.id, khipu.NewAmount(12990), paymentID, created, paid, cancelled)
				require.NoError(t, err)
				if r.paid {
					_, err := legacy.Exec(`INSERT INTO shipments (order_id, payment_id, created_at) VALUES ($1, $2, $3)`,
						r.id, r.paymentID, created.Add(time.Minute))
					require.NoError(t, err)
				}
			}
			require.NoError(t, legacy.Close())

			// Today's shop opens it.
			store := openStore(t, dsn)
			for _, r := range rows {
				o := get(t, store, r.id)
				assert.Equal(t, r.want, o.State(), r.id)
				assert.Equal(t, r.wantFinal, o.Final(), r.id)
				assert.Equal(t, r.paymentID, o.PaymentID, r.id)
				assert.Equal(t, "12990", o.Amount.String(), r.id)
				assert.True(t, created.Equal(o.CreatedAt), "%s: created_at %v", r.id, o.CreatedAt)
				if r.wantDue {
					assert.True(t, created.Equal(o.NextCheckAt), "%s is due at once: %v", r.id, o.NextCheckAt)
				} else {
					assert.True(t, o.NextCheckAt.IsZero(), "%s is not asked about", r.id)
				}
			}
			assert.Equal(t, 1, shipments(t, store, "order-paid"), "the shipment is kept")
			assertMigratedOnce(t, store)

			// Opening it again changes nothing.
			assertMigratedOnce(t, openStore(t, dsn))

			// The reconciler finds the payment of the old pending order,
			// whose notification never came.
			require.NoError(t, fake.PayWithoutNotifying(rows[1].paymentID))
			shop := &Shop{Khipu: gw, Orders: store, Products: products, Log: quiet}
			require.NoError(t, shop.ReconcileRound(ctx))
			assert.Equal(t, OrderPaid, get(t, store, "order-pending").State())
			assert.Equal(t, 1, shipments(t, store, "order-pending"))
			o := get(t, store, "order-cancelled-by-payer")
			assert.Equal(t, OrderCancelled, o.State(), "still waiting for its payment")
			assert.Equal(t, 1, o.Checks)
		})
	})
}

// assertMigratedOnce checks that goose recorded each migration once.
func assertMigratedOnce(t *testing.T, s *Store) {
	t.Helper()
	rows, err := s.db.Query(`SELECT version_id FROM goose_db_version WHERE version_id > 0 ORDER BY id`)
	require.NoError(t, err)
	defer rows.Close()
	var versions []int
	for rows.Next() {
		var v int
		require.NoError(t, rows.Scan(&v))
		versions = append(versions, v)
	}
	require.NoError(t, rows.Err())
	assert.Equal(t, []int{1, 2}, versions)
}

func TestShopProcessesStartingTogetherMigrateOneAtATime(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, dsn string) {
		stores := make(chan *Store, 6)
		atOnce(6, func(int) {
			s, err := OpenStore(context.Background(), dsn, quiet)
			if assert.NoError(t, err) {
				stores <- s
			}
		})
		close(stores)
		n := 0
		for s := range stores {
			n++
			t.Cleanup(func() { s.Close() })
		}
		require.Equal(t, 6, n, "every process started")
		assertMigratedOnce(t, openStore(t, dsn))
	})
}
