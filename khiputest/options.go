package khiputest

import (
	"fmt"
	"slices"
	"strings"
)

// ServerOption configures a Server built by NewServer.
type ServerOption func(*serverConfig)

// serverConfig is what the options of NewServer set.
type serverConfig struct {
	apiKey     string
	currencies []string
	refunds    bool
}

// defaultConfig is a server's configuration before its options: a Chilean
// collection account that collects in a Khipu account, with a random API
// key.
func defaultConfig() serverConfig {
	return serverConfig{apiKey: randomString(32, lowerDigits), currencies: []string{"CLP"}, refunds: true}
}

// WithAPIKey sets the API key the server's v3 endpoints accept in the
// x-api-key header, e.g. one a program under test reads from its
// configuration. Without it, the server makes up a random key (see APIKey).
// It panics on an empty or blank key: a server that accepted requests
// without a key would hide a client that forgets to send one.
func WithAPIKey(key string) ServerOption {
	if strings.TrimSpace(key) == "" {
		panic("khiputest: WithAPIKey with an empty key")
	}
	return func(c *serverConfig) { c.apiKey = key }
}

// WithCurrencies sets the currencies the server's collection accounts
// collect in, as ISO-4217 codes Khipu knows (CLP, CLF, ARS, PEN, MXN, USD,
// EUR, BOB, COP). A payment in any other currency is refused with a 400
// naming currency, as Khipu refuses one its account does not collect in.
// Without it, the accounts collect in CLP only, as a Chilean account does.
// It panics on no codes or an unknown one.
func WithCurrencies(codes ...string) ServerOption {
	if len(codes) == 0 {
		panic("khiputest: WithCurrencies with no currency")
	}
	for _, c := range codes {
		if !slices.Contains(currencies, c) {
			panic(fmt.Sprintf("khiputest: WithCurrencies with %q, not a currency Khipu collects in (%s)", c, strings.Join(currencies, ", ")))
		}
	}
	codes = slices.Clone(codes)
	return func(c *serverConfig) { c.currencies = codes }
}

// WithRefunds sets whether the server's collection accounts may refund
// payments. At Khipu only an account that collects in a Khipu account can
// (see Khipu's refund endpoint); one that collects straight into the
// merchant's bank account cannot, and this server answers its refunds with
// a 403. Without it, refunds are allowed.
func WithRefunds(allowed bool) ServerOption {
	return func(c *serverConfig) { c.refunds = allowed }
}
