// Package phpjson writes JSON as PHP's json_encode does with its default
// flags, which is how Khipu writes its notifications 3.0 and its v3
// answers: '/' as "\/" and every character outside ASCII as \uXXXX. A
// receiver that decodes and encodes a notification again instead of
// verifying the bytes it received computes another signature; writing as
// Khipu does makes that mistake show in tests.
//
// It is shared by package khipuv3, whose MarshalNotification writes a
// notification for tests, and package khiputest, which sends them and
// answers v3 requests.
package phpjson

import (
	"bytes"
	"encoding/json"
	"fmt"
	"unicode/utf16"
	"unicode/utf8"
)

// Marshal is v as JSON written by json_encode: Plain, then Escape.
func Marshal(v any) ([]byte, error) {
	plain, err := Plain(v)
	if err != nil {
		return nil, err
	}
	return Escape(plain), nil
}

// String is s as a JSON string written by json_encode: the characters JSON
// must escape as encoding/json escapes them, <, > and & as they are, '/' as
// "\/", and every character outside ASCII as \uXXXX (a surrogate pair above
// U+FFFF). Invalid UTF-8 is written as U+FFFD, as encoding/json does.
func String(s string) []byte {
	plain, _ := Plain(s) // a string always encodes
	return Escape(plain)
}

// Plain is v as encoding/json writes it, without the trailing newline and
// with <, > and & left as they are: Go escapes them, PHP does not.
func Plain(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// Escape escapes the JSON text plain, as encoding/json writes it, as
// json_encode does: '/' as \/ and every non-ASCII character as \uXXXX.
// Both stand only inside JSON strings, where their escaped forms mean the
// same: no parsing is needed.
func Escape(plain []byte) []byte {
	out := make([]byte, 0, len(plain)+len(plain)/8)
	for _, r := range string(plain) {
		switch {
		case r == '/':
			out = append(out, `\/`...)
		case r < utf8.RuneSelf:
			out = append(out, byte(r))
		default:
			for _, u := range utf16.AppendRune(nil, r) {
				out = fmt.Appendf(out, `\u%04x`, u)
			}
		}
	}
	return out
}
