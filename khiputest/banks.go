// The banks that can pay an account and its payment methods: fixed lists.

package khiputest

import (
	"encoding/json"
	"net/http"
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
