// Package bench is livedash's load generator, run by `livedash bench`. It
// owns the scenarios (fanout, idle, publish, churn) that load a livedash
// server over its public HTTP API, the subscribers (SSE and WebSocket) that
// verify every message they count, the figures (latency percentiles, rates,
// lost, duplicated and out-of-order messages, the server's CPU and memory
// read from /proc) and their output as a table, one JSON object or an SVG
// chart.
//
// It is honest by construction: a message counts as delivered only if its
// JSON parses, its topic is the run's topic and its sequence number is new
// for that subscriber; whatever a subscriber misses is lost, also when it
// was disconnected (a resume by id is counted, not hidden). Every phase is
// bounded in time, and a cancelled context still yields what was measured.
//
// It loads only loopback servers (localhost, 127.0.0.0/8, ::1) unless
// Options.AllowRemote is set, so a typo never loads someone else's server.
package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Scenarios lists the scenario names Run accepts.
var Scenarios = []string{"fanout", "idle", "publish", "churn"}

// Options select a scenario and its load. Zero values take the defaults
// documented on each field.
type Options struct {
	URL string // server base URL, e.g. http://127.0.0.1:8080
	// SubURLs, when set, are the servers subscribers read from, in turn
	// (the nodes of a cluster); publishing goes to URL.
	SubURLs     []string
	Token       string // sent as a Bearer token; an admin token works for every scenario
	AllowRemote bool   // permit a server that is not on loopback

	Scenario  string // fanout, idle, publish or churn
	Subs      int    // subscribers or streams (fanout 100, idle 1000, churn 10)
	Transport string // sse (default) or ws, for fanout, idle and churn
	// GoroutineReaders reads each SSE stream of fanout and idle in a
	// goroutine of its own through net/http, instead of the epoll reader
	// (Linux) that costs less CPU per delivery.
	GoroutineReaders bool
	Topic            string        // default bench.<scenario>.<random>, so runs never see each other's history
	Messages         int           // fanout: messages to publish (default 200)
	Rate             float64       // fanout and churn: messages/s from the one publisher (fanout 20, churn 10)
	Inflight         int           // fanout and churn: publish requests under way at once (default 8)
	Drain            time.Duration // fanout: wait for stragglers after the last publish (default 5s)
	Hold             time.Duration // idle: how long the streams are held open (default 10s)
	Conc             int           // publish: concurrent publishers (default 8)
	Batch            int           // publish: messages per request, 1 = a single message (default 1)
	Duration         time.Duration // publish and churn: run time (default 10s)

	// PID is the server's process id on this machine; when set, its CPU
	// time and memory are read from /proc during the run.
	PID int
	// ConnectTimeout bounds the phase that opens the subscribers
	// (default 60s); those not open by then count as connect errors.
	ConnectTimeout time.Duration
	// ConnectConc is how many connections are opened at once (default 200).
	ConnectConc int

	// Progress receives a progress display (nil: none). Terminal says it is
	// a terminal: one line redrawn ~4 times a second instead of plain
	// periodic lines.
	Progress io.Writer
	Terminal bool
}

func (o *Options) defaults() {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	defD := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	switch o.Scenario {
	case "idle":
		def(&o.Subs, 1000)
	case "churn":
		def(&o.Subs, 10)
		def(&o.Inflight, 8)
		if o.Rate <= 0 {
			o.Rate = 10
		}
	default:
		def(&o.Subs, 100)
		def(&o.Inflight, 8)
		if o.Rate <= 0 {
			o.Rate = 20
		}
	}
	if o.Transport == "" {
		o.Transport = "sse"
	}
	def(&o.Messages, 200)
	def(&o.Conc, 8)
	def(&o.Batch, 1)
	def(&o.ConnectConc, 200)
	defD(&o.Drain, 5*time.Second)
	defD(&o.Hold, 10*time.Second)
	defD(&o.Duration, 10*time.Second)
	defD(&o.ConnectTimeout, 60*time.Second)
	if o.Topic == "" {
		o.Topic = "bench." + o.Scenario + "." + randomSuffix()
	}
	o.URL = strings.TrimRight(o.URL, "/")
	for i, u := range o.SubURLs {
		o.SubURLs[i] = strings.TrimRight(u, "/")
	}
}

func (o *Options) check() error {
	if !slices.Contains(Scenarios, o.Scenario) {
		return fmt.Errorf("unknown scenario %q (use %s)", o.Scenario, strings.Join(Scenarios, ", "))
	}
	if o.Transport != "sse" && o.Transport != "ws" {
		return fmt.Errorf("transport must be sse or ws, not %q", o.Transport)
	}
	if o.Batch > 1000 {
		return fmt.Errorf("batch must be at most 1000 (the server's limit per request)")
	}
	for _, u := range o.SubURLs {
		if err := CheckTarget(u, o.AllowRemote); err != nil {
			return err
		}
	}
	return CheckTarget(o.URL, o.AllowRemote)
}

// CheckTarget refuses a URL whose host is not loopback unless allowRemote.
func CheckTarget(rawURL string, allowRemote bool) error {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("bad server URL %q (want http://127.0.0.1:8080)", rawURL)
	}
	if allowRemote {
		return nil
	}
	host := u.Hostname()
	if strings.EqualFold(host, "localhost") {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("refusing to load %s: not a loopback address (pass --allow-remote if this server is yours)", host)
}

