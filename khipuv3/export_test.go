package khipuv3

import (
	"net/http"

	"github.com/khipu-go/khipu/internal/rest"
	"github.com/khipu-go/khipu/internal/webhook"
)

// SetClock makes c's retry loop read the time from clock and wait on it.
func SetClock(c *Client, clock rest.Clock) { c.rest.Clock = clock }

// CallbackWaiters is how many callbacks of subscriptionID h (a
// Subscriptions.CallbackHandler) is processing or holding.
func CallbackWaiters(h http.Handler, subscriptionID string) int {
	return h.(*webhook.Handler[*SubscriptionCallback]).Users(subscriptionID)
}

// MaxCallbackLookups is how many lookups a CallbackHandler makes at once.
const MaxCallbackLookups = maxCallbackLookups
