-- The shop's first schema, as the shop created it in code before it had
-- migrations: IF NOT EXISTS, so that a database that shop made is adopted as
-- it is, orders and all, and upgraded by the migrations after this one.
--
-- payment_id is UNIQUE: one Khipu payment pays at most one order.
-- shipments is what the shop owes once an order is paid, written in the
-- transaction that marks the order paid; its primary key on order_id makes
-- a second "paid" for the same order fail in the database, whatever the code
-- above it does.

-- +goose Up
CREATE TABLE IF NOT EXISTS orders (
	id           TEXT PRIMARY KEY,
	product      TEXT NOT NULL,
	amount       TEXT NOT NULL, -- khipu.Amount's exact decimal text, never a float
	currency     TEXT NOT NULL,
	payment_id   TEXT UNIQUE,
	created_at   TIMESTAMP NOT NULL,
	paid_at      TIMESTAMP,
	cancelled_at TIMESTAMP
);

CREATE TABLE IF NOT EXISTS shipments (
	order_id   TEXT PRIMARY KEY REFERENCES orders (id),
	payment_id TEXT NOT NULL UNIQUE,
	created_at TIMESTAMP NOT NULL
);
