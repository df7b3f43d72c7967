package khipuv3

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/khipu-go/khipu"
	"github.com/khipu-go/khipu/internal/params"
	"github.com/khipu-go/khipu/internal/rest"
)

// DefaultBaseURL is the address of Khipu's API v3 and of its Automatic
// Payments API: every path starts with /v3/ or /v1/automatic-payment/.
const DefaultBaseURL = "https://payment-api.khipu.com"

// maxIDLength is the longest path id API v3 takes.
const maxIDLength = 255

// userAgent is the User-Agent header of a client made without
// WithUserAgent.
const userAgent = "khipu-go/" + khipu.Version

// Client calls Khipu's API v3 and Automatic Payments API with one API key.
// Create it once with NewClient and share it: it is safe for concurrent use
// by many goroutines and reuses connections.
//
// Its printed form shows the base URL, never the API key.
type Client struct {
	Banks          *BanksService
	Payments       *PaymentsService
	Receivers      *ReceiversService
	PaymentMethods *PaymentMethodsService
	Subscriptions  *SubscriptionsService // Automatic Payments v1
	Charges        *ChargesService       // Automatic Payments v1

	// apiKey returns the API key. It is a function, not a string: a
	// Client value (whose String and Format methods are *Client's) printed
	// with any verb, or dumped by a reflection-based printer, shows a
	// function's address, never the key.
	apiKey  func() string
	baseURL string // without a trailing slash
	rest    rest.Client
}

// NewClient returns a Client that authenticates with apiKey, the API key of
// a collection account (Khipu's account settings show it). It fails on an
// empty or blank key and on a bad option; the error never contains the
// key.
func NewClient(apiKey string, opts ...Option) (*Client, error) {
	if strings.TrimSpace(apiKey) == "" {
		return nil, &khipu.ParamError{Param: "apiKey", Reason: "is empty"}
	}
	if strings.TrimSpace(apiKey) != apiKey {
		return nil, &khipu.ParamError{Param: "apiKey", Reason: "has leading or trailing white space"}
	}
	if params.HasSpaceOrControl(apiKey) {
		// Every call would fail on the header, after retries.
		return nil, &khipu.ParamError{Param: "apiKey", Reason: "has a control character or a space"}
	}
	c := &Client{
		apiKey:  func() string { return apiKey },
		baseURL: DefaultBaseURL,
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
	c.Subscriptions = &SubscriptionsService{client: c}
	c.Charges = &ChargesService{client: c}
	return c, nil
}

// String describes the Client without its API key.
func (c *Client) String() string {
	return "khipuv3.Client{baseURL: " + c.baseURL + ", apiKey: [redacted]}"
}

// GoString hides the API key from %#v.
func (c *Client) GoString() string { return c.String() }

// Format hides the API key from every fmt verb.
func (c *Client) Format(f fmt.State, verb rune) { _, _ = io.WriteString(f, c.String()) }

// call makes one API call: body (nil for none) as JSON, query as the URL's
// query, the API key in its header; the pipeline sends it (retrying only
// reads), and checkResponse turns the answer into out or a typed error.
func (c *Client) call(ctx context.Context, method, path string, query url.Values, body, out any) error {
	if ctx == nil {
		return &khipu.ParamError{Param: "ctx", Reason: "is nil"}
	}
	req := &rest.Request{Method: method, URL: c.baseURL + path, Path: path, Header: make(http.Header)}
	req.Header.Set("x-api-key", c.apiKey())
	req.Header.Set("Accept", "application/json")
	if len(query) > 0 {
		req.URL += "?" + query.Encode()
	}
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("khipu: encoding the request of %s %s: %w", method, path, err)
		}
		req.Body = b
		req.Header.Set("Content-Type", "application/json")
	}
	resp, data, err := c.rest.Do(ctx, req)
	if err != nil {
		return err
	}
	_, secret := out.(*ReceiverCreated)
	return checkResponse(resp, data, out, secret)
}

// checkResponse is this client's mapping of an answer to out or to the typed
// errors of package khipu, whose DecodeResponse it shares with the v2 client
// (a 404 that is not Khipu's JSON, or any error to a request sent below
// /api/2.0, says to check the base URL). The body of a successful answer
// that holds a secret is never kept in an error.
func checkResponse(resp *http.Response, body []byte, out any, secret bool) error {
	err := khipu.DecodeResponse(resp, body, out)
	if err != nil && secret && resp.StatusCode >= 200 && resp.StatusCode <= 299 {
		redactBody(err)
	}
	return err
}

// redactBody replaces the body an UnexpectedResponseError in err keeps with
// a note that it held a secret.
func redactBody(err error) {
	var ue *khipu.UnexpectedResponseError
	if errors.As(err, &ue) && len(ue.Body) > 0 {
		ue.Body = []byte("[redacted: this response carries a secret]")
	}
}

// validID refuses an id that could change the URL path: only letters,
// digits, '-' and '_' reach it.
func validID(param, id string) error {
	if reason := rest.ValidID(id, maxIDLength); reason != "" {
		return &khipu.ParamError{Param: param, Reason: reason}
	}
	return nil
}
