// Package khipu is a client for Khipu's REST API v2 (https://khipu.com), the
// Chilean bank-transfer payment service: a shop creates a payment, sends the
// payer to Khipu, and Khipu tells the shop's server when the money has
// arrived.
//
// The package is small and exact: money is an [Amount] (fixed point, never a
// float), every request is signed as Khipu's official clients sign it, every
// failure is a typed error, and payments are never sent twice by a retry.
//
// It is also the shared vocabulary of package
// [github.com/khipu-go/khipu/khipuv3], the client of Khipu's current API v3,
// its signed notifications 3.0 and its automatic payments: [Amount],
// [Payment], the statuses and the error types are the same in both. A new
// integration should start with khipuv3 (its package documentation says what
// differs).
//
// # Creating a client
//
// A collection account has a numeric receiver id and a secret. Create one
// [Client] per account and share it; it is safe for concurrent use and
// reuses connections:
//
//	client, err := khipu.NewClient(os.Getenv("KHIPU_RECEIVER_ID"), os.Getenv("KHIPU_SECRET"))
//
// Options: [WithHTTPClient] (default: an http.Client with a 30 s timeout),
// [WithBaseURL] (a [github.com/khipu-go/khipu/khiputest] server; an outbound
// proxy goes on the transport, see WithBaseURL),
// [WithUserAgent], [WithRetry] and [WithLogger].
//
// # Creating a payment
//
//	created, err := client.Payments.Create(ctx, &khipu.PaymentCreateParams{
//		Subject:       "Order 1001",
//		Currency:      "CLP",
//		Amount:        khipu.NewAmount(5000),
//		TransactionID: "1001",
//		ReturnURL:     "https://shop.example/orders/1001",
//		NotifyURL:     "https://shop.example/khipu/notify",
//	})
//	// redirect the payer to created.PaymentURL
//
// Amounts with decimals come from [ParseAmount] ("19.99"); it refuses
// thousands separators, exponents, signs and a fifth decimal. Parameters are
// checked before anything is sent: a missing subject, a zero amount or an
// unsafe payment id is a [*ParamError] and no request reaches Khipu.
//
// # Handling the notification
//
// The payer coming back to ReturnURL proves nothing: the return page must say
// the payment is being verified. Khipu POSTs a notification to NotifyURL when
// the money has arrived. [Client.NotificationHandler] answers it: it parses
// the notification, looks the payment up with Khipu (so a forged token fails),
// refuses a payment of another receiver ([ErrReceiverMismatch]), and calls your
// function with the verified [Payment]. Your function checks it against the
// order with [Payment.Check] — status done, transaction id, amount and
// currency — and delivers, idempotently, because Khipu may notify more than
// once:
//
//	http.Handle("POST /khipu/notify", client.NotificationHandler(func(ctx context.Context, p *khipu.Payment) error {
//		order, err := orders.Find(ctx, p.TransactionID)
//		if err != nil {
//			return err // 500: Khipu retries later
//		}
//		if err := p.Check(order.ID, order.Amount, "CLP"); err != nil {
//			// A retry would not change the payment: record it for a
//			// person to look at, and answer 200 by returning nil.
//			return orders.RecordMismatch(ctx, order.ID, p.PaymentID, err)
//		}
//		return orders.MarkPaidOnce(ctx, order.ID, p.PaymentID)
//	}))
//
// Every error your function returns, a [*MismatchError] included, answers
// 500 and is logged (see [WithHandlerLogger]), so that Khipu notifies again:
// a mismatch the shop failed to record is never lost.
//
// [ParseNotification] and [Client.VerifyNotification] are the pieces of the
// handler, for frameworks that are not net/http.
//
// # Errors
//
// Every error can be opened with errors.As:
//
//   - [*ValidationError]: Khipu refused the parameters (HTTP 400); Errors
//     lists the fields at fault.
//   - [*AuthorizationError]: a wrong receiver id or secret, or another
//     account's resource (HTTP 401 or 403).
//   - [*NotFoundError]: HTTP 404 with Khipu's JSON error.
//   - [*ServiceError]: Khipu could not serve the request (HTTP 503 or another
//     5xx with Khipu's JSON error).
//   - [*UnexpectedResponseError]: anything that is not Khipu's JSON — a
//     proxy's HTML page, an empty or truncated body, a body over 1 MiB. It
//     keeps the status and the first bytes of the body.
//   - [*ParamError] and [*AmountError]: refused before sending.
//   - [*MismatchError]: from [Payment.Check], one per difference.
//
// Each of the first five also opens as an [*APIError], with the status,
// Khipu's message and the first KiB of the body, so that one check can log
// any answer of Khipu's. Error() is always one line: control characters in
// Khipu's text are escaped. An answer that shows the client is pointed at
// the wrong address (a v2 client at API v3's, a page that is not Khipu's
// API) gives an error that ends with the base URL to use;
// [DecodeResponse] maps answers to these errors for calls of your own.
//
// A call whose context is cancelled or expires before Khipu's answer has
// arrived comes back wrapping ctx.Err(), so errors.Is(err,
// context.DeadlineExceeded) holds. An answer that did arrive is returned as
// it is, even if the context ended just after: a *ValidationError then says
// for certain that the payment was not created.
//
// # Retries and timeouts
//
// Only reads (GET) are retried: by default twice, on a 502, 503 or 504 or a
// transport error, with exponential backoff and jitter, honouring
// Retry-After, and stopping as soon as the context ends ([WithRetry] changes
// the policy). Creating, deleting, confirming and refunding are never retried:
// Khipu API v2 has no idempotency keys, so a retry could charge, refund or
// confirm twice, and API v2 cannot look a payment up by its TransactionID.
// When Create fails on the network, creating the payment again only leaves a
// spare, unpaid payment if delivery is tied to the payment id stored for the
// order (as examples/webshop does); Delete a spare whose id you learn. Before
// retrying Refund or Confirm, Get the payment and read its status detail.
//
// A whole call, retries included, never outlasts the context's deadline; each
// attempt is also bounded by the http.Client's timeout (30 s by default).
//
// # Testing with khiputest
//
// Package [github.com/khipu-go/khipu/khiputest] is an in-memory Khipu on
// loopback, like net/http/httptest: it checks signatures and parameters as
// Khipu does, keeps payments through their life, and its Pay method pays a
// payment and POSTs the notification to its notify_url. Point a Client at it
// with WithBaseURL(server.URL()).
//
// # Security
//
// The secret is used only as the HMAC key. It never appears in an error, a log
// record, or the printed form (%v, %+v, %#v) of any value of this package,
// [ReceiverCreated] included. [WithLogger] records method, path, status,
// duration, attempt and Khipu's message — never the Authorization header,
// parameters, notification tokens or e-mail addresses. Response bodies are
// read up to 1 MiB and always closed. Payment and merchant ids are checked so
// that nothing but letters, digits, '-' and '_' reaches a URL path.
package khipu
