// Package openapi holds khipu-go to Khipu's OpenAPI document of its API v3
// (testdata/khipu-v3-instant-payments.yaml): every request package khipuv3
// sends must conform to it, and so must every answer package khiputest gives,
// but for the places where Khipu's real answers depart from its own document,
// which the tests list by name with their evidence. A client generated from
// the document (package khipuapi) must read every answer of khiputest but
// those.
//
// It is a module of its own so that the OpenAPI libraries stay out of the
// library's go.mod. Everything here is tests, but for the generated client;
// README.md says what is checked.
package openapi

// The generated client, regenerated from the document with the generator
// pinned here (the generated code is committed: CI needs neither this step
// nor the network for it).
//go:generate go run github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen@v2.8.2 -config khipuapi/oapi-codegen.yaml testdata/khipu-v3-instant-payments.yaml
