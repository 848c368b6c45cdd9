package httpapi_test

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// FuzzWebSocketFrame sends each input as a client frame to a real server
// over loopback, then a ping: every answer must be a JSON op of the
// contract, and the pong must come, so no frame crashes the handler or
// leaves the connection unusable.
func FuzzWebSocketFrame(f *testing.F) {
	for _, seed := range []string{
		`{"op":"subscribe","ref":1,"topics":["shop.>"],"backlog":2}`,
		`{"op":"subscribe","ref":102,"topics":"not-a-list"}`,
		`{"op":"unsubscribe","ref":2,"topics":["shop.>"]}`,
		`{"op":"publish","ref":3,"messages":[{"topic":"shop.orders","type":"event","data":{"id":1}}]}`,
		`{"op":"publish","ref":4,"messages":[{"topic":"a","data":1e999}]}`,
		`{"op":"ping","ref":5} {"op":"ping"}`,
		`{"op":"subscribe","ref":6,"topics":["a"],"since":"1-nope"}`,
		`{"op":"nope"}`, `[]`, `null`, `{"ref":{"a":[1]}}`, "\xff",
	} {
		f.Add([]byte(seed), false)
	}
	f.Add([]byte{0xa1, 0x62, 0x6f, 0x70, 0x64, 0x70, 0x69, 0x6e, 0x67}, true) // CBOR {"op":"ping"} without the subprotocol
	e := newEnv(f, func(c *envConfig) { c.cfg.Limits.MaxTopics = 200; c.cfg.Limits.PatternsPerConnection = 50 })
	ctx := context.Background()
	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(e.url, "http")+"/api/v1/ws?token="+e.admin, nil)
	if err != nil {
		f.Fatal(err)
	}
	conn.SetReadLimit(8 << 20)
	f.Cleanup(func() { conn.CloseNow() })
	known := map[string]bool{"ok": true, "error": true, "message": true, "reset": true, "pong": true}
	n := 0
	f.Fuzz(func(t *testing.T, frame []byte, binary bool) {
		typ := websocket.MessageText
		if binary {
			typ = websocket.MessageBinary
		}
		n++
		ref := "fuzz-" + strconv.Itoa(n)
		wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		if err := conn.Write(wctx, typ, frame); err != nil {
			t.Fatalf("write: %v", err)
		}
		if err := conn.Write(wctx, websocket.MessageText, []byte(`{"op":"ping","ref":"`+ref+`"}`)); err != nil {
			t.Fatalf("write ping: %v", err)
		}
		for {
			_, b, err := conn.Read(wctx)
			if err != nil {
				t.Fatalf("after frame %q the connection failed: %v", frame, err)
			}
			var op struct {
				Op  string `json:"op"`
				Ref any    `json:"ref"`
			}
			if err := json.Unmarshal(b, &op); err != nil || !known[op.Op] {
				t.Fatalf("after frame %q the server sent %s", frame, b)
			}
			if op.Op == "pong" && op.Ref == ref {
				return
			}
		}
	})
}
