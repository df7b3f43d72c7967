package main

import (
	"context"
	"flag"
	"fmt"
	"strconv"
	"time"

	"github.com/khipu-go/khipu"
	"github.com/khipu-go/khipu/khipuv3"
)

// paymentFromV2 is an API v2 payment as khipuv3's model, which payments get
// prints and notify send -payment sends, whichever API fetched it: v3's
// fields are v2's but webpay_url, which neither uses. Raw, v2's body, is
// left empty: -json prints the body itself.
func paymentFromV2(p *khipu.Payment) *khipuv3.Payment {
	return &khipuv3.Payment{
		PaymentID: p.PaymentID, PaymentURL: p.PaymentURL, SimplifiedTransferURL: p.SimplifiedTransferURL,
		TransferURL: p.TransferURL, AppURL: p.AppURL, ReadyForTerminal: p.ReadyForTerminal,
		NotificationToken: p.NotificationToken, ReceiverID: p.ReceiverID, ConciliationDate: p.ConciliationDate,
		Subject: p.Subject, Amount: p.Amount, Currency: p.Currency, Status: p.Status, StatusDetail: p.StatusDetail,
		Body: p.Body, PictureURL: p.PictureURL, ReceiptURL: p.ReceiptURL, ReturnURL: p.ReturnURL,
		CancelURL: p.CancelURL, NotifyURL: p.NotifyURL, NotifyAPIVersion: p.NotifyAPIVersion,
		ExpiresDate: p.ExpiresDate, AttachmentURLs: p.AttachmentURLs, Bank: p.Bank, BankID: p.BankID,
		PayerName: p.PayerName, PayerEmail: p.PayerEmail, PersonalIdentifier: p.PersonalIdentifier,
		BankAccountNumber: p.BankAccountNumber, OutOfDateConciliation: p.OutOfDateConciliation,
		TransactionID: p.TransactionID, Custom: p.Custom, ResponsibleUserEmail: p.ResponsibleUserEmail,
		SendReminders: p.SendReminders, SendEmail: p.SendEmail, PaymentMethod: p.PaymentMethod,
		FundsSource: p.FundsSource, Discount: p.Discount,
	}
}

// money is an amount and its currency as a person reads them: "1000 CLP".
func money(a khipu.Amount, currency string) string {
	if currency == "" {
		return a.String()
	}
	return a.String() + " " + currency
}

// paymentSummary is the payment as payments get prints it.
func paymentSummary(p *khipuv3.Payment) *summary {
	var s summary
	s.always("payment_id", p.PaymentID)
	status := string(p.Status)
	if p.StatusDetail != "" && string(p.StatusDetail) != status {
		status += " (" + string(p.StatusDetail) + ")"
	}
	s.always("status", status)
	s.always("amount", money(p.Amount, p.Currency))
	if !p.Discount.IsZero() {
		s.add("discount", money(p.Discount, p.Currency))
	}
	s.add("subject", p.Subject)
	s.add("body", p.Body)
	s.add("transaction_id", p.TransactionID)
	s.add("custom", p.Custom)
	s.add("receiver_id", p.ReceiverID)
	s.add("payer_name", p.PayerName)
	s.add("payer_email", p.PayerEmail)
	s.add("personal_identifier", p.PersonalIdentifier)
	s.add("bank", p.Bank)
	s.add("bank_id", p.BankID)
	s.add("bank_account_number", p.BankAccountNumber)
	s.add("payment_method", string(p.PaymentMethod))
	s.add("funds_source", p.FundsSource)
	s.add("conciliation_date", formatTime(p.ConciliationDate))
	if p.OutOfDateConciliation {
		s.add("out_of_date_conciliation", "true")
	}
	s.add("expires_date", formatTime(p.ExpiresDate))
	s.add("responsible_user_email", p.ResponsibleUserEmail)
	s.add("payment_url", p.PaymentURL)
	s.add("simplified_transfer_url", p.SimplifiedTransferURL)
	s.add("transfer_url", p.TransferURL)
	s.add("app_url", p.AppURL)
	s.add("receipt_url", p.ReceiptURL)
	s.add("return_url", p.ReturnURL)
	s.add("cancel_url", p.CancelURL)
	s.add("notify_url", p.NotifyURL)
	s.add("notify_api_version", p.NotifyAPIVersion)
	return &s
}

