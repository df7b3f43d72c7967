package khiputest

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
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

// paymentURLs are the addresses Khipu gives a payment.
type paymentURLs struct{ payment, simplified, transfer, webpay, app string }

// payPagePath is where the payment pages live: Khipu's payment_url is
// https://khipu.com/payment/info/<id>.
const payPagePath = "/payment/info/"

func urls(base, id string) paymentURLs {
	return paymentURLs{
		payment:    base + payPagePath + id,
		simplified: base + payPagePath + id + "?method=simplified_transfer",
		transfer:   base + payPagePath + id + "?method=regular_transfer",
		webpay:     base + payPagePath + id + "?method=webpay",
		app:        "khipu:///pos/" + id,
	}
}

// paymentCreated is Khipu's answer to POST /payments. Only v2 has a
// webpay_url.
type paymentCreated struct {
	PaymentID             string `json:"payment_id"`
	PaymentURL            string `json:"payment_url"`
	SimplifiedTransferURL string `json:"simplified_transfer_url"`
	TransferURL           string `json:"transfer_url"`
	WebpayURL             string `json:"webpay_url,omitempty"`
	AppURL                string `json:"app_url"`
	ReadyForTerminal      bool   `json:"ready_for_terminal"`
}

// created is Khipu's answer to the creation of p.
func (p *payment) created(base string, v3 bool) paymentCreated {
	u := urls(base, p.id)
	c := paymentCreated{
		PaymentID: p.id, PaymentURL: u.payment, SimplifiedTransferURL: u.simplified,
		TransferURL: u.transfer, AppURL: u.app,
	}
	if !v3 {
		c.WebpayURL = u.webpay
	}
	return c
}

// paymentView is Khipu's PaymentsResponse. receiver_id is a number, as
// Khipu sends it; amounts have four decimals, as JSON numbers in v2 and
// strings in v3; conciliation_date is left out until the payment is paid, as
// in Khipu's answer for a pending payment
// (testdata/realworld/v2-payment-infosicoes-1.json). Only v3 answers have
// discount and third_party_authorization_details.
type paymentView struct {
	paymentCreated
	NotificationToken     string          `json:"notification_token"`
	ReceiverID            json.RawMessage `json:"receiver_id"`
	ConciliationDate      *string         `json:"conciliation_date,omitempty"`
	Subject               string          `json:"subject"`
	Amount                json.RawMessage `json:"amount"`
	Currency              string          `json:"currency"`
	Status                string          `json:"status"`
	StatusDetail          string          `json:"status_detail"`
	Body                  string          `json:"body"`
	PictureURL            string          `json:"picture_url"`
	ReceiptURL            string          `json:"receipt_url"`
	ReturnURL             string          `json:"return_url"`
	CancelURL             string          `json:"cancel_url"`
	NotifyURL             string          `json:"notify_url"`
	NotifyAPIVersion      string          `json:"notify_api_version"`
	ExpiresDate           string          `json:"expires_date"`
	AttachmentURLs        []string        `json:"attachment_urls"`
	Bank                  string          `json:"bank"`
	BankID                string          `json:"bank_id"`
	PayerName             string          `json:"payer_name"`
	PayerEmail            string          `json:"payer_email"`
	PersonalIdentifier    string          `json:"personal_identifier"`
	BankAccountNumber     string          `json:"bank_account_number"`
	OutOfDateConciliation bool            `json:"out_of_date_conciliation"`
	TransactionID         string          `json:"transaction_id"`
	Custom                string          `json:"custom"`
	ResponsibleUserEmail  string          `json:"responsible_user_email"`
	SendReminders         bool            `json:"send_reminders"`
	SendEmail             bool            `json:"send_email"`
	PaymentMethod         string          `json:"payment_method"`
	FundsSource           string          `json:"funds_source"`
	Discount              json.RawMessage `json:"discount,omitempty"`
	// Khipu's v3 description says to ignore it; its real answers have "".
	ThirdPartyAuthorizationDetails *string `json:"third_party_authorization_details,omitempty"`
}

// view is p as Khipu's API v2, or v3, reports it. s.mu must be held.
func (p *payment) view(base string, v3 bool) paymentView {
	date := func(t time.Time) *string {
		d := t.Format(time.RFC3339)
		if v3 {
			d = t.UTC().Format(v3Date)
		}
		return &d
	}
	v := paymentView{
		paymentCreated:       p.created(base, v3),
		NotificationToken:    p.token,
		ReceiverID:           jsonNumber(p.receiver),
		Subject:              p.params.Get("subject"),
		Amount:               p.amount.json(v3),
		Currency:             p.params.Get("currency"),
		Status:               p.status,
		StatusDetail:         p.statusDetail,
		Body:                 p.params.Get("body"),
		PictureURL:           p.params.Get("picture_url"),
		ReturnURL:            p.params.Get("return_url"),
		CancelURL:            p.params.Get("cancel_url"),
		NotifyURL:            p.params.Get("notify_url"),
		NotifyAPIVersion:     p.notifyVersion(),
		AttachmentURLs:       []string{},
		BankID:               p.params.Get("bank_id"),
		PayerName:            p.params.Get("payer_name"),
		PayerEmail:           p.params.Get("payer_email"),
		TransactionID:        p.params.Get("transaction_id"),
		Custom:               p.params.Get("custom"),
		ResponsibleUserEmail: p.params.Get("responsible_user_email"),
		SendReminders:        isTrue(p.params.Get("send_reminders")),
		SendEmail:            isTrue(p.params.Get("send_email")),
		PaymentMethod:        "not_available",
	}
	v.ExpiresDate = *date(p.expires)
	if v3 {
		noDetails := ""
		v.Discount, v.ThirdPartyAuthorizationDetails = amount(0).json(true), &noDetails
	}
	if !p.conciliation.IsZero() { // paid
		v.ConciliationDate = date(p.conciliation)
		v.ReceiptURL = receiptURL(base, p.id)
		v.Bank, v.BankID = testBank.Name, testBank.BankID
		if v.PayerName == "" {
			v.PayerName = "Test Payer"
		}
		if v.PayerEmail == "" {
			// A paid payment has its payer's e-mail in every answer
			// Khipu sent (testdata/realworld), and Khipu's v3
			// description has it as an e-mail address, never "".
			v.PayerEmail = "payer@example.com"
		}
		v.PersonalIdentifier = "11.111.111-1"
		v.BankAccountNumber = "000012345678"
		v.PaymentMethod = "simplified_transfer"
		// Reconciled once expired: a transfer that arrived late (SetStatus
		// on an expired payment plays it).
		v.OutOfDateConciliation = p.outOfDate
		if v3 {
			v.FundsSource = "not-available" // as Khipu's DemoBank payments have it
		}
	}
	return v
}

// notifyVersion is the api_version of the payment's notifications.
func (p *payment) notifyVersion() string {
	if v := p.params.Get("notify_api_version"); v != "" {
		return v
	}
	if p.params.Has("notify_url") {
		return "1.3"
	}
	return ""
}

// jsonNumber is id as a JSON number when it is one (Khipu's receiver ids
// are), else as a JSON string.
func jsonNumber(id string) json.RawMessage {
	if id == "" || strings.TrimLeft(id, "0123456789") != "" || id[0] == '0' && len(id) > 1 {
		q, _ := json.Marshal(id)
		return q
	}
	return json.RawMessage(id)
}

type success struct {
	Message string `json:"message"`
}
