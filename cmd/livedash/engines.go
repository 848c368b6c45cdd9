package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"time"

	"github.com/livedash/livedash"
	"github.com/livedash/livedash/alert"
	"github.com/livedash/livedash/engine"
	"github.com/livedash/livedash/hub"
	"github.com/livedash/livedash/metrics"
	"github.com/livedash/livedash/notify"
	"github.com/livedash/livedash/producer"
	"github.com/livedash/livedash/rollup"
	"github.com/livedash/livedash/sqlite"
)

// engineEnv is what the engines run on.
type engineEnv struct {
	store *sqlite.Store // read to catch the engines up
	state engine.Store  // their state: the store, or Redis in a cluster
	hub   *hub.Hub      // the live committed messages
	// pub is the server's internal publisher (which may write sys.alerts).
	pub livedash.Publisher
	// notifier is fed the alerts; nil when no receiver is configured.
	notifier *notify.Service
	// now is the engines' clock: time.Now when nil.
	now func() time.Time
	log *slog.Logger
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
// demo rollups under --demo when the config has none), the notifier and
// the scrapers. The engines are fed committed messages (engine.Feed);
// they publish through env.pub. A failing engine logs and carries on: it
// never takes the server down.
func startEngines(start func(string, func(context.Context) error), cfg serverConfig, demo bool, env engineEnv) error {
	loc, err := cfg.Location()
	if err != nil {
		return err
	}
	store, h, p, log := env.store, env.hub, env.pub, env.log
	rules := cfg.Rollups
	if len(rules) == 0 && demo {
		rules = demoRollups()
	}
	if len(rules) > 0 {
		rlog := log.With("engine", "rollup")
		eng, err := rollup.New(rules, rollup.Options{Publisher: p, State: env.state, Location: loc, Now: env.now, Logger: rlog})
		if err != nil {
			return fmt.Errorf("rollups: %w", err)
		}
		start("rollup", func(ctx context.Context) error {
			return engine.Feed(ctx, eng, h, store, engine.Start{BackfillFrom: eng.BackfillFrom}, rlog)
		})
	}
	if len(cfg.Alerts) > 0 {
		alog := log.With("engine", "alert")
		eng, err := alert.New(cfg.Alerts, alert.Options{Publisher: p, State: env.state, Now: env.now, Logger: alog})
		if err != nil {
			return fmt.Errorf("alerts: %w", err)
		}
		// Without saved state, alerts start from the messages committed
		// from now on: old history would fire stale alerts.
		head := store.Head().Seq
		start("alert", func(ctx context.Context) error {
			return engine.Feed(ctx, eng, h, store, engine.Start{AfterSeq: head}, alog)
		})
	}
	if n := env.notifier; n != nil {
		// Fed the stored alerts like an engine: it queues their
		// notifications and sends them (once per cluster, on the leader).
		head := store.Head().Seq
		nlog := log.With("engine", "notify")
		start("notify", func(ctx context.Context) error {
			return engine.Feed(ctx, n, h, store, engine.Start{AfterSeq: head}, nlog)
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
