package khipu

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/google/go-querystring/query"

	"github.com/khipu-go/khipu/internal/rest"
	"github.com/khipu-go/khipu/internal/sign"
	"github.com/khipu-go/khipu/internal/wire"
)

// DefaultBaseURL is the address of Khipu's REST API v2.
const DefaultBaseURL = "https://khipu.com/api/2.0"

// Version is this library's version. It is sent in the User-Agent header.
const Version = "1.0.0"

// DefaultTimeout is the timeout of the http.Client a Client uses when none is
// given: a whole attempt, body included, never takes longer.
const DefaultTimeout = rest.DefaultTimeout

// Client calls Khipu's REST API v2 for one collection account. Create it once
// with NewClient and share it: it is safe for concurrent use by many
// goroutines and reuses connections.
//
// Its printed form shows the receiver id and the base URL, never the secret.
type Client struct {
	Banks          *BanksService
	Payments       *PaymentsService
	Receivers      *ReceiversService
	PaymentMethods *PaymentMethodsService

	receiverID string
	signer     *sign.Signer
	baseURL    string // without a trailing slash
	rest       rest.Client
}

// NewClient returns a Client for the collection account receiverID (numeric)
// signing with secret. It fails on empty or malformed credentials and on a bad
// option; the error never contains the secret.
func NewClient(receiverID, secret string, opts ...Option) (*Client, error) {
	if receiverID == "" {
		return nil, &ParamError{Param: "receiverID", Reason: "is empty"}
	}
	if !wire.Digits(receiverID) {
		// Not echoed: a swapped receiverID and secret would print the secret.
		return nil, &ParamError{Param: "receiverID", Reason: "must be the numeric id of the collection account (are receiverID and secret swapped?)"}
	}
	if secret == "" {
		return nil, &ParamError{Param: "secret", Reason: "is empty"}
	}
	if strings.TrimSpace(secret) != secret {
		return nil, &ParamError{Param: "secret", Reason: "has leading or trailing white space"}
	}
	c := &Client{
		receiverID: receiverID,
		signer:     sign.New(receiverID, secret),
		baseURL:    DefaultBaseURL,
		rest: rest.Client{
			UserAgent: userAgent,
			Retry:     rest.DefaultPolicy,
		},
	}
	if err := rest.Apply(c, opts); err != nil {
		return nil, err
	}
	c.rest.HTTP = rest.HTTPClient(c.rest.HTTP)
	c.Banks = &BanksService{client: c}
	c.Payments = &PaymentsService{client: c}
	c.Receivers = &ReceiversService{client: c}
	c.PaymentMethods = &PaymentMethodsService{client: c}
	return c, nil
}

// userAgent is the User-Agent header of a client made without
// WithUserAgent.
const userAgent = "khipu-go/" + Version

// ReceiverID returns the collection account this Client signs for.
func (c *Client) ReceiverID() string { return c.receiverID }

// String describes the Client without its secret.
func (c *Client) String() string {
	return "khipu.Client{receiverID: " + c.receiverID + ", baseURL: " + c.baseURL + ", secret: [redacted]}"
}

// GoString hides the secret from %#v.
func (c *Client) GoString() string { return c.String() }

// Format hides the secret from every fmt verb.
func (c *Client) Format(f fmt.State, verb rune) { _, _ = io.WriteString(f, c.String()) }

// call makes one API call: it form-encodes params (a struct with url tags,
// or nil), signs exactly what it sends, and hands the request to the
// pipeline, which sends it (retrying only reads); decodeResponse turns the
// answer into out or a typed error.
func (c *Client) call(ctx context.Context, method, path string, params, out any) error {
	if ctx == nil {
		return &ParamError{Param: "ctx", Reason: "is nil"}
	}
	values := url.Values{}
	if params != nil {
		v, err := query.Values(params)
		if err != nil {
			return fmt.Errorf("khipu: encoding parameters: %w", err)
		}
		values = v
	}
	endpoint := c.baseURL + path
	req := &rest.Request{Method: method, URL: endpoint, Path: path, Header: make(http.Header)}
	req.Header.Set("Authorization", c.signer.Authorization(method, endpoint, values))
	req.Header.Set("Accept", "application/json")
	switch {
	case method == http.MethodPost:
		req.Body = []byte(values.Encode())
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	case len(values) > 0:
		req.URL += "?" + values.Encode()
	}
	resp, body, err := c.rest.Do(ctx, req)
	if err != nil {
		return err
	}
	return decodeResponse(resp, body, out, method, path)
}

// maxIDLength is the longest path id API v2 accepts from a caller; Khipu's
// payment ids have 12 characters.
const maxIDLength = 64

// validID refuses an id that could change the URL path: only letters, digits,
// '-' and '_' reach it.
func validID(param, id string) error {
	if reason := rest.ValidID(id, maxIDLength); reason != "" {
		return &ParamError{Param: param, Reason: reason}
	}
	return nil
}
