package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/khipu-go/khipu"
)

// The exit statuses: what the issue and every Unix tool mean by them.
const (
	exitOK     = 0 // done; the endpoint or signature behaved as it should
	exitFailed = 1 // Khipu, the endpoint or a signature check refused, or the network failed
	exitUsage  = 2 // a mistake in the command line or the configuration
)

// cli is one run of the program: where it reads and writes, and the
// credentials it has seen, which no error it prints may contain.
type cli struct {
	ctx            context.Context
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
	secrets        []string // credential values, redacted from every error printed
	help           func()   // prints the help of the command being run
}

// command is one command of the program.
type command struct {
	name    string // "banks", "payments create"
	summary string // one line for khipu -h
	example string // one command line for khipu -h
	run     func(c *cli, name string, args []string) error
}

// commands is every command, in the order khipu -h lists them; a blank
// name starts a new section, whose title is summary.
var commands = []command{
	{summary: "API calls (API v3 by default, API v2 with -api v2):"},
	{"banks", "list the banks that can pay the account (the quickest check that a credential works)", "khipu banks", runBanks},
	{"payment-methods", "list the payment methods of a collection account", "khipu payment-methods 12345", runPaymentMethods},
	{"payments create", "create a payment and print the URLs to send the payer to", `khipu payments create -amount 1000 -currency CLP -subject "Order 42" -transaction-id order-42`, runPaymentsCreate},
	{"payments get", "show a payment: status, amount, payer, bank", "khipu payments get -json gqzdy6chjne9", runPaymentsGet},
	{"payments delete", "delete a payment that is still pending", "khipu payments delete gqzdy6chjne9", runPaymentsDelete},
	{"payments confirm", "confirm a payment (accounts that contracted it)", "khipu payments confirm gqzdy6chjne9", runPaymentsConfirm},
	{"payments refund", "refund a payment: all of it, or -amount", "khipu payments refund -amount 500 gqzdy6chjne9", runPaymentsRefund},
	{"predict", "ask whether a payer can pay an amount from a bank now (API v3)", "khipu predict -payer-email ana@example.com -bank-id Bawdf -amount 50000 -currency CLP", runPredict},
	{"subscriptions create", "ask for an automatic-payment mandate (API v3)", `khipu subscriptions create -name Plan -email ana@example.com -max-amount 20000 -currency CLP ...`, runSubscriptionsCreate},
	{"subscriptions get", "show a mandate and its status (API v3)", "khipu subscriptions get 6c1b1f3e-0a57-4d1e-9a59-6c1ad1c8d7d9", runSubscriptionsGet},
	{"charges create", "charge an enabled mandate (API v3)", "khipu charges create -subscription-id 6c1b1f3e-0a57-4d1e-9a59-6c1ad1c8d7d9 -amount 9990 ...", runChargesCreate},
	{"receivers create", "create a collection account under an integrator account", "khipu receivers create -show-credentials -admin-first-name Ana ...", runReceiversCreate},
	{"receivers children", "list an integrator account's collection accounts, a page at a time (API v3)", "khipu receivers children -sort date_created -order desc -max 20", runReceiversChildren},
	{summary: "Notifications 3.0, signed with the account's secret (KHIPU_SECRET, the \"Llave secreta\"):"},
	{"notify sign", "print the x-khipu-signature value for a body read from stdin", "printf '%s' \"$BODY\" | khipu notify sign -t 1711965600393", runNotifySign},
	{"notify verify", "check a body from stdin and its header as khipuv3 does, and say why one fails", `printf '%s' "$BODY" | khipu notify verify -header "t=...,s=..."`, runNotifyVerify},
	{"notify send", "POST a realistic signed notification to your endpoint and print its answer", "khipu notify send -to http://127.0.0.1:8080/khipu/notify -amount 12990 -transaction-id order-1", runNotifySend},
}

