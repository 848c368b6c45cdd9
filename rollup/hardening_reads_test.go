package rollup

import (
	"context"
	"log/slog"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/livedash/livedash"
)

// logLines is a slog handler that keeps each record's text.
type logLines struct {
	mu    sync.Mutex
	lines []string
}

func (l *logLines) Enabled(context.Context, slog.Level) bool { return true }
func (l *logLines) Handle(_ context.Context, r slog.Record) error {
	s := r.Level.String() + " " + r.Message
	r.Attrs(func(a slog.Attr) bool { s += " " + a.String(); return true })
	l.mu.Lock()
	l.lines = append(l.lines, s)
	l.mu.Unlock()
	return nil
}
func (l *logLines) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *logLines) WithGroup(string) slog.Handler      { return l }

func (l *logLines) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

// TestOverflowingSumStaysFinite: values of 1.7e308 are finite but their
// sum is not. The rollup still publishes finite stats (avg without
// overflow, sum from the average and clamped to the float64 range), its
// state saves and loads, and nothing is logged.
func TestOverflowingSumStaysFinite(t *testing.T) {
	ctx := context.Background()
	start := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	clk := &clock{t: start}
	state := &memState{}
	logs := &logLines{}
	rules := []Rule{{Topic: "m.big", Windows: []string{"1h"}}}
	pub := &recorder{}
	e := newEngine(t, rules, Options{Publisher: pub, State: state, Now: clk.Now, Logger: slog.New(logs)})
	var f feed
	e.Observe(ctx, []*livedash.Frame{
		f.frame("m.big", "point", start, "1.7e308"),
		f.frame("m.big", "point", start, "1.7e308"),
	})
	s := pub.last(t, "rollup.m.big.1h")
	if s.Count != 2 || s.Sum != math.MaxFloat64 {
		t.Fatalf("after two: %+v, want count 2 and sum clamped to %g", s, math.MaxFloat64)
	}
	eq(t, "avg", s.Avg, 1.7e308)
	eq(t, "max", s.Max, 1.7e308)
	if err := e.Save(ctx); err != nil {
		t.Fatalf("save: %v", err)
	}

	// A restarted engine goes on from the saved state: a negative value
	// brings the true sum back into range, and the sum follows.
	pub2 := &recorder{}
	e2 := newEngine(t, rules, Options{Publisher: pub2, State: state, Now: clk.Now, Logger: slog.New(logs)})
	if err := e2.Load(ctx); err != nil {
		t.Fatal(err)
	}
	e2.Observe(ctx, []*livedash.Frame{f.frame("m.big", "point", start, "-1.7e308")})
	s = pub2.last(t, "rollup.m.big.1h")
	if s.Count != 3 || math.Abs(s.Sum-1.7e308) > 1e-12*1.7e308 {
		t.Fatalf("after three: %+v, want count 3 and sum 1.7e308", s)
	}
	eq(t, "min", s.Min, -1.7e308)
	if math.Abs(*s.Avg-1.7e308/3) > 1e-12*1.7e308 {
		t.Fatalf("avg %v", *s.Avg)
	}
	e2.Tick(ctx, clk.Add(10*time.Second))
	if err := e2.Save(ctx); err != nil {
		t.Fatalf("save: %v", err)
	}
	if logs.String() != "" {
		t.Fatalf("logged:\n%s", logs)
	}
}

// TestNonFiniteValuesAreSkipped: a value outside the float64 range (an
// old message stored before publishes refused them) is not a value.
func TestNonFiniteValuesAreSkipped(t *testing.T) {
	ctx := context.Background()
	start := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	clk := &clock{t: start}
	pub := &recorder{}
	e := newEngine(t, []Rule{{Topic: "m.x", Field: "v", Windows: []string{"1h"}}}, Options{Publisher: pub, Now: clk.Now})
	var f feed
	e.Observe(ctx, []*livedash.Frame{
		f.frame("m.x", "point", start, `{"v":1e999}`),
		f.frame("m.x", "point", start, `{"v":-1e999}`),
		f.frame("m.x", "point", start, `{"v":2}`),
	})
	s := pub.last(t, "rollup.m.x.1h")
	if s.Count != 1 || s.Sum != 2 {
		t.Fatalf("%+v, want only the finite value", s)
	}
	eq(t, "min", s.Min, 2)
}
