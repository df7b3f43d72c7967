package main

import (
	"bytes"
	"cmp"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/khipu-go/khipu"
	"github.com/khipu-go/khipu/khipuv3"
)

// maxBody caps a body read from stdin: Khipu's notifications are under
// 1 KiB, and khipuv3 reads at most 1 MiB.
const maxBody = 1 << 20

// notifySecret is the secret notifications 3.0 are signed with, the
// account's "Llave secreta": -secret, else KHIPU_SECRET, as for API v2.
func (c *cli) notifySecret(flagValue string) (string, error) {
	secret := cmp.Or(flagValue, c.getenv("KHIPU_SECRET"))
	c.secrets = append(c.secrets, secret)
	if strings.TrimSpace(secret) == "" {
		return "", usageErrorf("set KHIPU_SECRET (or -secret) to the account's secret, the \"Llave secreta\" that signs notifications 3.0")
	}
	return secret, nil
}

// readBody reads the body to sign or verify from stdin, exactly: no
// newline is added or removed.
func (c *cli) readBody(name string) ([]byte, error) {
	if f, ok := c.stdin.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			return nil, usageErrorf("%s reads the body from stdin: pipe it in, e.g. printf '%%s' \"$BODY\" | khipu %s (echo adds a newline, which changes the signature)", name, name)
		}
	}
	body, err := io.ReadAll(io.LimitReader(c.stdin, maxBody+1))
	if err != nil {
		return nil, fmt.Errorf("reading the body from stdin: %w", err)
	}
	if len(body) > maxBody {
		return nil, usageErrorf("%s: the body on stdin is larger than %d bytes (khipuv3 refuses it)", name, maxBody)
	}
	return body, nil
}

// millisFlag is a time given as Unix milliseconds, as the header's t.
type millisFlag struct {
	t   time.Time
	set bool
}

func (f *millisFlag) String() string {
	if f == nil || !f.set {
		return ""
	}
	return strconv.FormatInt(f.t.UnixMilli(), 10)
}

func (f *millisFlag) Set(s string) error {
	ms, err := strconv.ParseInt(s, 10, 64)
	if err != nil || ms < 0 || strings.TrimLeft(s, "0123456789") != "" {
		return errors.New("want Unix time in milliseconds, e.g. 1711965600393")
	}
	f.t, f.set = time.UnixMilli(ms), true
	return nil
}

func (f *millisFlag) or(now time.Time) time.Time {
	if f.set {
		return f.t
	}
	return now
}

func runNotifySign(c *cli, name string, args []string) error {
	fs := c.newFlags(name, "< BODY", `
Prints the value of the x-khipu-signature header Khipu would send with the
body read from stdin: "t=<milliseconds>,s=<base64 HMAC-SHA256 of t.body>",
nothing else. The body is signed exactly as read: use printf '%s' rather
than echo, which adds a newline.`,
		`printf '%s' '{"payment_id":"abc"}' | khipu notify sign -t 1711965600393`)
	secretFlag := fs.String("secret", "", "the account's secret, the \"Llave secreta\" (default $KHIPU_SECRET)")
	var at millisFlag
	fs.Var(&at, "t", "sign at this time, Unix `milliseconds`, e.g. 1711965600393 (default now)")
	if _, err := c.parse(fs, args, 0, 0); err != nil {
		return err
	}
	secret, err := c.notifySecret(*secretFlag)
	if err != nil {
		return err
	}
	body, err := c.readBody(name)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(c.stdout, khipuv3.Sign(secret, at.or(time.Now()), body))
	return err
}

// signatureProblems say, for each kind of refusal, what usually causes it.
var signatureProblems = []struct {
	err        error
	kind, hint string
}{
	{khipuv3.ErrSignatureMissing, "missing", "there is no x-khipu-signature value: pass it with -header"},
	{khipuv3.ErrSignatureMalformed, "malformed", `the header is not "t=<Unix milliseconds>,s=<base64 HMAC-SHA256>"`},
	{khipuv3.ErrSignatureExpired, "expired", "the signature is right, but it was made longer ago (or further ahead) than the tolerance: an old notification sent again, or a wrong clock"},
	{khipuv3.ErrSignatureMismatch, "mismatch", `the body is not what was signed with this secret: it changed on the way (JSON decoded and encoded again, "\/" unescaped, a newline added by echo), or the secret is not the account's`},
}

