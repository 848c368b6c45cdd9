package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/livedash/livedash"
	"github.com/livedash/livedash/hub"
	"github.com/livedash/livedash/producer"
)

// startProducers starts the built-in producers the options ask for: host
// metrics (unless off) and the demo shop (with --demo). They publish
// through the store like any client.
func startProducers(start func(string, func(context.Context) error), o serveOptions, p livedash.Publisher, h *hub.Hub, log *slog.Logger) {
	if o.hostMetrics != "off" {
		interval, _ := time.ParseDuration(o.hostMetrics) // validated by runServe
		hm := &producer.HostMetrics{Publisher: p, Interval: interval, Connections: h.Subscribers, Logger: log.With("producer", "host-metrics")}
		start("host-metrics", hm.Run)
	}
	if o.demo {
		demo := &producer.Demo{Publisher: p, Logger: log.With("producer", "demo")}
		start("demo", demo.Run)
	}
}
