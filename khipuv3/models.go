package khipuv3

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/khipu-go/khipu"
	"github.com/khipu-go/khipu/internal/params"
	"github.com/khipu-go/khipu/internal/wire"
)

// Bank is a bank that can pay the account (GET /v3/banks).
type Bank struct {
	BankID    string       `json:"bank_id"`
	Name      string       `json:"name"`
	Message   string       `json:"message"`
	MinAmount khipu.Amount `json:"min_amount"`
	Type      string       `json:"type"` // "Persona" or "Empresa"
	Parent    string       `json:"parent"`
	LogoURL   string       `json:"logo_url,omitempty"`
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
		MinAmount: looseAmount(w.MinAmount),
		Type:      string(w.Type), Parent: string(w.Parent), LogoURL: string(w.LogoURL),
	}
}

// PaymentCreated is Khipu's answer to Payments.Create: the payment's id and
// the URLs to send the payer to.
type PaymentCreated struct {
	PaymentID             string `json:"payment_id"`
	PaymentURL            string `json:"payment_url"`
	SimplifiedTransferURL string `json:"simplified_transfer_url"`
	TransferURL           string `json:"transfer_url"`
	AppURL                string `json:"app_url"`
	ReadyForTerminal      bool   `json:"ready_for_terminal"`

	// Raw is the answer as received, for the fields this version does
	// not know.
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
	*p = PaymentCreated{
		PaymentID: w.PaymentID, PaymentURL: w.PaymentURL, SimplifiedTransferURL: w.SimplifiedTransferURL,
		TransferURL: w.TransferURL, AppURL: w.AppURL, ReadyForTerminal: w.ReadyForTerminal, Raw: w.Raw,
	}
	return strict.Err()
}

// Payment is a payment as Khipu reports it (GET /v3/payments/{id}).
//
// Before delivering an order, check it with Check, never by trusting the
// payer's return to ReturnURL.
//
// Decoding is strict only for what a shop decides on: payment_id, status,
// amount, currency, transaction_id and receiver_id (an odd type there is an
// error). Any other field of an odd type (a boolean as 0 or "false", a list
// as "") is its zero value, so that one odd field never blocks a shop.
// Dates without a zone are UTC; enums are read in lower case; an amount
// with more than 4 decimals (a float artifact such as 19.989999999999998)
// is rounded half to even to 4. The decoding is the one package khipu's
// Payment and this package's Notification use.
type Payment struct {
	PaymentID             string                `json:"payment_id"`
	PaymentURL            string                `json:"payment_url"`
	SimplifiedTransferURL string                `json:"simplified_transfer_url"`
	TransferURL           string                `json:"transfer_url"`
	AppURL                string                `json:"app_url"`
	ReadyForTerminal      bool                  `json:"ready_for_terminal"`
	NotificationToken     string                `json:"notification_token"`
	ReceiverID            string                `json:"receiver_id"` // Khipu sends a number
	ConciliationDate      time.Time             `json:"conciliation_date"`
	Subject               string                `json:"subject"`
	Amount                khipu.Amount          `json:"amount"`
	Currency              string                `json:"currency"`
	Status                khipu.PaymentStatus   `json:"status"`
	StatusDetail          khipu.StatusDetail    `json:"status_detail"`
	Body                  string                `json:"body"`
	PictureURL            string                `json:"picture_url"`
	ReceiptURL            string                `json:"receipt_url"`
	ReturnURL             string                `json:"return_url"`
	CancelURL             string                `json:"cancel_url"`
	NotifyURL             string                `json:"notify_url"`
	NotifyAPIVersion      string                `json:"notify_api_version"`
	ExpiresDate           time.Time             `json:"expires_date"`
	AttachmentURLs        []string              `json:"attachment_urls"`
	Bank                  string                `json:"bank"`
	BankID                string                `json:"bank_id"`
	PayerName             string                `json:"payer_name"`
	PayerEmail            string                `json:"payer_email"`
	PersonalIdentifier    string                `json:"personal_identifier"`
	BankAccountNumber     string                `json:"bank_account_number"`
	OutOfDateConciliation bool                  `json:"out_of_date_conciliation"`
	TransactionID         string                `json:"transaction_id"`
	Custom                string                `json:"custom"`
	ResponsibleUserEmail  string                `json:"responsible_user_email"`
	SendReminders         bool                  `json:"send_reminders"`
	SendEmail             bool                  `json:"send_email"`
	PaymentMethod         khipu.PaymentMethodID `json:"payment_method"`
	FundsSource           string                `json:"funds_source"`
	Discount              khipu.Amount          `json:"discount"`

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
		AppURL:                w.AppURL,
		ReadyForTerminal:      w.ReadyForTerminal,
		NotificationToken:     w.NotificationToken,
		ReceiverID:            w.ReceiverID,
		ConciliationDate:      w.ConciliationDate,
		Subject:               w.Subject,
		Amount:                strictAmount(&strict, "amount", w.Amount),
		Currency:              w.Currency,
		Status:                khipu.PaymentStatus(w.Status),
		StatusDetail:          khipu.StatusDetail(w.StatusDetail),
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
		PaymentMethod:         khipu.PaymentMethodID(w.PaymentMethod),
		FundsSource:           w.FundsSource,
		Discount:              looseAmount(wire.Amount(w.Discount)),
		Raw:                   w.Raw,
	}
	return strict.Err()
}

