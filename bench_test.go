package khipu_test

// Benchmarks of what the SDK costs: the decoding of a Payment, Amount, and
// whole calls against a loopback server, each next to the same call written
// by hand with net/http, crypto/hmac and encoding/json (the "handwritten"
// sub-benchmarks), so that one run measures the ratio. See BENCHMARKS.md.
//
// Every benchmark checks its result once, with the server verifying the
// signature, before the timer starts: a benchmark of a broken call fails
// rather than measures it. They also run with -benchtime=1x.

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/khipu-go/khipu"
	"github.com/khipu-go/khipu/internal/sign"
)

// benchPaymentJSON is a full PaymentsResponse, every field set, as Khipu
// sends it (receiver_id a number, dates in ISO-8601).
const benchPaymentJSON = `{
  "payment_id": "gqzdy6chjne9",
  "payment_url": "https://khipu.com/payment/info/gqzdy6chjne9",
  "simplified_transfer_url": "https://app.khipu.com/payment/simplified/gqzdy6chjne9",
  "transfer_url": "https://khipu.com/payment/manual/gqzdy6chjne9",
  "webpay_url": "https://khipu.com/payment/webpay/gqzdy6chjne9",
  "app_url": "khipu:///pos/gqzdy6chjne9",
  "ready_for_terminal": false,
  "notification_token": "9dec8aa176c5223026919b3b5579a4776923e646ff3be686b9e6b62ec042e91f",
  "receiver_id": 12345,
  "conciliation_date": "2024-06-05T14:12:30.000Z",
  "subject": "Pedido 1234: zapatillas ñandú",
  "amount": 19990.0000,
  "currency": "CLP",
  "status": "done",
  "status_detail": "normal",
  "body": "2 pares de zapatillas, talla 42",
  "picture_url": "https://shop.example.com/img/1234.png",
  "receipt_url": "https://s3.amazonaws.com/notifications.khipu.com/CPKH-gqzdy6chjne9.pdf",
  "return_url": "https://shop.example.com/return?order=1234",
  "cancel_url": "https://shop.example.com/cancel?order=1234",
  "notify_url": "https://shop.example.com/khipu/notify",
  "notify_api_version": "1.3",
  "expires_date": "2024-06-06T14:10:00.000-04:00",
  "attachment_urls": ["https://shop.example.com/terms.pdf", "https://shop.example.com/invoice-1234.pdf"],
  "bank": "Banco Estado",
  "bank_id": "Bawdf",
  "payer_name": "María José Pérez",
  "payer_email": "mjperez@example.com",
  "personal_identifier": "11.111.111-1",
  "bank_account_number": "000000012345",
  "out_of_date_conciliation": false,
  "transaction_id": "order-1234",
  "custom": "<cart><item sku=\"Z-42\" qty=\"2\"/></cart>",
  "responsible_user_email": "ventas@shop.example.com",
  "send_reminders": false,
  "send_email": false,
  "payment_method": "simplified_transfer",
  "funds_source": ""
}`

// benchBanksJSON is a BanksResponse with the dozen banks a Chilean account
// typically sees.
var benchBanksJSON = func() string {
	names := []string{"Banco de Chile", "Banco Estado", "Banco Santander", "Banco BCI", "Scotiabank",
		"Banco Itaú", "Banco Security", "Banco Falabella", "Banco Ripley", "Banco Consorcio",
		"Banco BICE", "Banco Internacional"}
	var sb strings.Builder
	sb.WriteString(`{"banks":[`)
	for i, n := range names {
		if i > 0 {
			sb.WriteByte(',')
		}
		fmt.Fprintf(&sb, `{"bank_id":"B%04d","name":%q,"message":"","min_amount":200.0000,"type":"Persona","parent":"","logo_url":"https://s3.amazonaws.com/static.khipu.com/logos/bancos/chile/b%04d-icon.png"}`, i, n, i)
	}
	sb.WriteString(`]}`)
	return sb.String()
}()

const benchCreatedJSON = `{"payment_id":"gqzdy6chjne9","payment_url":"https://khipu.com/payment/info/gqzdy6chjne9","simplified_transfer_url":"https://app.khipu.com/payment/simplified/gqzdy6chjne9","transfer_url":"https://khipu.com/payment/manual/gqzdy6chjne9","webpay_url":"https://khipu.com/payment/webpay/gqzdy6chjne9","app_url":"khipu:///pos/gqzdy6chjne9","ready_for_terminal":false}`

