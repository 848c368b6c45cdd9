// Package config owns the server's part of livedash's configuration
// file (Config: public patterns, limits, retention, ingest options), its
// defaults, the reading of the file (unknown keys are errors) and the
// parsing of sizes, durations and rates in it. The sections of rollup
// rules, alert rules, notification receivers and scrape targets belong to
// the packages that run them (rollup, alert, notify, producer), which
// define and validate them; cmd/livedash puts them beside Config in one
// File. So config imports none of them, nor do the packages that read a
// Config (httpapi).
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/livedash/livedash"
)

// Config is the server configuration. Flags override it.
type Config struct {
	Public        []string  `yaml:"public"`
	CORSOrigins   []string  `yaml:"cors_origins"`
	Heartbeat     Duration  `yaml:"heartbeat"`
	Retention     Retention `yaml:"retention"`
	Limits        Limits    `yaml:"limits"`
	DashboardsDir string    `yaml:"dashboards_dir"`
	// WebSocketCompression offers permessage-deflate to WebSocket clients:
	// smaller frames for more CPU per connection. Off by default.
	WebSocketCompression bool `yaml:"websocket_compression"`
	// SSEGoroutinePerStream serves each SSE stream from a goroutine of its
	// own, through net/http, instead of handing plain HTTP/1.1 streams to
	// the connection pool (package push) on Linux. For comparison and as
	// a way out; off by default.
	SSEGoroutinePerStream bool `yaml:"sse_goroutine_per_stream"`
	// Timezone is the IANA zone of "today" rollups (e.g. Europe/Berlin);
	// default UTC.
	Timezone string `yaml:"timezone"`
	// PublicURL is the server's address as people reach it (e.g.
	// https://dash.example.com), for the links in notifications; default
	// the listen address.
	PublicURL string `yaml:"public_url"`
	// Influx configures POST /write and /api/v2/write (docs/ingest.md).
	Influx Influx `yaml:"influx"`
	// OTLP configures POST /otlp/v1/metrics (docs/ingest.md).
	OTLP OTLP `yaml:"otlp"`
}

// Influx configures the InfluxDB-compatible write endpoints.
type Influx struct {
	// DBPrefix puts the database (1.x db=) or bucket (2.x bucket=) name,
	// as one topic segment, before every topic of a write.
	DBPrefix bool `yaml:"db_prefix"`
}

// OTLP configures the OpenTelemetry metrics receiver.
type OTLP struct {
	// Prefix starts every topic of a data point; default "otel".
	Prefix string `yaml:"prefix"`
	// ResourceAttributes are the resource attributes (besides service.name,
	// always a segment) that join a data point's attributes in its topic;
	// default [host.name].
	ResourceAttributes []string `yaml:"resource_attributes"`
	// MaxAttributes caps the attributes that name one data point's topic;
	// a point with more is rejected. 0: no cap.
	MaxAttributes int `yaml:"max_attributes"`
	// MaxSeriesPerMetric caps the topics one metric (of one service) may
	// create; points of new series past it are rejected. 0: no cap.
	MaxSeriesPerMetric int `yaml:"max_series_per_metric"`
	// MaxFuture rejects points stamped further ahead of the server's clock.
	MaxFuture Duration `yaml:"max_future"`
}

// Location returns the time zone of Timezone (UTC when empty).
func (c Config) Location() (*time.Location, error) {
	if c.Timezone == "" {
		return time.UTC, nil
	}
	loc, err := time.LoadLocation(c.Timezone)
	if err != nil {
		return nil, fmt.Errorf("config: timezone %q: unknown IANA time zone (e.g. UTC, Europe/Berlin, America/New_York)", c.Timezone)
	}
	return loc, nil
}

// Retention bounds stored history.
type Retention struct {
	MaxAge   Duration `yaml:"max_age"`
	MaxBytes Size     `yaml:"max_bytes"`
}

