package main

import (
	"context"
	"crypto/hmac"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/livedash/livedash/client"
	"github.com/livedash/livedash/internal/redistest"
	"github.com/livedash/livedash/notify"
)

// hook is a real webhook receiver on loopback that checks signatures.
type hook struct {
	srv    *http.Server
	url    string
	secret string
	// failFirst requests are answered 503.
	failFirst int

	mu   sync.Mutex
	reqs []hookRequest
}

type hookRequest struct {
	status   int
	id       string
	alert    notify.Alert
	signedOK bool
}

// startHook serves a receiver on ln (a free port when ln is nil).
func startHook(t *testing.T, secret string, ln net.Listener) *hook {
	t.Helper()
	if ln == nil {
		var err error
		if ln, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
			t.Fatal(err)
		}
	}
	h := &hook{url: "http://" + ln.Addr().String() + "/hook", secret: secret}
	h.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		req := hookRequest{id: r.Header.Get(notify.IDHeader)}
		json.Unmarshal(body, &req.alert)
		req.signedOK = hmac.Equal([]byte(r.Header.Get(notify.SignatureHeader)), []byte(notify.Sign(h.secret, body)))
		h.mu.Lock()
		req.status = 200
		if len(h.reqs) < h.failFirst {
			req.status = 503
		}
		h.reqs = append(h.reqs, req)
		h.mu.Unlock()
		w.WriteHeader(req.status)
	})}
	go h.srv.Serve(ln)
	t.Cleanup(func() { h.srv.Close() })
	return h
}

func (h *hook) requests() []hookRequest {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]hookRequest(nil), h.reqs...)
}

