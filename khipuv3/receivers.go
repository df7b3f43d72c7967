package khipuv3

import (
	"context"
	"net/http"

	"github.com/google/go-querystring/query"

	"github.com/khipu-go/khipu"
)

// ReceiversService creates and lists collection accounts under an
// integrator account.
type ReceiversService struct{ client *Client }

// Create creates a collection account (POST /v3/receivers; only for
// integrators who contracted it) and returns its receiver id, its secret
// and, when Khipu sends it, its API key. Keep both as you keep your own API
// key: neither is ever shown in the printed form of the answer nor kept in
// an error. Every required parameter missing is reported before anything is
// sent. Create is never retried automatically.
func (s *ReceiversService) Create(ctx context.Context, p *ReceiverCreateParams) (*ReceiverCreated, error) {
	if p == nil {
		return nil, &khipu.ParamError{Param: "params", Reason: "is nil"}
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	out := new(ReceiverCreated)
	if err := s.client.call(ctx, http.MethodPost, "/v3/receivers", nil, p, out); err != nil {
		return nil, err
	}
	return out, nil
}

// Children lists the integrator's collection accounts
// (GET /v3/receivers/children; only for integrators who contracted it), one
// page at a time: p.Offset and p.Max choose the page, p.Sort and p.Order its
// order. A nil p, like a zero field, leaves Khipu's defaults. A negative
// Offset or Max, or a Sort or Order Khipu does not take, is a
// *khipu.ParamError and nothing is sent.
func (s *ReceiversService) Children(ctx context.Context, p *ReceiverChildrenParams) (*ReceiverChildren, error) {
	if p == nil {
		p = &ReceiverChildrenParams{}
	}
	if err := p.validate(); err != nil {
		return nil, err
	}
	values, err := query.Values(p)
	if err != nil {
		return nil, &khipu.ParamError{Param: "params", Reason: err.Error()}
	}
	out := new(ReceiverChildren)
	if err := s.client.call(ctx, http.MethodGet, "/v3/receivers/children", values, nil, out); err != nil {
		return nil, err
	}
	return out, nil
}
