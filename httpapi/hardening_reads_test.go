package httpapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/livedash/livedash"
	"github.com/livedash/livedash/config"
	"github.com/livedash/livedash/dashboard"
	"github.com/livedash/livedash/httpapi"
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

type seriesJSON struct {
	Series []struct {
		Topic   string            `json:"topic"`
		Buckets []livedash.Bucket `json:"buckets"`
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

func withReadBudgets(history, backlog int64) envOption {
	return func(c *envConfig) {
		c.cfg.Limits.HistoryBytes = config.Size(history)
		c.cfg.Limits.BacklogBytes = config.Size(backlog)
	}
}

// publishBig publishes n event messages of about 10 KB (envelope) on each
// of topics in turn, and returns their ids in publish order.
func (e *env) publishBig(n int, topics ...string) []string {
	e.t.Helper()
	var ids []string
	pad := strings.Repeat("x", 10000)
	for i := 0; i < n; i++ {
		for _, tp := range topics {
			code, b := e.do("POST", "/api/v1/publish", e.admin, fmt.Sprintf(`{"topic":%q,"type":"event","data":{"i":%d,"s":%q}}`, tp, i, pad))
			var r struct{ IDs []string }
			if code != 200 || json.Unmarshal([]byte(b), &r) != nil || len(r.IDs) != 1 {
				e.t.Fatalf("publish: %d %s", code, b)
			}
			ids = append(ids, r.IDs[0])
		}
	}
	return ids
}

type historyJSON struct {
	Messages []struct {
		ID string `json:"id"`
	} `json:"messages"`
	Truncated *bool `json:"truncated"`
}

func historyIDs(t *testing.T, e *env, query string) ([]string, *bool) {
	t.Helper()
	code, b := e.do("GET", "/api/v1/history?"+query, e.admin, "")
	var h historyJSON
	if code != 200 {
		t.Fatalf("%s: %d %s", query, code, b)
	}
	if err := json.Unmarshal([]byte(b), &h); err != nil {
		t.Fatalf("%s: %v: %.200s", query, err, b)
	}
	var ids []string
	for _, m := range h.Messages {
		ids = append(ids, m.ID)
	}
	return ids, h.Truncated
}

// TestHistoryByteBudget: a history response holds at most history_bytes
// of envelopes and says "truncated": true when cut; without from it keeps
// the newest, with from the first; a response the budget did not cut has
// no truncated field.
func TestHistoryByteBudget(t *testing.T) {
	e := newEnv(t, withReadBudgets(40_000, 4<<20))
	ids := e.publishBig(10, "m.big")
	e.publish("m.small", 5)
	for _, c := range []struct {
		query     string
		want      []string
		truncated bool
	}{
		{"topic=m.big", ids[7:], true},
		{"topic=m.big&from=0", ids[:3], true},
		{"topic=m.big&limit=2", ids[8:], false},
		{"topic=m.big&from=0&limit=3", ids[:3], false},
	} {
		got, tr := historyIDs(t, e, c.query)
		if fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Fatalf("%s: ids %v, want %v", c.query, got, c.want)
		}
		if c.truncated != (tr != nil && *tr) || (!c.truncated && tr != nil) {
			t.Fatalf("%s: truncated %v, want %v", c.query, tr, c.truncated)
		}
	}
	code, b := e.do("GET", "/api/v1/history?topic=m.small", e.admin, "")
	if code != 200 || strings.Contains(b, "truncated") || strings.Count(b, `"id"`) != 5 || !strings.HasPrefix(b, `{"messages":[{`) {
		t.Fatalf("small: %d %s", code, b)
	}
	if code, b := e.do("GET", "/api/v1/history?topic=m.none", e.admin, ""); code != 200 || b != "{\"messages\":[]}\n" {
		t.Fatalf("empty: %d %q", code, b)
	}
}

// TestBacklogByteBudgetKeepsNewest: a stream's backlog holds at most
// backlog_bytes of envelopes, keeps the newest messages across topics, in
// id order, and live messages follow; from memory (backlog up to 50) and
// from the database alike.
func TestBacklogByteBudgetKeepsNewest(t *testing.T) {
	e := newEnv(t, withReadBudgets(16<<20, 40_000))
	ids := e.publishBig(6, "m.a", "m.b")
	for _, backlog := range []string{"50", "200"} {
		c := e.openSSE("topic=m.*&backlog=" + backlog + "&token=" + e.admin)
		got := c.collect(t, 3)
		if fmt.Sprint(got) != fmt.Sprint(ids[len(ids)-3:]) {
			t.Fatalf("backlog=%s: %v, want the newest %v", backlog, got, ids[len(ids)-3:])
		}
		live := e.publishBig(1, "m.a")
		if next := c.collect(t, 1); next[0] != live[0] {
			t.Fatalf("backlog=%s: after the backlog %v, want live %v", backlog, next, live)
		}
		ids = append(ids, live...)
		c.close()
	}
}

// TestResumeByteBudgetIsExact: a resume larger than backlog_bytes pages
// through reads within the budget: every message after the id, in order,
// none missing, no reset.
func TestResumeByteBudgetIsExact(t *testing.T) {
	e := newEnv(t, withReadBudgets(16<<20, 40_000))
	ids := e.publishBig(15, "m.a", "m.b")
	c := e.openSSE("topic=m.*&token="+e.admin, "Last-Event-ID", ids[2])
	got := c.collect(t, len(ids)-3)
	if fmt.Sprint(got) != fmt.Sprint(ids[3:]) {
		t.Fatalf("resume: %v\nwant %v", got, ids[3:])
	}
	live := e.publish("m.b", 1)
	if next := c.collect(t, 1); next[0] != live[0] {
		t.Fatalf("after the resume %v, want live %v", next, live)
	}
}

// failingHistory is the real store with history reads that fail after
// `after` messages.
type failingHistory struct {
	httpapi.Store
	after int
}

func (f failingHistory) HistoryEnvelopes(ctx context.Context, q livedash.HistoryQuery, fn func([]byte) error) (bool, error) {
	n := 0
	return f.Store.HistoryEnvelopes(ctx, q, func(env []byte) error {
		if n == f.after {
			return errors.New("disk I/O error")
		}
		n++
		return fn(env)
	})
}

// TestHistoryErrorMidStreamAborts: a read that fails before anything was
// sent is a 500; one that fails after the 200 and some messages went out
// ends the response cut short (not valid JSON, no 500 after the 200).
// Both are logged with their cause.
func TestHistoryErrorMidStreamAborts(t *testing.T) {
	for _, after := range []int{0, 2, 4} {
		logs := &logRecorder{}
		e := newEnv(t, withLogger(logs), func(c *envConfig) {
			c.wrapStore = func(s httpapi.Store) httpapi.Store { return failingHistory{Store: s, after: after} }
		})
		e.publishBig(5, "m.a") // 4 of them pass the 32 KiB buffer
		resp, err := http.Get(e.url + "/api/v1/history?topic=m.a&token=" + e.admin)
		if err != nil {
			t.Fatal(err)
		}
		body, rerr := io.ReadAll(resp.Body)
		resp.Body.Close()
		if after < 4 {
			if resp.StatusCode != 500 || string(body) != "{\"error\":\"internal error\"}\n" {
				t.Fatalf("fail after %d: %d %s", after, resp.StatusCode, body)
			}
		} else if resp.StatusCode != 200 || rerr == nil || json.Valid(body) || !strings.HasPrefix(string(body), `{"messages":[{`) {
			t.Fatalf("fail mid-stream: %d, read error %v, body %.100s; want a 200 cut short", resp.StatusCode, rerr, body)
		}
		if got := strings.Join(logs.atLeast(slog.LevelError), "\n"); !strings.Contains(got, "disk I/O error") {
			t.Fatalf("after %d: logged %q, want the cause", after, got)
		}
	}
}

// TestHistoryResponseIsStreamed: a history response of large messages is
// written as it is read, not built whole: the server allocates about the
// response's size (the driver's copy of each row), not several times it
// (a frame per row with three encodings, then the whole body marshalled).
func TestHistoryResponseIsStreamed(t *testing.T) {
	e := newEnv(t)
	pad := strings.Repeat("x", 60000)
	for i := 0; i < 20; i++ {
		batch := make([]string, 10)
		for j := range batch {
			batch[j] = fmt.Sprintf(`{"topic":"m.big","type":"event","data":{"s":%q}}`, pad)
		}
		if code, b := e.do("POST", "/api/v1/publish", e.admin, "["+strings.Join(batch, ",")+"]"); code != 200 {
			t.Fatalf("publish: %d %s", code, b)
		}
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	resp, err := http.Get(e.url + "/api/v1/history?topic=m.big&token=" + e.admin)
	if err != nil {
		t.Fatal(err)
	}
	n, err := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	runtime.ReadMemStats(&after)
	if err != nil || resp.StatusCode != 200 || n < 200*60000 {
		t.Fatalf("%d, %d bytes, %v", resp.StatusCode, n, err)
	}
	alloc := after.TotalAlloc - before.TotalAlloc
	t.Logf("response %d bytes, allocated %d (%.1fx)", n, alloc, float64(alloc)/float64(n))
	if alloc > uint64(2*n) {
		t.Fatalf("allocated %d bytes for a %d-byte response", alloc, n)
	}
}

// TestEncodeFailureIsLogged: a response that does not encode as JSON (here
// a file dashboard that skipped validation) is a 500 whose cause is logged.
func TestEncodeFailureIsLogged(t *testing.T) {
	logs := &logRecorder{}
	bad := dashboard.Dashboard{Name: "bad", Widgets: []dashboard.Widget{{ID: "w1", Type: "stat", Topics: []string{"a"}, Options: map[string]any{"x": math.NaN()}}}}
	e := newEnv(t, withLogger(logs), func(c *envConfig) { c.files = []dashboard.Dashboard{bad} })
	if code, b := e.do("GET", "/api/v1/dashboards", e.admin, ""); code != 500 || !strings.Contains(b, "internal error") {
		t.Fatalf("%d %s", code, b)
	}
	if got := strings.Join(logs.atLeast(slog.LevelError), "\n"); !strings.Contains(got, "NaN") || !strings.Contains(got, "/api/v1/dashboards") {
		t.Fatalf("logged %q, want the cause and the path", got)
	}
}

// TestWebSocketBacklogByteBudget: a WebSocket subscription's backlog keeps
// the newest messages within backlog_bytes, and its resume is exact.
func TestWebSocketBacklogByteBudget(t *testing.T) {
	e := newEnv(t, withReadBudgets(16<<20, 40_000))
	ids := e.publishBig(6, "m.a", "m.b")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ws := dialWS(t, ctx, e.url, e.admin)
	defer ws.close()
	readIDs := func(n int) []string {
		var got []string
		for len(got) < n {
			m := ws.read(t)
			if m["op"] == "ok" {
				continue
			}
			if m["op"] != "message" {
				t.Fatalf("frame %v", m)
			}
			got = append(got, m["id"].(string))
		}
		return got
	}
	ws.send(t, `{"op":"subscribe","ref":1,"topics":["m.a","m.b"],"backlog":100}`)
	if got := readIDs(3); fmt.Sprint(got) != fmt.Sprint(ids[len(ids)-3:]) {
		t.Fatalf("backlog %v, want the newest %v", got, ids[len(ids)-3:])
	}
	ws.send(t, fmt.Sprintf(`{"op":"subscribe","ref":2,"topics":["m.*"],"since":%q}`, ids[0]))
	// Everything after ids[0] not yet sent on this socket: the resume is
	// exact and the overlap with the first subscription is sent once.
	if got := readIDs(len(ids) - 4); fmt.Sprint(got) != fmt.Sprint(ids[1:len(ids)-3]) {
		t.Fatalf("resume %v, want %v", got, ids[1:len(ids)-3])
	}
}
