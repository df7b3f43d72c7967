package main

import (
	"context"
	"database/sql"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// postgresEnv names the PostgreSQL server the tests use, as a URL such as
// postgres://postgres@127.0.0.1:5432/webshop_test?sslmode=disable. .ci/run
// starts a throw-away server on loopback and sets it.
const postgresEnv = "WEBSHOP_TEST_POSTGRES"

// mustRun reports whether the tests run where everything they need has been
// installed and started: in CI (CI set), or under .ci/run, which sets
// WEBSHOP_TEST_REQUIRE=1 once it has started PostgreSQL and found
// Chromium. A missing browser or database is then a failure, not a reason
// to skip.
func mustRun() bool {
	return isSet(os.Getenv("CI")) || isSet(os.Getenv("WEBSHOP_TEST_REQUIRE"))
}

func isSet(v string) bool {
	switch strings.ToLower(v) {
	case "", "0", "false", "no":
		return false
	}
	return true
}

// skipOrFail skips the test, unless it must run: then it fails.
func skipOrFail(t testing.TB, why string) {
	t.Helper()
	if mustRun() {
		t.Fatalf("%s; in CI it must be there (.ci/run provides it)", why)
	}
	t.Skipf("skipped: %s", why)
}

// database is one of the databases every store test runs against.
type database struct {
	name string
	// dsn returns the -db value of a new, empty database for one test.
	dsn func(t testing.TB) string
}

var databases = []database{
	{"SQLite", sqliteTestDSN},
	{"PostgreSQL", postgresTestDSN},
}

// forEachDatabase runs test once against SQLite and once against
// PostgreSQL.
func forEachDatabase(t *testing.T, test func(t *testing.T, dsn string)) {
	for _, db := range databases {
		t.Run(db.name, func(t *testing.T) { test(t, db.dsn(t)) })
	}
}

func sqliteTestDSN(t testing.TB) string {
	return filepath.Join(t.TempDir(), "webshop.db")
}

// postgresTestDSN returns a DSN for the server in WEBSHOP_TEST_POSTGRES
// whose search_path is a schema of the test's own, dropped at its end, so
// that tests see only their own tables.
func postgresTestDSN(t testing.TB) string {
	t.Helper()
	base := os.Getenv(postgresEnv)
	if base == "" {
		skipOrFail(t, postgresEnv+" is not set: no PostgreSQL server to test against")
	}
	admin, err := sql.Open("pgx", base)
	require.NoError(t, err)
	t.Cleanup(func() { admin.Close() })
	schema := "webshop_test_" + strings.ToLower(strings.TrimPrefix(newOrderID(), "order-"))
	_, err = admin.ExecContext(context.Background(), "CREATE SCHEMA "+schema)
	require.NoError(t, err, "creating a schema in %s", postgresEnv)
	t.Cleanup(func() {
		_, err := admin.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
		if err != nil {
			t.Errorf("dropping schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(base)
	require.NoError(t, err)
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// openStore opens a store on dsn, closed at the end of the test.
func openStore(t testing.TB, dsn string) *Store {
	t.Helper()
	s, err := OpenStore(context.Background(), dsn, quiet)
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return s
}
