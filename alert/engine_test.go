package alert

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/livedash/livedash"
	"github.com/livedash/livedash/sqlite"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

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

// alerts returns the alert data published on topic, oldest first.
func (r *recorder) alerts(t *testing.T, topic string) []Data {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []Data
	for _, m := range r.msgs {
		if m.Topic != topic {
			continue
		}
		if m.Type != livedash.TypeAlert {
			t.Fatalf("type %q on %s", m.Type, topic)
		}
		var d Data
		if err := json.Unmarshal(m.Data, &d); err != nil {
			t.Fatal(err)
		}
		out = append(out, d)
	}
	return out
}

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

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
	return c.t
}

type feed struct{ seq uint64 }

func (f *feed) frame(topic, data string) *livedash.Frame {
	f.seq++
	return livedash.NewFrame(livedash.Message{ID: livedash.ID{Seq: f.seq, Epoch: "test"}, Topic: topic, Type: "point", TS: 1, Data: json.RawMessage(data)})
}

func newEngine(t *testing.T, rules []Rule, opts Options) *Engine {
	t.Helper()
	e, err := New(rules, opts)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func float(f float64) *float64 { return &f }

var t0 = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

func TestFiresAfterForAndResolvesOnce(t *testing.T) {
	ctx := context.Background()
	clk := &clock{t: t0}
	pub := &recorder{}
	e := newEngine(t, []Rule{{
		Name: "high-cpu", Topic: "host.*.cpu", Field: "total", Op: ">", Threshold: 90, For: 30 * time.Second,
		Severity: "critical", Message: `CPU of {{.Topic}} at {{printf "%.0f" .Value}}% (over {{.Threshold}}%)`,
	}}, Options{Publisher: pub, Now: clk.Now})
	var f feed
	e.Observe(ctx, []*livedash.Frame{f.frame("host.a.cpu", `{"total":95}`), f.frame("host.b.cpu", `{"total":20}`)})
	if got := e.State("high-cpu", "host.a.cpu"); got != "pending" {
		t.Fatalf("state %s, want pending", got)
	}
	clk.Add(10 * time.Second)
	e.Observe(ctx, []*livedash.Frame{f.frame("host.a.cpu", `{"total":97}`)})
	e.Tick(ctx, clk.Add(19*time.Second)) // 29s: not yet
	if n := len(pub.alerts(t, "alerts.high-cpu")); n != 0 {
		t.Fatalf("%d alerts before for elapsed", n)
	}
	e.Tick(ctx, clk.Add(time.Second)) // 30s, with no new message
	got := pub.alerts(t, "alerts.high-cpu")
	want := Data{Severity: "critical", State: "firing", Rule: "high-cpu", Topic: "host.a.cpu", Value: 97, Threshold: 90,
		Message: "CPU of host.a.cpu at 97% (over 90%)"}
	if len(got) != 1 || got[0] != want {
		t.Fatalf("alerts %+v, want [%+v]", got, want)
	}
	if sys := pub.alerts(t, "sys.alerts"); len(sys) != 1 || sys[0] != want {
		t.Fatalf("sys.alerts %+v", sys)
	}
	// Still high: nothing more. Then low: resolved, once.
	for range 5 {
		e.Observe(ctx, []*livedash.Frame{f.frame("host.a.cpu", `{"total":99}`)})
		e.Tick(ctx, clk.Add(time.Second))
	}
	for range 5 {
		e.Observe(ctx, []*livedash.Frame{f.frame("host.a.cpu", `{"total":10}`)})
		e.Tick(ctx, clk.Add(time.Second))
	}
	got = pub.alerts(t, "alerts.high-cpu")
	if len(got) != 2 || got[1].State != "resolved" || got[1].Severity != "info" || got[1].Value != 10 ||
		got[1].Message != "Resolved: CPU of host.a.cpu at 10% (over 90%)" {
		t.Fatalf("alerts %+v, want firing then one resolved", got)
	}
	if e.State("high-cpu", "host.b.cpu") != "ok" {
		t.Fatal("host.b fired")
	}
}

func TestNoFlappingOnNoisyInput(t *testing.T) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(1, 2))

	t.Run("hysteresis", func(t *testing.T) {
		clk := &clock{t: t0}
		pub := &recorder{}
		e := newEngine(t, []Rule{{Name: "errors", Topic: "shop.errors", Op: ">", Threshold: 5, Clear: float(3)}}, Options{Publisher: pub, Now: clk.Now})
		var f feed
		// Noise around the threshold: 4 to 6 for 200 samples.
		for range 200 {
			v := 4 + 2*rng.Float64()
			e.Observe(ctx, []*livedash.Frame{f.frame("shop.errors", fmt.Sprintf("%.3f", v))})
			e.Tick(ctx, clk.Add(time.Second))
		}
		// Then well under the clear threshold, with noise.
		for range 50 {
			v := 1 + rng.Float64()
			e.Observe(ctx, []*livedash.Frame{f.frame("shop.errors", fmt.Sprintf("%.3f", v))})
		}
		got := pub.alerts(t, "alerts.errors")
		if len(got) != 2 || got[0].State != "firing" || got[1].State != "resolved" {
			t.Fatalf("%d alerts %+v, want exactly firing then resolved", len(got), got)
		}
	})

	t.Run("for", func(t *testing.T) {
		clk := &clock{t: t0}
		pub := &recorder{}
		e := newEngine(t, []Rule{{Name: "errors", Topic: "shop.errors", Op: ">", Threshold: 5, For: 10 * time.Second}}, Options{Publisher: pub, Now: clk.Now})
		var f feed
		// Crosses the threshold every few seconds but never holds for 10s.
		for i := range 300 {
			v := 4.5 + rng.Float64()
			if i%5 == 0 {
				v = 4
			}
			e.Observe(ctx, []*livedash.Frame{f.frame("shop.errors", fmt.Sprintf("%.3f", v))})
			e.Tick(ctx, clk.Add(time.Second))
		}
		if got := pub.alerts(t, "alerts.errors"); len(got) != 0 {
			t.Fatalf("%d alerts on a noisy input that never held for 10s: %+v", len(got), got)
		}
	})
}