func runNotifyVerify(c *cli, name string, args []string) error {
	fs := c.newFlags(name, "< BODY", `
Checks a notification 3.0 the way khipuv3 does: the body read from stdin,
exactly as received, against the x-khipu-signature value given with
-header, under the account's secret, and its time against -tolerance; then
decodes it with khipuv3.VerifyNotification. It prints "signature: valid"
and the notification, or "signature: refused" with the kind of refusal
(missing, malformed, expired or mismatch: khipuv3's ErrSignatureMissing,
ErrSignatureMalformed, ErrSignatureExpired and ErrSignatureMismatch) and
what usually causes it, and exits 1; a valid signature of a body that is
no notification 3.0 is refused too, with khipuv3's reason.`,
		`printf '%s' "$BODY" | khipu notify verify -header "t=1711965600393,s=GYzpjnXlTKQ+BJY7pZJmrM6DZgWMSJdtOr/dleBKTdg=" -now 1711965600393`)
	secretFlag := fs.String("secret", "", "the account's secret, the \"Llave secreta\" (default $KHIPU_SECRET)")
	header := fs.String("header", "", "the x-khipu-signature value received, e.g. t=1711965600393,s=GYzp...=")
	var now millisFlag
	fs.Var(&now, "now", "check the time against this one, Unix `milliseconds`, e.g. 1711965600393 (default now)")
	tolerance := fs.Duration("tolerance", khipuv3.DefaultTolerance, "how far the signature's time may lie from -now, e.g. 5m")
	if _, err := c.parse(fs, args, 0, 0); err != nil {
		return err
	}
	if *tolerance <= 0 {
		return usageErrorf("%s: -tolerance must be more than 0: the time of a signature is always checked", fs.Name())
	}
	secret, err := c.notifySecret(*secretFlag)
	if err != nil {
		return err
	}
	body, err := c.readBody(name)
	if err != nil {
		return err
	}
	at := now.or(time.Now())
	var s summary
	if err := khipuv3.VerifySignature(secret, *header, body, at, *tolerance); err != nil {
		kind, hint := "invalid", ""
		for _, p := range signatureProblems {
			if errors.Is(err, p.err) {
				kind, hint = p.kind, p.hint
				break
			}
		}
		s.always("signature", "refused: "+kind)
		s.always("error", c.redact(err.Error()))
		s.add("why", hint)
		if werr := s.write(c.stdout); werr != nil {
			return werr
		}
		return errReported
	}
	s.always("signature", "valid")
	signedAt := at
	if ms, ok := headerMillis(*header); ok { // it is: VerifySignature took its one t
		signedAt = time.UnixMilli(ms)
		s.always("signed_at", signedAt.UTC().Format(time.RFC3339Nano)+" (t="+strconv.FormatInt(ms, 10)+")")
	}
	// The body is decoded by khipuv3.VerifyNotification, as khipuv3's
	// handler decodes it, with its errors. It checks the time against
	// DefaultTolerance, which -tolerance may differ from: so it is asked
	// at the time of the signature, which VerifySignature has just checked
	// against -now and -tolerance.
	n, err := khipuv3.VerifyNotification(secret, *header, body, signedAt)
	if err != nil {
		s.always("body", "refused: "+c.redact(err.Error()))
		if werr := s.write(c.stdout); werr != nil {
			return werr
		}
		return errReported
	}
	notificationSummary(&s, n)
	return s.write(c.stdout)
}

// headerMillis is the t of a well-formed header.
func headerMillis(header string) (int64, bool) {
	for _, part := range strings.Split(header, ",") {
		if k, v, ok := strings.Cut(part, "="); ok && strings.TrimSpace(k) == "t" {
			ms, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			return ms, err == nil
		}
	}
	return 0, false
}

// notificationSummary adds a notification's fields to s.
func notificationSummary(s *summary, n *khipuv3.Notification) {
	s.always("payment_id", n.PaymentID)
	s.add("receiver_id", n.ReceiverID)
	s.always("amount", money(n.Amount, n.Currency))
	if !n.Discount.IsZero() {
		s.add("discount", money(n.Discount, n.Currency))
	}
	s.add("transaction_id", n.TransactionID)
	s.add("subject", n.Subject)
	s.add("payer_name", n.PayerName)
	s.add("payer_email", n.PayerEmail)
	s.add("bank", n.Bank)
	s.add("payment_method", string(n.PaymentMethod))
	s.add("conciliation_date", formatTime(n.ConciliationDate))
}

