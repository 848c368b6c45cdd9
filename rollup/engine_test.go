package rollup

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/livedash/livedash"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// recorder is a Publisher that keeps what it is given.
type recorder struct {
	mu   sync.Mutex
	msgs []livedash.Message
}

func (r *recorder) Publish(_ context.Context, msgs []livedash.Message) ([]livedash.Message, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.msgs = append(r.msgs, msgs...)
	return msgs, nil
}

// on returns the stats published on topic, oldest first.
func (r *recorder) on(t *testing.T, topic string) []Stats {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []Stats
	for _, m := range r.msgs {
		if m.Topic != topic {
			continue
		}
		if m.Type != livedash.TypeStats {
			t.Fatalf("%s: type %q, want stats", topic, m.Type)
		}
		var s Stats
		if err := json.Unmarshal(m.Data, &s); err != nil {
			t.Fatalf("%s: %v", topic, err)
		}
		out = append(out, s)
	}
	return out
}

func (r *recorder) last(t *testing.T, topic string) Stats {
	t.Helper()
	all := r.on(t, topic)
	if len(all) == 0 {
		t.Fatalf("nothing published on %s", topic)
	}
	return all[len(all)-1]
}

// memState is a StateStore in memory.
type memState struct {
	mu sync.Mutex
	m  map[string][]byte
}

func (s *memState) LoadState(_ context.Context, key string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.m[key], nil
}

func (s *memState) SaveState(_ context.Context, key string, v []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[string][]byte{}
	}
	s.m[key] = append([]byte(nil), v...)
	return nil
}

// clock is a settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }
func (c *clock) Add(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
	return c.t
}

// feed builds frames with growing seqs.
type feed struct{ seq uint64 }

func (f *feed) frame(topic, typ string, ts time.Time, data string) *livedash.Frame {
	f.seq++
	return livedash.NewFrame(livedash.Message{
		ID: livedash.ID{Seq: f.seq, Epoch: "test"}, Topic: topic, Type: typ, TS: ts.UnixMilli(), Data: json.RawMessage(data),
	})
}

func num(f float64) string { return fmt.Sprint(f) }

func eq(t *testing.T, what string, got *float64, want float64) {
	t.Helper()
	if got == nil {
		t.Fatalf("%s is null, want %v", what, want)
	}
	if *got != want {
		t.Fatalf("%s = %v, want %v", what, *got, want)
	}
}

func newEngine(t *testing.T, rules []Rule, opts Options) *Engine {
	t.Helper()
	e, err := New(rules, opts)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestExactAggregates(t *testing.T) {
	ctx := context.Background()
	start := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	clk := &clock{t: start}
	pub := &recorder{}
	e := newEngine(t, []Rule{
		{Topic: "shop.revenue", Windows: []string{"1m", "1h", "today"}},
		{Name: "shop.orders", Topic: "shop.orders", Field: "total", Distinct: "customer"},
		{Name: "host.p99", Topic: "host.*.latency", Field: "p99", Windows: []string{"1h"}},
	}, Options{Publisher: pub, Now: clk.Now})

	var f feed
	var frames []*livedash.Frame
	// 1000 orders of 19.99: a float sum that drifts without compensation.
	for i := range 1000 {
		ts := start.Add(time.Duration(i) * 50 * time.Millisecond)
		frames = append(frames, f.frame("shop.revenue", "point", ts, "19.99"))
		frames = append(frames, f.frame("shop.orders", "event", ts,
			fmt.Sprintf(`{"total":19.99,"customer":"c%d"}`, i%37)))
	}
	for i := 1; i <= 100; i++ {
		frames = append(frames, f.frame("host.a.latency", "point", start, fmt.Sprintf(`{"p50":1,"p99":%d}`, i)))
	}
	// Ignored: a point without a value, another type, another topic.
	frames = append(frames,
		f.frame("shop.revenue", "point", start, `null`),
		f.frame("shop.revenue", "stats", start, `{"x":1}`),
		f.frame("host.a.latency", "point", start, `{"p50":1}`),
		f.frame("shop.refunds", "point", start, `5`))
	clk.Set(start.Add(50 * time.Second))
	e.Observe(ctx, frames)

	for _, w := range []string{"1m", "1h", "today"} {
		s := pub.last(t, "rollup.shop.revenue."+w)
		if s.Sum != 19990 || s.Count != 1000 {
			t.Fatalf("%s: sum %v count %d, want 19990 and 1000", w, s.Sum, s.Count)
		}
		eq(t, "min", s.Min, 19.99)
		eq(t, "max", s.Max, 19.99)
		eq(t, "avg", s.Avg, 19.99)
		eq(t, "last", s.Last, 19.99)
		if s.Distinct != nil {
			t.Fatalf("distinct present without a distinct field: %v", *s.Distinct)
		}
	}
	s := pub.last(t, "rollup.shop.orders.today")
	if s.Count != 1000 || s.Sum != 19990 || s.Distinct == nil || *s.Distinct != 37 {
		t.Fatalf("orders: %+v", s)
	}
	if s.WindowStart != time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC).UnixMilli() ||
		s.WindowEnd != time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC).UnixMilli() {
		t.Fatalf("today window %d..%d", s.WindowStart, s.WindowEnd)
	}
	s = pub.last(t, "rollup.host.p99.1h")
	if s.Sum != 5050 || s.Count != 100 {
		t.Fatalf("p99: %+v", s)
	}
	eq(t, "min", s.Min, 1)
	eq(t, "max", s.Max, 100)
	eq(t, "avg", s.Avg, 50.5)
	eq(t, "last", s.Last, 100)
}

