// A payment as the server keeps it, and its life after creation: read,
// deleted, confirmed, refunded.

package khiputest

import (
	"net/http"
	"net/url"
	"time"
)

// payment is a payment as the server keeps it.
type payment struct {
	id, token string
	receiver  string     // the account that created it
	params    url.Values // what POST /payments received
	amount    amount
	expires   time.Time // when it can no longer be paid

	status, statusDetail string
	conciliation         time.Time // when it was paid
	outOfDate            bool      // it was paid at or after its expires_date, by the server's clock to the nanosecond
	deleted, confirmed   bool
	refunded             amount      // the sum of its refunds
	notify               notifyState // how its notifications went

	charge *charge // the charge intent that made it; nil for POST /payments
}

// The states the server's own code looks at; SetStatus puts a payment in
// any state Khipu documents.
const (
	statusPending   = "pending"
	statusVerifying = "verifying"
	statusDone      = "done"

	detailPending  = "pending"
	detailNormal   = "normal"
	detailReversed = "reversed" // refunded in full
)

// collected reports whether Khipu collected p's money, so that it can be
// confirmed or refunded: done, and neither rejected by the payer nor paid
// outside Khipu.
func (p *payment) collected() bool {
	return p.status == statusDone && (p.statusDetail == detailNormal || p.statusDetail == detailReversed)
}

// expired reports whether p is pending past its expires_date at now: it
// can no longer be paid.
func (p *payment) expired(now time.Time) bool {
	return p.status == statusPending && !now.Before(p.expires)
}

// conciliate records that p was paid at now: its conciliation date, in
// whole seconds as Khipu writes it, and whether it was paid out of date,
// decided at now itself, as expired decides, so that a payment made done in
// the second it expired is out of date too.
func (p *payment) conciliate(now time.Time) {
	p.conciliation = now.UTC().Truncate(time.Second)
	p.outOfDate = !now.Before(p.expires)
}

// state is p's status and detail, for messages and the payment page:
// "pending", "done (reversed)".
func (p *payment) state() string {
	if p.statusDetail == p.status {
		return p.status
	}
	return p.status + " (" + p.statusDetail + ")"
}

func (s *Server) getPayment(c *call) response {
	if errs := c.validate(nil); errs != nil {
		return validationResponse(errs)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p, resp := s.visiblePayment(c, c.id)
	if p == nil {
		return resp
	}
	return ok(p.view(s.base, c.v3))
}

func (s *Server) getPaymentByToken(c *call) response {
	if errs := c.validate(rules{"notification_token": required()}); errs != nil {
		return validationResponse(errs)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.byToken[c.params.Get("notification_token")]
	if p == nil || p.deleted {
		return validationResponse([]fieldError{{"notification_token", "no payment has this notification token"}})
	}
	if !s.mayAccess(c.caller, p.receiver) {
		return errorResponse(http.StatusForbidden, "the payment belongs to another collection account")
	}
	return ok(p.view(s.base, false))
}

func (s *Server) deletePayment(c *call) response {
	if errs := c.validate(nil); errs != nil {
		return validationResponse(errs)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p, resp := s.visiblePayment(c, c.id)
	if p == nil {
		return resp
	}
	if p.status != statusPending {
		return validationResponse([]fieldError{{"payment_id", "only a pending payment can be deleted; this one is " + p.state()}})
	}
	p.deleted = true
	return ok(success{Message: "payment deleted"})
}

func (s *Server) confirmPayment(c *call) response {
	if errs := c.validate(nil); errs != nil {
		return validationResponse(errs)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p, resp := s.visiblePayment(c, c.id)
	if p == nil {
		return resp
	}
	switch {
	case !p.collected():
		return validationResponse([]fieldError{{"payment_id", "only a payment paid through Khipu can be confirmed; this one is " + p.state()}})
	case p.confirmed:
		return validationResponse([]fieldError{{"payment_id", "the payment is already confirmed"}})
	case p.refunded == p.amount:
		return validationResponse([]fieldError{{"payment_id", "the payment was refunded in full"}})
	}
	p.confirmed = true
	return ok(success{Message: "payment confirmed"})
}

func (s *Server) refundPayment(c *call) response {
	if errs := c.validate(rules{"amount": optional(positiveAmount).as(kindNumber)}); errs != nil {
		return validationResponse(errs)
	}
	if !s.refunds {
		return errorResponse(http.StatusForbidden, "this collection account does not collect in a Khipu account: it cannot refund")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p, resp := s.visiblePayment(c, c.id)
	if p == nil {
		return resp
	}
	remaining := p.amount - p.refunded
	refund := remaining
	if c.params.Has("amount") {
		refund, _ = parseAmount(c.params.Get("amount"))
	}
	decimals := precision(p.params.Get("currency"), refund)
	switch {
	case !p.collected():
		return validationResponse([]fieldError{{"payment_id", "only a payment paid through Khipu can be refunded; this one is " + p.state()}})
	case p.confirmed:
		return validationResponse([]fieldError{{"payment_id", "the payment is confirmed: refunds end at settlement"}})
	case remaining == 0:
		return validationResponse([]fieldError{{"payment_id", "the payment was refunded in full"}})
	case decimals != "":
		return validationResponse([]fieldError{{"amount", decimals}})
	case refund > remaining:
		return validationResponse([]fieldError{{"amount", "is larger than what is left to refund (" + remaining.String() + ")"}})
	}
	p.refunded += refund
	if p.refunded == p.amount {
		p.statusDetail = detailReversed
	}
	return ok(success{Message: "refunded " + refund.String()})
}

// visiblePayment returns the payment id names if the caller may see it, or
// the error response to answer: for a payment that does not exist (or no
// longer does), a 400 naming payment_id in v2 and a 404 in v3. s.mu must be
// held.
func (s *Server) visiblePayment(c *call, id string) (*payment, response) {
	p := s.payments[id]
	if p == nil || p.deleted {
		const msg = "no payment has this id"
		if c.v3 {
			return nil, errorResponse(http.StatusNotFound, msg)
		}
		return nil, validationResponse([]fieldError{{"payment_id", msg}})
	}
	if !s.mayAccess(c.caller, p.receiver) {
		return nil, errorResponse(http.StatusForbidden, "the payment belongs to another collection account")
	}
	return p, response{}
}

// mayAccess reports whether caller may see the resources of the account
// receiverID: its own, and those of the accounts it created as integrator.
// s.mu must be held.
func (s *Server) mayAccess(caller *account, receiverID string) bool {
	if caller.id == receiverID {
		return true
	}
	acc := s.accounts[receiverID]
	return acc != nil && acc.parent == caller.id
}