// Limits protect the server from its clients. A zero count or duration
// turns its limit off.
type Limits struct {
	MessageBytes        Size `yaml:"message_bytes"`
	RequestBytes        Size `yaml:"request_bytes"`
	PublishRate         Rate `yaml:"publish_rate"`
	ConnectionsPerToken int  `yaml:"connections_per_token"`
	// MaxTopics caps the number of topics the store holds (the server's
	// own sys. topics aside): a publish that would create one past it is
	// refused with 413.
	MaxTopics int `yaml:"max_topics"`
	// PatternsPerConnection caps the topic patterns one WebSocket
	// connection holds across all its subscriptions.
	PatternsPerConnection int `yaml:"patterns_per_connection"`
	// AnonymousConnectionsPerAddress caps the open streams of callers with
	// no token, per client IP address.
	AnonymousConnectionsPerAddress int `yaml:"anonymous_connections_per_address"`
	// MaxConnections caps open client connections of every kind, streams
	// included; past it a new connection is closed at once.
	MaxConnections int `yaml:"max_connections"`
	// IdleTimeout closes a keep-alive connection that carries no request
	// for this long. Open streams are not idle.
	IdleTimeout Duration `yaml:"idle_timeout"`
	// BodyTimeout bounds the reading of one request body.
	BodyTimeout Duration `yaml:"body_timeout"`
	// HistoryBytes caps the message envelopes one history response holds;
	// a response cut by it says "truncated": true.
	HistoryBytes Size `yaml:"history_bytes"`
	// BacklogBytes caps the message envelopes one history read of a stream
	// holds: a backlog keeps the newest that fit, a resume pages through
	// reads of at most this size.
	BacklogBytes Size `yaml:"backlog_bytes"`
}

// Defaults of the read budgets.
const (
	DefaultHistoryBytes = 16 << 20
	DefaultBacklogBytes = 4 << 20
)

// Default returns the configuration used when no file is given.
func Default() Config {
	return Config{
		Heartbeat: Duration(15 * time.Second),
		Retention: Retention{MaxAge: Duration(168 * time.Hour), MaxBytes: Size(1 << 30)},
		Limits: Limits{
			MessageBytes: 64 << 10, RequestBytes: 1 << 20,
			AnonymousConnectionsPerAddress: 1000, MaxConnections: 50_000,
			IdleTimeout: Duration(60 * time.Second), BodyTimeout: Duration(30 * time.Second),
			MaxTopics: 10_000, PatternsPerConnection: 200,
			HistoryBytes: DefaultHistoryBytes, BacklogBytes: DefaultBacklogBytes,
		},
		OTLP: OTLP{
			Prefix: "otel", ResourceAttributes: []string{"host.name"},
			MaxAttributes: 8, MaxSeriesPerMetric: 1000, MaxFuture: Duration(10 * time.Minute),
		},
	}
}

// A File is what LoadFile and ParseFile read: a pointer to a struct that
// holds a Config inline (`yaml:",inline"`) beside the sections other
// packages own, set to its defaults, whose Validate checks the whole and
// names the section and field of what is wrong ("config: <section>: …").
// *Config is one with no other section.
type File interface {
	Validate() error
}

// LoadFile reads the YAML file at path into f, like ParseFile; its errors
// name the file. An empty path leaves f as it is (the defaults).
func LoadFile(path string, f File) error {
	if path == "" {
		return nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	if err := ParseFile(b, f); err != nil {
		return fmt.Errorf("%s: %w", path, err) // the file, then "config: <entry>: <field>: …"
	}
	return nil
}

// ParseFile reads YAML text into f, over what it holds, and validates it.
// Unknown keys are errors.
func ParseFile(b []byte, f File) error {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(f); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("config: %w", err)
	}
	return f.Validate()
}

// Parse reads YAML text with no section but the server's over the
// defaults, and validates it.
func Parse(b []byte) (Config, error) {
	c := Default()
	err := ParseFile(b, &c)
	return c, err
}