// run runs the command line args and returns the exit status.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	c := &cli{ctx: ctx, stdin: stdin, stdout: stdout, stderr: stderr, getenv: getenv}
	// The credentials are known before anything is parsed, so that an
	// error about a mistake in the command line, which quotes what it was
	// given, hides one typed where it did not belong (-to -secret S makes
	// S an argument).
	c.secrets = credentials(args, getenv)
	if len(args) == 0 {
		c.usage(stdout)
		return exitUsage
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		c.usage(stdout)
		return exitOK
	}
	cmd, rest, err := find(args)
	if err != nil {
		return c.fail(err)
	}
	return c.fail(cmd.run(c, cmd.name, rest))
}

// credentialFlags are the flags whose values are credentials.
var credentialFlags = []string{"secret", "api-key"}

// credentials are the credentials of the environment and those args give
// with a flag, in any of the flag package's forms: -secret S, --secret S,
// -secret=S.
func credentials(args []string, getenv func(string) string) []string {
	found := []string{getenv("KHIPU_SECRET"), getenv("KHIPU_API_KEY")}
	for i, a := range args {
		name, value, hasValue := strings.Cut(strings.TrimPrefix(strings.TrimPrefix(a, "-"), "-"), "=")
		if !strings.HasPrefix(a, "-") || !slices.Contains(credentialFlags, name) {
			continue
		}
		switch {
		case hasValue:
			found = append(found, value)
		case i+1 < len(args):
			found = append(found, args[i+1])
		}
	}
	return found
}

// find returns the command args name, and the arguments after its name.
func find(args []string) (*command, []string, error) {
	if strings.HasPrefix(args[0], "-") {
		return nil, nil, usageErrorf("%s: flags go after the command, e.g. khipu banks -api v2", args[0])
	}
	var group []string
	for i := range commands {
		cmd := &commands[i]
		if cmd.name == "" {
			continue
		}
		first, second, _ := strings.Cut(cmd.name, " ")
		if first != args[0] {
			continue
		}
		if second == "" {
			return cmd, args[1:], nil
		}
		group = append(group, second)
		if len(args) > 1 && args[1] == second {
			return cmd, args[2:], nil
		}
	}
	switch {
	case group == nil:
		return nil, nil, usageErrorf("unknown command %q (khipu -h lists them)", args[0])
	case len(args) == 1:
		return nil, nil, usageErrorf("%s needs one of: %s", args[0], strings.Join(group, ", "))
	}
	return nil, nil, usageErrorf("unknown command %q (%s has: %s)", args[0]+" "+args[1], args[0], strings.Join(group, ", "))
}

// usage writes khipu -h.
func (c *cli) usage(w io.Writer) {
	fmt.Fprint(w, `khipu: Khipu from a terminal. Look up, create, confirm and refund payments,
list banks, check a credential, and send signed notifications 3.0 to your
own endpoint.

Usage:
  khipu <command> [flags] [arguments]     (flags before arguments)
`)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, cmd := range commands {
		if cmd.name == "" {
			fmt.Fprintf(tw, "\n%s\n", cmd.summary)
			continue
		}
		fmt.Fprintf(tw, "  %s\t%s\n  \t  e.g. %s\n", cmd.name, cmd.summary, cmd.example)
	}
	_ = tw.Flush()
	fmt.Fprint(w, `
Configuration, from the environment or the flag named after it:
  KHIPU_API_KEY      the API key of API v3 (-api-key)
  KHIPU_RECEIVER_ID  the collection account's id: API v2, payment-methods (-receiver-id)
  KHIPU_SECRET       the account's secret, the "Llave secreta": signs API v2 calls and
                     notifications 3.0, of either API version (-secret)
  KHIPU_BASE_URL     another address for the API, e.g. a cmd/khiputest's (-base-url)
Prefer the environment to flags for credentials: flags end up in the shell's history.

Output is a summary for a person; -json prints the JSON Khipu answered.
Exit status: 0 success, 1 refused by Khipu, the endpoint or a signature
check (one line on stderr), 2 a mistake in the command line.

Run 'khipu <command> -h' for the flags of a command.
`)
}

// usageError is a mistake in the command line or configuration: exit
// status 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usageErrorf(format string, args ...any) error {
	return &usageError{fmt.Sprintf(format, args...)}
}

