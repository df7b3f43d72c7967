// Charges of automatic payments: a charge intent makes a payment that Pay
// settles and notifies like any other, or that FailCharge fails.

package khiputest

import (
	"fmt"
	"net/http"
)

// charge is what a charge intent adds to the payment it made.
type charge struct {
	subscriptionID   string
	errorResponseURL string // where its failure is reported
}

// detailRejectedByPayer is the status_detail of a charge that FailCharge
// failed: the customer's bank did not pay it.
const detailRejectedByPayer = "rejected-by-payer"

// createChargeParams are the parameters of POST /charge-intent, with the
// limits of Khipu's description. Khipu takes a custom of up to 1 GiB (a
// base64 document); here the 64 KiB cap on a request body limits it.
var createChargeParams = rules{
	"subscription_id":    required(maxChars(255)),
	"amount":             required(positiveAmount, atLeastOne).as(kindNumber),
	"subject":            required(maxChars(255)),
	"body":               required(maxChars(5120)),
	"error_response_url": required(absoluteURL),
	"custom":             required(),
	"transaction_id":     required(maxChars(255)),
	"notify_url":         required(absoluteURL),
	"notify_api_version": optional(notifyAPIVersion),
}

// atLeastOne refuses an amount (already checked to be one) below 1, Khipu's
// smallest charge.
func atLeastOne(v string) string {
	if a, _ := parseAmount(v); a < amountScale {
		return "must be at least 1"
	}
	return ""
}

// createCharge charges an ENABLED subscription: it makes a pending payment
// of the subscription's account, in the subscription's currency, with the
// charge's subject, body, amount, custom, transaction_id and notify_url, and
// notify_api_version 3.0 unless the charge asked for another (1.3, 1.2).
//
// Khipu does not say how it refuses a charge of a subscription that is not
// ENABLED (or that does not exist): this server answers 400, naming
// subscription_id, with a message that says why.
func (s *Server) createCharge(c *call) response {
	if errs := c.validate(createChargeParams); errs != nil {
		return validationResponse(errs)
	}
	p := c.params
	s.mu.Lock()
	defer s.mu.Unlock()
	sub := s.subscriptions[p.Get("subscription_id")]
	switch {
	case sub == nil:
		return validationResponse([]fieldError{{"subscription_id", "no subscription has this id"}})
	case sub.mandate != mandateEnabled:
		return response{status: http.StatusBadRequest, body: khipuError{
			Status:  http.StatusBadRequest,
			Message: "the subscription cannot be charged: it is " + sub.mandate.status() + ", and only an ENABLED subscription can be",
			Errors:  []fieldError{{"subscription_id", "is " + sub.mandate.status() + ", not ENABLED"}},
		}}
	}
	currency := sub.params.Get("currency")
	amt, _ := parseAmount(p.Get("amount"))
	if msg := precision(currency, amt); msg != "" {
		return validationResponse([]fieldError{{"amount", msg}})
	}
	if amt > sub.maxAmount {
		return validationResponse([]fieldError{{"amount", fmt.Sprintf("is larger than the subscription's max_amount (%s %s)", sub.maxAmount, currency)}})
	}

	// What remains of the charge's parameters are its payment's.
	ch := &charge{subscriptionID: sub.id, errorResponseURL: p.Get("error_response_url")}
	p.Del("subscription_id")
	p.Del("error_response_url")
	p.Set("currency", currency)
	if !p.Has("notify_api_version") {
		p.Set("notify_api_version", "3.0")
	}
	pay := s.addPayment(sub.receiver, p)
	pay.charge = ch
	return ok(struct {
		PaymentID string `json:"payment_id"`
	}{pay.id})
}

// FailCharge plays a customer's bank that does not pay the charge whose
// payment is paymentID: the payment can no longer be paid (it stays pending,
// with status_detail rejected-by-payer, and Pay refuses it), and
// {"subscription_id": "...", "transaction_id": "...", "error_message": message}
// is POSTed as JSON to the charge's error_response_url, waiting up to 30 s
// for the answer. Khipu does not say what becomes of a failed charge's
// payment; this is this server's choice.
//
// It fails when paymentID is not the payment of a charge, or is not pending
// (paid, failed already or deleted), when message is empty, and with a
// *CallbackError when the callback was not answered with a 2xx status; the
// charge has failed all the same, as at Khipu.
func (s *Server) FailCharge(paymentID, message string) error {
	if err := s.closed(); err != nil {
		return err
	}
	if message == "" {
		return fmt.Errorf("khiputest: FailCharge of payment %s needs a message, Khipu's error_message", paymentID)
	}
	s.mu.Lock()
	p := s.payments[paymentID]
	switch {
	case p == nil || p.charge == nil:
		s.mu.Unlock()
		return fmt.Errorf("khiputest: payment %q is not the payment of a charge", paymentID)
	case p.deleted:
		s.mu.Unlock()
		return fmt.Errorf("khiputest: payment %s was deleted", paymentID)
	case p.statusDetail == detailRejectedByPayer:
		s.mu.Unlock()
		return fmt.Errorf("khiputest: the charge of payment %s has failed already", paymentID)
	case p.status != statusPending:
		s.mu.Unlock()
		return fmt.Errorf("khiputest: the charge of payment %s is %s, not pending", paymentID, p.status)
	}
	p.statusDetail = detailRejectedByPayer
	ch, transactionID := *p.charge, p.params.Get("transaction_id")
	s.mu.Unlock()
	return s.callback(ch.errorResponseURL, struct {
		SubscriptionID string `json:"subscription_id"`
		TransactionID  string `json:"transaction_id"`
		ErrorMessage   string `json:"error_message"`
	}{ch.subscriptionID, transactionID, message}, CallbackError{SubscriptionID: ch.subscriptionID, PaymentID: paymentID})
}