// sendFlags are the fields of the notification notify send builds, one
// flag per field of Khipu's body, named after its JSON name.
type sendFlags struct {
	strings                 map[string]*string
	amount, discount        amountFlag
	conciliationDate        timeFlag
	outOfDateConciliation   bool
	receiverID              string
	to, paymentFrom         string
	replay, stale, bad, raw bool
	timeout                 time.Duration
}

// sendDefaults are the values of a notification notify send makes up, from
// Khipu's documented example (a DemoBank payment of a developer account);
// the subject has an accent and the receipt URL slashes, so that the body
// carries Khipu's \u and \/ escapes.
var sendDefaults = []struct{ name, value, usage string }{
	{"payment-id", "", "the payment's id (default: a new random one, or -payment's)"},
	{"subject", "Notificación de prueba", "what was paid for"},
	{"currency", "CLP", "ISO-4217 code"},
	{"receipt-url", "", "the receipt's URL (default: one in Khipu's form)"},
	{"bank", "DemoBank", "the payer's bank"},
	{"bank-id", "Bawdf", "the payer's bank id"},
	{"payer-name", "Cobrador de desarrollo #990.939", "the payer's name"},
	{"payer-email", "test@khipu.com", "the payer's e-mail"},
	{"personal-identifier", "44.444.444-4", "the payer's RUT"},
	{"bank-account-number", "000000000000444444444", "the payer's account"},
	{"transaction-id", "", "your order's id, as the payment was created with, e.g. order-42"},
	{"responsible-user-email", "test@khipu.com", "the account's responsible user"},
	{"payment-method", "simplified_transfer", "how it was paid: simplified_transfer, regular_transfer, ..."},
}

