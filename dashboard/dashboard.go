// Package dashboard owns the livedash dashboard definition format: a named
// grid of widgets, each reading one or more topic patterns. It validates
// definitions, loads them from a directory of YAML files, and ships the
// default dashboards (host metrics and the demo shop) embedded in the binary.
//
// The web UI (package web) renders these definitions; the HTTP layer serves
// them as JSON at /api/v1/dashboards. The format is documented for users in
// docs/dashboards.md.
package dashboard

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"

	"github.com/livedash/livedash"
)

// Widget types.
const (
	TypeStat   = "stat"   // one big number with trend, thresholds, sparkline
	TypeChart  = "chart"  // a time-series chart over a sliding window
	TypeAlerts = "alerts" // alert messages, newest first
	TypeFeed   = "feed"   // event messages, newest first
	TypeTable  = "table"  // a stats snapshot, or the last value of each topic
	TypeGauge  = "gauge"  // a bounded value drawn as an arc
)

// Types lists every widget type, in documentation order.
var Types = []string{TypeStat, TypeChart, TypeAlerts, TypeFeed, TypeTable, TypeGauge}

// Limits of a definition.
const (
	MaxColumns      = 12  // grid columns on a wide screen
	DefaultColumns  = 4   // used when Columns is 0
	MaxWidgets      = 100 // widgets per dashboard
	MaxTopics       = 20  // topic patterns per widget
	MaxWidgetHeight = 8   // grid rows one widget may span
	MaxTitleLen     = 200 // characters of a dashboard or widget title
)

// Dashboard is a named grid of widgets.
type Dashboard struct {
	// Name identifies the dashboard in URLs (/d/{name}): 1 to 64 characters
	// of A-Z a-z 0-9 _ -. Loaded from a file, it is the file's base name.
	Name string `json:"name" yaml:"name,omitempty"`
	// Title is shown in the header and the index; defaults to Name.
	Title string `json:"title" yaml:"title,omitempty"`
	// Columns is the number of grid columns on a wide screen (1 to 12);
	// 0 means DefaultColumns. Narrow screens use fewer columns.
	Columns int      `json:"columns,omitempty" yaml:"columns,omitempty"`
	Widgets []Widget `json:"widgets" yaml:"widgets"`
}

// Widget is one card of a dashboard.
type Widget struct {
	// ID identifies the widget within its dashboard (/embed/{name}/{id}):
	// 1 to 64 characters of A-Z a-z 0-9 _ -, unique in the dashboard.
	ID    string `json:"id" yaml:"id,omitempty"`
	Type  string `json:"type" yaml:"type"`
	Title string `json:"title,omitempty" yaml:"title,omitempty"`
	// Topics are the patterns the widget reads (1 to MaxTopics).
	Topics []string `json:"topics" yaml:"topics"`
	// Options depend on Type; see docs/dashboards.md. Unknown options are
	// kept and ignored, known ones are type-checked by Validate.
	Options map[string]any `json:"options,omitempty" yaml:"options,omitempty"`
	// W and H are the columns and rows the widget spans; 0 means 1.
	W int `json:"w,omitempty" yaml:"w,omitempty"`
	H int `json:"h,omitempty" yaml:"h,omitempty"`
}

var nameRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// ValidateName checks a dashboard name or widget id: 1 to 64 characters of
// A-Z a-z 0-9 _ -. Returns EINVALID otherwise.
func ValidateName(name string) error {
	if !nameRE.MatchString(name) {
		return livedash.Errorf(livedash.EINVALID, "name %q must be 1 to 64 characters of A-Z a-z 0-9 _ -", name)
	}
	return nil
}

// Normalize fills in what a definition may leave out: the title (from the
// name), and widget ids ("w1", "w2", … by position) where missing. Call it
// before Validate on definitions written by people; LoadDir and Defaults do.
func (d *Dashboard) Normalize() {
	if d.Title == "" {
		d.Title = d.Name
	}
	used := make(map[string]bool, len(d.Widgets))
	for _, w := range d.Widgets {
		used[w.ID] = true
	}
	for i := range d.Widgets {
		w := &d.Widgets[i]
		if w.ID != "" {
			continue
		}
		for n := i + 1; ; n++ {
			id := "w" + strconv.Itoa(n)
			if !used[id] {
				w.ID = id
				used[id] = true
				break
			}
		}
	}
}

