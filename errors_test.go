package khipu_test

// What an error says and holds: every answer that is not a success opens as
// an *APIError, says what happened on one line whatever Khipu's message
// holds, and keeps at most 1 KiB of the body.

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/khipu-go/khipu"
)

// noRetries is a client option for tests that count on one attempt.
var noRetries = khipu.WithRetry(khipu.RetryPolicy{})

// answerOnce starts a server that answers every request with status,
// contentType and body, and returns a client for it that never retries.
func answerOnce(t *testing.T, status int, contentType string, body []byte) *khipu.Client {
	t.Helper()
	mux, c, base := setup(t, noRetries)
	serve(t, mux, base, status, contentType, body)
	return c
}

func TestEveryErrorAnswerOpensAsAnAPIError(t *testing.T) {
	html := fixture(t, "error-502.html")
	cases := []struct {
		name        string
		status      int
		contentType string
		body        []byte
		message     string                        // APIError.Message
		typed       func(t *testing.T, err error) // the specific type still works
	}{
		{"400 validation", 400, "application/json", fixture(t, "error-400.json"), "Parámetros inválidos", func(t *testing.T, err error) {
			var ve *khipu.ValidationError
			require.ErrorAs(t, err, &ve)
			assert.Equal(t, 400, ve.StatusCode)
			assert.Equal(t, "Parámetros inválidos", ve.Message)
			assert.Equal(t, []khipu.FieldError{
				{Field: "amount", Message: "El monto debe ser mayor que 0"},
				{Field: "currency", Message: "Moneda no soportada"},
			}, ve.Errors)
		}},
		{"401 authorization", 401, "application/json", []byte(`{"status":401,"message":"Credenciales inválidas"}`), "Credenciales inválidas", func(t *testing.T, err error) {
			var ae *khipu.AuthorizationError
			require.ErrorAs(t, err, &ae, "a 401 is an AuthorizationError, like a 403")
			assert.Equal(t, 401, ae.StatusCode)
			assert.Equal(t, "Credenciales inválidas", ae.Message)
		}},
		{"403 authorization", 403, "application/json", fixture(t, "error-403.json"), "Cobrador no autorizado", func(t *testing.T, err error) {
			var ae *khipu.AuthorizationError
			require.ErrorAs(t, err, &ae)
			assert.Equal(t, 403, ae.StatusCode)
			assert.Equal(t, "Cobrador no autorizado", ae.Message)
		}},
		{"404 with Khipu's JSON", 404, "application/json", []byte(`{"status":404,"message":"Pago no encontrado"}`), "Pago no encontrado", func(t *testing.T, err error) {
			var ne *khipu.NotFoundError
			require.ErrorAs(t, err, &ne)
			assert.Equal(t, 404, ne.StatusCode)
			assert.Equal(t, "Pago no encontrado", ne.Message)
		}},
		{"404 with v3's error key", 404, "application/json", []byte(`{"error":"payment not found"}`), "payment not found", func(t *testing.T, err error) {
			var ne *khipu.NotFoundError
			require.ErrorAs(t, err, &ne)
			assert.Equal(t, "payment not found", ne.Message)
		}},
		{"500 with Khipu's JSON", 500, "application/json", []byte(`{"status":500,"message":"error interno"}`), "error interno", func(t *testing.T, err error) {
			var se *khipu.ServiceError
			require.ErrorAs(t, err, &se)
			assert.Equal(t, 500, se.StatusCode)
		}},
		{"503 service", 503, "application/json", fixture(t, "error-503.json"), "Servicio no disponible, intente nuevamente", func(t *testing.T, err error) {
			var se *khipu.ServiceError
			require.ErrorAs(t, err, &se)
			assert.Equal(t, 503, se.StatusCode)
			assert.Equal(t, "Servicio no disponible, intente nuevamente", se.Message)
		}},
		{"502 proxy page", 502, "text/html", html, "HTTP status 502 without Khipu's JSON error", func(t *testing.T, err error) {
			var ue *khipu.UnexpectedResponseError
			require.ErrorAs(t, err, &ue)
			assert.Equal(t, 502, ue.StatusCode)
			assert.Equal(t, html, ue.Body)
		}},
		{"404 HTML is not a NotFoundError", 404, "text/html", []byte("<html>not found</html>"), "HTTP status 404 without Khipu's JSON error", func(t *testing.T, err error) {
			var ne *khipu.NotFoundError
			assert.False(t, errors.As(err, &ne), "without Khipu's JSON a 404 is a wrong address, not a missing payment")
			var ue *khipu.UnexpectedResponseError
			require.ErrorAs(t, err, &ue)
		}},
		{"418 with JSON", 418, "application/json", []byte(`{"status":418,"message":"teapot"}`), "HTTP status Khipu does not use", func(t *testing.T, err error) {
			var ue *khipu.UnexpectedResponseError
			require.ErrorAs(t, err, &ue)
			assert.Equal(t, 418, ue.StatusCode)
		}},
		{"200 malformed", 200, "application/json", []byte(`{"payment_id":"gqzdy6chjne9","amount":10`), "GET /payments/gqzdy6chjne9: malformed JSON: unexpected end of JSON input", func(t *testing.T, err error) {
			var ue *khipu.UnexpectedResponseError
			require.ErrorAs(t, err, &ue)
			assert.Equal(t, 200, ue.StatusCode)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := answerOnce(t, tc.status, tc.contentType, tc.body)
			_, err := c.Payments.Get(context.Background(), "gqzdy6chjne9")
			require.Error(t, err)
			tc.typed(t, err)

			wrapped := fmt.Errorf("order 1037: %w", err)
			var ae *khipu.APIError
			require.ErrorAs(t, wrapped, &ae, "one check for every answer, also through wrapping")
			assert.Equal(t, tc.status, ae.StatusCode)
			assert.True(t, strings.HasPrefix(ae.Message, tc.message), "message %q", ae.Message)
			assert.Equal(t, string(tc.body), string(ae.Body), "the body as received")
			assert.Equal(t, fmt.Sprintf("khipu: HTTP %d: %s", tc.status, ae.Message), ae.Error())

			// errors.As gives a copy: changing it changes nothing in err.
			ae.StatusCode, ae.Message = 0, "changed"
			ae.Body[0] = 'X'
			var again *khipu.APIError
			require.ErrorAs(t, err, &again)
			assert.Equal(t, tc.status, again.StatusCode)
			assert.True(t, strings.HasPrefix(again.Message, tc.message))
			assert.Equal(t, string(tc.body), string(again.Body))
		})
	}
}

