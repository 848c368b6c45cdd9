// Package httpapi is livedash's HTTP surface: the publish, stream (SSE and
// WebSocket), read and health endpoints of the contract, token checks on
// each, and the mapping of domain errors to HTTP statuses. routes.go lists
// every route on one screen.
package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/livedash/livedash"
	"github.com/livedash/livedash/auth"
	"github.com/livedash/livedash/config"
	"github.com/livedash/livedash/dashboard"
	"github.com/livedash/livedash/hub"
	"github.com/livedash/livedash/ingest"
	"github.com/livedash/livedash/otlp"
	"github.com/livedash/livedash/pubsub"
	"github.com/livedash/livedash/push"
)

// Broker stores published messages and answers with their ids: the local
// store on a single node, the cluster backplane in cluster mode. The server
// puts an ingest.Gate in front of it.
type Broker = ingest.Broker

// Store is what the HTTP layer needs from the message store.
type Store interface {
	pubsub.Log
	Broker
	ingest.Topics
	Topics(patterns []string) []livedash.TopicInfo
	// HistoryEnvelopes calls fn with each envelope of q as it is read (env
	// valid only during the call) and says whether q.MaxBytes cut it.
	HistoryEnvelopes(ctx context.Context, q livedash.HistoryQuery, fn func(env []byte) error) (truncated bool, err error)
	Buckets(ctx context.Context, patterns []string, from, to, step int64, field string) ([]livedash.Series, error)
	Ping(ctx context.Context) error
}

// Options are the dependencies of a Server.
type Options struct {
	Store Store
	// Broker takes publishes; nil means the Store itself (single node).
	Broker Broker
	Hub    *hub.Hub
	Signer *auth.Signer
	Config config.Config
	Logger *slog.Logger
	Now    func() time.Time
	// Metrics serves GET /metrics; nil leaves it out.
	Metrics http.Handler
	// UI serves the web app (/, /d/{name}, /embed/…); nil serves 404.
	UI http.Handler
	// Dashboards stores dashboards written through the API; FileDashboards
	// are those defined in files (or the shipped defaults). A stored
	// dashboard overrides a file one of the same name.
	Dashboards     DashboardStore
	FileDashboards []dashboard.Dashboard
	// Events is told of connections, refusals and slow consumers; nil
	// ignores them.
	Events Events
	// Notifier sends test notifications (POST /api/v1/notify/test); nil
	// when no receiver is configured.
	Notifier Notifier
}

// Events receives the server's own events (package sysevent reports them
// on sys. topics). Methods must not block.
type Events interface {
	StreamOpened(transport string)
	StreamClosed(transport string)
	Refused(sub string, status int, msg string)
	// SlowConsumer reports a client cut off for falling behind and the
	// queued messages discarded with it.
	SlowConsumer(transport, sub string, dropped int)
	Delivered(transport string, n int)
	Published(n int, took time.Duration)
}

// NoEvents ignores every event; embed it to implement only some.
type NoEvents struct{}

func (NoEvents) StreamOpened(string)              {}
func (NoEvents) StreamClosed(string)              {}
func (NoEvents) Refused(string, int, string)      {}
func (NoEvents) SlowConsumer(string, string, int) {}
func (NoEvents) Delivered(string, int)            {}
func (NoEvents) Published(int, time.Duration)     {}

// EventsList sends every event to each of its members.
type EventsList []Events

func (l EventsList) StreamOpened(t string) {
	for _, e := range l {
		e.StreamOpened(t)
	}
}

func (l EventsList) StreamClosed(t string) {
	for _, e := range l {
		e.StreamClosed(t)
	}
}

func (l EventsList) Refused(sub string, status int, msg string) {
	for _, e := range l {
		e.Refused(sub, status, msg)
	}
}

func (l EventsList) SlowConsumer(t, sub string, dropped int) {
	for _, e := range l {
		e.SlowConsumer(t, sub, dropped)
	}
}

func (l EventsList) Delivered(t string, n int) {
	for _, e := range l {
		e.Delivered(t, n)
	}
}

func (l EventsList) Published(n int, took time.Duration) {
	for _, e := range l {
		e.Published(n, took)
	}
}

