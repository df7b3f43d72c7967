package main

import (
	"strings"

	"github.com/khipu-go/khipu"
)

// formatMoney writes an amount as a payer in Chile reads it: a dot between
// thousands and a comma before decimals. Pesos have no decimals ($12.990);
// dollars are US$19,99; any other currency is written with its code
// (ARS 1.500,50). Decimals are padded to two, and kept beyond two when the
// amount has them: a price is never rounded on its way to the payer.
func formatMoney(a khipu.Amount, currency string) string {
	text := a.String() // canonical: "12990", "19.9", "-3.1416"
	sign := ""
	if strings.HasPrefix(text, "-") {
		sign, text = "-", text[1:]
	}
	whole, frac, _ := strings.Cut(text, ".")
	currency = strings.ToUpper(currency)
	prefix := currency + " "
	switch currency {
	case "CLP":
		prefix = "$"
	case "USD":
		prefix = "US$"
	}
	if currency != "CLP" || frac != "" {
		for len(frac) < 2 {
			frac += "0"
		}
	}
	out := sign + prefix + groupThousands(whole)
	if frac != "" {
		out += "," + frac
	}
	return out
}

// groupThousands puts a dot between each group of three digits: 1234567
// becomes 1.234.567.
func groupThousands(digits string) string {
	var b strings.Builder
	for i, d := range digits {
		if i > 0 && (len(digits)-i)%3 == 0 {
			b.WriteByte('.')
		}
		b.WriteRune(d)
	}
	return b.String()
}
