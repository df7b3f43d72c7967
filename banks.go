package khipu

import (
	"context"
	"github.com/khipu-go/khipu/internal/wire"
	"net/http"
)

// BanksService lists the banks that can pay this collection account.
type BanksService struct{ client *Client }

// List returns the banks that can pay this collection account
// (GET /banks).
func (s *BanksService) List(ctx context.Context) ([]Bank, error) {
	var out struct {
		Banks []wire.Bank `json:"banks"`
	}
	if err := s.client.call(ctx, http.MethodGet, "/banks", nil, &out); err != nil {
		return nil, err
	}
	if out.Banks == nil {
		return nil, nil
	}
	banks := make([]Bank, len(out.Banks))
	for i := range out.Banks {
		banks[i] = bankOf(&out.Banks[i])
	}
	return banks, nil
}
