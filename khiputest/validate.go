package khiputest

import (
	"encoding/json"
	"net/mail"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// check returns what is wrong with a parameter's value, or "".
type check func(v string) string

// rule says whether a parameter is required, how its value is checked, and
// the JSON type it has in a v3 body (see as).
type rule struct {
	required bool
	checks   []check
	json     jsonKind
}

// rules are the parameters an endpoint takes, by name. Any other parameter
// is refused.
type rules map[string]rule

func required(checks ...check) rule { return rule{required: true, checks: checks} }
func optional(checks ...check) rule { return rule{checks: checks} }

// validate checks params against rules and returns one field error per
// parameter at fault, sorted by name. Khipu's clients leave out a parameter
// that is not set, so an optional parameter sent empty is refused too: it is
// the mark of a client that sends its zero values.
func validate(params url.Values, rs rules) []fieldError {
	var errs []fieldError
	for _, k := range sortedKeys(params) {
		if _, known := rs[k]; !known {
			errs = append(errs, fieldError{k, "is not a parameter of this endpoint"})
		}
	}
	names := make([]string, 0, len(rs))
	for k := range rs {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		r := rs[k]
		v, sent := params.Get(k), params.Has(k)
		switch {
		case !sent && r.required, sent && v == "" && r.required:
			errs = append(errs, fieldError{k, "is required"})
		case !sent:
		case v == "":
			errs = append(errs, fieldError{k, "is empty: leave out a parameter that is not set"})
		default:
			for _, c := range r.checks {
				if msg := c(v); msg != "" {
					errs = append(errs, fieldError{k, msg})
					break
				}
			}
		}
	}
	return errs
}

func maxChars(n int) check {
	return func(v string) string {
		if utf8.RuneCountInString(v) > n {
			return "is longer than " + strconv.Itoa(n) + " characters"
		}
		return ""
	}
}

func oneOf(allowed ...string) check {
	return func(v string) string {
		if !slices.Contains(allowed, v) {
			return "must be one of " + strings.Join(allowed, ", ")
		}
		return ""
	}
}

// notifyAPIVersion accepts the versions of Khipu's notification API: 1.2 and
// 1.3, which POST a notification_token to look the payment up with, and 3.0,
// which POSTs the payment itself, signed. Each API version takes all three:
// Khipu's v3 is a gateway in front of v2 that passes notify_api_version on,
// so v2 takes 3.0 too, and v3 takes 1.3 (v3 has no lookup by token, but v2
// does).
func notifyAPIVersion(v string) string {
	switch v {
	case "1.2", "1.3", "3.0":
		return ""
	}
	return "must be a version of Khipu's notification API: 1.3 (a notification_token to look the payment up with), 3.0 (the payment itself, signed) or 1.2"
}

// currencies are the currencies Khipu collects in, as its API v3
// description lists them; an account collects in some of them (see
// WithCurrencies).
var currencies = []string{"CLP", "CLF", "ARS", "PEN", "MXN", "USD", "EUR", "BOB", "COP"}

func currencyCode(v string) string {
	if !slices.Contains(currencies, v) {
		return "must be an ISO-4217 currency code Khipu collects in: " + strings.Join(currencies, ", ")
	}
	return ""
}

func positiveAmount(v string) string {
	a, ok := parseAmount(v)
	switch {
	case !ok:
		return amountSyntax
	case a == 0:
		return "must be greater than zero"
	}
	return ""
}

func nonNegativeAmount(v string) string {
	if _, ok := parseAmount(v); !ok {
		return amountSyntax
	}
	return ""
}

const amountSyntax = "must be a decimal number with '.' as decimal separator, no thousands separator and at most 4 decimals"

// boolean accepts the booleans Khipu's official clients send: "true" and
// "false" in any case ("True" and "False" from the .NET client, which writes
// a bool with Convert.ToString), and "1" and "0" from the PHP client, which
// writes a PHP bool so.
func boolean(v string) string {
	if isTrue(v) || strings.EqualFold(v, "false") || v == "0" {
		return ""
	}
	return `must be "true" or "false" (in any case), or 1 or 0`
}

// isTrue reports whether v, a parameter boolean accepted, is true.
func isTrue(v string) bool { return strings.EqualFold(v, "true") || v == "1" }

// dateLayouts are the forms of a date-time with an offset that Khipu's
// official clients and documentation write, each as Go's time.Parse reads
// it (which takes fractions of a second after the seconds in every one):
var dateLayouts = []string{
	time.RFC3339,                // 2026-12-08T12:25:27Z, 2027-01-15T10:00:00.000-03:00 (.NET)
	"2006-01-02T15:04:05-0700",  // PHP's DateTime::ISO8601, from the PHP client
	"2006-01-02 15:04:05Z07:00", // Khipu's own examples: 2023-12-31 15:45:00-04:00
	"2006-01-02 15:04:05 -0700", // Ruby's Time#to_s, from the Ruby client
	"2006-01-02 15:04:05 UTC",   // the same, of a time in UTC
}

// localDateLayouts are the forms of a date-time without an offset, read as
// Chile's local time: the .NET client writes a DateTime of unspecified kind
// so (2027-01-15T10:00:00.000).
var localDateLayouts = []string{"2006-01-02T15:04:05", "2006-01-02 15:04:05"}

// chile is the time zone a date without an offset is read in, loaded once;
// an error when this machine has no time zone database (neither the
// system's nor Go's, which a program gets by importing time/tzdata, as
// cmd/khiputest does).
var chile = sync.OnceValues(func() (*time.Location, error) { return time.LoadLocation("America/Santiago") })

// parseDate reads a date-time in one of dateLayouts, or in one of
// localDateLayouts in Chile's time zone.
func parseDate(v string) (time.Time, bool) {
	for _, layout := range dateLayouts {
		if t, err := time.Parse(layout, v); err == nil {
			return t, true
		}
	}
	loc, err := chile()
	if err != nil {
		return time.Time{}, false
	}
	for _, layout := range localDateLayouts {
		if t, err := time.ParseInLocation(layout, v, loc); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// date checks that v is a date-time in a form Khipu accepts. Whether it is
// in the future depends on the server's clock, and is checked with it.
func date(v string) string {
	if _, ok := parseDate(v); ok {
		return ""
	}
	if _, err := chile(); err != nil {
		for _, layout := range localDateLayouts {
			if _, perr := time.Parse(layout, v); perr == nil {
				return "has no offset, so is Chile's local time, but this machine has no time zone database to read America/Santiago in: " + err.Error()
			}
		}
	}
	return "must be an ISO-8601 date-time such as 2026-01-02T15:04:05-03:00"
}

func absoluteURL(v string) string {
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "must be an absolute http or https URL"
	}
	return ""
}

func email(v string) string {
	if a, err := mail.ParseAddress(v); err != nil || a.Address != v {
		return "must be an e-mail address"
	}
	return ""
}

func knownBank(v string) string {
	for _, b := range banks {
		if b.BankID == v {
			return ""
		}
	}
	return "is not the bank_id of a bank in GET /banks"
}

func knownPaymentMethod(v string) string {
	for _, m := range paymentMethods {
		if m.ID == v {
			return ""
		}
	}
	return "is not the id of a method in GET /merchants/{id}/paymentMethods"
}

// amount is an exact amount of money in 1/10000 of the currency unit.
type amount int64

const amountScale = 10000

var amountPattern = regexp.MustCompile(`^(0|[1-9][0-9]{0,13})(\.[0-9]{1,4})?$`)

// parseAmount reads an amount as Khipu accepts it: digits, optionally a '.'
// and up to 4 decimals; no sign, exponent or thousands separator.
func parseAmount(s string) (amount, bool) {
	if !amountPattern.MatchString(s) {
		return 0, false
	}
	whole, frac, _ := strings.Cut(s, ".")
	w, _ := strconv.ParseInt(whole, 10, 64)
	frac += strings.Repeat("0", 4-len(frac))
	f, _ := strconv.ParseInt(frac, 10, 64)
	return amount(w*amountScale + f), true
}

// String is a in its shortest form: "1000", "19.99".
func (a amount) String() string {
	s := a.fixed()
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}

// json is a with four decimals as Khipu's answers have it: a JSON string in
// v3 ("1000.0000"), a JSON number in v2 (1000.0000).
func (a amount) json(quoted bool) json.RawMessage {
	if quoted {
		return json.RawMessage(`"` + a.fixed() + `"`)
	}
	return json.RawMessage(a.fixed())
}

// fixed is a with four decimals, as Khipu writes amounts: "1000.0000".
func (a amount) fixed() string {
	return strconv.FormatInt(int64(a)/amountScale, 10) + "." + strconv.FormatInt(amountScale+int64(a)%amountScale, 10)[1:]
}
