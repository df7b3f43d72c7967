package openapi

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	openapi_types "github.com/oapi-codegen/runtime/types"

	"github.com/khipu-go/khipu/conformance/openapi/khipuapi"
)

// A client generated from the document (package khipuapi, oapi-codegen)
// calls every operation of khiputest and reads every answer, but where an
// answer carries a listed deviation that such a client cannot read: there
// the client fails on exactly that deviation, which the test names, and
// reads the answer once it is undone. Its requests go through the checking
// proxy too, so khiputest is also seen to take what the document allows.
func TestAGeneratedClientReadsEveryAnswerButTheListedDeviations(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	gen, err := khipuapi.NewClientWithResponses(h.proxy.URL, khipuapi.WithRequestEditorFn(func(_ context.Context, r *http.Request) error {
		r.Header.Set("x-api-key", apiKey)
		return nil
	}))
	require.NoError(t, err)

	banksResp, err := gen.GetBanksWithResponse(ctx)
	banks := reads(t, h.one(t, "getBanks", http.StatusOK), err, khipuapi.ParseGetBanksResponse)
	assert.Nil(t, banksResp, "the generated client returns no answer it could not read")
	assert.NotEmpty(t, banks.JSON200.Banks)

	_, err = gen.GetMerchantPaymentMethodsByIdWithResponse(ctx, 4242) // receiverID, a number in the document
	methods := reads(t, h.one(t, "getMerchantPaymentMethodsById", http.StatusOK), err, khipuapi.ParseGetMerchantPaymentMethodsByIdResponse)
	assert.NotEmpty(t, methods.JSON200.PaymentMethods)

	_, err = gen.PostPaymentWithResponse(ctx, khipuapi.PaymentPostPayment{Amount: 1000, Currency: khipuapi.PaymentPostPaymentCurrency("CLP"), Subject: "Order 1"})
	minimal := reads(t, h.one(t, "postPayment", http.StatusOK), err, khipuapi.ParsePostPaymentResponse).JSON200.PaymentId

	expires, confirmBy := time.Now().Add(2*time.Hour), time.Now().Add(48*time.Hour)
	_, err = gen.PostPaymentWithResponse(ctx, khipuapi.PaymentPostPayment{
		Amount: 25000, Currency: khipuapi.PaymentPostPaymentCurrency("CLP"), Subject: "Order 2",
		TransactionId: ptr("order-2"), Custom: ptr("<cart/>"), Body: ptr("Two books"), BankId: ptr("Bawdf"),
		ReturnUrl: ptr("https://shop.example/return"), CancelUrl: ptr("https://shop.example/cancel"),
		PictureUrl: ptr("https://shop.example/book.png"), NotifyUrl: ptr(h.shop.URL + "/notify"),
		ContractUrl: ptr("https://shop.example/contract.pdf"), NotifyApiVersion: ptr("3.0"), ExpiresDate: &expires,
		SendEmail: ptr(true), PayerName: ptr("Ana Pérez"), PayerEmail: ptr[openapi_types.Email]("ana@example.com"),
		SendReminders: ptr(true), ResponsibleUserEmail: ptr[openapi_types.Email]("shop@example.com"),
		FixedPayerPersonalIdentifier: ptr("11.111.111-1"), IntegratorFee: ptr("100"),
		CollectAccountUuid: ptr("007367340234"), ConfirmTimeoutDate: &confirmBy,
		MandatoryPaymentMethod: ptr("simplified_transfer"), PspClientMerchantName: ptr("PSP 1->Shop"),
	})
	x := h.one(t, "postPayment", http.StatusOK)
	assertEverySent(t, h.contract, "payment-post-payment", x.request)
	full := reads(t, x, err, khipuapi.ParsePostPaymentResponse).JSON200.PaymentId

	getPayment := func(id string) *khipuapi.PaymentGetPayment {
		t.Helper()
		_, err := gen.GetPaymentByIdWithResponse(ctx, id)
		p := reads(t, h.one(t, "getPaymentById", http.StatusOK), err, khipuapi.ParseGetPaymentByIdResponse).JSON200
		assert.Equal(t, id, p.PaymentId)
		assert.False(t, p.ExpiresDate.IsZero(), "expires_date is a date")
		return p
	}
	p := getPayment(minimal)
	assert.Equal(t, khipuapi.PaymentGetPaymentStatus("pending"), p.Status)
	p = getPayment(full)
	assert.Equal(t, openapi_types.Email("ana@example.com"), p.PayerEmail)
	assert.True(t, expires.Truncate(time.Millisecond).Equal(p.ExpiresDate), "expires_date %v, in ms as Khipu writes it", p.ExpiresDate)

	require.NoError(t, h.fake.Pay(full))
	p = getPayment(full)
	assert.Equal(t, khipuapi.PaymentGetPaymentStatus("done"), p.Status)
	assert.False(t, p.ConciliationDate.IsZero(), "conciliation_date is a date")

	_, err = gen.PostPaymentRefundsByIdWithResponse(ctx, full, khipuapi.PaymentPostPaymentRefunds{Amount: ptr(400.0)})
	reads(t, h.one(t, "postPaymentRefundsById", http.StatusOK), err, khipuapi.ParsePostPaymentRefundsByIdResponse)
	_, err = gen.PostPaymentConfirmByIdWithResponse(ctx, full)
	reads(t, h.one(t, "postPaymentConfirmById", http.StatusOK), err, khipuapi.ParsePostPaymentConfirmByIdResponse)

	refunded, _ := h.createPaid(t, gen)
	_, err = gen.PostPaymentRefundsByIdWithResponse(ctx, refunded, khipuapi.PaymentPostPaymentRefunds{})
	reads(t, h.one(t, "postPaymentRefundsById", http.StatusOK), err, khipuapi.ParsePostPaymentRefundsByIdResponse)
	assert.Equal(t, khipuapi.PaymentGetPaymentStatusDetail("reversed"), getPayment(refunded).StatusDetail, "{} refunds it all")

	_, err = gen.DeletePaymentByIdWithResponse(ctx, minimal)
	reads(t, h.one(t, "deletePaymentById", http.StatusOK), err, khipuapi.ParseDeletePaymentByIdResponse)

	_, err = gen.GetPredictWithResponse(ctx, &khipuapi.GetPredictParams{PayerEmail: "ana@example.com", BankId: "Bawdf", Amount: "1000", Currency: "CLP"})
	prediction := reads(t, h.one(t, "getPredict", http.StatusOK), err, khipuapi.ParseGetPredictResponse).JSON200
	assert.Equal(t, khipuapi.PredictGetPredictResult("ok"), prediction.Result)

	_, err = gen.PostReceiverWithResponse(ctx, khipuapi.ReceiverPostReceiver{
		AdminFirstName: "Ana", AdminLastName: "Pérez", AdminEmail: "ana@example.com", CountryCode: "CL",
		BusinessIdentifier: "76.123.456-7", BusinessCategory: "Venta de libros", BusinessName: "Libros Ana SpA",
		BusinessPhone: "+56223456789", BusinessAddressLine1: "Av. Providencia 123", BusinessAddressLine2: "Oficina 4",
		BusinessAddressLine3: "Santiago", ContactFullName: "Ana Pérez", ContactJobTitle: "Gerente",
		ContactEmail: "contacto@example.com", ContactPhone: "+56955553333", BankAccountBankId: ptr("Bawdf"),
		BankAccountType: ptr("Cuenta Corriente"), BankAccountIdentifier: ptr("76.123.456-7"),
		BankAccountName: ptr("Cuenta libros"), BankAccountNumber: ptr("00347909823"),
		NotifyUrl: ptr("https://shop.example/account/notify"), RenditionUrl: ptr("https://shop.example/account/rendition"),
	})
	x = h.one(t, "postReceiver", http.StatusOK)
	assert.Equal(t, keys(t, x.request), propertyNames(h.contract, t, "receiver-post-receiver"), "every field of the document")
	receiver := reads(t, x, err, khipuapi.ParsePostReceiverResponse).JSON200
	assert.NotEmpty(t, receiver.ReceiverId)

	var ops []string
	for _, x := range h.exchanges() {
		if !slices.Contains(ops, x.operation) {
			ops = append(ops, x.operation)
		}
	}
	slices.Sort(ops)
	// The client was generated from the copy, which lacks the operations
	// loadContract adds: TestKhipuv3AndKhiputestConform drives those.
	want := slices.DeleteFunc(operationIDs(h.contract.doc), func(op string) bool { return slices.Contains(operationsNotInTheCopy, op) })
	assert.Equal(t, want, ops, "every operation of the copy the client was generated from")
}

