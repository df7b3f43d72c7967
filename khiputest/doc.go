// Package khiputest is an in-memory Khipu for tests, like net/http/httptest
// for Khipu: a real HTTP server on loopback, started by one call and closed by
// one call, that speaks Khipu's REST API v2 (to a khipu.Client, through
// khipu.WithBaseURL) and its API v3 (to any HTTP client, through V3URL and
// APIKey) on the same port, over one store of payments.
//
// The server checks every request as Khipu does: the v2 Authorization
// signature (403 with Khipu's JSON error when it is wrong) or the v3
// x-api-key header (401 when it is missing or wrong), the parameters (400
// with field errors: required fields, amount format, booleans, dates, URLs,
// and the currencies the account collects in), and who may see what (a
// payment or a merchant of another account is a 403). It accepts what
// Khipu's own official clients send: the PHP client's dates without a colon
// in the offset (2026-12-03T00:55:00+0000) and its booleans as 1 and 0, the
// .NET client's booleans as True and False and its dates without an offset
// (2027-01-15T10:00:00.000), the Ruby client's dates as Ruby writes a Time
// (2026-12-08 12:25:27 +0000), and the dates of Khipu's own examples
// (2023-12-31 15:45:00-04:00). It keeps payments in memory through their
// life — pending, paid (Pay),
// deleted, confirmed, refunded — and answers the notification-token lookup a
// shop makes when Khipu notifies it. Pay plays the payer: it marks a payment
// done and POSTs Khipu's notification to the payment's notify_url.
//
//	srv := khiputest.NewServer("12345", "test-secret")
//	defer srv.Close()
//	client, _ := khipu.NewClient("12345", "test-secret", khipu.WithBaseURL(srv.URL()))
//
// The account is Chilean: it collects in CLP only (WithCurrencies sets
// others) and may refund (WithRefunds(false) makes it an account that
// cannot).
//
// Every payment also has a payment page at its payment_url that shows the
// payment as it is, with a "Pay" button that pays it and sends the browser
// to its return_url while it can be paid, and a link to its cancel_url while
// it is not paid, so that a shop can be tried by hand without a Khipu
// account. A paid payment's receipt_url is a receipt page (404 while the
// payment is not paid, when receipt_url is empty).
//
// # Failure paths
//
// A shop's tests should see what goes wrong at Khipu too:
//
//   - WithAsyncNotifications makes Pay return before the shop is notified,
//     as at Khipu, and retries the notification while the shop answers
//     anything but 2xx; WaitNotified waits for the shop's 2xx. Without it,
//     Pay and Notify deliver once and return the shop's refusal as an error.
//   - SetStatus puts a payment in any status and detail Khipu documents
//     (verifying, rejected-by-payer, marked-as-abuse, reversed...), and
//     Notify sends its notification again as it now is.
//   - FailNext makes the next requests to an endpoint fail with a chosen
//     status (Khipu's JSON error, or a proxy's HTML page), to test a caller's
//     error handling; Requests returns what the server received, to assert
//     what a caller sent, each request with its warnings: what Khipu
//     probably accepts but is likely a mistake (a null or unknown field in a
//     v3 body, an integrator_fee from an account without an integrator).
//     WithStrict refuses those with a 400 instead.
//   - PayWithoutNotifying pays a payment and loses its notification: the
//     payment is done at Khipu and the shop never hears of it, as when a
//     firewall, a wrong notify_url or a shop down longer than Khipu's
//     retries eat it. A shop that asks Khipu about its unpaid orders
//     (Payments.Get) finds it done all the same; Notify sends it late.
//   - WithClock sets the time the server dates payments and notifications
//     by and decides expiry by, so that a test makes a payment expire, or
//     a notification 3.0 carry an old signature time, without sleeping. A
//     payment past its expires_date cannot be paid, and its page says it
//     expired; one made done afterwards with SetStatus (a late transfer)
//     reports out_of_date_conciliation true.
//   - WithLogger logs every notification and callback the shop did not
//     accept, including those sent from a payment or mandate page, which
//     have no caller to return the error to, and every warning.
//
// # Shops in other languages
//
// cmd/khiputest runs this server as a program, with a control API over HTTP
// (ControlHandler) that pays (with or without notifying), notifies, sets
// statuses, fails the next requests and lists them (credentials hidden),
// and moves the server's clock forward (POST /khiputest/clock,
// {"advance": "90m"}), for tests that cannot call Go. WithPublicURL
// makes a Server that the caller serves (ServeHTTP) at an address of its
// own, such as another container's name or a tunnel.
//
// # API v3
//
// Khipu's API v3 is a gateway in front of v2, and so it is here: its paths
// start with /v3 below V3URL (the server's root, so that a v3 client is given
// V3URL as its base URL and sends GET <V3URL>/v3/banks), every request must
// carry the header x-api-key: <APIKey()>, bodies are JSON, and a payment
// created through one API is the same payment through the other. A v3 JSON
// body is checked against the same rules as v2's form, after a check of each
// field's JSON type: amount is a JSON number, send_email and send_reminders
// are JSON booleans, every other field (integrator_fee too) a JSON string.
// A field sent twice is refused, and so is a body that is not a JSON object
// or not sent as application/json. Nothing says Khipu refuses a null
// optional field or a field the endpoint does not define ("receiver_id" in
// the body of POST /v3/payments is a habit from v2): each is taken as left
// out, with a warning on the request (Request.Warnings), or refused with
// WithStrict. The v3 payment rules differ from v2's only where Khipu's v3
// description differs: body may have 5120 characters, integrator_fee 16,
// and psp_client_merchant_name is accepted. A v3 payment with a notify_url
// and no notify_api_version is notified with 3.0.
//
// An account an integrator creates with POST /v3/receivers has an API key of
// its own, which v3's answer carries as api_key (v2's answer has none) and
// which the v3 endpoints accept as acting for that account. GET
// /v3/receivers/children lists the accounts the caller created.
//
// Khipu does not document v3's error bodies. This server answers every v3
// error with the body of v2's errors, {"status": 401, "message": "..."}, with
// "errors": [{"field": "...", "message": "..."}] for a 400 about fields: a
// gateway in front of v2 passes v2's bodies on, and a client that reads
// message (and errors, when present) reads both. A payment that does not
// exist or was deleted is a 404 in v3 (a 400 naming payment_id in v2).
//
// v3 answers are shaped as Khipu's real ones (not as its OpenAPI examples):
// payment amounts and discount are strings with four decimals ("1000.0000"),
// receiver_id is a number, banks' min_amount is a string, dates carry
// milliseconds in UTC ("2025-05-09T18:20:28.000Z"), there is no webpay_url,
// and the JSON is written as PHP's json_encode writes it, with '/' escaped as
// "\/" and non-ASCII characters as \uXXXX (a Content-Length Khipu sent
// suggests its v3 answers are escaped like its notifications).
//
// GET /v3/predict answers deterministically: max_amount_exceeded when the
// amount is above 5,000,000 (the max_amount it reports), ok otherwise, with
// new_destinatary_max_amount 100,000 and a cool_down_date a day after the
// request.
//
// A payment whose notify_api_version is 3.0 is notified as Khipu's
// notifications 3.0 are: a POST of the payment as JSON (payment_id,
// receiver_id, subject, amount, discount, currency, receipt_url, bank,
// bank_id, payer_name, payer_email, personal_identifier,
// bank_account_number, out_of_date_conciliation, transaction_id,
// responsible_user_email, payment_method, conciliation_date, in the order of
// Khipu's example), escaped as above, with the header
// x-khipu-signature: t=<unix ms>,s=<base64 HMAC-SHA256 of t + "." + body>
// under the secret of the payment's collection account, its "Llave secreta",
// the same secret that signs the account's v2 requests (the one given to
// NewServer for payments created with APIKey), as Khipu signs them and its
// own shop plugins verify them. A receiver must verify the
// bytes it received: re-encoding them gives other bytes and a signature that
// does not match.
//
// # Automatic payments
//
// Khipu's Automatic Payments API v1 lives beside v3, below V3URL, with the
// same API key and JSON rules: POST /v1/automatic-payment/subscription asks
// for a debit mandate, GET /v1/automatic-payment/subscription/{id} reports
// it, and POST /v1/automatic-payment/charge-intent charges it. Each
// subscription has a mandate page at its redirect_url
// (<V3URL>/pac-manager/<id>, as Khipu's are) with an "Authorize" button that
// authorizes it and sends the browser to its return_url, and a link to its
// cancel_url.
//
// A subscription starts DISABLED with customer_bank_code "no-bank" (Khipu
// has three statuses, DISABLED, SIGNED and ENABLED, and one nobody has
// signed must be one of them). AuthorizeSubscription plays the customer and
// their bank: the subscription becomes ENABLED, and its status callback,
// {"subscription_id": "...", "status": "enabled"}, is POSTed as JSON to its
// notify_url. DisableSubscription disables it for good (callback
// "disabled"). SignSubscription stops halfway: SIGNED is taken to mean
// signed by the customer but not yet enabled by the bank, and Khipu's
// callbacks report only enabled and disabled, so nothing is sent. Answers
// write the status in upper case and customer_bank_code as a number in a
// string ("8"), as Khipu's example does; callbacks write the status in lower
// case, as Khipu's description does; developer is true, as for Khipu's
// developer accounts. Callbacks are unsigned, as Khipu's are.
//
// A charge of an ENABLED subscription, for at least 1 and at most the
// subscription's max_amount in its currency, makes a pending payment in the
// same store as every other: visible through v2 and v3, paid by Pay and
// notified by its notify_api_version (3.0 unless the charge asks for 1.3 or 1.2).
// FailCharge makes a charge fail instead: its payment stays pending with
// status_detail rejected-by-payer and can no longer be paid, and
// {"subscription_id", "transaction_id", "error_message"} is POSTed as JSON
// to the charge's error_response_url.
//
// Where Khipu's description is silent this server chooses, and a shop should
// not rely on the choice: a charge of a subscription that is not ENABLED, or
// that does not exist, is a 400 naming subscription_id (Khipu may answer
// otherwise); a charge is in the subscription's currency (Khipu says a
// charge is in the currency of the merchant's account); a failed charge's
// payment is pending and rejected-by-payer; a disabled subscription is never
// enabled again.
//
// # What it does differently from Khipu
//
// A test that passes against khiputest proves what it checks, and no more.
// This server differs from Khipu where Khipu is not documented or cannot be
// played in memory:
//
//   - Error messages are its own, in English; the statuses, the error body's
//     shape and the fields named match Khipu's. Test a shop's handling by
//     status and field, not by message.
//   - It is stricter where Khipu's documentation is vague: it refuses an
//     optional parameter sent empty, a v2 parameter the endpoint does not
//     define and one sent twice, which Khipu may ignore (a v3 field that is
//     null or that the endpoint does not define is a warning, refused only
//     with WithStrict). It
//     takes dates in the forms Khipu's clients and examples write: RFC 3339
//     (with T, or with a space as in Khipu's examples), PHP's ISO 8601
//     (+0000), Ruby's Time (2026-12-08 12:25:27 +0000, or UTC), and with no
//     offset, which it reads as Chile's local time (America/Santiago), as
//     .NET's client sends a DateTime of unspecified kind; no date without a
//     time, no other form. Amounts have at most 4 decimals (none in CLP); it
//     does not know the decimals of other currencies, nor minimum or maximum
//     amounts of a payment (banks' min_amount is listed, not enforced).
//   - notify_api_version is 1.2, 1.3 or 3.0 in both APIs (Khipu's v3 is a
//     gateway in front of v2, so v2 takes what v3 passes on); any other is
//     a 400, where Khipu's answer is not documented.
//   - integrator_fee is documented by Khipu as valid only for a collection
//     account that has an integrator: one created with POST /receivers
//     sends it freely; any other gets a warning (a 400 with WithStrict), as
//     whether Khipu refuses or ignores it is not documented. It is checked
//     for form and against the amount, and has no effect: nobody is paid a
//     fee. collect_account_uuid (the account's own bank account to collect
//     into, for an account with more than one) is accepted unchecked and
//     ignored: this server knows no bank accounts.
//   - A refund by an account WithRefunds(false) is a 403; Khipu's answer is
//     not documented.
//   - Nothing happens on its own: a payment is paid only by Pay,
//     PayWithoutNotifying, its page or the control API, never moves to
//     verifying but through SetStatus, stays pending past its expires_date
//     (it just cannot be paid), is never settled (confirm_timeout_date is
//     not enforced) and never leaves the store. Which status goes with which
//     detail is not documented by Khipu: SetStatus takes the plausible
//     pairs it lists.
//   - Time is the server's clock: time.Now, or WithClock's, which the
//     control API's POST /khiputest/clock moves forward, never back. A payment
//     created without expires_date expires 24 hours after its creation by
//     that clock, as one real answer of Khipu's suggests (Khipu does not
//     document its default), and conciliation dates are whole seconds.
//   - out_of_date_conciliation is true when a payment was made done at or
//     after its expires_date, which only SetStatus does (Pay refuses an
//     expired payment): Khipu decides it when it reconciles a late transfer.
//   - A notification is lost only when a test asks (PayWithoutNotifying,
//     or the control API's pay with {"notify": false}), and for good: Khipu
//     would retry it, here only Notify sends it.
//   - Khipu notifies a payment once it is reconciled; here Pay does that, and
//     Notify sends the notification of any payment that is done, whatever
//     its detail, so that a shop's refusal can be tested. Without
//     WithAsyncNotifications a notification is sent once, synchronously;
//     with it, it is retried after 10 ms, doubling up to 1 s, until
//     answered, while Khipu retries on a schedule it does not publish (for
//     up to two days, says its v3 description). A notification 1.2 is
//     1.3's form with api_version=1.2, and notification tokens never
//     expire.
//   - A paid payment always has the same payer: DemoBank, "Test Payer"
//     (unless payer_name was sent), payer@example.com (unless payer_email
//     was sent), 11.111.111-1, account 000012345678, paid by
//     simplified_transfer; its receipt_url is an HTML page (Khipu's is a PDF
//     file) and attachment_urls is empty. No e-mail is sent (send_email,
//     send_reminders).
//   - The banks and payment methods are fixed lists; GET /v3/predict
//     answers from a fixed limit.
//   - The payment page is one page for every method: there is no bank to
//     choose, simplified_transfer_url, transfer_url and webpay_url lead to
//     it, and app_url (khipu:///pos/<id>) opens nothing.
//   - POST /receivers makes an account usable at once, with a random
//     secret and API key, that collects in the same currencies as the
//     server's; its integrator sees its payments. GET
//     /v3/receivers/children lists every such account as enabled and able
//     to collect, named by its business_name, 100 at a time unless max says
//     otherwise (Khipu's default is not documented), sorted by id unless
//     sort says otherwise.
//   - Automatic payments make the choices their section lists. Their status
//     and error callbacks are sent once and waited for, even with
//     WithAsyncNotifications (AuthorizeSubscription, DisableSubscription and
//     FailCharge return the shop's refusal), where Khipu's retries, if any,
//     are not documented.
//   - It speaks plain HTTP, has no rate limits, no latency and no
//     Retry-After, and forgets everything when closed.
//
// A Server is safe for concurrent use.
package khiputest
