package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"time"
)

// The shapes both APIs send: a payment, the answer to creating one, a bank
// and a created receiver. Package khipu's and package khipuv3's models are
// each built from these, so that a field's decoding is written once for
// API v2, API v3 and notifications 3.0. Amounts are decimal text here
// (rounded to 4 decimals); each client turns them into its khipu.Amount,
// which this package cannot import.

// Created is the answer to creating a payment, and the first fields of
// every payment.
type Created struct {
	PaymentID             string // strict: a string
	PaymentURL            string
	SimplifiedTransferURL string
	TransferURL           string
	WebpayURL             string // API v2 only
	AppURL                string
	ReadyForTerminal      bool
	Raw                   []byte // a copy of the JSON object decoded
}

// createdWire is Created as Khipu sends it.
type createdWire struct {
	PaymentID             json.RawMessage `json:"payment_id"`
	PaymentURL            String          `json:"payment_url"`
	SimplifiedTransferURL String          `json:"simplified_transfer_url"`
	TransferURL           String          `json:"transfer_url"`
	WebpayURL             String          `json:"webpay_url"`
	AppURL                String          `json:"app_url"`
	ReadyForTerminal      Bool            `json:"ready_for_terminal"`
}

func (w *createdWire) created(strict *Strict, data []byte) Created {
	return Created{
		PaymentID: strict.String("payment_id", w.PaymentID), PaymentURL: string(w.PaymentURL),
		SimplifiedTransferURL: string(w.SimplifiedTransferURL), TransferURL: string(w.TransferURL),
		WebpayURL: string(w.WebpayURL), AppURL: string(w.AppURL), ReadyForTerminal: bool(w.ReadyForTerminal),
		Raw: bytes.Clone(data),
	}
}

// DecodeCreated decodes the answer to creating a payment: payment_id must
// be a string, and is required; any other field of an odd type is its zero
// value. Problems with fields are recorded in strict; the error is for data
// that is not a JSON object.
func DecodeCreated(data []byte, strict *Strict) (Created, error) {
	var w createdWire
	if err := Object(data, &w); err != nil {
		return Created{}, err
	}
	c := w.created(strict, data)
	// Only the id is required: a payment that has one exists at Khipu,
	// and an error about another field would hide it.
	strict.Required("payment_id", c.PaymentID)
	return c, nil
}

// Payment is a payment as Khipu reports it: API v2's and v3's answers and
// the body of a notification 3.0. The fields a shop decides on (payment_id,
// receiver_id, amount, currency, status, transaction_id) are decoded
// strictly; every other field of an odd type is its zero value.
type Payment struct {
	Created
	NotificationToken     string
	ReceiverID            string // strict: a string or a whole number
	ConciliationDate      time.Time
	Subject               string
	Amount                string // strict: decimal text, rounded to 4 decimals; "" when absent
	Currency              string // strict
	Status                string // strict, in lower case
	StatusDetail          string // lower case
	Body                  string
	PictureURL            string
	ReceiptURL            string
	ReturnURL             string
	CancelURL             string
	NotifyURL             string
	NotifyAPIVersion      string
	ExpiresDate           time.Time
	AttachmentURLs        []string
	Bank                  string
	BankID                string
	PayerName             string
	PayerEmail            string
	PersonalIdentifier    string
	BankAccountNumber     string
	OutOfDateConciliation bool
	TransactionID         string // strict
	Custom                string
	ResponsibleUserEmail  string
	SendReminders         bool
	SendEmail             bool
	PaymentMethod         string // lower case
	FundsSource           string // lower case
	Discount              string // decimal text; "" when absent or odd
}

