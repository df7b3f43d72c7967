package khipuv3

import (
	"context"
	"net/http"

	"github.com/khipu-go/khipu"
)

// PaymentMethodsService lists the payment methods of a collection account.
type PaymentMethodsService struct{ client *Client }

// List returns the payment methods available to the collection account
// merchantID (GET /v3/merchants/{id}/paymentMethods). An item's ID is what
// PaymentCreateParams.MandatoryPaymentMethod takes.
func (s *PaymentMethodsService) List(ctx context.Context, merchantID string) ([]khipu.PaymentMethod, error) {
	if err := validID("merchant_id", merchantID); err != nil {
		return nil, err
	}
	var out struct {
		PaymentMethods []khipu.PaymentMethod `json:"paymentMethods"`
	}
	if err := s.client.call(ctx, http.MethodGet, "/v3/merchants/"+merchantID+"/paymentMethods", nil, nil, &out); err != nil {
		return nil, err
	}
	return out.PaymentMethods, nil
}
