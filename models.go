package khipu

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/khipu-go/khipu/internal/wire"
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

// Bank is a bank that can pay a collection account (GET /banks).
type Bank struct {
	BankID    string `json:"bank_id"`
	Name      string `json:"name"`
	Message   string `json:"message"`
	MinAmount Amount `json:"min_amount"`
	Type      string `json:"type"`
	Parent    string `json:"parent"`
	LogoURL   string `json:"logo_url,omitempty"`
}

// UnmarshalJSON decodes a bank as Khipu sends it: min_amount as a number or
// a string, and any field of an odd type as its zero value.
func (b *Bank) UnmarshalJSON(data []byte) error {
	if wire.IsNull(data) {
		return nil // encoding/json's convention, as for a bank in a list
	}
	var w wire.Bank
	if err := wire.Object(data, &w); err != nil {
		return err
	}
	*b = bankOf(&w)
	return nil
}

// bankOf is the bank w decodes to. BanksService.List decodes the list into
// []wire.Bank directly, which spares a second pass over each bank.
func bankOf(w *wire.Bank) Bank {
	return Bank{
		BankID: string(w.BankID), Name: string(w.Name), Message: string(w.Message),
		MinAmount: looseAmount(string(w.MinAmount)),
		Type:      string(w.Type), Parent: string(w.Parent), LogoURL: string(w.LogoURL),
	}
}

// PaymentMethod is a payment method available to a collection account
// (GET /merchants/{id}/paymentMethods).
type PaymentMethod struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	LogoURL string `json:"logo_url"`
}

// UnmarshalJSON decodes a payment method, any field of an odd type as its
// zero value.
func (m *PaymentMethod) UnmarshalJSON(data []byte) error {
	var w struct {
		ID      wire.String `json:"id"`
		Name    wire.String `json:"name"`
		LogoURL wire.String `json:"logo_url"`
	}
	if wire.IsNull(data) {
		return nil // encoding/json's convention
	}
	if err := wire.Object(data, &w); err != nil {
		return err
	}
	*m = PaymentMethod{ID: string(w.ID), Name: string(w.Name), LogoURL: string(w.LogoURL)}
	return nil
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

	// Raw is the answer as received, for the fields this version does
	// not know (hites_url, payme_url, ...).
	Raw json.RawMessage `json:"-"`
}

// UnmarshalJSON decodes Khipu's answer: payment_id must be a string; any
// other field of an odd type is its zero value.
func (p *PaymentCreated) UnmarshalJSON(data []byte) error {
	var strict wire.Strict
	w, err := wire.DecodeCreated(data, &strict)
	if err != nil {
		return err
	}
	*p = createdOf(&w)
	return strict.Err()
}

func createdOf(w *wire.Created) PaymentCreated {
	return PaymentCreated{
		PaymentID: w.PaymentID, PaymentURL: w.PaymentURL, SimplifiedTransferURL: w.SimplifiedTransferURL,
		TransferURL: w.TransferURL, WebpayURL: w.WebpayURL, AppURL: w.AppURL,
		ReadyForTerminal: w.ReadyForTerminal, Raw: w.Raw,
	}
}

// Payment is a payment as Khipu reports it: API v2's GET /payments/{id} and
// GET /payments?notification_token=... (package khipuv3 has its own).
//
// Before delivering an order, check it with Check, never by trusting the
// payer's return to ReturnURL.
//
// Decoding is strict only for what a shop decides on: payment_id, status,
// amount, currency, transaction_id and receiver_id (an odd type there is an
// error). Any other field of an odd type (a boolean as 0 or "false", a list
// as "") is its zero value, so that one odd field never blocks a
// notification. Dates without a zone are UTC; enums are read in lower case;
// an amount with more than 4 decimals (a float artifact such as
// 19.989999999999998) is rounded half to even to 4.
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
	Discount              Amount          `json:"discount"`

	// Raw is the payment as received, for the fields this version does
	// not know.
	Raw json.RawMessage `json:"-"`
}

