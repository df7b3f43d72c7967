-- What the reconciler needs to ask Khipu about orders whose notification
-- has not arrived, and the states an order can end in besides paid.
--
-- Migrations only go forward: undoing one is a new migration.

-- +goose Up
-- The expires_date the shop gave the order's payment.
ALTER TABLE orders ADD COLUMN expires_at TIMESTAMPTZ;
-- When the reconciler asks Khipu about the order next; NULL once nothing
-- will change it (paid, closed, needing a person) or it has no payment.
ALTER TABLE orders ADD COLUMN next_check_at TIMESTAMPTZ;
-- How many times it has asked: the step of the order's backoff.
ALTER TABLE orders ADD COLUMN checks INTEGER NOT NULL DEFAULT 0;
-- The payment's status at the last lookup: pending or verifying.
ALTER TABLE orders ADD COLUMN khipu_status TEXT;
-- Closed unpaid: expired, rejected (by the payer), deleted (the payment),
-- failed (no payment could be created).
ALTER TABLE orders ADD COLUMN closed_at TIMESTAMPTZ;
ALTER TABLE orders ADD COLUMN closed_reason TEXT;
-- Paid after it closed, or reconciled by Khipu after its expires_date: no
-- shipment was queued; a person ships or refunds.
ALTER TABLE orders ADD COLUMN late_paid_at TIMESTAMPTZ;

-- The orders of the shop before this migration: one whose payment could not
-- be created was cancelled, and is closed; every other unpaid one with a
-- payment is looked up at the reconciler's first round.
UPDATE orders SET closed_at = cancelled_at, closed_reason = 'failed'
	WHERE payment_id IS NULL AND cancelled_at IS NOT NULL AND paid_at IS NULL;
UPDATE orders SET next_check_at = created_at
	WHERE payment_id IS NOT NULL AND paid_at IS NULL;

-- The reconciler's question, "which orders are due?", reads only these.
CREATE INDEX orders_due ON orders (next_check_at) WHERE next_check_at IS NOT NULL;