// Check returns nil only when p is done and its transaction id, amount and
// currency all match the merchant's order; otherwise an error (one
// *khipu.MismatchError per difference, joined) says what differs. A done
// payment passes only with status_detail "normal", "marked-paid-by-receiver"
// or none. The rules are package khipu's Payment.Check, and
// Notification.Check's.
func (p *Payment) Check(transactionID string, amount khipu.Amount, currency string) error {
	if p == nil {
		return &khipu.MismatchError{Field: "payment", Want: "a payment", Got: "nil"}
	}
	return check(p.Status, p.StatusDetail, p.TransactionID, p.Amount, p.Currency, transactionID, amount, currency)
}

// check is the one rule of Payment.Check and Notification.Check: package
// khipu's Payment.Check, so that API v2 and v3 deliver the same payments.
func check(status khipu.PaymentStatus, detail khipu.StatusDetail, gotTx string, gotAmount khipu.Amount, gotCurrency string,
	transactionID string, amount khipu.Amount, currency string) error {
	p := khipu.Payment{Status: status, StatusDetail: detail, TransactionID: gotTx, Amount: gotAmount, Currency: gotCurrency}
	return p.Check(transactionID, amount, currency)
}

// strictAmount is the amount whose decimal text the strict decoder gave
// (already rounded to 4 decimals); one out of range is recorded in strict.
func strictAmount(strict *wire.Strict, field, text string) khipu.Amount {
	if text == "" {
		return khipu.Amount{}
	}
	a, err := khipu.ParseAmount(text)
	if err != nil {
		strict.Fail(field, err)
	}
	return a
}

