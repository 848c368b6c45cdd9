package httpapi_test

import (
	"context"
	"encoding/json"

	"github.com/fxamacker/cbor/v2"

	"github.com/livedash/livedash"
	"github.com/livedash/livedash/httpapi"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

type wsClient struct {
	conn *websocket.Conn
	ctx  context.Context
}

func dialWS(t *testing.T, ctx context.Context, base, token string) *wsClient {
	t.Helper()
	url := "ws" + strings.TrimPrefix(base, "http") + "/api/v1/ws"
	if token != "" {
		url += "?token=" + token
	}
	conn, _, err := websocket.Dial(ctx, url, nil)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	conn.SetReadLimit(4 << 20)
	return &wsClient{conn: conn, ctx: ctx}
}

func (c *wsClient) close() { c.conn.CloseNow() }

func (c *wsClient) send(t *testing.T, frame string) {
	t.Helper()
	if err := c.conn.Write(c.ctx, websocket.MessageText, []byte(frame)); err != nil {
		t.Fatalf("write: %v", err)
	}
}

// read returns the next frame as a map, or nil when the connection ended.
func (c *wsClient) read(t *testing.T) map[string]any {
	t.Helper()
	ctx, cancel := context.WithTimeout(c.ctx, 5*time.Second)
	defer cancel()
	_, b, err := c.conn.Read(ctx)
	if err != nil {
		if ctx.Err() != nil && c.ctx.Err() == nil {
			t.Fatalf("no frame within 5s")
		}
		return nil
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("frame is not JSON: %s", b)
	}
	return m
}

func TestWebSocketOps(t *testing.T) {
	e := newEnv(t, withPublic("status.>"))
	old := e.publish("w.a", 3)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ws := dialWS(t, ctx, e.url, e.admin)
	defer ws.close()

	ws.send(t, `{"op":"ping","ref":4}`)
	if m := ws.read(t); m["op"] != "pong" || m["ref"] != 4.0 {
		t.Fatalf("ping: %v", m)
	}

	// Bad frames get an error op and the connection stays usable.
	for _, tc := range []struct{ frame, code string }{
		{`{not json`, "bad_request"},
		{`[]`, "bad_request"},
		{`{"op":"dance","ref":9}`, "bad_request"},
		{`{"ref":9}`, "bad_request"},
		{`{"op":"subscribe","ref":5}`, "bad_request"},
		{`{"op":"subscribe","ref":5,"topics":["a..b"]}`, "bad_request"},
		{`{"op":"subscribe","ref":5,"topics":["a"],"backlog":-1}`, "bad_request"},
		{`{"op":"publish","ref":6,"messages":[]}`, "bad_request"},
		{`{"op":"publish","ref":6,"messages":[{"topic":"a.*","data":1}]}`, "bad_request"},
		{`{"op":"publish","ref":6,"messages":[{"topic":"sys.x","data":1}]}`, "forbidden"},
	} {
		ws.send(t, tc.frame)
		m := ws.read(t)
		if m["op"] != "error" || m["code"] != tc.code || m["message"] == "" {
			t.Fatalf("frame %s: got %v, want error %s", tc.frame, m, tc.code)
		}
	}
	if err := ws.conn.Write(ctx, websocket.MessageBinary, []byte{0, 1, 2}); err != nil {
		t.Fatal(err)
	}
	if m := ws.read(t); m["op"] != "error" || m["code"] != "bad_request" {
		t.Fatalf("binary frame: %v", m)
	}

	ws.send(t, `{"op":"subscribe","ref":1,"topics":["w.a"],"backlog":2}`)
	if m := ws.read(t); m["op"] != "ok" || m["ref"] != 1.0 {
		t.Fatalf("subscribe: %v", m)
	}
	for _, want := range old[1:] {
		m := ws.read(t)
		if m["op"] != "message" || m["id"] != want || m["topic"] != "w.a" || m["type"] != "point" {
			t.Fatalf("backlog: got %v, want %s", m, want)
		}
	}
	ws.send(t, `{"op":"publish","ref":3,"messages":[{"topic":"w.a","data":7},{"topic":"w.b","type":"event","data":{"k":1}}]}`)
	var ok map[string]any
	var live []map[string]any
	for ok == nil || len(live) < 1 {
		m := ws.read(t)
		switch m["op"] {
		case "ok":
			ok = m
		case "message":
			live = append(live, m)
		default:
			t.Fatalf("unexpected %v", m)
		}
	}
	ids := ok["ids"].([]any)
	if ok["ref"] != 3.0 || len(ids) != 2 || live[0]["id"] != ids[0] || live[0]["data"] != 7.0 {
		t.Fatalf("publish ok %v, live %v", ok, live)
	}
	// Unsubscribe: no more messages from w.a; a ping proves the stream is quiet.
	ws.send(t, `{"op":"unsubscribe","ref":8,"topics":["w.a"]}`)
	if m := ws.read(t); m["op"] != "ok" {
		t.Fatalf("unsubscribe: %v", m)
	}
	e.publish("w.a", 1)
	ws.send(t, `{"op":"ping","ref":10}`)
	if m := ws.read(t); m["op"] != "pong" {
		t.Fatalf("after unsubscribe got %v, want only the pong", m)
	}
}

func TestWebSocketResumeAndReset(t *testing.T) {
	e := newEnv(t)
	ids := e.publish("wr.a", 6)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ws := dialWS(t, ctx, e.url, e.admin)
	defer ws.close()
	ws.send(t, `{"op":"subscribe","ref":1,"topics":["wr.a"],"since":"`+ids[3]+`"}`)
	ws.read(t) // ok
	var got []string
	for len(got) < 2 {
		got = append(got, ws.read(t)["id"].(string))
	}
	if !slices.Equal(got, ids[4:]) {
		t.Fatalf("resume: %v", got)
	}
	ws.send(t, `{"op":"subscribe","ref":2,"topics":["wr.b"],"since":"garbage","backlog":1}`)
	ws.read(t) // ok
	if m := ws.read(t); m["op"] != "reset" || m["reason"] != "malformed id" {
		t.Fatalf("want reset, got %v", m)
	}
}

// TestWebSocketOverlappingSubscriptions: a message matched by two
// subscriptions on one socket is delivered once.
func TestWebSocketOverlappingSubscriptions(t *testing.T) {
	e := newEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ws := dialWS(t, ctx, e.url, e.admin)
	defer ws.close()
	ws.send(t, `{"op":"subscribe","ref":1,"topics":["o.>"],"backlog":0}`)
	ws.read(t)
	first := e.publish("o.x", 2)
	ws.send(t, `{"op":"subscribe","ref":2,"topics":["o.x"],"backlog":5}`)
	second := e.publish("o.x", 2)
	seen := map[string]int{}
	for len(seen) < 4 {
		m := ws.read(t)
		if m["op"] == "message" {
			seen[m["id"].(string)]++
		}
	}
	ws.send(t, `{"op":"ping","ref":3}`)
	for {
		m := ws.read(t)
		if m["op"] == "pong" {
			break
		}
		if m["op"] == "message" {
			seen[m["id"].(string)]++
		}
	}
	for _, id := range append(first, second...) {
		if seen[id] != 1 {
			t.Fatalf("message %s delivered %d times (%v)", id, seen[id], seen)
		}
	}
}

func TestWebSocketAuth(t *testing.T) {
	e := newEnv(t, withPublic("status.>"))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	anon := dialWS(t, ctx, e.url, "")
	defer anon.close()
	anon.send(t, `{"op":"subscribe","ref":1,"topics":["status.>"]}`)
	if m := anon.read(t); m["op"] != "ok" {
		t.Fatalf("public subscribe without token: %v", m)
	}
	anon.send(t, `{"op":"subscribe","ref":2,"topics":["shop.orders"]}`)
	if m := anon.read(t); m["code"] != "unauthorized" {
		t.Fatalf("private subscribe without token: %v", m)
	}
	anon.send(t, `{"op":"publish","ref":3,"messages":[{"topic":"status.x","data":1}]}`)
	if m := anon.read(t); m["code"] != "unauthorized" {
		t.Fatalf("publish without token: %v", m)
	}
	viewer := dialWS(t, ctx, e.url, e.grantToken("shop.*", "sub"))
	defer viewer.close()
	viewer.send(t, `{"op":"subscribe","ref":1,"topics":["shop.>"]}`)
	if m := viewer.read(t); m["code"] != "forbidden" {
		t.Fatalf("wider than grant: %v", m)
	}
	viewer.send(t, `{"op":"publish","ref":2,"messages":[{"topic":"shop.x","data":1}]}`)
	if m := viewer.read(t); m["code"] != "forbidden" {
		t.Fatalf("subscribe-only publishing: %v", m)
	}
	// A bad token refuses the upgrade with 401.
	if status, _ := e.do("GET", "/api/v1/ws?token=bad", "", ""); status != 401 {
		t.Fatalf("bad token upgrade: %d", status)
	}
}

func TestWebSocketCBOR(t *testing.T) {
	e := newEnv(t)
	ids := e.publish("cb.a", 2)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	url := "ws" + strings.TrimPrefix(e.url, "http") + "/api/v1/ws?token=" + e.admin
	conn, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{Subprotocols: []string{"livedash.cbor"}})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.CloseNow()
	if conn.Subprotocol() != "livedash.cbor" {
		t.Fatalf("negotiated %q", conn.Subprotocol())
	}
	send := func(v any) {
		b, err := cbor.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if err := conn.Write(ctx, websocket.MessageBinary, b); err != nil {
			t.Fatal(err)
		}
	}
	read := func() map[string]any {
		typ, b, err := conn.Read(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if typ != websocket.MessageBinary {
			t.Fatalf("got a %v frame in CBOR mode", typ)
		}
		var m map[string]any
		if err := cbor.Unmarshal(b, &m); err != nil {
			t.Fatalf("not CBOR: %v", err)
		}
		return m
	}
	send(map[string]any{"op": "subscribe", "ref": 1, "topics": []string{"cb.a"}, "backlog": 5})
	if m := read(); m["op"] != "ok" {
		t.Fatalf("subscribe: %v", m)
	}
	for i, want := range ids {
		m := read()
		if m["op"] != "message" || m["id"] != want || m["data"] != uint64(i) {
			t.Fatalf("message %d: %v (data %T)", i, m, m["data"])
		}
	}
	send(map[string]any{"op": "publish", "ref": 2, "messages": []any{map[string]any{"topic": "cb.a", "type": "event", "data": map[string]any{"x": 1.5}}}})
	var sawOK, sawMsg bool
	for !sawOK || !sawMsg {
		m := read()
		switch m["op"] {
		case "ok":
			sawOK = true
		case "message":
			sawMsg = m["data"].(map[any]any)["x"] == 1.5
		}
	}
	// Bad CBOR gets an error, in CBOR, and the connection goes on.
	if err := conn.Write(ctx, websocket.MessageBinary, []byte{0xff, 0x00, 0x13}); err != nil {
		t.Fatal(err)
	}
	if m := read(); m["op"] != "error" || m["code"] != "bad_request" {
		t.Fatalf("bad CBOR: %v", m)
	}
	send(map[string]any{"op": "ping", "ref": 3})
	if m := read(); m["op"] != "pong" {
		t.Fatalf("after bad CBOR: %v", m)
	}
}

func TestWebSocketCompression(t *testing.T) {
	e := newEnv(t, func(c *envConfig) { c.cfg.WebSocketCompression = true })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	url := "ws" + strings.TrimPrefix(e.url, "http") + "/api/v1/ws?token=" + e.admin
	conn, resp, err := websocket.Dial(ctx, url, &websocket.DialOptions{CompressionMode: websocket.CompressionContextTakeover})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.CloseNow()
	if !strings.Contains(resp.Header.Get("Sec-WebSocket-Extensions"), "permessage-deflate") {
		t.Fatalf("deflate not negotiated: %q", resp.Header.Get("Sec-WebSocket-Extensions"))
	}
	ws := &wsClient{conn: conn, ctx: ctx}
	ws.send(t, `{"op":"subscribe","ref":1,"topics":["z.a"],"backlog":0}`)
	ws.read(t)
	ids := e.publish("z.a", 3)
	for _, want := range ids {
		if m := ws.read(t); m["id"] != want {
			t.Fatalf("got %v, want %s", m, want)
		}
	}
}

// BenchmarkWireEncoding measures encoding one message: its envelope
// (NewFrame), then each wire form a transport makes of it once and shares
// (the SSE event, the WebSocket frame in JSON and CBOR, each deflated),
// and reports their sizes.
func BenchmarkWireEncoding(b *testing.B) {
	m := livedash.Message{ID: livedash.ID{Seq: 123456, Epoch: "vafzoupt"}, Topic: "shop.orders", Type: "event", TS: 1732262400123,
		Data: json.RawMessage(`{"order_id":"ord-000042","customer":"Maya K.","items":[{"sku":"tee-blk-m","qty":2,"price":19.99}],"total":39.98,"currency":"USD"}`)}
	big := m
	big.Data = json.RawMessage(`{"text":"` + strings.Repeat("order placed, paid and shipped; ", 40) + `"}`)
	b.Run("envelope", func(b *testing.B) {
		b.ReportAllocs()
		var f *livedash.Frame
		for i := 0; i < b.N; i++ {
			f = livedash.NewFrame(m)
		}
		b.ReportMetric(float64(len(f.JSON)), "bytes")
	})
	f := livedash.NewFrame(m)
	b.Run("sse", func(b *testing.B) {
		b.ReportAllocs()
		var out []byte
		for i := 0; i < b.N; i++ {
			out = httpapi.SSEEventOf(f)
		}
		b.ReportMetric(float64(len(out)), "bytes")
	})
	for _, tc := range []struct {
		name            string
		binary, deflate bool
		frame           *livedash.Frame
	}{{"ws-json", false, false, f}, {"ws-cbor", true, false, f}, {"ws-json-deflate", false, true, f}, {"ws-cbor-deflate", true, true, f},
		{"ws-json-1.3KiB", false, false, livedash.NewFrame(big)}, {"ws-json-deflate-1.3KiB", false, true, livedash.NewFrame(big)}} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			var out []byte
			for i := 0; i < b.N; i++ {
				out = httpapi.WSFrameOf(tc.frame, tc.binary, tc.deflate)
			}
			b.ReportMetric(float64(len(out)), "bytes")
		})
	}
}