func runNotifySend(c *cli, name string, args []string) error {
	fs := c.newFlags(name, "", `
Builds a realistic notification 3.0 (Khipu's fields in Khipu's order,
amounts as "1000.0000", receiver_id a number, "/" escaped as "\/"), signs it
with the account's secret as Khipu does, POSTs it to -to with the
x-khipu-signature header, and prints the endpoint's answer and how long it
took. The fields come from the flags below, from the payment -payment
(fetched with payments get, so with the API flags), or from Khipu's
documented example. Exit status 0 when the endpoint answered 2xx, 1
otherwise.

Three flags each show the endpoint a notification it must handle; the exit
status is then 0 when the endpoint did what it should:
  -bad-signature  signs with another secret: a forged notification. The
                  endpoint must refuse it (4xx, as khipuv3's 400).
  -stale          signs it as if 4 days ago, beyond khipuv3.DefaultTolerance
                  (72h): an old notification sent again by someone who kept
                  it. The endpoint must refuse it (4xx).
  -replay         sends the same bytes and header twice. Khipu itself sends a
                  notification again when the answer was lost or not 2xx, so
                  an endpoint must accept every genuine copy (khipuv3's
                  handler answers 200 again) and deliver an order once per
                  payment_id, whatever the number of copies.`,
		"khipu notify send -to http://127.0.0.1:8080/khipu/notify -amount 12990 -transaction-id order-1")
	var f sendFlags
	f.strings = make(map[string]*string)
	fs.StringVar(&f.to, "to", "", "the endpoint's URL, e.g. http://127.0.0.1:8080/khipu/notify (required)")
	secretFlag := fs.String("secret", "", "the account's secret, the \"Llave secreta\" (default $KHIPU_SECRET)")
	fs.StringVar(&f.paymentFrom, "payment", "", "take the fields from this payment, fetched from Khipu (flags given still win)")
	fs.BoolVar(&f.bad, "bad-signature", false, "sign with a wrong secret: the endpoint must refuse it")
	fs.BoolVar(&f.stale, "stale", false, "sign 4 days ago, older than khipuv3.DefaultTolerance: the endpoint must refuse it")
	fs.BoolVar(&f.replay, "replay", false, "send the same notification twice: the endpoint must accept both and deliver once")
	fs.BoolVar(&f.raw, "v", false, "also print the header and body sent")
	fs.DurationVar(&f.timeout, "timeout", 30*time.Second, "how long to wait for the answer (Khipu waits 30s)")
	for _, d := range sendDefaults {
		usage := d.usage
		if d.value != "" {
			usage += fmt.Sprintf(" (default %q)", d.value)
		}
		f.strings[d.name] = fs.String(d.name, "", usage)
	}
	fs.StringVar(&f.receiverID, "receiver-id", "", "the collection account's id, e.g. 990939 (default $KHIPU_RECEIVER_ID, else 990939)")
	fs.Var(&f.amount, "amount", "the `amount` paid, e.g. 12990 (default 1000)")
	fs.Var(&f.discount, "discount", "the discount, an `amount`, e.g. 0")
	fs.Var(&f.conciliationDate, "conciliation-date", "when the payment was reconciled, an RFC 3339 `date` (default now)")
	fs.BoolVar(&f.outOfDateConciliation, "out-of-date-conciliation", false, "the payment was reconciled late")
	var a apiFlags
	fs.StringVar(&a.api, "api", "v3", "with -payment: Khipu's API, v3 (KHIPU_API_KEY) or v2 (KHIPU_RECEIVER_ID and KHIPU_SECRET)")
	fs.StringVar(&a.baseURL, "base-url", "", "with -payment: the API's base URL (default $KHIPU_BASE_URL, else Khipu's)")
	fs.StringVar(&a.apiKey, "api-key", "", "with -payment: the API key of API v3 (default $KHIPU_API_KEY)")
	if _, err := c.parse(fs, args, 0, 0); err != nil {
		return err
	}
	set := map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	if n := countTrue(f.bad, f.stale, f.replay); n > 1 {
		return usageErrorf("%s: one of -bad-signature, -stale and -replay at a time", fs.Name())
	}
	if f.to == "" {
		return usageErrorf("%s: -to is required: the URL of your notification endpoint", fs.Name())
	}
	if u, err := url.Parse(f.to); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return usageErrorf("%s: -to %q: want an http or https URL, e.g. http://127.0.0.1:8080/khipu/notify", fs.Name(), f.to)
	}
	if f.timeout <= 0 {
		return usageErrorf("%s: -timeout must be more than 0", fs.Name())
	}
	secret, err := c.notifySecret(*secretFlag)
	if err != nil {
		return err
	}
	a.secret = secret // API v2, for -payment: the same secret
	a.receiverID = f.receiverID
	n, note, err := c.buildNotification(&f, &a, set)
	if err != nil {
		return err
	}
	body, err := khipuv3.MarshalNotification(n)
	if err != nil {
		return err
	}
	return c.send(&f, secret, n, note, body)
}

func countTrue(bs ...bool) int {
	n := 0
	for _, b := range bs {
		if b {
			n++
		}
	}
	return n
}

