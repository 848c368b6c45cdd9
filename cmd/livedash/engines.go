package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"sync"
	"time"

	"github.com/livedash/livedash"
	"github.com/livedash/livedash/alert"
	"github.com/livedash/livedash/hub"
	"github.com/livedash/livedash/metrics"
	"github.com/livedash/livedash/notify"
	"github.com/livedash/livedash/producer"
	"github.com/livedash/livedash/rollup"
	"github.com/livedash/livedash/sqlite"
)

// stateStore keeps the engines' state: the local store on one node, Redis
// in a cluster (so the next leader continues where the last one stopped).
type stateStore interface {
	LoadState(ctx context.Context, key string) ([]byte, error)
	SaveState(ctx context.Context, key string, value []byte) error
}

// demoRollups are the rollups of --demo when the config has none. The shop
// dashboard (dashboard/defaults/shop.yaml) reads the count of
// rollup.shop.orders.today and the sum of rollup.shop.revenue.today.
func demoRollups() []rollup.Rule {
	return []rollup.Rule{
		{Name: "shop.orders", Topic: "shop.orders", Field: "total", Windows: []string{"today", "1h"}},
		{Name: "shop.revenue", Topic: "shop.revenue", Windows: []string{"today", "1h"}},
		{Name: "shop.users", Topic: "shop.orders", Distinct: "customer", Windows: []string{"today"}},
	}
}

// startEngines starts the rollup and alert engines of the config (with the
// demo rollups under --demo when the config has none), the notifier n
// (nil when no receiver is configured) and the scrapers.
// The engines are fed committed messages by hub subscribers, after
// catching up from the store on what they have not seen; they publish
// through p, the server's internal publisher (which may write sys.alerts).
// A failing engine logs and carries on: it never takes the server down.
func startEngines(start func(string, func(context.Context) error), cfg serverConfig, demo bool, store *sqlite.Store, state stateStore, h *hub.Hub, p livedash.Publisher, n *notify.Service, log *slog.Logger) error {
	loc, err := cfg.Location()
	if err != nil {
		return err
	}
	rules := cfg.Rollups
	if len(rules) == 0 && demo {
		rules = demoRollups()
	}
	if len(rules) > 0 {
		rlog := log.With("engine", "rollup")
		eng, err := rollup.New(rules, rollup.Options{Publisher: p, State: state, Location: loc, Logger: rlog})
		if err != nil {
			return fmt.Errorf("rollups: %w", err)
		}
		start("rollup", func(ctx context.Context) error {
			return runEngine(ctx, eng, h, store, feedStart{backfillFrom: eng.BackfillFrom}, rlog)
		})
	}
	if len(cfg.Alerts) > 0 {
		alog := log.With("engine", "alert")
		eng, err := alert.New(cfg.Alerts, alert.Options{Publisher: p, State: state, Logger: alog})
		if err != nil {
			return fmt.Errorf("alerts: %w", err)
		}
		// Without saved state, alerts start from the messages committed
		// from now on: old history would fire stale alerts.
		head := store.Head().Seq
		start("alert", func(ctx context.Context) error {
			return runEngine(ctx, eng, h, store, feedStart{afterSeq: head}, alog)
		})
	}
	if n != nil {
		// Fed the stored alerts like an engine: it queues their
		// notifications and sends them (once per cluster, on the leader).
		head := store.Head().Seq
		nlog := log.With("engine", "notify")
		start("notify", func(ctx context.Context) error {
			return runEngine(ctx, n, h, store, feedStart{afterSeq: head}, nlog)
		})
	}
	for _, t := range cfg.Scrape {
		u := t.URL
		if pu, err := url.Parse(t.URL); err == nil {
			u = pu.Redacted()
		}
		sc := &producer.Scraper{Target: t, Publisher: p, Logger: log.With("producer", "scrape")}
		start("scrape "+u, sc.Run)
	}
	return nil
}

// engine is what runEngine drives: rollup.Engine and alert.Engine.
type engine interface {
	Patterns() []string
	Load(ctx context.Context) error
	LastSeq() uint64
	Observe(ctx context.Context, frames []*livedash.Frame)
	Run(ctx context.Context) error
}

// frameReader reads stored messages to catch an engine up.
type frameReader interface {
	After(ctx context.Context, patterns []string, after uint64, limit int, maxBytes int64) ([]*livedash.Frame, error)
	History(ctx context.Context, q livedash.HistoryQuery) ([]*livedash.Frame, error)
}

