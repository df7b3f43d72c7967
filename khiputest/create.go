// The creation of a payment, POST /payments and POST /v3/payments: its
// parameters and how they are checked.

package khiputest

import (
	"net/url"
	"slices"
	"strings"
	"time"
)

// createPaymentParams are the parameters of POST /payments and how each is
// checked.
var createPaymentParams = rules{
	"subject":                         required(maxChars(255)),
	"currency":                        required(currencyCode),
	"amount":                          required(positiveAmount).as(kindNumber),
	"transaction_id":                  optional(maxChars(255)),
	"custom":                          optional(maxChars(4096)),
	"body":                            optional(maxChars(4096)),
	"bank_id":                         optional(knownBank),
	"return_url":                      optional(absoluteURL),
	"cancel_url":                      optional(absoluteURL),
	"picture_url":                     optional(absoluteURL),
	"notify_url":                      optional(absoluteURL),
	"contract_url":                    optional(absoluteURL),
	"notify_api_version":              optional(notifyAPIVersion),
	"expires_date":                    optional(date), // in the future: see crossCheckPayment
	"send_email":                      optional(boolean).as(kindBool),
	"payer_name":                      optional(maxChars(255)),
	"payer_email":                     optional(email),
	"send_reminders":                  optional(boolean).as(kindBool),
	"responsible_user_email":          optional(email),
	"fixed_payer_personal_identifier": optional(maxChars(255)),
	"integrator_fee":                  optional(nonNegativeAmount),
	"collect_account_uuid":            optional(maxChars(255)),
	"confirm_timeout_date":            optional(date), // in the future: see crossCheckPayment
	"mandatory_payment_method":        optional(knownPaymentMethod),
}

func (s *Server) createPayment(c *call) response {
	rs := createPaymentParams
	if c.v3 {
		rs = createPaymentParamsV3
	}
	errs := c.validate(rs)
	p := c.params
	if errs == nil {
		errs = crossCheckPayment(p, s.currencies, s.now())
	}
	if errs == nil && p.Has("integrator_fee") && c.caller.parent == "" {
		// Khipu: "Sólo es válido si la cuenta de cobro tiene una cuenta de
		// integrador asociada". Whether it refuses or ignores the fee
		// otherwise is not documented.
		errs = c.question("integrator_fee", "is only valid for a collection account that has an integrator, and this one has none (an integrator's are made with POST /receivers)", "accepted, to no effect")
	}
	if errs != nil {
		return validationResponse(errs)
	}
	if c.v3 && p.Has("notify_url") && !p.Has("notify_api_version") {
		// A v3 shop can only take notifications 3.0: v3 has no lookup
		// by notification token.
		p.Set("notify_api_version", "3.0")
	}
	s.mu.Lock()
	pay := s.addPayment(c.caller.id, p)
	s.mu.Unlock()
	return ok(pay.created(s.base, c.v3))
}

// addPayment keeps a new pending payment of the account receiver, made with
// params, the valid parameters of a create-payment request. s.mu must be
// held.
func (s *Server) addPayment(receiver string, params url.Values) *payment {
	pay := &payment{
		id:           randomString(12, lowerDigits),
		token:        randomString(40, alnum),
		receiver:     receiver,
		params:       cloneValues(params),
		status:       statusPending,
		statusDetail: detailPending,
	}
	pay.amount, _ = parseAmount(params.Get("amount"))
	var sent bool
	if pay.expires, sent = parseDate(params.Get("expires_date")); !sent {
		pay.expires = s.now().Add(defaultExpiry)
	}
	s.payments[pay.id] = pay
	s.byToken[pay.token] = pay
	return pay
}

// defaultExpiry is how long a payment created without an expires_date can
// be paid. Khipu gives such a payment one: a real v3 answer
// (testdata/realworld/v3-payment-derekillo-1.json, created without
// expires_date at 18:19:28Z, says the transaction id) carries
// "expires_date": "2025-05-10T18:19:29.309Z", a day later.
const defaultExpiry = 24 * time.Hour

// crossCheckPayment checks what depends on more than one parameter of a
// valid create-payment request, on the account, which collects in
// currencies, or on the time, which is now.
func crossCheckPayment(p url.Values, currencies []string, now time.Time) []fieldError {
	var errs []fieldError
	for _, k := range []string{"confirm_timeout_date", "expires_date"} {
		if t, sent := parseDate(p.Get(k)); sent && !t.After(now) {
			errs = append(errs, fieldError{k, "must be in the future"})
		}
	}
	currency := p.Get("currency")
	if msg := collects(currencies, currency); msg != "" {
		errs = append(errs, fieldError{"currency", msg})
	}
	amt, _ := parseAmount(p.Get("amount"))
	if msg := precision(currency, amt); msg != "" {
		errs = append(errs, fieldError{"amount", msg})
	}
	fee, _ := parseAmount(p.Get("integrator_fee"))
	if msg := precision(currency, fee); msg != "" {
		errs = append(errs, fieldError{"integrator_fee", msg})
	} else if fee > amt {
		errs = append(errs, fieldError{"integrator_fee", "is larger than the amount"})
	}
	if isTrue(p.Get("send_email")) && (p.Get("payer_name") == "" || p.Get("payer_email") == "") {
		errs = append(errs, fieldError{"send_email", "needs payer_name and payer_email"})
	}
	if p.Has("contract_url") && !p.Has("fixed_payer_personal_identifier") {
		errs = append(errs, fieldError{"contract_url", "needs fixed_payer_personal_identifier"})
	}
	return errs
}

// collects says why an account that collects in currencies does not
// collect in currency, or "".
func collects(currencies []string, currency string) string {
	if slices.Contains(currencies, currency) {
		return ""
	}
	return "this collection account does not collect in " + currency + "; it collects in " + strings.Join(currencies, ", ")
}

// precision says what is wrong with a's decimals in currency, or "": the
// Chilean peso has none.
func precision(currency string, a amount) string {
	if currency == "CLP" && a%amountScale != 0 {
		return "CLP amounts have no decimals"
	}
	return ""
}
