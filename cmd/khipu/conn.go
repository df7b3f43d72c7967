package main

import (
	"bytes"
	"cmp"
	"flag"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/khipu-go/khipu"
	"github.com/khipu-go/khipu/khipuv3"
)

// apiFlags are the flags of every command that calls Khipu's API.
type apiFlags struct {
	api        string
	baseURL    string
	apiKey     string
	receiverID string
	secret     string
	json       bool
}

// addAPIFlags adds the API flags to fs; withJSON adds -json too.
func addAPIFlags(fs *flag.FlagSet, a *apiFlags, withJSON bool) {
	fs.StringVar(&a.api, "api", "v3", "Khipu's API: v3 (KHIPU_API_KEY) or v2 (KHIPU_RECEIVER_ID and KHIPU_SECRET)")
	fs.StringVar(&a.baseURL, "base-url", "", "the API's base URL, e.g. http://127.0.0.1:8090 for a cmd/khiputest (default $KHIPU_BASE_URL, else Khipu's)")
	fs.StringVar(&a.apiKey, "api-key", "", "the API key of API v3 (default $KHIPU_API_KEY)")
	fs.StringVar(&a.receiverID, "receiver-id", "", "the collection account's id, e.g. 12345 (default $KHIPU_RECEIVER_ID)")
	fs.StringVar(&a.secret, "secret", "", "the account's secret, for API v2 (default $KHIPU_SECRET)")
	if withJSON {
		fs.BoolVar(&a.json, "json", false, "print the JSON Khipu answered instead of a summary")
	}
}

// resolve fills what the flags left empty from the environment, and
// remembers the credentials, so that no error shows them.
func (c *cli) resolve(a *apiFlags) error {
	a.baseURL = cmp.Or(a.baseURL, c.getenv("KHIPU_BASE_URL"))
	a.apiKey = cmp.Or(a.apiKey, c.getenv("KHIPU_API_KEY"))
	a.receiverID = cmp.Or(a.receiverID, c.getenv("KHIPU_RECEIVER_ID"))
	a.secret = cmp.Or(a.secret, c.getenv("KHIPU_SECRET"))
	c.secrets = append(c.secrets, a.apiKey, a.secret)
	if a.api != "v2" && a.api != "v3" {
		return usageErrorf("-api %q: want v2 or v3", a.api)
	}
	return nil
}

// conn is a connection to Khipu: one of the two clients, and the body of
// the last answer, for -json.
type conn struct {
	v2      *khipu.Client
	v3      *khipuv3.Client
	capture *capture
}

// userAgent names the program to Khipu.
const userAgent = "khipu-cli"

// connect makes the client a's flags ask for.
func (c *cli) connect(a *apiFlags) (*conn, error) {
	if err := c.resolve(a); err != nil {
		return nil, err
	}
	cp := &capture{base: http.DefaultTransport}
	hc := &http.Client{Timeout: khipu.DefaultTimeout, Transport: cp}
	if a.api == "v2" {
		if a.receiverID == "" || a.secret == "" {
			return nil, usageErrorf("-api v2 needs KHIPU_RECEIVER_ID and KHIPU_SECRET (or -receiver-id and -secret)")
		}
		opts := []khipu.Option{khipu.WithHTTPClient(hc), khipu.WithUserAgent(userAgent)}
		if a.baseURL != "" {
			opts = append(opts, khipu.WithBaseURL(v2BaseURL(a.baseURL)))
		}
		client, err := khipu.NewClient(a.receiverID, a.secret, opts...)
		if err != nil {
			return nil, err
		}
		return &conn{v2: client, capture: cp}, nil
	}
	if a.apiKey == "" {
		return nil, usageErrorf("API v3 needs KHIPU_API_KEY (or -api-key); -api v2 uses KHIPU_RECEIVER_ID and KHIPU_SECRET")
	}
	opts := []khipuv3.Option{khipuv3.WithHTTPClient(hc), khipuv3.WithUserAgent(userAgent)}
	if a.baseURL != "" {
		opts = append(opts, khipuv3.WithBaseURL(a.baseURL))
	}
	client, err := khipuv3.NewClient(a.apiKey, opts...)
	if err != nil {
		return nil, err
	}
	return &conn{v3: client, capture: cp}, nil
}

// connectV3 is connect for a command API v2 does not have: it refuses
// -api v2.
func (c *cli) connectV3(name string, a *apiFlags) (*conn, error) {
	if a.api == "v2" {
		return nil, usageErrorf("%s is a call of API v3 only: leave out -api v2", name)
	}
	return c.connect(a)
}

// v2BaseURL is base as API v2's base URL: a URL with no path is a server's
// root, such as a cmd/khiputest's, and API v2 lives below /api/2.0 there,
// as at Khipu. So one KHIPU_BASE_URL serves both APIs.
func v2BaseURL(base string) string {
	u, err := url.Parse(base)
	if err != nil || strings.Trim(u.Path, "/") != "" {
		return base // WithBaseURL reports what is wrong with it
	}
	return strings.TrimSuffix(base, "/") + "/api/2.0"
}

// capture is a transport that keeps the body of the last answer, which
// -json prints as Khipu sent it (the library's models decode it; they do
// not keep every answer's bytes).
type capture struct {
	base http.RoundTripper
	mu   sync.Mutex
	last []byte
}

// maxCapture bounds the answer kept; Khipu's are a few KiB.
const maxCapture = 8 << 20

func (c *capture) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := c.base.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxCapture))
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.last = body
	c.mu.Unlock()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return resp, nil
}

// body is the last answer's body.
func (c *capture) body() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.last
}

// printJSON prints the last answer as Khipu sent it, ending with a newline.
func (c *cli) printJSON(cn *conn) error {
	body := bytes.TrimRight(cn.capture.body(), "\r\n")
	_, err := c.stdout.Write(append(body, '\n'))
	return err
}

// formatTime is how summaries print a date: RFC 3339 in the zone Khipu
// sent it, or "" for none.
func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format(time.RFC3339Nano)
}
