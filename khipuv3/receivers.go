package khipuv3

import (
	"context"
	"net/http"

	"github.com/khipu-go/khipu"
)

// ReceiversService creates collection accounts under an integrator account.
type ReceiversService struct{ client *Client }

// Create creates a collection account (POST /v3/receivers; only for
// integrators who contracted it) and returns its receiver id and secret.
// Keep the secret as you keep your API key: it is never shown in the
// printed form of the answer nor kept in an error. Every required parameter
// missing is reported before anything is sent. Create is never retried
// automatically.
func (s *ReceiversService) Create(ctx context.Context, p *ReceiverCreateParams) (*khipu.ReceiverCreated, error) {
	if p == nil {
		return nil, &khipu.ParamError{Param: "params", Reason: "is nil"}
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	out := new(khipu.ReceiverCreated)
	if err := s.client.call(ctx, http.MethodPost, "/v3/receivers", nil, p, out); err != nil {
		return nil, err
	}
	return out, nil
}
