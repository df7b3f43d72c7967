// A payment as Khipu's answers show it: its URLs, the answer to its
// creation, and the payment itself in v2 and v3.

package khiputest

import (
	"encoding/json"
	"time"

	"github.com/khipu-go/khipu/internal/wire"
)

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
	if !wire.Digits(id) || id[0] == '0' && len(id) > 1 {
		q, _ := json.Marshal(id)
		return q
	}
	return json.RawMessage(id)
}

type success struct {
	Message string `json:"message"`
}
