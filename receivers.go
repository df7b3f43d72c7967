package khipu

import (
	"context"
	"net/http"
	"strings"

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
	required := []struct{ name, value string }{
		{"admin_first_name", p.AdminFirstName},
		{"admin_last_name", p.AdminLastName},
		{"admin_email", p.AdminEmail},
		{"country_code", p.CountryCode},
		{"business_identifier", p.BusinessIdentifier},
		{"business_category", p.BusinessCategory},
		{"business_name", p.BusinessName},
		{"business_phone", p.BusinessPhone},
		{"business_address_line_1", p.BusinessAddressLine1},
		{"business_address_line_2", p.BusinessAddressLine2},
		{"business_address_line_3", p.BusinessAddressLine3},
		{"contact_full_name", p.ContactFullName},
		{"contact_job_title", p.ContactJobTitle},
		{"contact_email", p.ContactEmail},
		{"contact_phone", p.ContactPhone},
	}
	var errs []error
	for _, f := range required {
		if strings.TrimSpace(f.value) == "" {
			errs = append(errs, &ParamError{Param: f.name, Reason: "is required"})
		}
	}
	if p.CountryCode != "" && !isCountryCode(p.CountryCode) {
		errs = append(errs, &ParamError{Param: "country_code", Reason: "must be an ISO 3166-1 alpha-2 code such as CL"})
	}
	return wire.Join(errs...)
}

func isCountryCode(s string) bool {
	return len(s) == 2 && 'A' <= s[0] && s[0] <= 'Z' && 'A' <= s[1] && s[1] <= 'Z'
}
