package main

import (
	"context"
	"log/slog"

	"github.com/livedash/livedash/hub"
)

// startProducers starts the built-in producers the options ask for.
func startProducers(start func(string, func(context.Context) error), o serveOptions, p storePublisher, h *hub.Hub, log *slog.Logger) {
	_ = p
	_ = h
	if o.demo {
		log.Warn("--demo: the demo producer is not built in yet")
	}
}
