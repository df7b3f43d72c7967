package khipu

import (
	"context"
	"net/http"
)

// PaymentMethodsService lists the payment methods of a collection account.
type PaymentMethodsService struct{ client *Client }

// List returns the payment methods available to the collection account
// merchantID (GET /merchants/{id}/paymentMethods). An item's ID is what
// PaymentCreateParams.MandatoryPaymentMethod takes.
func (s *PaymentMethodsService) List(ctx context.Context, merchantID string) ([]PaymentMethod, error) {
	if err := validID("merchant_id", merchantID); err != nil {
		return nil, err
	}
	// Khipu's reference names the array paymentMethods, its Ruby client reads
	// payment_methods: accept either.
	var out struct {
		Camel []PaymentMethod `json:"paymentMethods"`
		Snake []PaymentMethod `json:"payment_methods"`
	}
	if err := s.client.call(ctx, http.MethodGet, "/merchants/"+merchantID+"/paymentMethods", nil, &out); err != nil {
		return nil, err
	}
	if out.Camel != nil {
		return out.Camel, nil
	}
	return out.Snake, nil
}
