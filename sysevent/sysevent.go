// Package sysevent owns the server's own events: connections opened and
// closed, requests refused, slow consumers cut off. It counts them as they
// happen and publishes a summary on sys. topics every interval (only when
// something happened), so a flood of events costs one message per topic per
// interval, never one write per event. Only admins may read sys. topics.
//
// Topics (type stats or event):
//   - sys.connections  stats {"sse":N,"ws":N,"opened":N,"closed":N,"node":…} —
//     open counts now, and opened/closed during the interval; node names
//     the server when it is one of a cluster
//   - sys.rejections   event {"count":N,"by_status":{"401":N,…},"examples":[{"sub","status","error"}…]}
//   - sys.consumers.slow event {"count":N,"examples":[{"transport","sub"}…]}
package sysevent

import (
	"context"
	"encoding/json"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/livedash/livedash"
)

// maxExamples caps the examples kept per summary.
const maxExamples = 5

// Reporter counts events and publishes summaries. Its methods are safe
// for concurrent use and never block on I/O.
type Reporter struct {
	pub      livedash.Publisher
	interval time.Duration
	now      func() time.Time
	log      *slog.Logger

	mu         sync.Mutex
	node       string         // names this server in the summaries (cluster mode)
	open       map[string]int // by transport
	opened     int
	closed     int
	changed    bool
	refused    int
	byStatus   map[int]int
	refusals   []refusal
	slow       int
	slowSample []slowConsumer
}

type refusal struct {
	Sub    string `json:"sub"`
	Status int    `json:"status"`
	Error  string `json:"error"`
}

type slowConsumer struct {
	Transport string `json:"transport"`
	Sub       string `json:"sub"`
}

// New returns a reporter publishing every interval (default 5s).
func New(pub livedash.Publisher, interval time.Duration, now func() time.Time, log *slog.Logger) *Reporter {
	if interval <= 0 {
		interval = 5 * time.Second
	}
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Reporter{pub: pub, interval: interval, now: now, log: log, open: map[string]int{}, byStatus: map[int]int{}}
}

// SetNode names this server in the summaries, so several nodes of a
// cluster can be told apart on the shared sys. topics.
func (r *Reporter) SetNode(name string) {
	r.mu.Lock()
	r.node = name
	r.mu.Unlock()
}

// StreamOpened counts a new SSE or WebSocket connection.
func (r *Reporter) StreamOpened(transport string) {
	r.mu.Lock()
	r.open[transport]++
	r.opened++
	r.changed = true
	r.mu.Unlock()
}

// StreamClosed counts a connection's end.
func (r *Reporter) StreamClosed(transport string) {
	r.mu.Lock()
	r.open[transport]--
	r.closed++
	r.changed = true
	r.mu.Unlock()
}

// Open returns the open connections by transport.
func (r *Reporter) Open() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string]int, len(r.open))
	for k, v := range r.open {
		out[k] = v
	}
	return out
}

// Refused records a refused request: who (token subject, "" when
// anonymous), its status and the error shown.
func (r *Reporter) Refused(sub string, status int, msg string) {
	r.mu.Lock()
	r.refused++
	r.byStatus[status]++
	if len(r.refusals) < maxExamples {
		r.refusals = append(r.refusals, refusal{Sub: sub, Status: status, Error: msg})
	}
	r.mu.Unlock()
}

// SlowConsumer records a client cut off for falling behind.
func (r *Reporter) SlowConsumer(transport, sub string, _ int) {
	r.mu.Lock()
	r.slow++
	if len(r.slowSample) < maxExamples {
		r.slowSample = append(r.slowSample, slowConsumer{Transport: transport, Sub: sub})
	}
	r.mu.Unlock()
}

// Delivered is not reported on sys. topics (see /metrics).
func (r *Reporter) Delivered(string, int) {}

// Published is not reported on sys. topics (see /metrics).
func (r *Reporter) Published(int, time.Duration) {}

// Run publishes a summary every interval until ctx is done, then a last one.
func (r *Reporter) Run(ctx context.Context) error {
	t := time.NewTicker(r.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			r.Flush(context.WithoutCancel(ctx))
			return nil
		case <-t.C:
			r.Flush(ctx)
		}
	}
}

// Flush publishes what was counted since the last flush, if anything.
func (r *Reporter) Flush(ctx context.Context) {
	msgs := r.take()
	if len(msgs) == 0 {
		return
	}
	if _, err := r.pub.Publish(ctx, msgs); err != nil {
		r.log.Warn("publishing sys events failed", "err", err)
	}
}

// take builds the summary messages and resets the interval's counters.
func (r *Reporter) take() []livedash.Message {
	r.mu.Lock()
	defer r.mu.Unlock()
	ts := r.now().UnixMilli()
	var msgs []livedash.Message
	add := func(topic, typ string, data any) {
		b, err := json.Marshal(data)
		if err != nil {
			return
		}
		msgs = append(msgs, livedash.Message{Topic: topic, Type: typ, TS: ts, Data: b})
	}
	if r.changed {
		conns := map[string]any{"sse": r.open["sse"], "ws": r.open["ws"], "opened": r.opened, "closed": r.closed}
		if r.node != "" {
			conns["node"] = r.node
		}
		add("sys.connections", livedash.TypeStats, conns)
		r.opened, r.closed, r.changed = 0, 0, false
	}
	if r.refused > 0 {
		by := map[string]int{}
		for s, n := range r.byStatus {
			by[strconv.Itoa(s)] = n
		}
		add("sys.rejections", livedash.TypeEvent, map[string]any{"count": r.refused, "by_status": by, "examples": r.refusals})
		r.refused, r.byStatus, r.refusals = 0, map[int]int{}, nil
	}
	if r.slow > 0 {
		add("sys.consumers.slow", livedash.TypeEvent, map[string]any{"count": r.slow, "examples": r.slowSample})
		r.slow, r.slowSample = 0, nil
	}
	return msgs
}