func TestEventsWithoutFieldCountOnly(t *testing.T) {
	clk := &clock{t: time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)}
	pub := &recorder{}
	e := newEngine(t, []Rule{{Topic: "bot.events"}}, Options{Publisher: pub, Now: clk.Now})
	var f feed
	e.Observe(context.Background(), []*livedash.Frame{
		f.frame("bot.events", "event", clk.Now(), `{"user":"a"}`),
		f.frame("bot.events", "event", clk.Now(), `{"user":"b"}`),
	})
	s := pub.last(t, "rollup.bot.events.today")
	if s.Count != 2 || s.Sum != 0 || s.Min != nil || s.Avg != nil || s.Last != nil {
		t.Fatalf("%+v", s)
	}
	var raw map[string]any
	pub.mu.Lock()
	json.Unmarshal(pub.msgs[len(pub.msgs)-1].Data, &raw)
	pub.mu.Unlock()
	for _, k := range []string{"sum", "count", "min", "max", "avg", "last", "window_start", "window_end"} {
		if _, ok := raw[k]; !ok {
			t.Fatalf("data lacks %q: %v", k, raw)
		}
	}
}

func TestThrottleAndTick(t *testing.T) {
	ctx := context.Background()
	start := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	clk := &clock{t: start}
	pub := &recorder{}
	e := newEngine(t, []Rule{{Topic: "a.b", Windows: []string{"1h"}, Throttle: time.Second}}, Options{Publisher: pub, Now: clk.Now})
	var f feed
	for i := range 10 {
		clk.Set(start.Add(time.Duration(i) * 100 * time.Millisecond))
		e.Observe(ctx, []*livedash.Frame{f.frame("a.b", "point", clk.Now(), "1")})
	}
	if got := pub.on(t, "rollup.a.b.1h"); len(got) != 1 || got[0].Count != 1 {
		t.Fatalf("within one throttle: %+v, want one publication of count 1", got)
	}
	e.Tick(ctx, clk.Add(500*time.Millisecond)) // 1.4s after the first
	got := pub.on(t, "rollup.a.b.1h")
	if len(got) != 2 || got[1].Count != 10 {
		t.Fatalf("after the throttle: %+v", got)
	}
	e.Tick(ctx, clk.Add(5*time.Second)) // nothing changed: nothing published
	if n := len(pub.on(t, "rollup.a.b.1h")); n != 2 {
		t.Fatalf("%d publications with no change", n)
	}
}