// getPayment fetches a payment with whichever client cn has.
func (c *cli) getPayment(cn *conn, id string) (*khipuv3.Payment, error) {
	if cn.v2 != nil {
		p, err := cn.v2.Payments.Get(c.ctx, id)
		if err != nil {
			return nil, err
		}
		return paymentFromV2(p), nil
	}
	return cn.v3.Payments.Get(c.ctx, id)
}

// createFlags are the parameters of payments create, one flag per field of
// API v3's parameters, named after its JSON name: the amounts and dates
// through a flag of their own, which params copies in.
type createFlags struct {
	p                               khipuv3.PaymentCreateParams
	amount, integratorFee           amountFlag
	expiresDate, confirmTimeoutDate timeFlag
}

func (f *createFlags) add(fs *flag.FlagSet) {
	p := &f.p
	fs.StringVar(&p.Subject, "subject", "", `what the payer pays for, e.g. "Order 42" (required)`)
	fs.StringVar(&p.Currency, "currency", "", "ISO-4217 code, e.g. CLP (required)")
	fs.Var(&f.amount, "amount", "the `amount`, an exact decimal, e.g. 1000 or 19.99 (required)")
	fs.StringVar(&p.TransactionID, "transaction-id", "", "your order's id, e.g. order-42: notifications carry it back")
	fs.StringVar(&p.Custom, "custom", "", "any text for your own use, up to 4096 characters, e.g. '{\"cart\":42}'")
	fs.StringVar(&p.Body, "body", "", `a longer description of the payment, e.g. "2 mates, 1 poncho"`)
	fs.StringVar(&p.BankID, "bank-id", "", "preselect the payer's bank, e.g. Bawdf (see khipu banks)")
	fs.StringVar(&p.ReturnURL, "return-url", "", "where the payer returns after paying, e.g. https://shop.example/ok")
	fs.StringVar(&p.CancelURL, "cancel-url", "", "where the payer goes on cancelling, e.g. https://shop.example/cancel")
	fs.StringVar(&p.PictureURL, "picture-url", "", "an image of the product, e.g. https://shop.example/mate.png")
	fs.StringVar(&p.NotifyURL, "notify-url", "", "where Khipu POSTs the notification, e.g. https://shop.example/khipu/notify")
	fs.StringVar(&p.ContractURL, "contract-url", "", "a contract the payer signs (needs -fixed-payer-personal-identifier), e.g. https://shop.example/contract.pdf")
	fs.StringVar(&p.NotifyAPIVersion, "notify-api-version", "", "the notifications' version, e.g. 3.0 (API v3) or 1.3 (API v2); the default with -notify-url")
	fs.Var(&f.expiresDate, "expires-date", "when the payment expires, an RFC 3339 `date`, e.g. 2026-12-31T23:59:00-03:00")
	fs.BoolVar(&p.SendEmail, "send-email", false, "Khipu e-mails the payer the payment (needs -payer-name and -payer-email), e.g. -send-email -payer-name Ana -payer-email ana@example.com")
	fs.StringVar(&p.PayerName, "payer-name", "", `the payer's name, e.g. "Ana Pérez"`)
	fs.StringVar(&p.PayerEmail, "payer-email", "", "the payer's e-mail, e.g. ana@example.com")
	fs.BoolVar(&p.SendReminders, "send-reminders", false, "Khipu e-mails the payer reminders, e.g. -send-reminders -send-email ...")
	fs.StringVar(&p.ResponsibleUserEmail, "responsible-user-email", "", "who answers the payer's questions, e.g. sales@shop.example")
	fs.StringVar(&p.FixedPayerPersonalIdentifier, "fixed-payer-personal-identifier", "", "only this RUT may pay, e.g. 11.111.111-1")
	fs.Var(&f.integratorFee, "integrator-fee", "an integrator's fee, an `amount`, e.g. 100")
	fs.StringVar(&p.CollectAccountUUID, "collect-account-uuid", "", "the collection account to pay into, for accounts with several, e.g. 2b1a5c1e-8d7f-4e7b-9c0a-3f2d1e0c9b8a")
	fs.Var(&f.confirmTimeoutDate, "confirm-timeout-date", "the last moment to confirm the payment, an RFC 3339 `date`, e.g. 2026-12-31T23:59:00-03:00")
	fs.StringVar(&p.MandatoryPaymentMethod, "mandatory-payment-method", "", "the only payment method offered, e.g. SIMPLIFIED_TRANSFER (see khipu payment-methods)")
	fs.StringVar(&p.PSPClientMerchantName, "psp-client-merchant-name", "", `the merchant's name, for payment service providers (API v3 only), e.g. "Tienda Ana"`)
}

