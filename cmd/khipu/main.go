// Command khipu is Khipu from a terminal: look up a payment a customer asks
// about, create, confirm or refund one, list the banks and payment methods
// of an account, check that a credential works, and, for the developer of a
// notifications 3.0 endpoint in any language, sign, verify and send
// realistic signed notifications to it without paying a real payment:
//
//	go install github.com/khipu-go/khipu/cmd/khipu@latest
//	export KHIPU_API_KEY=...           # API v3
//	khipu banks
//	khipu payments get -json gqzdy6chjne9
//	KHIPU_SECRET=... khipu notify send -to http://127.0.0.1:8080/khipu/notify
//
// Every command takes its flags before its arguments, as Go's flag package
// does (khipu payments get -json ID), and prints a summary for a person, or
// with -json the JSON Khipu answered. The exit status is 0 on success, 1
// when Khipu (or the endpoint, or a signature check) refused, with a
// one-line message on stderr, and 2 for a mistake in the command line.
// Credentials come from the environment (KHIPU_API_KEY, KHIPU_RECEIVER_ID,
// KHIPU_SECRET, KHIPU_BASE_URL) or from flags, and never appear in its
// output or errors. Run khipu -h for the commands and khipu <command> -h
// for a command's flags, each with an example.
//
// It uses only the public API of github.com/khipu-go/khipu and
// github.com/khipu-go/khipu/khipuv3.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}