// feedStart says where an engine without saved state (LastSeq 0) starts
// reading the store: the messages with ts from backfillFrom() on when it is
// set, else those after afterSeq.
type feedStart struct {
	backfillFrom func() int64
	afterSeq     uint64
}

// catchUpBatch is how many stored messages are read at a time.
const catchUpBatch = 1000

// runEngine restores eng's state, then feeds it: it subscribes to the hub,
// reads from the store what eng has not seen (the overlap with the live
// subscription is skipped by eng, by seq), starts eng's clock and passes
// it live frames until ctx is done. When the subscription is cut off for
// falling behind, it logs, subscribes again and catches up from the store,
// so nothing is missed. fresh says where an engine without saved state
// starts.
func runEngine(ctx context.Context, eng engine, h *hub.Hub, store frameReader, fresh feedStart, log *slog.Logger) error {
	if err := eng.Load(ctx); err != nil {
		log.Error("engine: cannot load saved state; starting afresh", "err", err)
	}
	patterns := eng.Patterns()
	var clock sync.WaitGroup
	defer clock.Wait()
	clockStarted := false
	buf := make([]*livedash.Frame, 0, 256)
	for {
		sub := h.Subscribe(patterns...)
		if err := catchUp(ctx, store, patterns, eng, fresh); err != nil {
			sub.Close()
			if ctx.Err() != nil {
				return nil
			}
			log.Warn("engine: catching up from the store failed; retrying", "err", err)
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(time.Second):
			}
			continue
		}
		if !clockStarted {
			clockStarted = true
			clock.Add(1)
			go func() {
				defer clock.Done()
				if err := eng.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
					log.Error("engine: stopped", "err", err)
				}
			}()
		}
		if !feedLive(ctx, sub, eng, &buf) {
			sub.Close()
			return nil
		}
		log.Warn("engine: fell behind the live messages; catching up from the store", "err", sub.Err())
		sub.Close()
	}
}

// feedLive passes sub's frames to eng until ctx is done (false) or sub is
// cut off (true).
func feedLive(ctx context.Context, sub *hub.Subscriber, eng engine, buf *[]*livedash.Frame) bool {
	for {
		select {
		case <-ctx.Done():
			return false
		case <-sub.Done():
			return true
		case <-sub.Ready():
			frames := sub.Take(*buf)
			eng.Observe(ctx, frames)
			*buf = frames[:0]
		}
	}
}

// catchUp feeds eng the stored messages after its LastSeq; an engine that
// has seen nothing starts where fresh says.
func catchUp(ctx context.Context, store frameReader, patterns []string, eng engine, fresh feedStart) error {
	after := eng.LastSeq()
	if after == 0 && fresh.backfillFrom != nil {
		from := fresh.backfillFrom()
		frames, err := store.History(ctx, livedash.HistoryQuery{Patterns: patterns, From: &from, Limit: catchUpBatch})
		if err != nil {
			return fmt.Errorf("backfill: %w", err)
		}
		eng.Observe(ctx, frames)
		if len(frames) < catchUpBatch {
			return nil
		}
		after = frames[len(frames)-1].ID.Seq
	} else if after == 0 {
		after = fresh.afterSeq
	}
	for {
		frames, err := store.After(ctx, patterns, after, catchUpBatch, 0)
		if err != nil {
			return fmt.Errorf("catch up after %d: %w", after, err)
		}
		eng.Observe(ctx, frames)
		if len(frames) < catchUpBatch {
			return nil
		}
		after = frames[len(frames)-1].ID.Seq
	}
}

// newNotifier returns the notification service of the config's receivers,
// nil when there are none. Links in notifications use the config's
// public_url, or listenURL. start gives the log's head, where reading
// starts the first time.
func newNotifier(cfg serverConfig, queue notify.Queue, p livedash.Publisher, start func(context.Context) (uint64, error), listenURL string, m *metrics.Metrics, log *slog.Logger) (*notify.Service, error) {
	if len(cfg.Notify) == 0 {
		return nil, nil
	}
	base := cfg.PublicURL
	if base == "" {
		base = listenURL
	}
	n, err := notify.New(notify.Options{
		Receivers: cfg.Notify, Rules: cfg.Alerts, Queue: queue, Publisher: p, BaseURL: base,
		Start: start, OnOutcome: m.Notified, Logger: log.With("engine", "notify"),
	})
	if err != nil {
		return nil, fmt.Errorf("notify: %w", err)
	}
	return n, nil
}
