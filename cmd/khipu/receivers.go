package main

import (
	"flag"
	"fmt"
	"strconv"

	"github.com/khipu-go/khipu"
	"github.com/khipu-go/khipu/khipuv3"
)

// receiverFlags are the parameters of receivers create, one flag per field.
type receiverFlags struct {
	adminFirstName, adminLastName, adminEmail, countryCode                    string
	businessIdentifier, businessCategory, businessName, businessPhone         string
	businessAddressLine1, businessAddressLine2, businessAddressLine3          string
	contactFullName, contactJobTitle, contactEmail, contactPhone              string
	bankAccountBankID, bankAccountIdentifier, bankAccountName, bankAccountNum string
	notifyURL, renditionURL                                                   string
}

func (f *receiverFlags) add(fs *flag.FlagSet) {
	for _, v := range []struct {
		p           *string
		name, usage string
	}{
		{&f.adminFirstName, "admin-first-name", "the administrator's first name, e.g. Ana (required)"},
		{&f.adminLastName, "admin-last-name", "the administrator's last name, e.g. Pérez (required)"},
		{&f.adminEmail, "admin-email", "the administrator's e-mail, e.g. ana@shop.example (required)"},
		{&f.countryCode, "country-code", "ISO 3166-1 alpha-2, e.g. CL (required)"},
		{&f.businessIdentifier, "business-identifier", "the business's tax id, e.g. 76.123.456-7 (required)"},
		{&f.businessCategory, "business-category", "e.g. Retail (required)"},
		{&f.businessName, "business-name", `e.g. "Tienda Ana SpA" (required)`},
		{&f.businessPhone, "business-phone", "e.g. +56 2 2345 6789 (required)"},
		{&f.businessAddressLine1, "business-address-line-1", `street and number, e.g. "Av. Siempre Viva 742" (required)`},
		{&f.businessAddressLine2, "business-address-line-2", "commune, e.g. Providencia (required)"},
		{&f.businessAddressLine3, "business-address-line-3", "city, e.g. Santiago (required)"},
		{&f.contactFullName, "contact-full-name", `the contact's name, e.g. "Ana Pérez" (required)`},
		{&f.contactJobTitle, "contact-job-title", "e.g. Owner (required)"},
		{&f.contactEmail, "contact-email", "e.g. ana@shop.example (required)"},
		{&f.contactPhone, "contact-phone", "e.g. +56 9 8765 4321 (required)"},
		{&f.bankAccountBankID, "bank-account-bank-id", "the bank of the account to settle into"},
		{&f.bankAccountIdentifier, "bank-account-identifier", "the account holder's tax id"},
		{&f.bankAccountName, "bank-account-name", "the account holder's name"},
		{&f.bankAccountNum, "bank-account-number", "the account's number"},
		{&f.notifyURL, "notify-url", "the account's default notification URL"},
		{&f.renditionURL, "rendition-url", "where Khipu reports settlements"},
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
	var f receiverFlags
	f.add(fs)
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
		created, err := cn.v2.Receivers.Create(c.ctx, &khipu.ReceiverCreateParams{
			AdminFirstName: f.adminFirstName, AdminLastName: f.adminLastName, AdminEmail: f.adminEmail,
			CountryCode: f.countryCode, BusinessIdentifier: f.businessIdentifier, BusinessCategory: f.businessCategory,
			BusinessName: f.businessName, BusinessPhone: f.businessPhone, BusinessAddressLine1: f.businessAddressLine1,
			BusinessAddressLine2: f.businessAddressLine2, BusinessAddressLine3: f.businessAddressLine3,
			ContactFullName: f.contactFullName, ContactJobTitle: f.contactJobTitle, ContactEmail: f.contactEmail,
			ContactPhone: f.contactPhone, BankAccountBankID: f.bankAccountBankID, BankAccountIdentifier: f.bankAccountIdentifier,
			BankAccountName: f.bankAccountName, BankAccountNumber: f.bankAccountNum, NotifyURL: f.notifyURL,
			RenditionURL: f.renditionURL,
		})
		if err != nil {
			return err
		}
		id, secret = created.ReceiverID, created.Secret
	} else {
		created, err := cn.v3.Receivers.Create(c.ctx, &khipuv3.ReceiverCreateParams{
			AdminFirstName: f.adminFirstName, AdminLastName: f.adminLastName, AdminEmail: f.adminEmail,
			CountryCode: f.countryCode, BusinessIdentifier: f.businessIdentifier, BusinessCategory: f.businessCategory,
			BusinessName: f.businessName, BusinessPhone: f.businessPhone, BusinessAddressLine1: f.businessAddressLine1,
			BusinessAddressLine2: f.businessAddressLine2, BusinessAddressLine3: f.businessAddressLine3,
			ContactFullName: f.contactFullName, ContactJobTitle: f.contactJobTitle, ContactEmail: f.contactEmail,
			ContactPhone: f.contactPhone, BankAccountBankID: f.bankAccountBankID, BankAccountIdentifier: f.bankAccountIdentifier,
			BankAccountName: f.bankAccountName, BankAccountNumber: f.bankAccountNum, NotifyURL: f.notifyURL,
			RenditionURL: f.renditionURL,
		})
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
	if err := v3Only(name, &a); err != nil {
		return err
	}
	cn, err := c.connect(&a)
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