// params are the parameters the flags give.
func (f *createFlags) params() *khipuv3.PaymentCreateParams {
	p := f.p
	p.Amount, p.IntegratorFee = f.amount.a, f.integratorFee.a
	p.ExpiresDate, p.ConfirmTimeoutDate = f.expiresDate.t, f.confirmTimeoutDate.t
	return &p
}

// paymentParamsV2 is p as API v2's parameters: v3's fields but
// psp_client_merchant_name, which API v2 does not have.
func paymentParamsV2(p *khipuv3.PaymentCreateParams) *khipu.PaymentCreateParams {
	return &khipu.PaymentCreateParams{
		Subject: p.Subject, Currency: p.Currency, Amount: p.Amount, TransactionID: p.TransactionID,
		Custom: p.Custom, Body: p.Body, BankID: p.BankID, ReturnURL: p.ReturnURL, CancelURL: p.CancelURL,
		PictureURL: p.PictureURL, NotifyURL: p.NotifyURL, ContractURL: p.ContractURL,
		NotifyAPIVersion: p.NotifyAPIVersion, ExpiresDate: p.ExpiresDate, SendEmail: p.SendEmail,
		PayerName: p.PayerName, PayerEmail: p.PayerEmail, SendReminders: p.SendReminders,
		ResponsibleUserEmail: p.ResponsibleUserEmail, FixedPayerPersonalIdentifier: p.FixedPayerPersonalIdentifier,
		IntegratorFee: p.IntegratorFee, CollectAccountUUID: p.CollectAccountUUID,
		ConfirmTimeoutDate: p.ConfirmTimeoutDate, MandatoryPaymentMethod: p.MandatoryPaymentMethod,
	}
}

func runPaymentsCreate(c *cli, name string, args []string) error {
	fs := c.newFlags(name, "", `
Creates a payment and prints its id and the URLs to send the payer to.
-subject, -currency and -amount are required; every other flag is optional
and named after the parameter's JSON name. With -notify-url, API v3
payments are notified with notifications 3.0 (try them with khipu notify
send), API v2 payments with notifications 1.3.`,
		`khipu payments create -amount 1000 -currency CLP -subject "Order 42" -transaction-id order-42 -notify-url https://shop.example/khipu/notify`)
	var a apiFlags
	addAPIFlags(fs, &a, true)
	var f createFlags
	f.add(fs)
	if _, err := c.parse(fs, args, 0, 0); err != nil {
		return err
	}
	if !f.amount.set {
		return usageErrorf("%s: -amount is required, e.g. -amount 1000", fs.Name())
	}
	cn, err := c.connect(&a)
	if err != nil {
		return err
	}
	p := f.params()
	var s summary
	if cn.v2 != nil {
		if p.PSPClientMerchantName != "" {
			return usageErrorf("%s: -psp-client-merchant-name is a parameter of API v3 only", fs.Name())
		}
		created, err := cn.v2.Payments.Create(c.ctx, paymentParamsV2(p))
		if err != nil {
			return err
		}
		s.always("payment_id", created.PaymentID)
		s.add("payment_url", created.PaymentURL)
		s.add("simplified_transfer_url", created.SimplifiedTransferURL)
		s.add("transfer_url", created.TransferURL)
		s.add("webpay_url", created.WebpayURL)
		s.add("app_url", created.AppURL)
		s.always("ready_for_terminal", strconv.FormatBool(created.ReadyForTerminal))
	} else {
		created, err := cn.v3.Payments.Create(c.ctx, p)
		if err != nil {
			return err
		}
		s.always("payment_id", created.PaymentID)
		s.add("payment_url", created.PaymentURL)
		s.add("simplified_transfer_url", created.SimplifiedTransferURL)
		s.add("transfer_url", created.TransferURL)
		s.add("app_url", created.AppURL)
		s.always("ready_for_terminal", strconv.FormatBool(created.ReadyForTerminal))
	}
	if a.json {
		return c.printJSON(cn)
	}
	return s.write(c.stdout)
}

