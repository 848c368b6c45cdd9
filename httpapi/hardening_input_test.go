package httpapi_test

// Regression tests for the bad inputs and holes of the hardening review
// that concern what publishers may store and what subscribers may ask for:
// one JSON value per body, explicit empty types, numbers outside float64,
// the ref of a bad WebSocket frame, the data limit on every ingest path, sys.
// grants, patterns per WebSocket connection and the topic cap. Each test
// goes over real HTTP to a real store, and checks that a refused request
// stored nothing.

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/livedash/livedash/auth"
)

// assertNothingStored fails when the store's head moved past head.
func (e *env) assertNothingStored(t *testing.T, head uint64, what string) {
	t.Helper()
	if got := e.store.Head().Seq; got != head {
		t.Fatalf("%s: stored something (head %d, was %d)", what, got, head)
	}
}

// refused is one request that must be answered with an error and store nothing.
type refused struct {
	name, method, path, body string
	status                   int
	contains                 string
}

func (e *env) checkRefused(t *testing.T, token string, cases []refused) {
	t.Helper()
	for _, tc := range cases {
		head := e.store.Head().Seq
		status, body := e.do(tc.method, tc.path, token, tc.body)
		if status != tc.status || !strings.Contains(body, tc.contains) || !strings.HasPrefix(body, `{"error":`) {
			t.Errorf("%s: %d %s, want %d with %q", tc.name, status, body, tc.status, tc.contains)
		}
		e.assertNothingStored(t, head, tc.name)
	}
}

// TestBodiesAreExactlyOneJSONValue: bytes after the first JSON value were
// stored before (the decoder read one value and ignored the rest).
func TestBodiesAreExactlyOneJSONValue(t *testing.T) {
	e := newEnv(t)
	e.checkRefused(t, e.admin, []refused{
		{"second object", "POST", "/api/v1/publish", `{"topic":"a","data":1} {"topic":"b","data":2}`, 400, "exactly one value"},
		{"garbage after", "POST", "/api/v1/publish", `{"topic":"a","data":1}]`, 400, "exactly one value"},
		{"second batch", "POST", "/api/v1/publish", `[{"topic":"a","data":1}] [{"topic":"b","data":2}]`, 400, "JSON"},
		{"shorthand two values", "POST", "/api/v1/topics/a", `1 2`, 400, "JSON"},
	})
	// White space after the value is fine.
	if status, body := e.do("POST", "/api/v1/publish", e.admin, "{\"topic\":\"a\",\"data\":1}\r\n\t "); status != 200 {
		t.Fatalf("trailing white space: %d %s", status, body)
	}
}

// TestExplicitEmptyTypeRefused: "type": "" was stored as point.
func TestExplicitEmptyTypeRefused(t *testing.T) {
	e := newEnv(t)
	e.checkRefused(t, e.admin, []refused{
		{"publish", "POST", "/api/v1/publish", `{"topic":"a","type":"","data":1}`, 400, "type must not be empty"},
		{"batch", "POST", "/api/v1/publish", `[{"topic":"a","data":1},{"topic":"a","type":"","data":1}]`, 400, `"index":1`},
		{"shorthand", "POST", "/api/v1/topics/a?type=", `1`, 400, "type must not be empty"},
	})
	ws := dialWS(t, context.Background(), e.url, e.admin)
	defer ws.close()
	ws.send(t, `{"op":"publish","ref":7,"messages":[{"topic":"a","type":"","data":1}]}`)
	if m := ws.read(t); m["op"] != "error" || m["ref"] != float64(7) || m["code"] != "bad_request" {
		t.Fatalf("ws publish with empty type: %v", m)
	}
	e.assertNothingStored(t, 0, "ws publish")
	// Omitted means point.
	if status, body := e.do("POST", "/api/v1/publish", e.admin, `{"topic":"a","data":1}`); status != 200 {
		t.Fatalf("omitted type: %d %s", status, body)
	}
	if _, body := e.do("GET", "/api/v1/history?topic=a", e.admin, ""); !strings.Contains(body, `"type":"point"`) {
		t.Fatalf("omitted type not stored as point: %s", body)
	}
}

