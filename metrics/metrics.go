// Package metrics owns livedash's Prometheus instruments. They are
// registered on a registry passed in (no globals); labels carry transports,
// routes and status codes, never topic names or tokens.
package metrics

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics are the server's instruments.
type Metrics struct {
	reg *prometheus.Registry

	connections   *prometheus.GaugeVec
	subscriptions prometheus.GaugeFunc
	published     prometheus.Counter
	delivered     *prometheus.CounterVec
	deliveredBy   map[string]prometheus.Counter // the transports' children, resolved once (read-only)
	slow          *prometheus.CounterVec
	dropped       *prometheus.CounterVec
	brokerErrors  *prometheus.CounterVec
	refused       *prometheus.CounterVec
	publishTime   prometheus.Histogram
	commitTime    prometheus.Histogram
	groupSize     prometheus.Histogram
	storeErrors   prometheus.Counter
	notified      *prometheus.CounterVec
}

// New registers the instruments on reg, plus the Go runtime and process
// collectors. subscribers reports the hub's open subscribers.
func New(reg *prometheus.Registry, subscribers func() int) *Metrics {
	m := &Metrics{
		reg: reg,
		connections: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "livedash_connections", Help: "Open streaming connections by transport.",
		}, []string{"transport"}),
		subscriptions: prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "livedash_subscribers", Help: "Subscribers registered in the fan-out hub.",
		}, func() float64 { return float64(subscribers()) }),
		published: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "livedash_messages_published_total", Help: "Messages stored and fanned out.",
		}),
		delivered: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "livedash_messages_delivered_total", Help: "Messages written to clients, by transport.",
		}, []string{"transport"}),
		slow: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "livedash_slow_consumers_total", Help: "Clients cut off for falling behind, by transport.",
		}, []string{"transport"}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "livedash_messages_dropped_total", Help: "Queued messages discarded with clients cut off as slow, by transport (they get them again when they resume).",
		}, []string{"transport"}),
		brokerErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "livedash_broker_errors_total", Help: "Failed calls to the cluster broker (Redis), by operation.",
		}, []string{"op"}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "livedash_requests_refused_total", Help: "Requests answered with a 4xx error, by status.",
		}, []string{"status"}),
		publishTime: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "livedash_publish_duration_seconds", Help: "Time from a publish request's arrival to its durable acknowledgement.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2, 16),
		}),
		commitTime: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "livedash_store_commit_duration_seconds", Help: "Time to write and fsync one group of messages.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2, 16),
		}),
		groupSize: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "livedash_store_group_messages", Help: "Messages per committed group (group commit).",
			Buckets: prometheus.ExponentialBuckets(1, 4, 8),
		}),
		storeErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "livedash_store_errors_total", Help: "Failed store commits.",
		}),
		notified: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "livedash_notifications_total", Help: "Tries of alert notifications, by receiver (config name) and outcome: sent, retry, failed, gave_up.",
		}, []string{"receiver", "outcome"}),
	}
	// Delivered runs once per write to a client: its children are looked up once.
	m.deliveredBy = map[string]prometheus.Counter{"sse": m.delivered.WithLabelValues("sse"), "ws": m.delivered.WithLabelValues("ws")}
	reg.MustRegister(m.connections, m.subscriptions, m.published, m.delivered, m.slow, m.dropped, m.brokerErrors, m.refused,
		m.publishTime, m.commitTime, m.groupSize, m.storeErrors, m.notified,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// PoolStats are the delivery engine's figures (package push).
type PoolStats struct {
	Streams, Blocked int
	Writes, Buffers  uint64
}

// WatchStreamPool exports the delivery engine's figures (every SSE and
// WebSocket stream), read from stats at each scrape: open streams, streams
// blocked on a full socket (slow clients before they are cut off), and
// writes and the frames they carried (their ratio is the batching).
func (m *Metrics) WatchStreamPool(stats func() PoolStats) {
	m.reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "livedash_stream_pool_streams", Help: "SSE and WebSocket streams in the delivery engine.",
		}, func() float64 { return float64(stats().Streams) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "livedash_stream_pool_blocked_streams", Help: "Streams waiting on a full socket (slow clients).",
		}, func() float64 { return float64(stats().Blocked) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "livedash_stream_pool_writes_total", Help: "Writes to streams (one system call each on a pooled socket, unless it was full).",
		}, func() float64 { return float64(stats().Writes) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "livedash_stream_pool_frames_written_total", Help: "Frames and heartbeats those writes carried.",
		}, func() float64 { return float64(stats().Buffers) }),
	)
}

// Handler serves the registry in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// StreamOpened counts a new connection.
func (m *Metrics) StreamOpened(transport string) { m.connections.WithLabelValues(transport).Inc() }

// StreamClosed counts a closed connection.
func (m *Metrics) StreamClosed(transport string) { m.connections.WithLabelValues(transport).Dec() }

// Refused counts a refused request.
func (m *Metrics) Refused(_ string, status int, _ string) {
	m.refused.WithLabelValues(statusLabel(status)).Inc()
}

// SlowConsumer counts a client cut off and the messages dropped with it.
func (m *Metrics) SlowConsumer(transport, _ string, dropped int) {
	m.slow.WithLabelValues(transport).Inc()
	m.dropped.WithLabelValues(transport).Add(float64(dropped))
}

// BrokerError counts a failed call to the cluster broker.
func (m *Metrics) BrokerError(op string) { m.brokerErrors.WithLabelValues(op).Inc() }

// Notified counts one try of an alert notification to receiver (a name
// from the config, so the label's values are bounded) and its outcome.
func (m *Metrics) Notified(receiver, outcome string) {
	m.notified.WithLabelValues(receiver, outcome).Inc()
}

// Delivered counts messages written to clients.
func (m *Metrics) Delivered(transport string, n int) {
	c, ok := m.deliveredBy[transport]
	if !ok {
		c = m.delivered.WithLabelValues(transport)
	}
	c.Add(float64(n))
}

// Published records an acknowledged publish of n messages that took d.
func (m *Metrics) Published(n int, d time.Duration) {
	m.published.Add(float64(n))
	m.publishTime.Observe(d.Seconds())
}

// Committed records one store group.
func (m *Metrics) Committed(n int, d time.Duration, err error) {
	if err != nil {
		m.storeErrors.Inc()
		return
	}
	m.commitTime.Observe(d.Seconds())
	m.groupSize.Observe(float64(n))
}

func statusLabel(status int) string {
	const digits = "0123456789"
	if status < 100 || status > 999 {
		return "other"
	}
	return string([]byte{digits[status/100], digits[status/10%10], digits[status%10]})
}
