package main

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/livedash/livedash"
	"github.com/livedash/livedash/alert"
	"github.com/livedash/livedash/hub"
	"github.com/livedash/livedash/rollup"
	"github.com/livedash/livedash/sqlite"
)

// engineServer is the part of serve that the engines need: a store whose
// commits feed a hub, the background-task starter, and the engines' clock.
type engineServer struct {
	store  *sqlite.Store
	hub    *hub.Hub
	now    func() time.Time
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// noonClock is the engines' clock in these tests: noon UTC of a fixed day,
// moving on with real time from when it is made, so that no test's
// "today" window ends while it runs, whenever it runs.
func noonClock() func() time.Time {
	noon, start := time.Date(2026, time.March, 10, 12, 0, 0, 0, time.UTC), time.Now()
	return func() time.Time { return noon.Add(time.Since(start)) }
}

func startEngineServer(t *testing.T, path string, cfg serverConfig, demo bool, maxPending int, now func() time.Time) *engineServer {
	t.Helper()
	s := &engineServer{hub: hub.New(hub.Options{MaxPending: maxPending}), now: now}
	store, err := sqlite.Open(context.Background(), path, sqlite.Options{OnCommit: s.hub.Publish})
	if err != nil {
		t.Fatal(err)
	}
	s.store = store
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	start := func(name string, fn func(context.Context) error) {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			if err := fn(ctx); err != nil && !errors.Is(err, context.Canceled) {
				t.Errorf("%s: %v", name, err)
			}
		}()
	}
	log := slog.New(slog.DiscardHandler)
	env := engineEnv{store: store, state: store, hub: s.hub, pub: livedash.PublisherOf(store), now: now, log: log}
	if err := startEngines(start, cfg, demo, env); err != nil {
		t.Fatal(err)
	}
	return s
}

func (s *engineServer) stop(t *testing.T) {
	t.Helper()
	s.cancel()
	s.wg.Wait()
	if err := s.store.Close(); err != nil {
		t.Fatal(err)
	}
}

func (s *engineServer) publish(t *testing.T, msgs ...livedash.Message) {
	t.Helper()
	if _, err := livedash.PublisherOf(s.store).Publish(context.Background(), msgs); err != nil {
		t.Fatal(err)
	}
}

