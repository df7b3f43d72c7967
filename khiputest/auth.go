package khiputest

import (
	"crypto/subtle"
	"net/http"
	"net/url"
	"strings"
)

// authenticate returns the account the request acts as, or nil and the
// error to answer: a 403 for a v2 request without a valid signature, a 401
// for a v3 request without the API key.
func (s *Server) authenticate(d *dialect, r *http.Request, params url.Values) (*account, response) {
	if d.v3 {
		if acc := s.keyAccount(r); acc != nil {
			return acc, response{}
		}
		return nil, errorResponse(http.StatusUnauthorized, "missing or invalid API key: send it in the x-api-key header")
	}
	// Khipu checks a signature against its own address, whatever Host the
	// request carries: a client signs the URL it sends the request to, so a
	// request sent through a proxy at another address fails, as at Khipu.
	// Here that address is the public one (WithPublicURL), if any.
	s.mu.Lock()
	caller := s.signedBy(r.Header.Get("Authorization"), r.Method, s.base+r.URL.EscapedPath(), params)
	s.mu.Unlock()
	if caller == nil {
		return nil, errorResponse(http.StatusForbidden, "invalid credentials: the Authorization header is not a valid signature of this request")
	}
	return caller, response{}
}

// keyAccount returns the account whose API key the request carries, or nil:
// the server's own (APIKey), or one that POST /v3/receivers created.
func (s *Server) keyAccount(r *http.Request) *account {
	key := []byte(r.Header.Get("x-api-key"))
	s.mu.Lock()
	defer s.mu.Unlock()
	var found *account
	for _, acc := range s.accounts { // every key compared, in constant time
		if subtle.ConstantTimeCompare(key, []byte(acc.apiKey)) == 1 {
			found = acc
		}
	}
	return found
}

// claimedReceiver is the account a request says it acts as, for
// Request.ReceiverID.
func (s *Server) claimedReceiver(d *dialect, r *http.Request) string {
	if d.v3 {
		if acc := s.keyAccount(r); acc != nil {
			return acc.id
		}
		return ""
	}
	id, _, _ := strings.Cut(r.Header.Get("Authorization"), ":")
	return id
}

// signedBy returns the account whose valid signature header carries, or
// nil. s.mu must be held.
func (s *Server) signedBy(header, method, fullURL string, params url.Values) *account {
	receiverID, _, ok := strings.Cut(header, ":")
	if !ok {
		return nil
	}
	acc := s.accounts[receiverID]
	if acc == nil || !acc.signer.Valid(header, method, fullURL, params) {
		return nil
	}
	return acc
}
