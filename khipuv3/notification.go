// Notifications 3.0: the model of the signed JSON payment Khipu POSTs to a
// payment's notify_url, and its comparison with the order it should pay.

package khipuv3

import (
	"cmp"
	"encoding/json"
	"reflect"
	"slices"
	"time"

	"github.com/khipu-go/khipu"
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
