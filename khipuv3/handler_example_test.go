package khipuv3_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/khipu-go/khipu"
	"github.com/khipu-go/khipu/khipuv3"
)

// Khipu's documented notification 3.0: the body exactly as sent, `\/`
// escapes included, and its x-khipu-signature header.
func ExampleVerifySignature() {
	secret := "1a4cbbbeb8bdb7e1d73572b9cc43ce4ce18f79d9"
	header := "t=1711965600393,s=GYzpjnXlTKQ+BJY7pZJmrM6DZgWMSJdtOr/dleBKTdg="
	body := []byte(`{"payment_id":"zfxnocsow6mz","receiver_id":990939,"subject":"TEST_COBRO","amount":"1000.0000","discount":"0.0000","currency":"CLP","receipt_url":"https:\/\/s3.amazonaws.com\/staging.notifications.khipu.com\/CPKH-1804240956-zfxnocsow6mz.pdf","bank":"DemoBank","bank_id":"Bawdf","payer_name":"Cobrador de desarrollo #990.939","payer_email":"test@khipu.com","personal_identifier":"44.444.444-4","bank_account_number":"000000000000444444444","out_of_date_conciliation":false,"transaction_id":"15f836bd-e8a7-4d12-b2f1-56403012b555","responsible_user_email":"test@khipu.com","payment_method":"simplified_transfer","conciliation_date":"2024-04-18T13:56:54.859Z"}`)

	// A router that is not net/http: verify the bytes as received, then
	// decode them. (The example was signed in 2024, so "now" is then.)
	now := time.UnixMilli(1711965600393).Add(time.Minute)
	if err := khipuv3.VerifySignature(secret, header, body, now, khipuv3.DefaultTolerance); err != nil {
		log.Fatal(err)
	}
	var n khipuv3.Notification
	if err := json.Unmarshal(body, &n); err != nil {
		log.Fatal(err)
	}
	fmt.Println(n.PaymentID, n.Amount, n.Currency)

	// The same JSON re-encoded without the \/ escapes is not what Khipu signed.
	reencoded := bytes.ReplaceAll(body, []byte(`\/`), []byte(`/`))
	err := khipuv3.VerifySignature(secret, header, reencoded, now, khipuv3.DefaultTolerance)
	fmt.Println(errors.Is(err, khipuv3.ErrSignatureMismatch))
	// Output:
	// zfxnocsow6mz 1000 CLP
	// true
}

// A router that is not net/http has the raw body and the header: one call
// verifies and decodes them.
func ExampleVerifyNotification() {
	secret := "1a4cbbbeb8bdb7e1d73572b9cc43ce4ce18f79d9" // the account's secret ("Llave secreta")
	header := "t=1711965600393,s=GYzpjnXlTKQ+BJY7pZJmrM6DZgWMSJdtOr/dleBKTdg="
	body := []byte(`{"payment_id":"zfxnocsow6mz","receiver_id":990939,"subject":"TEST_COBRO","amount":"1000.0000","discount":"0.0000","currency":"CLP","receipt_url":"https:\/\/s3.amazonaws.com\/staging.notifications.khipu.com\/CPKH-1804240956-zfxnocsow6mz.pdf","bank":"DemoBank","bank_id":"Bawdf","payer_name":"Cobrador de desarrollo #990.939","payer_email":"test@khipu.com","personal_identifier":"44.444.444-4","bank_account_number":"000000000000444444444","out_of_date_conciliation":false,"transaction_id":"15f836bd-e8a7-4d12-b2f1-56403012b555","responsible_user_email":"test@khipu.com","payment_method":"simplified_transfer","conciliation_date":"2024-04-18T13:56:54.859Z"}`)

	// Khipu signed this example in 2024; a live handler passes time.Now().
	signedAt := time.UnixMilli(1711965600393)
	n, err := khipuv3.VerifyNotification(secret, header, body, signedAt.Add(time.Minute))
	if err != nil {
		log.Fatal(err) // a 400 for errors.Is(err, khipuv3.ErrInvalidSignature)
	}
	fmt.Println(n.PaymentID, n.Amount, n.Currency, n.Check("15f836bd-e8a7-4d12-b2f1-56403012b555", khipu.NewAmount(1000), "CLP"))

	// Three days later it is too old: a replay, not a retry.
	_, err = khipuv3.VerifyNotification(secret, header, body, signedAt.Add(73*time.Hour))
	fmt.Println(errors.Is(err, khipuv3.ErrSignatureExpired))
	// Output:
	// zfxnocsow6mz 1000 CLP <nil>
	// true
}

