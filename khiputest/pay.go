package khiputest

import (
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"time"

	"github.com/khipu-go/khipu/internal/sign"
)

// Pay plays the payer and Khipu: it marks the pending (or verifying)
// payment paymentID as done, as Khipu does once the transfer is reconciled,
// and then POSTs Khipu's notification to the payment's notify_url, waiting
// up to 30 s for the answer, as Khipu does. The notification is the one of
// the payment's notify_api_version: for 1.2 and 1.3, the form
// api_version=1.3&notification_token=... (1.2 when it asked for 1.2); for
// 3.0, the payment as signed JSON (see the package documentation).
//
// It fails when there is no such payment or it is neither pending nor
// verifying (already paid, deleted, refused by the payer, or past its
// expires_date), and when the notification could not be delivered or was
// answered with anything but a 2xx status; in that last case the payment
// stays paid, as it does at Khipu, which would notify again later (Notify
// does that).
//
// With WithAsyncNotifications, Pay returns once the payment is paid, and
// the notification follows, retried until the shop answers 2xx: a nil error
// then says nothing of the notification (WaitNotified waits for it).
func (s *Server) Pay(paymentID string) error {
	if err := s.PayWithoutNotifying(paymentID); err != nil {
		return err
	}
	return s.Notify(paymentID)
}

// PayWithoutNotifying is Pay with the notification lost: the payment is
// done at Khipu, as Pay leaves it, and the shop never hears of it (a
// firewall, a mistake in notify_url, a shop down longer than Khipu's
// retries). It is how a test shows that a shop which asks Khipu about its
// unpaid orders finds the payment done all the same. Notify sends the
// notification afterwards, should the test want it to arrive late.
//
// It fails as Pay does when the payment cannot be paid.
func (s *Server) PayWithoutNotifying(paymentID string) error {
	if err := s.closed(); err != nil {
		return err
	}
	s.mu.Lock()
	p := s.payments[paymentID]
	switch {
	case p == nil:
		s.mu.Unlock()
		return fmt.Errorf("khiputest: no payment %q", paymentID)
	case p.deleted:
		s.mu.Unlock()
		return fmt.Errorf("khiputest: payment %s was deleted", paymentID)
	case p.status == statusVerifying: // the transfer is being verified: Pay completes it
	case p.status != statusPending:
		s.mu.Unlock()
		return fmt.Errorf("khiputest: payment %s is %s, not pending", paymentID, p.state())
	case p.statusDetail != detailPending: // refused by the payer (SetStatus), or a charge that failed (FailCharge)
		s.mu.Unlock()
		return fmt.Errorf("khiputest: payment %s is %s and can no longer be paid", paymentID, p.statusDetail)
	case p.expired(s.now()):
		s.mu.Unlock()
		return fmt.Errorf("khiputest: payment %s expired at %s", paymentID, p.expires.Format(time.RFC3339))
	}
	p.status, p.statusDetail = statusDone, detailNormal
	p.conciliate(s.now())
	s.mu.Unlock()
	return nil
}

// Notify POSTs Khipu's notification of the payment paymentID to its
// notify_url again, as Khipu does when a shop did not answer the first one,
// or sends it twice: the payment as it is now (after SetStatus too), and for
// 3.0 signed anew with the time of sending. It fails like Pay when the
// notification is not delivered, and when the payment is not done: Khipu
// notifies a payment once it is done, whatever its status detail. A payment
// without a notify_url is not notified, and Notify returns nil.
//
// With WithAsyncNotifications, Notify returns at once and the notification
// is delivered as Pay's is, replacing one still being retried.
func (s *Server) Notify(paymentID string) error {
	s.mu.Lock()
	if err := s.closed(); err != nil {
		s.mu.Unlock()
		return err
	}
	p := s.payments[paymentID]
	if p == nil || p.deleted || p.status != statusDone {
		s.mu.Unlock()
		return fmt.Errorf("khiputest: payment %q is not done: Khipu notifies only payments that are done", paymentID)
	}
	if !p.params.Has("notify_url") {
		s.mu.Unlock()
		return nil
	}
	d := s.startDelivery(p)
	if s.async {
		s.wg.Add(1) // under s.mu, before Close can wait: see Close
		s.mu.Unlock()
		go s.retry(d)
		return nil
	}
	s.mu.Unlock()
	return s.attempt(d)
}

// accepted reports whether status says a notification or callback was
// accepted: Khipu takes any 2xx.
func accepted(status int) bool { return status >= 200 && status <= 299 }

