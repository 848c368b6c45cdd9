package httpapi_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/gobwas/httphead"
	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsflate"
	"github.com/klauspost/compress/flate"

	"github.com/livedash/livedash/client"
)

// These tests drive the WebSocket side of the delivery engine with two
// third-party clients: coder/websocket for the protocol as browsers use
// it, and gobwas/ws for raw frames (half frames, compressed bits).

// rawWS is a WebSocket connection read and written frame by frame.
type rawWS struct {
	t  *testing.T
	nc net.Conn
	br *bufio.Reader
	hs ws.Handshake
}

func (e *env) dialRaw(t *testing.T, query string, exts ...httphead.Option) *rawWS {
	t.Helper()
	d := ws.Dialer{Timeout: 5 * time.Second, Extensions: exts}
	nc, br, hs, err := d.Dial(context.Background(), "ws"+strings.TrimPrefix(e.url, "http")+"/api/v1/ws?"+query)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { nc.Close() })
	if br == nil {
		br = bufio.NewReader(nc)
	}
	return &rawWS{t: t, nc: nc, br: br, hs: hs}
}

// send writes one masked text frame.
func (c *rawWS) send(payload string) {
	c.t.Helper()
	c.nc.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if err := ws.WriteFrame(c.nc, ws.MaskFrame(ws.NewTextFrame([]byte(payload)))); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// next reads one frame: its header and payload.
func (c *rawWS) next() (ws.Header, []byte) {
	c.t.Helper()
	c.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	h, err := ws.ReadHeader(c.br)
	if err != nil {
		c.t.Fatalf("read header: %v", err)
	}
	p := make([]byte, h.Length)
	if _, err := io.ReadFull(c.br, p); err != nil {
		c.t.Fatalf("read payload: %v", err)
	}
	return h, p
}

// TestWebSocketDeflate: with websocket_compression on, permessage-deflate
// is accepted without server context takeover; a message frame that
// compresses has RSV1 set and inflates on its own (no earlier context) to
// the message op; a client compressing with context takeover (coder's
// client) is understood across many messages. With it off, an offer is
// declined and frames come uncompressed.
func TestWebSocketDeflate(t *testing.T) {
	offer := wsflate.Parameters{ClientNoContextTakeover: false}.Option()
	t.Run("on", func(t *testing.T) {
		e := newEnv(t, func(c *envConfig) { c.cfg.WebSocketCompression = true })
		c := e.dialRaw(t, "token="+e.admin, offer)
		if len(c.hs.Extensions) != 1 || string(c.hs.Extensions[0].Name) != "permessage-deflate" {
			t.Fatalf("extensions %v", c.hs.Extensions)
		}
		if _, ok := c.hs.Extensions[0].Parameters.Get("server_no_context_takeover"); !ok {
			t.Fatalf("accepted %s without server_no_context_takeover", c.hs.Extensions[0].String())
		}
		c.send(`{"op":"subscribe","ref":1,"topics":["z.big"],"backlog":0}`)
		if _, p := c.next(); !strings.Contains(string(p), `"op":"ok"`) {
			t.Fatalf("got %s", p)
		}
		big := strings.Repeat("compressible ", 40)
		ids, err := e.client(e.admin).Publish(context.Background(), []client.Message{{Topic: "z.big", Type: "event", Data: map[string]any{"text": big}}, {Topic: "z.big", Type: "event", Data: map[string]any{"text": big + "2"}}})
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range ids {
			h, p := c.next()
			if !h.Rsv1() || int(h.Length) >= len(big) {
				t.Fatalf("frame of %d bytes, rsv1 %v: not compressed", h.Length, h.Rsv1())
			}
			// Each frame inflates alone: no context is taken over.
			r := flate.NewReader(io.MultiReader(bytes.NewReader(p), bytes.NewReader([]byte{0, 0, 0xff, 0xff, 1, 0, 0, 0xff, 0xff})))
			op, err := io.ReadAll(r)
			var m map[string]any
			if err != nil || json.Unmarshal(op, &m) != nil || m["op"] != "message" || m["id"] != id {
				t.Fatalf("inflated %q (%v), want the message op of %s", op, err, id)
			}
		}
	})
	t.Run("client compresses with context takeover", func(t *testing.T) {
		e := newEnv(t, func(c *envConfig) { c.cfg.WebSocketCompression = true })
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(e.url, "http")+"/api/v1/ws?token="+e.admin,
			&websocket.DialOptions{CompressionMode: websocket.CompressionContextTakeover, CompressionThreshold: 1})
		if err != nil {
			t.Fatal(err)
		}
		defer conn.CloseNow()
		c := &wsClient{conn: conn, ctx: ctx}
		// Alike frames: each compresses against the ones before it.
		for i := range 30 {
			c.send(t, fmt.Sprintf(`{"op":"ping","ref":"a long reference that repeats itself %d"}`, i))
			if m := c.read(t); m["op"] != "pong" || m["ref"] != fmt.Sprintf("a long reference that repeats itself %d", i) {
				t.Fatalf("ping %d: %v", i, m)
			}
		}
	})
	t.Run("off", func(t *testing.T) {
		e := newEnv(t)
		c := e.dialRaw(t, "token="+e.admin, offer)
		if len(c.hs.Extensions) != 0 {
			t.Fatalf("compression off, yet accepted %v", c.hs.Extensions)
		}
		c.send(`{"op":"subscribe","ref":1,"topics":["z.big"],"backlog":0}`)
		c.next()
		if _, err := e.client(e.admin).Publish(context.Background(), []client.Message{{Topic: "z.big", Type: "event", Data: map[string]any{"x": strings.Repeat("x", 500)}}}); err != nil {
			t.Fatal(err)
		}
		if h, p := c.next(); h.Rsv1() || !strings.Contains(string(p), strings.Repeat("x", 500)) {
			t.Fatalf("frame rsv1 %v: %.60s", h.Rsv1(), p)
		}
	})
}