// Sign makes the header Khipu would send, for tests of a shop's own
// notification handler.
func ExampleSign() {
	secret := "test-notification-secret"
	body := []byte(`{"payment_id":"abc123def456","amount":"19.99","currency":"USD","transaction_id":"order-7"}`)
	sent := time.Date(2025, 12, 2, 12, 0, 0, 0, time.UTC)

	header := khipuv3.Sign(secret, sent, body)
	fmt.Println(header)
	fmt.Println(khipuv3.VerifySignature(secret, header, body, sent.Add(time.Minute), time.Hour))
	err := khipuv3.VerifySignature(secret, header, body, sent.Add(2*time.Hour), time.Hour)
	fmt.Println(errors.Is(err, khipuv3.ErrSignatureExpired), errors.Is(err, khipuv3.ErrInvalidSignature))
	// Output:
	// t=1764676800000,s=q7D1zFQcBSxWBlo1y3muBXyg+tNYxIdYRh2FjQikYKg=
	// <nil>
	// true true
}

func ExampleNotificationHandler() {
	secret := "test-account-secret" // in a shop, os.Getenv("KHIPU_SECRET"): the account's "Llave secreta"
	delivered := make(chan string, 1)
	handler := khipuv3.NotificationHandler(secret, func(ctx context.Context, n *khipuv3.Notification) error {
		if n.TransactionID != "order-7" {
			return fmt.Errorf("looking up order %q: database down", n.TransactionID) // 500: Khipu notifies again
		}
		if err := n.Check("order-7", khipu.MustParseAmount("19.99"), "USD"); err != nil {
			// Genuine, but it does not pay the order, and a retry would not
			// change that: record it for a person, then answer 200.
			delivered <- "mismatch recorded: " + err.Error()
			return nil
		}
		delivered <- n.TransactionID + " paid with " + n.PaymentID // mark the order paid, idempotently
		return nil
	}, khipuv3.WithHandlerLogger(slog.New(slog.DiscardHandler))) // your logger here
	shop := httptest.NewServer(handler)
	defer shop.Close()

	notify := func(header string, body []byte) int {
		req, err := http.NewRequest(http.MethodPost, shop.URL, bytes.NewReader(body))
		if err != nil {
			log.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set(khipuv3.SignatureHeader, header)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			log.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}

	body := []byte(`{"payment_id":"abc123def456","amount":"19.9900","currency":"USD","transaction_id":"order-7"}`)
	fmt.Println(notify(khipuv3.Sign(secret, time.Now(), body), body), <-delivered)
	fmt.Println(notify(khipuv3.Sign("forger", time.Now(), body), body))
	less := []byte(`{"payment_id":"abc123def457","amount":"9.99","currency":"USD","transaction_id":"order-7"}`)
	fmt.Println(notify(khipuv3.Sign(secret, time.Now(), less), less), <-delivered)
	other := []byte(`{"payment_id":"abc123def458","amount":"5","currency":"USD","transaction_id":"order-8"}`)
	fmt.Println(notify(khipuv3.Sign(secret, time.Now(), other), other))
	// Output:
	// 200 order-7 paid with abc123def456
	// 400
	// 200 mismatch recorded: khipu: payment amount is "9.99", want "19.99"
	// 500
}