// Server is the HTTP handler of livedash.
type Server struct {
	store    Store
	broker   Broker
	hub      *hub.Hub
	signer   *auth.Signer
	cfg      config.Config
	log      *slog.Logger
	now      func() time.Time
	ui       http.Handler
	metrics  http.Handler
	handler  http.Handler
	boards   DashboardStore
	files    map[string]dashboard.Dashboard
	events   Events
	limits   *limiter
	notifier Notifier
	otlp     *otlp.Receiver

	// streams is cancelled by CloseStreams to end every open stream.
	streams     context.Context
	stopStreams context.CancelFunc
	open        sync.WaitGroup

	poolMu sync.Mutex
	pool   *push.Pool // the delivery engine of every stream; started on first use
	wsWire *wsWire    // WebSocket wire forms of frames
}

// New returns a Server.
func New(opts Options) *Server {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.UI == nil {
		opts.UI = http.NotFoundHandler()
	}
	s := &Server{store: opts.Store, hub: opts.Hub, signer: opts.Signer, cfg: opts.Config, log: opts.Logger, now: opts.Now, ui: opts.UI}
	if opts.Events == nil {
		opts.Events = NoEvents{}
	}
	s.events = opts.Events
	s.notifier = opts.Notifier
	lim := opts.Config.Limits
	s.limits = newLimiter(lim.PublishRate.PerSecond, lim.ConnectionsPerToken, lim.AnonymousConnectionsPerAddress)
	s.metrics = opts.Metrics
	broker := opts.Broker
	if broker == nil {
		broker = opts.Store
	}
	// Every publish path (JSON, shorthand, line protocol, WebSocket) stores
	// through the same limits.
	s.broker = ingest.New(broker, opts.Store, IngestLimits(opts.Config.Limits))
	o := opts.Config.OTLP
	s.otlp = otlp.New(otlp.Options{Prefix: o.Prefix, ResourceAttributes: o.ResourceAttributes,
		MaxAttributes: o.MaxAttributes, MaxSeriesPerMetric: o.MaxSeriesPerMetric, MaxFuture: o.MaxFuture.D()})
	s.boards = opts.Dashboards
	s.files = map[string]dashboard.Dashboard{}
	for _, d := range opts.FileDashboards {
		s.files[d.Name] = d
	}
	s.streams, s.stopStreams = context.WithCancel(context.Background())
	s.wsWire = newWSWire()
	s.handler = s.routes()
	return s
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// CloseStreams ends every open SSE and WebSocket stream, so their clients
// reconnect (elsewhere, or to this server once it is back), and waits up to
// ctx for them to finish.
func (s *Server) CloseStreams(ctx context.Context) {
	s.stopStreams()
	s.closePool()
	done := make(chan struct{})
	go func() { s.open.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
	}
}

// access verifies the request's token, if any. A token that is present but
// invalid is an error even where no token is needed.
func (s *Server) access(r *http.Request) (auth.Access, error) {
	a := auth.Access{Public: s.cfg.Public}
	tok := auth.FromRequest(r)
	if tok == "" {
		return a, nil
	}
	c, err := s.signer.Verify(tok)
	if err != nil {
		return a, err
	}
	a.Claims = c
	return a, nil
}

// subjectOf names the caller of a refused request for the sys events: the
// token's subject when it verifies, "" otherwise. Never the token itself.
func (s *Server) subjectOf(r *http.Request) string {
	tok := auth.FromRequest(r)
	if tok == "" {
		return ""
	}
	c, err := s.signer.Verify(tok)
	if err != nil {
		return "(invalid token)"
	}
	return c.Subject
}

// statusOf maps an error code to its HTTP status, in one place (a table:
// the cases look alike by nature).
func statusOf(code string) int {
	switch code {
	case livedash.EINVALID:
		return http.StatusBadRequest
	case livedash.EUNAUTHORIZED:
		return http.StatusUnauthorized
	case livedash.EFORBIDDEN:
		return http.StatusForbidden
	case livedash.ENOTFOUND:
		return http.StatusNotFound
	case livedash.ECONFLICT:
		return http.StatusConflict
	case livedash.ETOOLARGE:
		return http.StatusRequestEntityTooLarge
	case livedash.EUNSUPPORTED:
		return http.StatusUnsupportedMediaType
	case livedash.ERATELIMITED:
		return http.StatusTooManyRequests
	case livedash.EUNAVAILABLE:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

type errorBody struct {
	Error string `json:"error"`
	Index *int   `json:"index,omitempty"`
}

// writeError answers with the error's status and a JSON message; internal
// errors are logged and shown only as "internal error".
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	s.writeErrorAs(w, r, err, s.writeAPIError)
}

// failure is an error as answered: its status, code, user-facing message
// and the batch item it names (-1 for none).
type failure struct {
	status  int
	code    string
	message string
	index   int
}

// errorWriter writes the body of a failed request in one wire format: the
// API's own JSON, InfluxDB's or OTLP's.
type errorWriter func(w http.ResponseWriter, r *http.Request, f failure)

// writeErrorAs maps err to its status (in one place for every format),
// logs internal errors, reports refusals, and lets write answer.
func (s *Server) writeErrorAs(w http.ResponseWriter, r *http.Request, err error, write errorWriter) {
	code := livedash.ErrorCode(err)
	if errors.Is(err, context.Canceled) {
		code = livedash.EUNAVAILABLE
	}
	f := failure{code: code, message: livedash.ErrorMessage(err), index: -1}
	var e *livedash.Error
	if errors.As(err, &e) && e.Index >= 0 {
		f.index = e.Index
	}
	if code == livedash.EINTERNAL {
		s.logFor(r).Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	if code == livedash.EUNAUTHORIZED {
		w.Header().Set("WWW-Authenticate", `Bearer realm="livedash"`)
	}
	f.status = statusOf(code)
	if f.status >= 400 && f.status < 500 && f.status != http.StatusNotFound {
		s.events.Refused(s.subjectOf(r), f.status, f.message)
	}
	write(w, r, f)
}

// writeAPIError writes {"error":…[,"index":i]}.
func (s *Server) writeAPIError(w http.ResponseWriter, r *http.Request, f failure) {
	body := errorBody{Error: f.message}
	if f.index >= 0 {
		body.Index = &f.index
	}
	s.writeJSON(w, r, f.status, body)
}

// writeJSON answers with v as JSON. A value that does not encode (a bug:
// what is served is validated to be JSON) is logged with its cause and
// answered as an internal error.
func (s *Server) writeJSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		s.logFor(r).Error("encode response", "method", r.Method, "path", r.URL.Path, "status", status, "err", err)
		status, b = http.StatusInternalServerError, []byte(`{"error":"internal error"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

// cors adds CORS headers for allowed origins and answers preflights. A
// listed origin may send credentials (the cookie); cors_origins ["*"]
// lets any other origin in without them.
func (s *Server) cors(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		h := w.Header()
		switch {
		case origin == "":
		case s.originListed(origin):
			h.Set("Access-Control-Allow-Origin", origin)
			h.Set("Access-Control-Allow-Credentials", "true")
		case slices.Contains(s.cfg.CORSOrigins, "*"):
			h.Set("Access-Control-Allow-Origin", "*")
		default:
			origin = ""
		}
		if origin != "" {
			h.Add("Vary", "Origin")
			// Clients on other origins back off by it (the JavaScript client does).
			h.Set("Access-Control-Expose-Headers", "Retry-After")
			if r.Method == http.MethodOptions {
				h.Set("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
				h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, Last-Event-ID")
				h.Set("Access-Control-Max-Age", "600")
				w.WriteHeader(http.StatusNoContent)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// originListed reports whether origin is named in cors_origins ("*" names
// none).
func (s *Server) originListed(origin string) bool {
	return slices.ContainsFunc(s.cfg.CORSOrigins, func(o string) bool { return strings.EqualFold(o, origin) })
}

// patternsParam reads and validates the repeated topic query parameter.
func patternsParam(r *http.Request) ([]string, error) {
	ps := r.URL.Query()["topic"]
	if len(ps) == 0 {
		return nil, livedash.Errorf(livedash.EINVALID, "topic is required (a topic or pattern; repeat for more)")
	}
	return validPatterns(ps)
}

func validPatterns(ps []string) ([]string, error) {
	if len(ps) > 100 {
		return nil, livedash.Errorf(livedash.EINVALID, "at most 100 topic patterns per request")
	}
	out := make([]string, 0, len(ps))
	for _, p := range ps {
		if err := livedash.ValidatePattern(p); err != nil {
			return nil, err
		}
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out, nil
}
