package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/livedash/livedash/client"
	"github.com/livedash/livedash/internal/redistest"
)

// waitLog waits until s has logged a line containing what.
func waitLog(t *testing.T, s *server, what string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(s.stderr.String(), what) {
		if time.Now().After(deadline) {
			t.Fatalf("no %q in the log:\n%s", what, s.stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// startNode runs a livedash node on the cluster.
func startNode(t *testing.T, r *redistest.Server, args ...string) *server {
	t.Helper()
	return startServerArgs(t, t.TempDir(), "127.0.0.1:0", append([]string{"--broker", r.URL()}, args...), "LIVEDASH_SECRET="+e2eSecret)
}

// TestClusterFanoutAndResumeOnAnotherNode: what node B publishes reaches a
// subscriber of node A in order; a client that read part of the stream on
// A resumes on B with exactly the messages it missed; history is the same
// on both nodes.
func TestClusterFanoutAndResumeOnAnotherNode(t *testing.T) {
	r := redistest.Start(t)
	a, b := startNode(t, r), startNode(t, r)
	tok := adminToken(t)
	ca, cb := &client.Client{BaseURL: a.url, Token: tok}, &client.Client{BaseURL: b.url, Token: tok}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	got := make(chan string, 1000)
	streamCtx, stopStream := context.WithCancel(ctx)
	zero := 0
	go ca.Stream(streamCtx, client.StreamOptions{Patterns: []string{"cl.>"}, Backlog: &zero}, func(ev client.Event) error {
		got <- ev.ID
		return nil
	})
	waitConnected(t, cb, "cl.ready", got)

	var want []string
	for i := 0; i < 50; i++ {
		id, err := cb.PublishData(ctx, fmt.Sprintf("cl.t%d", i%3), "", []byte(fmt.Sprint(i)))
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, id)
	}
	var seen []string
	for len(seen) < 25 {
		seen = append(seen, recv(t, got))
	}
	stopStream()
	if !slices.Equal(seen, want[:25]) {
		t.Fatalf("node A got %v, want %v", seen, want[:25])
	}
	// Resume on node B from the last id read on A, while more arrive via A.
	for i := 50; i < 60; i++ {
		id, err := ca.PublishData(ctx, "cl.t0", "", []byte(fmt.Sprint(i)))
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, id)
	}
	// A fresh channel: the stream on A may still be handing over a message.
	gotB := make(chan string, 1000)
	go cb.Stream(ctx, client.StreamOptions{Patterns: []string{"cl.>"}, Since: seen[24]}, func(ev client.Event) error {
		gotB <- ev.ID
		return nil
	})
	var resumed []string
	for len(resumed) < len(want)-25 {
		resumed = append(resumed, recv(t, gotB))
	}
	if !slices.Equal(resumed, want[25:]) {
		t.Fatalf("resume on B got %v, want %v", resumed, want[25:])
	}
	expectFenceNext(t, cb, "cl.t0", gotB)
	// The fence went through B; A has it once it ingested it from Redis.
	deadline := time.Now().Add(10 * time.Second)
	for {
		ha, hb := history(t, a, tok, "cl.>"), history(t, b, tok, "cl.>")
		if ha == hb && strings.Contains(ha, want[59]) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("history differs between nodes:\nA %s\nB %s", ha, hb)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func recv(t *testing.T, ch <-chan string) string {
	t.Helper()
	select {
	case id := <-ch:
		return id
	case <-time.After(10 * time.Second):
		t.Fatal("no message within 10s")
	}
	return ""
}

func history(t *testing.T, s *server, tok, pattern string) string {
	t.Helper()
	resp, err := http.Get(s.url + "/api/v1/history?limit=10000&topic=" + pattern + "&token=" + tok)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var h struct{ Messages []json.RawMessage }
	json.NewDecoder(resp.Body).Decode(&h)
	var b strings.Builder
	for _, m := range h.Messages {
		b.Write(m)
		b.WriteByte('\n')
	}
	return b.String()
}

// TestClusterKill9LosesNoAcknowledgedPublish: a node killed with SIGKILL
// while publishing loses no message it acknowledged: the other node has
// every one.
func TestClusterKill9LosesNoAcknowledgedPublish(t *testing.T) {
	r := redistest.Start(t)
	a, b := startNode(t, r), startNode(t, r)
	tok := adminToken(t)
	ca := &client.Client{BaseURL: a.url, Token: tok}
	var mu sync.Mutex
	var acked []string
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				ids, err := ca.Publish(context.Background(), []client.Message{{Topic: fmt.Sprintf("k9.w%d", w), Data: i}})
				if err != nil {
					return
				}
				mu.Lock()
				acked = append(acked, ids...)
				mu.Unlock()
			}
		}()
	}
	for {
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		if n >= 500 {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	a.cmd.Process.Signal(syscall.SIGKILL)
	wg.Wait()
	deadline := time.Now().Add(10 * time.Second)
	for {
		h := history(t, b, tok, "k9.>")
		missing := 0
		for _, id := range acked {
			if !strings.Contains(h, `"id":"`+id+`"`) {
				missing++
			}
		}
		if missing == 0 {
			t.Logf("%d acknowledged before kill -9, all on node B", len(acked))
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d acknowledged messages missing on node B", missing, len(acked))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestClusterSurvivesRedisRestart: with Redis down, /readyz fails and
// publishes answer 503 at once (nothing stored), open streams stay open;
// when Redis is back the node recovers by itself and the stream carries
// on without a gap.
func TestClusterSurvivesRedisRestart(t *testing.T) {
	r := redistest.Start(t)
	a := startNode(t, r)
	tok := adminToken(t)
	ca := &client.Client{BaseURL: a.url, Token: tok}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	got := make(chan string, 100)
	resets := make(chan string, 10)
	zero := 0
	go ca.Stream(ctx, client.StreamOptions{Patterns: []string{"rr.>"}, Backlog: &zero}, func(ev client.Event) error {
		if ev.Type == "reset" {
			resets <- string(ev.Data)
			return nil
		}
		got <- ev.ID
		return nil
	})
	waitConnected(t, ca, "rr.ready", got)
	before, err := ca.PublishData(ctx, "rr.a", "", []byte("1"))
	if err != nil {
		t.Fatal(err)
	}
	if id := recv(t, got); id != before {
		t.Fatalf("got %s, want %s", id, before)
	}

	r.Stop()
	start := time.Now()
	_, err = ca.PublishData(ctx, "rr.a", "", []byte("2"))
	if e, ok := err.(*client.APIError); !ok || e.Status != 503 {
		t.Fatalf("publish with Redis down: %v, want a 503", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("publish with Redis down took %v", d)
	}
	if status := get(t, a.url+"/readyz"); status != 503 {
		t.Fatalf("readyz with Redis down: %d", status)
	}
	if body := getBody(t, a.url+"/metrics"); !strings.Contains(body, `livedash_broker_errors_total{op="append"} 1`) {
		t.Fatalf("the failed append is not counted in /metrics:\n%s", grepLines(body, "livedash_broker"))
	}
	if status := get(t, a.url+"/healthz"); status != 200 {
		t.Fatalf("healthz with Redis down: %d", status)
	}

	r.Restart()
	deadline := time.Now().Add(15 * time.Second)
	for get(t, a.url+"/readyz") != 200 {
		if time.Now().After(deadline) {
			t.Fatalf("node not ready again after Redis came back:\n%s", a.stderr.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	var after string
	for after == "" {
		id, err := ca.PublishData(ctx, "rr.a", "", []byte("3"))
		if err == nil {
			after = id
		} else if time.Now().After(deadline) {
			t.Fatalf("publish after Redis came back: %v", err)
		}
	}
	if id := recv(t, got); id != after {
		t.Fatalf("after recovery got %s, want %s", id, after)
	}
	select {
	case r := <-resets:
		t.Fatalf("unexpected reset: %s", r)
	default:
	}
}

func getBody(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// grepLines returns the lines of s that contain sub.
func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

func get(t *testing.T, url string) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestClusterRollupCountedOnce: a rollup configured on both nodes counts
// every message once, whichever node it was published to.
func TestClusterRollupCountedOnce(t *testing.T) {
	r := redistest.Start(t)
	cfg := filepath.Join(t.TempDir(), "livedash.yaml")
	os.WriteFile(cfg, []byte("rollups:\n  - topic: once.orders\n    field: total\n    windows: [today]\n    throttle: 100ms\n"), 0o600)
	a := startNode(t, r, "--config", cfg)
	b := startNode(t, r, "--config", cfg)
	tok := adminToken(t)
	ctx := context.Background()
	for i := 0; i < 40; i++ {
		node := a
		if i%2 == 1 {
			node = b
		}
		c := &client.Client{BaseURL: node.url, Token: tok}
		if _, err := c.PublishData(ctx, "once.orders", "event", []byte(`{"total":2.5}`)); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := http.Get(a.url + "/api/v1/topics?topic=rollup.once.orders.today&token=" + tok)
		if err != nil {
			t.Fatal(err)
		}
		var ts []struct {
			Last struct {
				Data struct {
					Count int
					Sum   float64
				}
			}
		}
		json.NewDecoder(resp.Body).Decode(&ts)
		resp.Body.Close()
		if len(ts) == 1 && ts[0].Last.Data.Count == 40 && ts[0].Last.Data.Sum == 100 {
			return
		}
		if len(ts) == 1 && ts[0].Last.Data.Count > 40 {
			t.Fatalf("rollup counted %d messages (sum %v): counted more than once", ts[0].Last.Data.Count, ts[0].Last.Data.Sum)
		}
		if time.Now().After(deadline) {
			t.Fatalf("rollup never reached 40: %+v", ts)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestClusterRecoversFromRedisDataLoss: Redis restarted empty (no
// persistence); the nodes restore the epoch and the counter from their own
// stores, so ids keep growing and nothing is handed out twice.
func TestClusterRecoversFromRedisDataLoss(t *testing.T) {
	r := redistest.Start(t)
	a := startNode(t, r)
	tok := adminToken(t)
	ca := &client.Client{BaseURL: a.url, Token: tok}
	ctx := context.Background()
	first, err := ca.PublishData(ctx, "dl.a", "", []byte("1"))
	if err != nil {
		t.Fatal(err)
	}
	r.Stop()
	os.RemoveAll(r.Dir)
	os.MkdirAll(r.Dir, 0o700)
	r.Start()
	deadline := time.Now().Add(15 * time.Second)
	var next string
	for next == "" {
		id, err := ca.PublishData(ctx, "dl.a", "", []byte("2"))
		if err == nil {
			next = id
		} else if time.Now().After(deadline) {
			t.Fatalf("no publish after Redis lost its data: %v", err)
		} else {
			time.Sleep(100 * time.Millisecond)
		}
	}
	f, n := strings.SplitN(first, "-", 2), strings.SplitN(next, "-", 2)
	var fs, ns uint64
	fmt.Sscan(f[0], &fs)
	fmt.Sscan(n[0], &ns)
	if f[1] != n[1] || ns <= fs {
		t.Fatalf("after data loss: %s then %s (want the same epoch and a larger id)", first, next)
	}
	if h := history(t, a, tok, "dl.a"); strings.Count(h, "\n") != 2 {
		t.Fatalf("history after data loss:\n%s", h)
	}
}

// TestClusterRollupSurvivesLeaderLoss: the node running the rollups is
// killed with SIGKILL; another node takes the lease over and goes on from
// the state in Redis, so the count stays exact.
func TestClusterRollupSurvivesLeaderLoss(t *testing.T) {
	r := redistest.Start(t)
	cfg := filepath.Join(t.TempDir(), "livedash.yaml")
	os.WriteFile(cfg, []byte("rollups:\n  - topic: lead.orders\n    windows: [today]\n    throttle: 100ms\n"), 0o600)
	// A short lease, so the takeover is quick; a wins it first.
	a := startNode(t, r, "--config", cfg, "--log-level", "debug", "--lease-ttl", "1s")
	waitLog(t, a, "msg=leading")
	b := startNode(t, r, "--config", cfg, "--log-level", "debug", "--lease-ttl", "1s")
	tok := adminToken(t)
	ctx := context.Background()
	publish := func(s *server, n int) {
		c := &client.Client{BaseURL: s.url, Token: tok}
		for i := 0; i < n; i++ {
			if _, err := c.PublishData(ctx, "lead.orders", "", []byte("1")); err != nil {
				t.Fatal(err)
			}
		}
	}
	count := func(s *server) int {
		resp, err := http.Get(s.url + "/api/v1/topics?topic=rollup.lead.orders.today&token=" + tok)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var ts []struct {
			Last struct{ Data struct{ Count int } }
		}
		json.NewDecoder(resp.Body).Decode(&ts)
		if len(ts) == 0 {
			return -1
		}
		return ts[0].Last.Data.Count
	}
	waitCount := func(s *server, want int, within time.Duration) {
		t.Helper()
		deadline := time.Now().Add(within)
		for {
			got := count(s)
			if got == want {
				return
			}
			if got > want {
				t.Fatalf("rollup counted %d, want %d: counted twice", got, want)
			}
			if time.Now().After(deadline) {
				t.Fatalf("rollup at %d, want %d\nA:\n%s\nB:\n%s", got, want, a.stderr.String(), b.stderr.String())
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	publish(b, 20)
	waitCount(b, 20, 10*time.Second)
	a.cmd.Process.Signal(syscall.SIGKILL)
	publish(b, 15)
	// The lease runs out (1 s), b takes over and catches up.
	waitLog(t, b, "msg=leading")
	waitCount(b, 35, 20*time.Second)
}

// TestClusterDashboardsAreShared: a dashboard PUT through node A is served
// by node B as soon as A has answered, a DELETE through B is seen by A, and
// definitions outlive the restart of every node (they live in Redis).
func TestClusterDashboardsAreShared(t *testing.T) {
	r := redistest.Start(t)
	a, b := startNode(t, r), startNode(t, r)
	tok := adminToken(t)
	board := `{"title":"Orders","columns":2,"widgets":[{"id":"w1","type":"stat","title":"Orders","topics":["shop.orders"]}]}`
	if status, body := request(t, "PUT", a.url+"/api/v1/dashboards/orders", tok, board); status != 200 {
		t.Fatalf("PUT on A: %d %s", status, body)
	}
	if status, body := request(t, "GET", b.url+"/api/v1/dashboards/orders", tok, ""); status != 200 || !strings.Contains(body, `"title":"Orders"`) {
		t.Fatalf("GET on B right after the PUT on A: %d %s", status, body)
	}
	if status, body := request(t, "PUT", b.url+"/api/v1/dashboards/gone", tok, board); status != 200 {
		t.Fatalf("PUT on B: %d %s", status, body)
	}
	if status, _ := request(t, "DELETE", b.url+"/api/v1/dashboards/gone", tok, ""); status != 204 {
		t.Fatalf("DELETE on B: %d", status)
	}
	if status, _ := request(t, "GET", a.url+"/api/v1/dashboards/gone", tok, ""); status != 404 {
		t.Fatalf("GET on A after the DELETE on B: %d, want 404", status)
	}
	// Every node restarts, with data dirs of their own: Redis keeps them.
	a.stop(syscall.SIGTERM)
	b.stop(syscall.SIGTERM)
	c := startNode(t, r)
	if status, body := request(t, "GET", c.url+"/api/v1/dashboards", tok, ""); status != 200 || !strings.Contains(body, `"name":"orders"`) || strings.Contains(body, `"name":"gone"`) {
		t.Fatalf("dashboards on a new node: %d %s", status, body)
	}
}

// request sends an HTTP request with a bearer token and returns status and body.
func request(t *testing.T, method, url, tok, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
