// Collection accounts that an integrator creates (POST /receivers), lists
// (GET /v3/receivers/children), and acts for.

package khiputest

import (
	"cmp"
	"encoding/json"
	"regexp"
	"slices"
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

// createReceiverParamsV3 are the parameters of POST /v3/receivers: v2's,
// and bank_account_type, which Khipu's v3 description lists.
var createReceiverParamsV3 = withRules(createReceiverParams, rules{
	"bank_account_type": optional(maxChars(255)),
})

// createReceiver creates a collection account under the caller, with a new
// receiver id and secret that this server then accepts like its own in v2,
// and an API key that it accepts in v3. The caller, its integrator, sees its
// payments and lists it in GET /v3/receivers/children. A v3 answer carries
// the new account's api_key beside its secret, as Khipu's may.
func (s *Server) createReceiver(c *call) response {
	rs := createReceiverParams
	if c.v3 {
		rs = createReceiverParamsV3
	}
	if errs := c.validate(rs); errs != nil {
		return validationResponse(errs)
	}
	secret, key := randomString(40, lowerDigits), randomString(32, lowerDigits)
	s.mu.Lock()
	id := ""
	for id == "" || s.accounts[id] != nil {
		s.receivers++
		id = strconv.FormatInt(s.receivers, 10)
	}
	acc := newAccount(id, secret, key, c.caller.id)
	acc.name, acc.created = c.params.Get("business_name"), s.now()
	s.accounts[id] = acc
	s.mu.Unlock()
	created := receiverCreated{ReceiverID: jsonNumber(id), Secret: secret}
	if c.v3 {
		// v3: a string, as Khipu's v3 description has it (no real answer
		// is known to say otherwise); and the new account's API key.
		created.ReceiverID, _ = json.Marshal(id)
		created.APIKey = key
	}
	return ok(created)
}

// receiverCreated is Khipu's answer to POST /receivers: the new account's
// credentials.
type receiverCreated struct {
	ReceiverID json.RawMessage `json:"receiver_id"` // v2: a number, as Khipu's v2 clients read it; v3: a string
	Secret     string          `json:"secret"`
	APIKey     string          `json:"api_key,omitempty"` // v3 only
}

// listChildrenParams are the parameters of GET /v3/receivers/children.
var listChildrenParams = rules{
	"offset": optional(matches(smallInt, "must be a whole number, 0 or more")),
	"max":    optional(matches(smallInt, "must be a whole number, 1 or more"), notZero),
	"sort":   optional(oneOf("id", "name", "date_created")),
	"order":  optional(oneOf("asc", "desc")),
}

// defaultMaxChildren is how many accounts GET /v3/receivers/children lists
// when max is left out: Khipu does not say, and gives 100 as an example.
const defaultMaxChildren = 100

var smallInt = regexp.MustCompile(`^(0|[1-9][0-9]{0,8})$`)

func notZero(v string) string {
	if v == "0" {
		return "must be a whole number, 1 or more"
	}
	return ""
}

// child is an account as GET /v3/receivers/children lists it.
type child struct {
	ID          json.RawMessage `json:"id"` // a number, as receiver_id is
	Name        string          `json:"name"`
	DateCreated string          `json:"date_created"`
	Disabled    bool            `json:"disabled"`
	CanCollect  bool            `json:"can_collect"`
}

// listChildren lists the accounts the caller created with POST /receivers,
// sorted by sort (id unless sent) in order (asc unless sent), from offset
// (0 unless sent), at most max of them (defaultMaxChildren unless sent),
// with the total there are. Every one is enabled and can collect: nothing
// here disables an account.
func (s *Server) listChildren(c *call) response {
	if errs := c.validate(listChildrenParams); errs != nil {
		return validationResponse(errs)
	}
	offset, _ := strconv.Atoi(c.params.Get("offset"))
	limit := defaultMaxChildren
	if c.params.Has("max") {
		limit, _ = strconv.Atoi(c.params.Get("max"))
	}
	s.mu.Lock()
	var children []*account
	for _, acc := range s.accounts {
		if acc.parent == c.caller.id {
			children = append(children, acc)
		}
	}
	s.mu.Unlock()
	byID := func(a, b *account) int { // numerically: ids are digits without leading zeros
		return cmp.Or(cmp.Compare(len(a.id), len(b.id)), cmp.Compare(a.id, b.id))
	}
	by := map[string]func(a, b *account) int{
		"id":           byID,
		"name":         func(a, b *account) int { return cmp.Or(cmp.Compare(a.name, b.name), byID(a, b)) },
		"date_created": func(a, b *account) int { return cmp.Or(a.created.Compare(b.created), byID(a, b)) },
	}[cmp.Or(c.params.Get("sort"), "id")]
	slices.SortFunc(children, by)
	if c.params.Get("order") == "desc" {
		slices.Reverse(children)
	}
	list := []child{}
	for _, acc := range children[min(offset, len(children)):min(offset+limit, len(children))] {
		list = append(list, child{
			ID: jsonNumber(acc.id), Name: acc.name, DateCreated: acc.created.UTC().Format(v3Date),
			CanCollect: true,
		})
	}
	return ok(struct {
		Receivers []child `json:"receivers"`
		Total     int     `json:"total"`
	}{list, len(children)})
}

func matches(re *regexp.Regexp, msg string) check {
	return func(v string) string {
		if !re.MatchString(v) {
			return msg
		}
		return ""
	}
}
