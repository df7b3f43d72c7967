package khipu

import (
	"context"
	"net/http"

	"github.com/khipu-go/khipu/internal/params"

	"github.com/khipu-go/khipu/internal/wire"
)

// ReceiversService creates collection accounts under an integrator account.
type ReceiversService struct{ client *Client }

// Create creates a collection account (POST /receivers) and returns its
// receiver id and secret. Keep the secret as you keep your own. Every
// required parameter missing is reported, before anything is sent. Create is
// never retried automatically.
func (s *ReceiversService) Create(ctx context.Context, p *ReceiverCreateParams) (*ReceiverCreated, error) {
	if p == nil {
		return nil, &ParamError{Param: "params", Reason: "is nil"}
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	out := new(ReceiverCreated)
	if err := s.client.call(ctx, http.MethodPost, "/receivers", p, out); err != nil {
		return nil, err
	}
	return out, nil
}

// Validate reports every required parameter that is missing and a malformed
// country code, joined; Create calls it before sending anything.
func (p *ReceiverCreateParams) Validate() error {
	var errs []error
	for _, name := range params.Missing(
		params.Field{Name: "admin_first_name", Value: p.AdminFirstName},
		params.Field{Name: "admin_last_name", Value: p.AdminLastName},
		params.Field{Name: "admin_email", Value: p.AdminEmail},
		params.Field{Name: "country_code", Value: p.CountryCode},
		params.Field{Name: "business_identifier", Value: p.BusinessIdentifier},
		params.Field{Name: "business_category", Value: p.BusinessCategory},
		params.Field{Name: "business_name", Value: p.BusinessName},
		params.Field{Name: "business_phone", Value: p.BusinessPhone},
		params.Field{Name: "business_address_line_1", Value: p.BusinessAddressLine1},
		params.Field{Name: "business_address_line_2", Value: p.BusinessAddressLine2},
		params.Field{Name: "business_address_line_3", Value: p.BusinessAddressLine3},
		params.Field{Name: "contact_full_name", Value: p.ContactFullName},
		params.Field{Name: "contact_job_title", Value: p.ContactJobTitle},
		params.Field{Name: "contact_email", Value: p.ContactEmail},
		params.Field{Name: "contact_phone", Value: p.ContactPhone},
	) {
		errs = append(errs, &ParamError{Param: name, Reason: "is required"})
	}
	if p.CountryCode != "" && !params.IsCountryCode(p.CountryCode) {
		errs = append(errs, &ParamError{Param: "country_code", Reason: "must be an ISO 3166-1 alpha-2 code such as CL"})
	}
	return wire.Join(errs...)
}
