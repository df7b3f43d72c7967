// Package khipuv3 is a client for Khipu's current API, v3 ("API de Pagos
// Instantáneos", https://payment-api.khipu.com/v3), for its signed
// notifications 3.0, and for its Automatic Payments API v1 (subscriptions
// and charges).
//
// It is the sibling of package khipu, the API v2 client, and shares its
// vocabulary: money is a [khipu.Amount] (fixed point, never a float),
// statuses are [khipu.PaymentStatus] and [khipu.StatusDetail], and every
// failure is one of khipu's typed errors. Its models and parameters
// ([Payment], [PaymentCreateParams], ...) are its own, with only API v3's
// fields, decoded by the same code as package khipu's. Both clients send their requests
// through the same pipeline: reads are retried with backoff, nothing that
// creates, refunds or charges is ever sent twice by a retry, bodies are read
// with a cap, and the API key never appears in an error, a log record or a
// printed value.
//
// # API v2 or v3?
//
// v2 signs every request with the account's secret (HMAC) and notifies a
// shop with a token that the shop must exchange for the payment (a second
// call to Khipu). v3 authenticates with an API key header and notifies with
// the payment itself, signed with an HMAC in the x-khipu-signature header:
// no call back to Khipu, but the signature must be checked on the raw body.
// v3 also predicts whether a payer can pay ([PaymentsService.Predict]), and
// shares its host and key with automatic payments. Khipu presents v3 as its
// current API: a new integration should start here.
//
// # Creating a client and a payment
//
//	client, err := khipuv3.NewClient(os.Getenv("KHIPU_API_KEY"))
//	created, err := client.Payments.Create(ctx, &khipuv3.PaymentCreateParams{
//		Subject:       "Order 1001",
//		Currency:      "CLP",
//		Amount:        khipu.NewAmount(5000),
//		TransactionID: "1001",
//		ReturnURL:     "https://shop.example/orders/1001",
//		NotifyURL:     "https://shop.example/khipu/notify",
//	})
//	// redirect the payer to created.PaymentURL
//
// Parameters are checked before anything is sent (a [*khipu.ParamError]),
// a CLP amount with decimals included: in Chile a dot groups thousands, so
// "$12.990" is khipu.NewAmount(12990), never khipu.ParseAmount("12.990").
// With a NotifyURL, the payment is notified with notifications 3.0, which
// this package verifies; any other notify_api_version is refused.
//
// # Notifications 3.0
//
// Khipu POSTs the payment as JSON with a header
// x-khipu-signature: t=<milliseconds>,s=<base64 HMAC-SHA256 of t + "." +
// body>. The HMAC's key is the collection account's secret: the "Llave
// secreta" shown beside the receiver id in the account's options, the same
// secret that signs API v2 requests (Khipu's own shop plugins verify with
// it), never the API key. [NotificationHandler] verifies it over the raw
// bytes received (never over re-encoded JSON), in constant time, within a
// timestamp tolerance ([DefaultTolerance], 72 h, because Khipu retries for
// two days), decodes the [Notification] and calls your function, one
// delivery per payment at a time:
//
//	http.Handle("POST /khipu/notify", khipuv3.NotificationHandler(os.Getenv("KHIPU_SECRET"),
//		func(ctx context.Context, n *khipuv3.Notification) error {
//			order, err := orders.Find(ctx, n.TransactionID)
//			if err != nil {
//				return err // 500: Khipu notifies again later
//			}
//			if err := n.Check(order.ID, order.Amount, "CLP"); err != nil {
//				// A retry would not change the payment: record it for a
//				// person to look at, and answer 200 by returning nil.
//				return orders.RecordMismatch(ctx, order.ID, n.PaymentID, err)
//			}
//			return orders.MarkPaidOnce(ctx, order.ID, n.PaymentID)
//		}))
//
// Every error your function returns, a [*khipu.MismatchError] included,
// answers 500 and is logged, so that Khipu notifies again: record what
// needs a person and return nil. [VerifyNotification] verifies and decodes
// from the raw body and header in one call, for routers that are not
// net/http (Fiber, AWS Lambda); [ParseNotification] does it from an
// *http.Request; [VerifySignature] is the signature check alone. [Sign]
// makes the header Khipu would send, for your own handler's tests.
//
// # Automatic payments
//
// [SubscriptionsService.Create] asks for a debit mandate and gives the URL
// where the customer signs it with their bank; Khipu then POSTs the new
// status to the subscription's notify_url, unsigned, so
// [SubscriptionsService.CallbackHandler] confirms it with
// [SubscriptionsService.Get] before your function sees it, one callback of
// a subscription at a time, with a bound on the lookups a flood of forged
// callbacks could cause.
// [ChargesService.Create] charges an enabled mandate: the charge is a
// payment, notified like any other; a failed charge is reported, unsigned,
// to its error URL ([ChargesService.ErrorHandler]).
//
// # Testing
//
// Package [github.com/khipu-go/khipu/khiputest] serves API v3 too: point a
// client at it with WithBaseURL(srv.V3URL()) and the key srv.APIKey(); its
// Pay sends a notification 3.0 signed with the secret given to
// khiputest.NewServer, which your handler verifies with. It serves automatic payments as well:
// a mandate page at each subscription's RedirectURL, AuthorizeSubscription
// and DisableSubscription to send the status callback, charges that Pay
// settles, and FailCharge to send the charge error callback.
package khipuv3
