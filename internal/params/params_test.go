package params

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestWholePesos(t *testing.T) {
	for amount, want := range map[string]string{
		"12990": "", "1": "", "0": "", // whole pesos
		"12.99":   "is 12.99 CLP, and a Chilean peso has no decimals: if 12.99 is a price written with a thousands dot ($12.990), the amount is 12990",
		"1.5":     "is 1.5 CLP, and a Chilean peso has no decimals: if 1.5 is a price written with a thousands dot ($1.500), the amount is 1500",
		"999.001": "is 999.001 CLP, and a Chilean peso has no decimals: if 999.001 is a price written with a thousands dot ($999.001), the amount is 999001",
		"0.5":     "is 0.5 CLP, and a Chilean peso has no decimals",    // "$0.500" is no price
		"1234.5":  "is 1234.5 CLP, and a Chilean peso has no decimals", // nor is "$1234.500"
		"1.2345":  "is 1.2345 CLP, and a Chilean peso has no decimals", // 4 decimals: no thousands group
	} {
		assert.Equal(t, want, WholePesos("CLP", amount), amount)
		assert.Equal(t, want, WholePesos("clp", amount), "%s in lower case", amount)
		assert.Empty(t, WholePesos("USD", amount), "%s in another currency", amount)
		assert.Empty(t, WholePesos("", amount), "%s without a currency", amount)
	}
}

func TestChilean(t *testing.T) {
	for digits, want := range map[string]string{"1": "$1", "999": "$999", "1000": "$1.000", "12990": "$12.990", "1234567": "$1.234.567"} {
		assert.Equal(t, want, chilean(digits))
	}
}

func TestCheckPayment(t *testing.T) {
	ok := Payment{Subject: "Order 1", Currency: "CLP"}
	param, reason := CheckPayment(ok)
	assert.Empty(t, param+reason)
	for want, p := range map[string]Payment{
		"subject":      {Subject: " \t", Currency: "CLP"},
		"currency":     {Subject: "x", Currency: "clp"},
		"custom":       {Subject: "x", Currency: "CLP", Custom: strings.Repeat("ñ", 4097)},
		"send_email":   {Subject: "x", Currency: "CLP", SendEmail: true, PayerName: "Ana"},
		"contract_url": {Subject: "x", Currency: "CLP", ContractURL: "https://x"},
	} {
		param, reason := CheckPayment(p)
		assert.Equal(t, want, param)
		assert.NotEmpty(t, reason)
	}
	long := Payment{Subject: "x", Currency: "CLP", Custom: strings.Repeat("ñ", 4096)}
	param, _ = CheckPayment(long)
	assert.Empty(t, param, "4096 characters, not bytes")
}

func TestMissing(t *testing.T) {
	assert.Equal(t, []string{"b", "c"}, Missing(Field{"a", "x"}, Field{"b", ""}, Field{"c", " "}))
	assert.Nil(t, Missing(Field{"a", "x"}))
	assert.True(t, IsCountryCode("CL"))
	for _, bad := range []string{"cl", "CHL", "C", "", "C1"} {
		assert.False(t, IsCountryCode(bad), bad)
	}
}
