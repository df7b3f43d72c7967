// The receipt of a paid payment, at its receipt_url.

package khiputest

import (
	"html/template"
	"net/http"
	"time"
)

// receiptPath is where the receipts live. Khipu's are PDF files (CPKH-...
// .pdf); here each is an HTML page, which a test reads with a browser or an
// HTTP client alike.
const receiptPath = "/receipts/"

// receiptURL is the receipt_url of the payment id once it is paid.
func receiptURL(base, id string) string { return base + receiptPath + id }

var receiptPage = template.Must(template.New("receipt").Parse(`<!doctype html>
<meta charset="utf-8">
<title>khiputest: receipt of payment {{.PaymentID}}</title>
<h1>Payment receipt</h1>
<dl>
<dt>Payment</dt><dd id="payment_id">{{.PaymentID}}</dd>
<dt>Subject</dt><dd id="subject">{{.Subject}}</dd>
<dt>Amount</dt><dd id="amount">{{.Amount}} {{.Currency}}</dd>
<dt>Collection account</dt><dd id="receiver_id">{{.ReceiverID}}</dd>
{{if .TransactionID}}<dt>Transaction</dt><dd id="transaction_id">{{.TransactionID}}</dd>
{{end}}<dt>Paid by</dt><dd id="payer">{{.PayerName}}, {{.PersonalIdentifier}}</dd>
<dt>From</dt><dd id="bank">{{.Bank}}, account {{.BankAccountNumber}}</dd>
<dt>Conciliated</dt><dd id="conciliation_date">{{.ConciliationDate}}</dd>
<dt>Status</dt><dd id="status">{{.Status}}</dd>
</dl>
<p><small>This is khiputest, an in-memory Khipu for tests: no money moved.</small></p>
`))

var noReceiptPage = template.Must(template.New("no receipt").Parse(`<!doctype html>
<meta charset="utf-8">
<title>khiputest: no receipt</title>
<h1>No receipt</h1>
<p id="reason">{{.}}</p>
`))

// receiptData is what a receipt shows.
type receiptData struct {
	PaymentID, Subject, Amount, Currency, ReceiverID, TransactionID string
	PayerName, PersonalIdentifier, Bank, BankAccountNumber          string
	ConciliationDate, Status                                        string
}

// receipt serves the receipt of a payment that was paid: one whose
// receipt_url is set, as it is from Pay until SetStatus takes the payment
// back to a state that was not paid. Any other payment, or none, is a 404,
// as its receipt_url is empty.
func (s *Server) receipt(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	s.mu.Lock()
	p := s.payments[id]
	var data receiptData
	reason := "no payment " + id
	if p != nil && !p.deleted {
		v := p.view(s.base, false)
		if v.ReceiptURL == "" {
			reason = "payment " + id + " is " + p.state() + ": only a paid payment has a receipt"
		} else {
			data = receiptData{
				PaymentID: id, Subject: v.Subject, Amount: p.amount.String(), Currency: v.Currency,
				ReceiverID: p.receiver, TransactionID: v.TransactionID,
				PayerName: v.PayerName, PersonalIdentifier: v.PersonalIdentifier,
				Bank: v.Bank, BankAccountNumber: v.BankAccountNumber,
				ConciliationDate: p.conciliation.Format(time.RFC3339), Status: p.state(),
			}
		}
	}
	s.mu.Unlock()
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if data.PaymentID == "" {
		w.WriteHeader(http.StatusNotFound)
		_ = noReceiptPage.Execute(w, reason)
		return
	}
	_ = receiptPage.Execute(w, data)
}
