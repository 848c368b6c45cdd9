package httpapi_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	influxdb2 "github.com/influxdata/influxdb-client-go/v2"
	influxhttp "github.com/influxdata/influxdb-client-go/v2/api/http"
	influx1 "github.com/influxdata/influxdb1-client/v2"

	"github.com/livedash/livedash/config"
)

// histMsg is one message of a history answer.
type histMsg struct {
	Topic string          `json:"topic"`
	Type  string          `json:"type"`
	TS    int64           `json:"ts"`
	Data  json.RawMessage `json:"data"`
}

// history reads the messages matching patterns through GET /api/v1/history.
func (e *env) history(patterns ...string) []histMsg {
	e.t.Helper()
	q := url.Values{"topic": patterns}
	status, b := e.do("GET", "/api/v1/history?"+q.Encode(), e.admin, "")
	if status != 200 {
		e.t.Fatalf("history: %d %s", status, b)
	}
	var h struct{ Messages []histMsg }
	if err := json.Unmarshal([]byte(b), &h); err != nil {
		e.t.Fatalf("history: %v in %s", err, b)
	}
	return h.Messages
}

// pathLog records the method and path of every request the server logs.
type pathLog struct {
	mu    sync.Mutex
	paths []string
}

func (p *pathLog) Enabled(context.Context, slog.Level) bool { return true }
func (p *pathLog) Handle(_ context.Context, r slog.Record) error {
	if r.Message != "request" {
		return nil
	}
	var method, path string
	r.Attrs(func(a slog.Attr) bool {
		switch a.Key {
		case "method":
			method = a.Value.String()
		case "path":
			path = a.Value.String()
		}
		return true
	})
	p.mu.Lock()
	p.paths = append(p.paths, method+" "+path)
	p.mu.Unlock()
	return nil
}
func (p *pathLog) WithAttrs([]slog.Attr) slog.Handler { return p }
func (p *pathLog) WithGroup(string) slog.Handler      { return p }
func (p *pathLog) seen() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.paths)
}

// TestInfluxV2ClientWrites runs the official InfluxDB Go client (v2 API)
// against /api/v2/write, with gzip, and reads its points back.
func TestInfluxV2ClientWrites(t *testing.T) {
	log := &pathLog{}
	e := newEnv(t, func(c *envConfig) { c.logger = slog.New(log) })
	ctx := context.Background()
	c := influxdb2.NewClientWithOptions(e.url, e.grantToken("cpu.>", "pub", "temp.>", "pub"),
		influxdb2.DefaultOptions().SetUseGZip(true).SetPrecision(time.Millisecond))
	defer c.Close()
	if ok, err := c.Ping(ctx); !ok || err != nil {
		t.Fatalf("Ping: %v %v", ok, err)
	}
	if h, err := c.Health(ctx); err != nil || h.Status != "pass" {
		t.Fatalf("Health: %+v %v", h, err)
	}
	w := c.WriteAPIBlocking("my-org", "telegraf")
	ts := time.UnixMilli(1732262400123)
	if err := w.WritePoint(ctx, influxdb2.NewPoint("cpu", map[string]string{"host": "web1", "cpu": "cpu0"},
		map[string]any{"usage": 3.5, "idle": 96.5}, ts)); err != nil {
		t.Fatalf("WritePoint: %v", err)
	}
	if err := w.WriteRecord(ctx, "temp,room=kitchen value=21.5 1732262400124"); err != nil {
		t.Fatalf("WriteRecord: %v", err)
	}
	got := e.history("cpu.>", "temp.>")
	if len(got) != 2 || got[0].Topic != "cpu.cpu0.web1" || got[0].TS != 1732262400123 ||
		!jsonEqual(got[0].Data, `{"idle":96.5,"usage":3.5}`) ||
		got[1].Topic != "temp.kitchen" || string(got[1].Data) != "21.5" || got[1].TS != 1732262400124 {
		t.Fatalf("history: %+v", got)
	}

	// The client reads InfluxDB 2.x's error shape: code and message.
	err := w.WriteRecord(ctx, "cpu,host=web1 usage=high")
	var ie *influxhttp.Error
	if !errors.As(err, &ie) || ie.StatusCode != 400 || ie.Code != "invalid" || !strings.Contains(ie.Message, "line 1") {
		t.Fatalf("bad line: %#v", err)
	}
	err = w.WriteRecord(ctx, "shop value=1")
	if !errors.As(err, &ie) || ie.StatusCode != 403 || ie.Code != "forbidden" {
		t.Fatalf("outside grant: %#v", err)
	}
	if n := len(e.history(">")); n != 2 {
		t.Fatalf("refused writes stored something: %d messages", n)
	}
	// What the client called: nothing before writing but what we asked.
	want := []string{"GET /ping", "GET /health", "POST /api/v2/write", "POST /api/v2/write", "POST /api/v2/write", "POST /api/v2/write"}
	if got := slices.DeleteFunc(log.seen(), func(p string) bool { return p == "GET /api/v1/history" }); !slices.Equal(got, want) {
		t.Fatalf("client requests: %v", got)
	}
}