func TestDayBoundaryInZone(t *testing.T) {
	ctx := context.Background()
	loc, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	// 23:59:50 local on Nov 23, i.e. 04:59:50 UTC on Nov 24: a UTC day
	// would be wrong here.
	before := time.Date(2026, 11, 23, 23, 59, 50, 0, loc)
	clk := &clock{t: before}
	pub := &recorder{}
	e := newEngine(t, []Rule{{Topic: "shop.revenue", Windows: []string{"today", "1m"}}}, Options{Publisher: pub, Now: clk.Now, Location: loc})
	var f feed
	e.Observe(ctx, []*livedash.Frame{
		f.frame("shop.revenue", "point", before, "10"),
		f.frame("shop.revenue", "point", before.Add(time.Second), "5"),
	})
	clk.Set(before.Add(5 * time.Second))
	e.Observe(ctx, []*livedash.Frame{f.frame("shop.revenue", "point", before.Add(5*time.Second), "2.5")}) // throttled
	// Across midnight by a message: the old day's final value is published
	// first, then the new day.
	after := before.Add(20 * time.Second) // 00:00:10 local
	clk.Set(after)
	e.Observe(ctx, []*livedash.Frame{f.frame("shop.revenue", "point", after, "7")})
	days := pub.on(t, "rollup.shop.revenue.today")
	day1Start := time.Date(2026, 11, 23, 0, 0, 0, 0, loc).UnixMilli()
	day2Start := time.Date(2026, 11, 24, 0, 0, 0, 0, loc).UnixMilli()
	var final, next *Stats
	for i := range days {
		switch days[i].WindowStart {
		case day1Start:
			final = &days[i]
		case day2Start:
			next = &days[i]
		}
	}
	if final == nil || final.Sum != 17.5 || final.Count != 3 || final.WindowEnd != day2Start {
		t.Fatalf("final of Nov 23: %+v (all: %+v)", final, days)
	}
	if next == nil || next.Sum != 7 || next.Count != 1 {
		t.Fatalf("Nov 24: %+v", next)
	}
	// A late message for the closed day is not counted in the new one.
	e.Observe(ctx, []*livedash.Frame{f.frame("shop.revenue", "point", before, "1000")})
	e.Tick(ctx, clk.Add(2*time.Second))
	if s := pub.last(t, "rollup.shop.revenue.today"); s.Sum != 7 || s.WindowStart != day2Start {
		t.Fatalf("after a late message: %+v", s)
	}

	// Across midnight by the clock alone: the new, empty day is published.
	clk.Set(time.Date(2026, 11, 25, 0, 0, 1, 0, loc))
	e.Tick(ctx, clk.Now())
	s := pub.last(t, "rollup.shop.revenue.today")
	if s.Count != 0 || s.Sum != 0 || s.WindowStart != time.Date(2026, 11, 25, 0, 0, 0, 0, loc).UnixMilli() {
		t.Fatalf("empty new day: %+v", s)
	}
	if m := pub.last(t, "rollup.shop.revenue.1m"); m.Count != 0 {
		t.Fatalf("1m window after a day: %+v", m)
	}
}

func TestWindowBounds(t *testing.T) {
	ny, _ := time.LoadLocation("America/New_York")
	kolkata, _ := time.LoadLocation("Asia/Kolkata")
	tests := []struct {
		window     string
		loc        *time.Location
		at         time.Time
		start, end time.Time
	}{
		{"1m", time.UTC, time.Date(2026, 1, 1, 10, 5, 30, 0, time.UTC), time.Date(2026, 1, 1, 10, 5, 0, 0, time.UTC), time.Date(2026, 1, 1, 10, 6, 0, 0, time.UTC)},
		{"1h", kolkata, time.Date(2026, 1, 1, 10, 45, 0, 0, kolkata), time.Date(2026, 1, 1, 10, 0, 0, 0, kolkata), time.Date(2026, 1, 1, 11, 0, 0, 0, kolkata)},
		{"today", ny, time.Date(2026, 3, 8, 12, 0, 0, 0, ny), time.Date(2026, 3, 8, 0, 0, 0, 0, ny), time.Date(2026, 3, 9, 0, 0, 0, 0, ny)},     // 23h DST day
		{"today", ny, time.Date(2026, 11, 1, 23, 59, 0, 0, ny), time.Date(2026, 11, 1, 0, 0, 0, 0, ny), time.Date(2026, 11, 2, 0, 0, 0, 0, ny)}, // 25h
	}
	for _, tt := range tests {
		t.Run(tt.window+"@"+tt.at.String(), func(t *testing.T) {
			w, err := parseWindow(tt.window)
			if err != nil {
				t.Fatal(err)
			}
			s, e := w.bounds(tt.at, tt.loc)
			if s != tt.start.UnixMilli() || e != tt.end.UnixMilli() {
				t.Fatalf("bounds %v..%v, want %v..%v", time.UnixMilli(s).In(tt.loc), time.UnixMilli(e).In(tt.loc), tt.start, tt.end)
			}
		})
	}
}

