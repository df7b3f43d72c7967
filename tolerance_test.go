package khipu_test

// Khipu's JSON as Khipu sends it: one odd field never blocks a payment or a
// notification, while what a shop decides on stays strict.

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/khipu-go/khipu"
)

// oddPayment is a done payment whose other fields have the odd types and
// forms seen in Khipu's answers and its clients' models: numbers and
// booleans as strings and the reverse, a list as "", dates without a zone,
// enums in upper case, an amount with a float artifact.
const oddPayment = `{
  "payment_id": "gqzdy6chjne9",
  "receiver_id": 12345,
  "amount": 19.989999999999998,
  "currency": "CLP",
  "status": "done",
  "status_detail": "NORMAL",
  "transaction_id": "order-1",
  "out_of_date_conciliation": 0,
  "ready_for_terminal": "false",
  "send_email": "1",
  "send_reminders": 1,
  "attachment_urls": "",
  "conciliation_date": "2026-11-25T10:00:00",
  "expires_date": "2026-11-26 10:00:00.5",
  "payment_method": "SIMPLIFIED_TRANSFER",
  "funds_source": "NOT-AVAILABLE",
  "subject": 1037,
  "bank_id": null,
  "bank": false,
  "discount": "n/a",
  "notification_token": ["x"],
  "custom": {"cart": [1, 2]},
  "picture_url": 0.5
}`

func TestOneOddFieldNeverBlocksAPayment(t *testing.T) {
	mux, c, base := setup(t)
	serve(t, mux, base, 200, "application/json", []byte(oddPayment))
	p, err := c.Payments.Get(context.Background(), "gqzdy6chjne9")
	require.NoError(t, err)

	// What a shop decides on is there, exact.
	assert.Equal(t, "gqzdy6chjne9", p.PaymentID)
	assert.Equal(t, testReceiverID, p.ReceiverID)
	assert.Equal(t, khipu.MustParseAmount("19.99"), p.Amount, "19.989999999999998 rounded half to even to 4 decimals")
	assert.Equal(t, "CLP", p.Currency)
	assert.Equal(t, khipu.StatusDone, p.Status)
	assert.Equal(t, "order-1", p.TransactionID)
	assert.NoError(t, p.Check("order-1", khipu.MustParseAmount("19.99"), "CLP"), "the payment can be delivered")

	// The rest is read where it can be, and zero where it cannot.
	assert.False(t, p.OutOfDateConciliation, "0")
	assert.False(t, p.ReadyForTerminal, `"false"`)
	assert.True(t, p.SendEmail, `"1"`)
	assert.True(t, p.SendReminders, "1")
	assert.Empty(t, p.AttachmentURLs, `""`)
	assert.Equal(t, khipu.StatusDetailNormal, p.StatusDetail, "enums are read in lower case")
	assert.Equal(t, khipu.PaymentMethodSimplifiedTransfer, p.PaymentMethod)
	assert.Equal(t, "not-available", p.FundsSource)
	assert.Equal(t, "1037", p.Subject, "a number where a string was expected keeps its text")
	assert.Equal(t, "0.5", p.PictureURL)
	assert.Empty(t, p.BankID)
	assert.Empty(t, p.Bank)
	assert.True(t, p.Discount.IsZero(), `"n/a"`)
	assert.Empty(t, p.NotificationToken)
	assert.Empty(t, p.Custom)

	// A date without a zone is UTC.
	assert.Equal(t, time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC), p.ConciliationDate)
	assert.Same(t, time.UTC, p.ConciliationDate.Location())
	assert.Equal(t, time.Date(2026, 11, 26, 10, 0, 0, 5e8, time.UTC), p.ExpiresDate)
}

func TestAnAmountWithMoreThanFourDecimalsIsRoundedHalfToEven(t *testing.T) {
	for in, want := range map[string]string{
		`19.989999999999998`:   "19.99",
		`"19.989999999999998"`: "19.99",
		`1000.00005`:           "1000",      // a tie goes to the even 1000.0000
		`1000.00015`:           "1000.0002", // and to the even 1000.0002
		`1000.000050001`:       "1000.0001", // past the tie: up
		`0.00004999`:           "0",
		`9.99995`:              "10",
		`"350.0000"`:           "350",
	} {
		var p khipu.Payment
		require.NoError(t, json.Unmarshal([]byte(`{"payment_id":"p1","amount":`+in+`,"discount":`+in+`}`), &p), in)
		assert.Equal(t, khipu.MustParseAmount(want), p.Amount, "amount %s", in)
		assert.Equal(t, khipu.MustParseAmount(want), p.Discount, "discount %s", in)
	}
}

