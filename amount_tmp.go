package khipu

import "errors"

// TEMPORARY until the amount branch lands.
func (a Amount) sendable() error {
	switch {
	case a == invalidAmount:
		return errors.New("is out of range")
	case !a.valid():
		return errors.New("must not be negative")
	}
	return nil
}