func TestErrorsThatAreNotKhipusAnswerDoNotOpenAsAnAPIError(t *testing.T) {
	c := closedPortClient(t, testSecret)
	_, err := c.Payments.Get(context.Background(), "gqzdy6chjne9")
	require.Error(t, err)
	var ae *khipu.APIError
	assert.False(t, errors.As(err, &ae), "a connection that failed got no answer: %v", err)

	_, err = c.Payments.Get(context.Background(), "../banks")
	var pe *khipu.ParamError
	require.ErrorAs(t, err, &pe)
	assert.False(t, errors.As(err, &ae), "nothing was sent")

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = c.Banks.List(ctx)
	assert.ErrorIs(t, err, context.Canceled)
	assert.False(t, errors.As(err, &ae))

	// errors.As into another target type is not an APIError's business.
	var ue *khipu.UnexpectedResponseError
	assert.False(t, (&khipu.ServiceError{StatusCode: 503, Message: "x"}).As(&ue))
}

// assertOneLine fails unless s is valid UTF-8 made only of printable
// characters and spaces: no newline, carriage return, escape, Unicode line
// separator or other control character.
func assertOneLine(t *testing.T, s string, msgAndArgs ...any) bool {
	t.Helper()
	if !utf8.ValidString(s) {
		return assert.Fail(t, fmt.Sprintf("not UTF-8: %q", s), msgAndArgs...)
	}
	for _, r := range s {
		if !unicode.IsPrint(r) && r != ' ' {
			return assert.Fail(t, fmt.Sprintf("%U in %q", r, s), msgAndArgs...)
		}
	}
	return true
}

// forgery is text from Khipu (or whoever answers in its place) that would
// start a new, forged line in a log: a newline, a carriage return, a
// terminal escape and a Unicode line separator.
const forgery = "monto\nmuy bajo\r\nlevel=INFO msg=\"order paid\" \x1b[2K\u2028fin"

// forgeryEscaped is how an error shows forgery: every control character
// escaped as Go would write it.
const forgeryEscaped = `monto\nmuy bajo\r\nlevel=INFO msg="order paid" \x1b[2K\u2028fin`

func TestKhipusMessagesCannotForgeALogLine(t *testing.T) {
	msg := strings.NewReplacer("\n", `\n`, "\r", `\r`, "\x1b", `\u001b`, "\u2028", `\u2028`, `"`, `\"`).Replace(forgery)
	cases := []struct {
		name   string
		status int
		body   string
		shows  bool // the error shows Khipu's message (not only a quote of the body)
	}{
		{"validation message", 400, `{"status":400,"message":"` + msg + `","errors":[]}`, true},
		{"validation field and its message", 400, `{"status":400,"message":"inválido","errors":[{"field":"amount` + msg + `","message":"` + msg + `"}]}`, true},
		{"authorization", 403, `{"status":403,"message":"` + msg + `"}`, true},
		{"service", 503, `{"status":503,"message":"` + msg + `"}`, true},
		{"unexpected status", 418, `{"status":418,"message":"` + msg + `"}`, false},
		{"proxy page", 502, "<html>\r\n<title>502</title>\n" + forgery + "</html>", false},
		{"malformed success", 200, `{"payment_id":"x","amount":` + "\n" + `{"monto":` + "\n1}}", false},
		{"success of the wrong type", 200, "[\n\"" + msg + "\"]", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := answerOnce(t, tc.status, "application/json", []byte(tc.body))
			_, err := c.Payments.Get(context.Background(), "gqzdy6chjne9")
			require.Error(t, err)
			assertOneLine(t, err.Error())
			if tc.shows {
				assert.Contains(t, err.Error(), forgeryEscaped, "the message is still there to read")
			}
		})
	}
}

