package khipuv3

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/khipu-go/khipu"
	"github.com/khipu-go/khipu/internal/wire"
)

// These models are package khipu's: API v3 sends and takes the same shapes
// as API v2 (Khipu's v3 is a gateway in front of v2), so one type, one
// tolerant decoder and one Payment.Check serve both. API v3 sends no
// webpay_url, so WebpayURL stays empty.
type (
	// Bank is a bank that can pay the account (GET /v3/banks).
	Bank = khipu.Bank
	// PaymentCreated is the answer to Payments.Create.
	PaymentCreated = khipu.PaymentCreated
	// Payment is a payment as Khipu reports it (GET /v3/payments/{id}).
	Payment = khipu.Payment
	// PaymentCreateParams are the parameters of Payments.Create, sent as
	// JSON: NotifyAPIVersion is "" (sent as "3.0" when NotifyURL is set)
	// or "3.0"; IntegratorFee goes on the wire as a string, as Khipu asks.
	PaymentCreateParams = khipu.PaymentCreateParams
	// RefundParams are the parameters of a partial refund.
	RefundParams = khipu.RefundParams
	// ReceiverCreateParams are the parameters of Receivers.Create.
	ReceiverCreateParams = khipu.ReceiverCreateParams
)

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
	Result                  PredictionResult
	MaxAmount               khipu.Amount
	CoolDownDate            time.Time
	NewDestinataryMaxAmount khipu.Amount
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
