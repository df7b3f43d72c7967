// What Khipu probably accepts but is likely a mistake: a warning on the
// request by default, a 400 with WithStrict.

package khiputest

import (
	"context"
	"log/slog"
)

// question records that the request's field is probably accepted by Khipu
// but likely a mistake, as what says ("is null: leave out a field that is
// not set"): by default a warning on the request (Request.Warnings, and the
// server's log) saying what the server did with it instead (effect), and
// nil; with WithStrict a field error, which it returns.
func (c *call) question(field, what, effect string) []fieldError {
	if c.strict {
		return []fieldError{{field, what}}
	}
	c.warnings = append(c.warnings, field+" "+what+": "+effect)
	return nil
}

// logWarnings logs, to the server's logger if it has one (WithLogger), each
// warning of a request to endpoint, at warn level.
func (s *Server) logWarnings(endpoint string, warnings []string) {
	if s.log == nil {
		return
	}
	for _, w := range warnings {
		s.log.LogAttrs(context.Background(), slog.LevelWarn, "khiputest: a request Khipu probably accepts, but likely a mistake",
			slog.String("endpoint", endpoint), slog.String("warning", w))
	}
}
