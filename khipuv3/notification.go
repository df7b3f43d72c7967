// Notifications 3.0: the model of the signed JSON payment Khipu POSTs to a
// payment's notify_url, its decoding, its comparison with the order it
// should pay, and MarshalNotification, which writes one byte for byte as
// Khipu does, for tests of handlers.

package khipuv3

import (
	"cmp"
	"encoding/json"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/khipu-go/khipu"
	"github.com/khipu-go/khipu/internal/phpjson"
	"github.com/khipu-go/khipu/internal/wire"
)

// Notification is a verified notification 3.0: the payment Khipu POSTed to
// notify_url, returned by VerifyNotification and ParseNotification and
// passed on by NotificationHandler only after its signature has been
// checked. Decoded with json.Unmarshal it is verified only if
// VerifySignature accepted the same bytes first.
//
// Khipu sends notifications 3.0 only for payments it has reconciled, so
// there is no status: the money has arrived. Before delivering anything,
// compare the notification with the order with Check.
//
// A Notification is decoded by Payment's code, and its fields are Payment's
// fields of the same names: strict for payment_id, amount, currency,
// transaction_id and receiver_id (an odd type is an error), lenient for the
// rest (an odd value is the zero value); enums are read in lower case;
// amounts are strings or numbers. A body without a payment_id is refused.
type Notification struct {
	PaymentID             string
	ReceiverID            string // Khipu sends a number
	Subject               string
	Amount                khipu.Amount
	Discount              khipu.Amount
	Currency              string
	ReceiptURL            string
	Bank                  string
	BankID                string
	PayerName             string
	PayerEmail            string
	PersonalIdentifier    string
	BankAccountNumber     string
	OutOfDateConciliation bool
	TransactionID         string
	ResponsibleUserEmail  string
	PaymentMethod         khipu.PaymentMethodID
	ConciliationDate      time.Time

	// Raw is the body exactly as received and verified, for the fields
	// this version does not know. (json.Unmarshal leaves out the
	// whitespace around the object; VerifyNotification and
	// ParseNotification do not.)
	Raw json.RawMessage

	// Notifications 3.0 carry no status; should one ever do, Check
	// refuses any but a done payment.
	status       khipu.PaymentStatus
	statusDetail khipu.StatusDetail
}

// notificationFields pairs each exported field of Notification but Raw with
// the field of Payment of the same name and type, by index: a notification
// is decoded as a Payment and keeps those fields, so that a field added to
// both reaches both through Payment's decoding. A field of Notification
// that Payment lacks panics here, when the package is initialised, and so
// fails every test.
var notificationFields = fieldPairs(reflect.TypeFor[Notification](), reflect.TypeFor[Payment](), "Raw")

// fieldPairs returns, for each exported field of dst not in skip, its index
// and the index of the field of src with the same name and type.
func fieldPairs(dst, src reflect.Type, skip ...string) [][2]int {
	var pairs [][2]int
	for i := range dst.NumField() {
		f := dst.Field(i)
		if !f.IsExported() || slices.Contains(skip, f.Name) {
			continue
		}
		sf, ok := src.FieldByName(f.Name)
		if !ok || sf.Type != f.Type || len(sf.Index) != 1 {
			panic("khipuv3: " + src.Name() + " has no field " + f.Name + " of type " + f.Type.String() + " for " + dst.Name())
		}
		pairs = append(pairs, [2]int{i, sf.Index[0]})
	}
	return pairs
}

// UnmarshalJSON decodes a notification's body as a Payment (see
// Notification) and keeps a copy of data in Raw. A body that is not a JSON
// object, or has no payment_id, is an error. json.Unmarshal passes it the
// object without the whitespace around it (a trailing newline, say), so
// keep the bytes VerifySignature checked if they are needed exactly.
func (n *Notification) UnmarshalJSON(data []byte) error {
	var p Payment
	if err := p.UnmarshalJSON(data); err != nil {
		return err // a payment without its payment_id included
	}
	*n = Notification{Raw: p.Raw, status: p.Status, statusDetail: p.StatusDetail}
	dst, src := reflect.ValueOf(n).Elem(), reflect.ValueOf(&p).Elem()
	for _, pair := range notificationFields {
		dst.Field(pair[0]).Set(src.Field(pair[1]))
	}
	return nil
}

// Check returns nil only when n's transaction id, amount and currency all
// match the merchant's order (the currency compared without regard to case;
// an empty expected currency never matches); otherwise an error, one
// *khipu.MismatchError per difference joined, says what differs.
//
// Khipu sends notifications 3.0 only for reconciled payments, so they carry
// no status and Check compares none. Should a notification ever carry one,
// Check also refuses it unless it is done with status_detail normal,
// marked-paid-by-receiver or none, as Payment.Check does: the rules are
// the same.
//
// A notification that does not match its order will not match it when
// Khipu sends it again: record it for a person to look at and return nil
// from NotificationHandler's function.
func (n *Notification) Check(transactionID string, amount khipu.Amount, currency string) error {
	if n == nil {
		return &khipu.MismatchError{Field: "notification", Want: "a notification", Got: "nil"}
	}
	// A notification is a payment that is done unless it says otherwise.
	return check(cmp.Or(n.status, khipu.StatusDone), n.statusDetail, n.TransactionID, n.Amount, n.Currency,
		transactionID, amount, currency)
}

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
		field(name, phpjson.String(value))
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

// canonicalNumber reports whether s is the one text of a whole number
// that Khipu writes, as a receiver id or a signature's t: decimal digits,
// without a leading zero unless it is "0".
func canonicalNumber(s string) bool {
	return wire.Digits(s) && (s[0] != '0' || len(s) == 1)
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
