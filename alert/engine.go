package alert

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"math"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/livedash/livedash"
	"github.com/livedash/livedash/engine"
)

// StateStore keeps the engine's state across restarts. LoadState returns a
// nil blob when nothing was saved under key.
type StateStore = engine.Store

// StateKey is the key the engine saves its state under.
const StateKey = "alert"

// Defaults of Options.
const (
	DefaultTickEvery = time.Second
	DefaultSaveEvery = 10 * time.Second
	DefaultMaxSeries = 10000
)

// Options configure an Engine. Zero fields take the defaults.
type Options struct {
	// Publisher publishes the alerts; it must accept sys.alerts (the
	// server's does).
	Publisher livedash.Publisher
	// State persists pending and firing states; nil keeps them in memory.
	State StateStore
	// Now is the engine's clock; time.Now if nil. For is measured on it
	// (from when a message is observed), not on the messages' ts.
	Now func() time.Time
	// Ticks, if set, drives Run instead of a ticker of TickEvery: each
	// value is the time of a tick. Run returns when it is closed.
	Ticks <-chan time.Time
	// TickEvery is the interval of Run's ticker.
	TickEvery time.Duration
	// SaveEvery is the least time between two periodic saves; a state
	// change is saved at once.
	SaveEvery time.Duration
	// MaxSeries caps the (rule, topic) pairs pending or firing at once;
	// new ones past it are ignored (and logged).
	MaxSeries int
	// Logger gets publish and save failures; nil discards.
	Logger *slog.Logger
}

// Engine evaluates alert rules. Observe, Tick, Save and Load are safe for
// concurrent use (one lock serialises them); Observe expects frames in id
// order.
type Engine struct {
	rules     []*compiled
	maxSeries int
	log       *slog.Logger

	mu        sync.Mutex
	core      *engine.Core          // the frames seen, publishing, saving
	series    map[seriesKey]*series // only pending and firing ones
	moved     bool                  // lastSeq moved since the last save
	capLogged bool
}

type seriesKey struct{ rule, topic string }

// series is the state of one (rule, topic) that is not ok.
type series struct {
	State string  `json:"state"` // "pending" or "firing"
	Since int64   `json:"since"` // unix ms the condition became true
	Value float64 `json:"value"` // last value
}

const statePending = "pending"