// Run runs the scenario and returns its figures. When ctx ends early the
// run stops (every phase is bounded anyway) and the result holds what was
// measured, with Interrupted set; the error is only for a run that could
// not start.
func Run(ctx context.Context, o Options) (*Result, error) {
	o.defaults()
	if err := o.check(); err != nil {
		return nil, err
	}
	r := newRunner(o)
	defer r.close()
	res := r.newResult()
	var err error
	switch o.Scenario {
	case "fanout":
		err = r.fanout(ctx, res)
	case "idle":
		err = r.idle(ctx, res)
	case "publish":
		err = r.publish(ctx, res)
	case "churn":
		err = r.churn(ctx, res)
	}
	res.Elapsed = Seconds(time.Since(res.Started))
	res.Interrupted = ctx.Err() != nil
	res.Errors = r.errs.list()
	return res, err
}

// runner holds what the scenarios of one run share.
type runner struct {
	o    Options
	subs *http.Client // one connection per stream
	pubs *http.Client // publishers: keep-alive connections
	errs errorLog
	prog *progress
	proc *procWatch

	reactor   *reactor     // reads the SSE streams of fanout and idle; nil: a goroutine each
	reader    string       // "polled" or "goroutines", for the result
	connected atomic.Int64 // subscribers open
	phaseName atomic.Pointer[string]
}

func (r *runner) setPhase(p string) { r.phaseName.Store(&p) }

func (r *runner) phase() string {
	if p := r.phaseName.Load(); p != nil {
		return *p
	}
	return ""
}

func newRunner(o Options) *runner {
	r := &runner{o: o}
	r.subs = &http.Client{Transport: newTransport(o.ConnectConc)}
	r.pubs = &http.Client{Transport: newTransport(max(o.Conc, 4)), Timeout: 30 * time.Second}
	r.prog = newProgress(o.Progress, o.Terminal)
	r.proc = newProcWatch(o.PID)
	r.reader = "goroutines"
	if o.Transport == "sse" && (o.Scenario == "fanout" || o.Scenario == "idle") && reactorSupported && !o.GoroutineReaders {
		// On failure the streams are read by goroutines, as the result says.
		if re, err := newReactor(runtime.GOMAXPROCS(0)); err == nil {
			r.reactor, r.reader = re, "polled"
		}
	}
	return r
}

func (r *runner) close() {
	if r.reactor != nil {
		r.reactor.close()
	}
	r.prog.stop()
	r.proc.stop()
	r.subs.CloseIdleConnections()
	r.pubs.CloseIdleConnections()
}

func (r *runner) newResult() *Result {
	o := r.o
	res := &Result{Scenario: o.Scenario, URL: o.URL, Topic: o.Topic, Started: time.Now()}
	switch o.Scenario {
	case "fanout":
		res.Transport, res.Subs, res.Messages, res.Rate = o.Transport, o.Subs, o.Messages, o.Rate
		res.Reader = r.reader
	case "idle":
		res.Transport, res.Subs, res.Hold = o.Transport, o.Subs, Seconds(o.Hold)
		res.Reader = r.reader
	case "publish":
		res.Conc, res.Batch, res.Duration = o.Conc, o.Batch, Seconds(o.Duration)
	case "churn":
		res.Transport, res.Subs, res.Rate, res.Duration = o.Transport, o.Subs, o.Rate, Seconds(o.Duration)
	}
	if o.PID > 0 {
		res.Server = &ProcStats{PID: o.PID}
	}
	return res
}

// newTransport is a plain HTTP/1.1 transport for loopback load: no proxy,
// no compression, small buffers, and as many connections as asked for.
func newTransport(idle int) *http.Transport {
	return &http.Transport{
		Proxy:                 nil,
		DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:          idle,
		MaxIdleConnsPerHost:   idle,
		IdleConnTimeout:       30 * time.Second,
		ResponseHeaderTimeout: 30 * time.Second,
		DisableCompression:    true,
		WriteBufferSize:       2048,
		ReadBufferSize:        4096,
	}
}

func (r *runner) request(ctx context.Context, method, path string, body io.Reader) (*http.Request, error) {
	return r.requestAt(ctx, r.o.URL, method, path, body)
}

// requestAt builds a request to the server at base.
func (r *runner) requestAt(ctx context.Context, base, method, path string, body io.Reader) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, method, base+path, body)
	if err != nil {
		return nil, err
	}
	if r.o.Token != "" {
		req.Header.Set("Authorization", "Bearer "+r.o.Token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return req, nil
}

// sleep waits d or until ctx ends; it reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

func randomSuffix() string {
	var b [4]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// errorLog counts errors by message, keeping the first few kinds.
type errorLog struct {
	mu    sync.Mutex
	count map[string]int
	order []string
}

const maxErrorKinds = 10

func (l *errorLog) add(where string, err error) {
	msg := where + ": " + err.Error()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.count == nil {
		l.count = map[string]int{}
	}
	if _, ok := l.count[msg]; !ok {
		if len(l.order) >= maxErrorKinds {
			msg = "other errors"
		}
		if _, ok := l.count[msg]; !ok {
			l.order = append(l.order, msg)
		}
	}
	l.count[msg]++
}

func (l *errorLog) list() []ErrorCount {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []ErrorCount
	for _, m := range l.order {
		out = append(out, ErrorCount{Error: m, Count: l.count[m]})
	}
	return out
}
