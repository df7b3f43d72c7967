// Collection accounts that an integrator creates (POST /receivers), lists
// (GET /v3/receivers/children), and acts for.

package khiputest

import (
	"encoding/json"
	"regexp"
	"strconv"
)

var countryCode = regexp.MustCompile(`^[A-Z]{2}$`)

// createReceiverParams are the parameters of POST /receivers.
var createReceiverParams = rules{
	"admin_first_name":        required(maxChars(255)),
	"admin_last_name":         required(maxChars(255)),
	"admin_email":             required(email),
	"country_code":            required(matches(countryCode, "must be an ISO 3166-1 alpha-2 code such as CL")),
	"business_identifier":     required(maxChars(255)),
	"business_category":       required(maxChars(255)),
	"business_name":           required(maxChars(255)),
	"business_phone":          required(maxChars(255)),
	"business_address_line_1": required(maxChars(255)),
	"business_address_line_2": required(maxChars(255)),
	"business_address_line_3": required(maxChars(255)),
	"contact_full_name":       required(maxChars(255)),
	"contact_job_title":       required(maxChars(255)),
	"contact_email":           required(email),
	"contact_phone":           required(maxChars(255)),
	"bank_account_bank_id":    optional(knownBank),
	"bank_account_identifier": optional(maxChars(255)),
	"bank_account_name":       optional(maxChars(255)),
	"bank_account_number":     optional(maxChars(255)),
	"notify_url":              optional(absoluteURL),
	"rendition_url":           optional(absoluteURL),
}

// createReceiver creates a collection account under the caller, with a new
// receiver id and secret that this server then accepts like its own in v2.
// In v3, the caller's API key acts for it (an integrator sees the payments
// of the accounts it created).
func (s *Server) createReceiver(c *call) response {
	if errs := c.validate(createReceiverParams); errs != nil {
		return validationResponse(errs)
	}
	secret := randomString(40, lowerDigits)
	s.mu.Lock()
	id := ""
	for id == "" || s.accounts[id] != nil {
		s.receivers++
		id = strconv.FormatInt(s.receivers, 10)
	}
	s.accounts[id] = newAccount(id, secret, c.caller.id)
	s.mu.Unlock()
	return ok(struct {
		ReceiverID json.RawMessage `json:"receiver_id"` // a number, as Khipu sends it
		Secret     string          `json:"secret"`
	}{jsonNumber(id), secret})
}

func matches(re *regexp.Regexp, msg string) check {
	return func(v string) string {
		if !re.MatchString(v) {
			return msg
		}
		return ""
	}
}
