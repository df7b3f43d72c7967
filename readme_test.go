package khipu_test

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestEveryGoSnippetOfTheREADMEIsCompiled: each ```go block of README.md is,
// line for line, a region between "// README: begin" and "// README: end"
// of a file that is compiled with its package's tests (readme_example_test.go
// here and in khipuv3), so that a snippet that stops compiling breaks CI.
func TestEveryGoSnippetOfTheREADMEIsCompiled(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	require.NoError(t, err)
	var regions []string
	for _, file := range []string{"readme_example_test.go", "khipuv3/readme_example_test.go"} {
		src, err := os.ReadFile(file)
		require.NoError(t, err)
		found := readmeRegions(string(src))
		require.NotEmpty(t, found, file)
		regions = append(regions, found...)
	}
	snippets := regexp.MustCompile("(?s)```go\n(.*?)```").FindAllStringSubmatch(string(readme), -1)
	require.NotEmpty(t, snippets)
	used := make(map[int]bool)
	for _, s := range snippets {
		snippet := strings.TrimRight(s[1], "\n")
		i := indexOf(regions, snippet)
		if !assert.GreaterOrEqual(t, i, 0, "this README snippet is compiled nowhere:\n%s", snippet) {
			continue
		}
		used[i] = true
	}
	for i, r := range regions {
		assert.True(t, used[i], "this region is in no README snippet:\n%s", r)
	}
}

// readmeRegions returns the regions of src between "// README: begin" and
// "// README: end" lines, each without the indentation common to its lines.
func readmeRegions(src string) []string {
	var regions []string
	var current []string
	in := false
	for _, line := range strings.Split(src, "\n") {
		switch strings.TrimSpace(line) {
		case "// README: begin":
			in, current = true, nil
			continue
		case "// README: end":
			in = false
			regions = append(regions, dedent(current))
			continue
		}
		if in {
			current = append(current, line)
		}
	}
	return regions
}

// dedent removes the leading tabs all non-empty lines share.
func dedent(lines []string) string {
	common := -1
	for _, l := range lines {
		if strings.TrimSpace(l) == "" {
			continue
		}
		n := len(l) - len(strings.TrimLeft(l, "\t"))
		if common < 0 || n < common {
			common = n
		}
	}
	out := make([]string, len(lines))
	for i, l := range lines {
		if len(l) >= common && common > 0 {
			l = l[common:]
		}
		out[i] = l
	}
	return strings.TrimRight(strings.Join(out, "\n"), "\n")
}

func indexOf(list []string, s string) int {
	for i, v := range list {
		if v == s {
			return i
		}
	}
	return -1
}
