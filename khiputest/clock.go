package khiputest

import (
	"bytes"
	"io"
	"math"
	"net/http"
	"time"
)

// What the control API adds for the ways a payment goes wrong that a test
// in another language cannot play with Go: a notification lost, and time
// passing.

// controlPay serves POST /khiputest/payments/{id}/pay: Pay, or, with the
// body {"notify": false}, PayWithoutNotifying. Without a body it is Pay, as
// it always was. The answer of a payment paid without notifying has its
// notify_url but no notify_status: nothing was sent.
func (s *Server) controlPay(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Notify *bool `json:"notify"`
	}
	if !controlReadOptional(w, r, &in) {
		return
	}
	if in.Notify != nil && !*in.Notify {
		s.controlPayment(s.PayWithoutNotifying, false)(w, r)
		return
	}
	s.controlPayment(s.Pay, true)(w, r)
}

// controlClock serves POST /khiputest/clock, {"advance": "90m"}: it moves
// the server's clock forward by a Go duration ("90m", "36h", "1h30m"), on
// top of WithClock's clock when there is one, so that a payment passes its
// expires_date: it can no longer be paid, and its page says it expired. A
// payment made done after that (POST .../status) is reconciled out of date.
// It answers the server's time after the move, {"now": "<RFC 3339>"};
// "advance": "0s" reads it. The clock never goes back: a negative duration
// is a 400.
func (s *Server) controlClock(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Advance string `json:"advance"`
	}
	if !controlRead(w, r, &in) {
		return
	}
	d, err := time.ParseDuration(in.Advance)
	switch {
	case err != nil:
		controlError(w, http.StatusBadRequest, `advance must be a Go duration such as "90m" or "36h": `+err.Error())
		return
	case d < 0:
		controlError(w, http.StatusBadRequest, "advance "+in.Advance+": the clock only moves forward")
		return
	}
	for {
		old := s.offset.Load()
		if int64(d) > math.MaxInt64-old {
			controlError(w, http.StatusBadRequest, "advance "+in.Advance+": the clock would move more than 290 years in all")
			return
		}
		if s.offset.CompareAndSwap(old, old+int64(d)) {
			break
		}
	}
	controlJSON(w, map[string]string{"now": s.now().UTC().Format(time.RFC3339Nano)})
}

// controlReadOptional is controlRead for a route whose body may be left
// out: an empty body leaves v as it is.
func controlReadOptional(w http.ResponseWriter, r *http.Request, v any) bool {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxRequestBody))
	if err != nil {
		controlError(w, http.StatusBadRequest, "reading the body: "+err.Error())
		return false
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return true
	}
	if err := decodeControl(bytes.NewReader(body), v); err != nil {
		controlError(w, http.StatusBadRequest, "the body must be a JSON object of this route's fields: "+err.Error())
		return false
	}
	return true
}
