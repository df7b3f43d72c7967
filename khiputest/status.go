package khiputest

import (
	"fmt"
	"slices"
	"time"

	"github.com/khipu-go/khipu"
)

// statusDetails are the status details SetStatus takes with each status.
// Khipu documents the statuses and the details but not which go together;
// these are the plausible pairs: a payment not yet paid is pending, and
// stays so when the payer refuses it; one whose transfer is being verified
// has no detail yet or a normal one; and a finished payment is done with
// the detail that says how it finished.
var statusDetails = map[khipu.PaymentStatus][]khipu.StatusDetail{
	khipu.StatusPending:   {khipu.StatusDetailPending, khipu.StatusDetailRejectedByPayer, khipu.StatusDetailMarkedAsAbuse},
	khipu.StatusVerifying: {khipu.StatusDetailPending, khipu.StatusDetailNormal},
	khipu.StatusDone: {
		khipu.StatusDetailNormal, khipu.StatusDetailMarkedPaidByReceiver, khipu.StatusDetailRejectedByPayer,
		khipu.StatusDetailMarkedAsAbuse, khipu.StatusDetailReversed,
	},
}

// SetStatus puts the payment paymentID in status with detail, as if it had
// got there on its own, so that a test can exercise what a shop does with
// every state Khipu documents:
//
//   - pending/pending: not paid yet.
//   - pending/rejected-by-payer or done/rejected-by-payer: the payer
//     declared they will not pay.
//   - pending/marked-as-abuse or done/marked-as-abuse: the payer declared
//     they will not pay and that the charge was not asked for.
//   - verifying/pending or verifying/normal: the payer transferred, Khipu
//     is verifying the transfer. Pay still completes it.
//   - done/normal: paid through Khipu, as Pay leaves it.
//   - done/marked-paid-by-receiver: the merchant marked it paid by other
//     means.
//   - done/reversed: refunded in full.
//
// Only a pending/pending or verifying payment can be paid (Pay, the payment
// page), and only a done one is notified (Notify).
//
// A payment paid (done/normal, marked-paid-by-receiver or reversed) has a
// conciliation date and a payer's bank; any other has none. A payment made
// done once past its expires_date (WithClock, or the control API's clock)
// reports out_of_date_conciliation true, as Khipu does for a transfer
// reconciled after the payment expired: how a test plays a late payment. Only a
// done/normal payment can be confirmed or refunded, and a reversed one has
// nothing left to refund.
//
// SetStatus sends nothing: call Notify to send the payment's notification
// as it now is. It fails when there is no such payment or it was deleted,
// and when Khipu would not report that pair of status and detail.
func (s *Server) SetStatus(paymentID string, status khipu.PaymentStatus, detail khipu.StatusDetail) error {
	if err := checkStatus(status, detail); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.payments[paymentID]
	if p == nil || p.deleted {
		return fmt.Errorf("khiputest: no payment %q", paymentID)
	}
	p.status, p.statusDetail = string(status), string(detail)
	paid := status == khipu.StatusDone && detail != khipu.StatusDetailRejectedByPayer && detail != khipu.StatusDetailMarkedAsAbuse
	switch {
	case !paid:
		p.conciliation, p.outOfDate = time.Time{}, false
	case p.conciliation.IsZero():
		p.conciliate(s.now())
	}
	switch {
	case detail == khipu.StatusDetailReversed:
		p.refunded = p.amount
	case !paid || p.refunded == p.amount:
		p.refunded = 0
	}
	if p.status != statusDone || p.statusDetail != detailNormal {
		p.confirmed = false
	}
	return nil
}

// checkStatus says why Khipu would not report status with detail, if it
// would not.
func checkStatus(status khipu.PaymentStatus, detail khipu.StatusDetail) error {
	details, known := statusDetails[status]
	if !known {
		return fmt.Errorf("khiputest: SetStatus with status %q; Khipu's are pending, verifying and done", status)
	}
	if !slices.Contains(details, detail) {
		return fmt.Errorf("khiputest: SetStatus with %s/%s; a %s payment has detail %v", status, detail, status, details)
	}
	return nil
}
