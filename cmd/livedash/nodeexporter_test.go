package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

// startNodeExporter runs the real Prometheus node exporter (Debian's
// prometheus-node-exporter) on a free loopback port and returns its
// metrics URL once it answers.
func startNodeExporter(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("prometheus-node-exporter")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("prometheus-node-exporter is not installed (.ci/run installs it)")
		}
		t.Skip("prometheus-node-exporter is not installed; apt-get install prometheus-node-exporter")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	cmd := exec.Command(path, "--web.listen-address="+addr, "--log.level=warn")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	u := "http://" + addr + "/metrics"
	deadline := time.Now().Add(10 * time.Second)
	for {
		if resp, err := http.Get(u); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return u
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("node exporter did not answer on %s", u)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestNodeExporterCPURate: livedash serve scrapes the real node exporter
// every second with an allow-list; node_cpu_seconds_total appears as a
// per-second rate topic whose values are sensible (each 0…1 CPU-seconds
// per second, all together at most the number of CPUs), and no name but
// the listed ones is published.
func TestNodeExporterCPURate(t *testing.T) {
	target := startNodeExporter(t)
	cfg := filepath.Join(t.TempDir(), "livedash.yaml")
	yaml := fmt.Sprintf("scrape:\n  - url: %s\n    interval: 1s\n    prefix: node\n    metrics: [node_cpu_seconds_total, node_load*]\n", target)
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	s := startServerArgs(t, t.TempDir(), "127.0.0.1:0", []string{"--config", cfg}, "LIVEDASH_SECRET="+e2eSecret)
	tok := adminToken(t)
	get := func(path string) []byte {
		req, _ := http.NewRequest("GET", s.url+path, nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s: %d %s", path, resp.StatusCode, b)
		}
		return b
	}
	type envelope struct {
		Topic string
		Data  map[string]float64
	}
	var rates []envelope
	deadline := time.Now().Add(20 * time.Second)
	for len(rates) < 2 { // two rate points: the second and third scrapes
		if time.Now().After(deadline) {
			t.Fatalf("no rate topic after 20s; topics: %s", get("/api/v1/topics"))
		}
		time.Sleep(100 * time.Millisecond)
		var h struct{ Messages []envelope }
		if err := json.Unmarshal(get("/api/v1/history?topic="+url.QueryEscape("node.node_cpu_seconds_total.rate")), &h); err != nil {
			t.Fatal(err)
		}
		rates = h.Messages
	}
	// The scrape's ts is taken before the request, the counters are read
	// during it: on a loaded machine a 1 s interval can be off by some
	// 10%, hence the slack.
	const slack = 1.25
	for _, m := range rates {
		total, cpus := 0.0, map[string]bool{}
		for key, r := range m.Data {
			cpu, _, _ := strings.Cut(key, ",")
			cpus[cpu] = true
			if !strings.HasPrefix(key, "cpu=") || !strings.Contains(key, "mode=") || r < 0 || r > slack {
				t.Fatalf("rate %s = %v in %v", key, r, m.Data)
			}
			total += r
		}
		// Every CPU spends each second in some mode: the rates add up to
		// about the number of CPUs, and never more.
		if n := float64(len(cpus)); n == 0 || total > n*slack || total < n/slack || n < float64(min(runtime.NumCPU(), 1)) {
			t.Fatalf("the rates add up to %v CPUs of %v: %v", total, n, m.Data)
		}
	}
	var topics []struct{ Topic string }
	json.Unmarshal(get("/api/v1/topics?topic=node.>"), &topics)
	for _, tp := range topics {
		switch {
		case tp.Topic == "node.up", tp.Topic == "node.node_cpu_seconds_total", tp.Topic == "node.node_cpu_seconds_total.rate",
			strings.HasPrefix(tp.Topic, "node.node_load"):
		default:
			t.Fatalf("%s published past the allow-list", tp.Topic)
		}
	}
	if len(topics) < 4 {
		t.Fatalf("topics %v", topics)
	}
}