func runPaymentsGet(c *cli, name string, args []string) error {
	fs := c.newFlags(name, "PAYMENT_ID", `
Shows the payment PAYMENT_ID as Khipu reports it now: status and status
detail, amount, your transaction id, payer, bank, dates and URLs. Only
status "done" means the money has arrived.`, "khipu payments get -json gqzdy6chjne9")
	var a apiFlags
	addAPIFlags(fs, &a, true)
	rest, err := c.parse(fs, args, 1, 1)
	if err != nil {
		return err
	}
	cn, err := c.connect(&a)
	if err != nil {
		return err
	}
	p, err := c.getPayment(cn, rest[0])
	if err != nil {
		return err
	}
	if a.json {
		return c.printJSON(cn)
	}
	return paymentSummary(p).write(c.stdout)
}

// printSuccess prints the answer of a payments command that answers with
// Khipu's message: delete, confirm, refund.
func (c *cli) printSuccess(cn *conn, a *apiFlags, s *summary, success *khipu.Success) error {
	if a.json {
		return c.printJSON(cn)
	}
	s.add("message", success.Message)
	return s.write(c.stdout)
}

func runPaymentsDelete(c *cli, name string, args []string) error {
	return c.paymentCall(name, args, `
Deletes the payment PAYMENT_ID, which must still be pending: its URLs stop
working. It cannot be undone.`, "khipu payments delete gqzdy6chjne9", "deleted",
		(*khipu.PaymentsService).Delete, (*khipuv3.PaymentsService).Delete)
}

func runPaymentsConfirm(c *cli, name string, args []string) error {
	return c.paymentCall(name, args, `
Confirms the payment PAYMENT_ID, for accounts that contracted
confirmation: Khipu then settles it.`, "khipu payments confirm gqzdy6chjne9", "confirmed",
		(*khipu.PaymentsService).Confirm, (*khipuv3.PaymentsService).Confirm)
}

// paymentCall runs a command that makes one call, v2's or v3's, on the
// payment PAYMENT_ID and prints "<done>: yes" and Khipu's message.
func (c *cli) paymentCall(name string, args []string, doc, example, done string,
	v2 func(*khipu.PaymentsService, context.Context, string) (*khipu.Success, error),
	v3 func(*khipuv3.PaymentsService, context.Context, string) (*khipu.Success, error),
) error {
	fs := c.newFlags(name, "PAYMENT_ID", doc, example)
	var a apiFlags
	addAPIFlags(fs, &a, true)
	rest, err := c.parse(fs, args, 1, 1)
	if err != nil {
		return err
	}
	cn, err := c.connect(&a)
	if err != nil {
		return err
	}
	var success *khipu.Success
	if cn.v2 != nil {
		success, err = v2(cn.v2.Payments, c.ctx, rest[0])
	} else {
		success, err = v3(cn.v3.Payments, c.ctx, rest[0])
	}
	if err != nil {
		return err
	}
	var s summary
	s.always("payment_id", rest[0])
	s.always(done, "yes")
	return c.printSuccess(cn, &a, &s, success)
}

