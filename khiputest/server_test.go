package khiputest_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/khipu-go/khipu"
	"github.com/khipu-go/khipu/internal/sign"
	"github.com/khipu-go/khipu/khiputest"
)

const (
	receiverID = "12345"
	secret     = "test-secret"
)

func newServer(t *testing.T) (*khiputest.Server, *khipu.Client) {
	t.Helper()
	srv := khiputest.NewServer(receiverID, secret)
	t.Cleanup(srv.Close)
	return srv, newClient(t, srv, receiverID, secret)
}

func newClient(t *testing.T, srv *khiputest.Server, id, key string) *khipu.Client {
	t.Helper()
	c, err := khipu.NewClient(id, key, khipu.WithBaseURL(srv.URL()), khipu.WithRetry(khipu.RetryPolicy{}))
	require.NoError(t, err)
	return c
}

// khipuError is Khipu's JSON error body.
type khipuError struct {
	Status  int    `json:"status"`
	Message string `json:"message"`
	Errors  []struct {
		Field   string `json:"field"`
		Message string `json:"message"`
	} `json:"errors"`
}

func (e khipuError) fields() []string {
	var out []string
	for _, f := range e.Errors {
		out = append(out, f.Field)
	}
	return out
}

// rawCall sends a request signed with key for receiver id, bypassing the
// client's own checks, and returns the status and the decoded error body.
func rawCall(t *testing.T, srv *khiputest.Server, id, key, method, path string, params url.Values) (int, khipuError) {
	t.Helper()
	full := srv.URL() + path
	var body io.Reader
	target := full
	if method == http.MethodPost {
		body = strings.NewReader(params.Encode())
	} else if len(params) > 0 {
		target += "?" + params.Encode()
	}
	req, err := http.NewRequest(method, target, body)
	require.NoError(t, err)
	req.Header.Set("Authorization", sign.New(id, key).Authorization(method, full, params))
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var ke khipuError
	if resp.StatusCode != http.StatusOK {
		require.Equal(t, "application/json", resp.Header.Get("Content-Type"))
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&ke))
		assert.Equal(t, resp.StatusCode, ke.Status, "the body repeats the status")
	}
	return resp.StatusCode, ke
}

// validCreate is a create-payment form Khipu accepts.
func validCreate() url.Values {
	return url.Values{"subject": {"Order 1"}, "currency": {"CLP"}, "amount": {"1000"}}
}

func TestSignaturesAreCheckedAsKhipuDoes(t *testing.T) {
	srv, _ := newServer(t)
	tests := []struct {
		name   string
		header func(full string) string
	}{
		{"a request signed with another secret", func(full string) string {
			return sign.New(receiverID, "wrong").Authorization("GET", full, nil)
		}},
		{"a request for an unknown receiver", func(full string) string {
			return sign.New("999", secret).Authorization("GET", full, nil)
		}},
		{"a request signed for another method", func(full string) string {
			return sign.New(receiverID, secret).Authorization("POST", full, nil)
		}},
		{"a request signed for another URL", func(full string) string {
			return sign.New(receiverID, secret).Authorization("GET", full+"x", nil)
		}},
		{"a request signed with parameters it does not carry", func(full string) string {
			return sign.New(receiverID, secret).Authorization("GET", full, url.Values{"a": {"1"}})
		}},
		{"a request without a signature", func(string) string { return "" }},
		{"a signature with upper-case hex", func(full string) string {
			return strings.ToUpper(sign.New(receiverID, secret).Authorization("GET", full, nil))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name+" gets a 403", func(t *testing.T) {
			full := srv.URL() + "/banks"
			req, err := http.NewRequest(http.MethodGet, full, nil)
			require.NoError(t, err)
			req.Header.Set("Authorization", tt.header(full))
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			assert.Equal(t, http.StatusForbidden, resp.StatusCode)
			var ke khipuError
			require.NoError(t, json.NewDecoder(resp.Body).Decode(&ke))
			assert.Equal(t, 403, ke.Status)
			assert.NotEmpty(t, ke.Message)
		})
	}

	t.Run("a request signed for the address a proxy was given gets a 403", func(t *testing.T) {
		// Khipu checks a signature against its own address: a client
		// pointed at a proxy signs the proxy's URL, which Khipu refuses,
		// whatever Host header the proxy passes on.
		proxied := "http://proxy.example" + khiputest.APIPath + "/banks"
		req, err := http.NewRequest(http.MethodGet, srv.URL()+"/banks", nil)
		require.NoError(t, err)
		req.Host = "proxy.example"
		req.Header.Set("Authorization", sign.New(receiverID, secret).Authorization("GET", proxied, nil))
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusForbidden, resp.StatusCode)
	})

	t.Run("the client's signature is accepted, and a wrong secret is an AuthorizationError", func(t *testing.T) {
		_, err := newClient(t, srv, receiverID, secret).Banks.List(context.Background())
		require.NoError(t, err)
		_, err = newClient(t, srv, receiverID, "wrong").Banks.List(context.Background())
		var ae *khipu.AuthorizationError
		require.ErrorAs(t, err, &ae)
		assert.Equal(t, 403, ae.StatusCode)
	})
}

