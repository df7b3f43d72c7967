package khipu

// ParseKhipuAmount is parseKhipuAmount, for the tests of package khipu_test.
func ParseKhipuAmount(s string) (Amount, error) { return parseKhipuAmount(s) }

// SendableAmount is a.sendable(), for the tests of package khipu_test.
func SendableAmount(a Amount) error { return a.sendable() }
