package dashboard

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"

	"github.com/livedash/livedash"
	"go.yaml.in/yaml/v3"
)

// MaxFileSize is the largest dashboard file LoadDir reads.
const MaxFileSize = 1 << 20

//go:embed defaults/*.yaml
var defaultFiles embed.FS

// Parse reads one YAML (or JSON, which is YAML) definition. The dashboard is
// named name; a name: field in the file, when present, must agree with it.
// Unknown top-level or widget fields are errors, so typos are caught. The
// result is normalized and validated; errors are EINVALID.
func Parse(name string, data []byte) (Dashboard, error) {
	var d Dashboard
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&d); err != nil {
		if errors.Is(err, io.EOF) {
			return Dashboard{}, livedash.Errorf(livedash.EINVALID, "dashboard %q: the file is empty", name)
		}
		return Dashboard{}, livedash.Errorf(livedash.EINVALID, "dashboard %q: %s", name, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	var more yaml.Node
	if err := dec.Decode(&more); !errors.Is(err, io.EOF) {
		return Dashboard{}, livedash.Errorf(livedash.EINVALID, "dashboard %q: more than one document (or bytes after the JSON value): send exactly one dashboard", name)
	}
	if d.Name != "" && d.Name != name {
		return Dashboard{}, livedash.Errorf(livedash.EINVALID, "dashboard %q: the file says name: %q; the name comes from the file name, so remove it or rename the file", name, d.Name)
	}
	d.Name = name
	d.Normalize()
	if err := d.Validate(); err != nil {
		return Dashboard{}, err
	}
	return d, nil
}

// LoadDir reads every *.yaml and *.yml file directly in dir (not in
// subdirectories), each one dashboard named after its base name
// (shop.yaml → "shop"), sorted by name. Any bad file fails the whole load
// with an EINVALID error naming the file, so a typo is never silently
// skipped. A missing dir returns an error for which
// errors.Is(err, fs.ErrNotExist) holds.
func LoadDir(dir string) ([]Dashboard, error) {
	if _, err := os.Stat(dir); err != nil {
		return nil, err
	}
	return loadFS(os.DirFS(dir), ".", dir)
}

// loadFS loads the dashboards in dir of fsys; where names the directory in
// errors.
func loadFS(fsys fs.FS, dir, where string) ([]Dashboard, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, err
	}
	var out []Dashboard
	from := make(map[string]string)
	for _, e := range entries {
		ext := path.Ext(e.Name())
		if e.IsDir() || (ext != ".yaml" && ext != ".yml") || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		file := path.Join(dir, e.Name())
		shown := path.Join(where, e.Name())
		name := strings.TrimSuffix(e.Name(), ext)
		if err := ValidateName(name); err != nil {
			return nil, livedash.Errorf(livedash.EINVALID, "%s: the file name %q is not a valid dashboard name (use A-Z a-z 0-9 _ -)", shown, name)
		}
		if other, dup := from[name]; dup {
			return nil, livedash.Errorf(livedash.EINVALID, "%s: dashboard %q is also defined in %s", shown, name, other)
		}
		info, err := e.Info()
		if err != nil {
			return nil, err
		}
		if info.Size() > MaxFileSize {
			return nil, livedash.Errorf(livedash.EINVALID, "%s: %d bytes; the limit is %d", shown, info.Size(), MaxFileSize)
		}
		data, err := fs.ReadFile(fsys, file)
		if err != nil {
			return nil, err
		}
		d, err := Parse(name, data)
		if err != nil {
			var e *livedash.Error
			if errors.As(err, &e) {
				return nil, livedash.Errorf(e.Code, "%s: %s", shown, e.Message)
			}
			return nil, fmt.Errorf("%s: %w", shown, err)
		}
		from[name] = shown
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// Defaults returns the dashboards shipped with livedash: "host" (the
// server's host metrics) and "shop" (the topics of serve --demo). Each call
// returns fresh copies the caller may change.
func Defaults() []Dashboard {
	ds, err := loadFS(defaultFiles, "defaults", "defaults")
	if err != nil {
		// The files are embedded and tested; this is a build mistake.
		panic("dashboard: bad default dashboards: " + err.Error())
	}
	return ds
}