// TestNumbersOutsideFloat64Refused: 1e999 was stored and served as-is
// (Go clients cannot parse it; sums overflowed).
func TestNumbersOutsideFloat64Refused(t *testing.T) {
	e := newEnv(t)
	e.checkRefused(t, e.admin, []refused{
		{"point 1e999", "POST", "/api/v1/publish", `{"topic":"a","data":1e999}`, 400, "float64 range"},
		{"point -1e999", "POST", "/api/v1/publish", `{"topic":"a","data":-1e999}`, 400, "float64 range"},
		{"point field 1e400", "POST", "/api/v1/publish", `{"topic":"a","data":{"a":1e400}}`, 400, "float64 range"},
		{"event field 1e400", "POST", "/api/v1/publish", `{"topic":"a","type":"event","data":{"a":[{"b":1e400}]}}`, 400, "float64 range"},
		{"shorthand", "POST", "/api/v1/topics/a", `1e999`, 400, "float64 range"},
		{"line protocol", "POST", "/api/v1/write", "a v=1e999", 400, "bad number"},
	})
	ws := dialWS(t, context.Background(), e.url, e.admin)
	defer ws.close()
	ws.send(t, `{"op":"publish","ref":"p1","messages":[{"topic":"a","data":1e999}]}`)
	if m := ws.read(t); m["op"] != "error" || m["ref"] != "p1" || !strings.Contains(m["message"].(string), "float64") {
		t.Fatalf("ws publish of 1e999: %v", m)
	}
	e.assertNothingStored(t, 0, "ws publish")
	// The largest finite values are stored, and an aggregate over them
	// still answers.
	if status, body := e.do("POST", "/api/v1/publish", e.admin, `[{"topic":"a","data":1.7e308},{"topic":"a","data":-1.7e308}]`); status != 200 {
		t.Fatalf("finite extremes: %d %s", status, body)
	}
}

// TestPointDataErrorSaysHowToFix: the error for a string on a point topic
// tells the publisher to set a type.
func TestPointDataErrorSaysHowToFix(t *testing.T) {
	e := newEnv(t)
	e.checkRefused(t, e.admin, []refused{
		{"publish", "POST", "/api/v1/publish", `{"topic":"a","data":"hello"}`, 400, `set a type, such as \"type\": \"event\"`},
		{"shorthand", "POST", "/api/v1/topics/a", `"hello"`, 400, `set a type`},
	})
}

// TestWebSocketErrorCarriesRef: an error for a frame whose other fields are
// bad had no ref, so a client could not tell which request failed.
func TestWebSocketErrorCarriesRef(t *testing.T) {
	e := newEnv(t)
	ws := dialWS(t, context.Background(), e.url, e.admin)
	defer ws.close()
	for _, tc := range []struct {
		frame string
		ref   any
	}{
		{`{"op":"subscribe","ref":102,"topics":"not-a-list"}`, float64(102)},
		{`{"op":"subscribe","ref":"s-1","topics":[1,2]}`, "s-1"},
		{`{"op":"publish","ref":103,"messages":{"topic":"a"}}`, float64(103)},
		{`{"op":7,"ref":104}`, float64(104)},
		{`{"op":"ping","ref":105} {"op":"ping"}`, float64(105)}, // two values: refused, still answered with the first's ref
		{`{"op":"subscribe","backlog":"ten","ref":106,"topics":["a"]}`, float64(106)},
	} {
		ws.send(t, tc.frame)
		m := ws.read(t)
		if m["op"] != "error" || m["code"] != "bad_request" || m["ref"] != tc.ref {
			t.Errorf("%s → %v, want an error with ref %v", tc.frame, m, tc.ref)
		}
	}
	// A frame that is no JSON object has no readable ref; still answered.
	// Neither has a ref that clients could not parse back (found by
	// FuzzWebSocketFrame: 1e700 was echoed as it came).
	for _, frame := range []string{`not json`, `{"ref":1e700}`, `{"op":"ping","ref":{"a":1e700}}`} {
		ws.send(t, frame)
		if m := ws.read(t); m["ref"] != nil || (m["op"] != "error" && m["op"] != "pong") {
			t.Fatalf("%s: %v", frame, m)
		}
	}
	ws.send(t, `{"op":"ping","ref":200}`)
	if m := ws.read(t); m["op"] != "pong" || m["ref"] != float64(200) {
		t.Fatalf("connection unusable after bad frames: %v", m)
	}
}

