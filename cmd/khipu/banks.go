package main

import (
	"fmt"

	"github.com/khipu-go/khipu"
	"github.com/khipu-go/khipu/khipuv3"
)

func runBanks(c *cli, name string, args []string) error {
	fs := c.newFlags(name, "", `
Lists the banks that can pay the collection account: their id (what
payments create -bank-id and predict -bank-id take), name, smallest amount,
type and message. As it needs nothing but the credential, it is also the
quickest check that a credential works: exit status 0, or 1 with Khipu's
answer (an AuthorizationError for a wrong key).`, "khipu banks -api v2")
	var a apiFlags
	addAPIFlags(fs, &a, true)
	if _, err := c.parse(fs, args, 0, 0); err != nil {
		return err
	}
	cn, err := c.connect(&a)
	if err != nil {
		return err
	}
	var banks []khipuv3.Bank
	if cn.v2 != nil {
		list, err := cn.v2.Banks.List(c.ctx)
		if err != nil {
			return err
		}
		for _, b := range list {
			// API v2's bank has v3's fields: a conversion, which stops
			// compiling the day the two differ.
			banks = append(banks, khipuv3.Bank(b))
		}
	} else if banks, err = cn.v3.Banks.List(c.ctx); err != nil {
		return err
	}
	if a.json {
		return c.printJSON(cn)
	}
	if len(banks) == 0 {
		_, err := fmt.Fprintln(c.stdout, "no banks")
		return err
	}
	rows := make([][]string, len(banks))
	for i, b := range banks {
		rows[i] = []string{b.BankID, b.Name, b.MinAmount.String(), b.Type, b.Parent, b.Message}
	}
	return table(c.stdout, []string{"BANK_ID", "NAME", "MIN_AMOUNT", "TYPE", "PARENT", "MESSAGE"}, rows)
}

func runPaymentMethods(c *cli, name string, args []string) error {
	fs := c.newFlags(name, "[MERCHANT_ID]", `
Lists the payment methods of the collection account MERCHANT_ID (default:
the receiver id, KHIPU_RECEIVER_ID): the ids payments create
-mandatory-payment-method takes.`, "khipu payment-methods -json 12345")
	var a apiFlags
	addAPIFlags(fs, &a, true)
	rest, err := c.parse(fs, args, 0, 1)
	if err != nil {
		return err
	}
	cn, err := c.connect(&a)
	if err != nil {
		return err
	}
	merchant := a.receiverID
	if len(rest) == 1 {
		merchant = rest[0]
	}
	if merchant == "" {
		return usageErrorf("%s: which account? give MERCHANT_ID, or set KHIPU_RECEIVER_ID", fs.Name())
	}
	// Both APIs answer with khipu.PaymentMethod.
	var methods []khipu.PaymentMethod
	if cn.v2 != nil {
		methods, err = cn.v2.PaymentMethods.List(c.ctx, merchant)
	} else {
		methods, err = cn.v3.PaymentMethods.List(c.ctx, merchant)
	}
	if err != nil {
		return err
	}
	if a.json {
		return c.printJSON(cn)
	}
	if len(methods) == 0 {
		_, err := fmt.Fprintln(c.stdout, "no payment methods")
		return err
	}
	rows := make([][]string, len(methods))
	for i, m := range methods {
		rows[i] = []string{m.ID, m.Name}
	}
	return table(c.stdout, []string{"ID", "NAME"}, rows)
}