func TestCreatePaymentValidatesLikeKhipu(t *testing.T) {
	srv, _ := newServer(t)
	tests := []struct {
		name       string
		change     func(url.Values)
		wantFields []string
	}{
		{"a missing subject", func(v url.Values) { v.Del("subject") }, []string{"subject"}},
		{"an empty subject", func(v url.Values) { v.Set("subject", "") }, []string{"subject"}},
		{"a missing amount and currency", func(v url.Values) { v.Del("amount"); v.Del("currency") }, []string{"amount", "currency"}},
		{"an amount with a thousands separator", func(v url.Values) { v.Set("amount", "1,000") }, []string{"amount"}},
		{"an amount with an exponent", func(v url.Values) { v.Set("amount", "1e3") }, []string{"amount"}},
		{"a negative amount", func(v url.Values) { v.Set("amount", "-5") }, []string{"amount"}},
		{"a zero amount", func(v url.Values) { v.Set("amount", "0") }, []string{"amount"}},
		{"an amount with 5 decimals", func(v url.Values) { v.Set("currency", "USD"); v.Set("amount", "1.00001") }, []string{"amount"}},
		{"a CLP amount with cents", func(v url.Values) { v.Set("amount", "19.99") }, []string{"amount"}},
		{"an unknown currency", func(v url.Values) { v.Set("currency", "clp") }, []string{"currency"}},
		{"a boolean that is not true or false", func(v url.Values) { v.Set("send_reminders", "yes") }, []string{"send_reminders"}},
		{"send_email without the payer", func(v url.Values) { v.Set("send_email", "true") }, []string{"send_email"}},
		{"a date that is not ISO-8601", func(v url.Values) { v.Set("expires_date", "tomorrow") }, []string{"expires_date"}},
		{"an expiry in the past", func(v url.Values) { v.Set("expires_date", "2001-01-01T00:00:00Z") }, []string{"expires_date"}},
		{"a relative notify_url", func(v url.Values) { v.Set("notify_url", "/notify") }, []string{"notify_url"}},
		{"an unknown notify_api_version", func(v url.Values) { v.Set("notify_api_version", "2.0") }, []string{"notify_api_version"}},
		{"an unknown bank", func(v url.Values) { v.Set("bank_id", "nope") }, []string{"bank_id"}},
		{"a contract without the payer's identifier", func(v url.Values) { v.Set("contract_url", "https://shop.example/c.pdf") }, []string{"contract_url"}},
		{"an optional parameter sent empty", func(v url.Values) { v.Set("transaction_id", "") }, []string{"transaction_id"}},
		{"an unknown parameter", func(v url.Values) { v.Set("ammount", "1000") }, []string{"ammount"}},
		{"a parameter sent twice", func(v url.Values) { v.Add("amount", "2000") }, []string{"amount"}},
		{"a custom field over 4096 characters", func(v url.Values) { v.Set("custom", strings.Repeat("ñ", 4097)) }, []string{"custom"}},
		{"an integrator fee over the amount", func(v url.Values) { v.Set("integrator_fee", "1000.5") }, []string{"integrator_fee"}},
	}
	for _, tt := range tests {
		t.Run(tt.name+" is a 400 naming it", func(t *testing.T) {
			form := validCreate()
			tt.change(form)
			status, ke := rawCall(t, srv, receiverID, secret, http.MethodPost, "/payments", form)
			assert.Equal(t, http.StatusBadRequest, status)
			assert.Equal(t, tt.wantFields, ke.fields(), ke.Message)
		})
	}
	t.Run("none of them created a payment", func(t *testing.T) {
		for _, r := range srv.Requests() {
			assert.Equal(t, http.StatusBadRequest, r.Status, "%s %v", r.Path, r.Params)
		}
	})
	t.Run("a valid request with every parameter is accepted", func(t *testing.T) {
		form := validCreate()
		for k, v := range map[string]string{
			"transaction_id": "o-1", "custom": "<x/>", "body": "b", "bank_id": "Bawdf",
			"return_url": "https://s.example/r", "cancel_url": "https://s.example/c", "picture_url": "https://s.example/p.png",
			"notify_url": "https://s.example/n", "contract_url": "https://s.example/c.pdf", "notify_api_version": "1.3",
			"expires_date": time.Now().Add(time.Hour).Format(time.RFC3339), "send_email": "true", "payer_name": "Ana",
			"payer_email": "ana@example.com", "send_reminders": "false", "responsible_user_email": "v@example.com",
			"fixed_payer_personal_identifier": "11.111.111-1", "integrator_fee": "10", "collect_account_uuid": "u-1",
			"confirm_timeout_date": time.Now().Add(48 * time.Hour).Format(time.RFC3339), "mandatory_payment_method": "simplified_transfer",
		} {
			form.Set(k, v)
		}
		status, ke := rawCall(t, srv, receiverID, secret, http.MethodPost, "/payments", form)
		assert.Equal(t, http.StatusOK, status, "%+v", ke)
	})
}