func TestOpsAndMessageDefaults(t *testing.T) {
	tests := []struct {
		op        string
		threshold float64
		value     string
		fires     bool
	}{
		{">", 5, "6", true}, {">", 5, "5", false},
		{">=", 5, "5", true}, {">=", 5, "4.9", false},
		{"<", 5, "4", true}, {"<", 5, "5", false},
		{"<=", 5, "5", true}, {"<=", 5, "6", false},
		{"==", 0, "0", true}, {"==", 0, "1", false},
		{"!=", 1, "0", true}, {"!=", 1, "1", false},
		{">", 5, `"6"`, false}, {">", 5, `null`, false},
	}
	for _, tt := range tests {
		t.Run(tt.op+tt.value, func(t *testing.T) {
			pub := &recorder{}
			e := newEngine(t, []Rule{{Name: "r", Topic: "a.b", Op: tt.op, Threshold: tt.threshold}}, Options{Publisher: pub, Now: func() time.Time { return t0 }})
			var f feed
			e.Observe(context.Background(), []*livedash.Frame{f.frame("a.b", tt.value)})
			got := pub.alerts(t, "alerts.r")
			if (len(got) == 1) != tt.fires {
				t.Fatalf("alerts %+v, fires want %v", got, tt.fires)
			}
			if tt.fires && (got[0].Severity != "warning" || got[0].Message != "r: a.b is "+tt.value) {
				t.Fatalf("default severity or message: %+v", got[0])
			}
		})
	}
}

func TestStateSurvivesRestart(t *testing.T) {
	ctx := context.Background()
	clk := &clock{t: t0}
	state := &memState{}
	rules := []Rule{
		{Name: "hot", Topic: "room.*", Op: ">", Threshold: 30, For: 10 * time.Second},
	}
	var f feed
	pub1 := &recorder{}
	e1 := newEngine(t, rules, Options{Publisher: pub1, State: state, Now: clk.Now})
	if err := e1.Load(ctx); err != nil {
		t.Fatal(err)
	}
	e1.Observe(ctx, []*livedash.Frame{f.frame("room.a", "35"), f.frame("room.b", "35")})
	e1.Tick(ctx, clk.Add(10*time.Second))                       // both fire
	e1.Observe(ctx, []*livedash.Frame{f.frame("room.b", "20")}) // room.b resolves
	e1.Observe(ctx, []*livedash.Frame{f.frame("room.c", "40")}) // room.c pending
	if n := len(pub1.alerts(t, "alerts.hot")); n != 3 {
		t.Fatalf("%d alerts before the restart, want 3", n)
	}

	// A restart: transitions were saved as they happened.
	clk.Add(2 * time.Second)
	pub2 := &recorder{}
	e2 := newEngine(t, rules, Options{Publisher: pub2, State: state, Now: clk.Now})
	if err := e2.Load(ctx); err != nil {
		t.Fatal(err)
	}
	for topic, want := range map[string]string{"room.a": "firing", "room.b": "ok", "room.c": "pending"} {
		if got := e2.State("hot", topic); got != want {
			t.Fatalf("%s restored as %s, want %s", topic, got, want)
		}
	}
	if e2.LastSeq() != f.seq {
		t.Fatalf("last seq %d, want %d", e2.LastSeq(), f.seq)
	}
	// Replayed frames are skipped; room.a still high fires nothing again.
	e2.Observe(ctx, []*livedash.Frame{f.frame("room.a", "36")})
	e2.Tick(ctx, clk.Add(8*time.Second)) // room.c: 10s since it went pending
	e2.Observe(ctx, []*livedash.Frame{f.frame("room.a", "25")})
	got := pub2.alerts(t, "alerts.hot")
	if len(got) != 2 || got[0].Topic != "room.c" || got[0].State != "firing" || got[1].Topic != "room.a" || got[1].State != "resolved" {
		t.Fatalf("after restart: %+v, want room.c firing then room.a resolved", got)
	}
}