// DecodePayment decodes a payment (see Payment); payment_id is required.
// Problems with the strict fields are recorded in strict, so that the
// caller adds its own (an amount out of range) before strict.Err(); the
// error is for data that is not a JSON object.
func DecodePayment(data []byte, strict *Strict) (Payment, error) {
	var w struct {
		createdWire
		ReceiverID    json.RawMessage `json:"receiver_id"`
		Amount        json.RawMessage `json:"amount"`
		Currency      json.RawMessage `json:"currency"`
		Status        json.RawMessage `json:"status"`
		TransactionID json.RawMessage `json:"transaction_id"`

		NotificationToken     String  `json:"notification_token"`
		ConciliationDate      Time    `json:"conciliation_date"`
		Subject               String  `json:"subject"`
		StatusDetail          Enum    `json:"status_detail"`
		Body                  String  `json:"body"`
		PictureURL            String  `json:"picture_url"`
		ReceiptURL            String  `json:"receipt_url"`
		ReturnURL             String  `json:"return_url"`
		CancelURL             String  `json:"cancel_url"`
		NotifyURL             String  `json:"notify_url"`
		NotifyAPIVersion      String  `json:"notify_api_version"`
		ExpiresDate           Time    `json:"expires_date"`
		AttachmentURLs        Strings `json:"attachment_urls"`
		Bank                  String  `json:"bank"`
		BankID                String  `json:"bank_id"`
		PayerName             String  `json:"payer_name"`
		PayerEmail            String  `json:"payer_email"`
		PersonalIdentifier    String  `json:"personal_identifier"`
		BankAccountNumber     String  `json:"bank_account_number"`
		OutOfDateConciliation Bool    `json:"out_of_date_conciliation"`
		Custom                String  `json:"custom"`
		ResponsibleUserEmail  String  `json:"responsible_user_email"`
		SendReminders         Bool    `json:"send_reminders"`
		SendEmail             Bool    `json:"send_email"`
		PaymentMethod         Enum    `json:"payment_method"`
		FundsSource           Enum    `json:"funds_source"`
		Discount              Amount  `json:"discount"`
	}
	if err := Object(data, &w); err != nil {
		return Payment{}, err
	}
	p := Payment{
		Created:               w.created(strict, data),
		NotificationToken:     string(w.NotificationToken),
		ReceiverID:            strict.ID("receiver_id", w.ReceiverID),
		ConciliationDate:      time.Time(w.ConciliationDate),
		Subject:               string(w.Subject),
		Amount:                strict.Amount("amount", w.Amount),
		Currency:              strict.String("currency", w.Currency),
		Status:                strings.ToLower(strict.String("status", w.Status)),
		StatusDetail:          string(w.StatusDetail),
		Body:                  string(w.Body),
		PictureURL:            string(w.PictureURL),
		ReceiptURL:            string(w.ReceiptURL),
		ReturnURL:             string(w.ReturnURL),
		CancelURL:             string(w.CancelURL),
		NotifyURL:             string(w.NotifyURL),
		NotifyAPIVersion:      string(w.NotifyAPIVersion),
		ExpiresDate:           time.Time(w.ExpiresDate),
		AttachmentURLs:        []string(w.AttachmentURLs),
		Bank:                  string(w.Bank),
		BankID:                string(w.BankID),
		PayerName:             string(w.PayerName),
		PayerEmail:            string(w.PayerEmail),
		PersonalIdentifier:    string(w.PersonalIdentifier),
		BankAccountNumber:     string(w.BankAccountNumber),
		OutOfDateConciliation: bool(w.OutOfDateConciliation),
		TransactionID:         strict.String("transaction_id", w.TransactionID),
		Custom:                string(w.Custom),
		ResponsibleUserEmail:  string(w.ResponsibleUserEmail),
		SendReminders:         bool(w.SendReminders),
		SendEmail:             bool(w.SendEmail),
		PaymentMethod:         string(w.PaymentMethod),
		FundsSource:           string(w.FundsSource),
		Discount:              string(w.Discount),
	}
	strict.Required("payment_id", p.PaymentID)
	return p, nil
}

// Bank is a bank as Khipu sends it: every field lenient, min_amount a
// number or a string. A list of banks decodes into []Bank in one pass.
type Bank struct {
	BankID    String `json:"bank_id"`
	Name      String `json:"name"`
	Message   String `json:"message"`
	MinAmount Amount `json:"min_amount"`
	Type      String `json:"type"`
	Parent    String `json:"parent"`
	LogoURL   String `json:"logo_url"`
}

// ReceiverCreated is the answer to creating a collection account: its id
// (a string or a whole number) and its credentials. The secret is
// required; the API key is sent by API v3 only, and may be absent.
type ReceiverCreated struct {
	ReceiverID, Secret, APIKey string
}

// DecodeReceiverCreated decodes the answer to creating a receiver. Errors
// about the credentials never quote them: an odd value could be one.
func DecodeReceiverCreated(data []byte) (ReceiverCreated, error) {
	var w struct {
		ReceiverID json.RawMessage `json:"receiver_id"`
		Secret     json.RawMessage `json:"secret"`
		APIKey     json.RawMessage `json:"api_key"`
	}
	if err := Object(data, &w); err != nil {
		return ReceiverCreated{}, err
	}
	var strict Strict
	var r ReceiverCreated
	r.ReceiverID = strict.ID("receiver_id", w.ReceiverID)
	strict.Required("receiver_id", r.ReceiverID)
	r.Secret = credential(&strict, "secret", w.Secret)
	strict.Required("secret", r.Secret)
	r.APIKey = credential(&strict, "api_key", w.APIKey)
	return r, strict.Err()
}

// credential decodes a credential that must be a string, recording in
// strict an error that does not quote it.
func credential(strict *Strict, field string, raw json.RawMessage) string {
	s, err := StrictString(raw)
	if err != nil {
		strict.Fail(field, errors.New("not a JSON string"))
	}
	return s
}
