package rollup

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/axiomhq/hyperloglog"

	"github.com/livedash/livedash"
	"github.com/livedash/livedash/engine"
)

// StateStore keeps the engine's state across restarts. LoadState returns a
// nil blob when nothing was saved under key.
type StateStore = engine.Store

// StateKey is the key the engine saves its state under.
const StateKey = "rollup"

// Defaults of Options.
const (
	DefaultTickEvery = 250 * time.Millisecond
	DefaultSaveEvery = 5 * time.Second
	// MaxSkew is how far in the future (by the engine's clock) a message's
	// ts may be; a later ts is taken as now, so that one wrong clock cannot
	// push a window ahead and make every other message late.
	MaxSkew = 5 * time.Minute
)

// Options configure an Engine. Zero fields take the defaults.
type Options struct {
	// Publisher publishes the stats messages.
	Publisher livedash.Publisher
	// State persists the engine's state; nil keeps it in memory only.
	State StateStore
	// Location is the zone of "today" and of the local clock that
	// duration windows follow; UTC if nil.
	Location *time.Location
	// Now is the engine's clock; time.Now if nil.
	Now func() time.Time
	// Ticks, if set, drives Run instead of a ticker of TickEvery: each
	// value is the time of a tick. Run returns when it is closed.
	Ticks <-chan time.Time
	// TickEvery is the interval of Run's ticker.
	TickEvery time.Duration
	// SaveEvery is the least time between two periodic saves of the state.
	SaveEvery time.Duration
	// Logger gets publish and save failures; nil discards.
	Logger *slog.Logger
}

// Engine keeps the rollups of a set of rules. Observe, Tick, Save and Load
// are safe for concurrent use (one lock serialises them); Observe expects
// frames in id order.
type Engine struct {
	loc   *time.Location
	rules []*rule
	log   *slog.Logger

	mu      sync.Mutex
	core    *engine.Core // the frames seen, publishing, saving
	changed bool         // state changed since the last save
	late    int64        // messages older than their window, ignored
}

type rule struct {
	Rule
	name string
	aggs []*agg
}

// agg is one window of one rule: the aggregate of the current window.
type agg struct {
	topic    string
	window   window
	throttle time.Duration

	start, end int64 // unix ms, [start, end)
	count      int64
	vals       livedash.Sum // the values seen: their count, sum and mean
	min, max   float64
	last       float64
	hll        *hyperloglog.Sketch // nil unless the rule counts distinct

	dirty   bool      // changed since last published
	lastPub time.Time // zero: never published by this process
}

// New returns an engine for rules, which must be valid (see ValidateRules).
func New(rules []Rule, opts Options) (*Engine, error) {
	if err := ValidateRules(rules); err != nil {
		return nil, err
	}
	core, err := engine.NewCore(StateKey, engine.Options{
		Publisher: opts.Publisher, State: opts.State, Now: opts.Now, Ticks: opts.Ticks,
		TickEvery: opts.TickEvery, SaveEvery: opts.SaveEvery, Logger: opts.Logger,
	}, DefaultTickEvery, DefaultSaveEvery)
	if err != nil {
		return nil, err
	}
	if opts.Location == nil {
		opts.Location = time.UTC
	}
	e := &Engine{loc: opts.Location, log: core.Log(), core: core}
	now := core.Now()
	for _, r := range rules {
		cr := &rule{Rule: r, name: r.OutputName()}
		throttle := r.Throttle
		if throttle == 0 {
			throttle = DefaultThrottle
		}
		for _, ws := range r.WindowList() {
			w, _ := parseWindow(ws) // validated
			a := &agg{topic: Prefix + cr.name + "." + ws, window: w, throttle: throttle}
			a.reset(w.bounds(now, opts.Location))
			if r.Distinct != "" {
				a.hll = hyperloglog.New14()
			}
			a.dirty = true // publish the empty window once, so the topic exists
			cr.aggs = append(cr.aggs, a)
		}
		e.rules = append(e.rules, cr)
	}
	return e, nil
}

// Patterns returns the topic patterns the engine reads.
func (e *Engine) Patterns() []string {
	var ps []string
	seen := map[string]bool{}
	for _, r := range e.rules {
		if !seen[r.Topic] {
			seen[r.Topic] = true
			ps = append(ps, r.Topic)
		}
	}
	return ps
}

// Topics returns the topics the engine publishes on.
func (e *Engine) Topics() []string {
	var ts []string
	for _, r := range e.rules {
		for _, a := range r.aggs {
			ts = append(ts, a.topic)
		}
	}
	return ts
}

// LastSeq returns the seq of the last message observed (or restored by
// Load); 0 when none. A feeder resumes reading after it.
func (e *Engine) LastSeq() uint64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	_, seq := e.core.Position()
	return seq
}