// UnmarshalJSON decodes a payment as Khipu sends it (see Payment).
func (p *Payment) UnmarshalJSON(data []byte) error {
	var strict wire.Strict
	w, err := wire.DecodePayment(data, &strict)
	if err != nil {
		return err
	}
	*p = Payment{
		PaymentID:             w.PaymentID,
		PaymentURL:            w.PaymentURL,
		SimplifiedTransferURL: w.SimplifiedTransferURL,
		TransferURL:           w.TransferURL,
		WebpayURL:             w.WebpayURL,
		AppURL:                w.AppURL,
		ReadyForTerminal:      w.ReadyForTerminal,
		NotificationToken:     w.NotificationToken,
		ReceiverID:            w.ReceiverID,
		ConciliationDate:      w.ConciliationDate,
		Subject:               w.Subject,
		Amount:                strictAmount(&strict, "amount", w.Amount),
		Currency:              w.Currency,
		Status:                PaymentStatus(w.Status),
		StatusDetail:          StatusDetail(w.StatusDetail),
		Body:                  w.Body,
		PictureURL:            w.PictureURL,
		ReceiptURL:            w.ReceiptURL,
		ReturnURL:             w.ReturnURL,
		CancelURL:             w.CancelURL,
		NotifyURL:             w.NotifyURL,
		NotifyAPIVersion:      w.NotifyAPIVersion,
		ExpiresDate:           w.ExpiresDate,
		AttachmentURLs:        w.AttachmentURLs,
		Bank:                  w.Bank,
		BankID:                w.BankID,
		PayerName:             w.PayerName,
		PayerEmail:            w.PayerEmail,
		PersonalIdentifier:    w.PersonalIdentifier,
		BankAccountNumber:     w.BankAccountNumber,
		OutOfDateConciliation: w.OutOfDateConciliation,
		TransactionID:         w.TransactionID,
		Custom:                w.Custom,
		ResponsibleUserEmail:  w.ResponsibleUserEmail,
		SendReminders:         w.SendReminders,
		SendEmail:             w.SendEmail,
		PaymentMethod:         PaymentMethodID(w.PaymentMethod),
		FundsSource:           w.FundsSource,
		Discount:              looseAmount(w.Discount),
		Raw:                   w.Raw,
	}
	return strict.Err()
}

// strictAmount is the amount whose decimal text the strict decoder gave
// (already rounded to 4 decimals); one out of range is recorded in strict.
func strictAmount(strict *wire.Strict, field, text string) Amount {
	if text == "" {
		return Amount{}
	}
	a, err := ParseAmount(text)
	if err != nil {
		strict.Fail(field, err)
	}
	return a
}

// looseAmount is a lenient amount: zero when it is not one.
func looseAmount(text string) Amount {
	a, err := ParseAmount(text)
	if err != nil {
		return Amount{}
	}
	return a
}

// Success is Khipu's answer to Delete, Confirm and Refund.
type Success struct {
	Message string `json:"message"`
}

// UnmarshalJSON decodes Khipu's answer; a message of an odd type is "".
func (s *Success) UnmarshalJSON(data []byte) error {
	var w struct {
		Message wire.String `json:"message"`
	}
	if err := wire.Object(data, &w); err != nil {
		return err
	}
	s.Message = string(w.Message)
	return nil
}

// ReceiverCreated is Khipu's answer to Receivers.Create: the new collection
// account's credentials. Its printed form, by any fmt verb or as a log/slog
// attribute's value, never shows Secret. json.Marshal writes it, as a
// program that stores it needs; and so does slog's JSONHandler for a
// ReceiverCreated inside a slice, map or struct it marshals, so log the
// value itself, never a container of it.
type ReceiverCreated struct {
	ReceiverID string `json:"receiver_id"`
	Secret     string `json:"secret"`
}

// UnmarshalJSON accepts receiver_id as a number or a string; the secret
// must be a string, and an error about it never quotes it.
func (r *ReceiverCreated) UnmarshalJSON(b []byte) error {
	w, err := wire.DecodeReceiverCreated(b)
	*r = ReceiverCreated{ReceiverID: w.ReceiverID, Secret: w.Secret}
	return err
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

// PaymentCreateParams are the parameters of Payments.Create, sent as API
// v2's form. Subject, Currency and Amount are required; a zero optional
// field is not sent. (Package khipuv3 has its own, for API v3's JSON.)
//
// NotifyAPIVersion is the version of the notifications Khipu sends to
// NotifyURL: "" or "1.3" (Create fills it in when NotifyURL is set and it is
// empty).
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
	NotifyAPIVersion             string    `url:"notify_api_version,omitempty"`
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

// RefundParams are the parameters of a partial refund: Payments.Refund with
// nil params refunds the whole payment, and a non-nil RefundParams with a
// zero Amount is refused, so that an amount computed as 0 by mistake never
// refunds everything.
type RefundParams struct {
	Amount Amount `url:"amount"`
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
