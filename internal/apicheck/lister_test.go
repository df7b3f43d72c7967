package apicheck

import (
	"go/ast"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"slices"
	"strings"
	"testing"
)

// fixture has every kind of declaration the lister must tell apart.
const fixture = `package p

import (
	"context"
	"io"
)

const Untyped = "v1"
const Typed Kind = "k"
const unexportedConst = 1

type Kind string

var ErrX error
var Hook func(ctx context.Context, n int) error

func F(name string, opts ...Option) (*T, error) { return nil, nil }
func Map[K comparable, V any](m map[K]V, f func(V) V) map[K]V { return m }

type Option func(*T) error

type T struct {
	Exported int
	hidden   int
	io.Reader           // embedded, exported
	*inner              // embedded, not exported: its fields and methods are T's
	Fn       func(ctx context.Context) error
}

type inner struct {
	Promoted string
	secret   string
}

func (*inner) InnerMethod() {}

func (T) Value() string          { return "" }
func (*T) Pointer(n int) (a, b int) { return }
func (*T) unexported()           {}

type Stack[E any] struct{ Items []E }

func (s *Stack[E]) Push(e E) {}
func (s Stack[E]) Len() int  { return 0 }

type Sealed interface {
	io.Closer
	Name() string
	seal()
}

type Number interface{ ~int | ~int64 }

type Alias = T
type Bytes []byte
`

func fixtureLines(t *testing.T) []string {
	t.Helper()
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "p.go", fixture, 0)
	if err != nil {
		t.Fatal(err)
	}
	conf := types.Config{Importer: importer.ForCompiler(fset, "gc", nil)}
	pkg, err := conf.Check("example.com/p", fset, []*ast.File{f}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return apiLines([]*types.Package{pkg})
}

func TestAPILinesOfEveryKindOfDeclaration(t *testing.T) {
	got := fixtureLines(t)
	want := []string{
		"const Typed Kind",
		"const Untyped untyped string",
		"func F(string, ...Option) (*T, error)",
		"func Map[K comparable, V any](map[K]V, func(V) V) map[K]V",
		"method (*Stack[E]) Push(E)",
		"method (*T) Pointer(int) (int, int)",
		"method (Stack[E]) Len() int",
		"method (T) InnerMethod()", // promoted through *inner: in T's own method set
		"method (T) Read([]byte) (int, error)",
		"method (T) Value() string",
		"type Alias = T",
		"type Bytes []byte",
		"type Kind string",
		"type Number interface{~int | ~int64}",
		"type Option func(*T) error",
		"type Sealed interface { Close, Name, unexported methods }",
		"type Sealed interface, Close() error",
		"type Sealed interface, Name() string",
		"type Stack[E any] struct",
		"type Stack[E any] struct, Items []E",
		"type T struct",
		"type T struct, Exported int",
		"type T struct, Fn func(context.Context) error",
		"type T struct, Promoted string",
		"type T struct, embedded io.Reader",
		"var ErrX error",
		"var Hook func(context.Context, int) error",
	}
	for i := range want {
		want[i] = "pkg example.com/p, " + want[i]
	}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		removed, added := compare(want, got)
		t.Errorf("lines differ:\nmissing:\n\t%s\nunexpected:\n\t%s", strings.Join(removed, "\n\t"), strings.Join(added, "\n\t"))
	}
}

func TestAPILinesAreTheSameEveryRun(t *testing.T) {
	first := fixtureLines(t)
	for range 5 {
		if again := fixtureLines(t); !slices.Equal(first, again) {
			t.Fatalf("the lines changed between runs:\n%s\n%s", strings.Join(first, "\n"), strings.Join(again, "\n"))
		}
	}
}

func TestCompareReportsRemovalsAndChangesNotAdditions(t *testing.T) {
	recorded := []string{
		"pkg p, func F(string) error",
		"pkg p, func G()",
		"pkg p, method (*T) M() int",
		"pkg p, method (*T) N() int",
		"pkg p, type T struct, A int",
	}
	current := []string{
		"pkg p, func F(string, int) error", // changed
		// G removed
		"pkg p, method (T) M() int", // moved to the value receiver: still in *T's method set
		"pkg p, method (T) N() string",
		"pkg p, type T struct, A int",
		"pkg p, type T struct, B int", // added
	}
	removed, added := compare(recorded, current)
	wantRemoved := []string{"pkg p, func F(string) error", "pkg p, func G()", "pkg p, method (*T) N() int"}
	wantAdded := []string{"pkg p, func F(string, int) error", "pkg p, method (T) M() int", "pkg p, method (T) N() string", "pkg p, type T struct, B int"}
	if !slices.Equal(removed, wantRemoved) {
		t.Errorf("removed = %q, want %q", removed, wantRemoved)
	}
	if !slices.Equal(added, wantAdded) {
		t.Errorf("added = %q, want %q", added, wantAdded)
	}
	// A method moved from the value to the pointer receiver is gone from
	// the value's method set: a break.
	removed, _ = compare([]string{"pkg p, method (T) M() int"}, []string{"pkg p, method (*T) M() int"})
	if len(removed) != 1 {
		t.Errorf("a method moved to the pointer receiver is not reported: %q", removed)
	}
}

func TestParseAPISkipsCommentsAndBlankLines(t *testing.T) {
	got := parseAPI([]byte("# header\n\npkg p, func F()\n  \npkg p, func G()\n"))
	if want := []string{"pkg p, func F()", "pkg p, func G()"}; !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}
