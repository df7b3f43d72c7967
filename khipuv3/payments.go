package khipuv3

import (
	"context"
	"net/http"
	"time"

	"github.com/google/go-querystring/query"

	"github.com/khipu-go/khipu"
)

// PaymentsService creates, reads, deletes, confirms, refunds and predicts
// payments.
type PaymentsService struct{ client *Client }

// Create creates a payment (POST /v3/payments) and returns the URLs to send
// the payer to. Subject, Currency and a positive Amount are required (in
// CLP a whole number of pesos: see khipu.ParseAmount), and NotifyAPIVersion
// is "" or "3.0": this package verifies notifications 3.0
// (NotificationHandler), and a payment notified otherwise would be one its
// handler refuses. Invalid parameters are refused before anything is sent
// (see PaymentCreateParams.Validate).
//
// Create is never retried automatically: a second attempt could create a
// second payment. Deliver only against the payment id you stored for the
// order, so that a payment created by an attempt whose answer was lost can
// only stay unpaid; Delete it if you learn its id.
func (s *PaymentsService) Create(ctx context.Context, p *PaymentCreateParams) (*PaymentCreated, error) {
	if p == nil {
		return nil, &khipu.ParamError{Param: "params", Reason: "is nil"}
	}
	params := *p // the caller's struct is left as it was
	if err := params.Validate(); err != nil {
		return nil, err
	}
	for _, d := range []struct {
		param string
		date  time.Time
	}{{"expires_date", params.ExpiresDate}, {"confirm_timeout_date", params.ConfirmTimeoutDate}} {
		if err := jsonDate(d.param, d.date); err != nil {
			return nil, err
		}
	}
	version, err := notifyVersion(params.NotifyURL, params.NotifyAPIVersion, NotifyAPIVersion)
	if err != nil {
		return nil, err
	}
	params.NotifyAPIVersion = version
	out := new(PaymentCreated)
	if err := s.client.call(ctx, http.MethodPost, "/v3/payments", nil, &params, out); err != nil {
		return nil, err
	}
	return out, nil
}

// jsonDate refuses a date that JSON cannot carry: a year outside 0 to 9999,
// or a zone offset of a day or more (time.Time.MarshalJSON's limits). A
// zero date is not sent.
func jsonDate(param string, t time.Time) error {
	if t.IsZero() {
		return nil
	}
	if _, err := t.MarshalJSON(); err != nil {
		return &khipu.ParamError{Param: param, Reason: "cannot be written as an ISO-8601 date (years 0 to 9999, a zone offset under a day)"}
	}
	return nil
}

// notifyVersion is the notify_api_version to send: version when it is one
// of allowed, NotifyAPIVersion when it is empty and notifyURL is set.
func notifyVersion(notifyURL, version string, allowed ...string) (string, error) {
	switch {
	case version == "" && notifyURL != "":
		return NotifyAPIVersion, nil
	case version == "":
		return "", nil
	}
	for _, a := range allowed {
		if version == a {
			return version, nil
		}
	}
	return "", &khipu.ParamError{Param: "notify_api_version", Reason: "must be empty or " + allowedList(allowed)}
}

func allowedList(allowed []string) string {
	s := allowed[0]
	for _, a := range allowed[1:] {
		s += " or " + a
	}
	return s
}

// Get returns the payment with the given id (GET /v3/payments/{id}). An
// unknown id is a *khipu.NotFoundError.
func (s *PaymentsService) Get(ctx context.Context, paymentID string) (*Payment, error) {
	if err := validID("payment_id", paymentID); err != nil {
		return nil, err
	}
	out := new(Payment)
	if err := s.client.call(ctx, http.MethodGet, "/v3/payments/"+paymentID, nil, nil, out); err != nil {
		return nil, err
	}
	return out, nil
}

// Delete deletes a payment that is still pending
// (DELETE /v3/payments/{id}). It cannot be undone and is never retried
// automatically.
func (s *PaymentsService) Delete(ctx context.Context, paymentID string) (*khipu.Success, error) {
	return s.success(ctx, http.MethodDelete, paymentID, "", nil)
}

// Confirm confirms a payment (POST /v3/payments/{id}/confirm), for accounts
// that contracted it; it is then settled the next day. It is never retried
// automatically.
func (s *PaymentsService) Confirm(ctx context.Context, paymentID string) (*khipu.Success, error) {
	return s.success(ctx, http.MethodPost, paymentID, "/confirm", nil)
}

// Refund refunds a payment (POST /v3/payments/{id}/refunds): the whole
// payment when p is nil, otherwise p.Amount, which must be greater than zero
// (a zero Amount is refused, so that an amount computed as 0 by mistake
// never refunds everything). It is never retried automatically: if it fails
// on the network, Get the payment and read its StatusDetail before refunding
// again.
//
// Unlike Create, Refund cannot refuse a fraction of a peso: the payment's
// currency is not one of its parameters, and looking the payment up first
// would cost a call and could race with its settlement. Khipu refuses what
// the payment cannot refund.
func (s *PaymentsService) Refund(ctx context.Context, paymentID string, p *RefundParams) (*khipu.Success, error) {
	var body any
	if p != nil {
		if err := positive("amount", p.Amount); err != nil {
			return nil, err
		}
		body = p
	}
	return s.success(ctx, http.MethodPost, paymentID, "/refunds", body)
}

// positive refuses an amount that is zero, negative or out of range.
func positive(param string, a khipu.Amount) error {
	switch {
	case !a.IsValid():
		return &khipu.ParamError{Param: param, Reason: "is out of range"}
	case a.Compare(khipu.Amount{}) < 0:
		return &khipu.ParamError{Param: param, Reason: "must not be negative"}
	case a.IsZero():
		return &khipu.ParamError{Param: param, Reason: "must be greater than zero"}
	}
	return nil
}

// success calls an endpoint on /v3/payments/{id} that answers with a
// khipu.Success.
func (s *PaymentsService) success(ctx context.Context, method, id, suffix string, body any) (*khipu.Success, error) {
	if err := validID("payment_id", id); err != nil {
		return nil, err
	}
	out := new(khipu.Success)
	if err := s.client.call(ctx, method, "/v3/payments/"+id+suffix, nil, body, out); err != nil {
		return nil, err
	}
	return out, nil
}

// Predict asks Khipu whether a payer can pay an amount from a bank now
// (GET /v3/predict), and the limits that apply. All four parameters are
// required (a zero amount counts as missing), and an amount in CLP is a
// whole number of pesos.
func (s *PaymentsService) Predict(ctx context.Context, p *PredictParams) (*Prediction, error) {
	if p == nil {
		return nil, &khipu.ParamError{Param: "params", Reason: "is nil"}
	}
	for _, f := range []struct{ name, value string }{{"payer_email", p.PayerEmail}, {"bank_id", p.BankID}, {"currency", p.Currency}} {
		if f.value == "" {
			return nil, &khipu.ParamError{Param: f.name, Reason: "is required"}
		}
	}
	if p.Amount.IsZero() {
		return nil, &khipu.ParamError{Param: "amount", Reason: "is required"}
	}
	if err := positive("amount", p.Amount); err != nil {
		return nil, err
	}
	if err := wholePesos("amount", p.Currency, p.Amount); err != nil {
		return nil, err
	}
	values, err := query.Values(p)
	if err != nil {
		return nil, &khipu.ParamError{Param: "params", Reason: err.Error()}
	}
	out := new(Prediction)
	if err := s.client.call(ctx, http.MethodGet, "/v3/predict", values, nil, out); err != nil {
		return nil, err
	}
	return out, nil
}
