package rest

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// BaseURL checks a base URL given to a client's WithBaseURL: an absolute
// http or https URL without a query, a fragment or user info. It returns it
// without a trailing slash.
func BaseURL(u string) (string, error) {
	parsed, err := absoluteURL(u)
	if err != nil {
		return "", err
	}
	if parsed.RawQuery != "" || parsed.ForceQuery || parsed.Fragment != "" || parsed.User != nil {
		return "", errors.New("must not have a query, a fragment or user info")
	}
	return strings.TrimRight(parsed.String(), "/"), nil
}

// AbsoluteURL refuses a URL Khipu could not reach: one that is not an
// absolute http or https URL.
func AbsoluteURL(u string) error {
	_, err := absoluteURL(u)
	return err
}

func absoluteURL(u string) (*url.URL, error) {
	parsed, err := url.Parse(u)
	if err != nil {
		return nil, err
	}
	if (parsed.Scheme != "https" && parsed.Scheme != "http") || parsed.Host == "" {
		return nil, errors.New("must be an absolute http or https URL")
	}
	return parsed, nil
}

// UserAgent is the User-Agent header for a product given to WithUserAgent,
// followed by base ("khipu-go/<version>").
func UserAgent(product, base string) (string, error) {
	product = strings.TrimSpace(product)
	if product == "" {
		return "", errors.New("is empty")
	}
	for _, r := range product {
		if r < 0x20 || r == 0x7f {
			return "", errors.New("has a control character")
		}
	}
	return product + " " + base, nil
}

// ValidID refuses a path id that could change the URL: only letters,
// digits, '-' and '_', at most maxLen bytes. It returns the reason, or "".
func ValidID(id string, maxLen int) string {
	if id == "" {
		return "is empty"
	}
	if len(id) > maxLen {
		return "is longer than " + strconv.Itoa(maxLen) + " characters"
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return fmt.Sprintf("has %q at byte %d: only letters, digits, '-' and '_' are allowed", c, i)
		}
	}
	return ""
}