func TestRunWithInjectedTicks(t *testing.T) {
	clk := &clock{t: t0}
	pub := &recorder{}
	ticks := make(chan time.Time)
	e := newEngine(t, []Rule{{Name: "r", Topic: "a", Op: ">", Threshold: 1, For: time.Minute}}, Options{Publisher: pub, Now: clk.Now, Ticks: ticks})
	done := make(chan error)
	go func() { done <- e.Run(context.Background()) }()
	var f feed
	e.Observe(context.Background(), []*livedash.Frame{f.frame("a", "2")})
	clk.Add(time.Minute)
	ticks <- clk.Now()
	close(ticks)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := pub.alerts(t, "alerts.r"); len(got) != 1 {
		t.Fatalf("%+v", got)
	}
}

// TestPublishesToStoreIncludingSys checks with a real store that the
// engine's publisher path stores both alerts.<rule> and sys.alerts.
func TestPublishesToStoreIncludingSys(t *testing.T) {
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "livedash.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	pub := livedash.PublisherOf(store)
	e := newEngine(t, []Rule{{Name: "disk-full", Topic: "host.*.fs", Field: "used_pct", Op: ">=", Threshold: 90, Severity: "critical"}},
		Options{Publisher: pub, State: store, Now: func() time.Time { return t0 }})
	frames, err := store.Append(ctx, []livedash.Message{{Topic: "host.a.fs", Type: "point", TS: t0.UnixMilli(), Data: json.RawMessage(`{"used_pct":93.5}`)}})
	if err != nil {
		t.Fatal(err)
	}
	e.Observe(ctx, frames)
	for _, topic := range []string{"alerts.disk-full", "sys.alerts"} {
		got, err := store.History(ctx, livedash.HistoryQuery{Patterns: []string{topic}, Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0].Type != "alert" || !strings.Contains(string(got[0].Data), `"state":"firing"`) {
			t.Fatalf("%s: %v", topic, got)
		}
	}
	saved, err := store.LoadState(ctx, StateKey)
	if err != nil || !strings.Contains(string(saved), `"host.a.fs"`) {
		t.Fatalf("saved state %s, %v", saved, err)
	}
}

func TestValidate(t *testing.T) {
	ok := Rule{Name: "r", Topic: "a.b", Op: ">", Threshold: 1}
	with := func(f func(*Rule)) Rule { r := ok; f(&r); return r }
	bad := []struct {
		name string
		rule Rule
		want string
	}{
		{"no name", with(func(r *Rule) { r.Name = "" }), "name is required"},
		{"bad name", with(func(r *Rule) { r.Name = "a b" }), "name"},
		{"no topic", with(func(r *Rule) { r.Topic = "" }), "topic is required"},
		{"bad pattern", with(func(r *Rule) { r.Topic = "a.>.b" }), "last segment"},
		{"sys topic", with(func(r *Rule) { r.Topic = "sys.>" }), "sys topics"},
		{"alerts topic", with(func(r *Rule) { r.Topic = "alerts.>" }), "feed itself"},
		{"bad op", with(func(r *Rule) { r.Op = "=>" }), "op"},
		{"no op", with(func(r *Rule) { r.Op = "" }), "op"},
		{"negative for", with(func(r *Rule) { r.For = -time.Second }), "negative"},
		{"clear above", with(func(r *Rule) { r.Clear = float(2) }), "clear"},
		{"clear below", with(func(r *Rule) { r.Op = "<"; r.Clear = float(0) }), "clear"},
		{"clear with ==", with(func(r *Rule) { r.Op = "=="; r.Clear = float(1) }), "clear needs"},
		{"unknown severity", with(func(r *Rule) { r.Severity = "fatal" }), "severity"},
		{"template syntax", with(func(r *Rule) { r.Message = "{{.Value" }), "message"},
		{"template field", with(func(r *Rule) { r.Message = "{{.Valeu}}" }), "message"},
		{"resolved template", with(func(r *Rule) { r.ResolvedMessage = "{{if}}" }), "resolved_message"},
		{"bad field", with(func(r *Rule) { r.Field = "a." }), "field"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.rule.Validate()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err %v, want one containing %q", err, tt.want)
			}
		})
	}
	if err := ValidateRules([]Rule{ok, ok}); err == nil || !strings.Contains(err.Error(), "already used") {
		t.Fatalf("duplicate: %v", err)
	}
	if err := ValidateRules([]Rule{ok, with(func(r *Rule) { r.Name = "s"; r.Op = "<="; r.Clear = float(3); r.Severity = "info" })}); err != nil {
		t.Fatal(err)
	}
}