func TestTheClientReportsKhipusFieldErrors(t *testing.T) {
	srv, client := newServer(t)
	// A fee over the amount: the client sends it (only Khipu knows the
	// account's fees), the server refuses it.
	_, err := client.Payments.Create(context.Background(), &khipu.PaymentCreateParams{
		Subject: "Order", Currency: "CLP", Amount: khipu.NewAmount(1000), IntegratorFee: khipu.NewAmount(2000),
	})
	var ve *khipu.ValidationError
	require.ErrorAs(t, err, &ve)
	require.Len(t, ve.Errors, 1)
	assert.Equal(t, "integrator_fee", ve.Errors[0].Field)
	assert.Equal(t, http.StatusBadRequest, srv.Requests()[0].Status)
}

func TestPaymentLifecycle(t *testing.T) {
	srv, client := newServer(t)
	ctx := context.Background()
	create := func(t *testing.T) string {
		t.Helper()
		created, err := client.Payments.Create(ctx, &khipu.PaymentCreateParams{
			Subject: "Order 7", Currency: "CLP", Amount: khipu.NewAmount(5000), TransactionID: "order-7",
		})
		require.NoError(t, err)
		return created.PaymentID
	}
	fieldAtFault := func(t *testing.T, err error) string {
		t.Helper()
		var ve *khipu.ValidationError
		require.ErrorAs(t, err, &ve)
		require.NotEmpty(t, ve.Errors)
		return ve.Errors[0].Field
	}

	t.Run("a new payment is pending and carries what was sent", func(t *testing.T) {
		id := create(t)
		p, err := client.Payments.Get(ctx, id)
		require.NoError(t, err)
		assert.Equal(t, khipu.StatusPending, p.Status)
		assert.Equal(t, khipu.NewAmount(5000), p.Amount)
		assert.Equal(t, "CLP", p.Currency)
		assert.Equal(t, "order-7", p.TransactionID)
		assert.Equal(t, receiverID, p.ReceiverID)
		assert.True(t, p.ConciliationDate.IsZero(), "not paid yet")
		assert.NotEmpty(t, p.NotificationToken)
	})

	t.Run("a pending payment can be deleted, then it is gone", func(t *testing.T) {
		id := create(t)
		_, err := client.Payments.Delete(ctx, id)
		require.NoError(t, err)
		_, err = client.Payments.Get(ctx, id)
		assert.Equal(t, "payment_id", fieldAtFault(t, err))
		assert.Error(t, srv.Pay(id), "a deleted payment cannot be paid")
	})

	t.Run("a paid payment is done and cannot be deleted or paid again", func(t *testing.T) {
		id := create(t)
		require.NoError(t, srv.Pay(id))
		p, err := client.Payments.Get(ctx, id)
		require.NoError(t, err)
		assert.Equal(t, khipu.StatusDone, p.Status)
		assert.Equal(t, khipu.StatusDetailNormal, p.StatusDetail)
		assert.False(t, p.ConciliationDate.IsZero())
		assert.NoError(t, p.Check("order-7", khipu.NewAmount(5000), "CLP"))
		_, err = client.Payments.Delete(ctx, id)
		assert.Equal(t, "payment_id", fieldAtFault(t, err))
		assert.Error(t, srv.Pay(id))
	})

	t.Run("only a paid payment can be confirmed, and only once", func(t *testing.T) {
		id := create(t)
		_, err := client.Payments.Confirm(ctx, id)
		assert.Equal(t, "payment_id", fieldAtFault(t, err), "pending")
		require.NoError(t, srv.Pay(id))
		_, err = client.Payments.Confirm(ctx, id)
		require.NoError(t, err)
		_, err = client.Payments.Confirm(ctx, id)
		assert.Equal(t, "payment_id", fieldAtFault(t, err), "twice")
		_, err = client.Payments.Refund(ctx, id, nil)
		assert.Equal(t, "payment_id", fieldAtFault(t, err), "a confirmed payment is settled: no refunds")
	})

	t.Run("refunds add up to the amount and no further", func(t *testing.T) {
		id := create(t)
		_, err := client.Payments.Refund(ctx, id, nil)
		assert.Equal(t, "payment_id", fieldAtFault(t, err), "a pending payment has nothing to refund")
		require.NoError(t, srv.Pay(id))
		_, err = client.Payments.Refund(ctx, id, &khipu.RefundParams{Amount: khipu.NewAmount(5001)})
		assert.Equal(t, "amount", fieldAtFault(t, err), "more than the payment")
		_, err = client.Payments.Refund(ctx, id, &khipu.RefundParams{Amount: khipu.NewAmount(2000)})
		require.NoError(t, err)
		_, err = client.Payments.Refund(ctx, id, &khipu.RefundParams{Amount: khipu.NewAmount(3001)})
		assert.Equal(t, "amount", fieldAtFault(t, err), "more than what is left")
		_, err = client.Payments.Refund(ctx, id, nil) // the remaining 3000
		require.NoError(t, err)
		p, err := client.Payments.Get(ctx, id)
		require.NoError(t, err)
		assert.Equal(t, khipu.StatusDetailReversed, p.StatusDetail)
		assert.Error(t, p.Check("order-7", khipu.NewAmount(5000), "CLP"), "a refunded payment is not delivered")
		_, err = client.Payments.Refund(ctx, id, nil)
		assert.Equal(t, "payment_id", fieldAtFault(t, err), "nothing left")
	})

	t.Run("a CLP payment is refunded in whole pesos", func(t *testing.T) {
		id := create(t)
		require.NoError(t, srv.Pay(id))
		_, err := client.Payments.Refund(ctx, id, &khipu.RefundParams{Amount: khipu.MustParseAmount("0.5")})
		assert.Equal(t, "amount", fieldAtFault(t, err))
		_, err = client.Payments.Refund(ctx, id, &khipu.RefundParams{Amount: khipu.NewAmount(1)})
		require.NoError(t, err)
	})

	t.Run("an unknown payment is a 400 naming payment_id", func(t *testing.T) {
		_, err := client.Payments.Get(ctx, "zzzzzzzzzzzz")
		assert.Equal(t, "payment_id", fieldAtFault(t, err))
	})

	t.Run("a payment is found by its notification token, a forged token is not", func(t *testing.T) {
		id := create(t)
		p, err := client.Payments.Get(ctx, id)
		require.NoError(t, err)
		byToken, err := client.Payments.GetByNotificationToken(ctx, p.NotificationToken)
		require.NoError(t, err)
		assert.Equal(t, p, byToken)
		_, err = client.Payments.GetByNotificationToken(ctx, "forged")
		assert.Equal(t, "notification_token", fieldAtFault(t, err))
	})
}