func TestNotFoundErrorsAndAPIErrorsAreOneLineToo(t *testing.T) {
	msg := strings.NewReplacer("\n", `\n`, "\r", `\r`, "\x1b", `\u001b`, "\u2028", `\u2028`, `"`, `\"`).Replace(forgery)
	for _, status := range []int{400, 401, 404, 503, 502} {
		c := answerOnce(t, status, "application/json", []byte(`{"message":"`+msg+`"}`))
		_, err := c.Payments.Get(context.Background(), "gqzdy6chjne9")
		require.Error(t, err)
		assertOneLine(t, err.Error(), "HTTP %d", status)
		assert.Contains(t, err.Error(), forgeryEscaped)
		var ae *khipu.APIError
		require.ErrorAs(t, err, &ae)
		assert.Equal(t, forgery, ae.Message, "Message is Khipu's text as sent; Error() escapes it")
		assertOneLine(t, ae.Error(), "APIError of HTTP %d", status)
		assert.Contains(t, ae.Error(), forgeryEscaped)
	}
}

func TestEveryErrorTypeEscapesWhatItQuotes(t *testing.T) {
	errs := map[string]error{
		"APIError":                &khipu.APIError{StatusCode: 400, Message: forgery, Body: []byte(forgery)},
		"ValidationError":         &khipu.ValidationError{StatusCode: 400, Message: forgery, Errors: []khipu.FieldError{{Field: forgery, Message: forgery}, {Field: "b", Message: forgery}}},
		"AuthorizationError":      &khipu.AuthorizationError{StatusCode: 401, Message: forgery},
		"NotFoundError":           &khipu.NotFoundError{StatusCode: 404, Message: forgery},
		"ServiceError":            &khipu.ServiceError{StatusCode: 503, Message: forgery},
		"UnexpectedResponseError": &khipu.UnexpectedResponseError{StatusCode: 502, Body: []byte(forgery)},
		"ParamError":              &khipu.ParamError{Param: "amount", Reason: "is zero"},
		"AmountError":             &khipu.AmountError{Input: forgery, Reason: "want digits"},
		"MismatchError":           &khipu.MismatchError{Field: "transaction_id", Want: "order-1", Got: forgery},
	}
	for name, err := range errs {
		assertOneLine(t, err.Error(), name)
	}
	for _, name := range []string{"APIError", "ValidationError", "AuthorizationError", "NotFoundError", "ServiceError"} {
		assert.Contains(t, errs[name].Error(), forgeryEscaped, name)
	}
	// Invalid UTF-8 is shown byte by byte, printable text as it is.
	err := &khipu.ServiceError{StatusCode: 503, Message: "ca\xffé ñandú\u0085\ufffd"}
	assert.Equal(t, "khipu: service error (HTTP 503): ca\\xffé ñandú\\u0085\ufffd", err.Error(), "U+FFFD itself is printable")
}