// benchCreate is the create-payment request of every Create benchmark: six
// parameters, as the handwritten baseline sends them.
var benchCreate = url.Values{
	"subject":        {"Pedido 1234: zapatillas ñandú"},
	"currency":       {"CLP"},
	"amount":         {"19990"},
	"transaction_id": {"order-1234"},
	"return_url":     {"https://shop.example.com/return?order=1234"},
	"cancel_url":     {"https://shop.example.com/cancel?order=1234"},
}

// benchCreateParams is benchCreate for the SDK.
func benchCreateParams() *khipu.PaymentCreateParams {
	return &khipu.PaymentCreateParams{
		Subject:       benchCreate.Get("subject"),
		Currency:      benchCreate.Get("currency"),
		Amount:        khipu.MustParseAmount(benchCreate.Get("amount")),
		TransactionID: benchCreate.Get("transaction_id"),
		ReturnURL:     benchCreate.Get("return_url"),
		CancelURL:     benchCreate.Get("cancel_url"),
	}
}

// benchServer is a loopback Khipu that answers with canned JSON. While
// verify is set it checks every request's signature (and answers 403 to a
// bad one) and that a POST carries exactly benchCreate; the timed loops run
// with it off so that the server's own work does not dilute the ratios.
type benchServer struct {
	srv    *httptest.Server
	base   string
	verify atomic.Bool
	conns  atomic.Int64 // connections accepted
	gate   atomic.Pointer[benchGate]
}

// benchGate holds requests until n of them are in flight at once (or a
// second has passed), so that a client opens n connections.
type benchGate struct {
	n       int32
	arrived atomic.Int32
	open    chan struct{}
	once    sync.Once
}

func (g *benchGate) wait() {
	if g.arrived.Add(1) >= g.n {
		g.once.Do(func() { close(g.open) })
	}
	select {
	case <-g.open:
	case <-time.After(time.Second):
	}
}

func newBenchServer(b *testing.B) *benchServer {
	b.Helper()
	s := &benchServer{}
	signer := sign.New(testReceiverID, testSecret)
	canned := func(body string) http.HandlerFunc {
		length := strconv.Itoa(len(body))
		return func(w http.ResponseWriter, r *http.Request) {
			if g := s.gate.Load(); g != nil {
				g.wait()
			}
			if s.verify.Load() {
				if err := r.ParseForm(); err != nil {
					http.Error(w, err.Error(), http.StatusBadRequest)
					return
				}
				params := r.URL.Query()
				if r.Method == http.MethodPost {
					params = r.PostForm
					if !benchSameValues(params, benchCreate) {
						respond(w, http.StatusBadRequest, []byte(`{"status":400,"message":"unexpected parameters"}`))
						return
					}
				}
				if !signer.Valid(r.Header.Get("Authorization"), r.Method, "http://"+r.Host+r.URL.Path, params) {
					respond(w, http.StatusForbidden, []byte(`{"status":403,"message":"bad signature"}`))
					return
				}
			} else if r.Method == http.MethodPost {
				_, _ = io.Copy(io.Discard, r.Body)
			}
			h := w.Header()
			h.Set("Content-Type", "application/json")
			h.Set("Content-Length", length)
			_, _ = io.WriteString(w, body)
		}
	}
	mux := http.NewServeMux()
	mux.Handle("GET /api/2.0/banks", canned(benchBanksJSON))
	mux.Handle("POST /api/2.0/payments", canned(benchCreatedJSON))
	mux.Handle("GET /api/2.0/payments/{id}", canned(benchPaymentJSON))
	s.srv = httptest.NewUnstartedServer(mux)
	s.srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			s.conns.Add(1)
		}
	}
	s.srv.Start()
	b.Cleanup(s.srv.Close)
	s.base = s.srv.URL + "/api/2.0"
	return s
}

func benchSameValues(got, want url.Values) bool {
	if len(got) != len(want) {
		return false
	}
	for k, v := range want {
		if !slices.Equal(got[k], v) {
			return false
		}
	}
	return true
}

