package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/livedash/livedash"
	"github.com/livedash/livedash/client"
)

// binary is the real livedash binary, built once for these tests (with
// -race when they run with it).
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "livedash-bin")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "livedash")
	args := []string{"build", "-o", binary}
	if raceEnabled { // the served process is checked for races as the tests are
		args = append(args, "-race")
		// A race-detecting process waits a second at exit by default; the
		// tests run many (each CLI call, each server stop).
		os.Setenv("GORACE", strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0"))
	}
	build := exec.Command("go", append(args, ".")...)
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building livedash:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// TestBinaryBuiltLikeTheTests: under -race the served binary has the race
// detector too, so a race in the server fails these tests, not only a
// race in them.
func TestBinaryBuiltLikeTheTests(t *testing.T) {
	out, err := exec.Command("go", "version", "-m", binary).Output()
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Contains(string(out), "-race=true"); got != raceEnabled {
		t.Fatalf("binary built with -race: %v, tests: %v\n%s", got, raceEnabled, out)
	}
}

const e2eSecret = "e2e-secret-for-tests"

// server is a running livedash process.
type server struct {
	t      *testing.T
	cmd    *exec.Cmd
	url    string
	data   string
	stdout *syncBuffer
	stderr *syncBuffer
	exited chan error
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var urlRE = regexp.MustCompile(`url=(http://127\.0\.0\.1:\d+)`)

// startServer runs `livedash serve` on addr (127.0.0.1:0 for any port) and
// waits until it answers /healthz. The process is killed at test end.
func startServer(t *testing.T, data, addr string, env ...string) *server {
	t.Helper()
	return startServerArgs(t, data, addr, nil, env...)
}

// startServerArgs is startServer with more serve flags.
func startServerArgs(t *testing.T, data, addr string, args []string, env ...string) *server {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"serve", "--addr", addr, "--data", data, "--host-metrics", "off"}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	s := &server{t: t, cmd: cmd, data: data, stdout: &syncBuffer{}, stderr: &syncBuffer{}, exited: make(chan error, 1)}
	cmd.Stdout = s.stdout
	cmd.Stderr = s.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.exited <- cmd.Wait() }()
	t.Cleanup(func() { cmd.Process.Kill(); <-s.exited; noRace(t, s.stderr.String()) })
	deadline := time.Now().Add(20 * time.Second)
	for {
		if m := urlRE.FindStringSubmatch(s.stderr.String()); m != nil {
			s.url = m[1]
			if resp, err := http.Get(s.url + "/healthz"); err == nil {
				resp.Body.Close()
				if resp.StatusCode == 200 {
					return s
				}
			}
		}
		select {
		case err := <-s.exited:
			s.exited <- err
			t.Fatalf("server exited: %v\n%s", err, s.stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("server did not start:\n%s", s.stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// noRace fails t when a server's log has a race detector report.
func noRace(t *testing.T, log string) {
	if i := strings.Index(log, "WARNING: DATA RACE"); i >= 0 {
		t.Errorf("the server raced:\n%s", log[i:])
	}
}

func (s *server) addr() string { return strings.TrimPrefix(s.url, "http://") }

// stop sends sig and waits for the process to end.
func (s *server) stop(sig syscall.Signal) error {
	s.t.Helper()
	s.cmd.Process.Signal(sig)
	select {
	case err := <-s.exited:
		s.exited <- err
		return err
	case <-time.After(20 * time.Second):
		s.t.Fatalf("server did not stop on %v", sig)
		return nil
	}
}

// cli runs a livedash subcommand and returns its stdout, stderr and exit code.
func cli(t *testing.T, stdin string, env []string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errb.String(), code
}

func adminToken(t *testing.T) string {
	t.Helper()
	out, errs, code := cli(t, "", []string{"LIVEDASH_SECRET=" + e2eSecret}, "token", "--sub", "e2e", "--admin")
	if code != 0 {
		t.Fatalf("token: %d %s", code, errs)
	}
	return strings.TrimSpace(out)
}

// TestKill9LosesNoAcknowledgedPublish: a publisher records every id the
// server acknowledged; the server is killed with SIGKILL mid-stream; after
// a restart on the same data every acknowledged message is there and new
// ids keep growing.
func TestKill9LosesNoAcknowledgedPublish(t *testing.T) {
	data := t.TempDir()
	env := []string{"LIVEDASH_SECRET=" + e2eSecret}
	s := startServer(t, data, "127.0.0.1:0", env...)
	c := &client.Client{BaseURL: s.url, Token: adminToken(t)}

	var mu sync.Mutex
	var acked []string
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				ids, err := c.Publish(context.Background(), []client.Message{{Topic: fmt.Sprintf("k.w%d", w), Data: i}, {Topic: "k.all", Data: i}})
				if err != nil {
					return // the server is gone
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
		if n >= 2000 {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	s.cmd.Process.Signal(syscall.SIGKILL)
	<-s.exited
	s.exited <- nil
	close(stop)
	wg.Wait()

	s2 := startServer(t, data, "127.0.0.1:0", env...)
	c2 := &client.Client{BaseURL: s2.url, Token: c.Token}
	stored := map[string]bool{}
	resp, err := http.Get(s2.url + "/api/v1/history?topic=k.>&limit=10000&token=" + c.Token)
	if err != nil {
		t.Fatal(err)
	}
	var h struct{ Messages []struct{ ID string } }
	json.NewDecoder(resp.Body).Decode(&h)
	resp.Body.Close()
	var maxSeq uint64
	for _, m := range h.Messages {
		stored[m.ID] = true
		id, _ := livedash.ParseID(m.ID)
		maxSeq = max(maxSeq, id.Seq)
	}
	if len(h.Messages) == 10000 {
		t.Fatal("history was capped; the test needs a smaller load")
	}
	for _, id := range acked {
		if !stored[id] {
			t.Fatalf("acknowledged message %s lost after kill -9 (%d acknowledged, %d stored)", id, len(acked), len(stored))
		}
	}
	next, err := c2.PublishData(context.Background(), "k.after", "", []byte("1"))
	if err != nil {
		t.Fatal(err)
	}
	if id, _ := livedash.ParseID(next); id.Seq <= maxSeq {
		t.Fatalf("id after restart %s does not grow past %d", next, maxSeq)
	}
	t.Logf("%d acknowledged before kill -9, %d stored", len(acked), len(stored))
}

// TestGracefulRestartResumes: SIGTERM ends the server cleanly; a streaming
// client reconnects by itself after the restart and receives every message
// exactly once, in order, including those published while it was away.
func TestGracefulRestartResumes(t *testing.T) {
	data := t.TempDir()
	env := []string{"LIVEDASH_SECRET=" + e2eSecret}
	s := startServer(t, data, "127.0.0.1:0", env...)
	addr := s.addr()
	tok := adminToken(t)
	c := &client.Client{BaseURL: s.url, Token: tok}

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	got := make(chan string, 100)
	backlog := 0
	go c.Stream(ctx, client.StreamOptions{Patterns: []string{"g.>"}, Backlog: &backlog, Retry: 100 * time.Millisecond}, func(ev client.Event) error {
		if ev.Type != "reset" {
			got <- ev.ID
		}
		return nil
	})
	waitConnected(t, c, "g.ready", got)

	var want []string
	for i := 0; i < 10; i++ {
		id, err := c.PublishData(ctx, "g.a", "", []byte(fmt.Sprint(i)))
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, id)
	}
	for range 10 {
		<-got
	}
	start := time.Now()
	if err := s.stop(syscall.SIGTERM); err != nil {
		t.Fatalf("graceful stop exited with %v\n%s", err, s.stderr.String())
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("graceful stop took %v", d)
	}
	s2 := startServer(t, data, addr, env...)
	c2 := &client.Client{BaseURL: s2.url, Token: tok}
	var after []string
	for i := 0; i < 10; i++ {
		id, err := c2.PublishData(ctx, "g.b", "", []byte(fmt.Sprint(i)))
		if err != nil {
			t.Fatal(err)
		}
		after = append(after, id)
	}
	var seen []string
	for len(seen) < len(after) {
		select {
		case id := <-got:
			seen = append(seen, id)
		case <-time.After(10 * time.Second):
			t.Fatalf("after restart got %v, want %v", seen, after)
		}
	}
	if !slices.Equal(seen, after) {
		t.Fatalf("after restart got %v, want %v", seen, after)
	}
	expectFenceNext(t, c2, "g.b", got)
}

// expectFenceNext publishes a fence on topic and checks it is the next
// message the stream delivers: nothing extra or duplicated was on its way
// (the stream is in order), without waiting for nothing to arrive.
func expectFenceNext(t *testing.T, c *client.Client, topic string, got <-chan string) {
	t.Helper()
	fence, err := c.PublishData(context.Background(), topic, "", []byte("0"))
	if err != nil {
		t.Fatal(err)
	}
	select {
	case id := <-got:
		if id != fence {
			t.Fatalf("duplicate or extra message %s before the fence %s", id, fence)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the fence never arrived")
	}
}

// waitConnected publishes probes until the stream delivers one, so the
// test knows the subscription is live; then it publishes a fence and
// drains everything up to it, so no late probe is mistaken for test data.
func waitConnected(t *testing.T, c *client.Client, topic string, got <-chan string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if _, err := c.PublishData(context.Background(), topic, "", []byte("0")); err != nil {
			t.Fatal(err)
		}
		select {
		case <-got:
			fence, err := c.PublishData(context.Background(), topic, "", []byte("0"))
			if err != nil {
				t.Fatal(err)
			}
			for {
				select {
				case id := <-got:
					if id == fence {
						return
					}
				case <-time.After(10 * time.Second):
					t.Fatal("the fence never arrived")
				}
			}
		case <-time.After(200 * time.Millisecond):
		}
	}
	t.Fatal("stream never connected")
}

func TestFirstStartCreatesSecretAndPrintsAdminLink(t *testing.T) {
	data := t.TempDir()
	s := startServer(t, data, "127.0.0.1:0")
	info, err := os.Stat(filepath.Join(data, "secret"))
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Fatalf("secret mode %v, want 0600", info.Mode().Perm())
	}
	secret, _ := os.ReadFile(filepath.Join(data, "secret"))
	if len(strings.TrimSpace(string(secret))) < 64 {
		t.Fatalf("secret too short: %d chars", len(strings.TrimSpace(string(secret))))
	}
	m := regexp.MustCompile(`/\?token=(\S+)`).FindStringSubmatch(s.stdout.String())
	if m == nil {
		t.Fatalf("no admin link printed:\n%s", s.stdout.String())
	}
	if strings.Contains(s.stderr.String(), strings.TrimSpace(string(secret))) || strings.Contains(s.stdout.String(), strings.TrimSpace(string(secret))) {
		t.Fatal("the secret was printed")
	}
	if err := s.stop(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// Restart: the same secret is reused, so the printed token still works
	// and no new link is printed.
	s2 := startServer(t, data, "127.0.0.1:0")
	if strings.Contains(s2.stdout.String(), "token=") {
		t.Fatal("admin link printed again on restart")
	}
	resp, err := http.Get(s2.url + "/api/v1/topics?token=" + m[1])
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("first-start token after restart: %d", resp.StatusCode)
	}
	// The token command uses the data dir's secret too.
	out, _, code := cli(t, "", []string{"LIVEDASH_SECRET="}, "token", "--sub", "me", "--subscribe", "shop.*", "--data", data)
	if code != 0 {
		t.Fatal("token command failed")
	}
	resp, _ = http.Get(s2.url + "/api/v1/history?topic=shop.orders&token=" + strings.TrimSpace(out))
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("minted token: %d", resp.StatusCode)
	}
}

func TestCLIPublishAndTail(t *testing.T) {
	data := t.TempDir()
	s := startServer(t, data, "127.0.0.1:0", "LIVEDASH_SECRET="+e2eSecret)
	env := []string{"LIVEDASH_URL=" + s.url, "LIVEDASH_TOKEN=" + adminToken(t)}

	out, errs, code := cli(t, "", env, "publish", "cli.a", "42.5")
	if code != 0 || !regexp.MustCompile(`^\d+-\w+\n$`).MatchString(out) {
		t.Fatalf("publish: %d %q %s", code, out, errs)
	}
	out, _, code = cli(t, `{"user":"ann"}`, env, "publish", "--type", "event", "cli.b")
	if code != 0 {
		t.Fatalf("publish from stdin: %d", code)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	tail := exec.CommandContext(ctx, binary, "tail", "cli.>")
	tail.Env = append(os.Environ(), env...)
	stdout, _ := tail.StdoutPipe()
	var tailErr syncBuffer
	tail.Stderr = &tailErr
	if err := tail.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { tail.Process.Signal(os.Interrupt); tail.Wait() }()
	lines := bufio.NewScanner(stdout)
	readEnvelope := func() map[string]any {
		if !lines.Scan() {
			t.Fatalf("tail ended: %s", tailErr.String())
		}
		var m map[string]any
		if err := json.Unmarshal(lines.Bytes(), &m); err != nil {
			t.Fatalf("tail line is not an envelope: %q", lines.Text())
		}
		return m
	}
	if m := readEnvelope(); m["topic"] != "cli.a" || m["data"] != 42.5 {
		t.Fatalf("first line %v", m)
	}
	if m := readEnvelope(); m["topic"] != "cli.b" || m["type"] != "event" {
		t.Fatalf("second line %v", m)
	}
	cli(t, "", env, "publish", "cli.c", "7")
	if m := readEnvelope(); m["topic"] != "cli.c" {
		t.Fatalf("live line %v", m)
	}
	// tail resumes by itself after the server restarts.
	addr := s.addr()
	s.stop(syscall.SIGTERM)
	s2 := startServer(t, data, addr, "LIVEDASH_SECRET="+e2eSecret)
	_ = s2
	cli(t, "", env, "publish", "cli.d", "8")
	if m := readEnvelope(); m["topic"] != "cli.d" {
		t.Fatalf("after restart %v", m)
	}
}

// TestCLIBadInput: each mistake gets a message and a non-zero exit.
func TestCLIBadInput(t *testing.T) {
	data := t.TempDir()
	s := startServer(t, data, "127.0.0.1:0", "LIVEDASH_SECRET="+e2eSecret)
	env := []string{"LIVEDASH_URL=" + s.url, "LIVEDASH_TOKEN=" + adminToken(t), "LIVEDASH_SECRET=" + e2eSecret}
	for _, tc := range []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"no command", nil, 2, "no command"},
		{"unknown command", []string{"frobnicate"}, 2, "unknown command"},
		{"token without sub", []string{"token"}, 2, "--sub is required"},
		{"token bad pattern", []string{"token", "--sub", "a", "--subscribe", "a..b"}, 2, "empty segment"},
		{"token bad ttl", []string{"token", "--sub", "a", "--ttl", "-1h"}, 2, "--ttl"},
		{"token sys grant", []string{"token", "--sub", "a", "--subscribe", "sys.>"}, 2, "only admin tokens read sys."},
		{"token sys publish grant", []string{"token", "--sub", "a", "--publish", "sys.alerts"}, 2, "only admin tokens"},
		{"token unknown flag", []string{"token", "--nope"}, 2, "not defined"},
		{"publish no topic", []string{"publish"}, 2, "usage"},
		{"publish bad topic", []string{"publish", "a b", "1"}, 1, "not allowed"},
		{"publish wildcard", []string{"publish", "a.*", "1"}, 1, "wildcard"},
		{"publish bad json", []string{"publish", "a", "{oops"}, 1, "not valid JSON"},
		{"publish sys", []string{"publish", "sys.x", "1"}, 1, "403"},
		{"publish bad token", []string{"publish", "--token", "bad", "a", "1"}, 1, "401"},
		{"tail no pattern", []string{"tail"}, 2, "usage"},
		{"tail bad pattern", []string{"tail", "a..b"}, 1, "400"},
		{"serve bad flag", []string{"serve", "--heartbeat", "often"}, 2, "--heartbeat"},
		{"serve bad broker", []string{"serve", "--broker", "kafka://x"}, 2, "broker"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, errs, code := cli(t, "", env, tc.args...)
			if code != tc.code || !strings.Contains(errs, tc.msg) {
				t.Fatalf("exit %d (want %d), stderr %q (want %q)", code, tc.code, errs, tc.msg)
			}
		})
	}
}
