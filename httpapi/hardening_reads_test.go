package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// logRecorder is a slog handler that keeps every record, at every level.
type logRecorder struct {
	mu      sync.Mutex
	records []slog.Record
}

func (l *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (l *logRecorder) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.records = append(l.records, r.Clone())
	return nil
}
func (l *logRecorder) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *logRecorder) WithGroup(string) slog.Handler      { return l }

// atLeast returns the messages (with their attributes) logged at level or above.
func (l *logRecorder) atLeast(level slog.Level) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, r := range l.records {
		if r.Level < level {
			continue
		}
		s := r.Level.String() + " " + r.Message
		r.Attrs(func(a slog.Attr) bool { s += " " + a.String(); return true })
		out = append(out, s)
	}
	return out
}

func withLogger(l *logRecorder) envOption {
	return func(c *envConfig) { c.logger = slog.New(l) }
}

type bucketJSON struct {
	T     int64   `json:"t"`
	Count int64   `json:"count"`
	Min   float64 `json:"min"`
	Max   float64 `json:"max"`
	Avg   float64 `json:"avg"`
	Sum   float64 `json:"sum"`
	Last  float64 `json:"last"`
}

type seriesJSON struct {
	Series []struct {
		Topic   string       `json:"topic"`
		Buckets []bucketJSON `json:"buckets"`
	} `json:"series"`
}

// TestHistoryStepOverflowingSumIsFinite: two points of 1.7e308 are finite,
// but their sum is not; the buckets still answer 200 with finite numbers:
// avg computed without overflow, sum from the average (clamped).
func TestHistoryStepOverflowingSumIsFinite(t *testing.T) {
	logs := &logRecorder{}
	e := newEnv(t, withLogger(logs))
	ts := time.Now().Add(-time.Minute).UnixMilli()
	body := fmt.Sprintf(`[{"topic":"m.big","data":1.7e308,"ts":%d},{"topic":"m.big","data":1.7e308,"ts":%d},`+
		`{"topic":"m.obj","data":{"v":1.7e308},"ts":%d},{"topic":"m.obj","data":{"v":1.7e308},"ts":%d},{"topic":"m.obj","data":{"v":-1.7e308},"ts":%d}]`,
		ts, ts, ts, ts, ts)
	if code, b := e.do("POST", "/api/v1/publish", e.admin, body); code != 200 {
		t.Fatalf("publish: %d %s", code, b)
	}
	for _, c := range []struct {
		query         string
		count         int64
		avg, sum, min float64
	}{
		{"topic=m.big&step=1h", 2, 1.7e308, math.MaxFloat64, 1.7e308},
		{"topic=m.obj&step=1h&field=v", 3, 1.7e308 / 3, 1.7e308, -1.7e308},
	} {
		code, b := e.do("GET", "/api/v1/history?"+c.query, e.admin, "")
		if code != 200 {
			t.Fatalf("%s: %d %s", c.query, code, b)
		}
		var got seriesJSON
		if err := json.Unmarshal([]byte(b), &got); err != nil {
			t.Fatalf("%s: %v: %s", c.query, err, b)
		}
		if len(got.Series) != 1 || len(got.Series[0].Buckets) != 1 {
			t.Fatalf("%s: %s", c.query, b)
		}
		bk := got.Series[0].Buckets[0]
		if bk.Count != c.count || !near(bk.Avg, c.avg) || !near(bk.Sum, c.sum) || bk.Min != c.min || bk.Max != 1.7e308 {
			t.Fatalf("%s: bucket %+v, want count %d avg %g sum %g min %g", c.query, bk, c.count, c.avg, c.sum, c.min)
		}
	}
	if errs := logs.atLeast(slog.LevelWarn); len(errs) > 0 {
		t.Fatalf("logged: %q", errs)
	}
}

func near(got, want float64) bool {
	return math.Abs(got-want) <= 1e-12*math.Abs(want)
}

