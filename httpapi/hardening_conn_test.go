package httpapi_test

// Connection hardening: timeouts, the connection cap, the token checked
// before the body is read, the cookie's and CORS's reach, per-token and
// per-address stream limits, and the API's response headers. Every test
// runs over loopback through httpapi.NewHTTPServer and httpapi.LimitListener,
// as livedash serve does.

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/livedash/livedash/auth"
	"github.com/livedash/livedash/config"
	"github.com/livedash/livedash/httpapi"
	"github.com/livedash/livedash/push"
)

// newConnEnv is newEnv served the way livedash serve serves it: the
// http.Server of httpapi.NewHTTPServer behind httpapi.LimitListener, with
// the configured limits. e.url points at that server.
func newConnEnv(t *testing.T, opts ...envOption) *env {
	t.Helper()
	var cfg config.Config
	e := newEnv(t, append(opts, func(c *envConfig) { cfg = c.cfg })...)
	srv := httptest.NewUnstartedServer(e.api)
	srv.Config = httpapi.NewHTTPServer(e.api, cfg.Limits, nil)
	srv.Listener = httpapi.LimitListener(srv.Listener, cfg.Limits.MaxConnections, nil)
	srv.Start()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		e.api.CloseStreams(ctx)
		srv.CloseClientConnections()
		srv.Close()
	})
	h := *e
	h.url, h.srv = srv.URL, srv
	return &h
}

func connLimits(set func(*config.Limits)) envOption {
	return func(c *envConfig) { set(&c.cfg.Limits) }
}

// rawConn is a plain TCP connection to the server, for requests whose
// bytes the test controls.
type rawConn struct {
	net.Conn
	br *bufio.Reader
}