func TestBanksAndPaymentMethods(t *testing.T) {
	srv, client := newServer(t)
	ctx := context.Background()
	banks, err := client.Banks.List(ctx)
	require.NoError(t, err)
	require.NotEmpty(t, banks)
	for _, b := range banks {
		assert.NotEmpty(t, b.BankID)
		assert.NotEmpty(t, b.Name)
		assert.False(t, b.MinAmount.IsZero(), b.Name)
	}

	methods, err := client.PaymentMethods.List(ctx, receiverID)
	require.NoError(t, err)
	require.NotEmpty(t, methods)
	created, err := client.Payments.Create(ctx, &khipu.PaymentCreateParams{
		Subject: "x", Currency: "CLP", Amount: khipu.NewAmount(1000), BankID: banks[0].BankID, MandatoryPaymentMethod: methods[0].ID,
	})
	require.NoError(t, err, "a bank and a method the server lists are accepted")
	assert.NotEmpty(t, created.PaymentID)

	_, err = client.PaymentMethods.List(ctx, "99999")
	var ae *khipu.AuthorizationError
	assert.ErrorAs(t, err, &ae, "another merchant's methods are a 403")
	assert.Equal(t, http.StatusForbidden, lastRequest(t, srv).Status)
}

func TestCreatedReceiversAreAccountsOfTheirOwn(t *testing.T) {
	srv, integrator := newServer(t)
	ctx := context.Background()
	_, err := integrator.Receivers.Create(ctx, &khipu.ReceiverCreateParams{AdminFirstName: "only this"})
	var pe *khipu.ParamError
	require.ErrorAs(t, err, &pe, "the client refuses it before sending")

	status, ke := rawCall(t, srv, receiverID, secret, http.MethodPost, "/receivers", url.Values{"admin_first_name": {"Ana"}, "country_code": {"Chile"}})
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Contains(t, ke.fields(), "admin_last_name")
	assert.Contains(t, ke.fields(), "country_code")

	created, err := integrator.Receivers.Create(ctx, &khipu.ReceiverCreateParams{
		AdminFirstName: "Ana", AdminLastName: "Pérez", AdminEmail: "ana@shop.example", CountryCode: "CL",
		BusinessIdentifier: "76.123.456-7", BusinessCategory: "ecommerce", BusinessName: "Tienda Ana",
		BusinessPhone: "+56 2 2345 6789", BusinessAddressLine1: "Av. Providencia 123", BusinessAddressLine2: "Providencia",
		BusinessAddressLine3: "Santiago", ContactFullName: "Ana Pérez", ContactJobTitle: "Gerente",
		ContactEmail: "ana@shop.example", ContactPhone: "+56 9 8765 4321",
	})
	require.NoError(t, err)
	assert.NotEqual(t, receiverID, created.ReceiverID)

	shop := newClient(t, srv, created.ReceiverID, created.Secret)
	payment, err := shop.Payments.Create(ctx, &khipu.PaymentCreateParams{Subject: "x", Currency: "CLP", Amount: khipu.NewAmount(1000)})
	require.NoError(t, err, "the new credentials sign valid requests")
	_, err = shop.PaymentMethods.List(ctx, created.ReceiverID)
	require.NoError(t, err)

	p, err := integrator.Payments.Get(ctx, payment.PaymentID)
	require.NoError(t, err, "an integrator sees the payments of the accounts it created")
	assert.Equal(t, created.ReceiverID, p.ReceiverID)

	_, err = shop.Payments.Get(ctx, mustCreate(t, integrator).PaymentID)
	var ae *khipu.AuthorizationError
	assert.ErrorAs(t, err, &ae, "an account does not see its integrator's payments")
}