// Data is the data of an alert message.
type Data struct {
	Severity  string  `json:"severity"`
	Message   string  `json:"message"`
	State     string  `json:"state"`
	Rule      string  `json:"rule"`
	Topic     string  `json:"topic"`
	Value     float64 `json:"value"`
	Threshold float64 `json:"threshold"`
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
	if opts.MaxSeries <= 0 {
		opts.MaxSeries = DefaultMaxSeries
	}
	e := &Engine{maxSeries: opts.MaxSeries, log: core.Log(), core: core, series: map[seriesKey]*series{}}
	for _, r := range rules {
		c, _ := compile(r) // validated
		e.rules = append(e.rules, c)
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

// LastSeq returns the seq of the last message observed (or restored by
// Load); 0 when none.
func (e *Engine) LastSeq() uint64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	_, seq := e.core.Position()
	return seq
}

// Observe evaluates the rules on committed frames, in id order. Frames at
// or before LastSeq are skipped. A message counts when its data is a
// number (or has the rule's numeric field); alert messages are ignored.
func (e *Engine) Observe(ctx context.Context, frames []*livedash.Frame) {
	e.mu.Lock()
	defer e.mu.Unlock()
	now := e.core.Now()
	var out []livedash.Message
	transitions := false
	for _, f := range frames {
		if !e.core.Next(f) {
			continue
		}
		e.moved = true
		if f.Type == livedash.TypeAlert || strings.HasPrefix(f.Topic, Prefix) || livedash.IsSys(f.Topic) {
			continue
		}
		for _, r := range e.rules {
			if !livedash.Match(r.Topic, f.Topic) {
				continue
			}
			v, ok := numberAt(f.Data, r.Field)
			if !ok {
				continue
			}
			var changed bool
			out, changed = e.step(out, r, f.Topic, v, now)
			transitions = transitions || changed
		}
	}
	e.finish(ctx, out, transitions, now)
}

// step advances the state of (r, topic) with a new value, appending any
// alert to publish, and reports whether the state changed.
func (e *Engine) step(out []livedash.Message, r *compiled, topic string, v float64, now time.Time) ([]livedash.Message, bool) {
	k := seriesKey{r.Name, topic}
	s := e.series[k]
	switch {
	case s == nil:
		if !r.cond(v, r.Threshold) {
			return out, false
		}
		if len(e.series) >= e.maxSeries {
			if !e.capLogged {
				e.capLogged = true
				e.log.Warn("alert: too many pending or firing alerts; new ones are ignored", "max", e.maxSeries)
			}
			return out, false
		}
		s = &series{State: statePending, Since: now.UnixMilli(), Value: v}
		e.series[k] = s
		if r.For == 0 {
			out = e.fire(out, r, topic, s, now)
		}
		return out, true
	case s.State == statePending:
		s.Value = v
		if !r.cond(v, r.Threshold) {
			delete(e.series, k) // back to ok: it never fired
			return out, true
		}
		if now.Sub(time.UnixMilli(s.Since)) >= r.For {
			return e.fire(out, r, topic, s, now), true
		}
		return out, false
	default: // firing
		s.Value = v
		if r.cond(v, r.clear) {
			return out, false // still firing (or inside the hysteresis band)
		}
		delete(e.series, k)
		return append(out, e.alert(r, topic, StateResolved, v, now)), true
	}
}

func (e *Engine) fire(out []livedash.Message, r *compiled, topic string, s *series, now time.Time) []livedash.Message {
	s.State = StateFiring
	return append(out, e.alert(r, topic, StateFiring, s.Value, now))
}

// alert builds the message of a transition; finish publishes it on
// alerts.<rule> and sys.alerts.
func (e *Engine) alert(r *compiled, topic, state string, v float64, now time.Time) livedash.Message {
	severity, tmpl := r.severity, r.message
	if state == StateResolved {
		severity, tmpl = SeverityInfo, r.resolved
	}
	d := Data{Severity: severity, State: state, Rule: r.Name, Topic: topic, Value: v, Threshold: r.Threshold}
	d.Message = render(tmpl, TemplateData{Rule: r.Name, Topic: topic, Value: v, Threshold: r.Threshold, State: state, Severity: severity})
	if math.IsNaN(v) || math.IsInf(v, 0) {
		d.Value = 0 // not representable in JSON; numberAt never gives one anyway
	}
	data, _ := json.Marshal(d) // plain struct: cannot fail
	return livedash.Message{Topic: r.topic, Type: livedash.TypeAlert, TS: now.UnixMilli(), Data: data}
}

// finish publishes the alerts of one step, each on its rule's topic and
// on sys.alerts, then saves the state if it changed (at once) or moved
// (every SaveEvery).
func (e *Engine) finish(ctx context.Context, alerts []livedash.Message, transitions bool, now time.Time) {
	if len(alerts) > 0 {
		msgs := make([]livedash.Message, 0, 2*len(alerts))
		for _, m := range alerts {
			sys := m
			sys.Topic = SysTopic
			msgs = append(msgs, m, sys)
		}
		e.core.Publish(ctx, msgs, now)
	}
	if transitions || (e.moved && e.core.SaveDue(now)) {
		if err := e.saveLocked(ctx, now); err != nil && ctx.Err() == nil {
			e.log.Warn("alert: save state failed", "err", err)
		}
	}
}

// Tick fires the pending alerts whose For elapsed at now, with no new
// message needed, and saves the state when due.
func (e *Engine) Tick(ctx context.Context, now time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []livedash.Message
	keys := make([]seriesKey, 0, len(e.series))
	for k, s := range e.series {
		if s.State == statePending {
			keys = append(keys, k)
		}
	}
	sort.Slice(keys, func(i, j int) bool { // a stable order of alerts
		if keys[i].rule != keys[j].rule {
			return keys[i].rule < keys[j].rule
		}
		return keys[i].topic < keys[j].topic
	})
	for _, k := range keys {
		r := e.rule(k.rule)
		s := e.series[k]
		if r != nil && now.Sub(time.UnixMilli(s.Since)) >= r.For {
			out = e.fire(out, r, k.topic, s, now)
		}
	}
	e.finish(ctx, out, len(out) > 0, now)
}

func (e *Engine) rule(name string) *compiled {
	for _, r := range e.rules {
		if r.Name == name {
			return r
		}
	}
	return nil
}

// Run ticks until ctx is done (or Ticks is closed), then saves the state
// one last time. It returns nil on a normal stop.
func (e *Engine) Run(ctx context.Context) error { return e.core.Run(ctx, e.Tick, e.Save) }

// State returns the state of (rule, topic): "ok", "pending" or "firing".
func (e *Engine) State(rule, topic string) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	if s := e.series[seriesKey{rule, topic}]; s != nil {
		return s.State
	}
	return "ok"
}