// TestHistoryStepBucketCountBound: the bucket count is computed without
// overflow, exactly, and a negative range is a 400.
func TestHistoryStepBucketCountBound(t *testing.T) {
	e := newEnv(t)
	e.publish("m.a", 1)
	for _, c := range []struct {
		query string
		code  int
	}{
		{"from=-9000000000000000000&to=9000000000000000000&step=1ms", 400},
		{"from=-9223372036854775808&to=9223372036854775807&step=1ms", 400},
		{"from=0&to=9223372036854775807&step=1000000h", 400},
		{"from=5&to=1000005&step=10ms", 400}, // 100001 aligned buckets
		{"from=0&to=1000000&step=10ms", 200}, // exactly 100000
		{"from=2000&to=1000&step=1s", 400},   // to < from
		{"from=1000&to=1000&step=1s", 200},   // empty range
	} {
		code, b := e.do("GET", "/api/v1/history?topic=m.a&"+c.query, e.admin, "")
		if code != c.code {
			t.Fatalf("%s: %d %s, want %d", c.query, code, b, c.code)
		}
		if code == 400 && !strings.Contains(b, `"error"`) {
			t.Fatalf("%s: %s", c.query, b)
		}
	}
}

// TestHistoryBadFieldIsQuiet400: a field that cannot be a field name is a
// 400 with a clear message, and logs nothing at ERROR (or WARN) level;
// field names with the characters line protocol and JSON produce work.
func TestHistoryBadFieldIsQuiet400(t *testing.T) {
	logs := &logRecorder{}
	e := newEnv(t, withLogger(logs))
	ts := time.Now().Add(-time.Minute).UnixMilli()
	body := fmt.Sprintf(`{"topic":"m.o","data":{"usage_idle":1,"a.b":2,"temp-°C":3,"a b":4,"x:y/z":5,"it's":6},"ts":%d}`, ts)
	if code, b := e.do("POST", "/api/v1/publish", e.admin, body); code != 200 {
		t.Fatalf("publish: %d %s", code, b)
	}
	for _, f := range []string{`a\`, `a"b`, "a\x01", `a"`, `\`} {
		code, b := e.do("GET", "/api/v1/history?topic=m.o&step=1h&field="+url.QueryEscape(f), e.admin, "")
		if code != 400 || !strings.Contains(b, "field") {
			t.Fatalf("field %q: %d %s, want 400 naming field", f, code, b)
		}
	}
	if got := logs.atLeast(slog.LevelWarn); len(got) > 0 {
		t.Fatalf("bad input logged: %q", got)
	}
	for i, f := range []string{"usage_idle", "a.b", "temp-°C", "a b", "x:y/z", "it's"} {
		code, b := e.do("GET", "/api/v1/history?topic=m.o&step=1h&field="+url.QueryEscape(f), e.admin, "")
		var got seriesJSON
		if code != 200 || json.Unmarshal([]byte(b), &got) != nil || len(got.Series) != 1 || got.Series[0].Buckets[0].Last != float64(i+1) {
			t.Fatalf("field %q: %d %s", f, code, b)
		}
	}
}

// TestPutDashboardValueJSONCannotHold: a PUT body with a value JSON cannot
// encode (YAML .nan or .inf, a map with non-string keys) is a 400 naming
// the widget and the field; nothing is stored and the list still answers.
func TestPutDashboardValueJSONCannotHold(t *testing.T) {
	e := newEnv(t)
	for _, c := range []struct{ body, want string }{
		{`{"widgets":[{"id":"w1","type":"stat","topics":["a"],"options":{"extra":.nan}}]}`, "options.extra"},
		{`{"widgets":[{"id":"w1","type":"stat","topics":["a"],"options":{"extra":-.inf}}]}`, "options.extra"},
		{`{"widgets":[{"id":"w2","type":"stat","topics":["a"],"options":{"extra":{1: x}}}]}`, "options.extra"},
		{"widgets:\n- id: w3\n  type: table\n  topics: [a]\n  options:\n    nested:\n      list: [1, {2: b}]\n", "options.nested.list"},
		{"widgets:\n- id: w4\n  type: table\n  topics: [a]\n  options:\n    thresholds:\n    - {value: 1, color: red, 7: x}\n", "options.thresholds"},
	} {
		code, b := e.do("PUT", "/api/v1/dashboards/bad", e.admin, c.body)
		if code != 400 || !strings.Contains(b, c.want) || !strings.Contains(b, "widget") {
			t.Fatalf("PUT %s: %d %s, want 400 naming %s", c.body, code, b, c.want)
		}
	}
	if code, b := e.do("GET", "/api/v1/dashboards", e.admin, ""); code != 200 || strings.Contains(b, `"bad"`) {
		t.Fatalf("list: %d %s", code, b)
	}
	if code, b := e.do("GET", "/api/v1/dashboards/bad", e.admin, ""); code != 404 {
		t.Fatalf("get: %d %s", code, b)
	}
}