func mustCreate(t *testing.T, c *khipu.Client) *khipu.PaymentCreated {
	t.Helper()
	created, err := c.Payments.Create(context.Background(), &khipu.PaymentCreateParams{Subject: "x", Currency: "CLP", Amount: khipu.NewAmount(1000)})
	require.NoError(t, err)
	return created
}

func TestPayPostsKhipusNotification(t *testing.T) {
	srv, client := newServer(t)
	type received struct {
		method, contentType string
		form                url.Values
	}
	got := make(chan received, 4)
	var status int
	var mu sync.Mutex
	shop := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		assert.NoError(t, r.ParseForm()) // the server's goroutine: not require
		got <- received{r.Method, r.Header.Get("Content-Type"), r.PostForm}
		mu.Lock()
		defer mu.Unlock()
		if status != 0 {
			http.Error(w, "database down", status)
		}
	}))
	defer shop.Close()
	created, err := client.Payments.Create(context.Background(), &khipu.PaymentCreateParams{
		Subject: "x", Currency: "CLP", Amount: khipu.NewAmount(1000), NotifyURL: shop.URL + "/notify",
	})
	require.NoError(t, err)
	p, err := client.Payments.Get(context.Background(), created.PaymentID)
	require.NoError(t, err)
	assert.Equal(t, "1.3", p.NotifyAPIVersion, "the client asks for 1.3")

	require.NoError(t, srv.Pay(created.PaymentID))
	n := recv(t, got)
	assert.Equal(t, http.MethodPost, n.method)
	assert.Equal(t, "application/x-www-form-urlencoded", n.contentType)
	assert.Equal(t, url.Values{"api_version": {"1.3"}, "notification_token": {p.NotificationToken}}, n.form)

	t.Run("Notify sends it again, and reports a shop that did not accept it", func(t *testing.T) {
		mu.Lock()
		status = http.StatusInternalServerError
		mu.Unlock()
		err := srv.Notify(created.PaymentID)
		var ne *khiputest.NotificationError
		require.ErrorAs(t, err, &ne)
		assert.Equal(t, http.StatusInternalServerError, ne.StatusCode)
		assert.Contains(t, ne.Body, "database down")
		assert.Equal(t, n, recv(t, got), "the same notification")
	})

	t.Run("a shop that cannot be reached is an error, and the payment stays paid", func(t *testing.T) {
		created, err := client.Payments.Create(context.Background(), &khipu.PaymentCreateParams{
			Subject: "x", Currency: "CLP", Amount: khipu.NewAmount(1000), NotifyURL: "http://127.0.0.1:1/notify",
		})
		require.NoError(t, err)
		err = srv.Pay(created.PaymentID)
		var ne *khiputest.NotificationError
		require.ErrorAs(t, err, &ne)
		assert.Zero(t, ne.StatusCode)
		assert.Error(t, ne.Err)
		p, err := client.Payments.Get(context.Background(), created.PaymentID)
		require.NoError(t, err)
		assert.Equal(t, khipu.StatusDone, p.Status)
	})

	t.Run("a redirect is reported, not followed", func(t *testing.T) {
		// A notify_url that redirects is misconfigured: following a 302
		// would turn Khipu's POST into a GET without the form.
		moved := httptest.NewServer(http.RedirectHandler(shop.URL+"/notify", http.StatusFound))
		defer moved.Close()
		created, err := client.Payments.Create(context.Background(), &khipu.PaymentCreateParams{
			Subject: "x", Currency: "CLP", Amount: khipu.NewAmount(1000), NotifyURL: moved.URL + "/notify",
		})
		require.NoError(t, err)
		err = srv.Pay(created.PaymentID)
		var ne *khiputest.NotificationError
		require.ErrorAs(t, err, &ne)
		assert.Equal(t, http.StatusFound, ne.StatusCode)
		assert.Empty(t, got, "the shop received nothing")
	})

	t.Run("a payment without notify_url is paid without a notification", func(t *testing.T) {
		created := mustCreate(t, client)
		require.NoError(t, srv.Pay(created.PaymentID))
		assert.Empty(t, got)
	})

	t.Run("unknown and unpaid payments are errors", func(t *testing.T) {
		assert.Error(t, srv.Pay("nope"))
		assert.Error(t, srv.Notify(mustCreate(t, client).PaymentID))
	})
}

