package khiputest

import (
	"encoding/json"
	"net/http"
	"regexp"
	"slices"
	"strconv"
)

// bank is Khipu's BankItem.
type bank struct {
	BankID    string          `json:"bank_id"`
	Name      string          `json:"name"`
	Message   string          `json:"message"`
	MinAmount json.RawMessage `json:"min_amount"` // minAmount as an API version writes it
	Type      string          `json:"type"`
	Parent    string          `json:"parent"`
	LogoURL   string          `json:"logo_url,omitempty"`

	minAmount amount
}

// testBank is the bank Pay pays through, like Khipu's DemoBank for
// developer accounts.
var testBank = bank{
	BankID: "Bawdf", Name: "DemoBank", Message: "Test bank: payments to developer accounts only",
	minAmount: 200 * amountScale, Type: "Persona",
	LogoURL: "https://s3.amazonaws.com/static.khipu.com/logos/bancos/chile/demobank-icon.png",
}

// banks are what GET /banks answers.
var banks = []bank{
	testBank,
	{BankID: "Sx6ng", Name: "Banco de Chile", minAmount: 200 * amountScale, Type: "Persona"},
	{BankID: "SxCrj", Name: "Banco de Chile Empresas", minAmount: 200 * amountScale, Type: "Empresa", Parent: "Sx6ng"},
	{BankID: "a7nRb", Name: "Banco Estado", Message: "Estará disponible de 6:00 a 23:59", minAmount: 100 * amountScale, Type: "Persona"},
	{BankID: "XWjg8", Name: "Banco Santander", minAmount: 200 * amountScale, Type: "Persona"},
}

func (s *Server) listBanks(c *call) response {
	if errs := c.validate(nil); errs != nil {
		return validationResponse(errs)
	}
	list := slices.Clone(banks)
	for i, b := range list {
		list[i].MinAmount = b.minAmount.json(c.v3)
	}
	return ok(struct {
		Banks []bank `json:"banks"`
	}{list})
}

// paymentMethod is Khipu's PaymentMethodItem.
type paymentMethod struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	LogoURL string `json:"logo_url"`
}

// paymentMethods are what GET /merchants/{id}/paymentMethods answers.
var paymentMethods = []paymentMethod{
	{ID: "simplified_transfer", Name: "Transferencia simplificada", LogoURL: "https://s3.amazonaws.com/static.khipu.com/buttons/2015/150x50-transparent.png"},
	{ID: "regular_transfer", Name: "Transferencia normal", LogoURL: "https://s3.amazonaws.com/static.khipu.com/buttons/2015/150x50-transfer.png"},
	{ID: "webpay_psp", Name: "Tarjetas", LogoURL: "https://s3.amazonaws.com/static.khipu.com/buttons/2015/150x50-webpay.png"},
}

func (s *Server) listPaymentMethods(c *call) response {
	if errs := c.validate(nil); errs != nil {
		return validationResponse(errs)
	}
	s.mu.Lock()
	allowed := s.mayAccess(c.caller, c.id)
	s.mu.Unlock()
	if !allowed {
		return errorResponse(http.StatusForbidden, "merchant "+strconv.Quote(c.id)+" is not this collection account nor one it created")
	}
	// Khipu's reference names the array paymentMethods (camelCase).
	return ok(struct {
		PaymentMethods []paymentMethod `json:"paymentMethods"`
	}{paymentMethods})
}

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
// receiver id and secret that this server then accepts like its own in v2.
// In v3, the caller's API key acts for it (an integrator sees the payments
// of the accounts it created).
func (s *Server) createReceiver(c *call) response {
	rs := createReceiverParams
	if c.v3 {
		rs = createReceiverParamsV3
	}
	if errs := c.validate(rs); errs != nil {
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
	receiverID := jsonNumber(id) // v2: a number, as Khipu's v2 clients read it
	if c.v3 {
		// v3: a string, as Khipu's v3 description has it (no real answer
		// is known to say otherwise).
		receiverID, _ = json.Marshal(id)
	}
	return ok(struct {
		ReceiverID json.RawMessage `json:"receiver_id"`
		Secret     string          `json:"secret"`
	}{receiverID, secret})
}

func matches(re *regexp.Regexp, msg string) check {
	return func(v string) string {
		if !re.MatchString(v) {
			return msg
		}
		return ""
	}
}
