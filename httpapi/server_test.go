package httpapi_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"go.uber.org/goleak"

	"github.com/livedash/livedash"
	"github.com/livedash/livedash/auth"
	"github.com/livedash/livedash/client"
	"github.com/livedash/livedash/config"
	"github.com/livedash/livedash/dashboard"
	"github.com/livedash/livedash/httpapi"
	"github.com/livedash/livedash/hub"
	"github.com/livedash/livedash/sqlite"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

const testSecret = "test-secret-0123456789"

// env is a real server over loopback HTTP with a real SQLite file.
type env struct {
	t      testing.TB
	url    string
	store  *sqlite.Store
	hub    *hub.Hub
	api    *httpapi.Server
	signer *auth.Signer
	admin  string
	srv    *httptest.Server
}

// envConfig is what a test may change before the server starts.
type envConfig struct {
	cfg     config.Config
	hub     hub.Options
	store   sqlite.Options
	events  func(*sqlite.Store) httpapi.Events
	metrics http.Handler
	logger  *slog.Logger
	// wrapStore, when set, wraps the store the server reads (not the
	// dashboards), e.g. to inject a read failure.
	wrapStore func(httpapi.Store) httpapi.Store
	files     []dashboard.Dashboard // httpapi.Options.FileDashboards
	// notifier, when set, is given the store and returns the notifier.
	notifier func(*sqlite.Store) httpapi.Notifier
	tls      bool // serve HTTPS (streams cannot be pooled sockets then)
}

type envOption func(*envConfig)

func withHeartbeat(d time.Duration) envOption {
	return func(c *envConfig) { c.cfg.Heartbeat = config.Duration(d) }
}

func withPublic(patterns ...string) envOption {
	return func(c *envConfig) { c.cfg.Public = patterns }
}

func withTLS() envOption {
	return func(c *envConfig) { c.tls = true }
}

func withMaxPending(n int) envOption {
	return func(c *envConfig) { c.hub.MaxPending = n }
}

// newEnvWithRetention runs the store an hour ahead with a one-minute max
// age, so a retention pass removes everything but each topic's last message.
func newEnvWithRetention(t *testing.T) *env {
	return newEnv(t, func(c *envConfig) {
		c.store.Now = func() time.Time { return time.Now().Add(time.Hour) }
		c.store.Retention.MaxAge = time.Minute
	})
}

func newEnv(t testing.TB, opts ...envOption) *env {
	t.Helper()
	ec := envConfig{cfg: config.Default()}
	// make test runs this package a second time with the other SSE engine.
	ec.cfg.SSEGoroutinePerStream = os.Getenv("LIVEDASH_TEST_SSE_GOROUTINES") == "1"
	for _, o := range opts {
		o(&ec)
	}
	cfg := ec.cfg
	h := hub.New(ec.hub)
	ec.store.OnCommit = h.Publish
	store, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "test.db"), ec.store)
	if err != nil {
		t.Fatal(err)
	}
	signer := auth.NewSigner([]byte(testSecret), nil)
	var events httpapi.Events
	if ec.events != nil {
		events = ec.events(store)
	}
	var served httpapi.Store = store
	if ec.wrapStore != nil {
		served = ec.wrapStore(store)
	}
	var notifier httpapi.Notifier
	if ec.notifier != nil {
		notifier = ec.notifier(store)
	}
	api := httpapi.New(httpapi.Options{Notifier: notifier, Store: served, Hub: h, Signer: signer, Config: cfg, Dashboards: store, Events: events, Metrics: ec.metrics, Logger: ec.logger, FileDashboards: ec.files})
	srv := httptest.NewUnstartedServer(api)
	if ec.tls {
		srv.StartTLS()
	} else {
		srv.Start()
	}
	e := &env{t: t, url: srv.URL, store: store, hub: h, api: api, signer: signer, srv: srv}
	e.admin = e.token(auth.Claims{Admin: true}, time.Hour)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		api.CloseStreams(ctx)
		srv.CloseClientConnections()
		srv.Close()
		store.Close()
	})
	return e
}

func (e *env) token(c auth.Claims, ttl time.Duration) string {
	e.t.Helper()
	if c.Subject == "" {
		c.Subject = "tester"
	}
	tok, err := e.signer.Mint(c, ttl)
	if err != nil {
		e.t.Fatal(err)
	}
	return tok
}

// grantToken mints a non-admin token with grants given as pattern, right
// pairs ("sub", "pub" or "both").
func (e *env) grantToken(kv ...string) string {
	c := claims("user")
	c.Channels = grants(kv...)
	return e.token(c, time.Hour)
}

