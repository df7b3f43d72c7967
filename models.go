package khipu

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"time"
)

// PaymentStatus is the state of a payment as Khipu reports it.
type PaymentStatus string

// The states of a payment. Only StatusDone means the money has arrived.
const (
	StatusPending   PaymentStatus = "pending"
	StatusVerifying PaymentStatus = "verifying"
	StatusDone      PaymentStatus = "done"
)

// StatusDetail refines PaymentStatus.
type StatusDetail string

// The status details Khipu documents.
const (
	StatusDetailPending              StatusDetail = "pending"
	StatusDetailNormal               StatusDetail = "normal"
	StatusDetailMarkedPaidByReceiver StatusDetail = "marked-paid-by-receiver"
	StatusDetailRejectedByPayer      StatusDetail = "rejected-by-payer"
	StatusDetailMarkedAsAbuse        StatusDetail = "marked-as-abuse"
	StatusDetailReversed             StatusDetail = "reversed"
)

// PaymentMethodID is how a payment was paid.
type PaymentMethodID string

// The payment methods Khipu documents. "webpay_crebit_psp" is Khipu's own
// spelling.
const (
	PaymentMethodRegularTransfer    PaymentMethodID = "regular_transfer"
	PaymentMethodSimplifiedTransfer PaymentMethodID = "simplified_transfer"
	PaymentMethodWebpayPSP          PaymentMethodID = "webpay_psp"
	PaymentMethodWebpayDebitPSP     PaymentMethodID = "webpay_debit_psp"
	PaymentMethodWebpayCreditPSP    PaymentMethodID = "webpay_crebit_psp"
	PaymentMethodNotAvailable       PaymentMethodID = "not_available"
)

// Bank is a bank that can pay this collection account (GET /banks).
type Bank struct {
	BankID    string `json:"bank_id"`
	Name      string `json:"name"`
	Message   string `json:"message"`
	MinAmount Amount `json:"min_amount"`
	Type      string `json:"type"`
	Parent    string `json:"parent"`
	LogoURL   string `json:"logo_url,omitempty"`
}

// PaymentMethod is a payment method available to a collection account
// (GET /merchants/{id}/paymentMethods).
type PaymentMethod struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	LogoURL string `json:"logo_url"`
}

// PaymentCreated is Khipu's answer to Payments.Create: the payment's id and
// the URLs to send the payer to.
type PaymentCreated struct {
	PaymentID             string `json:"payment_id"`
	PaymentURL            string `json:"payment_url"`
	SimplifiedTransferURL string `json:"simplified_transfer_url"`
	TransferURL           string `json:"transfer_url"`
	WebpayURL             string `json:"webpay_url"`
	AppURL                string `json:"app_url"`
	ReadyForTerminal      bool   `json:"ready_for_terminal"`
}

// missing names what a PaymentCreated cannot do without. Only the id: a
// payment that has one exists at Khipu, and an error would hide it.
func (p *PaymentCreated) missing() string {
	if p.PaymentID == "" {
		return "payment_id"
	}
	return ""
}

// Payment is a payment as Khipu reports it (GET /payments/{id} and
// GET /payments?notification_token=...).
//
// Before delivering an order, check it with Check, never by trusting the
// payer's return to ReturnURL.
type Payment struct {
	PaymentID             string          `json:"payment_id"`
	PaymentURL            string          `json:"payment_url"`
	SimplifiedTransferURL string          `json:"simplified_transfer_url"`
	TransferURL           string          `json:"transfer_url"`
	WebpayURL             string          `json:"webpay_url"`
	AppURL                string          `json:"app_url"`
	ReadyForTerminal      bool            `json:"ready_for_terminal"`
	NotificationToken     string          `json:"notification_token"`
	ReceiverID            string          `json:"receiver_id"` // Khipu sends a number; compare with Client.ReceiverID
	ConciliationDate      time.Time       `json:"conciliation_date"`
	Subject               string          `json:"subject"`
	Amount                Amount          `json:"amount"`
	Currency              string          `json:"currency"`
	Status                PaymentStatus   `json:"status"`
	StatusDetail          StatusDetail    `json:"status_detail"`
	Body                  string          `json:"body"`
	PictureURL            string          `json:"picture_url"`
	ReceiptURL            string          `json:"receipt_url"`
	ReturnURL             string          `json:"return_url"`
	CancelURL             string          `json:"cancel_url"`
	NotifyURL             string          `json:"notify_url"`
	NotifyAPIVersion      string          `json:"notify_api_version"`
	ExpiresDate           time.Time       `json:"expires_date"`
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
	PaymentMethod         PaymentMethodID `json:"payment_method"`
	FundsSource           string          `json:"funds_source"`
}

