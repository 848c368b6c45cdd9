package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/livedash/livedash/client"
)

func TestSSEHeadersRetryAndLive(t *testing.T) {
	e := newEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, e.url+"/api/v1/stream?topic=a.b&token="+e.admin, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
		t.Fatalf("Content-Type %q", ct)
	}
	if resp.Header.Get("X-Accel-Buffering") != "no" || !strings.Contains(resp.Header.Get("Cache-Control"), "no-cache") {
		t.Fatalf("proxy headers missing: %v", resp.Header)
	}
	buf := make([]byte, 64)
	n, _ := resp.Body.Read(buf)
	if !strings.HasPrefix(string(buf[:n]), "retry: ") {
		t.Fatalf("first bytes %q, want a retry line", buf[:n])
	}
	ids := e.publish("a.b", 1)
	var got []byte
	for !strings.Contains(string(got), "\n\n") || !strings.Contains(string(got), "data: ") {
		n, err := resp.Body.Read(buf)
		if err != nil {
			t.Fatalf("read: %v (got %q)", err, got)
		}
		got = append(got, buf[:n]...)
	}
	want := "id: " + ids[0] + "\nevent: point\ndata: {\"id\":\"" + ids[0] + "\",\"topic\":\"a.b\",\"type\":\"point\""
	if !strings.HasPrefix(string(got), want) {
		t.Fatalf("event\n%q\nwant prefix\n%q", got, want)
	}
}

func TestSSEBacklog(t *testing.T) {
	e := newEnv(t)
	a := e.publish("shop.a", 60)
	b := e.publish("shop.b", 3)
	e.publish("other", 2)

	s := e.openSSE("topic=shop.*&token=" + e.admin)
	got := s.collect(t, 53)
	want := append(slices.Clone(a[10:]), b...)
	if !slices.Equal(got, want) {
		t.Fatalf("default backlog: got %d ids %v…, want %d", len(got), got[:3], len(want))
	}

	s2 := e.openSSE("topic=shop.a&topic=shop.b&backlog=2&token=" + e.admin)
	got = s2.collect(t, 4)
	if !slices.Equal(got, []string{a[58], a[59], b[1], b[2]}) {
		t.Fatalf("backlog=2: %v", got)
	}
	// backlog=0: nothing old, only live.
	s3 := e.openSSE("topic=shop.a&backlog=0&token=" + e.admin)
	live := e.publish("shop.a", 1)
	if got := s3.collect(t, 1); got[0] != live[0] {
		t.Fatalf("backlog=0 got %v, want %v", got, live)
	}
}

// TestFanoutSSEAndWebSocket: many subscribers over both transports receive
// every message, in order, once.
func TestFanoutSSEAndWebSocket(t *testing.T) {
	e := newEnv(t)
	const perTransport, messages = 40, 300
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	results := make(chan []string, 2*perTransport)
	ready := make(chan struct{}, 2*perTransport)
	for i := 0; i < perTransport; i++ {
		wg.Add(2)
		go func() {
			defer wg.Done()
			var ids []string
			backlog := 0
			err := e.client(e.admin).Stream(ctx, client.StreamOptions{Patterns: []string{"fan.>"}, Backlog: &backlog}, func(ev client.Event) error {
				ids = append(ids, ev.ID)
				if len(ids) == messages {
					return errDone
				}
				return nil
			})
			if err != errDone {
				t.Errorf("sse: %v after %d", err, len(ids))
			}
			results <- ids
		}()
		go func() {
			defer wg.Done()
			ws := dialWS(t, ctx, e.url, e.admin)
			defer ws.close()
			ws.send(t, `{"op":"subscribe","ref":1,"topics":["fan.>"],"backlog":0}`)
			if r := ws.read(t); r["op"] != "ok" {
				t.Errorf("subscribe answer %v", r)
			}
			ready <- struct{}{}
			var ids []string
			for len(ids) < messages {
				m := ws.read(t)
				if m == nil {
					break
				}
				if m["op"] == "message" {
					ids = append(ids, m["id"].(string))
				}
			}
			results <- ids
		}()
	}
	// Wait until every subscriber is connected before publishing.
	for i := 0; i < perTransport; i++ {
		<-ready
	}
	waitFor(t, func() bool { return e.hub.Subscribers() >= 2*perTransport }, "subscribers connected")
	var want []string
	for i := 0; i < messages/10; i++ {
		want = append(want, e.publish(fmt.Sprintf("fan.t%d", i%3), 10)...)
	}
	wg.Wait()
	close(results)
	n := 0
	for got := range results {
		n++
		if !slices.Equal(got, want) {
			t.Fatalf("a subscriber got %d messages (first %v), want %d in order", len(got), first(got), len(want))
		}
	}
	if n != 2*perTransport {
		t.Fatalf("%d results", n)
	}
}