// waitStats waits until the last message on topic satisfies ok.
func (s *engineServer) waitStats(t *testing.T, topic string, ok func(rollup.Stats) bool) rollup.Stats {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	var last rollup.Stats
	for time.Now().Before(deadline) {
		for _, info := range s.store.Topics([]string{topic}) {
			if info.Last == nil {
				continue
			}
			last = rollup.Stats{}
			if err := json.Unmarshal(info.Last.Data, &last); err != nil {
				t.Fatal(err)
			}
			if ok(last) {
				return last
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s never got there; last %+v", topic, last)
	return last
}

// points are n point messages on topic stamped now by the engines' clock.
func (s *engineServer) points(topic string, n int, data string) []livedash.Message {
	ts := s.now().UnixMilli()
	msgs := make([]livedash.Message, n)
	for i := range msgs {
		msgs[i] = livedash.Message{Topic: topic, Type: "point", TS: ts, Data: json.RawMessage(data)}
	}
	return msgs
}

func TestEnginesRollupExactAcrossRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "livedash.db")
	cfg := defaultConfig()
	cfg.Rollups = []rollup.Rule{{Topic: "shop.revenue", Windows: []string{"today"}, Throttle: 10 * time.Millisecond}}

	clock := noonClock() // one clock across the restart: the same "today"
	s := startEngineServer(t, path, cfg, false, 0, clock)
	// Published before and after the engine subscribes: both are counted.
	s.publish(t, s.points("shop.revenue", 100, "1.5")...)
	s.publish(t, s.points("shop.revenue", 20, "0.25")...)
	s.waitStats(t, "rollup.shop.revenue.today", func(st rollup.Stats) bool { return st.Count == 120 })
	s.stop(t)

	// While the engineServer is down nothing is published; at the next start,
	// messages come in before the engine has caught up.
	s = startEngineServer(t, path, cfg, false, 0, clock)
	s.publish(t, s.points("shop.revenue", 30, "2")...)
	st := s.waitStats(t, "rollup.shop.revenue.today", func(st rollup.Stats) bool { return st.Count >= 150 })
	if st.Count != 150 || st.Sum != 100*1.5+20*0.25+30*2 {
		t.Fatalf("after restart: count %d sum %v, want 150 and 215", st.Count, st.Sum)
	}
	if day := time.Date(2026, time.March, 10, 0, 0, 0, 0, time.UTC); st.WindowStart != day.UnixMilli() {
		t.Fatalf("window starts %v, want %v: the engine is not on the test's clock", time.UnixMilli(st.WindowStart).UTC(), day)
	}
	s.stop(t)
}

func TestEnginesCatchUpAfterFallingBehind(t *testing.T) {
	cfg := defaultConfig()
	cfg.Rollups = []rollup.Rule{{Topic: "a.b", Windows: []string{"today"}, Throttle: 10 * time.Millisecond}}
	// A hub queue of 4 KiB: a batch of 500 messages cuts the engine off.
	s := startEngineServer(t, filepath.Join(t.TempDir(), "livedash.db"), cfg, false, 4<<10, noonClock())
	defer s.stop(t)
	for range 10 {
		s.publish(t, s.points("a.b", 500, "1")...)
	}
	st := s.waitStats(t, "rollup.a.b.today", func(st rollup.Stats) bool { return st.Count >= 5000 })
	if st.Count != 5000 || st.Sum != 5000 {
		t.Fatalf("count %d sum %v, want 5000 exactly", st.Count, st.Sum)
	}
}

func TestEnginesDemoRollupsAndAlerts(t *testing.T) {
	cfg := defaultConfig()
	cfg.Alerts = []alert.Rule{{Name: "big-order", Topic: "shop.orders", Field: "total", Op: ">", Threshold: 100, Severity: "critical"}}
	s := startEngineServer(t, filepath.Join(t.TempDir(), "livedash.db"), cfg, true, 0, noonClock())
	defer s.stop(t)
	order := func(total, customer string) livedash.Message {
		return livedash.Message{Topic: "shop.orders", Type: "event", TS: s.now().UnixMilli(),
			Data: json.RawMessage(`{"customer":"` + customer + `","total":` + total + `}`)}
	}
	s.publish(t, order("25", "Maya K."), order("250", "Liam B."), order("10", "Maya K."),
		livedash.Message{Topic: "shop.revenue", Type: "point", TS: s.now().UnixMilli(), Data: json.RawMessage("25")})
	// The shop dashboard reads count of orders and sum of revenue.
	s.waitStats(t, "rollup.shop.orders.today", func(st rollup.Stats) bool { return st.Count == 3 && st.Sum == 285 })
	s.waitStats(t, "rollup.shop.revenue.today", func(st rollup.Stats) bool {
		return st.Sum == 25 && st.Count == 1 && st.Avg != nil && st.Min != nil && st.Max != nil && st.Last != nil
	})
	s.waitStats(t, "rollup.shop.users.today", func(st rollup.Stats) bool { return st.Distinct != nil && *st.Distinct == 2 })
	// The 250 order fires, the next one (10) resolves.
	for _, topic := range []string{"alerts.big-order", "sys.alerts"} {
		deadline := time.Now().Add(5 * time.Second)
		for {
			msgs, err := s.store.History(context.Background(), livedash.HistoryQuery{Patterns: []string{topic}, Limit: 10})
			if err != nil {
				t.Fatal(err)
			}
			if len(msgs) == 2 && strings.Contains(string(msgs[0].Data), `"state":"firing"`) &&
				strings.Contains(string(msgs[1].Data), `"state":"resolved"`) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: %d messages, want firing then resolved", topic, len(msgs))
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

func TestDemoRollupsAreValid(t *testing.T) {
	if err := rollup.ValidateRules(demoRollups()); err != nil {
		t.Fatal(err)
	}
}