// TestDataLimitOnEveryIngestPath: /api/v1/write ignored message_bytes, and
// escaping control bytes grew a line's data 6×, so a 200 KB line became a
// 1.2 MB message that cut off every subscriber of a covering pattern.
func TestDataLimitOnEveryIngestPath(t *testing.T) {
	e := newEnv(t, func(c *envConfig) { c.cfg.Limits.MessageBytes = 1024 })
	ctl := strings.Repeat("\x01", 200)                  // 200 bytes in, \u0001 × 200 = 1200 bytes stored
	big := strings.Repeat("x", 1100)                    // over the limit as it stands
	spaced := "[" + strings.Repeat("1,   ", 300) + "1]" // 1501 bytes sent, 601 stored: fits
	e.checkRefused(t, e.admin, []refused{
		{"line protocol escapes", "POST", "/api/v1/write", `m s="` + ctl + `"`, 413, "limits.message_bytes"},
		{"line protocol plain", "POST", "/api/v1/write", `m s="` + big + `"`, 413, "limits.message_bytes"},
		{"json escapes", "POST", "/api/v1/publish", `{"topic":"m","type":"event","data":{"s":"` + strings.Repeat(`\u0001`, 200) + `"}}`, 413, "limits.message_bytes"},
		{"shorthand", "POST", "/api/v1/topics/m?type=raw", `"` + big + `"`, 413, "limits.message_bytes"},
		{"batch item", "POST", "/api/v1/publish", `[{"topic":"m","data":1},{"topic":"m","type":"raw","data":"` + big + `"}]`, 413, `"index":1`},
	})
	ws := dialWS(t, context.Background(), e.url, e.admin)
	defer ws.close()
	ws.send(t, `{"op":"publish","ref":1,"messages":[{"topic":"m","type":"raw","data":"`+big+`"}]}`)
	if m := ws.read(t); m["op"] != "error" || m["code"] != "too_large" || m["ref"] != float64(1) {
		t.Fatalf("ws publish over the limit: %v", m)
	}
	e.assertNothingStored(t, 0, "ws publish")
	// The limit is on the data as stored: white space that compaction
	// removes does not count.
	if status, body := e.do("POST", "/api/v1/topics/m?type=raw", e.admin, spaced); status != 200 {
		t.Fatalf("spaced data under the limit as stored: %d %s", status, body)
	}
}

