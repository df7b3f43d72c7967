package main

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/khipu-go/khipu"
)

// The reconciler: what the shop does when a payment's notification does not
// come. The notification may never arrive (a firewall, a TLS or DNS mistake
// in notify_url, the shop down longer than Khipu's two days of retries, a
// bug in the handler), and the payer may close the tab. So every shop
// process asks Khipu, in rounds, about the orders that have a payment, are
// neither paid nor closed, and whose next check is due, and does with the
// answer what the notification would have made it do:
//
//   - done: Shop.settle, the very function a notification calls.
//   - rejected by the payer, marked as abuse, or reversed: the order closes
//     as rejected.
//   - still pending after its expires_date: the order closes as expired.
//   - deleted (Khipu no longer has it): the order closes as deleted.
//   - pending or verifying before its expires_date: it asks again later.
//
// A process claims the orders it asks about (Store.ClaimDue) for as long as
// the lookups may take, then schedules each one's next check: whatever the
// number of shop processes, Khipu is asked about an order at most once a
// round, and never about one whose notification arrived.

// backoff is how many rounds (CheckEvery) the reconciler waits after each
// lookup of an order before the next: with the default minute, 5 minutes
// after the first, 30 after the second, then hourly. The first lookup is one
// round after the order. The waits stop at the payment's expires_date: the
// last lookup is one round after it, to close the order should the payment
// not have been made.
var backoff = []time.Duration{5, 30, 60}

// reconcileBatch is how many orders a round claims at a time, and asks
// Khipu about at once.
const reconcileBatch = 10

// lookupTimeout bounds the lookups of a batch: an order whose lookup times
// out is asked about at its next step. claimLease is how long a batch's
// orders are the claiming process's: its lookups, and the writes after them.
const (
	lookupTimeout = 30 * time.Second
	claimLease    = lookupTimeout + 30*time.Second
)

// Reconcile runs the reconciler until ctx ends: a round now, then one
// every CheckEvery.
func (s *Shop) Reconcile(ctx context.Context) {
	ticker := time.NewTicker(s.checkEvery())
	defer ticker.Stop()
	for {
		if err := s.ReconcileRound(ctx); err != nil && ctx.Err() == nil {
			s.Log.Error("reconciler round", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}

// ReconcileRound asks Khipu about every order due now, by the shop's
// clock, that no other process has claimed, and acts on the answers.
func (s *Shop) ReconcileRound(ctx context.Context) error {
	due := s.now()
	for {
		orders, err := s.Orders.ClaimDue(ctx, due, s.now().Add(claimLease), reconcileBatch)
		if err != nil {
			return err
		}
		batch, cancel := context.WithTimeout(ctx, lookupTimeout)
		var wg sync.WaitGroup
		for _, o := range orders {
			wg.Go(func() { s.reconcile(ctx, batch, o) })
		}
		wg.Wait()
		cancel()
		if len(orders) < reconcileBatch {
			return nil
		}
	}
}

// nextCheck is when to ask about o again after asking now, o.Checks
// lookups having been made, this one included.
func (s *Shop) nextCheck(o Order, now time.Time) time.Time {
	next := now.Add(s.checkEvery() * backoff[min(max(o.Checks-1, 0), len(backoff)-1)])
	if last := o.ExpiresAt.Add(s.checkEvery()); !o.ExpiresAt.IsZero() && now.Before(last) && next.After(last) {
		next = last
	}
	return next
}

// reconcile asks Khipu about the claimed order o, within the context
// lookup, and acts on the answer.
func (s *Shop) reconcile(ctx, lookup context.Context, o Order) {
	log := s.Log.With("order", o.ID, "payment", o.PaymentID, "check", o.Checks)
	p, err := s.Khipu.Payment(lookup, o.PaymentID)
	now := s.now()
	switch {
	case errors.Is(err, errPaymentGone):
		s.closeOrder(ctx, o, OrderDeleted, now)
		return
	case err != nil:
		next := s.nextCheck(o, now)
		if ctx.Err() == nil {
			log.Warn("could not ask Khipu about an unpaid order; asking again later", "next_check", next, "err", err)
		}
		if err := s.Orders.CheckAgain(context.WithoutCancel(ctx), o.ID, next, "", time.Time{}); err != nil {
			log.Error("scheduling an order", "err", err)
		}
		return
	}
	if o.ExpiresAt.IsZero() {
		o.ExpiresAt = p.ExpiresDate // an order from before the shop recorded it
	}
	switch {
	case p.Status == khipu.StatusDone && accepted(p.StatusDetail):
		settled, err := s.settle(ctx, p, "reconciler")
		switch {
		case err != nil:
			log.Warn("could not settle a payment Khipu reports done; asking again later", "err", err)
			if err := s.Orders.CheckAgain(context.WithoutCancel(ctx), o.ID, s.nextCheck(o, now), p.Status, p.ExpiresDate); err != nil {
				log.Error("scheduling an order", "err", err)
			}
		case !settled:
			// settle logged why: a person must look, and asking Khipu
			// again would not change it.
			log.Error("stopped asking Khipu about an order whose payment does not pay it")
			if err := s.Orders.StopChecking(ctx, o.ID); err != nil {
				log.Error("unscheduling an order", "err", err)
			}
		}
	case refused(p.StatusDetail):
		s.closeOrder(ctx, o, OrderRejected, now)
	case p.Status == khipu.StatusPending && !o.ExpiresAt.IsZero() && !now.Before(o.ExpiresAt):
		s.closeOrder(ctx, o, OrderExpired, now)
	default:
		if err := s.Orders.CheckAgain(ctx, o.ID, s.nextCheck(o, now), p.Status, p.ExpiresDate); err != nil {
			log.Error("recording Khipu's answer", "err", err)
		}
	}
}

// accepted reports whether a done payment with detail is one a shop
// delivers: paid through Khipu, or marked paid by the merchant.
func accepted(detail khipu.StatusDetail) bool {
	switch detail {
	case khipu.StatusDetailNormal, khipu.StatusDetailMarkedPaidByReceiver, "":
		return true
	}
	return false
}

// refused reports whether detail says the payment will not be made: the
// payer declared they will not pay (and perhaps that the charge was abuse),
// or it was paid and returned.
func refused(detail khipu.StatusDetail) bool {
	switch detail {
	case khipu.StatusDetailRejectedByPayer, khipu.StatusDetailMarkedAsAbuse, khipu.StatusDetailReversed:
		return true
	}
	return false
}

// closeOrder closes the unpaid order o as the state as says.
func (s *Shop) closeOrder(ctx context.Context, o Order, as OrderState, now time.Time) {
	closed, err := s.Orders.CloseUnpaid(ctx, o.ID, as, now)
	switch {
	case err != nil:
		s.Log.Error("closing an unpaid order", "order", o.ID, "as", as, "err", err)
	case closed:
		s.Log.Info("order closed", "order", o.ID, "payment", o.PaymentID, "as", as)
	}
}