// UnmarshalJSON decodes Khipu's JSON: receiver_id as a number or a string,
// dates as ISO-8601 strings, empty or null.
func (p *Payment) UnmarshalJSON(b []byte) error {
	type plain Payment
	aux := struct {
		*plain
		ReceiverID       flexString `json:"receiver_id"`
		ConciliationDate flexTime   `json:"conciliation_date"`
		ExpiresDate      flexTime   `json:"expires_date"`
	}{plain: (*plain)(p)}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	p.ReceiverID = string(aux.ReceiverID)
	p.ConciliationDate = time.Time(aux.ConciliationDate)
	p.ExpiresDate = time.Time(aux.ExpiresDate)
	return nil
}

// decodeBody is UnmarshalJSON called by the client on a whole response
// body: json.Unmarshal(body, p) would first validate and skip the whole
// document only to hand it to UnmarshalJSON, whose own json.Unmarshal
// validates and decodes it again, with the same results and errors.
func (p *Payment) decodeBody(body []byte) error { return p.UnmarshalJSON(body) }

func (p *Payment) missing() string {
	if p.PaymentID == "" {
		return "payment_id"
	}
	return ""
}

// Success is Khipu's answer to Delete, Confirm and Refund.
type Success struct {
	Message string `json:"message"`
}

// ReceiverCreated is Khipu's answer to Receivers.Create: the new collection
// account's credentials. Its printed form never shows Secret.
type ReceiverCreated struct {
	ReceiverID string `json:"receiver_id"`
	Secret     string `json:"secret"`
}

// UnmarshalJSON accepts receiver_id as a number or a string.
func (r *ReceiverCreated) UnmarshalJSON(b []byte) error {
	var aux struct {
		ReceiverID flexString `json:"receiver_id"`
		Secret     string     `json:"secret"`
	}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	r.ReceiverID, r.Secret = string(aux.ReceiverID), aux.Secret
	return nil
}

func (r *ReceiverCreated) missing() string {
	switch {
	case r.ReceiverID == "":
		return "receiver_id"
	case r.Secret == "":
		return "secret"
	}
	return ""
}

// String shows the receiver id and hides the secret.
func (r ReceiverCreated) String() string {
	return "khipu.ReceiverCreated{ReceiverID: " + strconv.Quote(r.ReceiverID) + ", Secret: [redacted]}"
}

// GoString hides the secret from %#v.
func (r ReceiverCreated) GoString() string { return r.String() }

// LogValue hides the secret from log/slog, whose JSON handler would
// otherwise marshal it.
func (r ReceiverCreated) LogValue() slog.Value {
	return slog.GroupValue(slog.String("receiver_id", r.ReceiverID), slog.String("secret", "[redacted]"))
}

// Format hides the secret from every verb, %x and %q included.
func (r ReceiverCreated) Format(f fmt.State, verb rune) { _, _ = f.Write([]byte(r.String())) }