func TestFailNext(t *testing.T) {
	ctx := context.Background()

	t.Run("the next requests fail with the chosen status, then the endpoint works", func(t *testing.T) {
		srv, client := newServer(t)
		srv.FailNext(khiputest.EndpointPaymentsCreate, http.StatusServiceUnavailable, 2)
		srv.FailNext(khiputest.EndpointPaymentsCreate, http.StatusBadGateway, 1)
		params := &khipu.PaymentCreateParams{Subject: "x", Currency: "CLP", Amount: khipu.NewAmount(1000)}

		for range 2 {
			_, err := client.Payments.Create(ctx, params)
			var se *khipu.ServiceError
			require.ErrorAs(t, err, &se)
			assert.Equal(t, http.StatusServiceUnavailable, se.StatusCode)
		}

		_, err := client.Payments.Create(ctx, params)
		var ue *khipu.UnexpectedResponseError
		require.ErrorAs(t, err, &ue, "a 502 is a proxy's HTML page")
		assert.Equal(t, http.StatusBadGateway, ue.StatusCode)
		assert.Contains(t, string(ue.Body), "<html>")

		_, err = client.Banks.List(ctx)
		require.NoError(t, err, "other endpoints are not affected")
		created, err := client.Payments.Create(ctx, params)
		require.NoError(t, err)

		var statuses []int
		for _, r := range srv.Requests() {
			statuses = append(statuses, r.Status)
		}
		assert.Equal(t, []int{503, 503, 502, 200, 200}, statuses)
		_, err = client.Payments.Get(ctx, created.PaymentID)
		require.NoError(t, err)
		assert.Len(t, srv.Requests(), 6, "a failed create made no payment: only one exists to get")
	})

	t.Run("many failures cost what one does", func(t *testing.T) {
		// FailNext once kept one entry per failure: times was a way to
		// make a server allocate as much as a caller asked for. Each call
		// is one entry, however many failures it queues.
		srv, client := newServer(t)
		srv.FailNext(khiputest.EndpointBanksList, http.StatusServiceUnavailable, khiputest.MaxFailNextTimes)
		assert.Equal(t, 1, khiputest.QueuedFaults(srv, khiputest.EndpointBanksList))
		srv.FailNext(khiputest.EndpointBanksList, http.StatusBadGateway, 2)
		assert.Equal(t, 2, khiputest.QueuedFaults(srv, khiputest.EndpointBanksList))
		_, err := client.Banks.List(ctx) // the first and both retries fail: three of the 1000
		var se *khipu.ServiceError
		require.ErrorAs(t, err, &se)
		assert.Equal(t, 2, khiputest.QueuedFaults(srv, khiputest.EndpointBanksList), "an entry stays until its last failure")
	})

	t.Run("a 400 and a 403 are Khipu's JSON errors", func(t *testing.T) {
		srv, client := newServer(t)
		srv.FailNext(khiputest.EndpointBanksList, http.StatusBadRequest, 1)
		srv.FailNext(khiputest.EndpointBanksList, http.StatusForbidden, 1)
		_, err := client.Banks.List(ctx)
		var ve *khipu.ValidationError
		assert.ErrorAs(t, err, &ve)
		_, err = client.Banks.List(ctx)
		var ae *khipu.AuthorizationError
		assert.ErrorAs(t, err, &ae)
	})

	t.Run("a GET that fails with 503 once succeeds on the client's retry", func(t *testing.T) {
		srv := khiputest.NewServer(receiverID, secret)
		defer srv.Close()
		client, err := khipu.NewClient(receiverID, secret, khipu.WithBaseURL(srv.URL()),
			khipu.WithRetry(khipu.RetryPolicy{MaxRetries: 2, MinBackoff: time.Millisecond, MaxBackoff: time.Millisecond}))
		require.NoError(t, err)
		srv.FailNext(khiputest.EndpointBanksList, http.StatusServiceUnavailable, 1)
		_, err = client.Banks.List(ctx)
		require.NoError(t, err)
		assert.Len(t, srv.Requests(), 2)
	})

	t.Run("misuse panics with a message that says what is wrong", func(t *testing.T) {
		srv, _ := newServer(t)
		everyEndpoint := `"GET /banks", "GET /payments", "POST /payments", "GET /payments/{id}", "DELETE /payments/{id}", ` +
			`"POST /payments/{id}/confirm", "POST /payments/{id}/refunds", "POST /receivers", "GET /merchants/{id}/paymentMethods", ` +
			`"GET /v3/banks", "POST /v3/payments", "GET /v3/payments/{id}", "DELETE /v3/payments/{id}", "POST /v3/payments/{id}/confirm", ` +
			`"POST /v3/payments/{id}/refunds", "GET /v3/predict", "POST /v3/receivers", "GET /v3/receivers/children", ` +
			`"GET /v3/merchants/{id}/paymentMethods", "POST /v1/automatic-payment/subscription", ` +
			`"GET /v1/automatic-payment/subscription/{id}", "POST /v1/automatic-payment/charge-intent"`
		assert.PanicsWithValue(t, `khiputest: FailNext: unknown endpoint "GET /nope"; the endpoints are `+everyEndpoint,
			func() { srv.FailNext("GET /nope", 503, 1) })
		assert.PanicsWithValue(t, `khiputest: FailNext: unknown endpoint "/banks"; the endpoints are `+everyEndpoint,
			func() { srv.FailNext("/banks", 503, 1) }, "a path is not an endpoint")
		assert.PanicsWithValue(t, "khiputest: FailNext: status 200 is not an HTTP error status (400-599)",
			func() { srv.FailNext(khiputest.EndpointBanksList, 200, 1) })
		assert.PanicsWithValue(t, "khiputest: FailNext: status 302 is not an HTTP error status (400-599)",
			func() { srv.FailNext(khiputest.EndpointBanksList, 302, 1) })
		assert.PanicsWithValue(t, "khiputest: FailNext: times 0; want at least 1",
			func() { srv.FailNext(khiputest.EndpointBanksList, 503, 0) })
		assert.PanicsWithValue(t, "khiputest: FailNext: times 1001; want at most 1000",
			func() { srv.FailNext(khiputest.EndpointBanksList, 503, khiputest.MaxFailNextTimes+1) })
		_, err := newClient(t, srv, receiverID, secret).Banks.List(ctx)
		assert.NoError(t, err, "nothing was injected")
	})
}

