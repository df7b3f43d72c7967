package khiputest

import (
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/khipu-go/khipu/internal/params"
)

// ServerOption configures a Server built by NewServer.
type ServerOption func(*serverConfig)

// serverConfig is what the options of NewServer set.
type serverConfig struct {
	apiKey     string
	currencies []string
	refunds    bool
	async      bool
	publicURL  string
	logger     *slog.Logger
	now        func() time.Time
	keep       int // the most requests Requests returns; 0 for all
	strict     bool
}

// defaultConfig is a server's configuration before its options: a Chilean
// collection account that collects in a Khipu account, with a random API
// key.
func defaultConfig() serverConfig {
	return serverConfig{apiKey: randomString(32, lowerDigits), currencies: []string{"CLP"}, refunds: true, now: time.Now}
}

// WithAPIKey sets the API key the server's v3 endpoints accept in the
// x-api-key header, e.g. one a program under test reads from its
// configuration. Without it, the server makes up a random key (see APIKey).
// It panics on an empty or blank key, as a server that accepted requests
// without a key would hide a client that forgets to send one, and on a key
// with a space or a control character, which Khipu's clients refuse to send.
func WithAPIKey(key string) ServerOption {
	if strings.TrimSpace(key) == "" {
		panic("khiputest: WithAPIKey: the key is empty")
	}
	if params.HasSpaceOrControl(key) {
		panic("khiputest: WithAPIKey: the key has a space or a control character, which Khipu's clients refuse to send")
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
		panic("khiputest: WithCurrencies: no currency")
	}
	for _, c := range codes {
		if !slices.Contains(currencies, c) {
			panic(fmt.Sprintf("khiputest: WithCurrencies: %q is not a currency code Khipu collects in (%s)", c, strings.Join(currencies, ", ")))
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

// WithAsyncNotifications makes Pay and Notify return at once, as a payer's
// browser does not wait for the shop's notify_url at Khipu: a nil error no
// longer means the notification was delivered. The notification is POSTed
// from a goroutine of its own, and POSTed again while the shop answers
// anything but 2xx or cannot be reached, as Khipu does, waiting 10 ms, then
// twice as long each time up to 1 s (Khipu's own waits are longer and not
// published). A later Notify of the same payment replaces a notification
// still being retried; Close ends them all. WaitNotified waits for the
// shop's 2xx.
//
// Without it, Pay and Notify POST the notification once and return when the
// shop has answered, with an error unless it answered 2xx: simpler to test
// with, but "paid right after Pay" is then true by construction, while at
// Khipu the shop may learn of the payment after the payer is back.
func WithAsyncNotifications() ServerOption {
	return func(c *serverConfig) { c.async = true }
}

// WithPublicURL makes the server one that the caller serves at rawURL, the
// address shops and browsers reach it at (another container's view of it,
// a tunnel): NewServer starts no listener, and the caller serves the Server,
// an http.Handler, at the root of that URL, e.g. with http.Server. URL,
// V3URL and the payment URLs point there, and v2 signatures are checked
// against it, as Khipu checks them against its own address. cmd/khiputest
// is served so.
//
// rawURL is an http or https URL with a host and no path, query or
// fragment, such as "https://khipu.test:8443"; WithPublicURL panics on any
// other.
func WithPublicURL(rawURL string) ServerOption {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
		(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		panic(fmt.Sprintf("khiputest: WithPublicURL: %q is not an http or https URL with a host and no path, query or fragment", rawURL))
	}
	base := u.Scheme + "://" + u.Host
	return func(c *serverConfig) { c.publicURL = base }
}

// WithLogger makes the server log to l, at warn level, one line for every
// notification and callback the shop did not accept: its payment_id (and
// subscription_id, for a callback of automatic payments), the url it was
// POSTed to, and the status the shop answered with the start of its
// answer, or the error that kept an answer from arriving. Each failed
// attempt is logged, so a notification retried with WithAsyncNotifications
// is logged each time it fails; one abandoned because the server closed or
// a newer Notify replaced it is not. cmd/khiputest logs so, because a
// notification paid from a payment page has no caller to return the error
// to.
//
// Without it nothing is logged: Pay, Notify and the automatic-payment
// methods return the shop's refusal, and WaitNotified reports it.
func WithLogger(l *slog.Logger) ServerOption {
	if l == nil {
		panic("khiputest: WithLogger with a nil logger")
	}
	return func(c *serverConfig) { c.logger = l }
}

// WithClock makes the server read the time from now instead of time.Now,
// for what it dates and what it decides by date: a payment's
// conciliation_date, the t a notification 3.0 is signed with, GET
// /v3/predict's cool_down_date, whether an expires_date or
// confirm_timeout_date sent is in the future, and whether a payment has
// expired. A test moves its clock to make a payment expire, or to sign a
// notification at a time outside the shop's tolerance, instead of sleeping.
// now is called from the server's goroutines, with the server locked: it
// must be safe for concurrent use and must not call the Server.
//
// The control API's POST /khiputest/clock moves the server's time further
// forward, adding to what now returns.
//
// The server's own waits are real time whatever the clock says: the
// retries of WithAsyncNotifications, and the 30 s it waits for a shop's
// answer. It panics on a nil now.
func WithClock(now func() time.Time) ServerOption {
	if now == nil {
		panic("khiputest: WithClock with a nil clock")
	}
	return func(c *serverConfig) { c.now = now }
}

// WithMaxRequests makes the server keep only the last n API requests it
// received, forgetting the oldest as new ones arrive, so that Requests (and
// the control API's GET /khiputest/requests) returns at most n. Without it
// every request is kept, which suits a server that lives as long as a test;
// a server that runs for long, as cmd/khiputest does, would grow without
// bound. It panics on n below 1.
func WithMaxRequests(n int) ServerOption {
	if n < 1 {
		panic(fmt.Sprintf("khiputest: WithMaxRequests: %d; want at least 1", n))
	}
	return func(c *serverConfig) { c.keep = n }
}

// WithStrict makes the server refuse, with a 400 naming the field, what it
// otherwise accepts with a warning (Request.Warnings, and the log of
// WithLogger) because Khipu probably accepts it but it is likely a
// mistake: a v3 JSON field that is null or that the endpoint does not
// define (a typo such as "ammount", or v2's "receiver_id" in the body of POST
// /v3/payments), and an integrator_fee sent for an account that has no
// integrator. It is for shops that want their typos caught; without it the
// server accepts what Khipu is not known to refuse, so that a shop's tests
// do not fail for what would work at Khipu.
func WithStrict() ServerOption {
	return func(c *serverConfig) { c.strict = true }
}
