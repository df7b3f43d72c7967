package main

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/khipu-go/khipu"
)

func TestFormatMoneyWritesAmountsAsAChileanPayerReadsThem(t *testing.T) {
	tests := []struct {
		amount         khipu.Amount
		currency, want string
	}{
		{khipu.MustParseAmount("12990"), "CLP", "$12.990"},
		{khipu.MustParseAmount("45000"), "CLP", "$45.000"},
		{khipu.MustParseAmount("990"), "CLP", "$990"},
		{khipu.MustParseAmount("0"), "CLP", "$0"},
		{khipu.MustParseAmount("1000"), "CLP", "$1.000"},
		{khipu.MustParseAmount("1234567"), "CLP", "$1.234.567"},
		{khipu.MustParseAmount("100000"), "clp", "$100.000"},
		{khipu.MustParseAmount("19.5"), "CLP", "$19,50"},
		{khipu.MustParseAmount("19.99"), "USD", "US$19,99"},
		{khipu.MustParseAmount("1999"), "USD", "US$1.999,00"},
		{khipu.MustParseAmount("0.5"), "USD", "US$0,50"},
		{khipu.MustParseAmount("10.1234"), "USD", "US$10,1234"},
		{khipu.MustParseAmount("1500.5"), "ARS", "ARS 1.500,50"},
		{khipu.NewAmount(-3), "CLP", "-$3"},
	}
	for _, tt := range tests {
		t.Run(tt.amount.String()+" "+tt.currency, func(t *testing.T) {
			assert.Equal(t, tt.want, formatMoney(tt.amount, tt.currency))
		})
	}
}
