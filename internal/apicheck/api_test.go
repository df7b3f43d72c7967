package apicheck

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"go/importer"
	"go/token"
	"go/types"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

var update = flag.Bool("update", false, "record the current API in api/v1.txt")

// apiFile is the recorded API, relative to the module's root.
const apiFile = "api/v1.txt"

// updateCommand records the API again.
const updateCommand = "go test ./internal/apicheck -run TestAPI -update"

// TestAPI fails when the exported API lost or changed a line of api/v1.txt.
func TestAPI(t *testing.T) {
	root, pkgs := loadPublic(t)
	current := apiLines(pkgs)
	path := filepath.Join(root, filepath.FromSlash(apiFile))
	if *update {
		header := "# The exported API of khipu-go v1, one line per name (the Go project's api/go1.txt style).\n" +
			"# CI fails when a line is removed or changed; to record additions: " + updateCommand + "\n"
		require(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require(t, os.WriteFile(path, []byte(header+strings.Join(current, "\n")+"\n"), 0o644))
		t.Logf("recorded %d lines in %s", len(current), apiFile)
		return
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v: record the API with %s", err, updateCommand)
	}
	removed, added := compare(parseAPI(data), current)
	if len(removed) > 0 {
		t.Errorf("the exported API lost or changed %d line(s) of %s, a breaking change:\n\t- %s\n"+
			"If the break is intended (before a major version only), record the API: %s",
			len(removed), apiFile, strings.Join(removed, "\n\t- "), updateCommand)
	}
	if len(added) > 0 {
		t.Logf("%d new line(s) of exported API, not yet in %s (additions are compatible):\n\t+ %s\nRecord them: %s",
			len(added), apiFile, strings.Join(added, "\n\t+ "), updateCommand)
	}
}

func require(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// parseAPI reads a recorded API: one line per entry, "#" comments and blank
// lines ignored.
func parseAPI(data []byte) []string {
	var lines []string
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line != "" && !strings.HasPrefix(line, "#") {
			lines = append(lines, line)
		}
	}
	return lines
}

// compare returns the recorded lines that are not in current (removed or
// changed) and the current lines that are not recorded (added), sorted. A
// method recorded on the pointer receiver that is now on the value receiver
// is not removed: it is still in the pointer's method set.
func compare(recorded, current []string) (removed, added []string) {
	have := make(map[string]bool, len(current))
	for _, l := range current {
		have[l] = true
	}
	had := make(map[string]bool, len(recorded))
	for _, l := range recorded {
		had[l] = true
	}
	for _, l := range recorded {
		if have[l] || have[valueReceiver(l)] {
			continue
		}
		removed = append(removed, l)
	}
	for _, l := range current {
		if !had[l] {
			added = append(added, l)
		}
	}
	slices.Sort(removed)
	slices.Sort(added)
	return slices.Compact(removed), slices.Compact(added)
}

// valueReceiver is a method line with the pointer receiver made a value
// receiver ("method (*T) M" → "method (T) M"); any other line as it is.
func valueReceiver(line string) string {
	return strings.Replace(line, ", method (*", ", method (", 1)
}

// listed is one package from "go list".
type listed struct {
	ImportPath string
	Name       string
	Export     string
	DepOnly    bool
	Imports    []string
	Module     *struct{ Path string }
	Error      *struct{ Err string }
}

// module is the module under test, as "go list -export" sees it.
type module struct {
	root, path string
	pkgs       []listed // the module's packages, sorted by path
	importer   types.Importer
}

// loadModule lists the module's packages with their dependencies and builds
// their export data, which its importer type-checks them from. The tests
// share one listing.
func loadModule(t *testing.T) *module {
	t.Helper()
	m, err := listModule()
	if err != nil {
		t.Fatal(err)
	}
	return m
}

var listModule = sync.OnceValues(func() (*module, error) {
	gomod, err := goCmd("env", "GOMOD")
	if err != nil {
		return nil, err
	}
	if gomod = strings.TrimSpace(gomod); gomod == "" || gomod == os.DevNull {
		return nil, errors.New("not in a module")
	}
	modPath, err := goCmd("list", "-m", "-f", "{{.Path}}")
	if err != nil {
		return nil, err
	}
	m := &module{root: filepath.Dir(gomod), path: strings.TrimSpace(modPath)}
	out, err := goCmd("list", "-e", "-export", "-deps", "-json=ImportPath,Name,Export,DepOnly,Imports,Module,Error", m.path+"/...")
	if err != nil {
		return nil, err
	}
	exports := map[string]string{}
	for dec := json.NewDecoder(strings.NewReader(out)); dec.More(); {
		var p listed
		if err := dec.Decode(&p); err != nil {
			return nil, err
		}
		if p.Error != nil {
			return nil, fmt.Errorf("go list: %s: %s", p.ImportPath, p.Error.Err)
		}
		exports[p.ImportPath] = p.Export
		if !p.DepOnly && p.Module != nil && p.Module.Path == m.path {
			m.pkgs = append(m.pkgs, p)
		}
	}
	slices.SortFunc(m.pkgs, func(a, b listed) int { return strings.Compare(a.ImportPath, b.ImportPath) })
	m.importer = importer.ForCompiler(token.NewFileSet(), "gc", func(path string) (io.ReadCloser, error) {
		file, ok := exports[path]
		if !ok || file == "" {
			return nil, fmt.Errorf("no export data for %s", path)
		}
		return os.Open(file)
	})
	return m, nil
})

// packages type-checks the module's packages that keep says to.
func (m *module) packages(t *testing.T, keep func(listed) bool) []*types.Package {
	t.Helper()
	var pkgs []*types.Package
	for _, p := range m.pkgs {
		if !keep(p) {
			continue
		}
		pkg, err := m.importer.Import(p.ImportPath)
		if err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, pkg)
	}
	return pkgs
}

