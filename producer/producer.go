// Package producer owns the message sources built into the server: host
// metrics sampled from the machine it runs on (HostMetrics), a simulated
// shop and chat-bot for demos (Demo), and a poller of Prometheus text
// endpoints (Scraper, with the ScrapeTarget config format; package
// promtext parses the text format). A producer runs until its context is
// done and publishes through a livedash.Publisher, the same path as any
// client, so its messages are stored, ordered and fanned out like everyone
// else's.
package producer

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"

	"github.com/livedash/livedash"
)

// sanitizeSegment turns s into one topic segment: every character outside
// [A-Za-z0-9_-] becomes '-', and the result is cut to maxLen bytes.
// An empty result becomes fallback.
func sanitizeSegment(s string, maxLen int, fallback string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-' {
			b.WriteRune(r)
		} else {
			b.WriteByte('-')
		}
		if b.Len() >= maxLen {
			break
		}
	}
	if b.Len() == 0 {
		return fallback
	}
	return b.String()
}

// validSegment reports whether s is exactly one valid topic segment.
func validSegment(s string) error {
	if strings.Contains(s, ".") {
		return livedash.Errorf(livedash.EINVALID, "%q must be a single topic segment (no dots)", s)
	}
	return livedash.ValidateTopic(s)
}

// newMessage builds a message with data encoded as compact JSON.
func newMessage(topic, typ string, tsMS int64, data any) (livedash.Message, error) {
	if err := livedash.ValidateTopic(topic); err != nil {
		return livedash.Message{}, err
	}
	raw, err := json.Marshal(data)
	if err != nil {
		return livedash.Message{}, fmt.Errorf("encode data of %s: %w", topic, err)
	}
	return livedash.Message{Topic: topic, Type: typ, TS: tsMS, Data: raw}, nil
}

// publishAll publishes msgs (livedash.PublishAll); a failed batch is
// logged and dropped.
func publishAll(ctx context.Context, pub livedash.Publisher, log *slog.Logger, source string, msgs []livedash.Message) {
	livedash.PublishAll(ctx, pub, msgs, func(n int, err error) {
		log.Warn("producer: publish failed; batch dropped", "source", source, "messages", n, "err", err)
	})
}

// discardLogger is used when a producer is given no logger.
func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }
