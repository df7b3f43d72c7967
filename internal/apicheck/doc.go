// Package apicheck holds the test that guards the module's compatibility
// promise: TestAPI lists the exported API of every public package (every
// package of the module that is neither internal nor a command) and fails
// when a line of the recorded api/v1.txt is gone or changed. Additions pass,
// and the test says which lines are new. To record the API again:
//
//	go test ./internal/apicheck -run TestAPI -update
//
// It also holds the checks of the module's architecture (arch_test.go): no
// package's init sets another package's state, and nothing in internal/
// imports a client package; and the check that every public package's doc
// comment opens with "Package <name>" and every exported name has one
// (doc_test.go). The package has no code of its own; its tests
// use the standard library only (go/types, and "go list" for export data).
package apicheck