// buildNotification is the notification notify send sends: the flags
// given, else the payment -payment, else the defaults. note says what was
// made up, for a payment that is not paid.
func (c *cli) buildNotification(f *sendFlags, a *apiFlags, set map[string]bool) (*khipuv3.Notification, string, error) {
	now := time.Now()
	value := func(name string) string { return *f.strings[name] }
	var n *khipuv3.Notification
	note := ""
	paid := false // a payment that is done: its fields are Khipu's, empty ones included
	if f.paymentFrom != "" {
		cn, err := c.connect(a)
		if err != nil {
			return nil, "", err
		}
		p, err := c.getPayment(cn, f.paymentFrom)
		if err != nil {
			return nil, "", err
		}
		n = &khipuv3.Notification{
			PaymentID: p.PaymentID, ReceiverID: p.ReceiverID, Subject: p.Subject, Amount: p.Amount,
			Discount: p.Discount, Currency: p.Currency, ReceiptURL: p.ReceiptURL, Bank: p.Bank, BankID: p.BankID,
			PayerName: p.PayerName, PayerEmail: p.PayerEmail, PersonalIdentifier: p.PersonalIdentifier,
			BankAccountNumber: p.BankAccountNumber, OutOfDateConciliation: p.OutOfDateConciliation,
			TransactionID: p.TransactionID, ResponsibleUserEmail: p.ResponsibleUserEmail,
			PaymentMethod: p.PaymentMethod, ConciliationDate: p.ConciliationDate,
		}
		paid = p.Status == khipu.StatusDone
		if !paid {
			note = fmt.Sprintf("payment %s is %s at Khipu, which notifies only payments that are done: sent as if paid now by DemoBank's developer payer", p.PaymentID, p.Status)
		}
	} else {
		n = &khipuv3.Notification{
			ReceiverID: cmp.Or(f.receiverID, c.getenv("KHIPU_RECEIVER_ID"), "990939"),
			Amount:     khipu.NewAmount(1000),
		}
	}
	// The defaults fill in what neither a flag nor a paid payment gave:
	// the payer and bank of a payment not paid yet, or of a made-up one.
	fill := func(field *string, name string) {
		if set[name] {
			*field = value(name)
			return
		}
		if *field == "" && !paid {
			for _, d := range sendDefaults {
				if d.name == name {
					*field = d.value
				}
			}
		}
	}
	fill(&n.PaymentID, "payment-id")
	if n.PaymentID == "" {
		n.PaymentID = randomID()
	}
	fill(&n.Subject, "subject")
	fill(&n.Currency, "currency")
	fill(&n.Bank, "bank")
	fill(&n.BankID, "bank-id")
	fill(&n.PayerName, "payer-name")
	fill(&n.PayerEmail, "payer-email")
	fill(&n.PersonalIdentifier, "personal-identifier")
	fill(&n.BankAccountNumber, "bank-account-number")
	fill(&n.TransactionID, "transaction-id")
	fill(&n.ResponsibleUserEmail, "responsible-user-email")
	method := string(n.PaymentMethod)
	if method == string(khipu.PaymentMethodNotAvailable) {
		method = "" // a payment not paid yet
	}
	fill(&method, "payment-method")
	n.PaymentMethod = khipu.PaymentMethodID(method)
	if set["receiver-id"] {
		n.ReceiverID = f.receiverID
	}
	if f.amount.set {
		n.Amount = f.amount.a
	}
	if f.discount.set {
		n.Discount = f.discount.a
	}
	if set["conciliation-date"] {
		n.ConciliationDate = f.conciliationDate.t
	} else if n.ConciliationDate.IsZero() {
		n.ConciliationDate = now
	}
	if set["out-of-date-conciliation"] {
		n.OutOfDateConciliation = f.outOfDateConciliation
	}
	fill(&n.ReceiptURL, "receipt-url")
	if n.ReceiptURL == "" {
		n.ReceiptURL = "https://s3.amazonaws.com/notifications.khipu.com/CPKH-" +
			n.ConciliationDate.UTC().Format("0201061504") + "-" + n.PaymentID + ".pdf"
	}
	return n, note, nil
}

// randomID is a payment id in Khipu's form: 12 lower-case letters and
// digits.
func randomID() string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, 12)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

// staleAge is how old -stale signs: a day beyond khipuv3.DefaultTolerance.
const staleAge = khipuv3.DefaultTolerance + 24*time.Hour

// answer is how an endpoint answered one POST.
type answer struct {
	status  int
	text    string // "200 OK"
	body    string
	elapsed time.Duration
	where   string // a redirect's Location
}