var errDone = fmt.Errorf("done")

func first(ids []string) []string { return ids[:min(3, len(ids))] }

func waitFor(t *testing.T, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestResumeExactUnderLoad: a client reads part of a stream, drops, and
// comes back with Last-Event-ID while a publisher keeps publishing; the
// union of what it saw is exactly every message, in order, none twice.
func TestResumeExactUnderLoad(t *testing.T) {
	e := newEnv(t)
	e.publish("r.a", 5)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var mu sync.Mutex
	var published []string
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; ctx.Err() == nil && i < 400; i++ {
			ids, err := e.client(e.admin).Publish(ctx, []client.Message{{Topic: fmt.Sprintf("r.%c", 'a'+i%3), Data: i}, {Topic: "x.other", Data: i}})
			if err != nil {
				return
			}
			mu.Lock()
			published = append(published, ids[0])
			mu.Unlock()
		}
	}()
	var seen []string
	last := ""
	for round := 0; round < 8; round++ {
		q := "topic=r.*&backlog=0&token=" + e.admin
		var s *sseConn
		if last == "" {
			s = e.openSSE(q)
		} else {
			s = e.openSSE(q, "Last-Event-ID", last)
		}
		got := s.collect(t, 20)
		s.close()
		seen = append(seen, got...)
		last = got[len(got)-1]
		// Offline for a while (longer each round) as publishes go on: the
		// gap the resume must fill. Not a synchronisation.
		time.Sleep(time.Duration(round) * 3 * time.Millisecond)
	}
	<-done
	// Catch up on the rest after the publisher stopped.
	mu.Lock()
	total := slices.Clone(published)
	mu.Unlock()
	start := slices.Index(total, seen[0])
	if start < 0 {
		t.Fatalf("first seen id %s was not published by the loop", seen[0])
	}
	rest := len(total) - start - len(seen)
	if rest > 0 {
		s := e.openSSE("topic=r.*&backlog=0&token="+e.admin, "Last-Event-ID", last)
		seen = append(seen, s.collect(t, rest)...)
	}
	if !slices.Equal(seen, total[start:]) {
		for i := range seen {
			if i >= len(total[start:]) || seen[i] != total[start+i] {
				t.Fatalf("diverged at %d: got %s, want %v (seen %d, published %d)", i, seen[i], total[start+i:min(start+i+1, len(total))], len(seen), len(total)-start)
			}
		}
		t.Fatalf("seen %d, want %d", len(seen), len(total)-start)
	}
}

// TestResumeWithSinceParam and the header taking precedence.
func TestResumeSinceAndHeaderWins(t *testing.T) {
	e := newEnv(t)
	ids := e.publish("s.a", 10)
	s := e.openSSE("topic=s.a&since=" + ids[6] + "&token=" + e.admin)
	if got := s.collect(t, 3); !slices.Equal(got, ids[7:]) {
		t.Fatalf("since: %v", got)
	}
	s2 := e.openSSE("topic=s.a&since="+ids[2]+"&token="+e.admin, "Last-Event-ID", ids[8])
	if got := s2.collect(t, 1); got[0] != ids[9] {
		t.Fatalf("header should win: %v", got)
	}
	// Resume from the newest id: nothing old, then live.
	s3 := e.openSSE("topic=s.a&since=" + ids[9] + "&token=" + e.admin)
	more := e.publish("s.a", 1)
	if got := s3.collect(t, 1); got[0] != more[0] {
		t.Fatalf("resume from head: %v", got)
	}
}