func grants(kv ...string) map[string]auth.Grant {
	m := map[string]auth.Grant{}
	for i := 0; i < len(kv); i += 2 {
		g := m[kv[i]]
		switch kv[i+1] {
		case "sub":
			g.Subscribe = true
		case "pub":
			g.Publish = true
		case "both":
			g.Subscribe, g.Publish = true, true
		}
		m[kv[i]] = g
	}
	return m
}

func (e *env) client(token string) *client.Client {
	return &client.Client{BaseURL: e.url, Token: token, HTTP: e.srv.Client()}
}

// do sends a request and returns status and body.
func (e *env) do(method, path, token, body string, headers ...string) (int, string) {
	e.t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, e.url+path, r)
	if err != nil {
		e.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// publish publishes n point messages on topic and returns their ids.
func (e *env) publish(topic string, n int) []string {
	e.t.Helper()
	var ids []string
	for len(ids) < n {
		k := min(n-len(ids), 1000)
		msgs := make([]client.Message, k)
		for i := range msgs {
			msgs[i] = client.Message{Topic: topic, Data: len(ids) + i}
		}
		got, err := e.client(e.admin).Publish(context.Background(), msgs)
		if err != nil {
			e.t.Fatal(err)
		}
		ids = append(ids, got...)
	}
	return ids
}

// sseConn is a raw SSE reading connection for tests.
type sseConn struct {
	resp   *http.Response
	sc     *bufio.Scanner
	cancel context.CancelFunc
}

func (e *env) openSSE(query string, headers ...string) *sseConn {
	e.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, e.url+"/api/v1/stream?"+query, nil)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		e.t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		cancel()
		e.t.Fatalf("stream %s: %d %s", query, resp.StatusCode, b)
	}
	c := &sseConn{resp: resp, sc: bufio.NewScanner(resp.Body), cancel: cancel}
	c.sc.Buffer(make([]byte, 64<<10), 1<<20)
	e.t.Cleanup(c.close)
	return c
}

// rawStream sends a stream request on a plain TCP connection (closed at
// the end of the test) and returns it unread.
func (e *env) rawStream(query string) net.Conn {
	e.t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(e.url, "http://"))
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { conn.Close() })
	fmt.Fprintf(conn, "GET /api/v1/stream?%s HTTP/1.1\r\nHost: x\r\n\r\n", query)
	return conn
}

func (c *sseConn) close() { c.cancel(); c.resp.Body.Close() }

type sseEvent struct {
	id, event, data string
}

// next reads the next event (skipping comments and the retry line), or
// fails after timeout.
func (c *sseConn) next(t *testing.T, timeout time.Duration) sseEvent {
	t.Helper()
	ch := make(chan sseEvent, 1)
	errc := make(chan error, 1)
	go func() {
		var ev sseEvent
		for c.sc.Scan() {
			line := c.sc.Text()
			switch {
			case line == "":
				if ev.data != "" {
					ch <- ev
					return
				}
				ev = sseEvent{}
			case strings.HasPrefix(line, ":"), strings.HasPrefix(line, "retry:"):
			case strings.HasPrefix(line, "id: "):
				ev.id = line[4:]
			case strings.HasPrefix(line, "event: "):
				ev.event = line[7:]
			case strings.HasPrefix(line, "data: "):
				ev.data = line[6:]
			}
		}
		errc <- fmt.Errorf("stream ended: %v", c.sc.Err())
	}()
	select {
	case ev := <-ch:
		return ev
	case err := <-errc:
		t.Fatal(err)
	case <-time.After(timeout):
		c.close()
		t.Fatalf("no event within %v", timeout)
	}
	return sseEvent{}
}

// collect reads n message events and returns their ids.
func (c *sseConn) collect(t *testing.T, n int) []string {
	t.Helper()
	var ids []string
	for len(ids) < n {
		ev := c.next(t, 5*time.Second)
		if ev.event == "reset" {
			t.Fatalf("unexpected reset: %s", ev.data)
		}
		var env struct{ ID string }
		if err := json.Unmarshal([]byte(ev.data), &env); err != nil || env.ID != ev.id {
			t.Fatalf("bad event %+v: %v", ev, err)
		}
		ids = append(ids, ev.id)
	}
	return ids
}

func claims(sub string) auth.Claims {
	return auth.Claims{RegisteredClaims: jwt.RegisteredClaims{Subject: sub}}
}

func seqOf(t *testing.T, id string) uint64 {
	t.Helper()
	p, err := livedash.ParseID(id)
	if err != nil {
		t.Fatal(err)
	}
	return p.Seq
}