func runPaymentsRefund(c *cli, name string, args []string) error {
	fs := c.newFlags(name, "PAYMENT_ID", `
Refunds the payment PAYMENT_ID: all of it, or with -amount only that much.
Nothing is asked: the command line is the decision. Only accounts that
collect in a Khipu account can refund, and only before settlement. A refund
is never retried: if the network fails, look at the payment (payments get)
before refunding again.`, "khipu payments refund -amount 500 gqzdy6chjne9")
	var a apiFlags
	addAPIFlags(fs, &a, true)
	var amount amountFlag
	fs.Var(&amount, "amount", "refund only this `amount`, an exact decimal, e.g. 500 (default: the whole payment)")
	rest, err := c.parse(fs, args, 1, 1)
	if err != nil {
		return err
	}
	if amount.set && amount.a.IsZero() {
		// The library refuses it too; a zero amount must never be read as
		// "everything".
		return usageErrorf("%s: -amount 0 refunds nothing; leave -amount out to refund the whole payment", fs.Name())
	}
	cn, err := c.connect(&a)
	if err != nil {
		return err
	}
	var success *khipu.Success
	switch {
	case cn.v2 != nil && amount.set:
		success, err = cn.v2.Payments.Refund(c.ctx, rest[0], &khipu.RefundParams{Amount: amount.a})
	case cn.v2 != nil:
		success, err = cn.v2.Payments.Refund(c.ctx, rest[0], nil)
	case amount.set:
		success, err = cn.v3.Payments.Refund(c.ctx, rest[0], &khipuv3.RefundParams{Amount: amount.a})
	default:
		success, err = cn.v3.Payments.Refund(c.ctx, rest[0], nil)
	}
	if err != nil {
		return err
	}
	var s summary
	s.always("payment_id", rest[0])
	if amount.set {
		s.always("refunded", amount.a.String()+" (partial)")
	} else {
		s.always("refunded", "all that was left of the payment (no -amount)")
	}
	return c.printSuccess(cn, &a, &s, success)
}

func runPredict(c *cli, name string, args []string) error {
	fs := c.newFlags(name, "", `
Asks Khipu whether the payer can pay -amount from the bank -bank-id now,
and the limits that apply (API v3). All four flags are required.`,
		"khipu predict -payer-email ana@example.com -bank-id Bawdf -amount 50000 -currency CLP")
	var a apiFlags
	addAPIFlags(fs, &a, true)
	var p khipuv3.PredictParams
	var amount amountFlag
	fs.StringVar(&p.PayerEmail, "payer-email", "", "the payer's e-mail, e.g. ana@example.com")
	fs.StringVar(&p.BankID, "bank-id", "", "the payer's bank, e.g. Bawdf (see khipu banks)")
	fs.Var(&amount, "amount", "the `amount`, e.g. 50000")
	fs.StringVar(&p.Currency, "currency", "", "ISO-4217 code, e.g. CLP")
	if _, err := c.parse(fs, args, 0, 0); err != nil {
		return err
	}
	cn, err := c.connectV3(name, &a)
	if err != nil {
		return err
	}
	p.Amount = amount.a
	pred, err := cn.v3.Payments.Predict(c.ctx, &p)
	if err != nil {
		return err
	}
	if a.json {
		return c.printJSON(cn)
	}
	var s summary
	s.always("result", string(pred.Result))
	s.add("max_amount", money(pred.MaxAmount, p.Currency))
	s.add("new_destinatary_max_amount", money(pred.NewDestinataryMaxAmount, p.Currency))
	s.add("cool_down_date", formatTime(pred.CoolDownDate))
	return s.write(c.stdout)
}

// timeFlag is an RFC 3339 date flag.
type timeFlag struct{ t time.Time }

func (f *timeFlag) String() string {
	if f == nil || f.t.IsZero() {
		return ""
	}
	return f.t.Format(time.RFC3339)
}

func (f *timeFlag) Set(s string) error {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return fmt.Errorf("want an RFC 3339 date such as 2026-12-31T23:59:00-03:00")
	}
	f.t = t
	return nil
}