// send signs and POSTs body as -bad-signature, -stale and -replay ask, and
// prints what the endpoint answered.
func (c *cli) send(f *sendFlags, secret string, n *khipuv3.Notification, note string, body []byte) error {
	signedAt := time.Now()
	signingSecret := secret
	if f.stale {
		signedAt = signedAt.Add(-staleAge)
	}
	if f.bad {
		signingSecret = "not-the-account-secret-" + secret
	}
	header := khipuv3.Sign(signingSecret, signedAt, body)
	client := &http.Client{
		Timeout: f.timeout,
		// Khipu does not follow a redirect: a notify_url that redirects is
		// misconfigured, and following it would turn the POST into a GET.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}

	var s summary
	s.always("to", f.to)
	s.add("note", note)
	s.always("payment_id", n.PaymentID)
	s.add("transaction_id", n.TransactionID)
	s.always("amount", money(n.Amount, n.Currency))
	signed := signedAt.UTC().Format("2006-01-02T15:04:05.000Z") + " (t=" + strconv.FormatInt(signedAt.UnixMilli(), 10) + ")"
	switch {
	case f.stale:
		signed += fmt.Sprintf(", %v ago: older than khipuv3.DefaultTolerance (%v)", staleAge, khipuv3.DefaultTolerance)
	case f.bad:
		signed += ", with a wrong secret (-bad-signature)"
	}
	s.always("signed_at", signed)
	if f.raw {
		s.always(khipuv3.SignatureHeader, header)
		s.always("body", string(body))
	}

	first, err := c.post(client, f.to, header, body)
	if err != nil {
		_ = s.write(c.stdout)
		return err
	}
	first.add(&s, "answer")
	var result string
	ok := false
	accepted := first.status >= 200 && first.status <= 299
	refused := first.status >= 400 && first.status <= 499
	switch {
	case f.replay:
		if !accepted {
			result = "not accepted the first time, so the replay shows nothing: fix the first answer first"
			break
		}
		again, err := c.post(client, f.to, header, body)
		if err != nil {
			_ = s.write(c.stdout)
			return err
		}
		again.add(&s, "replay_answer")
		if again.status >= 200 && again.status <= 299 {
			ok = true
			result = "accepted twice, as it should be: Khipu sends a notification again when an answer is lost or not 2xx, " +
				"so every genuine copy must be accepted; make sure the order was delivered once, per payment_id " + n.PaymentID
		} else {
			result = fmt.Sprintf("the copy was answered %s: Khipu sends a notification again when an answer is lost or not 2xx, "+
				"and an endpoint that refuses the copy of a payment it already took can lose a payment whose first answer was lost; "+
				"answer 2xx to every genuine copy and deliver once per payment_id", again.text)
		}
	case f.stale || f.bad:
		what := "a notification signed with a wrong secret"
		if f.stale {
			what = "a notification signed " + staleAge.String() + " ago"
		}
		switch {
		case refused:
			ok = true
			result = "refused, as it should be: " + what + " must not be taken as a payment"
		case accepted:
			result = "ACCEPTED " + what + ": the endpoint must verify x-khipu-signature on the raw body, and its time (khipuv3 does both)"
		default:
			result = "answered " + first.text + " to " + what + ": refuse it with a 4xx (khipuv3 answers 400); Khipu would send a 5xx one again"
		}
	case accepted:
		ok = true
		result = "accepted: the endpoint answered 2xx"
	case first.status >= 300 && first.status <= 399:
		result = "not accepted: Khipu does not follow redirects; make notify_url the final URL"
	case refused:
		result = "refused: Khipu would send the notification again later; if the endpoint says the signature is wrong, " +
			"is it verifying with the account's secret, the one given here, and on the body exactly as received?"
	default:
		result = "not accepted: Khipu would send the notification again later"
	}
	s.always("result", result)
	if err := s.write(c.stdout); err != nil {
		return err
	}
	if !ok {
		return errReported
	}
	return nil
}

// post sends one notification and reads the start of the answer.
func (c *cli) post(client *http.Client, to, header string, body []byte) (*answer, error) {
	req, err := http.NewRequestWithContext(c.ctx, http.MethodPost, to, bytes.NewReader(body))
	if err != nil {
		return nil, usageErrorf("-to %q: %v", to, err) // runNotifySend checked it
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", userAgent+"/"+khipu.Version)
	// Not canonicalised: it goes out in lower case, as Khipu writes it.
	req.Header[khipuv3.SignatureHeader] = []string{header}
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("POST %s: %w", to, err)
	}
	defer resp.Body.Close()
	text, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	return &answer{
		status: resp.StatusCode, text: strings.TrimSpace(strconv.Itoa(resp.StatusCode) + " " + http.StatusText(resp.StatusCode)),
		body: strings.TrimSpace(string(text)), elapsed: time.Since(start), where: resp.Header.Get("Location"),
	}, nil
}

// add adds the answer to s as key and key_body.
func (a *answer) add(s *summary, key string) {
	s.always(key, a.text+" in "+a.elapsed.Round(100*time.Microsecond).String())
	body := a.body
	if body == "" {
		body = "(empty)"
	}
	s.always(key+"_body", body)
	s.add(key+"_location", a.where)
}
