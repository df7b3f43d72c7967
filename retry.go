package khipu

import "time"

// RetryPolicy says how GET requests are retried. Only reads are ever retried,
// and only on a 502, 503 or 504 status or a transport error: Khipu's API has
// no idempotency keys, so repeating a POST or DELETE could create, confirm or
// refund twice.
//
// A Client made without WithRetry retries a read twice, waiting between
// 200 ms and 2 s. Package khipuv3 takes the same policy.
type RetryPolicy struct {
	MaxRetries int           // retries after the first attempt; 0 disables retries; at most 10
	MinBackoff time.Duration // the shortest wait between attempts; 0 means 200 ms
	MaxBackoff time.Duration // the longest; 0 means 2 s (or MinBackoff, if larger)
}