// TestSysGrantsRefused: a non-admin token with a grant on sys.> could stream
// and read the history of the server's own topics.
func TestSysGrantsRefused(t *testing.T) {
	e := newEnv(t)
	e.publish("shop.a", 1)
	// Minting refuses such a grant, so sign one by hand as an attacker
	// holding the secret's output would have been given.
	forge := func(admin bool, channels map[string]auth.Grant) string {
		c := auth.Claims{RegisteredClaims: jwt.RegisteredClaims{Subject: "viewer", ExpiresAt: jwt.NewNumericDate(time.Now().Add(time.Hour))}, Admin: admin, Channels: channels}
		tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString([]byte(testSecret))
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	if _, err := e.signer.Mint(auth.Claims{Channels: grants("sys.>", "sub")}, time.Hour); err == nil {
		t.Fatal("Mint accepted a sys. grant for a non-admin token")
	}
	for _, g := range []string{"sys.>", "sys.*", "sys.connections"} {
		tok := forge(false, grants(g, "sub"))
		for _, path := range []string{"/api/v1/stream?topic=" + g, "/api/v1/history?topic=" + g, "/api/v1/topics?topic=" + g, "/api/v1/topics"} {
			if status, body := e.do("GET", path, tok, ""); status != 401 || !strings.Contains(body, "sys.") {
				t.Errorf("grant %s, GET %s: %d %s, want 401", g, path, status, body)
			}
		}
	}
	// A grant on every topic does not reach sys.; an admin token with a
	// sys. grant is fine.
	wide := forge(false, grants(">", "sub"))
	if status, _ := e.do("GET", "/api/v1/history?topic=sys.>", wide, ""); status != 403 {
		t.Fatalf("grant > reading sys.>: %d, want 403", status)
	}
	if status, _ := e.do("GET", "/api/v1/history?topic=sys.>", forge(true, grants("sys.>", "sub")), ""); status != 200 {
		t.Fatalf("admin token with a sys. grant: %d, want 200", status)
	}
}

// TestWebSocketPatternCap: one anonymous connection could send thousands
// of subscribe ops on public patterns and grow the server without bound.
func TestWebSocketPatternCap(t *testing.T) {
	e := newEnv(t, withPublic("pub.>"), func(c *envConfig) { c.cfg.Limits.PatternsPerConnection = 5 })
	ws := dialWS(t, context.Background(), e.url, "") // anonymous, public topics only
	defer ws.close()
	ws.send(t, `{"op":"subscribe","ref":1,"topics":["pub.a","pub.b","pub.c"],"backlog":0}`)
	if m := ws.read(t); m["op"] != "ok" {
		t.Fatalf("first subscribe: %v", m)
	}
	ws.send(t, `{"op":"subscribe","ref":2,"topics":["pub.d","pub.e","pub.f"],"backlog":0}`)
	if m := ws.read(t); m["op"] != "error" || m["code"] != "too_large" || m["ref"] != float64(2) || !strings.Contains(m["message"].(string), "patterns_per_connection") {
		t.Fatalf("subscribe past the cap: %v", m)
	}
	for i := range 20 { // the same pattern again and again counts too
		ws.send(t, `{"op":"subscribe","ref":3,"topics":["pub.a"],"backlog":0}`)
		m := ws.read(t)
		if want := map[bool]string{true: "ok", false: "error"}[i < 2]; m["op"] != want {
			t.Fatalf("repeat %d: %v, want %s", i, m, want)
		}
	}
	ws.send(t, `{"op":"unsubscribe","ref":4,"topics":["pub.a","pub.b"]}`)
	if m := ws.read(t); m["op"] != "ok" {
		t.Fatalf("unsubscribe: %v", m)
	}
	ws.send(t, `{"op":"subscribe","ref":5,"topics":["pub.d","pub.e","pub.f"],"backlog":0}`)
	if m := ws.read(t); m["op"] != "ok" {
		t.Fatalf("subscribe after unsubscribing: %v", m)
	}
	e.publish("pub.e", 1)
	if m := ws.read(t); m["op"] != "message" || m["topic"] != "pub.e" {
		t.Fatalf("live message after the cap: %v", m)
	}
}

// TestTopicCap: the number of topics was unbounded, each keeping its last
// message forever. Every publish path counts against limits.max_topics.
func TestTopicCap(t *testing.T) {
	e := newEnv(t, func(c *envConfig) { c.cfg.Limits.MaxTopics = 3 })
	if status, body := e.do("POST", "/api/v1/publish", e.admin, `[{"topic":"a","data":1},{"topic":"b","data":1},{"topic":"c","data":1}]`); status != 200 {
		t.Fatalf("three topics: %d %s", status, body)
	}
	e.checkRefused(t, e.admin, []refused{
		{"publish", "POST", "/api/v1/publish", `{"topic":"d","data":1}`, 413, "limits.max_topics"},
		{"batch", "POST", "/api/v1/publish", `[{"topic":"a","data":2},{"topic":"e","data":1}]`, 413, `"index":1`},
		{"shorthand", "POST", "/api/v1/topics/d", `1`, 413, "limits.max_topics"},
		{"line protocol", "POST", "/api/v1/write", "d v=1", 413, "limits.max_topics"},
	})
	ws := dialWS(t, context.Background(), e.url, e.admin)
	defer ws.close()
	ws.send(t, `{"op":"publish","ref":9,"messages":[{"topic":"d","data":1}]}`)
	if m := ws.read(t); m["op"] != "error" || m["code"] != "too_large" || m["ref"] != float64(9) {
		t.Fatalf("ws publish of a new topic past the cap: %v", m)
	}
	// Existing topics go on.
	if status, body := e.do("POST", "/api/v1/publish", e.admin, `[{"topic":"a","data":3},{"topic":"c","data":3}]`); status != 200 {
		t.Fatalf("existing topics at the cap: %d %s", status, body)
	}
	if _, body := e.do("GET", "/api/v1/topics", e.admin, ""); strings.Count(body, `"last":`) != 3 {
		t.Fatalf("topics: %s", body)
	}
}

// TestPublishRatePerTokenWithoutSubject: tokens without a sub shared one
// publish bucket, so one of them could starve all the others.
func TestPublishRatePerTokenWithoutSubject(t *testing.T) {
	e := newEnv(t, withLimits(2, 0))
	noSub := func(n int) string {
		c := auth.Claims{RegisteredClaims: jwt.RegisteredClaims{ExpiresAt: jwt.NewNumericDate(time.Now().Add(time.Hour)), ID: strconv.Itoa(n)}, Channels: grants("r.>", "pub")}
		tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString([]byte(testSecret))
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	a, b := noSub(1), noSub(2)
	if status, body := e.do("POST", "/api/v1/publish", a, `[{"topic":"r.a","data":1},{"topic":"r.a","data":2}]`); status != 200 {
		t.Fatalf("a within its burst: %d %s", status, body)
	}
	if status, _ := e.do("POST", "/api/v1/topics/r.a", a, "3"); status != 429 {
		t.Fatalf("a over its rate: %d, want 429", status)
	}
	if status, body := e.do("POST", "/api/v1/topics/r.b", b, "1"); status != 200 {
		t.Fatalf("b limited by a's publishes: %d %s", status, body)
	}
}
