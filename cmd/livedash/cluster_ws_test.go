package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/livedash/livedash/client"
	"github.com/livedash/livedash/internal/redistest"
)

// wsIDs subscribes over WebSocket on base to pattern (after since, when
// given) and sends the ids of the message ops it receives to the channel
// it returns, until ctx ends.
func wsIDs(t *testing.T, ctx context.Context, base, tok, pattern, since string, opts *websocket.DialOptions) <-chan string {
	t.Helper()
	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(base, "http")+"/api/v1/ws?token="+tok, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.CloseNow() })
	sub, _ := json.Marshal(map[string]any{"op": "subscribe", "ref": 1, "topics": []string{pattern}, "since": since, "backlog": 0})
	if err := conn.Write(ctx, websocket.MessageText, sub); err != nil {
		t.Fatal(err)
	}
	ids := make(chan string, 1000)
	go func() {
		for {
			_, b, err := conn.Read(ctx)
			if err != nil {
				return
			}
			var op struct{ Op, ID string }
			if json.Unmarshal(b, &op) == nil && op.Op == "message" {
				ids <- op.ID
			}
		}
	}()
	return ids
}

// TestClusterWebSocket: WebSocket subscribers on two nodes of a cluster —
// one plain, one with permessage-deflate — get what either node publishes,
// in the cluster's id order, each message once; a client that read part of
// the stream on one node resumes on the other with exactly what it missed.
func TestClusterWebSocket(t *testing.T) {
	r := redistest.Start(t)
	a, b := startNode(t, r), startNode(t, r, "--config", wsConfig(t))
	tok := adminToken(t)
	ca, cb := &client.Client{BaseURL: a.url, Token: tok}, &client.Client{BaseURL: b.url, Token: tok}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	onA := wsIDs(t, ctx, a.url, tok, "cw.>", "", nil)
	onB := wsIDs(t, ctx, b.url, tok, "cw.>", "", &websocket.DialOptions{CompressionMode: websocket.CompressionContextTakeover})
	// Both subscriptions are live once a fence published after them arrives.
	fence, err := ca.PublishData(ctx, "cw.fence", "", []byte("0"))
	if err != nil {
		t.Fatal(err)
	}
	for _, ch := range []<-chan string{onA, onB} {
		for id := recv(t, ch); id != fence; id = recv(t, ch) {
		}
	}
	var want []string
	for i := range 40 {
		c := ca
		if i%2 == 1 {
			c = cb
		}
		id, err := c.PublishData(ctx, fmt.Sprintf("cw.t%d", i%3), "", []byte(fmt.Sprintf(`{"i":%d,"text":"%s"}`, i, strings.Repeat("z", 200))))
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, id)
	}
	slices.SortFunc(want, func(x, y string) int { return int(seq(t, x)) - int(seq(t, y)) })
	for name, ch := range map[string]<-chan string{"A": onA, "B (deflate)": onB} {
		var got []string
		for len(got) < len(want) {
			got = append(got, recv(t, ch))
		}
		if !slices.Equal(got, want) {
			t.Fatalf("node %s got %v, want %v", name, got, want)
		}
	}
	// Resume on B from the 20th id, over WebSocket.
	resumed := wsIDs(t, ctx, b.url, tok, "cw.>", want[19], nil)
	var got []string
	for len(got) < len(want)-20 {
		got = append(got, recv(t, resumed))
	}
	if !slices.Equal(got, want[20:]) {
		t.Fatalf("resumed on B: %v, want %v", got, want[20:])
	}
}

// wsConfig is a config file turning WebSocket compression on.
func wsConfig(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ws.yaml")
	if err := os.WriteFile(path, []byte("websocket_compression: true\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func seq(t *testing.T, id string) uint64 {
	t.Helper()
	var n uint64
	if _, err := fmt.Sscanf(id, "%d-", &n); err != nil {
		t.Fatalf("id %q: %v", id, err)
	}
	return n
}
