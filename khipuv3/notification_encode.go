package khipuv3

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/khipu-go/khipu"
)

// MarshalNotification returns the body Khipu would POST for n, byte for
// byte as Khipu writes a notification 3.0: the fields of Notification in the
// order of Khipu's documented example, receiver_id as a JSON number, amount
// and discount as strings with four decimals ("1000.0000"),
// conciliation_date in UTC with milliseconds ("2024-04-18T13:56:54.859Z", or
// null when it is zero), and strings escaped as PHP's json_encode escapes
// them: '/' as "\/" and every character outside ASCII as \uXXXX. Sign the
// result with Sign to test a handler, in Go or any other language, with what
// Khipu really sends: a handler that re-encodes the JSON instead of
// verifying the bytes it received fails on such a body as it would in
// production.
//
// It is the inverse of the decoding of a Notification: json.Unmarshal of
// the result gives n back, with ConciliationDate in UTC to the millisecond
// and PaymentMethod in lower case. n.Raw is not consulted.
//
// It refuses, with a *khipu.ParamError, a nil n, an empty PaymentID, a
// ReceiverID that is not a number without leading zeros, an amount or
// discount that is negative or out of range, a date that JSON cannot carry
// and a string that is not valid UTF-8: none of them is a body Khipu sends.
func MarshalNotification(n *Notification) ([]byte, error) {
	if n == nil {
		return nil, &khipu.ParamError{Param: "notification", Reason: "is nil"}
	}
	if n.PaymentID == "" {
		return nil, &khipu.ParamError{Param: "payment_id", Reason: "is required"}
	}
	if !canonicalNumber(n.ReceiverID) {
		return nil, &khipu.ParamError{Param: "receiver_id", Reason: "must be the account's number, without leading zeros (Khipu sends a JSON number)"}
	}
	amount, err := fourDecimals("amount", n.Amount)
	if err != nil {
		return nil, err
	}
	discount, err := fourDecimals("discount", n.Discount)
	if err != nil {
		return nil, err
	}
	date := []byte("null")
	if !n.ConciliationDate.IsZero() {
		utc := n.ConciliationDate.UTC()
		if utc.Year() < 0 || utc.Year() > 9999 {
			return nil, &khipu.ParamError{Param: "conciliation_date", Reason: "must lie in the years 0 to 9999"}
		}
		date = strconv.AppendQuote(nil, utc.Format(notificationDate))
	}

	b := make([]byte, 0, 1024)
	field := func(name string, value []byte) {
		if len(b) > 0 {
			b = append(b, ',')
		}
		b = append(b, '"')
		b = append(b, name...)
		b = append(b, '"', ':')
		b = append(b, value...)
	}
	var bad string
	str := func(name, value string) {
		if !utf8.ValidString(value) && bad == "" {
			bad = name
		}
		field(name, phpString(value))
	}
	str("payment_id", n.PaymentID)
	field("receiver_id", []byte(n.ReceiverID))
	str("subject", n.Subject)
	field("amount", amount)
	field("discount", discount)
	str("currency", n.Currency)
	str("receipt_url", n.ReceiptURL)
	str("bank", n.Bank)
	str("bank_id", n.BankID)
	str("payer_name", n.PayerName)
	str("payer_email", n.PayerEmail)
	str("personal_identifier", n.PersonalIdentifier)
	str("bank_account_number", n.BankAccountNumber)
	field("out_of_date_conciliation", strconv.AppendBool(nil, n.OutOfDateConciliation))
	str("transaction_id", n.TransactionID)
	str("responsible_user_email", n.ResponsibleUserEmail)
	str("payment_method", string(n.PaymentMethod))
	field("conciliation_date", date)
	if bad != "" {
		return nil, &khipu.ParamError{Param: bad, Reason: "is not valid UTF-8"}
	}
	return append([]byte{'{'}, append(b, '}')...), nil
}

// notificationDate is how Khipu writes a notification's dates: UTC with
// milliseconds.
const notificationDate = "2006-01-02T15:04:05.000Z"

// canonicalNumber reports whether s is a JSON number Khipu could send as a
// receiver id: decimal digits, without a leading zero unless it is "0".
func canonicalNumber(s string) bool {
	if s == "" || len(s) > 1 && s[0] == '0' {
		return false
	}
	return strings.Trim(s, "0123456789") == ""
}

// fourDecimals is a as a JSON string with four decimals, "1000.0000", as
// Khipu writes the amounts of a notification.
func fourDecimals(param string, a khipu.Amount) ([]byte, error) {
	if !a.IsValid() {
		return nil, &khipu.ParamError{Param: param, Reason: "is out of range"}
	}
	if a.Compare(khipu.Amount{}) < 0 {
		return nil, &khipu.ParamError{Param: param, Reason: "must not be negative"}
	}
	whole, frac, _ := strings.Cut(a.String(), ".")
	return []byte(`"` + whole + "." + frac + strings.Repeat("0", 4-len(frac)) + `"`), nil
}

// phpString is s as a JSON string written by PHP's json_encode with its
// default flags: '/' as "\/", every character outside ASCII as \uXXXX (a
// surrogate pair above U+FFFF), the characters JSON must escape as
// encoding/json escapes them, and <, > and & as they are.
func phpString(s string) []byte {
	var plain strings.Builder
	enc := json.NewEncoder(&plain)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	quoted := strings.TrimSuffix(plain.String(), "\n")
	out := make([]byte, 0, len(quoted)+8)
	for _, r := range quoted {
		switch {
		case r == '/':
			out = append(out, '\\', '/')
		case r < utf8.RuneSelf:
			out = append(out, byte(r))
		default:
			for _, u := range utf16.AppendRune(nil, r) {
				out = fmt.Appendf(out, `\u%04x`, u)
			}
		}
	}
	return out
}