// PaymentCreateParams are the parameters of Payments.Create, sent as JSON.
// Subject, Currency and Amount are required; a zero optional field is not
// sent.
//
// NotifyAPIVersion is "" (sent as "3.0" when NotifyURL is set) or "3.0":
// the notifications this package verifies. IntegratorFee goes on the wire
// as a JSON string, as Khipu asks. SendEmail and SendReminders are sent only
// when true: Khipu's default for both is false.
type PaymentCreateParams struct {
	Subject                      string       `json:"subject"`
	Currency                     string       `json:"currency"`
	Amount                       khipu.Amount `json:"amount"`
	TransactionID                string       `json:"transaction_id,omitempty"`
	Custom                       string       `json:"custom,omitempty"`
	Body                         string       `json:"body,omitempty"`
	BankID                       string       `json:"bank_id,omitempty"`
	ReturnURL                    string       `json:"return_url,omitempty"`
	CancelURL                    string       `json:"cancel_url,omitempty"`
	PictureURL                   string       `json:"picture_url,omitempty"`
	NotifyURL                    string       `json:"notify_url,omitempty"`
	ContractURL                  string       `json:"contract_url,omitempty"`
	NotifyAPIVersion             string       `json:"notify_api_version,omitempty"`
	ExpiresDate                  time.Time    `json:"expires_date,omitzero"`
	SendEmail                    bool         `json:"send_email,omitempty"`
	PayerName                    string       `json:"payer_name,omitempty"`
	PayerEmail                   string       `json:"payer_email,omitempty"`
	SendReminders                bool         `json:"send_reminders,omitempty"`
	ResponsibleUserEmail         string       `json:"responsible_user_email,omitempty"`
	FixedPayerPersonalIdentifier string       `json:"fixed_payer_personal_identifier,omitempty"`
	IntegratorFee                khipu.Amount `json:"-"` // a JSON string (see MarshalJSON)
	CollectAccountUUID           string       `json:"collect_account_uuid,omitempty"`
	ConfirmTimeoutDate           time.Time    `json:"confirm_timeout_date,omitzero"`
	MandatoryPaymentMethod       string       `json:"mandatory_payment_method,omitempty"`
	PSPClientMerchantName        string       `json:"psp_client_merchant_name,omitempty"`
}

// MarshalJSON writes p as API v3's JSON body: unset optional fields left
// out, amounts as JSON numbers, and integrator_fee as a JSON string, as
// Khipu asks.
func (p PaymentCreateParams) MarshalJSON() ([]byte, error) {
	type plain PaymentCreateParams
	fee := ""
	if !p.IntegratorFee.IsZero() {
		text, err := p.IntegratorFee.MarshalText()
		if err != nil {
			return nil, err
		}
		fee = string(text)
	}
	return json.Marshal(struct {
		plain
		IntegratorFee string `json:"integrator_fee,omitempty"`
	}{plain(p), fee})
}

// Validate reports the first parameter that Khipu would refuse, as a
// *khipu.ParamError, or nil: a missing subject or currency, a custom field
// over 4096 characters, send_email without the payer, a contract without
// the payer's id; then a missing amount, one that is zero, negative or out
// of range, an amount in CLP with decimals (see khipu.ParseAmount), or a
// negative integrator fee. Create calls it, and checks NotifyAPIVersion too.
func (p *PaymentCreateParams) Validate() error {
	if param, reason := params.CheckPayment(params.Payment{
		Subject: p.Subject, Currency: p.Currency, Custom: p.Custom,
		SendEmail: p.SendEmail, PayerName: p.PayerName, PayerEmail: p.PayerEmail,
		ContractURL: p.ContractURL, FixedPayerPersonalIdentifier: p.FixedPayerPersonalIdentifier,
	}); param != "" {
		return &khipu.ParamError{Param: param, Reason: reason}
	}
	if err := positive("amount", p.Amount); err != nil {
		return err
	}
	if err := wholePesos("amount", p.Currency, p.Amount); err != nil {
		return err
	}
	if !p.IntegratorFee.IsZero() {
		return positive("integrator_fee", p.IntegratorFee)
	}
	return nil
}

// wholePesos refuses an amount in CLP with decimals: see khipu.ParseAmount.
func wholePesos(param, currency string, a khipu.Amount) error {
	if reason := params.WholePesos(currency, a.String()); reason != "" {
		return &khipu.ParamError{Param: param, Reason: reason}
	}
	return nil
}

// RefundParams are the parameters of a partial refund: Payments.Refund with
// nil params refunds the whole payment, and a non-nil RefundParams with a
// zero Amount is refused, so that an amount computed as 0 by mistake never
// refunds everything.
type RefundParams struct {
	Amount khipu.Amount `json:"amount"`
}

