// Package params holds the rules both clients check before sending a
// request: what Khipu would refuse, and what is surely a mistake. Each rule
// answers with the parameter at fault and why, and each client turns that
// into its *khipu.ParamError (this package cannot import khipu, which
// imports it).
package params

import (
	"strings"
	"unicode/utf8"
)

// Payment is what the rules of creating a payment look at, besides its
// amounts (which each client checks with its Amount's methods).
type Payment struct {
	Subject, Currency, Custom                 string
	SendEmail                                 bool
	PayerName, PayerEmail                     string
	ContractURL, FixedPayerPersonalIdentifier string
}

// maxCustom is Khipu's limit on the custom parameter, in characters.
const maxCustom = 4096

// CheckPayment returns the first of p's parameters Khipu would refuse and
// why, or "" and "": a missing subject or currency, a currency that is not
// an ISO-4217 code, a custom field over 4096 characters, send_email without
// the payer, a contract without the payer's id.
func CheckPayment(p Payment) (param, reason string) {
	switch {
	case strings.TrimSpace(p.Subject) == "":
		return "subject", "is required"
	case p.Currency == "":
		return "currency", "is required"
	case !isCurrencyCode(p.Currency):
		return "currency", "must be an ISO-4217 code such as CLP"
	case utf8.RuneCountInString(p.Custom) > maxCustom:
		return "custom", "is longer than 4096 characters"
	case p.SendEmail && (p.PayerName == "" || p.PayerEmail == ""):
		return "send_email", "needs payer_name and payer_email"
	case p.ContractURL != "" && p.FixedPayerPersonalIdentifier == "":
		return "contract_url", "needs fixed_payer_personal_identifier"
	}
	return "", ""
}

func isCurrencyCode(s string) bool {
	if len(s) != 3 {
		return false
	}
	for i := 0; i < 3; i++ {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	return true
}

// WholePesos returns why amount, the canonical text of an amount in
// currency (Amount.String: no trailing zeros), cannot be sent, or "": a
// Chilean peso has no fraction. In Chile a dot groups thousands ("$12.990"
// is twelve thousand nine hundred ninety pesos), so "12.990" typed by a
// person and read as a decimal is 12.99; when the amount could be such a
// price, the reason says what to write instead.
func WholePesos(currency, amount string) string {
	whole, frac, ok := strings.Cut(amount, ".")
	if !ok || !strings.EqualFold(currency, "CLP") {
		return ""
	}
	reason := "is " + amount + " CLP, and a Chilean peso has no decimals"
	// A price with a thousands dot has 1 to 3 digits before its first
	// dot; the decimal text has lost the zeros that ended it.
	if len(whole) <= 3 && whole[0] != '0' && len(frac) <= 3 {
		pesos := whole + frac + strings.Repeat("0", 3-len(frac))
		reason += ": if " + amount + " is a price written with a thousands dot (" + chilean(pesos) +
			"), the amount is " + pesos
	}
	return reason
}

// chilean writes the whole number of pesos digits as a Chilean price:
// "$12.990".
func chilean(digits string) string {
	var b strings.Builder
	b.WriteByte('$')
	for i := range len(digits) {
		if i > 0 && (len(digits)-i)%3 == 0 {
			b.WriteByte('.')
		}
		b.WriteByte(digits[i])
	}
	return b.String()
}

// Field is a parameter's name and value.
type Field struct{ Name, Value string }

// Missing returns the names of the fields whose value is empty or blank,
// in order.
func Missing(fields ...Field) []string {
	var names []string
	for _, f := range fields {
		if strings.TrimSpace(f.Value) == "" {
			names = append(names, f.Name)
		}
	}
	return names
}

// IsCountryCode reports whether s is an ISO 3166-1 alpha-2 code such as CL.
func IsCountryCode(s string) bool {
	return len(s) == 2 && 'A' <= s[0] && s[0] <= 'Z' && 'A' <= s[1] && s[1] <= 'Z'
}

// HasSpaceOrControl reports whether s holds a space or an ASCII control
// character, which an API key sent in the x-api-key header cannot: the
// v3 client refuses such a key, and so does khiputest, so that the two
// agree on what a key may be.
func HasSpaceOrControl(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool { return r <= ' ' || r == 0x7f })
}
