package khiputest

import "time"

// SetRetryWait replaces how s waits between the attempts of an
// asynchronous notification, so that a test sees the waits the server
// chose without sleeping through them. Call it before the first Pay or
// Notify.
func SetRetryWait(s *Server, after func(time.Duration) <-chan time.Time) { s.after = after }