// Validate checks patterns and limits (not the sections other packages own).
func (c Config) Validate() error {
	for _, p := range c.Public {
		if err := livedash.ValidatePattern(p); err != nil {
			return fmt.Errorf("config: public: %w", err)
		}
		if livedash.IsSys(p) {
			return fmt.Errorf("config: public: %q: sys topics cannot be public", p)
		}
	}
	if c.Heartbeat.D() < 0 {
		return fmt.Errorf("config: heartbeat must not be negative")
	}
	for _, l := range []struct {
		key string
		n   int
	}{
		{"connections_per_token", c.Limits.ConnectionsPerToken},
		{"anonymous_connections_per_address", c.Limits.AnonymousConnectionsPerAddress},
		{"max_connections", c.Limits.MaxConnections},
		{"max_topics", c.Limits.MaxTopics},
		{"patterns_per_connection", c.Limits.PatternsPerConnection},
	} {
		if l.n < 0 {
			return fmt.Errorf("config: limits.%s must not be negative", l.key)
		}
	}
	if err := c.OTLP.validate(); err != nil {
		return fmt.Errorf("config: otlp: %w", err)
	}
	if c.Limits.IdleTimeout < 0 || c.Limits.BodyTimeout < 0 {
		return fmt.Errorf("config: limits.idle_timeout and limits.body_timeout must not be negative")
	}
	if c.Limits.HistoryBytes <= 0 || c.Limits.BacklogBytes <= 0 {
		return fmt.Errorf("config: limits.history_bytes and limits.backlog_bytes must be positive (defaults 16MiB and 4MiB)")
	}
	if _, err := c.Location(); err != nil {
		return err
	}
	if c.PublicURL != "" {
		if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("config: public_url %q: must be an http:// or https:// URL with a host", c.PublicURL)
		}
	}
	return nil
}

func (o OTLP) validate() error {
	if err := livedash.ValidateTopic(o.Prefix); err != nil {
		return fmt.Errorf("prefix: %w", err)
	}
	if livedash.IsSys(o.Prefix) || o.Prefix == "sys" {
		return fmt.Errorf("prefix %q: sys topics are the server's own", o.Prefix)
	}
	for _, a := range o.ResourceAttributes {
		if a == "" || a == "service.name" {
			return fmt.Errorf("resource_attributes: %q: name a resource attribute other than service.name (always a segment)", a)
		}
	}
	if o.MaxAttributes < 0 || o.MaxSeriesPerMetric < 0 || o.MaxFuture < 0 {
		return errors.New("max_attributes, max_series_per_metric and max_future must not be negative")
	}
	return nil
}

// Duration is a time.Duration written as "15s", "168h" or "7d".
type Duration time.Duration

// D returns the duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// UnmarshalYAML parses a duration string.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	*d = Duration(v)
	return nil
}

// ParseDuration accepts Go durations plus a "d" (24h) suffix.
func ParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.ParseFloat(days, 64)
		if err != nil {
			return 0, fmt.Errorf("bad duration %q", s)
		}
		return time.Duration(n * float64(24*time.Hour)), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("bad duration %q (use e.g. 15s, 5m, 168h, 7d)", s)
	}
	return d, nil
}

// Size is a byte count written as 65536, "64KiB", "1MiB", "1GB".
type Size int64

// UnmarshalYAML parses a size.
func (s *Size) UnmarshalYAML(n *yaml.Node) error {
	v, err := ParseSize(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	*s = Size(v)
	return nil
}

// ParseSize reads a byte count with an optional unit (B, KB, KiB, MB, MiB, GB, GiB, TB, TiB).
func ParseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	units := []struct {
		suffix string
		mult   int64
	}{
		{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40},
		{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12}, {"B", 1},
	}
	mult := int64(1)
	for _, u := range units {
		if num, ok := strings.CutSuffix(t, u.suffix); ok {
			t, mult = strings.TrimSpace(num), u.mult
			break
		}
	}
	f, err := strconv.ParseFloat(t, 64)
	if err != nil || f < 0 {
		return 0, fmt.Errorf("bad size %q (use e.g. 64KiB, 1MiB, 1GiB)", s)
	}
	return int64(f * float64(mult)), nil
}

// Rate is an amount per second written as "1000/s", "60/m" or "5000/h".
type Rate struct {
	PerSecond float64
}

// UnmarshalYAML parses a rate.
func (r *Rate) UnmarshalYAML(n *yaml.Node) error {
	v, err := ParseRate(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	r.PerSecond = v
	return nil
}

// ParseRate reads "N/s", "N/m" or "N/h" as a per-second rate.
func ParseRate(s string) (float64, error) {
	num, unit, ok := strings.Cut(strings.TrimSpace(s), "/")
	if !ok {
		return 0, fmt.Errorf("bad rate %q (use e.g. 1000/s)", s)
	}
	n, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("bad rate %q (use e.g. 1000/s)", s)
	}
	switch strings.TrimSpace(unit) {
	case "s":
		return n, nil
	case "m":
		return n / 60, nil
	case "h":
		return n / 3600, nil
	}
	return 0, fmt.Errorf("bad rate %q: unit must be s, m or h", s)
}