// notification is p's notification as Khipu sends it now, body and
// headers: a notification 3.0 is signed with the secret of the account the
// payment belongs to, at the time of sending. s.mu must be held.
func (s *Server) notification(p *payment) ([]byte, http.Header) {
	version := p.notifyVersion()
	if version != "3.0" {
		form := url.Values{"api_version": {version}, "notification_token": {p.token}}
		return []byte(form.Encode()), http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
	}
	body := p.view(s.base, true).notification3()
	ms := s.now().UnixMilli()
	return body, http.Header{
		"Content-Type": {jsonType},
		// Not canonicalised (a literal keeps the name as given): it goes out
		// in lower case, as Khipu writes it.
		"x-khipu-signature": {fmt.Sprintf("t=%d,s=%s", ms, sign.Webhook(s.accounts[p.receiver].secret, ms, body))},
	}
}

// closed is an error, wrapping context.Canceled, once Close was called:
// a closed server pays and notifies nothing.
func (s *Server) closed() error {
	if err := s.ctx.Err(); err != nil {
		return fmt.Errorf("khiputest: the server is closed: %w", err)
	}
	return nil
}

// NotificationError is a notification that was not delivered: the shop's
// notify_url could not be reached (Err), or answered with a status other
// than 2xx. Khipu would notify again later.
type NotificationError struct {
	PaymentID  string
	URL        string // the payment's notify_url
	StatusCode int    // 0 when no answer arrived
	Body       string // the start of the shop's answer
	Err        error  // why no answer arrived
}

// Error says which payment's notification failed, where, and how.
func (e *NotificationError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("khiputest: notifying payment %s to %s: %v", e.PaymentID, e.URL, e.Err)
	}
	return fmt.Sprintf("khiputest: the notification of payment %s to %s was answered %d: %.200q", e.PaymentID, e.URL, e.StatusCode, e.Body)
}

// Unwrap returns why no answer arrived, if that is what happened.
func (e *NotificationError) Unwrap() error { return e.Err }

var paymentPage = template.Must(template.New("payment").Parse(`<!doctype html>
<meta charset="utf-8">
<title>khiputest: {{.Subject}}</title>
<h1>{{.Subject}}</h1>
<p>{{.Amount}} {{.Currency}} — payment {{.ID}} is <strong>{{.State}}</strong>.</p>
{{if .Payable}}<form method="post"><button>Pay with DemoBank</button></form>
{{end}}{{if .Pending}}{{if .CancelURL}}<p><a href="{{.CancelURL}}">Cancel and go back to the shop</a></p>
{{end}}{{else if .ReturnURL}}<p><a href="{{.ReturnURL}}">Back to the shop</a></p>
{{end}}<p><small>This is khiputest, an in-memory Khipu for tests: no money moves.</small></p>
`))

// pageData is what a payment page shows.
type pageData struct {
	ID, Subject, Amount, Currency string
	State                         string // "pending", "verifying", "done (reversed)", "expired since ..."
	Pending                       bool   // not paid: the payer may still cancel
	Payable                       bool   // pending, not refused and not expired: the payer may pay
	ReturnURL, CancelURL          string
}

// paymentPage is the page at a payment's payment_url: what the payer sees
// at Khipu, the payment as it is now, with a button that pays while it can
// be paid and a link back to the shop's cancel_url while it is not paid.
func (s *Server) paymentPage(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	p := s.payments[r.PathValue("id")]
	var data pageData
	if p != nil && !p.deleted {
		expired := p.expired(s.now())
		data = pageData{
			ID: p.id, Subject: p.params.Get("subject"), Amount: p.amount.String(), Currency: p.params.Get("currency"),
			State: p.state(), Pending: p.status == statusPending,
			Payable:   p.status == statusPending && p.statusDetail == detailPending && !expired,
			ReturnURL: p.params.Get("return_url"), CancelURL: p.params.Get("cancel_url"),
		}
		if expired {
			data.State = "expired since " + p.expires.Format(time.RFC3339)
		}
	}
	s.mu.Unlock()
	if data.ID == "" {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = paymentPage.Execute(w, data)
}

// payFromPage is the page's Pay button: it pays and sends the payer back to
// the shop's return_url (or to the payment page, when there is none). A
// notification the shop did not accept does not stop the payer, as Khipu
// would notify again later; there is no caller to return it to, and only
// the server's logger (WithLogger) hears of it.
func (s *Server) payFromPage(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	err := s.Pay(id)
	var ne *NotificationError
	if err != nil && !errors.As(err, &ne) {
		http.Error(w, err.Error(), http.StatusConflict)
		return
	}
	s.mu.Lock()
	back := s.payments[id].params.Get("return_url")
	s.mu.Unlock()
	if back == "" {
		back = r.URL.Path
	}
	http.Redirect(w, r, back, http.StatusSeeOther)
}
