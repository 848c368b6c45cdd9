package producer

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/livedash/livedash"
)

// promPage is the metrics page package promtext is tested with, as the
// Prometheus Go client and node exporter write it.
var promPage = func() string {
	b, err := os.ReadFile("../promtext/testdata/exporter.prom")
	if err != nil {
		panic(err)
	}
	return string(b)
}()

func TestScraperReadsPrometheusPage(t *testing.T) {
	var auth atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth.Store(r.Header.Get("Authorization"))
		if r.URL.Path != "/metrics" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		w.Write([]byte(promPage))
	}))
	defer srv.Close()
	if !strings.HasPrefix(srv.URL, "http://127.0.0.1:") {
		t.Fatalf("test server on %s", srv.URL)
	}
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	target := ScrapeTarget{URL: srv.URL + "/metrics", Prefix: "svc.api", BearerToken: "s3cret", Interval: time.Second}
	if err := target.Validate(); err != nil {
		t.Fatal(err)
	}
	s := &Scraper{Target: target, Now: func() time.Time { return now }}
	msgs, err := s.Scrape(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got := auth.Load(); got != "Bearer s3cret" {
		t.Fatalf("Authorization %q", got)
	}
	byTopic := map[string]livedash.Message{}
	for _, m := range msgs {
		if _, dup := byTopic[m.Topic]; dup {
			t.Fatalf("two messages on %s", m.Topic)
		}
		if m.Type != "point" || m.TS != now.UnixMilli() {
			t.Fatalf("%s: type %s ts %d", m.Topic, m.Type, m.TS)
		}
		if _, err := (&livedash.PublishInput{Topic: m.Topic, Type: m.Type, Data: m.Data}).Validate(now); err != nil {
			t.Fatalf("%s would be refused: %v", m.Topic, err)
		}
		byTopic[m.Topic] = m
	}
	want := map[string]string{
		"svc.api.go_goroutines":                        `42`,
		"svc.api.http_requests_total":                  `{"code=200,method=get":1027,"code=500,method=post":3}`,
		"svc.api.http_request_duration_seconds_bucket": `{"le=+Inf":144320,"le=0.05":24054,"le=0.1":33444}`,
		"svc.api.http_request_duration_seconds_sum":    `53423`,
		"svc.api.http_request_duration_seconds_count":  `144320`,
		"svc.api.rpc_duration_seconds":                 `{"quantile=0.99":76656}`, // NaN left out
		"svc.api.node_filesystem_avail_bytes":          `{"device=/dev/sda1,fstype=ext4,mountpoint=/":12345000000}`,
		"svc.api.job_request_rate_5m":                  `{"job=api":12.5}`,
		"svc.api.up":                                   `1`,
	}
	for topic, data := range want {
		m, ok := byTopic[topic]
		if !ok {
			t.Fatalf("no message on %s; got %v", topic, topicsOf(byTopic))
		}
		if string(m.Data) != data {
			t.Fatalf("%s: %s, want %s", topic, m.Data, data)
		}
	}
	if _, ok := byTopic["svc.api.process_start_time_seconds"]; ok {
		t.Fatal("an infinite value was published")
	}
	if len(byTopic) != len(want)+1 { // + msdos_file_access_time_seconds
		t.Fatalf("topics %v", topicsOf(byTopic))
	}
}

func topicsOf(m map[string]livedash.Message) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestScraperRunPublishesAndReportsDown(t *testing.T) {
	var fail atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if fail.Load() {
			http.Error(w, "boom", http.StatusInternalServerError)
			return
		}
		w.Write([]byte("temperature_celsius 21.5\n"))
	}))
	defer srv.Close()
	pub := &recordingPublisher{published: make(chan struct{}, 10)}
	ticks := make(chan time.Time)
	s := &Scraper{Target: ScrapeTarget{URL: srv.URL}, Publisher: pub, Ticks: ticks}
	done := make(chan error)
	go func() { done <- s.Run(context.Background()) }()
	<-pub.published // the first scrape is immediate
	fail.Store(true)
	ticks <- time.Now()
	<-pub.published
	close(ticks)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	prefix := "scrape." + sanitizeSegment(strings.TrimPrefix(srv.URL, "http://"), 64, "")
	pub.mu.Lock()
	defer pub.mu.Unlock()
	if len(pub.batches) != 2 {
		t.Fatalf("%d batches", len(pub.batches))
	}
	first, second := pub.batches[0], pub.batches[1]
	if len(first) != 2 || first[0].Topic != prefix+".temperature_celsius" || string(first[0].Data) != "21.5" ||
		first[1].Topic != prefix+".up" || string(first[1].Data) != "1" {
		t.Fatalf("first scrape %+v", first)
	}
	if len(second) != 1 || second[0].Topic != prefix+".up" || string(second[0].Data) != "0" {
		t.Fatalf("failed scrape %+v", second)
	}
}

func TestScrapeTargetValidate(t *testing.T) {
	bad := []struct {
		name   string
		target ScrapeTarget
		want   string
	}{
		{"no url", ScrapeTarget{}, "url is required"},
		{"bad url", ScrapeTarget{URL: "http://[::1"}, "url"},
		{"bad scheme", ScrapeTarget{URL: "ftp://host/metrics"}, "scheme"},
		{"no host", ScrapeTarget{URL: "http:///metrics"}, "host"},
		{"short interval", ScrapeTarget{URL: "http://h/m", Interval: 100 * time.Millisecond}, "at least"},
		{"negative timeout", ScrapeTarget{URL: "http://h/m", Timeout: -1}, "timeout"},
		{"bad prefix", ScrapeTarget{URL: "http://h/m", Prefix: "a..b"}, "prefix"},
		{"sys prefix", ScrapeTarget{URL: "http://h/m", Prefix: "sys.x"}, "sys"},
		{"token newline", ScrapeTarget{URL: "http://h/m", BearerToken: "a\nb"}, "one line"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.target.Validate(); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err %v, want one containing %q", err, tt.want)
			}
		})
	}
	if p := (ScrapeTarget{URL: "http://localhost:9100/metrics"}).TopicPrefix(); p != "scrape.localhost-9100" {
		t.Fatalf("default prefix %q", p)
	}
}

// TestValidateTargets: the config's scrape list names the entry at fault;
// two targets may not publish under one prefix.
func TestValidateTargets(t *testing.T) {
	ok := []ScrapeTarget{{URL: "http://h/a"}, {URL: "http://h/b", Prefix: "b"}}
	if err := ValidateTargets(ok); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		targets []ScrapeTarget
		want    string
	}{
		{[]ScrapeTarget{{URL: "http://h/a"}, {URL: "ftp://h/b"}}, `scrape 1 (ftp://h/b): url "ftp://h/b": scheme must be http or https`},
		{[]ScrapeTarget{{URL: "http://h/a"}, {URL: "http://h/b"}}, `scrape 1: prefix "scrape.h" is already used by scrape 0 (set prefix)`},
	} {
		if err := ValidateTargets(tt.targets); err == nil || err.Error() != tt.want {
			t.Errorf("err %v, want %q", err, tt.want)
		}
	}
}
