package khipu

import "github.com/khipu-go/khipu/internal/wire"

// ParseKhipuAmount is how the models read an amount sent by Khipu: digits
// past the fourth decimal rounded half to even by internal/wire, then
// ParseAmount. For the tests of package khipu_test.
func ParseKhipuAmount(s string) (Amount, error) {
	rounded, err := wire.RoundDecimal(s)
	if err != nil {
		if _, exact := ParseAmount(s); exact != nil {
			return Amount{}, exact // says what is wrong more precisely
		}
		return Amount{}, &AmountError{Input: s, Reason: err.Error()}
	}
	a, err := ParseAmount(rounded)
	if ae, ok := err.(*AmountError); ok {
		ae.Input = s
	}
	return a, err
}

// SendableAmount is a.sendable(), for the tests of package khipu_test.
func SendableAmount(a Amount) error { return a.sendable() }