func dialRaw(t *testing.T, url string) *rawConn {
	t.Helper()
	c, err := net.Dial("tcp", strings.TrimPrefix(url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &rawConn{Conn: c, br: bufio.NewReader(c)}
}

// response reads one response (body included) within timeout.
func (c *rawConn) response(timeout time.Duration) (*http.Response, string, error) {
	c.SetReadDeadline(time.Now().Add(timeout))
	defer c.SetReadDeadline(time.Time{})
	resp, err := http.ReadResponse(c.br, nil)
	if err != nil {
		return nil, "", err
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(b), err
}

// get sends GET path on the connection and fails unless it answers 200.
func (c *rawConn) get(t *testing.T, path string) {
	t.Helper()
	fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", path)
	resp, body, err := c.response(5 * time.Second)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET %s: %v %v %s", path, resp, err, body)
	}
}

// closedByServer waits up to timeout for the server to close the
// connection and reports whether it did.
func (c *rawConn) closedByServer(timeout time.Duration) bool {
	c.SetReadDeadline(time.Now().Add(timeout))
	_, err := c.br.ReadByte()
	return errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) || isReset(err)
}

func isReset(err error) bool {
	var ne net.Error
	return err != nil && !(errors.As(err, &ne) && ne.Timeout())
}

func TestConnIdleKeepAliveIsClosed(t *testing.T) {
	e := newConnEnv(t, connLimits(func(l *config.Limits) { l.IdleTimeout = config.Duration(200 * time.Millisecond) }))
	c := dialRaw(t, e.url)
	c.get(t, "/healthz")
	start := time.Now()
	if !c.closedByServer(5 * time.Second) {
		t.Fatalf("an idle keep-alive connection is still open after %v (idle_timeout 200ms)", time.Since(start).Round(time.Millisecond))
	}
}

func TestConnSlowBodyTimesOut(t *testing.T) {
	e := newConnEnv(t, connLimits(func(l *config.Limits) { l.BodyTimeout = config.Duration(300 * time.Millisecond) }))
	tok := e.grantToken("slow.>", "pub")
	c := dialRaw(t, e.url)
	// The body trickles: a few bytes, then nothing.
	fmt.Fprintf(c, "POST /api/v1/publish HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"to", tok)
	resp, body, err := c.response(5 * time.Second)
	if err != nil {
		t.Fatalf("no answer to a body that stalls (body_timeout 300ms): %v", err)
	}
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, `"error"`) || !strings.Contains(body, "within") {
		t.Fatalf("stalled body: %d %s", resp.StatusCode, body)
	}
	if !c.closedByServer(5 * time.Second) {
		t.Fatal("the connection of a stalled body stays open")
	}
	if n := len(e.store.Topics([]string{">"})); n != 0 {
		t.Fatalf("%d topics stored", n)
	}
}

// A publish that cannot succeed whatever its body is answered at once,
// without waiting for the body, and the connection is closed.
func TestPublishRefusedBeforeBody(t *testing.T) {
	e := newConnEnv(t)
	subOnly := e.grantToken("p.>", "sub")
	for _, path := range []string{"/api/v1/publish", "/api/v1/topics/p.a", "/api/v1/write"} {
		for _, tc := range []struct {
			name, header string
			status       int
		}{
			{"no token", "", http.StatusUnauthorized},
			{"no publish right", "Authorization: Bearer " + subOnly + "\r\n", http.StatusForbidden},
			{"cookie only", "Cookie: livedash_token=" + e.admin + "\r\n", http.StatusUnauthorized},
		} {
			t.Run(path+" "+tc.name, func(t *testing.T) {
				c := dialRaw(t, e.url)
				fmt.Fprintf(c, "POST %s HTTP/1.1\r\nHost: x\r\n%sContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"to", path, tc.header)
				resp, body, err := c.response(3 * time.Second)
				if err != nil {
					t.Fatalf("no answer before the body is sent: %v", err)
				}
				if resp.StatusCode != tc.status || !strings.Contains(body, `"error"`) {
					t.Fatalf("got %d %s, want %d", resp.StatusCode, body, tc.status)
				}
				if !resp.Close {
					t.Fatal("the connection is kept open with the body unread")
				}
			})
		}
	}
	if n := len(e.store.Topics([]string{">"})); n != 0 {
		t.Fatalf("%d topics stored", n)
	}
}

// Streams outlive the idle and body timeouts on every transport: SSE
// served by its goroutine, SSE handed to the pool (hijacked), WebSocket
// (hijacked by coder/websocket).
func TestStreamsOutliveConnTimeouts(t *testing.T) {
	short := func(c *envConfig) {
		c.cfg.Limits.IdleTimeout = config.Duration(150 * time.Millisecond)
		c.cfg.Limits.BodyTimeout = config.Duration(150 * time.Millisecond)
	}
	// timeoutsPassed waits until the server has closed an idle keep-alive
	// connection opened after the stream: by then the timeouts have fired.
	timeoutsPassed := func(t *testing.T, e *env) {
		t.Helper()
		c := dialRaw(t, e.url)
		c.get(t, "/healthz")
		if !c.closedByServer(5 * time.Second) {
			t.Fatal("the control connection was not closed as idle")
		}
	}
	for _, pooled := range []bool{false, true} {
		name := map[bool]string{false: "sse-goroutine", true: "sse-pool"}[pooled]
		t.Run(name, func(t *testing.T) {
			if pooled && !push.Supported() {
				t.Skip("no SSE pool on this platform")
			}
			e := newConnEnv(t, withHeartbeat(time.Hour), short, func(c *envConfig) { c.cfg.SSEGoroutinePerStream = !pooled })
			s := e.openSSE("topic=long.a", "Authorization", "Bearer "+e.admin)
			if pooled {
				waitFor(t, func() bool { return e.api.StreamStats().Conns == 1 }, "the stream is pooled")
			}
			timeoutsPassed(t, e)
			want := e.publish("long.a", 1)
			if got := s.collect(t, 1); got[0] != want[0] {
				t.Fatalf("got %v, want %v", got, want)
			}
		})
	}
	t.Run("ws", func(t *testing.T) {
		e := newConnEnv(t, withHeartbeat(time.Hour), short)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		ws := dialWS(t, ctx, e.url, e.admin)
		defer ws.close()
		ws.send(t, `{"op":"subscribe","ref":1,"topics":["long.w"],"backlog":0}`)
		if m := ws.read(t); m["op"] != "ok" {
			t.Fatalf("subscribe: %v", m)
		}
		timeoutsPassed(t, e)
		want := e.publish("long.w", 1)
		if m := ws.read(t); m["op"] != "message" || m["id"] != want[0] {
			t.Fatalf("live message after the timeouts: %v", m)
		}
		ws.send(t, `{"op":"ping","ref":2}`) // the server still reads
		if m := ws.read(t); m["op"] != "pong" {
			t.Fatalf("ping after the timeouts: %v", m)
		}
	})
}

// Past max_connections a new connection is closed at once, unanswered;
// a closed connection (a hijacked stream's too) frees its place.
func TestConnCapRefusesNewConnections(t *testing.T) {
	e := newConnEnv(t, withHeartbeat(time.Hour), connLimits(func(l *config.Limits) { l.MaxConnections = 2 }))
	a := dialRaw(t, e.url)
	a.get(t, "/healthz")
	s := e.openSSE("topic=cap.a", "Authorization", "Bearer "+e.admin) // hijacked when pooled

	// served reports whether a new connection gets an answer; one that
	// does stays open, holding its place.
	served := func() bool {
		c := dialRaw(t, e.url)
		fmt.Fprintf(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
		_, _, err := c.response(5 * time.Second)
		if err != nil && !isReset(err) {
			t.Fatalf("a connection past the cap hangs: %v", err)
		}
		if err != nil {
			c.Close()
		}
		return err == nil
	}
	if served() {
		t.Fatal("a third connection was served with max_connections 2")
	}
	a.Close()
	waitFor(t, served, "a closed keep-alive connection frees its place")
	if served() {
		t.Fatal("the cap is not enforced again")
	}
	s.close()
	waitFor(t, served, "a closed stream frees its place")
}

func TestCookieAuthorisesReadsOnly(t *testing.T) {
	e := newConnEnv(t)
	e.publish("ck.a", 1)
	cookie := "livedash_token=" + e.admin
	if st, body := e.do("GET", "/api/v1/history?topic=ck.a", "", "", "Cookie", cookie); st != 200 {
		t.Fatalf("read with the cookie: %d %s", st, body)
	}
	for _, tc := range []struct{ method, path, body string }{
		{"POST", "/api/v1/publish", `{"topic":"ck.a","data":1}`},
		{"POST", "/api/v1/topics/ck.a", `1`},
		{"POST", "/api/v1/write", "ck.a value=1"},
		{"PUT", "/api/v1/dashboards/ck", `{"name":"ck","widgets":[]}`},
		{"DELETE", "/api/v1/dashboards/host", ""},
	} {
		st, body := e.do(tc.method, tc.path, "", tc.body, "Cookie", cookie)
		if st != http.StatusUnauthorized || !strings.Contains(body, `"error"`) {
			t.Errorf("%s %s with only the cookie: %d %s, want 401", tc.method, tc.path, st, body)
		}
	}
	if st, body := e.do("GET", "/api/v1/history?topic=ck.a", e.admin, ""); st != 200 || strings.Count(body, `"id"`) != 1 {
		t.Fatalf("history after the refused writes: %d %s", st, body)
	}
	// The header (or ?token=) still authorises a write that also carries the cookie.
	if st, body := e.do("POST", "/api/v1/publish?token="+e.admin, "", `{"topic":"ck.a","data":2}`, "Cookie", cookie); st != 200 {
		t.Fatalf("publish with ?token=: %d %s", st, body)
	}
}

func TestCORSWildcardHasNoCredentials(t *testing.T) {
	e := newConnEnv(t, withPublic("blog.>"), func(c *envConfig) { c.cfg.CORSOrigins = []string{"*"} })
	for _, method := range []string{"GET", "OPTIONS"} {
		req, _ := http.NewRequest(method, e.url+"/api/v1/history?topic=blog.a", nil)
		req.Header.Set("Origin", "https://evil.example")
		req.Header.Set("Access-Control-Request-Method", "POST")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got := resp.Header.Get("Access-Control-Allow-Origin"); got != "*" {
			t.Errorf("%s: Access-Control-Allow-Origin %q, want *", method, got)
		}
		if got := resp.Header.Get("Access-Control-Allow-Credentials"); got != "" {
			t.Errorf("%s: Access-Control-Allow-Credentials %q with cors_origins [*]", method, got)
		}
	}
	// A listed origin keeps credentials.
	e = newConnEnv(t, func(c *envConfig) { c.cfg.CORSOrigins = []string{"https://blog.example.com"} })
	req, _ := http.NewRequest("GET", e.url+"/healthz", nil)
	req.Header.Set("Origin", "https://blog.example.com")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Header.Get("Access-Control-Allow-Origin") != "https://blog.example.com" || resp.Header.Get("Access-Control-Allow-Credentials") != "true" {
		t.Fatalf("listed origin: %v", resp.Header)
	}
}

// A cross-origin WebSocket handshake may ride on the cookie only from a
// listed origin; cors_origins [*] lets any origin in with ?token= or none.
func TestWebSocketCookieNeedsListedOrigin(t *testing.T) {
	for _, tc := range []struct {
		name    string
		cors    []string
		origin  string // "" means the server's own
		cookie  bool
		wantErr bool
	}{
		{"wildcard, cookie, other origin", []string{"*"}, "http://evil.example", true, true},
		{"wildcard, ?token=, other origin", []string{"*"}, "http://evil.example", false, false},
		{"listed origin with cookie", []string{"http://blog.example"}, "http://blog.example", true, false},
		{"unlisted origin with cookie", []string{"http://blog.example"}, "http://evil.example", true, true},
		{"no cors, cookie, other origin", nil, "http://evil.example", true, true},
		{"wildcard, cookie, same origin", []string{"*"}, "", true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newConnEnv(t, func(c *envConfig) { c.cfg.CORSOrigins = tc.cors })
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			url := "ws" + strings.TrimPrefix(e.url, "http") + "/api/v1/ws"
			h := http.Header{}
			if tc.cookie {
				h.Set("Cookie", "livedash_token="+e.admin)
			} else {
				url += "?token=" + e.admin
			}
			origin := tc.origin
			if origin == "" {
				origin = e.url
			}
			h.Set("Origin", origin)
			conn, resp, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPHeader: h})
			if tc.wantErr {
				if err == nil {
					conn.CloseNow()
					t.Fatal("handshake accepted")
				}
				if resp == nil || resp.StatusCode != http.StatusForbidden {
					t.Fatalf("refusal: %v %v", resp, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("handshake refused: %v", err)
			}
			defer conn.CloseNow()
			ws := &wsClient{conn: conn, ctx: ctx}
			ws.send(t, `{"op":"subscribe","ref":1,"topics":["sys.>"],"backlog":0}`) // admin only
			if m := ws.read(t); m["op"] != "ok" {
				t.Fatalf("admin subscribe over the accepted handshake: %v", m)
			}
		})
	}
}

// streamStatus opens a stream and returns its status (and the body of a
// refusal); a stream that opens is closed again.
func streamStatus(t *testing.T, e *env, path, token string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", e.url+path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == 200 {
		return 200, ""
	}
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestConnectionsPerTokenWithoutSubject(t *testing.T) {
	e := newConnEnv(t, connLimits(func(l *config.Limits) { l.ConnectionsPerToken = 2 }))
	mint := func(kv ...string) string {
		tok, err := e.signer.Mint(auth.Claims{Channels: grants(kv...)}, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	a := mint("ns.>", "sub")
	b := mint("ns.>", "sub", "other.>", "sub")
	e.openSSE("topic=ns.a&token=" + a)
	e.openSSE("topic=ns.a&token=" + a)
	if st, body := streamStatus(t, e, "/api/v1/stream?topic=ns.a", a); st != http.StatusTooManyRequests || !strings.Contains(body, `"error"`) {
		t.Fatalf("third stream of a token without sub: %d %s", st, body)
	}
	if st, body := streamStatus(t, e, "/api/v1/stream?topic=ns.a", b); st != 200 {
		t.Fatalf("another token without sub: %d %s", st, body)
	}
}

func TestAnonymousStreamsPerAddress(t *testing.T) {
	e := newConnEnv(t, withPublic("pub.>"), connLimits(func(l *config.Limits) { l.AnonymousConnectionsPerAddress = 2 }))
	first := e.openSSE("topic=pub.a")
	e.openSSE("topic=pub.a")
	if st, body := streamStatus(t, e, "/api/v1/stream?topic=pub.a", ""); st != http.StatusTooManyRequests || !strings.Contains(body, `"error"`) {
		t.Fatalf("third anonymous SSE stream: %d %s", st, body)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, resp, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(e.url, "http")+"/api/v1/ws", nil)
	if err == nil {
		conn.CloseNow()
		t.Fatal("third anonymous stream (WebSocket) accepted")
	}
	if resp == nil || resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("anonymous WebSocket over the limit: %v %v", resp, err)
	}
	if st, body := streamStatus(t, e, "/api/v1/stream?topic=pub.a", e.admin); st != 200 {
		t.Fatalf("a token's stream from the same address: %d %s", st, body)
	}
	first.close()
	waitFor(t, func() bool {
		st, _ := streamStatus(t, e, "/api/v1/stream?topic=pub.a", "")
		return st == 200
	}, "a closed anonymous stream frees its place")
}

func TestAPIResponsesAreNosniff(t *testing.T) {
	e := newConnEnv(t)
	for _, tc := range []struct{ method, path, token string }{
		{"GET", "/healthz", ""},
		{"GET", "/api/v1/topics", e.admin},
		{"GET", "/api/v1/nope", ""},
		{"POST", "/api/v1/publish", ""},
		{"GET", "/api/v1/history?topic=a..b", e.admin},
	} {
		req, _ := http.NewRequest(tc.method, e.url+tc.path, nil)
		if tc.token != "" {
			req.Header.Set("Authorization", "Bearer "+tc.token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got := resp.Header.Get("X-Content-Type-Options"); got != "nosniff" {
			t.Errorf("%s %s (%d): X-Content-Type-Options %q", tc.method, tc.path, resp.StatusCode, got)
		}
	}
	s := e.openSSE("topic=n.a", "Authorization", "Bearer "+e.admin)
	if got := s.resp.Header.Get("X-Content-Type-Options"); got != "nosniff" {
		t.Errorf("SSE stream: X-Content-Type-Options %q", got)
	}
}
