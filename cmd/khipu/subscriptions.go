package main

import (
	"strconv"

	"github.com/khipu-go/khipu/khipuv3"
)

func runSubscriptionsCreate(c *cli, name string, args []string) error {
	fs := c.newFlags(name, "", `
Asks for an automatic-payment mandate (Khipu's Automatic Payments API, with
the API v3 key) and prints its id and the URL where the customer signs it
with their bank. Every flag but -service-reference, -image-url and
-description is required.`,
		`khipu subscriptions create -name "Plan Mensual" -email ana@example.com -max-amount 20000 -currency CLP -notify-url https://shop.example/sub -return-url https://shop.example/ok -cancel-url https://shop.example/no`)
	var a apiFlags
	addAPIFlags(fs, &a, true)
	var p khipuv3.SubscriptionCreateParams
	var maxAmount amountFlag
	fs.StringVar(&p.Name, "name", "", `the mandate's name, e.g. "Plan Mensual"`)
	fs.StringVar(&p.Email, "email", "", "the customer's e-mail, e.g. ana@example.com")
	fs.Var(&maxAmount, "max-amount", "the most one charge may take, an `amount`, e.g. 20000")
	fs.StringVar(&p.Currency, "currency", "", "ISO-4217 code, e.g. CLP")
	fs.StringVar(&p.NotifyURL, "notify-url", "", "where Khipu POSTs the mandate's status, e.g. https://shop.example/sub")
	fs.StringVar(&p.ReturnURL, "return-url", "", "where the customer returns after signing, e.g. https://shop.example/ok")
	fs.StringVar(&p.CancelURL, "cancel-url", "", "where the customer goes on cancelling, e.g. https://shop.example/no")
	fs.StringVar(&p.ServiceReference, "service-reference", "", "your reference for the service, e.g. customer-17")
	fs.StringVar(&p.ImageURL, "image-url", "", "an image shown to the customer")
	fs.StringVar(&p.Description, "description", "", "a description shown to the customer")
	if _, err := c.parse(fs, args, 0, 0); err != nil {
		return err
	}
	cn, err := c.connectV3(name, &a)
	if err != nil {
		return err
	}
	p.MaxAmount = maxAmount.a
	created, err := cn.v3.Subscriptions.Create(c.ctx, &p)
	if err != nil {
		return err
	}
	if a.json {
		return c.printJSON(cn)
	}
	var s summary
	s.always("subscription_id", created.SubscriptionID)
	s.add("redirect_url", created.RedirectURL)
	return s.write(c.stdout)
}

func runSubscriptionsGet(c *cli, name string, args []string) error {
	fs := c.newFlags(name, "SUBSCRIPTION_ID", `
Shows the mandate SUBSCRIPTION_ID and its status: DISABLED, SIGNED (by the
customer, not yet enabled by the bank) or ENABLED (it can be charged).`,
		"khipu subscriptions get 6c1b1f3e-0a57-4d1e-9a59-6c1ad1c8d7d9")
	var a apiFlags
	addAPIFlags(fs, &a, true)
	rest, err := c.parse(fs, args, 1, 1)
	if err != nil {
		return err
	}
	cn, err := c.connectV3(name, &a)
	if err != nil {
		return err
	}
	sub, err := cn.v3.Subscriptions.Get(c.ctx, rest[0])
	if err != nil {
		return err
	}
	if a.json {
		return c.printJSON(cn)
	}
	var s summary
	s.always("subscription_id", sub.SubscriptionID)
	s.always("status", string(sub.Status))
	s.always("developer", strconv.FormatBool(sub.Developer))
	s.add("customer_bank_code", sub.CustomerBankCode)
	s.add("service_reference", sub.ServiceReference)
	return s.write(c.stdout)
}

func runChargesCreate(c *cli, name string, args []string) error {
	fs := c.newFlags(name, "", `
Charges an ENABLED mandate and prints the id of the payment the charge
made; that payment is notified to -notify-url like any other (notifications
3.0 by default), and a failed charge is reported to -error-response-url.
Every flag but -notify-api-version is required. A charge is never retried:
if the network fails, look for its payment before charging again.`,
		`khipu charges create -subscription-id 6c1b1f3e-0a57-4d1e-9a59-6c1ad1c8d7d9 -amount 9990 -subject "May" -body "Plan, May" -custom c -transaction-id may-1 -notify-url https://shop.example/notify -error-response-url https://shop.example/charge-error`)
	var a apiFlags
	addAPIFlags(fs, &a, true)
	var p khipuv3.ChargeCreateParams
	var amount amountFlag
	fs.StringVar(&p.SubscriptionID, "subscription-id", "", "the mandate to charge, e.g. 6c1b1f3e-0a57-4d1e-9a59-6c1ad1c8d7d9")
	fs.Var(&amount, "amount", "the `amount`, at least 1, e.g. 9990")
	fs.StringVar(&p.Subject, "subject", "", `what the customer pays for, e.g. "May"`)
	fs.StringVar(&p.Body, "body", "", `a description, e.g. "Plan, May"`)
	fs.StringVar(&p.ErrorResponseURL, "error-response-url", "", "where Khipu reports a failed charge, e.g. https://shop.example/charge-error")
	fs.StringVar(&p.Custom, "custom", "", "any text for your own use")
	fs.StringVar(&p.TransactionID, "transaction-id", "", "your id for the charge, e.g. may-1")
	fs.StringVar(&p.NotifyURL, "notify-url", "", "where the charge's payment is notified, e.g. https://shop.example/notify")
	fs.StringVar(&p.NotifyAPIVersion, "notify-api-version", "", "3.0 (the default) or 1.3")
	if _, err := c.parse(fs, args, 0, 0); err != nil {
		return err
	}
	cn, err := c.connectV3(name, &a)
	if err != nil {
		return err
	}
	p.Amount = amount.a
	created, err := cn.v3.Charges.Create(c.ctx, &p)
	if err != nil {
		return err
	}
	if a.json {
		return c.printJSON(cn)
	}
	var s summary
	s.always("payment_id", created.PaymentID)
	return s.write(c.stdout)
}
