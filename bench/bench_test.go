package bench_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/livedash/livedash/auth"
	"github.com/livedash/livedash/bench"
	"github.com/livedash/livedash/config"
	"github.com/livedash/livedash/httpapi"
	"github.com/livedash/livedash/hub"
	"github.com/livedash/livedash/sqlite"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// newServer starts a real server over loopback HTTP with a real SQLite
// file, as the httpapi tests do, and returns its URL and an admin token.
func newServer(t *testing.T) (string, string) {
	url, tok, _ := newServerWith(t, config.Default())
	return url, tok
}

// newServerWith starts a server with cfg and returns its URL, an admin
// token and the test server (to cut its connections).
func newServerWith(t *testing.T, cfg config.Config) (string, string, *httptest.Server) {
	t.Helper()
	h := hub.New(hub.Options{})
	store, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "bench.db"), sqlite.Options{OnCommit: h.Publish})
	if err != nil {
		t.Fatal(err)
	}
	signer := auth.NewSigner([]byte("bench-test-secret-0123456789"), nil)
	api := httpapi.New(httpapi.Options{Store: store, Hub: h, Signer: signer, Config: cfg, Dashboards: store})
	srv := httptest.NewServer(api)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		api.CloseStreams(ctx)
		srv.CloseClientConnections()
		srv.Close()
		store.Close()
	})
	tok, err := signer.Mint(auth.Claims{Admin: true}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return srv.URL, tok, srv
}

// goroutineEngine is a server config that serves each SSE stream from a
// goroutine (chunked responses) instead of the connection pool.
func goroutineEngine() config.Config {
	cfg := config.Default()
	cfg.SSEGoroutinePerStream = true
	return cfg
}

func run(t *testing.T, o bench.Options) *bench.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	res, err := bench.Run(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	if res.Interrupted {
		t.Fatal("run interrupted")
	}
	return res
}

// jsonFields writes res as JSON and returns it decoded, checking that the
// named fields are present.
func jsonFields(t *testing.T, res *bench.Result, fields ...string) map[string]any {
	t.Helper()
	var buf bytes.Buffer
	if err := bench.WriteJSON(&buf, []*bench.Result{res}); err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
		t.Fatalf("JSON output does not parse: %v\n%s", err, buf.Bytes())
	}
	for _, f := range fields {
		if _, ok := m[f]; !ok {
			t.Errorf("JSON output has no %q: %s", f, buf.Bytes())
		}
	}
	var table bytes.Buffer
	if err := bench.WriteTable(&table, res); err != nil || table.Len() == 0 {
		t.Errorf("table: %v", err)
	}
	return m
}

// TestFanout runs fanout over each transport and generator reader, against
// pooled (close-delimited) and goroutine (chunked) SSE responses.
func TestFanout(t *testing.T) {
	polled := "polled"
	if runtime.GOOS != "linux" {
		polled = "goroutines"
	}
	for _, tc := range []struct {
		name, transport  string
		goroutineReaders bool
		cfg              config.Config
		reader           string
	}{
		{"sse", "sse", false, config.Default(), polled},
		{"sse-goroutine-readers", "sse", true, config.Default(), "goroutines"},
		{"sse-chunked-responses", "sse", false, goroutineEngine(), polled},
		{"ws", "ws", false, config.Default(), "goroutines"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			url, tok, _ := newServerWith(t, tc.cfg)
			res := run(t, bench.Options{URL: url, Token: tok, Scenario: "fanout", Transport: tc.transport,
				GoroutineReaders: tc.goroutineReaders, Subs: 20, Messages: 50, Rate: 200})
			if res.Reader != tc.reader {
				t.Errorf("reader %q, want %q", res.Reader, tc.reader)
			}
			if res.Connected != 20 || res.ConnectErrors != 0 {
				t.Errorf("connected %d, %d errors: %+v", res.Connected, res.ConnectErrors, res.Errors)
			}
			if res.Published != 50 || res.Expected != 20*50 {
				t.Errorf("published %d, expected %d", res.Published, res.Expected)
			}
			if res.Delivered != res.Expected || res.Lost != 0 || res.Duplicated != 0 || res.OutOfOrder != 0 || res.Invalid != 0 {
				t.Errorf("delivered %d/%d, lost %d, dup %d, ooo %d, invalid %d", res.Delivered, res.Expected, res.Lost, res.Duplicated, res.OutOfOrder, res.Invalid)
			}
			if res.Latency == nil || res.Latency.Count != res.Delivered || res.Latency.P50 <= 0 || res.Latency.Max < res.Latency.P99 {
				t.Errorf("latency %+v", res.Latency)
			}
			if res.DeliveriesPerS <= 0 {
				t.Errorf("deliveries/s %v", res.DeliveriesPerS)
			}
			m := jsonFields(t, res, "connected", "expected", "delivered", "lost", "duplicated", "out_of_order", "latency_ms", "deliveries_per_s", "client")
			lat := m["latency_ms"].(map[string]any)
			for _, k := range []string{"p50", "p90", "p99", "p999", "max"} {
				if v, _ := lat[k].(float64); v <= 0 {
					t.Errorf("latency %s = %v", k, lat[k])
				}
			}
		})
	}
}

