package khipuv3

import "github.com/khipu-go/khipu/internal/rest"

// SetClock makes c's retry loop read the time from clock and wait on it.
func SetClock(c *Client, clock rest.Clock) { c.rest.Clock = clock }
