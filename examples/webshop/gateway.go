package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"time"

	"github.com/khipu-go/khipu"
	"github.com/khipu-go/khipu/khiputest"
)

// Gateway is what the shop needs from Khipu, whichever API version it
// speaks: everything else in the shop is the same for v2 and v3.
type Gateway interface {
	// CreatePayment creates the Khipu payment for an order.
	CreatePayment(ctx context.Context, p *khipu.PaymentCreateParams) (*khipu.PaymentCreated, error)
	// NotificationHandler is the handler for the payments' notify_url: it
	// calls deliver with each payment whose notification it verified, and
	// answers Khipu with an error status, so that Khipu notifies again,
	// when deliver returns an error.
	NotificationHandler(deliver func(ctx context.Context, p *VerifiedPayment) error) http.Handler
	// Payment asks Khipu for a payment (Payments.Get), for the reconciler
	// to find what a lost notification would have said. A payment Khipu
	// no longer has (deleted) is errPaymentGone.
	Payment(ctx context.Context, paymentID string) (*VerifiedPayment, error)
}

// errPaymentGone is Gateway.Payment's answer for a payment Khipu does not
// have: one the shop created, so one that was deleted.
var errPaymentGone = errors.New("no such payment at Khipu")

// VerifiedPayment is a payment the shop has from Khipu itself: a
// notification the Gateway verified (in v2 it was fetched from Khipu with
// the notification's token; in v3 its signature was checked), or the answer
// to Payment. It still has to match its order (Check).
type VerifiedPayment struct {
	PaymentID     string
	TransactionID string // the order id the shop sent
	Amount        khipu.Amount
	Currency      string
	// Status and StatusDetail are Khipu's; a notification 3.0 has none,
	// being sent for a payment that is done.
	Status       khipu.PaymentStatus
	StatusDetail khipu.StatusDetail
	ExpiresDate  time.Time // zero when Khipu did not say (a notification 3.0)
	// OutOfDate is Khipu's out_of_date_conciliation: the payment was
	// reconciled after its expires_date.
	OutOfDate bool
	// check is the API version's own check of the payment against an
	// order: khipu.Payment.Check, khipuv3.Payment.Check or
	// khipuv3.Notification.Check.
	check func(transactionID string, amount khipu.Amount, currency string) error
}

// Check returns nil only when the payment pays order: it is done, and its
// transaction id, amount and currency are the order's.
func (p *VerifiedPayment) Check(order Order) error {
	return p.check(order.ID, order.Amount, order.Currency)
}

// fromPayment is a payment Khipu sent in full: a v2 notification's lookup,
// or the answer to Payments.Get.
func fromPayment(p *khipu.Payment) *VerifiedPayment {
	return &VerifiedPayment{
		PaymentID: p.PaymentID, TransactionID: p.TransactionID, Amount: p.Amount, Currency: p.Currency,
		Status: p.Status, StatusDetail: p.StatusDetail, ExpiresDate: p.ExpiresDate, OutOfDate: p.OutOfDateConciliation,
		check: p.Check,
	}
}

// v2Gateway is Khipu's REST API v2 with notifications 1.3: a notification
// is a token, and the handler fetches the payment it names from Khipu.
type v2Gateway struct{ client *khipu.Client }

func (g v2Gateway) CreatePayment(ctx context.Context, p *khipu.PaymentCreateParams) (*khipu.PaymentCreated, error) {
	return g.client.Payments.Create(ctx, p)
}

func (g v2Gateway) NotificationHandler(deliver func(context.Context, *VerifiedPayment) error) http.Handler {
	return g.client.NotificationHandler(func(ctx context.Context, p *khipu.Payment) error {
		return deliver(ctx, fromPayment(p))
	})
}

func (g v2Gateway) Payment(ctx context.Context, paymentID string) (*VerifiedPayment, error) {
	p, err := g.client.Payments.Get(ctx, paymentID)
	// v2 answers a payment it does not have with a 400 naming payment_id.
	var ve *khipu.ValidationError
	if errors.As(err, &ve) && slices.ContainsFunc(ve.Errors, func(f khipu.FieldError) bool { return f.Field == "payment_id" }) {
		return nil, fmt.Errorf("%w: %w", errPaymentGone, err)
	}
	if err != nil {
		return nil, err
	}
	return fromPayment(p), nil
}

// The credentials of the in-memory Khipu the shop embeds without real ones.
const (
	embeddedReceiverID = "12345"
	embeddedSecret     = "webshop-secret"
)

// gatewaySetup is the Gateway the flags chose and what to close with it.
type gatewaySetup struct {
	Gateway
	real  bool   // Khipu itself, which reaches the shop only at a public URL
	close func() // stops the embedded Khipu, if any
}

// newGateway connects to the Khipu that cfg names: real Khipu, the API at
// -khipu-url, or, with no credentials, an embedded in-memory Khipu.
func newGateway(cfg config, logger *slog.Logger) (*gatewaySetup, error) {
	switch cfg.api {
	case "v2":
		return newV2Gateway(cfg, logger)
	case "v3":
		return newV3Gateway(cfg, logger)
	}
	return nil, fmt.Errorf("-api %q: want v2 or v3", cfg.api)
}

// embedded reports whether the shop runs against an in-memory Khipu:
// nothing asks for a real one and none of the credentials is set. One of
// two credentials set is a mistake, reported rather than ignored.
func embedded(cfg config, names ...string) bool {
	if cfg.live || cfg.khipuURL != "" {
		return false
	}
	for _, name := range names {
		if cfg.getenv(name) != "" {
			return false
		}
	}
	return true
}

func newV2Gateway(cfg config, logger *slog.Logger) (*gatewaySetup, error) {
	opts := []khipu.Option{khipu.WithUserAgent("khipu-go-webshop"), khipu.WithLogger(logger)}
	if embedded(cfg, "KHIPU_RECEIVER_ID", "KHIPU_SECRET") {
		fake := khiputest.NewServer(embeddedReceiverID, embeddedSecret)
		logger.Info("using an in-memory Khipu; its payment page has a Pay button", "khipu", fake.URL())
		client, err := khipu.NewClient(embeddedReceiverID, embeddedSecret, append(opts, khipu.WithBaseURL(fake.URL()))...)
		if err != nil {
			fake.Close()
			return nil, err
		}
		return &gatewaySetup{Gateway: v2Gateway{client}, close: fake.Close}, nil
	}
	id, secret := cfg.getenv("KHIPU_RECEIVER_ID"), cfg.getenv("KHIPU_SECRET")
	if id == "" || secret == "" {
		return nil, errors.New("-api v2 needs KHIPU_RECEIVER_ID and KHIPU_SECRET")
	}
	if cfg.khipuURL != "" {
		opts = append(opts, khipu.WithBaseURL(cfg.khipuURL))
	}
	client, err := khipu.NewClient(id, secret, opts...)
	if err != nil {
		return nil, err
	}
	return &gatewaySetup{Gateway: v2Gateway{client}, real: cfg.khipuURL == "", close: func() {}}, nil
}
