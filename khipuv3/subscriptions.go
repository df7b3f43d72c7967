package khipuv3

import (
	"context"
	"net/http"
	"net/mail"

	"github.com/khipu-go/khipu"
	"github.com/khipu-go/khipu/internal/rest"
)

// SubscriptionsService creates and reads automatic-payment mandates
// (Khipu's Automatic Payments API v1).
type SubscriptionsService struct{ client *Client }

// Create asks for a mandate (POST /v1/automatic-payment/subscription): send
// the customer to the answer's RedirectURL to sign it with their bank. Khipu
// then POSTs the mandate's new status to NotifyURL (see CallbackHandler).
// Every required parameter is checked before anything is sent. Create is
// never retried automatically.
func (s *SubscriptionsService) Create(ctx context.Context, p *SubscriptionCreateParams) (*SubscriptionCreated, error) {
	if p == nil {
		return nil, &khipu.ParamError{Param: "params", Reason: "is nil"}
	}
	if err := p.validate(); err != nil {
		return nil, err
	}
	out := new(SubscriptionCreated)
	if err := s.client.call(ctx, http.MethodPost, "/v1/automatic-payment/subscription", nil, p, out); err != nil {
		return nil, err
	}
	return out, nil
}

func (p *SubscriptionCreateParams) validate() error {
	for _, f := range []struct{ name, value string }{
		{"name", p.Name}, {"email", p.Email}, {"currency", p.Currency},
		{"notify_url", p.NotifyURL}, {"return_url", p.ReturnURL}, {"cancel_url", p.CancelURL},
	} {
		if f.value == "" {
			return &khipu.ParamError{Param: f.name, Reason: "is required"}
		}
	}
	if a, err := mail.ParseAddress(p.Email); err != nil || a.Address != p.Email {
		return &khipu.ParamError{Param: "email", Reason: "must be an e-mail address"}
	}
	if err := positive("max_amount", p.MaxAmount); err != nil {
		return err
	}
	if err := wholePesos("max_amount", p.Currency, p.MaxAmount); err != nil {
		return err
	}
	for _, u := range []struct{ name, value string }{{"notify_url", p.NotifyURL}, {"return_url", p.ReturnURL}, {"cancel_url", p.CancelURL}} {
		if err := rest.AbsoluteURL(u.value); err != nil {
			return &khipu.ParamError{Param: u.name, Reason: err.Error()}
		}
	}
	return nil
}

// Get returns a mandate and its state
// (GET /v1/automatic-payment/subscription/{id}). An unknown id is a
// *khipu.NotFoundError.
func (s *SubscriptionsService) Get(ctx context.Context, subscriptionID string) (*Subscription, error) {
	if err := validID("subscription_id", subscriptionID); err != nil {
		return nil, err
	}
	out := new(Subscription)
	if err := s.client.call(ctx, http.MethodGet, "/v1/automatic-payment/subscription/"+subscriptionID, nil, nil, out); err != nil {
		return nil, err
	}
	return out, nil
}
