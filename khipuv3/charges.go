package khipuv3

import (
	"context"
	"net/http"

	"github.com/khipu-go/khipu"
	"github.com/khipu-go/khipu/internal/rest"
)

// ChargesService charges enabled automatic-payment mandates (Khipu's
// Automatic Payments API v1).
type ChargesService struct{ client *Client }

// Create charges a subscription that is ENABLED
// (POST /v1/automatic-payment/charge-intent) and returns the id of the
// payment it made. The payment is notified to NotifyURL like any payment
// once the money has arrived; a charge that fails is reported to
// ErrorResponseURL instead (see ErrorHandler). Every parameter but
// NotifyAPIVersion is required, and the amount must be at least 1; they are
// checked before anything is sent. The amount is in the subscription's
// currency, which is not a parameter of the charge, so a fraction of a peso
// cannot be refused here as Create refuses it for payments and
// subscriptions: Khipu refuses what the subscription cannot take.
//
// Create is never retried automatically: a second attempt could charge the
// customer twice. If it fails on the network, look for the charge's payment
// (its notification, or your TransactionID in your own records) before
// charging again.
func (s *ChargesService) Create(ctx context.Context, p *ChargeCreateParams) (*ChargeCreated, error) {
	if p == nil {
		return nil, &khipu.ParamError{Param: "params", Reason: "is nil"}
	}
	params := *p
	if err := params.validate(); err != nil {
		return nil, err
	}
	version, err := notifyVersion(params.NotifyURL, params.NotifyAPIVersion, NotifyAPIVersion, khipu.NotifyAPIVersion)
	if err != nil {
		return nil, err
	}
	params.NotifyAPIVersion = version
	out := new(ChargeCreated)
	if err := s.client.call(ctx, http.MethodPost, "/v1/automatic-payment/charge-intent", nil, &params, out); err != nil {
		return nil, err
	}
	return out, nil
}

func (p *ChargeCreateParams) validate() error {
	if err := validID("subscription_id", p.SubscriptionID); err != nil {
		return err
	}
	if err := positive("amount", p.Amount); err != nil {
		return err
	}
	if p.Amount.Compare(khipu.NewAmount(1)) < 0 {
		return &khipu.ParamError{Param: "amount", Reason: "must be at least 1"}
	}
	for _, f := range []struct{ name, value string }{
		{"subject", p.Subject}, {"body", p.Body}, {"error_response_url", p.ErrorResponseURL},
		{"custom", p.Custom}, {"transaction_id", p.TransactionID}, {"notify_url", p.NotifyURL},
	} {
		if f.value == "" {
			return &khipu.ParamError{Param: f.name, Reason: "is required"}
		}
	}
	for _, u := range []struct{ name, value string }{{"error_response_url", p.ErrorResponseURL}, {"notify_url", p.NotifyURL}} {
		if err := rest.AbsoluteURL(u.value); err != nil {
			return &khipu.ParamError{Param: u.name, Reason: err.Error()}
		}
	}
	return nil
}