// reads checks how the generated client read the answer of x, given err,
// the error it returned: with no listed deviation that such a client
// cannot read, it read the answer; with some, it failed on one of them, and
// with all but one undone it fails on exactly that one. It returns the
// answer as the generated client reads it once every listed deviation is
// undone.
func reads[T any](t *testing.T, x exchange, err error, parse func(*http.Response) (T, error)) T {
	t.Helper()
	var breaking []deviation
	for _, d := range deviations {
		if slices.Contains(x.undone, d.name) {
			if d.generated != nil {
				breaking = append(breaking, d)
				continue
			}
			// A deviation such a client reads anyway.
			body, _, uerr := undo(x.operation, x.answer, allBut(d))
			require.NoError(t, uerr)
			_, perr := parse(answer(body))
			assert.NoError(t, perr, "%s: the generated client reads an answer with %q", x.operation, d.name)
		}
	}
	if len(breaking) == 0 {
		require.NoError(t, err, "%s: the generated client reads %s", x.operation, x.answer)
	} else {
		require.Error(t, err, "%s: the generated client cannot read %s", x.operation, x.answer)
		assert.True(t, slices.ContainsFunc(breaking, func(d deviation) bool { return d.generated(err) }),
			"%s: the generated client fails for another reason than a listed deviation: %v", x.operation, err)
		for _, d := range breaking {
			body, _, uerr := undo(x.operation, x.answer, allBut(d))
			require.NoError(t, uerr)
			_, perr := parse(answer(body))
			assert.True(t, d.generated(perr), "%s: with only %q left, the generated client fails on it; got %v", x.operation, d.name, perr)
			t.Logf("%s: a client generated from the document cannot read Khipu's %q (%s): %v", x.operation, d.name, d.evidence, perr)
		}
	}
	fixed, _, uerr := undo(x.operation, x.answer, all)
	require.NoError(t, uerr)
	v, perr := parse(answer(fixed))
	require.NoError(t, perr, "%s: the generated client reads the answer once the listed deviations are undone", x.operation)
	return v
}

// answer is body as a 200 JSON answer, for the generated client's parsers.
func answer(body []byte) *http.Response {
	return &http.Response{
		StatusCode: http.StatusOK,
		Header:     http.Header{"Content-Type": {"application/json"}},
		Body:       io.NopCloser(bytes.NewReader(body)),
	}
}

// createPaid creates a payment with the generated client and pays it.
func (h *harness) createPaid(t *testing.T, gen *khipuapi.ClientWithResponses) (string, exchange) {
	t.Helper()
	_, err := gen.PostPaymentWithResponse(context.Background(), khipuapi.PaymentPostPayment{Amount: 3000, Currency: khipuapi.PaymentPostPaymentCurrency("CLP"), Subject: "Order 3"})
	x := h.one(t, "postPayment", http.StatusOK)
	id := reads(t, x, err, khipuapi.ParsePostPaymentResponse).JSON200.PaymentId
	require.NoError(t, h.fake.Pay(id))
	return id, x
}

// propertyNames are the fields of a schema of the document, sorted.
func propertyNames(c *contract, t *testing.T, schema string) []string {
	var names []string
	for name := range c.schema(t, schema).Properties {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

func ptr[T any](v T) *T { return &v }