// goNames matches what encoding/json puts in its errors and a user of the
// library must never read: Go's names for the types behind the JSON
// ("Go struct field .plain.status of type string", "khipu.Amount").
var goNames = regexp.MustCompile(`Go struct field|Go value|\.plain|\b(khipu|wire|json|rest)\.[A-Z]|RawMessage|of type`)

func TestWhatAShopDecidesOnIsStrictAndItsErrorsNameTheJSON(t *testing.T) {
	for _, tc := range []struct {
		field, value string
	}{
		{"payment_id", `123`},
		{"payment_id", `["gqzdy6chjne9"]`},
		{"status", `1`},
		{"status", `{"done": true}`},
		{"amount", `"1,000"`},
		{"amount", `-5`},
		{"amount", `true`},
		{"amount", `1e3`},
		{"currency", `["CLP"]`},
		{"transaction_id", `{"id": 1}`},
		{"transaction_id", `false`},
		{"receiver_id", `true`},
		{"receiver_id", `12.5`},
	} {
		t.Run(tc.field+"="+tc.value, func(t *testing.T) {
			body := strings.Replace(notifyPayment("12345", "done", "order-1", "1000", "CLP"), `"`+tc.field+`":`, `"`+tc.field+`":`+tc.value+`,"was":`, 1)
			require.Contains(t, body, tc.value)
			mux, c, base := setup(t)
			serve(t, mux, base, 200, "application/json", []byte(body))
			p, err := c.Payments.Get(context.Background(), "gqzdy6chjne9")
			assert.Nil(t, p)
			var ue *khipu.UnexpectedResponseError
			require.ErrorAs(t, err, &ue)
			assert.Contains(t, err.Error(), "field "+tc.field, "the error names the field")
			assert.NotRegexp(t, goNames, err.Error())
		})
	}
}

func TestDecodingErrorsOfEveryModelNameTheJSONNotGo(t *testing.T) {
	cases := []struct {
		name string
		body string
		call func(c *khipu.Client) error
		want string
	}{
		{"banks not a list", `{"banks":"none"}`, func(c *khipu.Client) error {
			_, err := c.Banks.List(context.Background())
			return err
		}, "field banks: JSON string where a list was expected"},
		{"a bank not an object", `{"banks":[1]}`, func(c *khipu.Client) error {
			_, err := c.Banks.List(context.Background())
			return err
		}, "JSON number where an object was expected"},
		{"payment methods not a list", `{"paymentMethods":{"id":"x"}}`, func(c *khipu.Client) error {
			_, err := c.PaymentMethods.List(context.Background(), "985101")
			return err
		}, "field paymentMethods: JSON object where a list was expected"},
		{"created payment id a number", `{"payment_id":42,"payment_url":"https://khipu.com/payment/info/x"}`, func(c *khipu.Client) error {
			_, err := c.Payments.Create(context.Background(), &khipu.PaymentCreateParams{Subject: "x", Currency: "CLP", Amount: khipu.NewAmount(1)})
			return err
		}, "field payment_id"},
		{"receiver id a boolean", `{"receiver_id":true,"secret":"s3cr3t"}`, func(c *khipu.Client) error {
			_, err := c.Receivers.Create(context.Background(), receiverParams())
			return err
		}, "field receiver_id: wrong JSON type: a boolean where a string or a whole number was expected"},
		{"secret a number", `{"receiver_id":4242,"secret":123456}`, func(c *khipu.Client) error {
			_, err := c.Receivers.Create(context.Background(), receiverParams())
			return err
		}, "field secret: not a JSON string"},
		{"a payment that is a list", `[{"payment_id":"x"}]`, func(c *khipu.Client) error {
			_, err := c.Payments.Get(context.Background(), "gqzdy6chjne9")
			return err
		}, "where an object was expected"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			mux, c, base := setup(t)
			serve(t, mux, base, 200, "application/json", []byte(tc.body))
			err := tc.call(c)
			var ue *khipu.UnexpectedResponseError
			require.ErrorAs(t, err, &ue)
			assert.Contains(t, err.Error(), tc.want)
			assert.NotRegexp(t, goNames, err.Error())
		})
	}

	// A Success's message, a bank's or a method's fields of an odd type
	// are tolerated.
	mux, c, base := setup(t)
	serve(t, mux, base, 200, "application/json", []byte(`{"message":{"es":"ok"},"banks":[{"bank_id":1,"name":null,"min_amount":"n/a","logo_url":[]}],"paymentMethods":[{"id":7,"name":true}]}`))
	ok, err := c.Payments.Confirm(context.Background(), "gqzdy6chjne9")
	require.NoError(t, err)
	assert.Empty(t, ok.Message)
	banks, err := c.Banks.List(context.Background())
	require.NoError(t, err)
	assert.Equal(t, []khipu.Bank{{BankID: "1"}}, banks)
	methods, err := c.PaymentMethods.List(context.Background(), "985101")
	require.NoError(t, err)
	assert.Equal(t, []khipu.PaymentMethod{{ID: "7"}}, methods)
}