// FuzzErrorIsOneLine serves any status and body to a Client, and builds
// every error type around any text: whatever Khipu, a proxy or an attacker
// in between answers, an error's text is one line that a log can carry
// without a forged line, and keeps at most 1 KiB of the body.
func FuzzErrorIsOneLine(f *testing.F) {
	f.Add(400, []byte(`{"status":400,"message":"monto\nmuy bajo","errors":[{"field":"amount","message":"monto\nmuy bajo"}]}`))
	f.Add(401, []byte(`{"message":"\u001b[31mred\u2028"}`))
	f.Add(404, []byte(`{"error":"no\r\nexiste"}`))
	f.Add(503, []byte(`{"status":503,"message":"\u0000\u007f\u0085"}`))
	f.Add(502, []byte("<html>\n502\n</html>"))
	f.Add(200, []byte(`{"payment_id":`+"\n"+`["x"]}`))
	f.Add(200, []byte("\xff\xfe\n"))
	f.Add(302, []byte("moved\n"))
	var answer atomic.Pointer[struct {
		status int
		body   []byte
	}]
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a := answer.Load()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(a.status)
		_, _ = w.Write(a.body)
	}))
	f.Cleanup(srv.Close)
	c, err := khipu.NewClient(testReceiverID, testSecret, khipu.WithBaseURL(srv.URL), noRetries)
	require.NoError(f, err)
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		status = 200 + (status%400+400)%400 // 200 to 599: net/http handles 1xx itself
		answer.Store(&struct {
			status int
			body   []byte
		}{status, body})
		p, err := c.Payments.Get(context.Background(), "gqzdy6chjne9")
		if err == nil {
			require.NotNil(t, p)
			return
		}
		assertOneLine(t, err.Error(), "HTTP %d %q", status, body)
		var ae *khipu.APIError
		require.ErrorAs(t, err, &ae, "every answer opens as an APIError: %v", err)
		assert.Equal(t, status, ae.StatusCode)
		assertOneLine(t, ae.Error())
		assert.LessOrEqual(t, len(ae.Body), 1024)

		text := string(body)
		for _, e := range []error{
			&khipu.APIError{StatusCode: status, Message: text, Body: body},
			&khipu.ValidationError{StatusCode: status, Message: text, Errors: []khipu.FieldError{{Field: text, Message: text}}},
			&khipu.AuthorizationError{StatusCode: status, Message: text},
			&khipu.NotFoundError{StatusCode: status, Message: text},
			&khipu.ServiceError{StatusCode: status, Message: text},
			&khipu.UnexpectedResponseError{StatusCode: status, Body: body},
		} {
			assertOneLine(t, e.Error(), "%T", e)
		}
	})
}

// bigBody is n bytes of text that starts with head, carries marker past the
// first KiB, and ends with tail.
func bigBody(head, marker, tail string, n int) []byte {
	pad := n - len(head) - len(marker) - len(tail)
	return []byte(head + strings.Repeat("x", 2048) + marker + strings.Repeat("y", pad-2048) + tail)
}

func TestAnUnexpectedAnswerKeepsOnlyItsFirstKiB(t *testing.T) {
	const email = "ana.perez.payer@example.com"
	cases := []struct {
		name   string
		status int
		body   []byte
	}{
		{"a 5 KiB proxy page", 502, bigBody("<html><body>", "<!-- upstream "+email+" -->", "</body></html>", 5<<10)},
		{"a 5 KiB malformed payment with a payer's e-mail", 200, bigBody(`{"payment_id":"gqzdy6chjne9","body":"`, `","payer_email":"`+email, `","amount":`, 5<<10)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			require.Len(t, tc.body, 5<<10)
			c := answerOnce(t, tc.status, "text/html", tc.body)
			_, err := c.Payments.Get(context.Background(), "gqzdy6chjne9")
			var ue *khipu.UnexpectedResponseError
			require.ErrorAs(t, err, &ue)
			assert.Equal(t, string(tc.body[:1024]), string(ue.Body), "the first KiB, exactly")
			assert.NotContains(t, string(ue.Body), email)
			assert.NotContains(t, err.Error(), email)
			assert.LessOrEqual(t, len(err.Error()), 512, "the message quotes only the start of the body")
		})
	}
}

func TestAnAPIErrorKeepsOnlyTheFirstKiBOfItsBody(t *testing.T) {
	const email = "ana.perez.payer@example.com"
	for _, tc := range []struct {
		status int
		body   []byte
	}{
		{400, bigBody(`{"status":400,"message":"inválido","errors":[{"field":"payer_email","message":"`, email, `"}]}`, 5<<10)},
		{403, bigBody(`{"status":403,"message":"`, email, `"}`, 5<<10)},
		{404, bigBody(`{"status":404,"message":"`, email, `"}`, 5<<10)},
		{503, bigBody(`{"status":503,"message":"`, email, `"}`, 5<<10)},
		{502, bigBody(`<html>`, email, `</html>`, 5<<10)},
	} {
		c := answerOnce(t, tc.status, "application/json", tc.body)
		_, err := c.Payments.Get(context.Background(), "gqzdy6chjne9")
		var ae *khipu.APIError
		require.ErrorAs(t, err, &ae, "HTTP %d", tc.status)
		assert.Equal(t, string(tc.body[:1024]), string(ae.Body), "HTTP %d: the first KiB, exactly", tc.status)
	}
}

func TestAPaymentOfAnotherReceiverIsReportedOnOneLine(t *testing.T) {
	c, _ := notifyKhipu(t, map[string]string{
		"theirs": `{"payment_id":"abc\nlevel=INFO msg=delivered","receiver_id":99999,"status":"done","amount":1000,"currency":"CLP"}`,
	})
	_, err := c.VerifyNotification(context.Background(), notificationRequest("api_version=1.3&notification_token=theirs"))
	require.ErrorIs(t, err, khipu.ErrReceiverMismatch)
	assertOneLine(t, err.Error())
	assert.Contains(t, err.Error(), `payment "abc\nlevel=INFO msg=delivered" is for receiver "99999"`)
}
