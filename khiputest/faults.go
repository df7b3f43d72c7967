package khiputest

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// FailNext makes the next times requests to endpoint (one of the Endpoint
// constants, e.g. EndpointPaymentsCreate or EndpointV3PaymentsCreate) fail
// with status, before the server looks at them: nothing is created, paid or
// changed. Calls add up: FailNext(e, 503, 1) then FailNext(e, 502, 1) fails
// the next two requests, with 503 and then 502.
//
// In v2, a 400, 403 or 503 is answered with Khipu's JSON error for that
// status; in v3 and automatic payments, a 400, 401, 403, 404, 500 or 503.
// Any other status is answered with an HTML page, as a proxy in front of
// Khipu would answer.
//
// A khipu.Client retries a read (GET) that fails with 502, 503 or 504, twice
// by default: to make such a call fail, make times exceed its retries, or
// give the client WithRetry(khipu.RetryPolicy{}), which turns retries off.
//
// It panics when endpoint is not one of the Endpoint constants, status is
// not an HTTP error status (400-599) or times is less than 1 or more than
// MaxFailNextTimes: a test that meant to inject a failure and injected none
// would pass for the wrong reason, and one that asks for more failures than
// any test makes has a bug.
func (s *Server) FailNext(endpoint string, status, times int) {
	if err := checkFault(endpoint, status, times); err != nil {
		panic("khiputest: FailNext: " + err.Error())
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	// One entry per call, not per failure: what times costs in memory does
	// not depend on its value.
	s.faults[endpoint] = append(s.faults[endpoint], fault{status: status, remaining: times})
}

// MaxFailNextTimes is the most failures one FailNext call (or one POST
// /khiputest/fail-next) queues: more than any test makes, and a bound on a
// mistyped value. Calls add up, so a test that needs more calls FailNext
// again.
const MaxFailNextTimes = 1000

// fault is one FailNext call's failures still to come.
type fault struct {
	status    int
	remaining int // at least 1 while queued
}

// checkFault says what is wrong with FailNext's arguments, if anything, in
// words that suit the control API's fail-next too, whose users write the
// endpoint as a string.
func checkFault(endpoint string, status, times int) error {
	switch {
	case !slices.Contains(endpoints, endpoint):
		return fmt.Errorf("unknown endpoint %q; the endpoints are %s", endpoint, quoted(endpoints))
	case status < 400 || status > 599:
		return fmt.Errorf("status %d is not an HTTP error status (400-599)", status)
	case times < 1:
		return fmt.Errorf("times %d; want at least 1", times)
	case times > MaxFailNextTimes:
		return fmt.Errorf("times %d; want at most %d", times, MaxFailNextTimes)
	}
	return nil
}

// quoted is list as "a", "b", "c".
func quoted(list []string) string {
	q := make([]string, len(list))
	for i, s := range list {
		q[i] = strconv.Quote(s)
	}
	return strings.Join(q, ", ")
}

func (s *Server) takeFault(endpoint string) (int, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	queue := s.faults[endpoint]
	if len(queue) == 0 {
		return 0, false
	}
	status := queue[0].status
	if queue[0].remaining--; queue[0].remaining == 0 {
		s.faults[endpoint] = queue[1:]
	}
	return status, true
}

// faultResponse is the answer to a request FailNext made fail.
func faultResponse(d *dialect, status int) response {
	switch {
	case status == http.StatusBadRequest:
		return validationResponse([]fieldError{{Field: "khiputest", Message: "failure injected with FailNext"}})
	case slices.Contains(d.faultJSON, status):
		return errorResponse(status, "failure injected with FailNext")
	}
	text := fmt.Sprintf("%d %s", status, http.StatusText(status))
	return response{status: status, html: true, body: "<html>\r\n<head><title>" + text +
		"</title></head>\r\n<body>\r\n<center><h1>" + text + "</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"}
}