// PaymentCreateParams are the parameters of Payments.Create. Subject,
// Currency and Amount are required; a zero optional field is not sent.
//
// SendEmail and SendReminders are sent only when true: Khipu's default for
// both is false, so leaving out false asks for exactly the same thing.
type PaymentCreateParams struct {
	Subject                      string    `url:"subject"`
	Currency                     string    `url:"currency"`
	Amount                       Amount    `url:"amount"`
	TransactionID                string    `url:"transaction_id,omitempty"`
	Custom                       string    `url:"custom,omitempty"`
	Body                         string    `url:"body,omitempty"`
	BankID                       string    `url:"bank_id,omitempty"`
	ReturnURL                    string    `url:"return_url,omitempty"`
	CancelURL                    string    `url:"cancel_url,omitempty"`
	PictureURL                   string    `url:"picture_url,omitempty"`
	NotifyURL                    string    `url:"notify_url,omitempty"`
	ContractURL                  string    `url:"contract_url,omitempty"`
	NotifyAPIVersion             string    `url:"notify_api_version,omitempty"` // set to "1.3" when NotifyURL is set and this is empty
	ExpiresDate                  time.Time `url:"expires_date,omitempty"`
	SendEmail                    bool      `url:"send_email,omitempty"`
	PayerName                    string    `url:"payer_name,omitempty"`
	PayerEmail                   string    `url:"payer_email,omitempty"`
	SendReminders                bool      `url:"send_reminders,omitempty"`
	ResponsibleUserEmail         string    `url:"responsible_user_email,omitempty"`
	FixedPayerPersonalIdentifier string    `url:"fixed_payer_personal_identifier,omitempty"`
	IntegratorFee                Amount    `url:"integrator_fee,omitempty"`
	CollectAccountUUID           string    `url:"collect_account_uuid,omitempty"`
	ConfirmTimeoutDate           time.Time `url:"confirm_timeout_date,omitempty"`
	MandatoryPaymentMethod       string    `url:"mandatory_payment_method,omitempty"`
}

// formValues is exactly what query.Values(p) returns, without reflection:
// Create is the hottest call with parameters, and go-querystring's per-field
// tag parsing was a quarter of its allocations. It must follow the url tags
// above (required fields always, omitempty ones when non-zero, times as
// RFC 3339, bools as "true"); TestBenchFormValuesMatchGoQuerystring compares
// the two with every field set.
func (p *PaymentCreateParams) formValues() url.Values {
	if p == nil {
		return url.Values{}
	}
	// One backing array for every value slice: two allocations, not one
	// per parameter.
	vals := make([]string, 0, 24)
	v := make(url.Values, 8)
	set := func(key, value string) {
		vals = append(vals, value)
		n := len(vals)
		v[key] = vals[n-1 : n : n]
	}
	opt := func(key, value string) {
		if value != "" {
			set(key, value)
		}
	}
	optTime := func(key string, t time.Time) {
		if !t.IsZero() {
			set(key, t.Format(time.RFC3339))
		}
	}
	optBool := func(key string, b bool) {
		if b {
			set(key, "true")
		}
	}
	set("subject", p.Subject)
	set("currency", p.Currency)
	set("amount", p.Amount.String())
	opt("transaction_id", p.TransactionID)
	opt("custom", p.Custom)
	opt("body", p.Body)
	opt("bank_id", p.BankID)
	opt("return_url", p.ReturnURL)
	opt("cancel_url", p.CancelURL)
	opt("picture_url", p.PictureURL)
	opt("notify_url", p.NotifyURL)
	opt("contract_url", p.ContractURL)
	opt("notify_api_version", p.NotifyAPIVersion)
	optTime("expires_date", p.ExpiresDate)
	optBool("send_email", p.SendEmail)
	opt("payer_name", p.PayerName)
	opt("payer_email", p.PayerEmail)
	optBool("send_reminders", p.SendReminders)
	opt("responsible_user_email", p.ResponsibleUserEmail)
	opt("fixed_payer_personal_identifier", p.FixedPayerPersonalIdentifier)
	if !p.IntegratorFee.IsZero() {
		set("integrator_fee", p.IntegratorFee.String())
	}
	opt("collect_account_uuid", p.CollectAccountUUID)
	optTime("confirm_timeout_date", p.ConfirmTimeoutDate)
	opt("mandatory_payment_method", p.MandatoryPaymentMethod)
	return v
}

