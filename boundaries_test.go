package livedash

import (
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/livedash/livedash"

// allowedImports are the module's packages each package may import (the
// root, livedash, is "" here), as the package doc comment in livedash.go
// tells them; cmd/livedash, the wiring, may import any. A package missing
// from the list, or an import not in it, fails TestPackageBoundaries:
// write the edge down here and in livedash.go, with its reason, or cut it.
var allowedImports = map[string][]string{
	"":                   {},
	"alert":              {"", "engine"},
	"auth":               {""},
	"bench":              {"internal/epoll", "sse"},
	"client":             {"sse"},
	"config":             {""},
	"counter":            {},
	"dashboard":          {""},
	"engine":             {"", "hub"},
	"httpapi":            {"", "auth", "config", "dashboard", "hub", "ingest", "lineproto", "notify", "otlp", "pubsub", "push"},
	"hub":                {""},
	"ingest":             {""},
	"internal/epoll":     {},
	"internal/redistest": {},
	"lineproto":          {""},
	"metrics":            {},
	"notify":             {"", "alert"},
	"otlp":               {"", "counter"},
	"producer":           {"", "counter", "promtext"},
	"promtext":           {},
	"pubsub":             {"", "hub"},
	"push":               {"internal/epoll"},
	"redisbroker":        {""},
	"rollup":             {"", "engine"},
	"sqlite":             {""},
	"sse":                {},
	"sysevent":           {""},
	"web":                {},
}

// hostOnly are the modules only package producer (host metrics) and the
// wiring may depend on: the HTTP surface and the engines must build
// without them.
var hostOnly = []string{"github.com/shirou/gopsutil"}

func isHostOnly(dep string) bool {
	return slices.ContainsFunc(hostOnly, func(h string) bool { return strings.HasPrefix(dep, h) })
}

type listedPackage struct {
	ImportPath string
	Imports    []string
	Deps       []string
}

// listPackages runs go list over the module.
func listPackages(t *testing.T) []listedPackage {
	t.Helper()
	out, err := exec.Command("go", "list", "-json=ImportPath,Imports,Deps", "./...").Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("go list: %v\n%s", err, ee.Stderr)
		}
		t.Fatalf("go list: %v", err)
	}
	var pkgs []listedPackage
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var p listedPackage
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	if len(pkgs) < len(allowedImports) {
		t.Fatalf("go list gave %d packages, fewer than the %d listed here", len(pkgs), len(allowedImports))
	}
	return pkgs
}

// internal returns p's path inside the module ("" for the root) and
// whether p is the module's.
func internal(p string) (string, bool) {
	if p == module {
		return "", true
	}
	rest, ok := strings.CutPrefix(p, module+"/")
	return rest, ok
}

// TestPackageBoundaries checks the import graph against allowedImports
// and keeps host-only modules (gopsutil) out of every package but
// producer and cmd/livedash: httpapi used to pull gopsutil in through
// config.
func TestPackageBoundaries(t *testing.T) {
	for _, p := range listPackages(t) {
		name, _ := internal(p.ImportPath)
		if name == "cmd/livedash" {
			continue
		}
		allowed, ok := allowedImports[name]
		if !ok {
			t.Errorf("package %s is not in allowedImports: list what it may import, and why in livedash.go", p.ImportPath)
			continue
		}
		for _, imp := range p.Imports {
			if in, ok := internal(imp); ok && !slices.Contains(allowed, in) {
				t.Errorf("%s imports %s, which livedash.go does not allow", p.ImportPath, imp)
			}
		}
		if name == "producer" {
			continue
		}
		if i := slices.IndexFunc(p.Deps, isHostOnly); i >= 0 {
			t.Errorf("%s depends on %s (host metrics belong to producer only)", p.ImportPath, p.Deps[i])
		}
	}
}
