package main

import (
	"fmt"

	"github.com/khipu-go/khipu"
	"github.com/khipu-go/khipu/khipuv3"
)

// bank is a bank as the summaries show it, from either API.
type bank struct {
	id, name, minAmount, kind, parent, message string
}

func bankFromV2(b khipu.Bank) bank {
	return bank{b.BankID, b.Name, b.MinAmount.String(), b.Type, b.Parent, b.Message}
}

func bankFromV3(b khipuv3.Bank) bank {
	return bank{b.BankID, b.Name, b.MinAmount.String(), b.Type, b.Parent, b.Message}
}

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
	var banks []bank
	if cn.v2 != nil {
		list, err := cn.v2.Banks.List(c.ctx)
		if err != nil {
			return err
		}
		for _, b := range list {
			banks = append(banks, bankFromV2(b))
		}
	} else {
		list, err := cn.v3.Banks.List(c.ctx)
		if err != nil {
			return err
		}
		for _, b := range list {
			banks = append(banks, bankFromV3(b))
		}
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
		rows[i] = []string{b.id, b.name, b.minAmount, b.kind, b.parent, b.message}
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
	// Each API's list, by field names: the two need not be one type.
	var rows [][]string
	if cn.v2 != nil {
		methods, err := cn.v2.PaymentMethods.List(c.ctx, merchant)
		if err != nil {
			return err
		}
		for _, m := range methods {
			rows = append(rows, []string{m.ID, m.Name})
		}
	} else {
		methods, err := cn.v3.PaymentMethods.List(c.ctx, merchant)
		if err != nil {
			return err
		}
		for _, m := range methods {
			rows = append(rows, []string{m.ID, m.Name})
		}
	}
	if a.json {
		return c.printJSON(cn)
	}
	if len(rows) == 0 {
		_, err := fmt.Fprintln(c.stdout, "no payment methods")
		return err
	}
	return table(c.stdout, []string{"ID", "NAME"}, rows)
}
