package khipu

// DecodePaymentBody is how the client decodes a payment response, for the
// benchmarks of package khipu_test.
func DecodePaymentBody(p *Payment, body []byte) error { return p.decodeBody(body) }