// errHelpShown is a -h already answered: exit status 0.
var errHelpShown = errors.New("help shown")

// errReported is a failure whose explanation is already on stdout (a
// refused signature, an endpoint's answer): exit status 1, nothing more on
// stderr.
var errReported = errors.New("reported")

// fail prints err, if any, as one line on stderr without any credential,
// and returns the exit status it means.
func (c *cli) fail(err error) int {
	var usage *usageError
	var param *khipu.ParamError
	switch {
	case err == nil, errors.Is(err, errHelpShown):
		return exitOK
	case errors.Is(err, errReported):
		return exitFailed
	}
	// The library's errors start with "khipu: " already.
	fmt.Fprintln(c.stderr, "khipu: "+strings.TrimPrefix(c.redact(err.Error()), "khipu: "))
	if errors.As(err, &usage) || errors.As(err, &param) {
		// A ParamError was refused by the library before anything was
		// sent: a value given on the command line, or a missing one.
		return exitUsage
	}
	return exitFailed
}

// redact makes s one line and replaces every credential in it.
func (c *cli) redact(s string) string {
	for _, secret := range c.secrets {
		// A credential too short to be a real one (Khipu's secrets have
		// 40 characters) would redact ordinary words.
		if len(secret) >= minRedacted {
			s = strings.ReplaceAll(s, secret, "[redacted]")
		}
	}
	return oneLine(s)
}

// oneLine replaces line breaks and other control characters, which could
// forge lines or move a terminal's cursor, with a space or their escape.
func oneLine(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\n' || r == '\r' || r == '\t':
			b.WriteByte(' ')
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == '\u2028' || r == '\u2029':
			q := fmt.Sprintf("%+q", r)
			b.WriteString(q[1 : len(q)-1])
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// newFlags returns the flag set of a command: its usage, on -h, prints what
// the command does, its arguments, an example and every flag.
func (c *cli) newFlags(name, args, doc, example string) *flag.FlagSet {
	fs := flag.NewFlagSet("khipu "+name, flag.ContinueOnError)
	// parse reports errors itself, on one line, and prints the help only
	// when asked (flag calls Usage on every error).
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	c.help = func() {
		w := c.stdout
		fmt.Fprintf(w, "Usage: %s\n\n%s\n\nExample:\n  %s\n\nFlags (before the arguments):\n", strings.TrimSpace("khipu "+name+" [flags] "+args), strings.TrimSpace(doc), example)
		fs.SetOutput(w)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
	}
	return fs
}

// parse parses a command's flags and returns its arguments, of which it
// wants between min and max. -h prints the usage and returns errHelpShown.
func (c *cli) parse(fs *flag.FlagSet, args []string, min, max int) ([]string, error) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			c.help()
			return nil, errHelpShown
		}
		return nil, usageErrorf("%s: %v (%s -h for help)", fs.Name(), err, fs.Name())
	}
	rest := fs.Args()
	for _, a := range rest {
		if strings.HasPrefix(a, "-") && len(a) > 1 {
			return nil, usageErrorf("%s: flag %s after an argument: flags go before the arguments (%s -h for help)", fs.Name(), a, fs.Name())
		}
	}
	switch {
	case len(rest) < min:
		return nil, usageErrorf("%s: missing argument (%s -h for help)", fs.Name(), fs.Name())
	case len(rest) > max:
		return nil, usageErrorf("%s: unexpected argument %q (%s -h for help)", fs.Name(), rest[max], fs.Name())
	}
	return rest, nil
}

// amountFlag is a khipu.Amount flag: exact decimal, never a float.
type amountFlag struct {
	a   khipu.Amount
	set bool
}

func (f *amountFlag) String() string {
	if f == nil || !f.set {
		return ""
	}
	return f.a.String()
}

func (f *amountFlag) Set(s string) error {
	a, err := khipu.ParseAmount(s)
	if err != nil {
		return err
	}
	f.a, f.set = a, true
	return nil
}

// minRedacted is the length from which a credential is redacted from
// errors.
const minRedacted = 8
