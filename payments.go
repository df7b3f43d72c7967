package khipu

import (
	"context"
	"net/http"
	"strings"
	"unicode/utf8"
)

// PaymentsService creates, reads, deletes, confirms and refunds payments.
type PaymentsService struct{ client *Client }

// NotifyAPIVersion is the notification API version this library speaks;
// Create asks for it whenever a NotifyURL is given without a version.
const NotifyAPIVersion = "1.3"

// maxCustom is Khipu's limit on the custom parameter, in characters.
const maxCustom = 4096

// Create creates a payment (POST /payments) and returns the URLs to send the
// payer to. Subject, Currency and a positive Amount are required; invalid
// parameters are refused before anything is sent.
//
// Create is never retried automatically: Khipu has no idempotency keys, so a
// second attempt could create a second payment. On a transport error the
// payment may or may not exist; look it up by your TransactionID before
// creating it again.
func (s *PaymentsService) Create(ctx context.Context, p *PaymentCreateParams) (*PaymentCreated, error) {
	if p == nil {
		return nil, &ParamError{Param: "params", Reason: "is nil"}
	}
	params := *p // the caller's struct is left as it was
	if err := params.validate(); err != nil {
		return nil, err
	}
	if params.NotifyURL != "" && params.NotifyAPIVersion == "" {
		params.NotifyAPIVersion = NotifyAPIVersion
	}
	out := new(PaymentCreated)
	if err := s.client.call(ctx, http.MethodPost, "/payments", &params, out); err != nil {
		return nil, err
	}
	return out, nil
}

func (p *PaymentCreateParams) validate() error {
	switch {
	case strings.TrimSpace(p.Subject) == "":
		return &ParamError{Param: "subject", Reason: "is required"}
	case p.Currency == "":
		return &ParamError{Param: "currency", Reason: "is required"}
	case !isCurrencyCode(p.Currency):
		return &ParamError{Param: "currency", Reason: "must be an ISO-4217 code such as CLP"}
	case p.Amount == invalidAmount:
		return &ParamError{Param: "amount", Reason: "is out of range"}
	case p.Amount.units <= 0:
		return &ParamError{Param: "amount", Reason: "must be greater than zero"}
	case !p.IntegratorFee.valid():
		return &ParamError{Param: "integrator_fee", Reason: "must not be negative"}
	case utf8.RuneCountInString(p.Custom) > maxCustom:
		return &ParamError{Param: "custom", Reason: "is longer than 4096 characters"}
	case p.SendEmail && (p.PayerName == "" || p.PayerEmail == ""):
		return &ParamError{Param: "send_email", Reason: "needs payer_name and payer_email"}
	case p.ContractURL != "" && p.FixedPayerPersonalIdentifier == "":
		return &ParamError{Param: "contract_url", Reason: "needs fixed_payer_personal_identifier"}
	}
	return nil
}

func isCurrencyCode(s string) bool {
	if len(s) != 3 {
		return false
	}
	for i := 0; i < 3; i++ {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	return true
}

// Get returns the payment with the given id (GET /payments/{id}).
func (s *PaymentsService) Get(ctx context.Context, paymentID string) (*Payment, error) {
	if err := validID("payment_id", paymentID); err != nil {
		return nil, err
	}
	out := new(Payment)
	if err := s.client.call(ctx, http.MethodGet, "/payments/"+paymentID, nil, out); err != nil {
		return nil, err
	}
	return out, nil
}

type tokenParams struct {
	Token string `url:"notification_token"`
}

// GetByNotificationToken returns the payment Khipu's notification token
// refers to (GET /payments?notification_token=...). Most shops call
// VerifyNotification or NotificationHandler instead, which also check the
// receiver.
func (s *PaymentsService) GetByNotificationToken(ctx context.Context, token string) (*Payment, error) {
	if token == "" {
		return nil, &ParamError{Param: "notification_token", Reason: "is empty"}
	}
	if len(token) > 1024 {
		return nil, &ParamError{Param: "notification_token", Reason: "is longer than 1024 bytes"}
	}
	out := new(Payment)
	if err := s.client.call(ctx, http.MethodGet, "/payments", &tokenParams{Token: token}, out); err != nil {
		return nil, err
	}
	return out, nil
}

// Delete deletes a payment that is still pending (DELETE /payments/{id}). It
// cannot be undone and is never retried automatically.
func (s *PaymentsService) Delete(ctx context.Context, paymentID string) (*Success, error) {
	return s.success(ctx, http.MethodDelete, "payment_id", paymentID, "", nil)
}

// Confirm confirms a payment (POST /payments/{id}/confirm); it is then
// settled the next day. It is never retried automatically.
func (s *PaymentsService) Confirm(ctx context.Context, paymentID string) (*Success, error) {
	return s.success(ctx, http.MethodPost, "payment_id", paymentID, "/confirm", nil)
}

// Refund refunds a payment (POST /payments/{id}/refunds): the whole payment
// when p is nil or p.Amount is zero, otherwise p.Amount. Only accounts that
// collect in a Khipu account can refund, and only before settlement. It is
// never retried automatically.
func (s *PaymentsService) Refund(ctx context.Context, paymentID string, p *RefundParams) (*Success, error) {
	var params any
	if p != nil {
		if !p.Amount.valid() {
			return nil, &ParamError{Param: "amount", Reason: "must not be negative"}
		}
		params = p
	}
	return s.success(ctx, http.MethodPost, "payment_id", paymentID, "/refunds", params)
}

// success calls an endpoint on /payments/{id} that answers with a Success.
func (s *PaymentsService) success(ctx context.Context, method, param, id, suffix string, params any) (*Success, error) {
	if err := validID(param, id); err != nil {
		return nil, err
	}
	out := new(Success)
	if err := s.client.call(ctx, method, "/payments/"+id+suffix, params, out); err != nil {
		return nil, err
	}
	return out, nil
}
