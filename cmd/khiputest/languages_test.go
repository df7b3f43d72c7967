package main

import (
	"context"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestShopsInOtherLanguages runs the PHP and Python tests in testdata, which
// the README shows: each starts the program, creates a payment in v3 and in
// v2, pays it through the control API, receives the notification at an
// endpoint of its own and verifies it (the 3.0 signature by hand, with the
// secret; the 1.3 token by a signed v2 lookup). A language whose interpreter
// is missing is skipped, unless its KHIPUTEST_REQUIRE_ variable is 1, as
// .ci/run sets it after installing Debian's php-cli and python3.
func TestShopsInOtherLanguages(t *testing.T) {
	for _, tt := range []struct{ name, interpreter, script, require string }{
		{"PHP", "php", "testdata/php/test_shop.php", "KHIPUTEST_REQUIRE_PHP"},
		{"Python", "python3", "testdata/python/test_shop.py", "KHIPUTEST_REQUIRE_PYTHON"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			interpreter, err := exec.LookPath(tt.interpreter)
			if err != nil {
				if os.Getenv(tt.require) == "1" {
					t.Fatalf("no %s on PATH, and %s=1", tt.interpreter, tt.require)
				}
				t.Skipf("skipped: no %s on PATH", tt.interpreter)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			out, err := exec.CommandContext(ctx, interpreter, tt.script, binary).CombinedOutput()
			require.NoError(t, err, "%s", out)
			for _, step := range []string{
				"ok: v3: paid through the control API, the shop answered 200",
				"ok: v3: the notification's signature verifies with the secret",
				"ok: v3: the notification is the order's payment",
				"ok: v2: a notification 1.3",
				"ok: v2: the token names the order's payment, done, of this account",
			} {
				assert.Contains(t, string(out), step)
			}
		})
	}
}
