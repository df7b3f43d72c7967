package khiputest

import (
	"net/http"
	"net/url"
	"slices"
)

// Request is one API request the server received, for assertions.
type Request struct {
	Method string // GET, POST or DELETE
	// Path is the request's path below URL() for v2, e.g.
	// "/payments/abc123def456", and below V3URL() for v3 and automatic
	// payments, e.g. "/v3/payments/abc123def456".
	Path     string
	Endpoint string // the endpoint it matched, e.g. EndpointPaymentsGet; empty for none
	// Params are the request's parameters: its query for GET and DELETE
	// (v2 and v3), its decoded form body for a v2 POST. A v3 POST has its
	// parameters in Body and none here.
	Params url.Values
	// Body is the request's body as received: a v3 POST's JSON, a v2
	// POST's form. It is empty for a request without one.
	Body []byte
	// Header is the request's header as received, credentials included
	// (GET /khiputest/requests of the control API hides them).
	Header http.Header
	// ReceiverID is, in v2, the account the Authorization header named,
	// whether or not its signature was valid; in v3, the account whose
	// x-api-key the request carried, or "" when the key was wrong.
	ReceiverID string
	Status     int // the status the server answered
	// Warnings are what the request sent that Khipu probably accepts but
	// is likely a mistake, each naming the field and what the server did
	// with it: a v3 field that is null ("transaction_id is null: leave out
	// a field that is not set: taken as left out") or that the endpoint
	// does not define, an integrator_fee from an account without an
	// integrator. With WithStrict each is refused with a 400 instead.
	Warnings []string
}

// Requests returns the API requests the server has received so far, oldest
// first: all of them, or the last n with WithMaxRequests. Payment pages, the
// control API and notifications are not included.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Request, len(s.requests))
	for i, r := range s.requests {
		r.Params = cloneValues(r.Params)
		r.Body = slices.Clone(r.Body)
		r.Header = r.Header.Clone()
		r.Warnings = slices.Clone(r.Warnings)
		out[i] = r
	}
	return out
}

// record keeps rec for Requests, forgetting the oldest request when the
// server keeps no more (WithMaxRequests).
func (s *Server) record(rec Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.keep > 0 && len(s.requests) >= s.keep {
		// Dropped from the front, the oldest would stay in the array
		// until append moves it: clear it so that its body can go now.
		s.requests[0] = Request{}
		s.requests = s.requests[1:]
	}
	s.requests = append(s.requests, rec)
}