type savedState struct {
	Version int           `json:"version"`
	Epoch   string        `json:"epoch"`
	LastSeq uint64        `json:"last_seq"`
	Series  []savedSeries `json:"series"`
}

type savedSeries struct {
	Rule  string `json:"rule"`
	Topic string `json:"topic"`
	series
}

// Save writes the state now (a no-op without a StateStore).
func (e *Engine) Save(ctx context.Context) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.saveLocked(ctx, e.core.Now())
}

// saveLocked and Load have the shape of rollup's: engine.Core does the
// shared part (position, storage); what is between is this engine's state.
func (e *Engine) saveLocked(ctx context.Context, now time.Time) error {
	st := savedState{Version: 1, Series: []savedSeries{}}
	st.Epoch, st.LastSeq = e.core.Position()
	for k, s := range e.series {
		st.Series = append(st.Series, savedSeries{Rule: k.rule, Topic: k.topic, series: *s})
	}
	if err := e.core.Save(ctx, st, now); err != nil {
		return err
	}
	e.moved = false
	return nil
}

// Load restores the states saved by a previous run, before any Observe.
// States of rules no longer configured, or of topics the rule no longer
// matches, are dropped. A pending state keeps its start: the condition
// held as far as the engine knows.
func (e *Engine) Load(ctx context.Context) error {
	var st savedState
	found, err := e.core.Load(ctx, &st)
	if err != nil || !found {
		return err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.core.Restore(st.Epoch, st.LastSeq)
	for _, s := range st.Series {
		r := e.rule(s.Rule)
		if r == nil || !livedash.Match(r.Topic, s.Topic) || (s.State != statePending && s.State != StateFiring) {
			continue
		}
		ss := s.series
		e.series[seriesKey{s.Rule, s.Topic}] = &ss
	}
	return nil
}

// numberAt returns the number in data (when path is empty) or at the
// dotted path of its object, and whether there was one.
func numberAt(data json.RawMessage, path string) (float64, bool) {
	data = bytes.TrimSpace(data)
	if path != "" {
		for part := range strings.SplitSeq(path, ".") {
			if len(data) == 0 || data[0] != '{' {
				return 0, false
			}
			var obj map[string]json.RawMessage
			if err := json.Unmarshal(data, &obj); err != nil {
				return 0, false
			}
			v, ok := obj[part]
			if !ok {
				return 0, false
			}
			data = bytes.TrimSpace(v)
		}
	}
	if len(data) == 0 || !(data[0] == '-' || data[0] >= '0' && data[0] <= '9') {
		return 0, false
	}
	var f float64
	if err := json.Unmarshal(data, &f); err != nil {
		return 0, false
	}
	return f, true
}