// BackfillFrom returns the start (unix ms) of the earliest current window:
// an engine with no saved state (LastSeq 0) can be fed the stored
// messages from there to fill its windows.
func (e *Engine) BackfillFrom() int64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	from := int64(math.MaxInt64)
	for _, r := range e.rules {
		for _, a := range r.aggs {
			from = min(from, a.start)
		}
	}
	return from
}

func (a *agg) reset(start, end int64) {
	a.start, a.end = start, end
	a.count, a.vals = 0, livedash.Sum{}
	a.min, a.max, a.last = 0, 0, 0
	if a.hll != nil {
		a.hll = hyperloglog.New14()
	}
}

// add adds one message to the window: it always counts, and adds v when
// ok and finite (livedash.Sum keeps the sum and mean finite).
func (a *agg) add(v float64, ok bool, key []byte) {
	a.count++
	if ok && a.vals.Add(v) {
		if a.vals.N == 1 {
			a.min, a.max = v, v
		} else {
			a.min, a.max = math.Min(a.min, v), math.Max(a.max, v)
		}
		a.last = v
	}
	if a.hll != nil && key != nil {
		a.hll.Insert(key)
	}
	a.dirty = true
}

// Stats is the data of a rollup's stats message. Min, Max, Avg and Last
// are null while the window has no value; Distinct is present only when
// the rule counts distinct values. Every number is finite: a sum outside
// the float64 range is clamped to ±math.MaxFloat64 (see livedash.Sum).
type Stats struct {
	Sum         float64  `json:"sum"`
	Count       int64    `json:"count"`
	Min         *float64 `json:"min"`
	Max         *float64 `json:"max"`
	Avg         *float64 `json:"avg"`
	Last        *float64 `json:"last"`
	Distinct    *uint64  `json:"distinct,omitempty"`
	WindowStart int64    `json:"window_start"`
	WindowEnd   int64    `json:"window_end"`
}

func (a *agg) stats() Stats {
	s := Stats{Sum: a.vals.Total(), Count: a.count, WindowStart: a.start, WindowEnd: a.end}
	if a.vals.N > 0 {
		mn, mx, last := a.min, a.max, a.last
		avg := a.vals.Avg()
		s.Min, s.Max, s.Avg, s.Last = &mn, &mx, &avg, &last
	}
	if a.hll != nil {
		d := a.hll.Estimate()
		s.Distinct = &d
	}
	return s
}

func (a *agg) message(now time.Time) (livedash.Message, error) {
	data, err := json.Marshal(a.stats())
	if err != nil {
		return livedash.Message{}, fmt.Errorf("rollup %s: encode: %w", a.topic, err)
	}
	return livedash.Message{Topic: a.topic, Type: livedash.TypeStats, TS: now.UnixMilli(), Data: data}, nil
}

// Observe adds committed frames, in id order, to the rollups. Frames at or
// before LastSeq (already counted) are skipped, so a feeder may overlap
// what it replays from the store with what it receives live. Windows whose
// value changed are published, at most once per throttle each.
func (e *Engine) Observe(ctx context.Context, frames []*livedash.Frame) {
	e.mu.Lock()
	defer e.mu.Unlock()
	now := e.core.Now()
	var out []livedash.Message
	for _, f := range frames {
		if !e.core.Next(f) {
			continue
		}
		e.changed = true
		if strings.HasPrefix(f.Topic, Prefix) || livedash.IsSys(f.Topic) {
			continue
		}
		if f.Type != livedash.TypePoint && f.Type != livedash.TypeEvent {
			continue
		}
		for _, r := range e.rules {
			if !livedash.Match(r.Topic, f.Topic) {
				continue
			}
			v, ok := numberAt(f.Data, r.Field)
			if f.Type == livedash.TypePoint && !ok {
				continue
			}
			var key []byte
			if r.Distinct != "" {
				key, _ = keyAt(f.Data, r.Distinct)
			}
			t := time.UnixMilli(f.TS)
			if limit := now.Add(MaxSkew); t.After(limit) {
				t = now
			}
			ts := t.UnixMilli()
			for _, a := range r.aggs {
				if ts < a.start {
					e.late++
					continue
				}
				if ts >= a.end {
					out = e.rollOver(out, a, t, now)
				}
				a.add(v, ok, key)
			}
		}
	}
	out = e.flush(out, now)
	e.core.Publish(ctx, out, now)
}

// rollOver closes a's window (publishing its final value if not yet
// published) and opens the window containing t.
func (e *Engine) rollOver(out []livedash.Message, a *agg, t, now time.Time) []livedash.Message {
	if a.dirty {
		out = e.appendMessage(out, a, now)
	}
	a.reset(a.window.bounds(t, e.loc))
	a.dirty = true // the new window is published (empty until values come)
	e.changed = true
	return out
}

// flush appends a message for every changed window whose throttle passed.
func (e *Engine) flush(out []livedash.Message, now time.Time) []livedash.Message {
	for _, r := range e.rules {
		for _, a := range r.aggs {
			if a.dirty && (a.lastPub.IsZero() || now.Sub(a.lastPub) >= a.throttle) {
				out = e.appendMessage(out, a, now)
			}
		}
	}
	return out
}

