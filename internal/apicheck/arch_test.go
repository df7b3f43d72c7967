package apicheck

// The module's arrows point one way: khipuv3 → khipu → internal/*. Nothing
// in internal/ imports a client package, no package's init sets another
// package's state, and internal/ has no exported variable a client could
// set for the others to read (a function or an interface, such as the error
// mapping once was).

import (
	"go/ast"
	"go/parser"
	"go/token"
	"go/types"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestNothingInInternalImportsAClientPackage(t *testing.T) {
	m := loadModule(t)
	inModule := map[string]listed{}
	for _, p := range m.pkgs {
		inModule[p.ImportPath] = p
	}
	for _, p := range m.pkgs {
		if !isInternal(p) {
			continue
		}
		for _, imp := range p.Imports {
			if dep, ok := inModule[imp]; ok && !isInternal(dep) {
				t.Errorf("%s imports %s: internal packages are below the clients, never above", p.ImportPath, imp)
			}
		}
	}
}

func TestInternalHasNoGlobalAClientCouldSet(t *testing.T) {
	m := loadModule(t)
	for _, pkg := range m.packages(t, isInternal) {
		scope := pkg.Scope()
		for _, name := range scope.Names() {
			v, ok := scope.Lookup(name).(*types.Var)
			if !ok || !v.Exported() {
				continue
			}
			switch v.Type().Underlying().(type) {
			case *types.Signature, *types.Interface:
				t.Errorf("%s.%s is a variable of type %s: what a client gives the pipeline goes in its call, not in a global",
					pkg.Path(), name, v.Type())
			}
		}
	}
}

func TestNoInitSetsAnotherPackagesState(t *testing.T) {
	root := loadModule(t).root
	var files int
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != root && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata" || hasGoMod(path)) {
				return filepath.SkipDir // another module's, or not Go code
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		files++
		for _, where := range initAssignsElsewhere(t, path) {
			rel, _ := filepath.Rel(root, path)
			t.Errorf("%s:%s: init sets another package's state", filepath.ToSlash(rel), where)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files == 0 {
		t.Fatal("no Go file found")
	}
}

func hasGoMod(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, "go.mod"))
	return err == nil
}

// initAssignsElsewhere returns the line:column of each assignment in the
// file's init functions to a name of an imported package (pkg.Var = ...,
// pkg.Var.Field = ..., pkg.Var++).
func initAssignsElsewhere(t *testing.T, path string) []string {
	t.Helper()
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
	if err != nil {
		t.Fatal(err)
	}
	imported := map[string]bool{}
	for _, spec := range f.Imports {
		p, _ := strconv.Unquote(spec.Path.Value)
		name := p[strings.LastIndex(p, "/")+1:]
		if spec.Name != nil {
			name = spec.Name.Name
		}
		imported[name] = true
	}
	var found []string
	for _, decl := range f.Decls {
		fn, ok := decl.(*ast.FuncDecl)
		if !ok || fn.Recv != nil || fn.Name.Name != "init" || fn.Body == nil {
			continue
		}
		ast.Inspect(fn.Body, func(n ast.Node) bool {
			var lhs []ast.Expr
			switch s := n.(type) {
			case *ast.AssignStmt:
				lhs = s.Lhs
			case *ast.IncDecStmt:
				lhs = []ast.Expr{s.X}
			}
			for _, e := range lhs {
				if id := rootIdent(e); id != nil && imported[id.Name] {
					found = append(found, fset.Position(e.Pos()).String()[len(path)+1:])
				}
			}
			return true
		})
	}
	return found
}

// rootIdent is the identifier an assigned expression starts from: pkg in
// pkg.Var.Field[i], or nil.
func rootIdent(e ast.Expr) *ast.Ident {
	for {
		switch x := e.(type) {
		case *ast.SelectorExpr:
			if id, ok := x.X.(*ast.Ident); ok {
				return id
			}
			e = x.X
		case *ast.IndexExpr:
			e = x.X
		case *ast.StarExpr:
			e = x.X
		case *ast.ParenExpr:
			e = x.X
		default:
			return nil
		}
	}
}