// ReceiverCreateParams are the parameters of Receivers.Create, sent as
// JSON. Every field but the bank account, NotifyURL and RenditionURL is
// required.
type ReceiverCreateParams struct {
	AdminFirstName        string `json:"admin_first_name"`
	AdminLastName         string `json:"admin_last_name"`
	AdminEmail            string `json:"admin_email"`
	CountryCode           string `json:"country_code"`
	BusinessIdentifier    string `json:"business_identifier"`
	BusinessCategory      string `json:"business_category"`
	BusinessName          string `json:"business_name"`
	BusinessPhone         string `json:"business_phone"`
	BusinessAddressLine1  string `json:"business_address_line_1"`
	BusinessAddressLine2  string `json:"business_address_line_2"`
	BusinessAddressLine3  string `json:"business_address_line_3"`
	ContactFullName       string `json:"contact_full_name"`
	ContactJobTitle       string `json:"contact_job_title"`
	ContactEmail          string `json:"contact_email"`
	ContactPhone          string `json:"contact_phone"`
	BankAccountBankID     string `json:"bank_account_bank_id,omitempty"`
	BankAccountIdentifier string `json:"bank_account_identifier,omitempty"`
	BankAccountName       string `json:"bank_account_name,omitempty"`
	BankAccountNumber     string `json:"bank_account_number,omitempty"`
	NotifyURL             string `json:"notify_url,omitempty"`
	RenditionURL          string `json:"rendition_url,omitempty"`
}

// Validate reports every required parameter that is missing and a
// malformed country code, joined; Create calls it before sending anything.
// API v3 takes the parameters of v2's POST /receivers, under the same
// rules: they are checked by v2's Validate (the conversion compiles only
// while the two have the same fields).
func (p *ReceiverCreateParams) Validate() error {
	return (*khipu.ReceiverCreateParams)(p).Validate()
}

// ReceiverCreated is Khipu's answer to Receivers.Create: the new collection
// account's id and credentials. APIKey, the new account's API v3 key, is
// sent only by some accounts' answers. Its printed form, by any fmt verb or
// as a log/slog attribute's value, never shows Secret or APIKey.
// json.Marshal writes both, as a program that stores them needs; and so
// does slog's JSONHandler for a ReceiverCreated inside a slice, map or
// struct it marshals, so log the value itself, never a container of it.
type ReceiverCreated struct {
	ReceiverID string `json:"receiver_id"`
	Secret     string `json:"secret"`
	APIKey     string `json:"api_key,omitempty"`
}

// UnmarshalJSON accepts receiver_id as a number or a string; the secret
// (required) and the API key must be strings, and an error about either
// never quotes it.
func (r *ReceiverCreated) UnmarshalJSON(b []byte) error {
	w, err := wire.DecodeReceiverCreated(b)
	*r = ReceiverCreated{ReceiverID: w.ReceiverID, Secret: w.Secret, APIKey: w.APIKey}
	return err
}

// String shows the receiver id and hides the credentials.
func (r ReceiverCreated) String() string {
	s := "khipuv3.ReceiverCreated{ReceiverID: " + strconv.Quote(r.ReceiverID) + ", Secret: [redacted]"
	if r.APIKey != "" {
		s += ", APIKey: [redacted]"
	}
	return s + "}"
}

// GoString hides the credentials from %#v.
func (r ReceiverCreated) GoString() string { return r.String() }

// LogValue hides the credentials from log/slog, whose JSON handler would
// otherwise marshal them.
func (r ReceiverCreated) LogValue() slog.Value {
	attrs := []slog.Attr{slog.String("receiver_id", r.ReceiverID), slog.String("secret", "[redacted]")}
	if r.APIKey != "" {
		attrs = append(attrs, slog.String("api_key", "[redacted]"))
	}
	return slog.GroupValue(attrs...)
}

// Format hides the credentials from every verb, %x and %q included.
func (r ReceiverCreated) Format(f fmt.State, verb rune) { _, _ = io.WriteString(f, r.String()) }