// TestWebSocketFramesDuringLargeBacklog: a client that subscribes with a
// backlog of 1,000 messages of 1 KiB (far more than the stream buffers
// before the socket takes it) and sends 20 pings and a second subscribe
// right after, without reading, gets the ok, the whole backlog in id
// order, then the pongs and the second ok in the order it sent them, then
// live messages: no frame lost, none twice, none out of order.
func TestWebSocketFramesDuringLargeBacklog(t *testing.T) {
	e := newEnv(t)
	pad := strings.Repeat("p", 1000)
	var ids []string
	for len(ids) < 1000 {
		msgs := make([]client.Message, 250)
		for i := range msgs {
			msgs[i] = client.Message{Topic: "big.a", Type: "event", Data: map[string]any{"i": len(ids) + i, "pad": pad}}
		}
		got, err := e.client(e.admin).Publish(context.Background(), msgs)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, got...)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c := dialWS(t, ctx, e.url, e.admin)
	defer c.close()
	c.send(t, `{"op":"subscribe","ref":"s","topics":["big.a"],"backlog":1000}`)
	for i := range 20 {
		c.send(t, fmt.Sprintf(`{"op":"ping","ref":%d}`, i))
	}
	c.send(t, `{"op":"subscribe","ref":"s2","topics":["big.b"],"backlog":0}`)
	if m := c.read(t); m["op"] != "ok" || m["ref"] != "s" {
		t.Fatalf("first frame %v", m)
	}
	for i, want := range ids {
		if m := c.read(t); m["op"] != "message" || m["id"] != want {
			t.Fatalf("backlog frame %d: %v, want %s", i, m["id"], want)
		}
	}
	for i := range 20 {
		if m := c.read(t); m["op"] != "pong" || m["ref"] != float64(i) {
			t.Fatalf("pong %d: %v", i, m)
		}
	}
	if m := c.read(t); m["op"] != "ok" || m["ref"] != "s2" {
		t.Fatalf("second subscribe: %v", m)
	}
	live := e.publish("big.b", 3)
	for _, want := range live {
		if m := c.read(t); m["id"] != want {
			t.Fatalf("live: %v, want %s", m, want)
		}
	}
}

// TestWebSocketSlowConsumers: of 20 WebSocket subscribers, 5 never read
// while 4,000 messages of 4 KiB are published. The 15 that read get every
// message in order, the 5 are cut off and their subscriptions removed, and
// the server's heap stays far below what holding their backlog would take.
func TestWebSocketSlowConsumers(t *testing.T) {
	e := newEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	const fast, slow, total = 15, 5, 4000
	for range slow {
		c := dialWS(t, ctx, e.url, e.admin)
		defer c.close()
		c.send(t, `{"op":"subscribe","topics":["load.ws"],"backlog":0}`)
	}
	results := make(chan error, fast)
	for range fast {
		c := dialWS(t, ctx, e.url, e.admin)
		defer c.close()
		c.send(t, `{"op":"subscribe","topics":["load.ws"],"backlog":0}`)
		if m := c.read(t); m["op"] != "ok" {
			t.Fatalf("subscribe: %v", m)
		}
		go func() {
			for i := range total {
				_, b, err := c.conn.Read(ctx)
				if err != nil {
					results <- fmt.Errorf("after %d: %w", i, err)
					return
				}
				var m struct{ Data struct{ I int } }
				if err := json.Unmarshal(b, &m); err != nil || m.Data.I != i {
					results <- fmt.Errorf("message %d: %.80s", i, b)
					return
				}
			}
			results <- nil
		}()
	}
	waitFor(t, func() bool { return e.hub.Subscribers() == fast+slow }, "every subscriber")

	// 5 slow clients holding 16 MiB each would be 80 MiB.
	if grew := publishPadded(t, e, ctx, "load.ws", total); grew > 48<<20 {
		t.Fatalf("heap grew by %d MiB while clients did not read", grew>>20)
	}
	for range fast {
		if err := <-results; err != nil {
			t.Fatalf("a fast subscriber: %v", err)
		}
	}
	waitFor(t, func() bool { return e.hub.Subscribers() == fast }, "the slow subscribers to be cut off")
}

