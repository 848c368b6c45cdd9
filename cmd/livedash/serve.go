package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	neturl "net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/livedash/livedash"
	"github.com/livedash/livedash/auth"
	"github.com/livedash/livedash/config"
	"github.com/livedash/livedash/dashboard"
	"github.com/livedash/livedash/engine"
	"github.com/livedash/livedash/httpapi"
	"github.com/livedash/livedash/hub"
	"github.com/livedash/livedash/ingest"
	"github.com/livedash/livedash/metrics"
	"github.com/livedash/livedash/notify"
	"github.com/livedash/livedash/redisbroker"
	"github.com/livedash/livedash/sqlite"
	"github.com/livedash/livedash/sysevent"
	"github.com/livedash/livedash/web"
)

// serveOptions are the serve command's flags.
type serveOptions struct {
	addr, data, configPath, broker, hostMetrics, heartbeat, logFormat, logLevel, pprofAddr string
	tlsCert, tlsKey                                                                        string
	leaseTTL                                                                               time.Duration
	demo                                                                                   bool
}

func runServe(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlags("serve", stderr)
	var o serveOptions
	fs.StringVar(&o.addr, "addr", "localhost:8080", "address to listen on")
	fs.StringVar(&o.data, "data", envOr(getenv, "LIVEDASH_DATA", "./livedash-data"), "data directory (store, secret)")
	fs.StringVar(&o.configPath, "config", "", "YAML configuration file")
	fs.StringVar(&o.broker, "broker", "memory", "broker: memory (in-process), or redis://host:port for a cluster")
	fs.DurationVar(&o.leaseTTL, "lease-ttl", 6*time.Second, "cluster: how long the leader's lease lasts unrenewed; a dead leader is replaced within it")
	fs.StringVar(&o.tlsCert, "tls-cert", "", "TLS certificate file (serves HTTPS and HTTP/2)")
	fs.StringVar(&o.tlsKey, "tls-key", "", "TLS private key file")
	fs.BoolVar(&o.demo, "demo", false, "publish a simulated shop and chat-bot")
	fs.StringVar(&o.hostMetrics, "host-metrics", "1s", "host metrics interval, or off")
	fs.StringVar(&o.heartbeat, "heartbeat", "", "stream heartbeat interval (default 15s, or the config's)")
	fs.StringVar(&o.logFormat, "log-format", "text", "log format: text or json")
	fs.StringVar(&o.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	fs.StringVar(&o.pprofAddr, "pprof", "", "serve Go's profiler on this separate address (e.g. localhost:6060)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("serve: unexpected argument %q", fs.Arg(0))}
	}
	cfg, err := loadConfig(o.configPath)
	if err != nil {
		return err
	}
	if o.heartbeat != "" {
		d, err := config.ParseDuration(o.heartbeat)
		if err != nil || d <= 0 {
			return usageError{"serve: --heartbeat must be a positive duration like 15s"}
		}
		cfg.Heartbeat = config.Duration(d)
	}
	if o.broker != "memory" && !strings.HasPrefix(o.broker, "redis://") && !strings.HasPrefix(o.broker, "rediss://") {
		return usageError{fmt.Sprintf("serve: --broker must be memory or a redis:// URL, not %q", o.broker)}
	}
	if o.leaseTTL < 300*time.Millisecond {
		return usageError{"serve: --lease-ttl must be a duration of at least 300ms"}
	}
	if (o.tlsCert == "") != (o.tlsKey == "") {
		return usageError{"serve: --tls-cert and --tls-key go together"}
	}
	if o.hostMetrics != "off" {
		if d, err := time.ParseDuration(o.hostMetrics); err != nil || d < 100*time.Millisecond {
			return usageError{"serve: --host-metrics must be a duration of at least 100ms, or off"}
		}
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(o.logLevel)); err != nil {
		return usageError{"serve: --log-level must be debug, info, warn or error"}
	}
	hopts := &slog.HandlerOptions{Level: level}
	var handler slog.Handler = slog.NewTextHandler(stderr, hopts)
	if o.logFormat == "json" {
		handler = slog.NewJSONHandler(stderr, hopts)
	} else if o.logFormat != "text" {
		return usageError{"serve: --log-format must be text or json"}
	}
	return serve(ctx, o, cfg, getenv, stdout, slog.New(handler))
}

func serve(ctx context.Context, o serveOptions, cfg serverConfig, getenv func(string) string, stdout io.Writer, log *slog.Logger) error {
	if err := os.MkdirAll(o.data, 0o700); err != nil {
		return fmt.Errorf("data dir: %w", err)
	}
	secret, created, err := auth.Secret(getenv("LIVEDASH_SECRET"), o.data)
	if err != nil {
		return err
	}
	signer := auth.NewSigner(secret, nil)

	h := hub.New(hub.Options{})
	m := metrics.New(prometheus.NewRegistry(), h.Subscribers)
	cluster := o.broker != "memory"
	sopts := sqlite.Options{
		OnCommit:  h.Publish,
		OnGroup:   m.Committed,
		Retention: sqlite.Retention{MaxAge: cfg.Retention.MaxAge.D(), MaxBytes: int64(cfg.Retention.MaxBytes)},
	}
	if cluster {
		sopts.CatchUpWait = 3 * time.Second // ids handed out by other nodes
	}
	store, err := sqlite.Open(ctx, filepath.Join(o.data, "livedash.db"), sopts)
	if err != nil {
		return err
	}
	defer store.Close()

	// The broker takes publishes: the store itself, or Redis in a cluster.
	var broker httpapi.Broker = store
	var state engine.Store = store
	var boardStore httpapi.DashboardStore = store
	var cb *redisbroker.Broker
	if cluster {
		rdb, err := redisbroker.Dial(ctx, o.broker)
		if err != nil {
			return err
		}
		defer rdb.Close()
		if cb, err = redisbroker.New(ctx, rdb, store, redisbroker.Options{Logger: log.With("broker", "redis"), OnError: m.BrokerError, LeaseTTL: o.leaseTTL}); err != nil {
			return err
		}
		broker, state, boardStore = cb, cb, cb // shared by every node
	}

	boards, err := fileDashboards(cfg.DashboardsDir)
	if err != nil {
		return err
	}
	// The server's own producers store through the same limits as the API.
	publisher := livedash.PublisherOf(ingest.New(broker, store, httpapi.IngestLimits(cfg.Limits)))
	events := sysevent.New(publisher, 5*time.Second, nil, log)
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	ln = httpapi.LimitListener(ln, cfg.Limits.MaxConnections, log)
	url := "http://" + ln.Addr().String()
	if o.tlsCert != "" {
		url = "https://" + ln.Addr().String()
	}
	// Notifications are queued where the engines keep their state: the
	// store, or Redis in a cluster (sent by the leader).
	var queue notify.Queue = store
	head := func(context.Context) (uint64, error) { return store.Head().Seq, nil }
	if cb != nil {
		queue, head = cb, cb.Head // this node may not have caught up yet
	}
	notifier, err := newNotifier(cfg, queue, publisher, head, url, m, log)
	if err != nil {
		ln.Close()
		return err
	}
	apiOpts := httpapi.Options{
		Store: store, Broker: broker, Hub: h, Signer: signer, Config: cfg.Config, Logger: log,
		UI: web.Handler(), Dashboards: boardStore, FileDashboards: boards,
		Events: httpapi.EventsList{events, m}, Metrics: m.Handler(),
	}
	if notifier != nil {
		apiOpts.Notifier = notifier
	}
	api := httpapi.New(apiOpts)
	m.WatchStreamPool(func() metrics.PoolStats {
		st := api.StreamStats()
		return metrics.PoolStats{Streams: st.Conns, Blocked: st.Blocked, Writes: st.Writes, Buffers: st.Buffers}
	})
	srv := httpapi.NewHTTPServer(api, cfg.Limits, log)
	// Shutdown closes the listeners first, then runs this: open streams end
	// so their clients reconnect (and resume by id) elsewhere or later.
	srv.RegisterOnShutdown(func() { api.CloseStreams(context.Background()) })

	if cluster {
		host, _ := os.Hostname()
		events.SetNode(host + "/" + ln.Addr().String())
	}
	log.Info("livedash listening", "url", url, "data", o.data, "store", "sqlite", "broker", redactURL(o.broker), "epoch", store.Epoch())
	if created {
		tok, err := signer.Mint(auth.Claims{RegisteredClaims: jwt.RegisteredClaims{Subject: "first-admin"}, Admin: true}, 24*time.Hour)
		if err == nil {
			fmt.Fprintf(stdout, "\nA new secret was created in %s.\nOpen the dashboard as admin (link valid 24h):\n  %s/?token=%s\n\n", o.data, url, tok)
		}
	}

	bg, stopBG := context.WithCancel(ctx)
	var wg sync.WaitGroup
	start := func(name string, fn func(context.Context) error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := fn(bg); err != nil && !errors.Is(err, context.Canceled) {
				log.Error("background task failed", "task", name, "err", err)
			}
		}()
	}
	start("retention", func(ctx context.Context) error {
		store.RunRetention(ctx, time.Minute, func(err error) { log.Error("retention", "err", err) })
		return nil
	})
	start("sys-events", events.Run)
	if o.pprofAddr != "" {
		start("pprof", func(ctx context.Context) error { return servePprof(ctx, o.pprofAddr, log) })
	}
	startProducers(start, o, publisher, h, log)
	// Work that must run once per cluster runs on the node holding the lease.
	startOnce := start
	if cb != nil {
		start("cluster-stream", cb.Run)
		startOnce = func(name string, fn func(context.Context) error) {
			start(name, func(ctx context.Context) error { return cb.Lead(ctx, name, fn) })
		}
	}
	env := engineEnv{store: store, state: state, hub: h, pub: publisher, notifier: notifier, log: log}
	if err := startEngines(startOnce, cfg, o.demo, env); err != nil {
		stopBG()
		wg.Wait()
		return err
	}

	serveErr := make(chan error, 1)
	go func() {
		if o.tlsCert != "" {
			// Go's server speaks HTTP/2 over TLS by itself, which lifts the
			// browser's six-connections-per-origin limit for SSE.
			serveErr <- srv.ServeTLS(ln, o.tlsCert, o.tlsKey)
			return
		}
		serveErr <- srv.Serve(ln)
	}()
	select {
	case err := <-serveErr:
		stopBG()
		wg.Wait()
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down")
	stopBG()
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		log.Warn("shutdown", "err", err)
	}
	api.CloseStreams(shutdownCtx) // hijacked WebSockets are not waited for by Shutdown
	wg.Wait()
	if err := store.Close(); err != nil {
		return fmt.Errorf("close store: %w", err)
	}
	log.Info("stopped")
	return nil
}

// fileDashboards returns the shipped default dashboards with those of dir
// (when set) over them.
func fileDashboards(dir string) ([]dashboard.Dashboard, error) {
	boards := dashboard.Defaults()
	if dir == "" {
		return boards, nil
	}
	fromDir, err := dashboard.LoadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("dashboards_dir: %w", err)
	}
	return append(boards, fromDir...), nil // later names override earlier ones
}

// servePprof serves Go's profiler on its own address and mux, never on the
// public one, until ctx is done.
func servePprof(ctx context.Context, addr string, log *slog.Logger) error {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	log.Info("profiler listening", "url", "http://"+addr+"/debug/pprof/")
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("pprof: %w", err)
	}
	return nil
}

// redactURL hides a password in a broker URL for logs.
func redactURL(s string) string {
	if u, err := neturl.Parse(s); err == nil && u.User != nil {
		return u.Redacted()
	}
	return s
}