func TestRestartResumesExactly(t *testing.T) {
	ctx := context.Background()
	start := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	clk := &clock{t: start}
	state := &memState{}
	rules := []Rule{{Name: "shop.orders", Topic: "shop.orders", Field: "total", Distinct: "customer", Windows: []string{"1h", "today"}}}
	var f feed
	var all []*livedash.Frame
	for i := range 300 {
		all = append(all, f.frame("shop.orders", "event", start.Add(time.Duration(i)*time.Second),
			fmt.Sprintf(`{"total":%d.25,"customer":"c%d"}`, i%7, i%50)))
	}
	var wantSum float64
	for i := range 300 {
		wantSum += float64(i%7) + 0.25
	}

	pub1 := &recorder{}
	e1 := newEngine(t, rules, Options{Publisher: pub1, State: state, Now: clk.Now})
	if err := e1.Load(ctx); err != nil {
		t.Fatal(err)
	}
	clk.Set(start.Add(2 * time.Minute))
	e1.Observe(ctx, all[:120])
	if err := e1.Save(ctx); err != nil {
		t.Fatal(err)
	}
	// The first process goes on a little after its save and then dies:
	// those messages are replayed from the store by the next one.
	e1.Observe(ctx, all[120:150])

	clk.Set(start.Add(5 * time.Minute))
	pub2 := &recorder{}
	e2 := newEngine(t, rules, Options{Publisher: pub2, State: state, Now: clk.Now})
	if err := e2.Load(ctx); err != nil {
		t.Fatal(err)
	}
	if got := e2.LastSeq(); got != 120 {
		t.Fatalf("restored last seq %d, want 120", got)
	}
	// The feeder replays from the store after LastSeq, and the live
	// subscription overlaps that replay: nothing is counted twice.
	e2.Observe(ctx, all[120:200])
	e2.Observe(ctx, all[150:300])
	e2.Tick(ctx, clk.Add(2*time.Second))
	for _, w := range []string{"1h", "today"} {
		s := pub2.last(t, "rollup.shop.orders."+w)
		if s.Count != 300 || s.Sum != wantSum || s.Distinct == nil || *s.Distinct != 50 {
			t.Fatalf("%s after restart: count %d sum %v distinct %v; want 300, %v, 50", w, s.Count, s.Sum, s.Distinct, wantSum)
		}
	}
}

func TestRunSavesOnStopAndLoadRestores(t *testing.T) {
	start := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	clk := &clock{t: start}
	state := &memState{}
	rules := []Rule{{Topic: "a.b", Windows: []string{"today"}}}
	ticks := make(chan time.Time)
	e := newEngine(t, rules, Options{Publisher: &recorder{}, State: state, Now: clk.Now, Ticks: ticks})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- e.Run(ctx) }()
	var f feed
	e.Observe(ctx, []*livedash.Frame{f.frame("a.b", "point", start, "4"), f.frame("a.b", "point", start, "6")})
	ticks <- clk.Add(time.Second)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	pub := &recorder{}
	e2 := newEngine(t, rules, Options{Publisher: pub, State: state, Now: clk.Now})
	if err := e2.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	e2.Observe(context.Background(), []*livedash.Frame{f.frame("a.b", "point", start, "5")})
	if s := pub.last(t, "rollup.a.b.today"); s.Sum != 15 || s.Count != 3 {
		t.Fatalf("%+v", s)
	}
}

