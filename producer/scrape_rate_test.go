package producer

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// counterPage is a page whose counters stand at the given values: a
// _total counter with labels, a typed counter without the suffix, a gauge.
func counterPage(requests, bytes float64) string {
	return fmt.Sprintf(`# TYPE http_requests_total counter
http_requests_total{code="200"} %g
http_requests_total{code="500"} 1
# TYPE bytes_sent counter
bytes_sent %g
# TYPE temperature gauge
temperature 21.5
# TYPE rpc_latency histogram
rpc_latency_bucket{le="+Inf"} 3
rpc_latency_count 3
`, requests, bytes)
}

// TestScraperPublishesCounterRates: counters (_total names and TYPE
// counter) get a <name>.rate topic from the second scrape on, computed
// with the injected clock; a reset counts from zero; gauges get none.
func TestScraperPublishesCounterRates(t *testing.T) {
	var page atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(page.Load().(string))) }))
	defer srv.Close()
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	s := &Scraper{Target: ScrapeTarget{URL: srv.URL, Prefix: "p"}, Now: func() time.Time { return now }}
	scrape := func(requests, bytes float64) map[string]string {
		t.Helper()
		page.Store(counterPage(requests, bytes))
		msgs, err := s.Scrape(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]string{}
		for _, m := range msgs {
			out[m.Topic] = string(m.Data)
			if m.TS != now.UnixMilli() {
				t.Fatalf("%s: ts %d", m.Topic, m.TS)
			}
		}
		return out
	}
	first := scrape(100, 1000)
	for topic := range first {
		if strings.HasSuffix(topic, ".rate") {
			t.Fatalf("rate %s on the first scrape", topic)
		}
	}
	now = now.Add(10 * time.Second)
	second := scrape(150, 1500)
	want := map[string]string{
		"p.http_requests_total.rate": `{"code=200":5,"code=500":0}`,
		"p.bytes_sent.rate":          `50`,
		"p.http_requests_total":      `{"code=200":150,"code=500":1}`,
	}
	for topic, data := range want {
		if second[topic] != data {
			t.Fatalf("%s: %q, want %s (all: %v)", topic, second[topic], data, second)
		}
	}
	for _, gauge := range []string{"p.temperature.rate", "p.rpc_latency_count.rate", "p.up.rate"} {
		if _, ok := second[gauge]; ok {
			t.Fatalf("%s published", gauge)
		}
	}
	now = now.Add(5 * time.Second)
	third := scrape(20, 1500) // the requests counter restarted
	if third["p.http_requests_total.rate"] != `{"code=200":4,"code=500":0}` || third["p.bytes_sent.rate"] != "0" {
		t.Fatalf("after a reset: %v", third)
	}
}

// TestScraperKeepsListedMetrics: with metrics: [...], only matching names
// are published (histogram series by their base name), and up always.
func TestScraperKeepsListedMetrics(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(promPage)) }))
	defer srv.Close()
	target := ScrapeTarget{URL: srv.URL, Prefix: "p", Metrics: []string{"go_*", "http_request_duration_seconds", "job:request_rate:5m"}}
	if err := target.Validate(); err != nil {
		t.Fatal(err)
	}
	msgs, err := (&Scraper{Target: target}).Scrape(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range msgs {
		got = append(got, m.Topic)
	}
	want := []string{"p.go_goroutines", "p.http_request_duration_seconds_bucket", "p.http_request_duration_seconds_sum",
		"p.http_request_duration_seconds_count", "p.job_request_rate_5m", "p.up"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("topics %v, want %v", got, want)
	}
}

func TestScrapeTargetValidatesMetrics(t *testing.T) {
	for _, tc := range []struct {
		metrics []string
		want    string
	}{
		{[]string{""}, "empty"},
		{[]string{"node_[cpu"}, "bad pattern"},
		{[]string{"node cpu"}, "characters"},
	} {
		err := ScrapeTarget{URL: "http://h/m", Metrics: tc.metrics}.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "metrics") {
			t.Fatalf("%q: err %v, want %q", tc.metrics, err, tc.want)
		}
	}
}