// Validate checks the whole definition and returns the first problem as a
// *livedash.Error with code EINVALID, naming the widget and the field.
func (d *Dashboard) Validate() error {
	if err := ValidateName(d.Name); err != nil {
		return livedash.Errorf(livedash.EINVALID, "dashboard name %q must be 1 to 64 characters of A-Z a-z 0-9 _ -", d.Name)
	}
	if len([]rune(d.Title)) > MaxTitleLen {
		return invalid(d.Name, "title is longer than %d characters", MaxTitleLen)
	}
	if d.Columns < 0 || d.Columns > MaxColumns {
		return invalid(d.Name, "columns is %d; use 1 to %d (or leave it out for %d)", d.Columns, MaxColumns, DefaultColumns)
	}
	if len(d.Widgets) > MaxWidgets {
		return invalid(d.Name, "%d widgets; the limit is %d", len(d.Widgets), MaxWidgets)
	}
	seen := make(map[string]int, len(d.Widgets))
	for i := range d.Widgets {
		w := &d.Widgets[i]
		if err := w.validate(); err != nil {
			return invalid(d.Name, "widget %d (%q): %s", i+1, w.ID, err)
		}
		if j, dup := seen[w.ID]; dup {
			return invalid(d.Name, "widget %d: id %q is already used by widget %d", i+1, w.ID, j+1)
		}
		seen[w.ID] = i
	}
	return nil
}

func invalid(name, format string, args ...any) error {
	return livedash.Errorf(livedash.EINVALID, "dashboard %q: %s", name, fmt.Sprintf(format, args...))
}

// validate returns a plain error; Dashboard.Validate wraps it with context.
func (w *Widget) validate() error {
	if w.ID == "" {
		return fmt.Errorf("id is required")
	}
	if !nameRE.MatchString(w.ID) {
		return fmt.Errorf("id must be 1 to 64 characters of A-Z a-z 0-9 _ -")
	}
	if !isType(w.Type) {
		if w.Type == "" {
			return fmt.Errorf("type is required (one of %s)", strings.Join(Types, ", "))
		}
		return fmt.Errorf("unknown type %q (use one of %s)", w.Type, strings.Join(Types, ", "))
	}
	if len([]rune(w.Title)) > MaxTitleLen {
		return fmt.Errorf("title is longer than %d characters", MaxTitleLen)
	}
	if len(w.Topics) == 0 {
		return fmt.Errorf("topics is empty; give at least one topic pattern such as \"shop.orders\" or \"host.*.cpu\"")
	}
	if len(w.Topics) > MaxTopics {
		return fmt.Errorf("%d topics; the limit is %d", len(w.Topics), MaxTopics)
	}
	for _, p := range w.Topics {
		if err := livedash.ValidatePattern(p); err != nil {
			return fmt.Errorf("topics: %s", livedash.ErrorMessage(err))
		}
	}
	if w.W < 0 || w.W > MaxColumns {
		return fmt.Errorf("w is %d; use 1 to %d", w.W, MaxColumns)
	}
	if w.H < 0 || w.H > MaxWidgetHeight {
		return fmt.Errorf("h is %d; use 1 to %d", w.H, MaxWidgetHeight)
	}
	return validateOptions(w.Type, w.Options)
}

func isType(t string) bool {
	for _, k := range Types {
		if t == k {
			return true
		}
	}
	return false
}

var (
	formats    = []string{"number", "currency", "percent", "bytes", "duration"}
	chartKinds = []string{"line", "area", "bar"}
	aggs       = []string{"avg", "sum", "min", "max", "last", "count"}
	durationRE = regexp.MustCompile(`^([0-9]+(\.[0-9]+)?(ms|s|m|h|d))+$`)
	currencyRE = regexp.MustCompile(`^[A-Z]{3}$`)
	colorRE    = regexp.MustCompile(`^(#[0-9A-Fa-f]{3,8}|[a-z]{3,20})$`)
)

// validateOptions type-checks the options the UI understands. Options it
// does not know are accepted, so that newer definitions load in older servers.
func validateOptions(typ string, o map[string]any) error {
	for key, v := range o {
		if err := checkJSON("options."+key, v); err != nil {
			return err
		}
		var err error
		switch key {
		case "field", "unit", "label":
			err = wantString(v)
		case "fields", "types":
			err = wantStrings(v)
		case "format":
			err = wantOneOf(v, formats)
		case "currency":
			err = wantMatch(v, currencyRE, "a 3-letter currency code such as USD")
		case "decimals":
			err = wantNumberIn(v, 0, 10)
		case "min", "max", "scale":
			err = wantNumberIn(v, math.Inf(-1), math.Inf(1))
		case "limit":
			err = wantNumberIn(v, 1, 1000)
		case "invert", "sparkline", "compact", "stacked", "notify":
			err = wantBool(v)
		case "window", "trend_window":
			err = wantMatch(v, durationRE, "a duration such as 30s, 5m or 1h")
		case "kind":
			err = wantOneOf(v, chartKinds)
		case "good":
			err = wantOneOf(v, []string{"up", "down"})
		case "thresholds":
			err = wantThresholds(v)
		case "colors":
			err = wantStrings(v)
		case "formats":
			err = wantFormats(v)
		case "step":
			err = wantMatch(v, durationRE, "a duration such as 10s or 1m")
		case "agg":
			err = wantOneOf(v, aggs)
		}
		if err != nil {
			return fmt.Errorf("options.%s: %s", key, err)
		}
	}
	if typ == TypeGauge {
		lo, okLo := number(o["min"])
		hi, okHi := number(o["max"])
		if !okLo {
			lo = 0
		}
		if !okHi {
			hi = 100
		}
		if lo >= hi {
			return fmt.Errorf("options.min (%g) must be less than options.max (%g)", lo, hi)
		}
	}
	return nil
}

