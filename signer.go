package khipu

// Requests are signed by internal/sign, which this package shares with
// khiputest so that client and test server sign with the same code, checked
// against the vectors Khipu's official client produced
// (testdata/signing-vectors.json):
//
//	Authorization: <receiver_id>:hex(HMAC-SHA256(secret,
//	    METHOD & encode(url) [& encode(key)=encode(value)]...))
//
// with the parameters sorted by key and encode being RFC 3986 percent
// encoding. The Client signs exactly the parameters it sends, once per call;
// retries of a GET reuse the signature.
