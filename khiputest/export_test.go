package khiputest

import "time"

// SetRetryWait replaces how s waits between the attempts of an
// asynchronous notification, so that a test sees the waits the server
// chose without sleeping through them. Call it before the first Pay or
// Notify.
func SetRetryWait(s *Server, after func(time.Duration) <-chan time.Time) { s.after = after }

// QueuedFaults is how many entries s keeps for the failures FailNext
// queued for endpoint and that are still to come.
func QueuedFaults(s *Server, endpoint string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.faults[endpoint])
}