// ReceiverChildrenParams are the parameters of Receivers.Children, all
// optional: a zero field is not sent, and Khipu's default applies.
type ReceiverChildrenParams struct {
	Offset int    `url:"offset,omitempty"` // how many accounts to skip
	Max    int    `url:"max,omitempty"`    // the most to list
	Sort   string `url:"sort,omitempty"`   // "id", "name" or "date_created"
	Order  string `url:"order,omitempty"`  // "asc" or "desc"
}

func (p *ReceiverChildrenParams) validate() error {
	switch {
	case p.Offset < 0:
		return &khipu.ParamError{Param: "offset", Reason: "must not be negative"}
	case p.Max < 0:
		return &khipu.ParamError{Param: "max", Reason: "must not be negative"}
	}
	switch p.Sort {
	case "", "id", "name", "date_created":
	default:
		return &khipu.ParamError{Param: "sort", Reason: `must be "", "id", "name" or "date_created"`}
	}
	switch p.Order {
	case "", "asc", "desc":
	default:
		return &khipu.ParamError{Param: "order", Reason: `must be "", "asc" or "desc"`}
	}
	return nil
}

// ReceiverChildren is Khipu's answer to Receivers.Children: one page of an
// integrator's collection accounts, and how many there are in all.
type ReceiverChildren struct {
	Receivers []ReceiverChild `json:"receivers"`
	Total     int             `json:"total"`
}

// UnmarshalJSON decodes Khipu's answer: total as a number or a string, and
// a list that is not one as no accounts.
func (c *ReceiverChildren) UnmarshalJSON(data []byte) error {
	var w struct {
		Receivers json.RawMessage `json:"receivers"`
		Total     wire.Int        `json:"total"`
	}
	if err := wire.Object(data, &w); err != nil {
		return err
	}
	*c = ReceiverChildren{Total: int(w.Total)}
	if wire.IsList(w.Receivers) {
		if err := json.Unmarshal(w.Receivers, &c.Receivers); err != nil {
			return fmt.Errorf("field receivers: %w", wire.CleanError(err))
		}
	}
	return nil
}

// ReceiverChild is one of an integrator's collection accounts.
type ReceiverChild struct {
	ID          string    `json:"id"` // Khipu sends a number
	Name        string    `json:"name"`
	DateCreated time.Time `json:"date_created"`
	Disabled    bool      `json:"disabled"`
	CanCollect  bool      `json:"can_collect"`
}

// UnmarshalJSON decodes an account: id a string or a whole number; any
// other field of an odd type is its zero value.
func (r *ReceiverChild) UnmarshalJSON(data []byte) error {
	if wire.IsNull(data) {
		return nil // encoding/json's convention, for an item of a list
	}
	var w struct {
		ID          json.RawMessage `json:"id"`
		Name        wire.String     `json:"name"`
		DateCreated wire.Time       `json:"date_created"`
		Disabled    wire.Bool       `json:"disabled"`
		CanCollect  wire.Bool       `json:"can_collect"`
	}
	if err := wire.Object(data, &w); err != nil {
		return err
	}
	var strict wire.Strict
	*r = ReceiverChild{
		ID: strict.ID("id", w.ID), Name: string(w.Name), DateCreated: time.Time(w.DateCreated),
		Disabled: bool(w.Disabled), CanCollect: bool(w.CanCollect),
	}
	return strict.Err()
}

// NotifyAPIVersion is the notification API version this package verifies;
// Payments.Create and Charges.Create ask for it whenever a NotifyURL is
// given without a version.
const NotifyAPIVersion = "3.0"

// PredictParams are the parameters of Payments.Predict. All four are
// required.
type PredictParams struct {
	PayerEmail string       `url:"payer_email"`
	BankID     string       `url:"bank_id"`
	Amount     khipu.Amount `url:"amount"`
	Currency   string       `url:"currency"`
}

// PredictionResult is Khipu's verdict on a payment it was asked to predict.
type PredictionResult string

