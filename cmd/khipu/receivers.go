package main

import (
	"flag"
	"fmt"
	"strconv"

	"github.com/khipu-go/khipu"
	"github.com/khipu-go/khipu/khipuv3"
)

// addReceiverFlags adds a flag for each parameter of receivers create,
// named after its JSON name with dashes.
func addReceiverFlags(fs *flag.FlagSet, p *khipuv3.ReceiverCreateParams) {
	for _, v := range []struct {
		p           *string
		name, usage string
	}{
		{&p.AdminFirstName, "admin-first-name", "the administrator's first name, e.g. Ana (required)"},
		{&p.AdminLastName, "admin-last-name", "the administrator's last name, e.g. Pérez (required)"},
		{&p.AdminEmail, "admin-email", "the administrator's e-mail, e.g. ana@shop.example (required)"},
		{&p.CountryCode, "country-code", "ISO 3166-1 alpha-2, e.g. CL (required)"},
		{&p.BusinessIdentifier, "business-identifier", "the business's tax id, e.g. 76.123.456-7 (required)"},
		{&p.BusinessCategory, "business-category", "e.g. Retail (required)"},
		{&p.BusinessName, "business-name", `e.g. "Tienda Ana SpA" (required)`},
		{&p.BusinessPhone, "business-phone", "e.g. +56 2 2345 6789 (required)"},
		{&p.BusinessAddressLine1, "business-address-line-1", `street and number, e.g. "Av. Siempre Viva 742" (required)`},
		{&p.BusinessAddressLine2, "business-address-line-2", "commune, e.g. Providencia (required)"},
		{&p.BusinessAddressLine3, "business-address-line-3", "city, e.g. Santiago (required)"},
		{&p.ContactFullName, "contact-full-name", `the contact's name, e.g. "Ana Pérez" (required)`},
		{&p.ContactJobTitle, "contact-job-title", "e.g. Owner (required)"},
		{&p.ContactEmail, "contact-email", "e.g. ana@shop.example (required)"},
		{&p.ContactPhone, "contact-phone", "e.g. +56 9 8765 4321 (required)"},
		{&p.BankAccountBankID, "bank-account-bank-id", "the bank of the account to settle into"},
		{&p.BankAccountIdentifier, "bank-account-identifier", "the account holder's tax id"},
		{&p.BankAccountName, "bank-account-name", "the account holder's name"},
		{&p.BankAccountNumber, "bank-account-number", "the account's number"},
		{&p.NotifyURL, "notify-url", "the account's default notification URL"},
		{&p.RenditionURL, "rendition-url", "where Khipu reports settlements"},
	} {
		fs.StringVar(v.p, v.name, "", v.usage)
	}
}

func runReceiversCreate(c *cli, name string, args []string) error {
	fs := c.newFlags(name, "", `
Creates a collection account under an integrator account (only for
integrators who contracted it) and prints its receiver id and credentials.
Khipu shows a new account's secret (and, in API v3, its API key) only in
this answer, and this command prints credentials only when asked: so it
needs -show-credentials, and without it creates nothing. Keep what it
prints as you keep your own credentials.`,
		`khipu receivers create -show-credentials -admin-first-name Ana -admin-last-name Pérez -admin-email ana@shop.example -country-code CL ...`)
	var a apiFlags
	addAPIFlags(fs, &a, true)
	var p khipuv3.ReceiverCreateParams
	addReceiverFlags(fs, &p)
	show := fs.Bool("show-credentials", false, "print the new account's secret and API key (required: Khipu shows them only once)")
	if _, err := c.parse(fs, args, 0, 0); err != nil {
		return err
	}
	if !*show {
		return usageErrorf("%s: -show-credentials is required: Khipu shows the new account's secret only in its answer, and this command prints credentials only when asked", fs.Name())
	}
	cn, err := c.connect(&a)
	if err != nil {
		return err
	}
	var id, secret, apiKey string
	if cn.v2 != nil {
		// API v2's parameters are v3's fields (with form tags): a
		// conversion, which stops compiling the day the two differ.
		v2 := khipu.ReceiverCreateParams(p)
		created, err := cn.v2.Receivers.Create(c.ctx, &v2)
		if err != nil {
			return err
		}
		id, secret = created.ReceiverID, created.Secret
	} else {
		created, err := cn.v3.Receivers.Create(c.ctx, &p)
		if err != nil {
			return err
		}
		// API v3 answers with the new account's API key too.
		id, secret, apiKey = created.ReceiverID, created.Secret, created.APIKey
	}
	if a.json {
		return c.printJSON(cn)
	}
	var s summary
	s.always("receiver_id", id)
	s.always("secret", secret)
	s.add("api_key", apiKey)
	return s.write(c.stdout)
}

func runReceiversChildren(c *cli, name string, args []string) error {
	fs := c.newFlags(name, "", `
Lists the collection accounts of an integrator account (API v3; only for
integrators who contracted it), a page at a time: each one's receiver id,
name, when it was created, and whether it is disabled and can collect.
-offset and -max choose the page, -sort and -order its order; each left out
is Khipu's default. The last line says how many accounts there are in all,
and the -offset of the next page.`,
		"khipu receivers children -sort date_created -order desc -max 20")
	var a apiFlags
	addAPIFlags(fs, &a, true)
	var p khipuv3.ReceiverChildrenParams
	fs.IntVar(&p.Offset, "offset", 0, "how many accounts to skip, e.g. 20 for the second page of -max 20")
	fs.IntVar(&p.Max, "max", 0, "the most accounts to list, e.g. 20 (default: Khipu's)")
	fs.StringVar(&p.Sort, "sort", "", "what to sort by: id, name or date_created, e.g. name (default: Khipu's)")
	fs.StringVar(&p.Order, "order", "", "asc or desc, e.g. desc (default: Khipu's)")
	if _, err := c.parse(fs, args, 0, 0); err != nil {
		return err
	}
	cn, err := c.connectV3(name, &a)
	if err != nil {
		return err
	}
	page, err := cn.v3.Receivers.Children(c.ctx, &p)
	if err != nil {
		return err
	}
	if a.json {
		return c.printJSON(cn)
	}
	if len(page.Receivers) > 0 {
		rows := make([][]string, len(page.Receivers))
		for i, r := range page.Receivers {
			rows[i] = []string{r.ID, r.Name, formatTime(r.DateCreated), strconv.FormatBool(r.Disabled), strconv.FormatBool(r.CanCollect)}
		}
		if err := table(c.stdout, []string{"ID", "NAME", "DATE_CREATED", "DISABLED", "CAN_COLLECT"}, rows); err != nil {
			return err
		}
	}
	_, err = fmt.Fprintln(c.stdout, "total: "+pageNote(p.Offset, len(page.Receivers), page.Total))
	return err
}

// pageNote is the total of a page of n accounts listed from offset, and
// which of them the page holds when it does not hold them all.
func pageNote(offset, n, total int) string {
	first, last := offset+1, offset+n
	switch {
	case n == 0 && offset > 0:
		return fmt.Sprintf("%d (none from -offset %d)", total, offset)
	case n == 0 || first == 1 && last == total:
		return strconv.Itoa(total)
	case last < total:
		return fmt.Sprintf("%d (%d to %d listed; -offset %d for the next page)", total, first, last, last)
	}
	return fmt.Sprintf("%d (%d to %d listed)", total, first, last)
}