// TestFanoutResumesAfterCuts: the server drops every connection several
// times during a run (streams served by goroutines, which the test server
// can cut); each subscriber reconnects with Last-Event-ID and nothing is
// lost, duplicated or reordered, with either generator reader.
func TestFanoutResumesAfterCuts(t *testing.T) {
	for _, goroutineReaders := range []bool{false, true} {
		t.Run(fmt.Sprintf("goroutine-readers=%v", goroutineReaders), func(t *testing.T) {
			url, tok, srv := newServerWith(t, goroutineEngine())
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			type outcome struct {
				res *bench.Result
				err error
			}
			done := make(chan outcome, 1)
			go func() {
				res, err := bench.Run(ctx, bench.Options{URL: url, Token: tok, Scenario: "fanout", GoroutineReaders: goroutineReaders,
					Subs: 10, Messages: 150, Rate: 50, Drain: 10 * time.Second})
				done <- outcome{res, err}
			}()
			// Four cuts while the 3 s of publishing go on, 700 ms apart (not
			// a divisor of the 2 s retry, so a reconnect is not always in
			// flight at the next cut), then the drain lets everyone catch up.
			var res *bench.Result
			cuts := 0
			for res == nil {
				select {
				case o := <-done:
					if o.err != nil {
						t.Fatal(o.err)
					}
					res = o.res
				case <-time.After(700 * time.Millisecond):
					if cuts < 4 {
						srv.CloseClientConnections()
						cuts++
					}
				}
			}
			if res.Resumes == 0 || res.Lost != 0 || res.Duplicated != 0 || res.OutOfOrder != 0 || res.Invalid != 0 {
				t.Errorf("resumes %d, lost %d, dup %d, ooo %d, invalid %d (delivered %d of %d); errors %+v",
					res.Resumes, res.Lost, res.Duplicated, res.OutOfOrder, res.Invalid, res.Delivered, res.Expected, res.Errors)
			}
		})
	}
}

func TestFanoutServerStats(t *testing.T) {
	url, tok := newServer(t)
	// The server runs in this process, so its pid is ours.
	res := run(t, bench.Options{URL: url, Token: tok, Scenario: "fanout", Subs: 5, Messages: 10, Rate: 100, PID: os.Getpid()})
	if res.Server == nil || res.Server.Unavailable != "" || res.Server.RSSPeak <= 0 || res.Server.HWM <= 0 {
		t.Fatalf("server stats %+v", res.Server)
	}
}

func TestPublish(t *testing.T) {
	url, tok := newServer(t)
	for _, batch := range []int{1, 50} {
		res := run(t, bench.Options{URL: url, Token: tok, Scenario: "publish", Conc: 4, Batch: batch, Duration: time.Second})
		if res.Acknowledged == 0 || res.RequestErrors != 0 || res.Acknowledged != res.Requests*int64(batch) {
			t.Errorf("batch %d: acknowledged %d in %d requests, %d errors %+v", batch, res.Acknowledged, res.Requests, res.RequestErrors, res.Errors)
		}
		if res.RequestLatency == nil || res.RequestLatency.P50 <= 0 {
			t.Errorf("batch %d: latency %+v", batch, res.RequestLatency)
		}
		jsonFields(t, res, "acknowledged", "acknowledged_per_s", "request_latency_ms", "requests")
	}
}

func TestIdle(t *testing.T) {
	for _, transport := range []string{"sse", "ws"} {
		t.Run(transport, func(t *testing.T) {
			url, tok := newServer(t)
			res := run(t, bench.Options{URL: url, Token: tok, Scenario: "idle", Transport: transport, Subs: 50, Hold: 300 * time.Millisecond, PID: os.Getpid()})
			if res.Connected != 50 || res.ConnectErrors != 0 || res.Disconnects != 0 {
				t.Errorf("connected %d, errors %d, disconnects %d: %+v", res.Connected, res.ConnectErrors, res.Disconnects, res.Errors)
			}
			if res.ConnectsPerSec <= 0 || res.Server == nil {
				t.Errorf("connects/s %v, server %+v", res.ConnectsPerSec, res.Server)
			}
			if res.Transport != transport {
				t.Errorf("result says transport %q, want %q", res.Transport, transport)
			}
			jsonFields(t, res, "connected", "connects_per_s", "server", "server_bytes_per_conn")
		})
	}
}