func TestRequestsRecordsWhatTheServerReceived(t *testing.T) {
	srv, client := newServer(t)
	ctx := context.Background()
	created := mustCreate(t, client)
	_, err := client.Payments.Refund(ctx, created.PaymentID, &khipu.RefundParams{Amount: khipu.NewAmount(10)})
	require.Error(t, err)

	reqs := srv.Requests()
	require.Len(t, reqs, 2)
	assert.Equal(t, http.MethodPost, reqs[0].Method)
	assert.Equal(t, "/payments", reqs[0].Path)
	assert.Equal(t, khiputest.EndpointPaymentsCreate, reqs[0].Endpoint)
	assert.Equal(t, url.Values{"subject": {"x"}, "currency": {"CLP"}, "amount": {"1000"}}, reqs[0].Params)
	assert.Equal(t, receiverID, reqs[0].ReceiverID)
	assert.Equal(t, http.StatusOK, reqs[0].Status)
	assert.Contains(t, reqs[0].Header.Get("User-Agent"), "khipu-go/")

	assert.Equal(t, "/payments/"+created.PaymentID+"/refunds", reqs[1].Path)
	assert.Equal(t, khiputest.EndpointPaymentsRefund, reqs[1].Endpoint)
	assert.Equal(t, "10", reqs[1].Params.Get("amount"))
	assert.Equal(t, http.StatusBadRequest, reqs[1].Status)

	reqs[0].Params.Set("amount", "1")
	assert.Equal(t, "1000", srv.Requests()[0].Params.Get("amount"), "Requests returns a copy")
}

func TestUnknownPathsAndMethods(t *testing.T) {
	srv, _ := newServer(t)
	status, _ := rawCall(t, srv, receiverID, secret, http.MethodGet, "/nope", nil)
	assert.Equal(t, http.StatusNotFound, status)
	status, _ = rawCall(t, srv, receiverID, secret, http.MethodPost, "/banks", nil)
	assert.Equal(t, http.StatusNotFound, status)
	status, ke := rawCall(t, srv, receiverID, secret, http.MethodGet, "/banks", url.Values{"page": {"2"}})
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Equal(t, []string{"page"}, ke.fields())
}