// The results Khipu documents. Only PredictionOK says the payment can be
// made now.
const (
	PredictionOK                           PredictionResult = "ok"
	PredictionNewDestinataryAmountExceeded PredictionResult = "new_destinatary_amount_exceeded"
	PredictionMaxAmountExceeded            PredictionResult = "max_amount_exceeded"
	PredictionNewDestinataryCoolDown       PredictionResult = "new_destinatary_cool_down"
	PredictionNotAvailableAccount          PredictionResult = "not_available_account"
)

// Prediction is Khipu's answer to Payments.Predict: whether a payer can pay
// an amount from a bank now, and the limits that apply. ("Destinatary" is
// Khipu's spelling.)
type Prediction struct {
	Result                  PredictionResult `json:"result"`
	MaxAmount               khipu.Amount     `json:"max_amount"`
	CoolDownDate            time.Time        `json:"cool_down_date"`
	NewDestinataryMaxAmount khipu.Amount     `json:"new_destinatary_max_amount"`
}

// UnmarshalJSON decodes Khipu's answer: amounts as numbers or strings, any
// field but result of an odd type as its zero value.
func (p *Prediction) UnmarshalJSON(data []byte) error {
	var w struct {
		Result                  wire.Enum   `json:"result"`
		MaxAmount               wire.Amount `json:"max_amount"`
		CoolDownDate            wire.Time   `json:"cool_down_date"`
		NewDestinataryMaxAmount wire.Amount `json:"new_destinatary_max_amount"`
	}
	if err := wire.Object(data, &w); err != nil {
		return err
	}
	*p = Prediction{
		Result:                  PredictionResult(w.Result),
		MaxAmount:               looseAmount(w.MaxAmount),
		CoolDownDate:            time.Time(w.CoolDownDate),
		NewDestinataryMaxAmount: looseAmount(w.NewDestinataryMaxAmount),
	}
	var strict wire.Strict
	strict.Required("result", string(p.Result))
	return strict.Err()
}

// looseAmount is a lenient amount from Khipu: zero when it is not one.
func looseAmount(text wire.Amount) khipu.Amount {
	a, err := khipu.ParseAmount(string(text))
	if err != nil {
		return khipu.Amount{}
	}
	return a
}

// SubscriptionStatus is the state of an automatic-payment mandate.
type SubscriptionStatus string

// The states of a subscription. Only SubscriptionEnabled can be charged.
// Khipu's answers write them in upper case and its callbacks in lower case;
// both decode to these constants.
const (
	SubscriptionDisabled SubscriptionStatus = "DISABLED"
	SubscriptionSigned   SubscriptionStatus = "SIGNED"
	SubscriptionEnabled  SubscriptionStatus = "ENABLED"
)

// UnmarshalJSON reads a status in any case ("enabled", "ENABLED"); anything
// but a string is "".
func (s *SubscriptionStatus) UnmarshalJSON(b []byte) error {
	var e wire.Enum
	_ = e.UnmarshalJSON(b)
	*s = SubscriptionStatus(strings.ToUpper(string(e)))
	return nil
}

// SubscriptionCreateParams are the parameters of Subscriptions.Create. Name,
// Email, MaxAmount (the most one charge may take), Currency, NotifyURL,
// ReturnURL and CancelURL are required.
type SubscriptionCreateParams struct {
	Name             string       `json:"name"`
	Email            string       `json:"email"`
	MaxAmount        khipu.Amount `json:"max_amount"`
	Currency         string       `json:"currency"`
	NotifyURL        string       `json:"notify_url"`
	ReturnURL        string       `json:"return_url"`
	CancelURL        string       `json:"cancel_url"`
	ServiceReference string       `json:"service_reference,omitempty"`
	ImageURL         string       `json:"image_url,omitempty"`
	Description      string       `json:"description,omitempty"`
}

// SubscriptionCreated is Khipu's answer to Subscriptions.Create: the
// mandate's id and where to send the customer to sign it with their bank.
type SubscriptionCreated struct {
	SubscriptionID string `json:"subscription_id"`
	RedirectURL    string `json:"redirect_url"`
}