// RefundParams are the parameters of Payments.Refund. A zero Amount refunds
// the whole payment.
type RefundParams struct {
	Amount Amount `url:"amount,omitempty"`
}

// ReceiverCreateParams are the parameters of Receivers.Create. Every field
// but the bank account, NotifyURL and RenditionURL is required.
type ReceiverCreateParams struct {
	AdminFirstName        string `url:"admin_first_name"`
	AdminLastName         string `url:"admin_last_name"`
	AdminEmail            string `url:"admin_email"`
	CountryCode           string `url:"country_code"`
	BusinessIdentifier    string `url:"business_identifier"`
	BusinessCategory      string `url:"business_category"`
	BusinessName          string `url:"business_name"`
	BusinessPhone         string `url:"business_phone"`
	BusinessAddressLine1  string `url:"business_address_line_1"`
	BusinessAddressLine2  string `url:"business_address_line_2"`
	BusinessAddressLine3  string `url:"business_address_line_3"`
	ContactFullName       string `url:"contact_full_name"`
	ContactJobTitle       string `url:"contact_job_title"`
	ContactEmail          string `url:"contact_email"`
	ContactPhone          string `url:"contact_phone"`
	BankAccountBankID     string `url:"bank_account_bank_id,omitempty"`
	BankAccountIdentifier string `url:"bank_account_identifier,omitempty"`
	BankAccountName       string `url:"bank_account_name,omitempty"`
	BankAccountNumber     string `url:"bank_account_number,omitempty"`
	NotifyURL             string `url:"notify_url,omitempty"`
	RenditionURL          string `url:"rendition_url,omitempty"`
}

// flexString decodes a JSON string or number (Khipu sends receiver_id as a
// number) into its exact text.
type flexString string

func (s *flexString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		*s = ""
	case len(b) > 0 && b[0] == '"':
		if raw, ok := plainJSONString(b); ok {
			*s = flexString(raw)
			return nil
		}
		var v string
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		*s = flexString(v)
	default:
		if plainJSONInteger(b) {
			*s = flexString(b)
			return nil
		}
		var n json.Number
		if err := json.Unmarshal(b, &n); err != nil {
			return fmt.Errorf("want a string or a number, got %.40s", b)
		}
		*s = flexString(n)
	}
	return nil
}

// plainJSONString returns what the JSON string literal b holds when that is
// b without its quotes: printable ASCII without '"' or '\', the common case
// of ids, dates and amounts. Decoders then skip a nested json.Unmarshal,
// which would give the same result.
func plainJSONString(b []byte) ([]byte, bool) {
	if len(b) < 2 || b[0] != '"' || b[len(b)-1] != '"' {
		return nil, false
	}
	b = b[1 : len(b)-1]
	for _, c := range b {
		if c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			return nil, false
		}
	}
	return b, true
}

// plainJSONInteger reports whether b is a valid JSON number made of digits
// only (no sign, fraction or exponent, no leading zero).
func plainJSONInteger(b []byte) bool {
	if len(b) == 0 || b[0] == '0' && len(b) > 1 {
		return false
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// flexTime decodes Khipu's ISO-8601 dates; an empty string or null is the
// zero time.
type flexTime time.Time

var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999Z0700",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05",
	"2006-01-02",
}

func (t *flexTime) UnmarshalJSON(b []byte) error {
	if bytes.Equal(bytes.TrimSpace(b), []byte("null")) {
		*t = flexTime{}
		return nil
	}
	var s string
	if raw, ok := plainJSONString(b); ok {
		s = string(raw)
	} else if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("want a date string, got %.40s", b)
	}
	if s == "" {
		*t = flexTime{}
		return nil
	}
	for _, layout := range timeLayouts {
		if v, err := time.Parse(layout, s); err == nil {
			*t = flexTime(v)
			return nil
		}
	}
	return fmt.Errorf("date %q is not ISO-8601", s)
}