// TestWebSocketSlowConsumerGetsCloseCode: a subscriber whose queue passes
// the cap while its socket still has room is told why it was cut off:
// close code 4000, after the frames already written.
func TestWebSocketSlowConsumerGetsCloseCode(t *testing.T) {
	e := newEnv(t, withMaxPending(4<<10))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c := dialWS(t, ctx, e.url, e.admin)
	defer c.close()
	c.send(t, `{"op":"subscribe","ref":1,"topics":["burst.a"],"backlog":0}`)
	c.read(t)
	e.publish("burst.a", 200) // one batch: the queue passes 4 KiB at once
	var err error
	for err == nil {
		_, _, err = c.conn.Read(ctx)
	}
	if websocket.CloseStatus(err) != 4000 {
		t.Fatalf("ended with %v, want close code 4000", err)
	}
	waitFor(t, func() bool { return e.hub.Subscribers() == 0 }, "the subscriber to be removed")
}

// TestWebSocketHangUps: clients that leave in the middle of a frame —
// theirs (half a header, half a payload) or the server's (a large backlog
// being written) — are noticed: their streams end, their subscriptions
// and places in the pool are freed, and the server serves on.
func TestWebSocketHangUps(t *testing.T) {
	e := newEnv(t)
	pad := strings.Repeat("q", 2000)
	for range 4 {
		msgs := make([]client.Message, 250)
		for i := range msgs {
			msgs[i] = client.Message{Topic: "hang.a", Type: "event", Data: map[string]any{"pad": pad}}
		}
		if _, err := e.client(e.admin).Publish(context.Background(), msgs); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name string
		last func(c *rawWS)
	}{
		{"half a header", func(c *rawWS) { c.nc.Write([]byte{0x81}) }},
		{"half a payload", func(c *rawWS) {
			f := ws.MaskFrame(ws.NewTextFrame([]byte(`{"op":"ping","ref":1}`)))
			var b bytes.Buffer
			ws.WriteFrame(&b, f)
			c.nc.Write(b.Bytes()[:b.Len()-5])
		}},
		{"during a backlog", func(c *rawWS) {
			c.send(`{"op":"subscribe","topics":["hang.a"],"backlog":1000}`)
			c.next() // the ok; then leave while ~2 MB of backlog is written
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := e.dialRaw(t, "token="+e.admin)
			c.send(`{"op":"subscribe","ref":1,"topics":["hang.b"],"backlog":0}`)
			if _, p := c.next(); !strings.Contains(string(p), `"ok"`) {
				t.Fatalf("got %s", p)
			}
			waitFor(t, func() bool { return e.hub.Subscribers() == 1 && e.api.StreamStats().Conns == 1 }, "the stream")
			tc.last(c)
			c.nc.Close()
			waitFor(t, func() bool { return e.hub.Subscribers() == 0 && e.api.StreamStats().Conns == 0 }, "the stream to end")
		})
	}
	// Still serving.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c := dialWS(t, ctx, e.url, e.admin)
	defer c.close()
	c.send(t, `{"op":"ping","ref":9}`)
	if m := c.read(t); m["op"] != "pong" {
		t.Fatalf("after the hang-ups: %v", m)
	}
}