func TestANotificationWithOddFieldsIsDelivered(t *testing.T) {
	c, lookups := notifyKhipu(t, map[string]string{"tok-odd": oddPayment})
	var (
		mu        sync.Mutex
		delivered []*khipu.Payment
	)
	srv := httptest.NewServer(c.NotificationHandler(func(ctx context.Context, p *khipu.Payment) error {
		if err := p.Check("order-1", khipu.MustParseAmount("19.99"), "CLP"); err != nil {
			return err
		}
		mu.Lock()
		defer mu.Unlock()
		delivered = append(delivered, p)
		return nil
	}))
	defer srv.Close()

	resp, err := http.Post(srv.URL, "application/x-www-form-urlencoded", strings.NewReader("api_version=1.3&notification_token=tok-odd"))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode, "not a 503 that Khipu would retry for ever")
	assert.EqualValues(t, 1, lookups.Load())
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, delivered, 1, "the shop's function ran")
	assert.Equal(t, "gqzdy6chjne9", delivered[0].PaymentID)
	assert.Equal(t, khipu.StatusDetailNormal, delivered[0].StatusDetail)
}

func TestAnAmountTooLargeForAnAmountFailsTheCall(t *testing.T) {
	body := strings.Replace(notifyPayment("12345", "done", "order-1", "1000", "CLP"), `"amount":1000`, `"amount":"99999999999999999999.5"`, 1)
	mux, c, base := setup(t)
	serve(t, mux, base, 200, "application/json", []byte(body))
	_, err := c.Payments.Get(context.Background(), "gqzdy6chjne9")
	var ue *khipu.UnexpectedResponseError
	require.ErrorAs(t, err, &ue)
	assert.Contains(t, err.Error(), "field amount: khipu: invalid amount")
	assert.Contains(t, err.Error(), "too large")
}

func TestBanksAndPaymentMethodsDecodedByHandReadAsTheClientReadsThem(t *testing.T) {
	mux, c, base := setup(t)
	serve(t, mux, base, 200, "application/json", fixture(t, "banks.json"))
	listed, err := c.Banks.List(context.Background())
	require.NoError(t, err)
	var byHand struct {
		Banks []khipu.Bank `json:"banks"`
	}
	require.NoError(t, json.Unmarshal(fixture(t, "banks.json"), &byHand))
	assert.Equal(t, listed, byHand.Banks)

	var bank khipu.Bank
	require.NoError(t, json.Unmarshal([]byte(`{"bank_id":1,"min_amount":"200.0000","parent":null}`), &bank))
	assert.Equal(t, khipu.Bank{BankID: "1", MinAmount: khipu.NewAmount(200)}, bank)
	for _, notAnObject := range []string{`[]`, `"SDdR"`, `1`} {
		assert.Error(t, json.Unmarshal([]byte(notAnObject), &bank), notAnObject)
		var m khipu.PaymentMethod
		assert.Error(t, json.Unmarshal([]byte(notAnObject), &m), notAnObject)
	}
}

func TestAnAnswerWithoutBanksIsNoBanks(t *testing.T) {
	for _, body := range []string{`{}`, `{"banks":null}`, `{"banks":"none here"}`} {
		mux, c, base := setup(t)
		serve(t, mux, base, 200, "application/json", []byte(body))
		banks, err := c.Banks.List(context.Background())
		if body == `{"banks":"none here"}` {
			assert.Error(t, err, "a list of another type is not an empty list")
			continue
		}
		require.NoError(t, err, body)
		assert.Nil(t, banks, body)
	}
}

func TestErrorsThatJoinSeveralProblemsAreOneLine(t *testing.T) {
	p := &khipu.Payment{Status: khipu.StatusPending, StatusDetail: khipu.StatusDetailReversed, TransactionID: "other", Amount: khipu.NewAmount(1), Currency: "USD"}
	err := p.Check("order-1", khipu.NewAmount(1000), "CLP")
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "\n")
	var many interface{ Unwrap() []error }
	require.ErrorAs(t, err, &many)
	assert.Len(t, many.Unwrap(), 5, "status, status_detail, transaction_id, amount, currency")
	var me *khipu.MismatchError
	assert.ErrorAs(t, err, &me, "each difference still opens")

	err = (&khipu.ReceiverCreateParams{}).Validate()
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "\n")
	assert.Equal(t, 15, strings.Count(err.Error(), "is required"), "every required parameter is named")
}