// checkJSON returns an error naming the place (path) in v, an option
// decoded from YAML or JSON, of a value JSON cannot hold: a NaN or infinite
// number (YAML .nan, .inf), or a map key that is not a string (YAML {1: x}
// inside an option). Such a dashboard could be neither stored nor served.
func checkJSON(path string, v any) error {
	switch x := v.(type) {
	case float64:
		if !livedash.Finite(x) {
			return fmt.Errorf("%s is %v; JSON numbers must be finite", path, x)
		}
	case float32:
		return checkJSON(path, float64(x))
	case []any:
		for i, e := range x {
			if err := checkJSON(fmt.Sprintf("%s[%d]", path, i), e); err != nil {
				return err
			}
		}
	case map[string]any:
		for k, e := range x {
			if err := checkJSON(path+"."+k, e); err != nil {
				return err
			}
		}
	case map[any]any:
		for k := range x {
			if _, ok := k.(string); !ok {
				return fmt.Errorf("%s: key %s is not a string; quote it (\"%v\")", path, describe(k), k)
			}
		}
	}
	return nil
}

func number(v any) (float64, bool) {
	switch n := v.(type) {
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	case uint64:
		return float64(n), true
	case float64:
		return n, !math.IsNaN(n) && !math.IsInf(n, 0)
	case float32:
		return float64(n), true
	}
	return 0, false
}

func wantString(v any) error {
	if _, ok := v.(string); !ok {
		return fmt.Errorf("must be a string, not %s", describe(v))
	}
	return nil
}

func wantStrings(v any) error {
	switch l := v.(type) {
	case []string:
		return nil
	case []any:
		for i, e := range l {
			if _, ok := e.(string); !ok {
				return fmt.Errorf("item %d must be a string, not %s", i+1, describe(e))
			}
		}
		return nil
	}
	return fmt.Errorf("must be a list of strings, not %s", describe(v))
}

func wantOneOf(v any, allowed []string) error {
	s, ok := v.(string)
	if ok {
		for _, a := range allowed {
			if s == a {
				return nil
			}
		}
	}
	return fmt.Errorf("is %s; use one of %s", describe(v), strings.Join(allowed, ", "))
}

func wantMatch(v any, re *regexp.Regexp, what string) error {
	s, ok := v.(string)
	if !ok || !re.MatchString(s) {
		return fmt.Errorf("is %s; use %s", describe(v), what)
	}
	return nil
}

func wantNumberIn(v any, lo, hi float64) error {
	n, ok := number(v)
	if !ok {
		return fmt.Errorf("must be a number, not %s", describe(v))
	}
	if n < lo || n > hi {
		return fmt.Errorf("is %g; use %g to %g", n, lo, hi)
	}
	return nil
}

func wantFormats(v any) error {
	m, ok := v.(map[string]any)
	if !ok {
		return fmt.Errorf("must be an object of field: format, not %s", describe(v))
	}
	for k, f := range m {
		if err := wantOneOf(f, formats); err != nil {
			return fmt.Errorf("%s %s", k, err)
		}
	}
	return nil
}

func wantBool(v any) error {
	if _, ok := v.(bool); !ok {
		return fmt.Errorf("must be true or false, not %s", describe(v))
	}
	return nil
}

func wantThresholds(v any) error {
	l, ok := v.([]any)
	if !ok {
		return fmt.Errorf("must be a list of {value, color}, not %s", describe(v))
	}
	for i, e := range l {
		m, ok := e.(map[string]any)
		if !ok {
			return fmt.Errorf("item %d must be {value: N, color: NAME}, not %s", i+1, describe(e))
		}
		if _, ok := number(m["value"]); !ok {
			return fmt.Errorf("item %d: value must be a number, not %s", i+1, describe(m["value"]))
		}
		if err := wantMatch(m["color"], colorRE, "a colour name (red, amber, green, blue, …) or #rrggbb"); err != nil {
			return fmt.Errorf("item %d: color %s", i+1, err)
		}
	}
	return nil
}

func describe(v any) string {
	switch x := v.(type) {
	case nil:
		return "empty"
	case string:
		return strconv.Quote(x)
	case bool:
		return strconv.FormatBool(x)
	case []any, []string:
		return "a list"
	case map[string]any:
		return "an object"
	}
	if n, ok := number(v); ok {
		return strconv.FormatFloat(n, 'g', -1, 64)
	}
	return fmt.Sprintf("%T", v)
}