// TestWebSocketProtocolErrors: frames that break RFC 6455 end the
// connection with close code 1002 (unmasked, a reserved bit, a
// continuation with nothing to continue), a message over the limit with
// 1009, and a client's close frame is answered with its code.
func TestWebSocketProtocolErrors(t *testing.T) {
	e := newEnv(t)
	frame := func(f ws.Frame) []byte {
		var b bytes.Buffer
		ws.WriteFrame(&b, f)
		return b.Bytes()
	}
	for _, tc := range []struct {
		name  string
		bytes []byte
		code  ws.StatusCode
	}{
		{"unmasked", frame(ws.NewTextFrame([]byte(`{"op":"ping"}`))), ws.StatusProtocolError},
		{"reserved bit", frame(ws.MaskFrame(ws.Frame{Header: ws.Header{Fin: true, Rsv: ws.Rsv(false, true, false), OpCode: ws.OpText, Length: 2}, Payload: []byte("{}")})), ws.StatusProtocolError},
		{"lone continuation", frame(ws.MaskFrame(ws.NewFrame(ws.OpContinuation, true, []byte("x")))), ws.StatusProtocolError},
		{"too big", frame(ws.MaskFrame(ws.NewTextFrame(bytes.Repeat([]byte("a"), 2<<20)))), ws.StatusMessageTooBig},
		{"client closes", frame(ws.MaskFrame(ws.NewCloseFrame(ws.NewCloseFrameBody(ws.StatusNormalClosure, "bye")))), ws.StatusNormalClosure},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := e.dialRaw(t, "token="+e.admin)
			c.nc.SetWriteDeadline(time.Now().Add(5 * time.Second))
			go c.nc.Write(tc.bytes) // the server may stop reading a big one
			h, p := c.next()
			if h.OpCode != ws.OpClose {
				t.Fatalf("got op %v %q, want a close frame", h.OpCode, p)
			}
			if code, reason := ws.ParseCloseFrameData(p); code != tc.code {
				t.Fatalf("close code %d (%q), want %d", code, reason, tc.code)
			}
			waitFor(t, func() bool { return e.api.StreamStats().Conns == 0 }, "the stream to end")
		})
	}
}

// TestWebSocketOverTLS: over TLS the socket cannot be pooled; the stream
// is an attached connection of the same engine and behaves the same:
// ops, backlog, live frames, heartbeats, and the close code at expiry.
func TestWebSocketOverTLS(t *testing.T) {
	e := newEnv(t, withTLS(), withHeartbeat(50*time.Millisecond))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ids := e.publish("tls.a", 3)
	short := claims("short")
	short.Channels = grants("tls.>", "sub")
	tok := e.token(short, 1500*time.Millisecond)
	conn, _, err := websocket.Dial(ctx, "wss"+strings.TrimPrefix(e.url, "https")+"/api/v1/ws?token="+tok,
		&websocket.DialOptions{HTTPClient: e.srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.CloseNow()
	c := &wsClient{conn: conn, ctx: ctx}
	c.send(t, `{"op":"subscribe","ref":1,"topics":["tls.a"],"backlog":10}`)
	if m := c.read(t); m["op"] != "ok" {
		t.Fatalf("subscribe: %v", m)
	}
	for _, want := range ids {
		if m := c.read(t); m["id"] != want {
			t.Fatalf("backlog %v, want %s", m, want)
		}
	}
	more := e.publish("tls.a", 2)
	for _, want := range more {
		if m := c.read(t); m["id"] != want {
			t.Fatalf("live %v, want %s", m, want)
		}
	}
	var rerr error
	for rerr == nil {
		_, _, rerr = conn.Read(ctx)
	}
	if websocket.CloseStatus(rerr) != 4001 {
		t.Fatalf("ended with %v, want 4001 at the token's expiry", rerr)
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Fatal("the stream did not end at expiry")
	}
}

// TestWebSocketPeerThatAnswersNoPing: a client that answers no ping is
// dropped at the next heartbeat with close code 1001; one whose library
// answers them (coder's, while it reads) stays connected across many.
func TestWebSocketPeerThatAnswersNoPing(t *testing.T) {
	e := newEnv(t, withHeartbeat(40*time.Millisecond))
	silent := e.dialRaw(t, "token="+e.admin)
	pings := 0
	for {
		h, p := silent.next()
		if h.OpCode == ws.OpPing {
			pings++
			continue
		}
		if code, _ := ws.ParseCloseFrameData(p); h.OpCode != ws.OpClose || code != ws.StatusGoingAway || pings == 0 {
			t.Fatalf("after %d pings: op %v %q, want close 1001", pings, h.OpCode, p)
		}
		break
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c := dialWS(t, ctx, e.url, e.admin)
	defer c.close()
	c.send(t, `{"op":"subscribe","ref":1,"topics":["alive.a"],"backlog":0}`)
	c.read(t)
	// Ten heartbeats pass while the client reads (and so answers pings).
	frames := make(chan []byte, 1)
	go func() {
		defer close(frames)
		for {
			_, b, err := c.conn.Read(ctx)
			if err != nil {
				return
			}
			frames <- b
		}
	}()
	select {
	case b, ok := <-frames:
		t.Fatalf("during the heartbeats: %q (open %v)", b, ok)
	case <-time.After(400 * time.Millisecond):
	}
	ids := e.publish("alive.a", 1)
	if b := <-frames; !strings.Contains(string(b), ids[0]) {
		t.Fatalf("after the heartbeats: %q, want %s", b, ids[0])
	}
}
