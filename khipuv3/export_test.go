package khipuv3

import (
	"net/http"

	"github.com/khipu-go/khipu/internal/webhook"
)

// CallbackWaiters is how many callbacks of subscriptionID h (a
// Subscriptions.CallbackHandler) is processing or holding.
func CallbackWaiters(h http.Handler, subscriptionID string) int {
	return h.(*webhook.Handler[*SubscriptionCallback]).Users(subscriptionID)
}

// MaxCallbackLookups is how many lookups a CallbackHandler makes at once.
const MaxCallbackLookups = maxCallbackLookups