// UnmarshalJSON decodes Khipu's answer: subscription_id must be a string.
func (c *SubscriptionCreated) UnmarshalJSON(data []byte) error {
	var w struct {
		SubscriptionID json.RawMessage `json:"subscription_id"`
		RedirectURL    wire.String     `json:"redirect_url"`
	}
	if err := wire.Object(data, &w); err != nil {
		return err
	}
	var strict wire.Strict
	*c = SubscriptionCreated{SubscriptionID: strict.String("subscription_id", w.SubscriptionID), RedirectURL: string(w.RedirectURL)}
	strict.Required("subscription_id", c.SubscriptionID)
	return strict.Err()
}

// Subscription is an automatic-payment mandate as Khipu reports it.
// CustomerBankCode is "no-bank" until the customer has signed.
type Subscription struct {
	SubscriptionID   string             `json:"subscription_id"`
	Status           SubscriptionStatus `json:"status"`
	Developer        bool               `json:"developer"`
	CustomerBankCode string             `json:"customer_bank_code"`
	ServiceReference string             `json:"service_reference"`
}

// UnmarshalJSON decodes a subscription as Khipu sends it: subscription_id
// and status must be strings (status in any case); customer_bank_code may
// be a number or a string; any other field of an odd type is its zero value.
func (s *Subscription) UnmarshalJSON(data []byte) error {
	var w struct {
		SubscriptionID   json.RawMessage `json:"subscription_id"`
		Status           json.RawMessage `json:"status"`
		Developer        wire.Bool       `json:"developer"`
		CustomerBankCode wire.String     `json:"customer_bank_code"`
		ServiceReference wire.String     `json:"service_reference"`
	}
	if err := wire.Object(data, &w); err != nil {
		return err
	}
	var strict wire.Strict
	*s = Subscription{
		SubscriptionID:   strict.String("subscription_id", w.SubscriptionID),
		Status:           SubscriptionStatus(strings.ToUpper(strict.String("status", w.Status))),
		Developer:        bool(w.Developer),
		CustomerBankCode: string(w.CustomerBankCode),
		ServiceReference: string(w.ServiceReference),
	}
	strict.Required("subscription_id", s.SubscriptionID)
	return strict.Err()
}

// ChargeCreateParams are the parameters of Charges.Create: every field but
// NotifyAPIVersion is required, and Amount is at least 1 in the currency of
// the subscription. NotifyAPIVersion is "" (sent as "3.0" when NotifyURL is
// set), "3.0", or "1.3" for a shop that verifies the charge's payment with
// package khipu's v2 NotificationHandler.
type ChargeCreateParams struct {
	SubscriptionID   string       `json:"subscription_id"`
	Amount           khipu.Amount `json:"amount"`
	Subject          string       `json:"subject"`
	Body             string       `json:"body"`
	ErrorResponseURL string       `json:"error_response_url"`
	Custom           string       `json:"custom"`
	TransactionID    string       `json:"transaction_id"`
	NotifyURL        string       `json:"notify_url"`
	NotifyAPIVersion string       `json:"notify_api_version,omitempty"`
}

// ChargeCreated is Khipu's answer to Charges.Create: the payment the charge
// made. Its notification arrives at the charge's NotifyURL like any
// payment's; a charge that fails is reported to ErrorResponseURL instead.
type ChargeCreated struct {
	PaymentID string `json:"payment_id"`
}

// UnmarshalJSON decodes Khipu's answer: payment_id must be a string.
func (c *ChargeCreated) UnmarshalJSON(data []byte) error {
	var w struct {
		PaymentID json.RawMessage `json:"payment_id"`
	}
	if err := wire.Object(data, &w); err != nil {
		return err
	}
	var strict wire.Strict
	c.PaymentID = strict.String("payment_id", w.PaymentID)
	strict.Required("payment_id", c.PaymentID)
	return strict.Err()
}