// client is an SDK Client with its default http.Client, pointed at s.
func (s *benchServer) client(b *testing.B) *khipu.Client {
	b.Helper()
	c, err := khipu.NewClient(testReceiverID, testSecret, khipu.WithBaseURL(s.base))
	if err != nil {
		b.Fatal(err)
	}
	return c
}

// checked runs call once with the server verifying the signature, then turns
// verification off and resets the timer.
func (s *benchServer) checked(b *testing.B, call func() error) {
	b.Helper()
	s.verify.Store(true)
	if err := call(); err != nil {
		b.Fatalf("checked call: %v", err)
	}
	s.verify.Store(false)
	b.ReportAllocs()
	b.ResetTimer()
}

// benchHand is the baseline: the client a user could write in an afternoon
// with net/http, crypto/hmac and encoding/json, with the same transport
// settings as the SDK's default http.Client.
type benchHand struct {
	hc                 *http.Client
	base               string
	receiverID, secret string
}

func newBenchHand(base string) *benchHand {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = 100
	t.MaxIdleConnsPerHost = 100
	return &benchHand{
		hc:         &http.Client{Timeout: 30 * time.Second, Transport: t},
		base:       base,
		receiverID: testReceiverID,
		secret:     testSecret,
	}
}

// benchHandEscape is RFC 3986 encoding the way most people write it.
func benchHandEscape(s string) string {
	return strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
}

func (h *benchHand) authorization(method, u string, params url.Values) string {
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var sb strings.Builder
	sb.WriteString(method)
	sb.WriteString("&")
	sb.WriteString(benchHandEscape(u))
	for _, k := range keys {
		sb.WriteString("&" + benchHandEscape(k) + "=" + benchHandEscape(params.Get(k)))
	}
	mac := hmac.New(sha256.New, []byte(h.secret))
	mac.Write([]byte(sb.String()))
	return h.receiverID + ":" + hex.EncodeToString(mac.Sum(nil))
}

func (h *benchHand) do(ctx context.Context, method, path string, form url.Values, out any) error {
	u := h.base + path
	var body io.Reader
	if method == http.MethodPost {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", h.authorization(method, u, form))
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "myshop/1.0")
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := h.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s %s: HTTP %d: %s", method, path, resp.StatusCode, raw)
	}
	return json.Unmarshal(raw, out)
}

type benchHandBanks struct {
	Banks []struct {
		BankID    string      `json:"bank_id"`
		Name      string      `json:"name"`
		Message   string      `json:"message"`
		MinAmount json.Number `json:"min_amount"`
		Type      string      `json:"type"`
		Parent    string      `json:"parent"`
		LogoURL   string      `json:"logo_url"`
	} `json:"banks"`
}

type benchHandCreated struct {
	PaymentID             string `json:"payment_id"`
	PaymentURL            string `json:"payment_url"`
	SimplifiedTransferURL string `json:"simplified_transfer_url"`
	TransferURL           string `json:"transfer_url"`
	WebpayURL             string `json:"webpay_url"`
	AppURL                string `json:"app_url"`
	ReadyForTerminal      bool   `json:"ready_for_terminal"`
}

// benchPair is one call made by the SDK and by the handwritten baseline.
type benchPair struct {
	sdk, hand           func() error // the call
	checkSDK, checkHand func() error // the call, checking what it decoded
}