func TestThePaymentPagePays(t *testing.T) {
	srv, client := newServer(t)
	created, err := client.Payments.Create(context.Background(), &khipu.PaymentCreateParams{
		Subject: "Mate", Currency: "CLP", Amount: khipu.NewAmount(12990), ReturnURL: "https://shop.example/orders/1",
	})
	require.NoError(t, err)

	resp, err := http.Get(created.PaymentURL)
	require.NoError(t, err)
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, string(page), "Mate")
	assert.Contains(t, string(page), "12990 CLP")
	assert.Contains(t, string(page), `<form method="post">`)

	browser := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err = browser.PostForm(created.PaymentURL, nil)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusSeeOther, resp.StatusCode)
	assert.Equal(t, "https://shop.example/orders/1", resp.Header.Get("Location"))
	p, err := client.Payments.Get(context.Background(), created.PaymentID)
	require.NoError(t, err)
	assert.Equal(t, khipu.StatusDone, p.Status)

	resp, err = browser.PostForm(created.PaymentURL, nil)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusConflict, resp.StatusCode, "a paid payment is not paid twice")

	resp, err = http.Get(srv.URL()[:strings.Index(srv.URL(), "/api")] + "/payment/info/nope")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
}

func TestConcurrentUse(t *testing.T) {
	srv, client := newServer(t)
	ctx := context.Background()
	var notified sync.Map
	shop := httptest.NewServer(client.NotificationHandler(func(ctx context.Context, p *khipu.Payment) error {
		if _, dup := notified.LoadOrStore(p.PaymentID, true); dup {
			return errors.New("notified twice")
		}
		return nil
	}))
	defer shop.Close()

	const n = 32
	errs := make(chan error, n)
	for i := range n {
		go func() {
			created, err := client.Payments.Create(ctx, &khipu.PaymentCreateParams{
				Subject: "x", Currency: "CLP", Amount: khipu.NewAmount(int64(1000 + i)), NotifyURL: shop.URL,
			})
			if err == nil {
				err = srv.Pay(created.PaymentID)
			}
			if err == nil {
				_, err = client.Payments.Refund(ctx, created.PaymentID, &khipu.RefundParams{Amount: khipu.NewAmount(1)})
			}
			errs <- err
		}()
	}
	for range n {
		assert.NoError(t, recv(t, errs))
	}
	count := 0
	notified.Range(func(any, any) bool { count++; return true })
	assert.Equal(t, n, count)
	assert.Len(t, srv.Requests(), n*3, "create, the token lookup, refund: nothing lost")
}

func TestCloseAbandonsANotificationInFlight(t *testing.T) {
	srv := khiputest.NewServer(receiverID, secret)
	client := newClient(t, srv, receiverID, secret)
	arrived := make(chan struct{})
	release := make(chan struct{})
	shop := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(arrived)
		select { // a shop that never answers in time
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer shop.Close()
	defer close(release)
	created, err := client.Payments.Create(context.Background(), &khipu.PaymentCreateParams{
		Subject: "x", Currency: "CLP", Amount: khipu.NewAmount(1000), NotifyURL: shop.URL + "/notify",
	})
	require.NoError(t, err)

	paid := make(chan error, 1)
	go func() { paid <- srv.Pay(created.PaymentID) }()
	recv(t, arrived)
	srv.Close()
	err = recv(t, paid)
	var ne *khiputest.NotificationError
	require.ErrorAs(t, err, &ne)
	assert.ErrorIs(t, err, context.Canceled, "Close ends the delivery instead of waiting Khipu's 30 s")
	assert.ErrorIs(t, srv.Notify(created.PaymentID), context.Canceled, "a closed server notifies nobody")
	assert.ErrorIs(t, srv.Pay(created.PaymentID), context.Canceled, "nor pays")
}

func TestWithMaxRequestsKeepsTheLastRequests(t *testing.T) {
	srv := khiputest.NewServer(receiverID, secret, khiputest.WithMaxRequests(2))
	t.Cleanup(srv.Close)
	client := newClient(t, srv, receiverID, secret)
	ctx := context.Background()
	created := mustCreate(t, client)
	_, err := client.Banks.List(ctx)
	require.NoError(t, err)
	_, err = client.Payments.Get(ctx, created.PaymentID)
	require.NoError(t, err)

	var endpoints []string
	for _, r := range srv.Requests() {
		endpoints = append(endpoints, r.Endpoint)
	}
	assert.Equal(t, []string{khiputest.EndpointBanksList, khiputest.EndpointPaymentsGet}, endpoints, "the oldest, the create, forgotten")

	assert.PanicsWithValue(t, "khiputest: WithMaxRequests: 0; want at least 1", func() { khiputest.WithMaxRequests(0) })
}