func (e *Engine) appendMessage(out []livedash.Message, a *agg, now time.Time) []livedash.Message {
	m, err := a.message(now)
	if err != nil {
		e.log.Error("rollup: encode", "topic", a.topic, "err", err)
		return out
	}
	a.dirty, a.lastPub = false, now
	return append(out, m)
}

// Tick advances the engine's clock to now: windows that ended roll over
// (their final value and the new, empty window are published), changed
// windows whose throttle passed are published, and the state is saved
// when it changed and SaveEvery passed since the last save.
func (e *Engine) Tick(ctx context.Context, now time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []livedash.Message
	nowMS := now.UnixMilli()
	for _, r := range e.rules {
		for _, a := range r.aggs {
			if nowMS >= a.end {
				out = e.rollOver(out, a, now, now)
			}
		}
	}
	out = e.flush(out, now)
	e.core.Publish(ctx, out, now) // a failure drops them: the next change publishes the window again
	if e.changed && e.core.SaveDue(now) {
		if err := e.saveLocked(ctx, now); err != nil && ctx.Err() == nil {
			e.log.Warn("rollup: save state failed", "err", err)
		}
	}
}

// Run ticks until ctx is done (or Ticks is closed), then saves the state
// one last time. It returns nil on a normal stop.
func (e *Engine) Run(ctx context.Context) error { return e.core.Run(ctx, e.Tick, e.Save) }

// savedState is the persisted form of the engine's state (JSON).
type savedState struct {
	Version int                 `json:"version"`
	Epoch   string              `json:"epoch"`
	LastSeq uint64              `json:"last_seq"`
	Windows map[string]savedAgg `json:"windows"` // by output topic
}

// savedAgg is one window. Version 1 had no mean (nor overflowed): it is
// computed from the sum on load.
type savedAgg struct {
	Start int64 `json:"start"`
	End   int64 `json:"end"`
	Count int64 `json:"count"`
	livedash.Sum
	Min  float64 `json:"min"`
	Max  float64 `json:"max"`
	Last float64 `json:"last"`
	HLL  []byte  `json:"hll,omitempty"`
}

// stateVersion is the version of savedState written.
const stateVersion = 2

// Save writes the state now (a no-op without a StateStore).
func (e *Engine) Save(ctx context.Context) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.saveLocked(ctx, e.core.Now())
}

func (e *Engine) saveLocked(ctx context.Context, now time.Time) error {
	st := savedState{Version: stateVersion, Windows: map[string]savedAgg{}}
	st.Epoch, st.LastSeq = e.core.Position()
	for _, r := range e.rules {
		for _, a := range r.aggs {
			sa := savedAgg{Start: a.start, End: a.end, Count: a.count, Sum: a.vals, Min: a.min, Max: a.max, Last: a.last}
			if a.hll != nil {
				b, err := a.hll.MarshalBinary()
				if err != nil {
					return fmt.Errorf("rollup: save %s: %w", a.topic, err)
				}
				sa.HLL = b
			}
			st.Windows[a.topic] = sa
		}
	}
	if err := e.core.Save(ctx, st, now); err != nil {
		return err
	}
	e.changed = false
	return nil
}

// Load restores the state saved by a previous run, before any Observe.
// Windows of rules that changed shape (another zone, another window) are
// dropped; windows that ended meanwhile roll over at the next Tick.
func (e *Engine) Load(ctx context.Context) error {
	var st savedState
	found, err := e.core.Load(ctx, &st)
	if err != nil || !found {
		return err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.core.Restore(st.Epoch, st.LastSeq)
	for _, r := range e.rules {
		for _, a := range r.aggs {
			sa, ok := st.Windows[a.topic]
			if !ok {
				continue
			}
			if s, end := a.window.bounds(time.UnixMilli(sa.Start), e.loc); s != sa.Start || end != sa.End {
				continue // the window's definition changed
			}
			if (a.hll != nil) != (sa.HLL != nil) {
				continue // distinct counting was switched on or off
			}
			if st.Version < 2 && sa.Sum.N > 0 {
				sa.Sum.Mean = (sa.Sum.Sum + sa.Sum.Comp) / float64(sa.Sum.N)
			}
			a.start, a.end, a.count, a.vals = sa.Start, sa.End, sa.Count, sa.Sum
			a.min, a.max, a.last = sa.Min, sa.Max, sa.Last
			if sa.HLL != nil {
				sk := hyperloglog.New14()
				if err := sk.UnmarshalBinary(sa.HLL); err != nil {
					e.log.Warn("rollup: saved distinct count is unreadable", "topic", a.topic, "err", err)
				} else {
					a.hll = sk
				}
			}
			// Published once at the next tick: a value saved at shutdown
			// may not have been published yet (throttle).
			a.dirty = true
		}
	}
	return nil
}