func TestChurn(t *testing.T) {
	for _, transport := range []string{"sse", "ws"} {
		t.Run(transport, func(t *testing.T) {
			url, tok := newServer(t)
			res := run(t, bench.Options{URL: url, Token: tok, Scenario: "churn", Transport: transport, Subs: 4, Rate: 20, Duration: time.Second})
			if res.Cycles == 0 || res.CycleErrors != 0 || res.Published == 0 || res.PublishErrors != 0 {
				t.Errorf("cycles %d (%d errors), published %d (%d errors): %+v", res.Cycles, res.CycleErrors, res.Published, res.PublishErrors, res.Errors)
			}
			if res.FirstEvent == nil || res.FirstEvent.P50 <= 0 {
				t.Errorf("first event %+v", res.FirstEvent)
			}
			jsonFields(t, res, "cycles", "cycles_per_s", "first_event_ms", "published")
		})
	}
}

func TestInterruptedRunKeepsFigures(t *testing.T) {
	url, tok := newServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	res, err := bench.Run(ctx, bench.Options{URL: url, Token: tok, Scenario: "fanout", Subs: 5, Messages: 1000, Rate: 20})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Interrupted || res.Published == 0 || res.Published >= 1000 || res.Delivered == 0 {
		t.Errorf("interrupted %v, published %d, delivered %d", res.Interrupted, res.Published, res.Delivered)
	}
	if res.Expected != 5*res.Published {
		t.Errorf("expected %d for %d published", res.Expected, res.Published)
	}
}

func TestSweepWritesSVG(t *testing.T) {
	url, tok := newServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	results, err := bench.Sweep(ctx, bench.Options{URL: url, Token: tok, Subs: 0, Messages: 10, Rate: 100}, []int{2, 5})
	if err != nil || len(results) != 2 {
		t.Fatalf("%d results, %v", len(results), err)
	}
	var svg, table bytes.Buffer
	if err := bench.WriteLatencySVG(&svg, results, "test <chart>"); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"<svg", "<polyline", "p99", "test &lt;chart&gt;", "</svg>"} {
		if !strings.Contains(svg.String(), want) {
			t.Errorf("svg has no %q", want)
		}
	}
	if err := bench.WriteSweepTable(&table, results); err != nil || strings.Count(table.String(), "\n") != 3 {
		t.Errorf("sweep table %v:\n%s", err, table.String())
	}
	var out bytes.Buffer
	if err := bench.WriteJSON(&out, results); err != nil {
		t.Fatal(err)
	}
	var m struct {
		Sweep []map[string]any `json:"sweep"`
	}
	if err := json.Unmarshal(out.Bytes(), &m); err != nil || len(m.Sweep) != 2 {
		t.Errorf("sweep JSON %v: %s", err, out.Bytes())
	}
}

func TestRefusesRemoteServers(t *testing.T) {
	for _, tc := range []struct {
		url   string
		allow bool
		ok    bool
	}{
		{"http://127.0.0.1:8080", false, true},
		{"http://localhost:8080", false, true},
		{"http://[::1]:8080", false, true},
		{"http://127.0.0.2:8080", false, true},
		{"http://example.com", false, false},
		{"https://10.0.0.1:8080", false, false},
		{"http://example.com", true, true},
		{"ftp://localhost", false, false},
		{"localhost:8080", false, false},
	} {
		err := bench.CheckTarget(tc.url, tc.allow)
		if (err == nil) != tc.ok {
			t.Errorf("CheckTarget(%q, %v) = %v", tc.url, tc.allow, err)
		}
	}
	_, err := bench.Run(context.Background(), bench.Options{URL: "http://192.0.2.1", Scenario: "publish"})
	if err == nil || !strings.Contains(err.Error(), "allow-remote") {
		t.Errorf("remote run: %v", err)
	}
}

// TestFanoutAcrossServers: subscribers spread over several --sub-url
// servers are each counted against what was published to --url.
func TestFanoutAcrossServers(t *testing.T) {
	url, tok := newServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := bench.Run(ctx, bench.Options{URL: url, SubURLs: []string{url, url + "/"}, Token: tok, Scenario: "fanout", Subs: 6, Messages: 30, Rate: 100})
	if err != nil {
		t.Fatal(err)
	}
	if res.Connected != 6 || res.Delivered != res.Expected || res.Expected != 180 || res.Lost != 0 {
		t.Fatalf("connected %d, delivered %d/%d, lost %d", res.Connected, res.Delivered, res.Expected, res.Lost)
	}
	if _, err := bench.Run(ctx, bench.Options{URL: url, SubURLs: []string{"http://10.1.2.3:8080"}, Token: tok, Scenario: "fanout"}); err == nil {
		t.Fatal("a remote --sub-url was accepted")
	}
}