func (h *hook) wait(t *testing.T, n int) []hookRequest {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for len(h.requests()) < n {
		if time.Now().After(deadline) {
			t.Fatalf("receiver got %d requests, want %d", len(h.requests()), n)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return h.requests()
}

// notifyConfig writes a config with one receiver named hook at url and a
// rule cpu (host.cpu > 90) that notifies it.
func notifyConfig(t *testing.T, url, secret string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "livedash.yaml")
	cfg := fmt.Sprintf(`public_url: https://dash.example.com
notify:
  - {name: hook, url: %q, secret: %q, timeout: 2s}
alerts:
  - {name: cpu, topic: host.cpu, op: ">", threshold: 90, severity: critical, notify: [hook]}
`, url, secret)
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// alertIDs returns the ids of the messages on alerts.cpu, oldest first.
func alertIDs(t *testing.T, s *server, tok string) []string {
	t.Helper()
	var ids []string
	for _, line := range strings.Split(strings.TrimSpace(history(t, s, tok, "alerts.cpu")), "\n") {
		var m struct{ ID string }
		if json.Unmarshal([]byte(line), &m) == nil && m.ID != "" {
			ids = append(ids, m.ID)
		}
	}
	return ids
}

// waitOutcome waits until sys.notify holds an outcome for id.
func waitOutcome(t *testing.T, s *server, tok, id, outcome string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(history(t, s, tok, notify.Topic), `"id":"`+id+`","receiver":"hook","outcome":"`+outcome+`"`) {
		if time.Now().After(deadline) {
			t.Fatalf("no %s outcome for %s on sys.notify:\n%s", outcome, id, history(t, s, tok, notify.Topic))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func post(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Post(url, "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestNotifyFiringAndResolvedThroughTheServer: the real binary's alert
// rule fires and resolves; the receiver gets one signed request for each,
// carrying the id of the alert message; the test API sends through the
// same path; outcomes are counted in /metrics.
func TestNotifyFiringAndResolvedThroughTheServer(t *testing.T) {
	h := startHook(t, "hook-secret", nil)
	s := startServerArgs(t, t.TempDir(), "127.0.0.1:0", []string{"--config", notifyConfig(t, h.url, "hook-secret")}, "LIVEDASH_SECRET="+e2eSecret)
	tok := adminToken(t)
	c := &client.Client{BaseURL: s.url, Token: tok}
	ctx := context.Background()
	for _, v := range []string{"95", "97", "10"} {
		if _, err := c.PublishData(ctx, "host.cpu", "", []byte(v)); err != nil {
			t.Fatal(err)
		}
	}
	reqs := h.wait(t, 2)
	ids := alertIDs(t, s, tok)
	if len(ids) != 2 {
		t.Fatalf("alerts.cpu has %d messages, want 2", len(ids))
	}
	for i, state := range []string{"firing", "resolved"} {
		r := reqs[i]
		if !r.signedOK || r.id != ids[i] || r.alert.ID != ids[i] || r.alert.State != state || r.alert.Rule != "cpu" ||
			r.alert.URL != "https://dash.example.com/explore?topic=host.cpu" {
			t.Fatalf("request %d: %+v, want %s of %s, signed", i, r, state, ids[i])
		}
	}

	// The test API: admins only, a known receiver, the outcome in the answer.
	user, _, _ := cli(t, "", []string{"LIVEDASH_SECRET=" + e2eSecret}, "token", "--sub", "u", "--subscribe", "host.>")
	if code, body := post(t, s.url+"/api/v1/notify/test?receiver=hook&token="+strings.TrimSpace(user)); code != 403 {
		t.Fatalf("non-admin: %d %s", code, body)
	}
	if code, body := post(t, s.url+"/api/v1/notify/test?receiver=nope&token="+tok); code != 404 || !strings.Contains(body, `"error"`) {
		t.Fatalf("unknown receiver: %d %s", code, body)
	}
	code, body := post(t, s.url+"/api/v1/notify/test?receiver=hook&token="+tok)
	var o notify.Outcome
	json.Unmarshal([]byte(body), &o)
	if code != 200 || o.Outcome != notify.OutcomeSent || o.Status != 200 || !strings.HasPrefix(o.ID, "test-") {
		t.Fatalf("test notification: %d %s", code, body)
	}
	if got := h.wait(t, 3)[2]; got.id != o.ID || got.alert.State != notify.StateTest || !got.signedOK {
		t.Fatalf("test notification received as %+v", got)
	}
	if n := len(h.requests()); n != 3 {
		t.Fatalf("receiver got %d requests, want 3", n)
	}
	resp, err := http.Get(s.url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	m, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(m), `livedash_notifications_total{outcome="sent",receiver="hook"} 3`) {
		t.Fatalf("metrics lack 3 sent notifications:\n%s", grepLines(string(m), "livedash_notifications"))
	}
}

// TestNotifyPendingSurvivesKill9: the receiver is down, so the firing
// notification is being retried when the server is killed with SIGKILL;
// after a restart, with the receiver up, it is sent, with the same id.
func TestNotifyPendingSurvivesKill9(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // down: connections are refused
	url := "http://" + addr + "/hook"
	cfg := notifyConfig(t, url, "k")
	data := t.TempDir()
	env := "LIVEDASH_SECRET=" + e2eSecret
	s := startServerArgs(t, data, "127.0.0.1:0", []string{"--config", cfg}, env)
	tok := adminToken(t)
	c := &client.Client{BaseURL: s.url, Token: tok}
	if _, err := c.PublishData(context.Background(), "host.cpu", "", []byte("99")); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	var ids []string
	for ids = alertIDs(t, s, tok); len(ids) == 0; ids = alertIDs(t, s, tok) {
		if time.Now().After(deadline) {
			t.Fatal("the alert never fired")
		}
		time.Sleep(20 * time.Millisecond)
	}
	waitOutcome(t, s, tok, ids[0], notify.OutcomeRetry)
	s.cmd.Process.Signal(syscall.SIGKILL)
	<-s.exited
	s.exited <- nil

	if ln, err = net.Listen("tcp", addr); err != nil {
		t.Fatalf("the receiver's port was taken meanwhile: %v", err)
	}
	h := startHook(t, "k", ln)
	s2 := startServerArgs(t, data, "127.0.0.1:0", []string{"--config", cfg}, env)
	reqs := h.wait(t, 1)
	if reqs[0].id != ids[0] || reqs[0].alert.State != "firing" || !reqs[0].signedOK {
		t.Fatalf("after restart the receiver got %+v, want the firing of %s", reqs[0], ids[0])
	}
	waitOutcome(t, s2, tok, ids[0], notify.OutcomeSent)
	if n := len(h.requests()); n != 1 {
		t.Fatalf("receiver got %d requests, want 1", n)
	}
}

// TestNotifyBadConfigRefused: the server does not start, and says which
// file, rule or receiver, and field is wrong.
func TestNotifyBadConfigRefused(t *testing.T) {
	for _, tc := range []struct{ name, yaml, want string }{
		{"unknown receiver", "notify: [{name: ops, url: 'http://h/x'}]\nalerts: [{name: cpu, topic: host.cpu, op: '>', threshold: 90, notify: [pager]}]",
			`config: alerts: alert 0 (cpu): notify: unknown receiver "pager" (receivers: ops)`},
		{"bad url", "notify: [{name: ops, url: 'hooks.example.com/x'}]", `config: notify: receiver 0 (ops): url "hooks.example.com/x": must be an http:// or https:// URL with a host`},
		{"bad format", "notify: [{name: ops, url: 'http://h/x', format: teams}]", `config: notify: receiver 0 (ops): format "teams": use json or slack`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "bad.yaml")
			os.WriteFile(path, []byte(tc.yaml), 0o600)
			_, stderr, code := cli(t, "", []string{"LIVEDASH_SECRET=" + e2eSecret}, "serve", "--addr", "127.0.0.1:0", "--data", t.TempDir(), "--config", path)
			if code != 1 || !strings.Contains(stderr, path+": "+tc.want) {
				t.Fatalf("exit %d, stderr %q; want 1 and %q", code, stderr, path+": "+tc.want)
			}
		})
	}
}

// TestClusterNotifiesOnce: two nodes on one Redis, the same config; an
// alert fires through one node and resolves through the other; the first
// try fails (503) and is retried from the queue in Redis; the receiver
// gets each notification delivered once, every try with its id.
func TestClusterNotifiesOnce(t *testing.T) {
	r := redistest.Start(t)
	h := startHook(t, "k", nil)
	h.mu.Lock()
	h.failFirst = 1
	h.mu.Unlock()
	cfg := notifyConfig(t, h.url, "k")
	a, b := startNode(t, r, "--config", cfg), startNode(t, r, "--config", cfg)
	tok := adminToken(t)
	ctx := context.Background()
	if _, err := (&client.Client{BaseURL: a.url, Token: tok}).PublishData(ctx, "host.cpu", "", []byte("95")); err != nil {
		t.Fatal(err)
	}
	h.wait(t, 2) // a 503, then the retry
	if _, err := (&client.Client{BaseURL: b.url, Token: tok}).PublishData(ctx, "host.cpu", "", []byte("5")); err != nil {
		t.Fatal(err)
	}
	h.wait(t, 3)
	ids := alertIDs(t, a, tok)
	if len(ids) != 2 {
		t.Fatalf("alerts %v, want a firing and a resolution", ids)
	}
	// Both outcomes are on sys.notify (every node sees it). Then a fence:
	// a new firing, sent after them; a second sender would send its
	// repeats of the first two before its copy of the fence, so once the
	// fence is delivered and recorded, any repeat has had its chance.
	waitOutcome(t, b, tok, ids[1], notify.OutcomeSent)
	if _, err := (&client.Client{BaseURL: a.url, Token: tok}).PublishData(ctx, "host.cpu", "", []byte("96")); err != nil {
		t.Fatal(err)
	}
	h.wait(t, 4)
	fence := alertIDs(t, a, tok)
	if len(fence) != 3 {
		t.Fatalf("alerts %v, want a firing, a resolution and a firing", fence)
	}
	waitOutcome(t, b, tok, fence[2], notify.OutcomeSent)
	reqs := h.requests()
	if len(reqs) != 4 || reqs[3].id != fence[2] {
		t.Fatalf("receiver got %d requests, want 3 then the fence %s: %+v", len(reqs), fence[2], reqs)
	}
	reqs = reqs[:3]
	delivered := map[string]int{}
	for _, q := range reqs {
		if q.id != q.alert.ID || !q.signedOK {
			t.Fatalf("request %+v", q)
		}
		if q.status == 200 {
			delivered[q.id]++
		}
	}
	if len(reqs) != 3 || reqs[0].id != ids[0] || reqs[1].id != ids[0] || delivered[ids[0]] != 1 || delivered[ids[1]] != 1 {
		t.Fatalf("receiver got %d requests across the cluster (%v delivered), want 3: %s twice (503, 200), then %s", len(reqs), delivered, ids[0], ids[1])
	}
}
