package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/khipu-go/khipu"
	"github.com/khipu-go/khipu/khiputest"
	"github.com/khipu-go/khipu/khipuv3"
)

// v3Gateway is Khipu's API v3 with notifications 3.0: a notification is the
// payment itself, signed with the collection account's secret (the one
// that signs v2 requests), so the handler verifies it without asking Khipu.
type v3Gateway struct {
	client *khipuv3.Client
	secret string // the account's secret, which signs notifications
	log    *slog.Logger
}

func (g v3Gateway) CreatePayment(ctx context.Context, p *khipu.PaymentCreateParams) (*khipu.PaymentCreated, error) {
	// With a notify_url, Create asks for notifications 3.0, the ones the
	// handler verifies.
	created, err := g.client.Payments.Create(ctx, &khipuv3.PaymentCreateParams{
		Subject: p.Subject, Currency: p.Currency, Amount: p.Amount, TransactionID: p.TransactionID,
		ReturnURL: p.ReturnURL, CancelURL: p.CancelURL, NotifyURL: p.NotifyURL, ExpiresDate: p.ExpiresDate,
	})
	if err != nil {
		return nil, err
	}
	return &khipu.PaymentCreated{PaymentID: created.PaymentID, PaymentURL: created.PaymentURL,
		SimplifiedTransferURL: created.SimplifiedTransferURL, TransferURL: created.TransferURL, AppURL: created.AppURL,
		ReadyForTerminal: created.ReadyForTerminal, Raw: created.Raw}, nil
}

func (g v3Gateway) NotificationHandler(deliver func(context.Context, *VerifiedPayment) error) http.Handler {
	return khipuv3.NotificationHandler(g.secret, func(ctx context.Context, n *khipuv3.Notification) error {
		return deliver(ctx, &VerifiedPayment{
			PaymentID: n.PaymentID, TransactionID: n.TransactionID, Amount: n.Amount, Currency: n.Currency,
			OutOfDate: n.OutOfDateConciliation,
			check:     n.Check,
		})
	}, khipuv3.WithHandlerLogger(g.log))
}

func (g v3Gateway) Payment(ctx context.Context, paymentID string) (*VerifiedPayment, error) {
	p, err := g.client.Payments.Get(ctx, paymentID)
	// v3 answers a payment it does not have with a 404.
	var nf *khipu.NotFoundError
	if errors.As(err, &nf) {
		return nil, fmt.Errorf("%w: %w", errPaymentGone, err)
	}
	if err != nil {
		return nil, err
	}
	return &VerifiedPayment{
		PaymentID: p.PaymentID, TransactionID: p.TransactionID, Amount: p.Amount, Currency: p.Currency,
		Status: p.Status, StatusDetail: p.StatusDetail, ExpiresDate: p.ExpiresDate, OutOfDate: p.OutOfDateConciliation,
		check: p.Check,
	}, nil
}

func newV3Gateway(cfg config, logger *slog.Logger) (*gatewaySetup, error) {
	opts := []khipuv3.Option{khipuv3.WithUserAgent("khipu-go-webshop"), khipuv3.WithLogger(logger)}
	if embedded(cfg, "KHIPU_API_KEY", "KHIPU_SECRET") {
		// khiputest signs notifications 3.0 with the account's secret.
		fake := khiputest.NewServer(embeddedReceiverID, embeddedSecret)
		logger.Info("using an in-memory Khipu; its payment page has a Pay button", "khipu", fake.V3URL())
		client, err := khipuv3.NewClient(fake.APIKey(), append(opts, khipuv3.WithBaseURL(fake.V3URL()))...)
		if err != nil {
			fake.Close()
			return nil, err
		}
		return &gatewaySetup{Gateway: v3Gateway{client, embeddedSecret, logger}, close: fake.Close}, nil
	}
	key, secret := cfg.getenv("KHIPU_API_KEY"), cfg.getenv("KHIPU_SECRET")
	if key == "" || secret == "" {
		return nil, errors.New("-api v3 needs KHIPU_API_KEY and KHIPU_SECRET (the account's secret, which signs notifications 3.0)")
	}
	if cfg.khipuURL != "" {
		opts = append(opts, khipuv3.WithBaseURL(cfg.khipuURL))
	}
	client, err := khipuv3.NewClient(key, opts...)
	if err != nil {
		return nil, err
	}
	return &gatewaySetup{Gateway: v3Gateway{client, secret, logger}, real: cfg.khipuURL == "", close: func() {}}, nil
}
