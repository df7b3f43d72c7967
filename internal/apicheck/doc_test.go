package apicheck

import (
	"go/ast"
	"go/doc"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestEveryPublicPackageAndExportedNameHasGodoc: pkg.go.dev shows a public
// package's doc comment as its overview, and an exported name without a
// comment as a bare signature. Each public package's doc must open with
// "Package <name> " (a comment group cut off from the package clause by a
// blank line is not the package's doc, and its sections would vanish), and
// every exported constant, variable, type, function and method must have a
// comment of its own or its group's.
func TestEveryPublicPackageAndExportedNameHasGodoc(t *testing.T) {
	m := loadModule(t)
	for _, p := range m.pkgs {
		if !isPublic(p) {
			continue
		}
		rel := strings.TrimPrefix(strings.TrimPrefix(p.ImportPath, m.path), "/")
		dir := filepath.Join(m.root, filepath.FromSlash(rel))
		fset, files := parseDir(t, dir, p.Name)
		d, err := doc.NewFromFiles(fset, files, p.ImportPath)
		if err != nil {
			t.Fatal(err)
		}
		if want := "Package " + p.Name + " "; !strings.HasPrefix(d.Doc, want) {
			first, _, _ := strings.Cut(d.Doc, "\n")
			t.Errorf("%s: the package doc does not open with %q but with %q", p.ImportPath, want, first)
		}
		for _, name := range undocumented(d) {
			t.Errorf("%s: %s has no doc comment", p.ImportPath, name)
		}
	}
}

// parseDir parses the non-test Go files of dir that belong to package name.
func parseDir(t *testing.T, dir, name string) (*token.FileSet, []*ast.File) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	var files []*ast.File
	for _, e := range entries {
		n := e.Name()
		if e.IsDir() || !strings.HasSuffix(n, ".go") || strings.HasSuffix(n, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, n), nil, parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		if f.Name.Name == name {
			files = append(files, f)
		}
	}
	return fset, files
}

// undocumented lists the exported names of d without a doc comment.
func undocumented(d *doc.Package) []string {
	var names []string
	values := func(vs []*doc.Value) {
		for _, v := range vs {
			if v.Doc != "" {
				continue
			}
			for _, spec := range v.Decl.Specs {
				vs := spec.(*ast.ValueSpec)
				if vs.Doc == nil && vs.Comment == nil {
					for _, n := range vs.Names {
						if n.IsExported() {
							names = append(names, n.Name)
						}
					}
				}
			}
		}
	}
	funcs := func(prefix string, fs []*doc.Func) {
		for _, f := range fs {
			if f.Doc == "" {
				names = append(names, prefix+f.Name)
			}
		}
	}
	values(d.Consts)
	values(d.Vars)
	funcs("", d.Funcs)
	for _, typ := range d.Types {
		if typ.Doc == "" {
			names = append(names, typ.Name)
		}
		values(typ.Consts)
		values(typ.Vars)
		funcs("", typ.Funcs)
		funcs(typ.Name+".", typ.Methods)
	}
	return names
}