// loadPublic type-checks the module's public packages, and returns the
// module's root and the packages.
func loadPublic(t *testing.T) (string, []*types.Package) {
	t.Helper()
	m := loadModule(t)
	pkgs := m.packages(t, isPublic)
	if len(pkgs) == 0 {
		t.Fatal("no public package found")
	}
	return m.root, pkgs
}

// isPublic says whether p, a package of the module, is one its users can
// import: not a command, not internal.
func isPublic(p listed) bool {
	return p.Name != "main" && !isInternal(p)
}

// isInternal says whether p is below an internal directory.
func isInternal(p listed) bool {
	return slices.Contains(strings.Split(p.ImportPath, "/"), "internal")
}

func goCmd(args ...string) (string, error) {
	var stderr bytes.Buffer
	cmd := exec.Command("go", args...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("go %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return string(out), nil
}

// apiLines lists the exported API of pkgs, one sorted line per entry, in
// the style of the Go project's api/go1.txt:
//
//	pkg P, const Name Type
//	pkg P, var Name Type
//	pkg P, func Name[TypeParams](Params) Results
//	pkg P, type Name[TypeParams] struct
//	pkg P, type Name struct, Field Type
//	pkg P, type Name struct, embedded Type
//	pkg P, type Name interface { M, N }
//	pkg P, type Name interface, M(Params) Results
//	pkg P, type Name Underlying
//	pkg P, type Name = Type
//	pkg P, method (Name) M(Params) Results     in the value's method set
//	pkg P, method (*Name) M(Params) Results    in the pointer's only
//
// Parameter names are left out (renaming one breaks nobody); constant
// values too (Version changes with every release). Types of other packages
// are qualified by package name. Methods and fields promoted from embedded
// types are listed as the embedding type's own.
func apiLines(pkgs []*types.Package) []string {
	var lines []string
	for _, pkg := range pkgs {
		w := &lister{pkg: pkg, prefix: "pkg " + pkg.Path() + ", "}
		scope := pkg.Scope()
		for _, name := range scope.Names() { // sorted
			obj := scope.Lookup(name)
			if obj.Exported() {
				w.object(obj)
			}
		}
		lines = append(lines, w.lines...)
	}
	slices.Sort(lines)
	return slices.Compact(lines)
}

type lister struct {
	pkg    *types.Package
	prefix string
	lines  []string
}

func (w *lister) add(format string, args ...any) {
	w.lines = append(w.lines, w.prefix+fmt.Sprintf(format, args...))
}

func (w *lister) qualifier(p *types.Package) string {
	if p == w.pkg {
		return ""
	}
	return p.Name()
}

// typ is t as Go source writes it; a function type without its
// parameters' names.
func (w *lister) typ(t types.Type) string {
	if sig, ok := t.(*types.Signature); ok {
		return "func" + w.signature(sig)
	}
	return types.TypeString(t, w.qualifier)
}

func (w *lister) object(obj types.Object) {
	switch obj := obj.(type) {
	case *types.Const:
		w.add("const %s %s", obj.Name(), w.typ(obj.Type()))
	case *types.Var:
		w.add("var %s %s", obj.Name(), w.typ(obj.Type()))
	case *types.Func:
		sig := obj.Type().(*types.Signature)
		w.add("func %s%s%s", obj.Name(), w.typeParams(sig.TypeParams()), w.signature(sig))
	case *types.TypeName:
		w.typeName(obj)
	}
}

func (w *lister) typeName(obj *types.TypeName) {
	if obj.IsAlias() {
		w.add("type %s = %s", obj.Name(), w.typ(types.Unalias(obj.Type())))
		return
	}
	named, ok := obj.Type().(*types.Named)
	if !ok {
		w.add("type %s %s", obj.Name(), w.typ(obj.Type().Underlying()))
		return
	}
	name := obj.Name() + w.typeParams(named.TypeParams())
	switch u := named.Underlying().(type) {
	case *types.Struct:
		w.add("type %s struct", name)
		w.fields(name, u, map[*types.Struct]bool{})
	case *types.Interface:
		if !u.IsMethodSet() { // a constraint with a type set: its terms are the API
			w.add("type %s %s", name, w.typ(u))
			return
		}
		var names []string
		for m := range u.Methods() { // embedded interfaces' methods included
			if m.Exported() {
				names = append(names, m.Name())
				w.add("type %s interface, %s%s", name, m.Name(), w.signature(m.Type().(*types.Signature)))
			} else {
				names = append(names, "unexported methods")
			}
		}
		slices.Sort(names)
		w.add("type %s interface { %s }", name, strings.Join(slices.Compact(names), ", "))
		return
	default:
		w.add("type %s %s", name, w.typ(u))
	}
	w.methods(obj.Name()+w.typeParamNames(named.TypeParams()), named)
}

// fields lists s's exported fields as fields of name, and those promoted
// from an embedded type that is not exported (an exported one is listed as
// embedded, its fields under its own name).
func (w *lister) fields(name string, s *types.Struct, seen map[*types.Struct]bool) {
	if seen[s] {
		return
	}
	seen[s] = true
	for f := range s.Fields() {
		switch {
		case f.Embedded() && f.Exported():
			w.add("type %s struct, embedded %s", name, w.typ(f.Type()))
		case f.Embedded():
			t := f.Type()
			if p, ok := t.(*types.Pointer); ok {
				t = p.Elem()
			}
			if inner, ok := t.Underlying().(*types.Struct); ok {
				w.fields(name, inner, seen)
			}
		case f.Exported():
			w.add("type %s struct, %s %s", name, f.Name(), w.typ(f.Type()))
		}
	}
}

// methods lists the exported methods of named's method set, and those only
// its pointer has.
func (w *lister) methods(name string, named *types.Named) {
	value := types.NewMethodSet(named)
	pointer := types.NewMethodSet(types.NewPointer(named))
	for sel := range pointer.Methods() {
		m := sel.Obj().(*types.Func)
		if !m.Exported() {
			continue
		}
		recv := "*" + name
		if value.Lookup(m.Pkg(), m.Name()) != nil {
			recv = name
		}
		w.add("method (%s) %s%s", recv, m.Name(), w.signature(sel.Type().(*types.Signature)))
	}
}

func (w *lister) typeParams(list *types.TypeParamList) string {
	if list.Len() == 0 {
		return ""
	}
	var parts []string
	for tp := range list.TypeParams() {
		parts = append(parts, tp.Obj().Name()+" "+w.typ(tp.Constraint()))
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// typeParamNames is list's names, as a method's receiver writes them.
func (w *lister) typeParamNames(list *types.TypeParamList) string {
	if list.Len() == 0 {
		return ""
	}
	var names []string
	for tp := range list.TypeParams() {
		names = append(names, tp.Obj().Name())
	}
	return "[" + strings.Join(names, ", ") + "]"
}

// signature is sig's parameters and results, without their names.
func (w *lister) signature(sig *types.Signature) string {
	var params []string
	for i := range sig.Params().Len() {
		t := sig.Params().At(i).Type()
		if sig.Variadic() && i == sig.Params().Len()-1 {
			params = append(params, "..."+w.typ(t.(*types.Slice).Elem()))
			continue
		}
		params = append(params, w.typ(t))
	}
	s := "(" + strings.Join(params, ", ") + ")"
	var results []string
	for v := range sig.Results().Variables() {
		results = append(results, w.typ(v.Type()))
	}
	switch len(results) {
	case 0:
	case 1:
		s += " " + results[0]
	default:
		s += " (" + strings.Join(results, ", ") + ")"
	}
	return s
}