// TestInfluxV1ClientWrites runs the InfluxDB 1.x Go client
// (github.com/influxdata/influxdb1-client) against /write: Basic auth
// with the token as password, a db, precision s, /ping.
func TestInfluxV1ClientWrites(t *testing.T) {
	e := newEnv(t, func(c *envConfig) { c.cfg.Influx = config.Influx{DBPrefix: true} })
	c, err := influx1.NewHTTPClient(influx1.HTTPConfig{Addr: e.url, Username: "telegraf", Password: e.grantToken("telegraf.>", "pub")})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, version, err := c.Ping(time.Second); err != nil || version == "" {
		t.Fatalf("Ping: %q %v", version, err)
	}
	bp, _ := influx1.NewBatchPoints(influx1.BatchPointsConfig{Database: "telegraf", Precision: "s"})
	p, _ := influx1.NewPoint("mem", map[string]string{"host": "web1.example.com"}, map[string]any{"used_percent": 41.5, "active": int64(7)}, time.Unix(1732262400, 0))
	bp.AddPoint(p)
	if err := c.Write(bp); err != nil {
		t.Fatalf("Write: %v", err)
	}
	got := e.history("telegraf.>")
	if len(got) != 1 || got[0].Topic != "telegraf.mem.web1_example_com" || got[0].TS != 1732262400000 ||
		!jsonEqual(got[0].Data, `{"active":7,"used_percent":41.5}`) {
		t.Fatalf("history: %+v", got)
	}
	// Telegraf's outputs.influxdb creates its database first.
	if resp, err := c.Query(influx1.NewQuery(`CREATE DATABASE "telegraf"`, "", "")); err != nil || resp.Error() != nil {
		t.Fatalf("CREATE DATABASE: %v %v", err, resp)
	}
	// The 1.x error shape: {"error":…}, which the client returns as its message.
	bp, _ = influx1.NewBatchPoints(influx1.BatchPointsConfig{Database: "other", Precision: "s"})
	bp.AddPoint(p)
	if err := c.Write(bp); err == nil || !strings.Contains(err.Error(), "may not publish") {
		t.Fatalf("write outside the grant: %v", err)
	}
	if n := len(e.history(">")); n != 1 {
		t.Fatalf("a refused write stored something: %d messages", n)
	}
}

// TestInfluxWriteRequests covers what the clients above do not send: u/p
// query credentials, Token user:password, missing db or bucket, gzip
// bombs and broken gzip, and the error shapes.
func TestInfluxWriteRequests(t *testing.T) {
	e := newEnv(t, withRequestBytes(64<<10))
	tok := e.grantToken("cpu.>", "pub")
	gz := func(b []byte) string {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		zw.Write(b)
		zw.Close()
		return buf.String()
	}
	bomb := gz(bytes.Repeat([]byte("cpu,host=a value=1\n"), 1<<20)) // 12 MiB inflated, ~25 KiB sent
	for _, tc := range []struct {
		name, path, body string
		headers          []string
		status           int
		want             string
	}{
		{"u and p", "/write?db=x&u=me&p=" + tok, "cpu,host=a value=1", nil, 204, ""},
		{"Token user:password", "/api/v2/write?org=o&bucket=b", "cpu,host=a value=2", []string{"Authorization", "Token me:" + tok}, 204, ""},
		{"gzip", "/write?db=x", gz([]byte("cpu,host=a value=3")), []string{"Authorization", "Token " + tok, "Content-Encoding", "gzip"}, 204, ""},
		{"no db", "/write", "cpu,host=a value=1", []string{"Authorization", "Token " + tok}, 400, `{"error":"db is required"}`},
		{"no bucket", "/api/v2/write?org=o", "cpu,host=a value=1", []string{"Authorization", "Token " + tok}, 400, `{"code":"invalid","message":"bucket is required"}`},
		{"bad password", "/write?db=x&u=me&p=nope", "cpu,host=a value=1", nil, 401, `"error":`},
		{"v2 no token", "/api/v2/write?bucket=b", "cpu,host=a value=1", nil, 401, `"code":"unauthorized"`},
		{"gzip bomb v1", "/write?db=x", bomb, []string{"Authorization", "Token " + tok, "Content-Encoding", "gzip"}, 413, "decompresses to more than the limit of 65536 bytes"},
		{"gzip bomb v2", "/api/v2/write?bucket=b", bomb, []string{"Authorization", "Token " + tok, "Content-Encoding", "gzip"}, 413, `"code":"request too large"`},
		{"broken gzip", "/write?db=x", "not gzip at all", []string{"Authorization", "Token " + tok, "Content-Encoding", "gzip"}, 400, "gzip body"},
		{"unknown encoding", "/api/v2/write?bucket=b", "cpu,host=a value=1", []string{"Authorization", "Token " + tok, "Content-Encoding", "br"}, 415, `"code":"unsupported media type"`},
		{"bad precision", "/api/v2/write?bucket=b&precision=h", "cpu,host=a value=1", []string{"Authorization", "Token " + tok}, 400, "precision"},
		{"unknown precision", "/write?db=x&precision=d", "cpu,host=a value=1", []string{"Authorization", "Token " + tok}, 400, "precision"},
		{"1.x hours", "/write?db=x&precision=h", "cpu,host=a value=1 481184", []string{"Authorization", "Token " + tok}, 204, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			head := e.store.Head()
			status, b := e.do("POST", tc.path, "", tc.body, tc.headers...)
			if status != tc.status || !strings.Contains(b, tc.want) {
				t.Fatalf("%d %s", status, b)
			}
			if stored := e.store.Head() != head; stored != (status == 204) {
				t.Fatalf("stored: %v with status %d", stored, status)
			}
		})
	}
	status, b := e.do("GET", "/ping", "", "")
	if status != 204 || b != "" {
		t.Fatalf("ping: %d %q", status, b)
	}
}

func withRequestBytes(n int64) envOption {
	return func(c *envConfig) { c.cfg.Limits.RequestBytes = config.Size(n) }
}

// jsonEqual compares JSON values regardless of member order.
func jsonEqual(got json.RawMessage, want string) bool {
	var a, b any
	if json.Unmarshal(got, &a) != nil || json.Unmarshal([]byte(want), &b) != nil {
		return false
	}
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return bytes.Equal(ja, jb)
}
