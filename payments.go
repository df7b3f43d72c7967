package khipu

import (
	"context"
	"net/http"

	"github.com/khipu-go/khipu/internal/params"
)

// PaymentsService creates, reads, deletes, confirms and refunds payments.
type PaymentsService struct{ client *Client }

// NotifyAPIVersion is the notification API version this library speaks;
// Create asks for it whenever a NotifyURL is given without a version.
const NotifyAPIVersion = "1.3"

// Create creates a payment (POST /payments) and returns the URLs to send the
// payer to. Subject, Currency and a positive Amount are required;
// NotifyAPIVersion is "" or "1.3" (API v3's notifications are package
// khipuv3's). Invalid parameters are refused before anything is sent.
//
// Create is never retried automatically: Khipu has no idempotency keys, so a
// second attempt could create a second payment. Khipu v2 cannot look a
// payment up by your TransactionID, so when Create fails on the network the
// payment may exist without your knowing its id. Creating it again is safe
// if delivery is tied to the payment id you stored for the order, as the web
// shop example does: the unknown payment can only stay unpaid (the payer
// never sees its URL), and one you do learn of can be removed with Delete.
func (s *PaymentsService) Create(ctx context.Context, p *PaymentCreateParams) (*PaymentCreated, error) {
	if p == nil {
		return nil, &ParamError{Param: "params", Reason: "is nil"}
	}
	params := *p // the caller's struct is left as it was
	if err := params.Validate(); err != nil {
		return nil, err
	}
	if params.NotifyAPIVersion != "" && params.NotifyAPIVersion != NotifyAPIVersion {
		return nil, &ParamError{Param: "notify_api_version", Reason: "must be empty or " + NotifyAPIVersion + " (notifications 3.0 are package khipuv3's)"}
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

// Validate reports the first parameter that Khipu would refuse, as a
// *ParamError, or nil: a missing subject or currency, a custom field over
// 4096 characters, send_email without the payer, a contract without the
// payer's id; then a missing amount, one that is zero, negative or out of
// range, or an amount in CLP with decimals (see ParseAmount). Create calls
// it, and checks NotifyAPIVersion too.
func (p *PaymentCreateParams) Validate() error {
	fields := params.Payment{
		Subject: p.Subject, Currency: p.Currency, Custom: p.Custom,
		SendEmail: p.SendEmail, PayerName: p.PayerName, PayerEmail: p.PayerEmail,
		ContractURL: p.ContractURL, FixedPayerPersonalIdentifier: p.FixedPayerPersonalIdentifier,
	}
	if param, reason := params.CheckPayment(fields); param != "" {
		return &ParamError{Param: param, Reason: reason}
	}
	switch {
	case p.Amount.sendable() != nil:
		return &ParamError{Param: "amount", Reason: p.Amount.sendable().Error()}
	case p.Amount.IsZero():
		return &ParamError{Param: "amount", Reason: "must be greater than zero"}
	}
	if reason := params.WholePesos(p.Currency, p.Amount.String()); reason != "" {
		return &ParamError{Param: "amount", Reason: reason}
	}
	if err := p.IntegratorFee.sendable(); err != nil {
		return &ParamError{Param: "integrator_fee", Reason: err.Error()}
	}
	return nil
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
// when p is nil, otherwise p.Amount, which must be greater than zero (a zero
// Amount is refused, so that an amount computed as 0 by mistake never
// refunds everything). Only accounts that collect in a Khipu account can
// refund, and only before settlement.
//
// Refund is never retried automatically. If it fails on the network, Get
// the payment and read its StatusDetail (reversed after a full refund)
// before refunding again; Confirm likewise.
func (s *PaymentsService) Refund(ctx context.Context, paymentID string, p *RefundParams) (*Success, error) {
	var params any
	if p != nil {
		if err := p.Amount.sendable(); err != nil {
			return nil, &ParamError{Param: "amount", Reason: err.Error()}
		}
		if p.Amount.IsZero() {
			return nil, &ParamError{Param: "amount", Reason: "is zero: pass nil params for a full refund"}
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
