package server_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// The layers of docs/architecture.md, checked on the source: no SQL outside
// package store and its backends, no door that reaches the store, and no
// service that holds the concrete store rather than the storage interface it
// declares. Test files are left out: tests seed and inspect the store
// directly.

// wiring are the packages that open the store and hand it to the services
// (and the tools that drive a store directly: benchmarks, the simulator).
var wiring = []string{"server", "cmd/wardmail", "bench", "sim", "clustertest", "localcluster"}

// storeHolders are services that still take *store.Store (or hand out a
// *store.Tx) instead of a storage interface of their own, each with why.
// When one is given its interface, take it off this list: the test says so.
var storeHolders = map[string]string{}

// doors are the packages that speak a wire protocol: they call services and
// import no storage at all.
var doors = []string{"web", "imapd", "smtpd"}

// sqlImports are the packages that mean SQL is written or run.
var sqlImports = []string{"database/sql", "github.com/jackc/pgx", "modernc.org/sqlite", "github.com/mattn/go-sqlite3"}

// sourceFile is one non-test Go file of the module.
type sourceFile struct {
	pkg  string // directory relative to the module root, with slashes
	path string
	f    *ast.File
}

// moduleSources parses every non-test Go file of the module (the parent of
// this package's directory).
func moduleSources(t *testing.T) []sourceFile {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(root, "go.mod")); err != nil || !strings.HasPrefix(string(b), "module wardmail\n") {
		t.Fatalf("the module root is not %s: %v", root, err)
	}
	fset := token.NewFileSet()
	var out []sourceFile
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if n := d.Name(); p != root && (strings.HasPrefix(n, ".") || n == "node_modules" || n == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, p, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, filepath.Dir(p))
		out = append(out, sourceFile{pkg: filepath.ToSlash(rel), path: filepath.ToSlash(strings.TrimPrefix(p, root+string(filepath.Separator))), f: f})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) < 100 {
		t.Fatalf("found only %d source files under %s", len(out), root)
	}
	return out
}

// within says whether pkg is one of dirs or below one.
func within(pkg string, dirs ...string) bool {
	for _, d := range dirs {
		if pkg == d || strings.HasPrefix(pkg, d+"/") {
			return true
		}
	}
	return false
}

func importsOf(f *ast.File) map[string]string {
	out := map[string]string{} // path -> name in the file
	for _, im := range f.Imports {
		p, _ := strconv.Unquote(im.Path.Value)
		name := p[strings.LastIndexByte(p, '/')+1:]
		if im.Name != nil {
			name = im.Name.Name
		}
		out[p] = name
	}
	return out
}

// No SQL above the storage line: only package store and its backends (and
// the harnesses that create throwaway PostgreSQL databases and read its
// statistics views: clustertest, localcluster) import a SQL package.
func TestLayersNoSQLOutsideStore(t *testing.T) {
	for _, s := range moduleSources(t) {
		if within(s.pkg, "store") || s.path == "bench/backends.go" || within(s.pkg, "clustertest") || within(s.pkg, "localcluster") {
			continue
		}
		for p := range importsOf(s.f) {
			for _, q := range sqlImports {
				if p == q || strings.HasPrefix(p, q+"/") {
					t.Errorf("%s imports %s: SQL belongs in package store and its backends", s.path, p)
				}
			}
		}
	}
}

// The doors reach the storage only through the services: they import no
// package of store (the records they name are the services' aliases).
func TestLayersDoorsImportNoStore(t *testing.T) {
	seen := map[string]bool{}
	for _, s := range moduleSources(t) {
		if !within(s.pkg, doors...) {
			continue
		}
		seen[topDir(s.pkg)] = true
		for p := range importsOf(s.f) {
			if p == "wardmail/store" || strings.HasPrefix(p, "wardmail/store/") {
				t.Errorf("%s imports %s: a door calls a service, which declares the storage it needs", s.path, p)
			}
		}
	}
	for _, d := range doors {
		if !seen[d] {
			t.Errorf("no source found for the door %s", d)
		}
	}
}

// Outside the wiring, nothing holds the concrete store: each service
// declares the storage it needs as an interface (mail.Storage,
// admin.Storage, submit.Storage...), which *store.Store implements
// (server/storage.go).
func TestLayersServicesDeclareStorage(t *testing.T) {
	holders := map[string][]string{}
	for _, s := range moduleSources(t) {
		if within(s.pkg, "store") || within(s.pkg, wiring...) {
			continue
		}
		name, ok := importsOf(s.f)["wardmail/store"]
		if !ok {
			continue
		}
		ast.Inspect(s.f, func(n ast.Node) bool {
			star, ok := n.(*ast.StarExpr)
			if !ok {
				return true
			}
			sel, ok := star.X.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			if id, ok := sel.X.(*ast.Ident); ok && id.Name == name && (sel.Sel.Name == "Store" || sel.Sel.Name == "Tx") {
				holders[topDir(s.pkg)] = append(holders[topDir(s.pkg)], s.path)
			}
			return true
		})
	}
	for pkg, files := range holders {
		if _, ok := storeHolders[pkg]; !ok {
			slices.Sort(files)
			t.Errorf("%s holds *store.Store or *store.Tx (%s): declare the storage it needs as an interface of its own", pkg, strings.Join(slices.Compact(files), ", "))
		}
	}
	for pkg, why := range storeHolders {
		if len(holders[pkg]) == 0 {
			t.Errorf("%s no longer holds the concrete store (%s): take it off storeHolders and docs/architecture.md", pkg, why)
		}
	}
}

// topDir is the top directory of pkg.
func topDir(pkg string) string { return strings.SplitN(pkg, "/", 2)[0] }
