// Package rollup owns livedash's server-side aggregates: for configured
// topics it keeps sum, count, min, max, avg, last and (optionally) a
// HyperLogLog distinct count over tumbling windows (a duration such as 1m or
// 1h, or "today", the calendar day in a configured time zone), publishes
// them as stats messages on rollup.<name>.<window>, and saves its state so
// that a restart resumes exactly where it stopped.
//
// The Engine consumes committed messages (Observe, in id order, from one
// goroutine), advances windows on a clock (Tick / Run) and publishes through
// a livedash.Publisher; what every engine does besides (frames seen,
// publishing, saving, the tick loop) is package engine's Core. It keeps no
// global state; time comes from an injected clock.
package rollup

import (
	"fmt"
	"strings"
	"time"
	_ "time/tzdata" // "today" in any IANA zone, also on machines without zoneinfo

	"github.com/livedash/livedash"
)

// Prefix starts every topic the engine publishes on. Rules may not read
// rollup topics: a rollup of a rollup would feed itself.
const Prefix = "rollup."

// WindowToday is the window name of the calendar day in the engine's zone.
const WindowToday = "today"

// DefaultThrottle is the least time between two publications of one rollup
// window when its rule sets no throttle.
const DefaultThrottle = time.Second

// Rule configures one rollup: which messages feed it, which value is
// aggregated, and over which windows.
//
// Point messages give a value: their data when it is a number, else the
// numeric Field of their object data; a point without a value is skipped.
// Event messages always count; they give a value when Field is set and
// numeric in them. Distinct names a field (string or number) whose distinct
// values are counted with HyperLogLog, e.g. the customer of order events.
// Messages of other types are ignored.
type Rule struct {
	// Name is the rollup's name in its output topics rollup.<name>.<window>;
	// it defaults to Topic, and is required when Topic has wildcards.
	Name string `yaml:"name"`
	// Topic is the topic or pattern whose messages are aggregated together.
	Topic string `yaml:"topic"`
	// Field is the numeric field of object data to aggregate; a dotted
	// path ("latency.p99") reaches into nested objects.
	Field string `yaml:"field"`
	// Distinct, when set, is the field whose distinct values are counted.
	Distinct string `yaml:"distinct"`
	// Windows are "today" or durations of at least 1s ("1m", "1h");
	// default ["today"].
	Windows []string `yaml:"windows"`
	// Throttle is the least time between two publications of a window
	// while its value changes; DefaultThrottle when zero.
	Throttle time.Duration `yaml:"throttle"`
}

// OutputName returns the rule's name: Name, or Topic when Name is empty.
func (r Rule) OutputName() string {
	if r.Name != "" {
		return r.Name
	}
	return r.Topic
}

// WindowList returns the rule's windows, or the default ["today"].
func (r Rule) WindowList() []string {
	if len(r.Windows) == 0 {
		return []string{WindowToday}
	}
	return r.Windows
}

// Validate checks the rule and says what is wrong in terms of its config.
func (r Rule) Validate() error {
	if r.Topic == "" {
		return fmt.Errorf("topic is required")
	}
	if err := livedash.ValidatePattern(r.Topic); err != nil {
		return fmt.Errorf("topic: %w", err)
	}
	if livedash.IsSys(r.Topic) {
		return fmt.Errorf("topic %q: sys topics cannot be rolled up", r.Topic)
	}
	if r.Topic == "rollup" || strings.HasPrefix(r.Topic, Prefix) {
		return fmt.Errorf("topic %q: rollup topics cannot be rolled up again", r.Topic)
	}
	if r.Name == "" && strings.ContainsAny(r.Topic, "*>") {
		return fmt.Errorf("topic %q has wildcards: name is required", r.Topic)
	}
	if r.Name != "" {
		if err := livedash.ValidateTopic(r.Name); err != nil {
			return fmt.Errorf("name: %w", err)
		}
	}
	if err := validField(r.Field); err != nil {
		return fmt.Errorf("field: %w", err)
	}
	if err := validField(r.Distinct); err != nil {
		return fmt.Errorf("distinct: %w", err)
	}
	if r.Throttle < 0 {
		return fmt.Errorf("throttle must not be negative")
	}
	seen := map[string]bool{}
	for _, w := range r.WindowList() {
		if _, err := parseWindow(w); err != nil {
			return err
		}
		if seen[w] {
			return fmt.Errorf("window %q is listed twice", w)
		}
		seen[w] = true
		topic := Prefix + r.OutputName() + "." + w
		if err := livedash.ValidateTopic(topic); err != nil {
			return fmt.Errorf("output topic: %w", err)
		}
	}
	return nil
}

// ValidateRules checks every rule and that no two publish on the same topic.
func ValidateRules(rules []Rule) error {
	names := map[string]int{}
	for i, r := range rules {
		if err := r.Validate(); err != nil {
			return fmt.Errorf("rollup %d (%s): %w", i, r.OutputName(), err)
		}
		if j, ok := names[r.OutputName()]; ok {
			return fmt.Errorf("rollup %d: name %q is already used by rollup %d", i, r.OutputName(), j)
		}
		names[r.OutputName()] = i
	}
	return nil
}

func validField(f string) error {
	if f == "" {
		return nil
	}
	for _, part := range strings.Split(f, ".") {
		if part == "" {
			return fmt.Errorf("%q has an empty path segment", f)
		}
	}
	return nil
}

// window is a parsed window spec: the calendar day, or a fixed duration.
type window struct {
	name  string
	today bool
	d     time.Duration
}

func parseWindow(s string) (window, error) {
	if s == WindowToday {
		return window{name: s, today: true}, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return window{}, fmt.Errorf("window %q: use today or a duration such as 1m or 1h", s)
	}
	if d < time.Second {
		return window{}, fmt.Errorf("window %q: must be at least 1s", s)
	}
	if d > 24*time.Hour {
		return window{}, fmt.Errorf("window %q: must be at most 24h (use today for the calendar day)", s)
	}
	if d%time.Second != 0 {
		return window{}, fmt.Errorf("window %q: must be a whole number of seconds", s)
	}
	return window{name: s, d: d}, nil
}

// bounds returns the window [start, end) containing t, in unix ms. "today"
// is the calendar day of t in loc (23 or 25 hours long on a DST change).
// A duration window follows the zone's local clock: 1h windows start on
// the local hour, also in zones with a half-hour offset.
func (w window) bounds(t time.Time, loc *time.Location) (int64, int64) {
	lt := t.In(loc)
	if w.today {
		y, m, d := lt.Date()
		start := time.Date(y, m, d, 0, 0, 0, 0, loc)
		end := time.Date(y, m, d+1, 0, 0, 0, 0, loc)
		return start.UnixMilli(), end.UnixMilli()
	}
	_, off := lt.Zone()
	offMS := int64(off) * 1000
	step := w.d.Milliseconds()
	local := t.UnixMilli() + offMS
	start := local - mod(local, step) - offMS
	return start, start + step
}

func mod(a, b int64) int64 {
	m := a % b
	if m < 0 {
		m += b
	}
	return m
}