func TestDistinctWithinTwoPercent(t *testing.T) {
	start := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	clk := &clock{t: start}
	pub := &recorder{}
	state := &memState{}
	rules := []Rule{{Name: "users", Topic: "app.events", Distinct: "user"}}
	e := newEngine(t, rules, Options{Publisher: pub, Now: clk.Now, State: state})
	var f feed
	const n = 100_000
	frames := make([]*livedash.Frame, 0, 1000)
	for i := range 2 * n { // every id twice
		frames = append(frames, f.frame("app.events", "event", start, fmt.Sprintf(`{"user":"user-%d"}`, i%n)))
		if len(frames) == cap(frames) {
			e.Observe(context.Background(), frames)
			frames = frames[:0]
		}
	}
	e.Tick(context.Background(), clk.Add(2*time.Second))
	s := pub.last(t, "rollup.users.today")
	if s.Count != 2*n || s.Distinct == nil {
		t.Fatalf("%+v", s)
	}
	if errPct := math.Abs(float64(*s.Distinct)-n) / n * 100; errPct > 2 {
		t.Fatalf("distinct %d for %d ids: %.2f%% off", *s.Distinct, n, errPct)
	}
	// The sketch survives a save and load.
	if err := e.Save(context.Background()); err != nil {
		t.Fatal(err)
	}
	pub2 := &recorder{}
	e2 := newEngine(t, rules, Options{Publisher: pub2, Now: clk.Now, State: state})
	if err := e2.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	e2.Observe(context.Background(), []*livedash.Frame{f.frame("app.events", "event", start, `{"user":"user-1"}`)})
	if s2 := pub2.last(t, "rollup.users.today"); *s2.Distinct != *s.Distinct || s2.Count != 2*n+1 {
		t.Fatalf("after reload: %+v, before %+v", s2, s)
	}
}

func TestRollupTopicsAreNotRolledUp(t *testing.T) {
	clk := &clock{t: time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)}
	pub := &recorder{}
	e := newEngine(t, []Rule{{Name: "everything", Topic: ">"}}, Options{Publisher: pub, Now: clk.Now})
	var f feed
	e.Observe(context.Background(), []*livedash.Frame{
		f.frame("rollup.everything.today", "event", clk.Now(), `{}`),
		f.frame("a.b", "event", clk.Now(), `{}`),
	})
	if s := pub.last(t, "rollup.everything.today"); s.Count != 1 {
		t.Fatalf("count %d, want 1 (the rollup's own topic is ignored)", s.Count)
	}
}

func TestValidate(t *testing.T) {
	bad := []struct {
		name string
		rule Rule
		want string
	}{
		{"no topic", Rule{}, "topic is required"},
		{"bad pattern", Rule{Topic: "a..b"}, "empty segment"},
		{"gt not last", Rule{Topic: "a.>.b", Name: "x"}, "last segment"},
		{"sys", Rule{Topic: "sys.connections"}, "sys topics"},
		{"rollup of rollup", Rule{Topic: "rollup.a.today"}, "rolled up again"},
		{"rollup pattern", Rule{Topic: "rollup.>", Name: "x"}, "rolled up again"},
		{"wildcard without name", Rule{Topic: "host.*.cpu"}, "name is required"},
		{"bad name", Rule{Topic: "a", Name: "a b"}, "name"},
		{"bad window", Rule{Topic: "a", Windows: []string{"yesterday"}}, "use today or a duration"},
		{"short window", Rule{Topic: "a", Windows: []string{"10ms"}}, "at least 1s"},
		{"long window", Rule{Topic: "a", Windows: []string{"48h"}}, "at most 24h"},
		{"fractional window", Rule{Topic: "a", Windows: []string{"1500ms"}}, "whole number"},
		{"twice", Rule{Topic: "a", Windows: []string{"1m", "1m"}}, "twice"},
		{"negative throttle", Rule{Topic: "a", Throttle: -time.Second}, "negative"},
		{"bad field", Rule{Topic: "a", Field: "a..b"}, "field"},
		{"bad distinct", Rule{Topic: "a", Distinct: ".x"}, "distinct"},
		{"long topic", Rule{Topic: strings.Repeat("a", 195)}, "output topic"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.rule.Validate()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err %v, want one containing %q", err, tt.want)
			}
		})
	}
	if err := ValidateRules([]Rule{{Topic: "a"}, {Name: "a", Topic: "b"}}); err == nil || !strings.Contains(err.Error(), "already used") {
		t.Fatalf("duplicate names: %v", err)
	}
	good := []Rule{
		{Topic: "shop.revenue", Windows: []string{"1m", "1h", "today"}},
		{Name: "shop.users", Topic: "shop.orders", Distinct: "customer"},
		{Name: "all", Topic: ">"},
	}
	if err := ValidateRules(good); err != nil {
		t.Fatal(err)
	}
}