// run measures the pair as the sub-benchmarks "SDK" and "handwritten", and
// as "interleaved": the two calls alternate in one loop, so that the noise of
// a shared machine falls on both alike, and the ratio of their times is
// reported as "sdk/handwritten".
func (p benchPair) run(b *testing.B, s *benchServer) {
	b.Run("SDK", func(b *testing.B) {
		s.checked(b, p.checkSDK)
		for range b.N {
			if err := p.sdk(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("handwritten", func(b *testing.B) {
		s.checked(b, p.checkHand)
		for range b.N {
			if err := p.hand(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("interleaved", func(b *testing.B) {
		s.checked(b, func() error { return errors.Join(p.checkSDK(), p.checkHand()) })
		var sdk, hand time.Duration
		timed := func(call func() error) time.Duration {
			start := time.Now()
			if err := call(); err != nil {
				b.Fatal(err)
			}
			return time.Since(start)
		}
		for i := range b.N {
			if i%2 == 0 { // alternate which goes first
				sdk += timed(p.sdk)
				hand += timed(p.hand)
			} else {
				hand += timed(p.hand)
				sdk += timed(p.sdk)
			}
		}
		b.ReportMetric(float64(sdk.Nanoseconds())/float64(b.N), "sdk-ns/op")
		b.ReportMetric(float64(hand.Nanoseconds())/float64(b.N), "handwritten-ns/op")
		b.ReportMetric(float64(sdk)/float64(hand), "sdk/handwritten")
	})
}

func BenchmarkBanksList(b *testing.B) {
	s := newBenchServer(b)
	ctx := context.Background()
	c := s.client(b)
	h := newBenchHand(s.base)
	benchPair{
		sdk: func() error {
			_, err := c.Banks.List(ctx)
			return err
		},
		hand: func() error {
			var out benchHandBanks
			return h.do(ctx, http.MethodGet, "/banks", nil, &out)
		},
		checkSDK: func() error {
			banks, err := c.Banks.List(ctx)
			if err == nil && (len(banks) != 12 || banks[1].Name != "Banco Estado" || banks[1].MinAmount != khipu.NewAmount(200)) {
				err = fmt.Errorf("decoded %+v", banks)
			}
			return err
		},
		checkHand: func() error {
			var out benchHandBanks
			err := h.do(ctx, http.MethodGet, "/banks", nil, &out)
			if err == nil && (len(out.Banks) != 12 || out.Banks[1].Name != "Banco Estado" || out.Banks[1].MinAmount != "200.0000") {
				err = fmt.Errorf("decoded %+v", out)
			}
			return err
		},
	}.run(b, s)
}

func BenchmarkPaymentsCreate(b *testing.B) {
	s := newBenchServer(b)
	ctx := context.Background()
	c := s.client(b)
	h := newBenchHand(s.base)
	p := benchCreateParams()
	benchPair{
		sdk: func() error {
			_, err := c.Payments.Create(ctx, p)
			return err
		},
		hand: func() error {
			var out benchHandCreated
			return h.do(ctx, http.MethodPost, "/payments", benchCreate, &out)
		},
		checkSDK: func() error {
			out, err := c.Payments.Create(ctx, p)
			if err == nil && out.PaymentID != "gqzdy6chjne9" {
				err = fmt.Errorf("decoded %+v", out)
			}
			return err
		},
		checkHand: func() error {
			var out benchHandCreated
			err := h.do(ctx, http.MethodPost, "/payments", benchCreate, &out)
			if err == nil && out.PaymentID != "gqzdy6chjne9" {
				err = fmt.Errorf("decoded %+v", out)
			}
			return err
		},
	}.run(b, s)
}

// BenchmarkPaymentsGetParallel shares one Client between the goroutines of
// b.RunParallel and reports the connections the server accepted ("conns"):
// never more than the goroutines, however many calls are made, because idle
// connections are reused.
//
// The pool is first warmed by one concurrent (and verified) call per
// goroutine. Without that, net/http can open one connection too many at
// start-up, whoever the client is: a request that found no idle connection
// starts a dial, is then handed a connection another request just freed, and
// the dialled one joins the pool.
func BenchmarkPaymentsGetParallel(b *testing.B) {
	const parallelism = 1 // goroutines per GOMAXPROCS, b.RunParallel's default
	goroutines := parallelism * runtime.GOMAXPROCS(0)
	s := newBenchServer(b)
	c := s.client(b)
	ctx := context.Background()
	s.gate.Store(&benchGate{n: int32(goroutines), open: make(chan struct{})})
	s.checked(b, func() error {
		errs := make(chan error, goroutines)
		for range goroutines {
			go func() {
				p, err := c.Payments.Get(ctx, "gqzdy6chjne9")
				if err == nil && (p.ReceiverID != testReceiverID || p.Amount != khipu.NewAmount(19990) ||
					p.ExpiresDate.IsZero() || len(p.AttachmentURLs) != 2) {
					err = fmt.Errorf("decoded %+v", p)
				}
				errs <- err
			}()
		}
		var err error
		for range goroutines {
			if e := <-errs; e != nil {
				err = e
			}
		}
		return err
	})
	s.gate.Store(nil)
	b.SetParallelism(parallelism)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := c.Payments.Get(ctx, "gqzdy6chjne9"); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	conns := s.conns.Load()
	b.ReportMetric(float64(conns), "conns")
	b.ReportMetric(float64(goroutines), "goroutines")
	if conns > int64(goroutines) {
		b.Errorf("the server accepted %d connections for %d goroutines: connections are not reused", conns, goroutines)
	}
}

func BenchmarkDecodePayment(b *testing.B) {
	raw := []byte(benchPaymentJSON)
	b.Run("SDK", func(b *testing.B) {
		var p khipu.Payment
		if err := json.Unmarshal(raw, &p); err != nil || p.ReceiverID != testReceiverID || p.ConciliationDate.IsZero() {
			b.Fatalf("decoded %+v, %v", p, err)
		}
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			var p khipu.Payment
			if err := json.Unmarshal(raw, &p); err != nil {
				b.Fatal(err)
			}
		}
	})
	// plain is the same JSON into a struct of strings, numbers and bools:
	// what the SDK's exact amounts, dates and receiver id cost over it.
	b.Run("plain", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			var p benchPlainPayment
			if err := json.Unmarshal(raw, &p); err != nil {
				b.Fatal(err)
			}
		}
	})
}

type benchPlainPayment struct {
	PaymentID             string      `json:"payment_id"`
	PaymentURL            string      `json:"payment_url"`
	SimplifiedTransferURL string      `json:"simplified_transfer_url"`
	TransferURL           string      `json:"transfer_url"`
	WebpayURL             string      `json:"webpay_url"`
	AppURL                string      `json:"app_url"`
	ReadyForTerminal      bool        `json:"ready_for_terminal"`
	NotificationToken     string      `json:"notification_token"`
	ReceiverID            json.Number `json:"receiver_id"`
	ConciliationDate      string      `json:"conciliation_date"`
	Subject               string      `json:"subject"`
	Amount                json.Number `json:"amount"`
	Currency              string      `json:"currency"`
	Status                string      `json:"status"`
	StatusDetail          string      `json:"status_detail"`
	Body                  string      `json:"body"`
	PictureURL            string      `json:"picture_url"`
	ReceiptURL            string      `json:"receipt_url"`
	ReturnURL             string      `json:"return_url"`
	CancelURL             string      `json:"cancel_url"`
	NotifyURL             string      `json:"notify_url"`
	NotifyAPIVersion      string      `json:"notify_api_version"`
	ExpiresDate           string      `json:"expires_date"`
	AttachmentURLs        []string    `json:"attachment_urls"`
	Bank                  string      `json:"bank"`
	BankID                string      `json:"bank_id"`
	PayerName             string      `json:"payer_name"`
	PayerEmail            string      `json:"payer_email"`
	PersonalIdentifier    string      `json:"personal_identifier"`
	BankAccountNumber     string      `json:"bank_account_number"`
	OutOfDateConciliation bool        `json:"out_of_date_conciliation"`
	TransactionID         string      `json:"transaction_id"`
	Custom                string      `json:"custom"`
	ResponsibleUserEmail  string      `json:"responsible_user_email"`
	SendReminders         bool        `json:"send_reminders"`
	SendEmail             bool        `json:"send_email"`
	PaymentMethod         string      `json:"payment_method"`
	FundsSource           string      `json:"funds_source"`
}

var benchSinkAmount khipu.Amount

func BenchmarkAmountParse(b *testing.B) {
	b.ReportAllocs()
	for range b.N {
		a, err := khipu.ParseAmount("19990.5")
		if err != nil {
			b.Fatal(err)
		}
		benchSinkAmount = a
	}
	if benchSinkAmount.String() != "19990.5" {
		b.Fatalf("parsed %v", benchSinkAmount)
	}
}

var benchSinkString string

func BenchmarkAmountString(b *testing.B) {
	a := khipu.MustParseAmount("19990.05")
	b.ReportAllocs()
	for range b.N {
		benchSinkString = a.String()
	}
	if benchSinkString != "19990.05" {
		b.Fatalf("formatted %q", benchSinkString)
	}
}
