package main

import (
	"crypto/rand"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/khipu-go/khipu"
)

// Order is what the shop sold: the payment Khipu reports must match it.
type Order struct {
	ID        string
	Product   string
	Amount    khipu.Amount
	Currency  string
	PaymentID string
	Paid      bool
	PaidAt    time.Time
}

// Store keeps orders in memory. A real shop uses its database; what matters
// is that MarkPaid changes an order once, atomically.
type Store struct {
	mu     sync.Mutex
	next   int
	orders map[string]*Order
}

// NewStore returns an empty store.
func NewStore() *Store { return &Store{orders: make(map[string]*Order)} }

// Create stores a new unpaid order and returns a copy of it. Its id, sent to
// Khipu as the payment's transaction_id, is never reused, not even after a
// restart: Khipu keeps old payments, and a payment made for an earlier
// order-1001 must not pay a new one.
func (s *Store) Create(product string, amount khipu.Amount, currency string) Order {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.next++
	o := &Order{ID: fmt.Sprintf("order-%d-%s", 1000+s.next, rand.Text()[:8]), Product: product, Amount: amount, Currency: currency}
	s.orders[o.ID] = o
	return *o
}

// SetPayment records the Khipu payment created for an order.
func (s *Store) SetPayment(orderID, paymentID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if o, ok := s.orders[orderID]; ok {
		o.PaymentID = paymentID
	}
}

// Get returns a copy of an order.
func (s *Store) Get(id string) (Order, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.orders[id]
	if !ok {
		return Order{}, false
	}
	return *o, true
}

// errNotOrdersPayment is MarkPaid's answer to a payment other than the one
// created for the order.
var errNotOrdersPayment = errors.New("not the payment created for the order")

// MarkPaid marks an order paid by its payment and reports whether this call
// did it: a replayed notification finds it paid already and changes nothing.
// A payment other than the one created for the order does not pay it.
func (s *Store) MarkPaid(id, paymentID string, at time.Time) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.orders[id]
	switch {
	case !ok:
		return false, fmt.Errorf("no order %q", id)
	case o.PaymentID != paymentID:
		return false, fmt.Errorf("%w: payment %s, order %s has %s", errNotOrdersPayment, paymentID, id, o.PaymentID)
	case o.Paid:
		return false, nil
	}
	o.Paid, o.PaidAt = true, at
	return true, nil
}
