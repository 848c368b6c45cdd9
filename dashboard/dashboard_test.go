package dashboard

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/livedash/livedash"
)

func validDashboard() Dashboard {
	return Dashboard{
		Name:    "shop",
		Title:   "Shop",
		Columns: 4,
		Widgets: []Widget{
			{ID: "orders", Type: TypeStat, Topics: []string{"shop.orders"}},
			{ID: "latency", Type: TypeChart, Topics: []string{"shop.latency", "host.*.cpu", "host.>"},
				Options: map[string]any{"window": "5m", "kind": "area", "fields": []any{"p50", "p99"}}, W: 2, H: 2},
		},
	}
}

// TestValidate tries one bad input per row; each must fail with EINVALID and
// a message that names the problem.
func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		change func(d *Dashboard)
		want   string // substring of the message; "" means valid
	}{
		{"valid", func(d *Dashboard) {}, ""},
		{"no widgets is valid", func(d *Dashboard) { d.Widgets = nil }, ""},
		{"unknown options are kept", func(d *Dashboard) { d.Widgets[0].Options = map[string]any{"future": 1} }, ""},
		{"empty name", func(d *Dashboard) { d.Name = "" }, "dashboard name"},
		{"name with a slash", func(d *Dashboard) { d.Name = "a/b" }, "dashboard name"},
		{"name with a dot", func(d *Dashboard) { d.Name = "a.b" }, "dashboard name"},
		{"name too long", func(d *Dashboard) { d.Name = strings.Repeat("a", 65) }, "dashboard name"},
		{"title too long", func(d *Dashboard) { d.Title = strings.Repeat("t", 201) }, "title is longer"},
		{"negative columns", func(d *Dashboard) { d.Columns = -1 }, "columns is -1"},
		{"too many columns", func(d *Dashboard) { d.Columns = 13 }, "columns is 13"},
		{"too many widgets", func(d *Dashboard) {
			d.Widgets = nil
			for i := 0; i <= MaxWidgets; i++ {
				d.Widgets = append(d.Widgets, Widget{ID: "w" + string(rune('a'+i%26)) + strings.Repeat("x", i/26), Type: TypeStat, Topics: []string{"a"}})
			}
		}, "the limit is 100"},
		{"missing widget id", func(d *Dashboard) { d.Widgets[0].ID = "" }, "id is required"},
		{"bad widget id", func(d *Dashboard) { d.Widgets[0].ID = "a b" }, "id must be"},
		{"duplicate widget id", func(d *Dashboard) { d.Widgets[1].ID = "orders" }, `id "orders" is already used by widget 1`},
		{"missing type", func(d *Dashboard) { d.Widgets[0].Type = "" }, "type is required"},
		{"unknown type", func(d *Dashboard) { d.Widgets[0].Type = "pie" }, `unknown type "pie"`},
		{"no topics", func(d *Dashboard) { d.Widgets[0].Topics = nil }, "topics is empty"},
		{"empty topic", func(d *Dashboard) { d.Widgets[0].Topics = []string{""} }, "pattern is empty"},
		{"empty segment", func(d *Dashboard) { d.Widgets[0].Topics = []string{"shop..orders"} }, "empty segment"},
		{"> not last", func(d *Dashboard) { d.Widgets[0].Topics = []string{"shop.>.x"} }, "'>' may only be the last segment"},
		{"bad character", func(d *Dashboard) { d.Widgets[0].Topics = []string{"shop orders"} }, "is not allowed"},
		{"too many topics", func(d *Dashboard) {
			d.Widgets[0].Topics = strings.Split(strings.Repeat("a,", MaxTopics)+"a", ",")
		}, "21 topics"},
		{"negative w", func(d *Dashboard) { d.Widgets[0].W = -1 }, "w is -1"},
		{"w too wide", func(d *Dashboard) { d.Widgets[0].W = 13 }, "w is 13"},
		{"h too tall", func(d *Dashboard) { d.Widgets[0].H = 9 }, "h is 9"},
		{"bad format", func(d *Dashboard) { d.Widgets[0].Options = map[string]any{"format": "money"} }, `options.format: is "money"`},
		{"bad currency", func(d *Dashboard) { d.Widgets[0].Options = map[string]any{"currency": "dollars"} }, "options.currency"},
		{"decimals not a number", func(d *Dashboard) { d.Widgets[0].Options = map[string]any{"decimals": "2"} }, "options.decimals: must be a number"},
		{"decimals too many", func(d *Dashboard) { d.Widgets[0].Options = map[string]any{"decimals": 11} }, "options.decimals: is 11"},
		{"bad window", func(d *Dashboard) { d.Widgets[1].Options = map[string]any{"window": "5 minutes"} }, "options.window"},
		{"bad kind", func(d *Dashboard) { d.Widgets[1].Options = map[string]any{"kind": "pie"} }, "options.kind"},
		{"bad agg", func(d *Dashboard) { d.Widgets[1].Options = map[string]any{"agg": "median"} }, "options.agg"},
		{"fields not a list", func(d *Dashboard) { d.Widgets[1].Options = map[string]any{"fields": "p50"} }, "options.fields: must be a list"},
		{"fields item not a string", func(d *Dashboard) { d.Widgets[1].Options = map[string]any{"fields": []any{"p50", 3}} }, "item 2 must be a string"},
		{"types not a list", func(d *Dashboard) { d.Widgets[0].Options = map[string]any{"types": 5} }, "options.types: must be a list"},
		{"invert not a bool", func(d *Dashboard) { d.Widgets[0].Options = map[string]any{"invert": "yes"} }, "options.invert"},
		{"limit zero", func(d *Dashboard) { d.Widgets[0].Options = map[string]any{"limit": 0} }, "options.limit: is 0"},
		{"thresholds not a list", func(d *Dashboard) { d.Widgets[0].Options = map[string]any{"thresholds": 5} }, "options.thresholds"},
		{"threshold without value", func(d *Dashboard) {
			d.Widgets[0].Options = map[string]any{"thresholds": []any{map[string]any{"color": "red"}}}
		}, "item 1: value must be a number"},
		{"threshold bad colour", func(d *Dashboard) {
			d.Widgets[0].Options = map[string]any{"thresholds": []any{map[string]any{"value": 5, "color": "url(x)"}}}
		}, "item 1: color"},
		{"formats bad", func(d *Dashboard) { d.Widgets[0].Options = map[string]any{"formats": map[string]any{"rss": "kb"}} }, "options.formats: rss"},
		{"gauge min >= max", func(d *Dashboard) {
			d.Widgets[0].Type = TypeGauge
			d.Widgets[0].Options = map[string]any{"min": 10, "max": 10}
		}, "options.min (10) must be less than options.max (10)"},
		{"gauge default max below min", func(d *Dashboard) {
			d.Widgets[0].Type = TypeGauge
			d.Widgets[0].Options = map[string]any{"min": 200}
		}, "must be less than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := validDashboard()
			tt.change(&d)
			err := d.Validate()
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate() = nil, want error containing %q", tt.want)
			}
			var e *livedash.Error
			if !errors.As(err, &e) || e.Code != livedash.EINVALID {
				t.Fatalf("Validate() = %#v, want *livedash.Error with code EINVALID", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Validate() = %q, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestNormalize(t *testing.T) {
	d := Dashboard{Name: "x", Widgets: []Widget{{ID: "w2"}, {}, {}}}
	d.Normalize()
	if d.Title != "x" {
		t.Errorf("Title = %q, want the name", d.Title)
	}
	var ids []string
	for _, w := range d.Widgets {
		ids = append(ids, w.ID)
	}
	if got := strings.Join(ids, ","); got != "w2,w3,w4" {
		t.Errorf("ids = %s, want w2,w3,w4 (no clash with an existing id)", got)
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		name, yaml, want string // want: "" for success, else a substring of the error
	}{
		{"minimal", "widgets:\n  - {type: stat, topics: [a.b]}\n", ""},
		{"json works too", `{"title":"T","widgets":[{"id":"a","type":"feed","topics":["x.>"]}]}`, ""},
		{"matching name", "name: shop\nwidgets: []\n", ""},
		{"empty file", "", "the file is empty"},
		{"other name", "name: other\nwidgets: []\n", `the file says name: "other"`},
		{"unknown field", "title: x\nwidget: []\n", "field widget not found"},
		{"unknown widget field", "widgets:\n  - {type: stat, topic: [a]}\n", "field topic not found"},
		{"bad yaml", "widgets: [\n", "line"},
		{"wrong shape", "widgets: 5\n", "cannot unmarshal"},
		{"invalid widget", "widgets:\n  - {type: stat, topics: ['a..b']}\n", "empty segment"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := Parse("shop", []byte(tt.yaml))
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Parse() error = %v", err)
				}
				if d.Name != "shop" || d.Title == "" {
					t.Fatalf("Parse() = %+v, want name shop and a title", d)
				}
				for _, w := range d.Widgets {
					if w.ID == "" {
						t.Fatalf("widget without id after Parse: %+v", w)
					}
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Parse() error = %v, want it to contain %q", err, tt.want)
			}
			if livedash.ErrorCode(err) != livedash.EINVALID {
				t.Fatalf("code = %s, want EINVALID", livedash.ErrorCode(err))
			}
		})
	}
}

func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, text := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

const okYAML = "widgets:\n  - {id: a, type: stat, topics: [x.y]}\n"

func TestLoadDir(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		names string // comma-separated names loaded, sorted
		want  string // error substring
	}{
		{"empty dir", map[string]string{}, "", ""},
		{"yaml and yml, sorted", map[string]string{"b.yml": okYAML, "a.yaml": okYAML}, "a,b", ""},
		{"other files and subdirs ignored", map[string]string{
			"a.yaml": okYAML, "README.md": "hi", "sub/c.yaml": okYAML, ".hidden.yaml": "bad: [",
		}, "a", ""},
		{"bad file fails the load", map[string]string{"a.yaml": okYAML, "b.yaml": "widgets: 5\n"}, "", "b.yaml"},
		{"same name twice", map[string]string{"a.yaml": okYAML, "a.yml": okYAML}, "", `dashboard "a" is also defined in`},
		{"bad file name", map[string]string{"my dash.yaml": okYAML}, "", "not a valid dashboard name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeFiles(t, tt.files)
			ds, err := LoadDir(dir)
			if tt.want != "" {
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("LoadDir() error = %v, want it to contain %q", err, tt.want)
				}
				if livedash.ErrorCode(err) != livedash.EINVALID {
					t.Fatalf("code = %s, want EINVALID", livedash.ErrorCode(err))
				}
				return
			}
			if err != nil {
				t.Fatalf("LoadDir() error = %v", err)
			}
			var names []string
			for _, d := range ds {
				names = append(names, d.Name)
			}
			if got := strings.Join(names, ","); got != tt.names {
				t.Fatalf("names = %q, want %q", got, tt.names)
			}
		})
	}
}

func TestLoadDirMissing(t *testing.T) {
	_, err := LoadDir(filepath.Join(t.TempDir(), "nope"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("LoadDir(missing) error = %v, want fs.ErrNotExist", err)
	}
}

func TestDefaults(t *testing.T) {
	ds := Defaults()
	byName := map[string]Dashboard{}
	for _, d := range ds {
		if err := d.Validate(); err != nil {
			t.Errorf("default %s: %v", d.Name, err)
		}
		byName[d.Name] = d
	}
	for _, name := range []string{"host", "shop"} {
		if _, ok := byName[name]; !ok {
			t.Errorf("no default dashboard %q", name)
		}
	}
	// Each type is used at least once, so the defaults show the whole UI.
	used := map[string]bool{}
	for _, d := range ds {
		for _, w := range d.Widgets {
			used[w.Type] = true
		}
	}
	for _, typ := range Types {
		if !used[typ] {
			t.Errorf("no default widget of type %s", typ)
		}
	}
	// Callers get copies.
	ds[0].Title = "changed"
	if Defaults()[0].Title == "changed" {
		t.Error("Defaults shares state between calls")
	}
}