func TestResetWhenResumeImpossible(t *testing.T) {
	e := newEnv(t)
	ids := e.publish("z.a", 3)
	for _, tc := range []struct{ name, since, reason string }{
		{"malformed", "not-an-id!", "malformed id"},
		{"another epoch", "2-zzzzzzzz", "unknown id"},
		{"from the future", fmt.Sprintf("%d-%s", seqOf(t, ids[2])+100, strings.SplitN(ids[0], "-", 2)[1]), "unknown id"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := e.openSSE("topic=z.*&backlog=2&token="+e.admin, "Last-Event-ID", tc.since)
			ev := s.next(t, 5*time.Second)
			if ev.event != "reset" || ev.id != "" {
				t.Fatalf("first event %+v, want reset", ev)
			}
			var data struct {
				Topics []string
				Reason string
			}
			if err := json.Unmarshal([]byte(ev.data), &data); err != nil || !slices.Equal(data.Topics, []string{"z.*"}) || data.Reason != tc.reason {
				t.Fatalf("reset data %s (%v)", ev.data, err)
			}
			if got := s.collect(t, 2); !slices.Equal(got, ids[1:]) {
				t.Fatalf("backlog after reset: %v", got)
			}
		})
	}
}

func TestResetWhenHistoryTrimmed(t *testing.T) {
	e := newEnvWithRetention(t)
	ids := e.publish("old.a", 5)
	if _, err := e.store.Retain(context.Background()); err != nil {
		t.Fatal(err)
	}
	s := e.openSSE("topic=old.a&token="+e.admin, "Last-Event-ID", ids[0])
	ev := s.next(t, 5*time.Second)
	if ev.event != "reset" || !strings.Contains(ev.data, "history trimmed") {
		t.Fatalf("got %+v, want a history-trimmed reset", ev)
	}
	// The last message of the topic is kept and sent as the backlog.
	if got := s.collect(t, 1); got[0] != ids[4] {
		t.Fatalf("after reset: %v", got)
	}
}

func TestHeartbeat(t *testing.T) {
	e := newEnv(t, withHeartbeat(50*time.Millisecond))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, e.url+"/api/v1/stream?topic=hb&token="+e.admin, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got []byte
	buf := make([]byte, 256)
	for strings.Count(string(got), ": ping\n\n") < 2 {
		n, err := resp.Body.Read(buf)
		if err != nil {
			t.Fatalf("read: %v (got %q)", err, got)
		}
		got = append(got, buf[:n]...)
	}
}

// TestCloseStreamsEndsStreams: a graceful shutdown ends open streams so
// clients reconnect.
func TestCloseStreamsEndsStreams(t *testing.T) {
	e := newEnv(t)
	s := e.openSSE("topic=c.a&token=" + e.admin)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ws := dialWS(t, ctx, e.url, e.admin)
	defer ws.close()
	ws.send(t, `{"op":"subscribe","ref":1,"topics":["c.a"]}`)
	ws.read(t)
	waitFor(t, func() bool { return e.hub.Subscribers() == 2 }, "2 subscribers")
	wsEnded := make(chan map[string]any, 1)
	go func() { wsEnded <- ws.read(t) }() // answer the close handshake
	e.api.CloseStreams(ctx)
	ended := make(chan error, 1)
	go func() {
		for s.sc.Scan() {
		}
		ended <- s.sc.Err()
	}()
	select {
	case <-ended:
	case <-time.After(5 * time.Second):
		t.Fatal("SSE stream still open after CloseStreams")
	}
	if m := <-wsEnded; m != nil {
		t.Fatalf("websocket still open: %v", m)
	}
	if e.hub.Subscribers() != 0 {
		t.Fatalf("%d subscribers left", e.hub.Subscribers())
	}
}
