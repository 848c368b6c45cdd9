package httpapi_test

import (
	"encoding/json"

	"github.com/prometheus/client_golang/prometheus"

	"fmt"
	"github.com/livedash/livedash/httpapi"
	"github.com/livedash/livedash/metrics"
	"github.com/livedash/livedash/sqlite"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/livedash/livedash/auth"
)

func TestPublishEndpoints(t *testing.T) {
	e := newEnv(t)
	status, body := e.do("POST", "/api/v1/topics/host.cpu", e.admin, "42.3")
	if status != 200 || !strings.Contains(body, `"ids":["1-`) {
		t.Fatalf("topic publish: %d %s", status, body)
	}
	status, body = e.do("POST", "/api/v1/topics/shop.orders?type=event", e.admin, `{"total": 12.5}`)
	if status != 200 {
		t.Fatalf("typed topic publish: %d %s", status, body)
	}
	status, body = e.do("POST", "/api/v1/publish", e.admin, `[{"topic":"a","data":1,"ts":"2024-01-02T03:04:05Z"},{"topic":"b","type":"stats","data":{"x":1}}]`)
	var resp struct{ IDs []string }
	if status != 200 || json.Unmarshal([]byte(body), &resp) != nil || len(resp.IDs) != 2 {
		t.Fatalf("batch publish: %d %s", status, body)
	}
	status, body = e.do("GET", "/api/v1/history?topic=a&topic=shop.orders&topic=host.cpu", e.admin, "")
	want := `"topic":"shop.orders","type":"event",`
	if status != 200 || !strings.Contains(body, want) || !strings.Contains(body, `"data":{"total":12.5}`) || !strings.Contains(body, `"ts":1704164645000`) {
		t.Fatalf("history: %d %s", status, body)
	}
}

// TestBadInputsChangeNothing tries every bad input of the contract's error
// section and more; each gets its status and a JSON error, nothing is
// stored, and the server keeps serving.
func TestBadInputsChangeNothing(t *testing.T) {
	e := newEnv(t)
	e.publish("seed", 1)
	viewer := e.grantToken("shop.>", "sub")
	publisher := e.grantToken("shop.>", "pub")
	expired := e.token(claims("x"), -time.Minute)
	wrongSecret, _ := auth.NewSigner([]byte("another secret"), nil).Mint(claims("x"), time.Hour)
	items := func(n int) string {
		s := make([]string, n)
		for i := range s {
			s[i] = `{"topic":"shop.a","data":1}`
		}
		return "[" + strings.Join(s, ",") + "]"
	}
	big := `{"topic":"shop.a","type":"t","data":"` + strings.Repeat("x", 70<<10) + `"}`
	huge := `[` + strings.Repeat(`{"topic":"shop.a","type":"t","data":"`+strings.Repeat("y", 60<<10)+`"},`, 20) + `{"topic":"shop.a","data":1}]`
	for _, tc := range []struct {
		name, method, path, token, body string
		status                          int
	}{
		{"no token", "POST", "/api/v1/publish", "", `{"topic":"shop.a","data":1}`, 401},
		{"garbage token", "POST", "/api/v1/publish", "garbage", `{"topic":"shop.a","data":1}`, 401},
		{"expired token", "POST", "/api/v1/publish", expired, `{"topic":"shop.a","data":1}`, 401},
		{"wrong secret", "POST", "/api/v1/publish", wrongSecret, `{"topic":"shop.a","data":1}`, 401},
		{"subscribe-only token", "POST", "/api/v1/publish", viewer, `{"topic":"shop.a","data":1}`, 403},
		{"outside the grant", "POST", "/api/v1/publish", publisher, `{"topic":"admin.a","data":1}`, 403},
		{"one bad grant in batch", "POST", "/api/v1/publish", publisher, `[{"topic":"shop.a","data":1},{"topic":"admin.a","data":1}]`, 403},
		{"sys topic as admin", "POST", "/api/v1/publish", e.admin, `{"topic":"sys.x","data":1}`, 403},
		{"sys topic by path", "POST", "/api/v1/topics/sys.x", e.admin, `1`, 403},
		{"bad JSON", "POST", "/api/v1/publish", e.admin, `{"topic":`, 400},
		{"empty body", "POST", "/api/v1/publish", e.admin, ``, 400},
		{"invalid UTF-8", "POST", "/api/v1/publish", e.admin, "{\"topic\":\"a\",\"data\":\"\xc3\x28\"}", 400},
		{"invalid UTF-8 by path", "POST", "/api/v1/topics/a", e.admin, "\"\xff\"", 400},
		{"bad topic", "POST", "/api/v1/publish", e.admin, `{"topic":"a b","data":1}`, 400},
		{"wildcard topic", "POST", "/api/v1/publish", e.admin, `{"topic":"shop.*","data":1}`, 400},
		{"wildcard topic by path", "POST", "/api/v1/topics/shop.%3E", e.admin, `1`, 400},
		{"bad type", "POST", "/api/v1/publish", e.admin, `{"topic":"a","type":"NO","data":1}`, 400},
		{"bad type by path", "POST", "/api/v1/topics/a?type=N%20O", e.admin, `1`, 400},
		{"bad ts", "POST", "/api/v1/publish", e.admin, `{"topic":"a","ts":"noon","data":1}`, 400},
		{"bad ts by path", "POST", "/api/v1/topics/a?ts=noon", e.admin, `1`, 400},
		{"bad data by path", "POST", "/api/v1/topics/a", e.admin, `{oops`, 400},
		{"1001 items", "POST", "/api/v1/publish", e.admin, items(1001), 413},
		{"data over 64 KiB", "POST", "/api/v1/publish", e.admin, big, 413},
		{"request over 1 MiB", "POST", "/api/v1/publish", e.admin, huge, 413},
		{"unknown API path", "GET", "/api/v1/nothing", e.admin, ``, 404},
		{"history without topic", "GET", "/api/v1/history", e.admin, ``, 400},
		{"history bad pattern", "GET", "/api/v1/history?topic=a..b", e.admin, ``, 400},
		{"history bad limit", "GET", "/api/v1/history?topic=a&limit=-5", e.admin, ``, 400},
		{"history bad from", "GET", "/api/v1/history?topic=a&from=yesterday", e.admin, ``, 400},
		{"history bad step", "GET", "/api/v1/history?topic=a&step=fast", e.admin, ``, 400},
		{"history too many buckets", "GET", "/api/v1/history?topic=a&step=1ms&from=0&to=1000000000", e.admin, ``, 400},
		{"stream without topic", "GET", "/api/v1/stream", e.admin, ``, 400},
		{"stream bad backlog", "GET", "/api/v1/stream?topic=a&backlog=lots", e.admin, ``, 400},
		{"stream no token", "GET", "/api/v1/stream?topic=shop.a", "", ``, 401},
		{"stream wider than grant", "GET", "/api/v1/stream?topic=shop.>&topic=admin.x", viewer, ``, 403},
		{"stream sys as viewer", "GET", "/api/v1/stream?topic=sys.>", viewer, ``, 403},
		{"dashboard put as viewer", "PUT", "/api/v1/dashboards/x", viewer, `{"widgets":[]}`, 403},
		{"dashboard put no token", "PUT", "/api/v1/dashboards/x", "", `{"widgets":[]}`, 401},
		{"dashboard put bad body", "PUT", "/api/v1/dashboards/x", e.admin, `{"widgets":[{"type":"nope"}]}`, 400},
		{"dashboard put bad name", "PUT", "/api/v1/dashboards/a.b", e.admin, `{"widgets":[]}`, 400},
		{"dashboard delete missing", "DELETE", "/api/v1/dashboards/missing", e.admin, ``, 404},
	} {
		t.Run(tc.name, func(t *testing.T) {
			head := e.store.Head()
			status, body := e.do(tc.method, tc.path, tc.token, tc.body)
			if status != tc.status {
				t.Fatalf("status %d, want %d: %s", status, tc.status, body)
			}
			var eb struct{ Error string }
			if err := json.Unmarshal([]byte(body), &eb); err != nil || eb.Error == "" {
				t.Fatalf("body is not a JSON error: %s", body)
			}
			if e.store.Head() != head {
				t.Fatalf("store changed: head %v -> %v", head, e.store.Head())
			}
			if s, _ := e.do("GET", "/healthz", "", ""); s != 200 {
				t.Fatalf("server stopped serving: %d", s)
			}
		})
	}
	// The batch error names the item.
	_, body := e.do("POST", "/api/v1/publish", e.admin, `[{"topic":"a","data":1},{"topic":"a","data":1},{"topic":"a.*","data":1}]`)
	if !strings.Contains(body, `"index":2`) {
		t.Fatalf("batch error without index: %s", body)
	}
	// 401 carries a WWW-Authenticate challenge.
	req, _ := http.NewRequest("POST", e.url+"/api/v1/publish", strings.NewReader(`{"topic":"a","data":1}`))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Header.Get("WWW-Authenticate") == "" {
		t.Fatal("401 without WWW-Authenticate")
	}
}

func TestReadEndpointsFilterByRights(t *testing.T) {
	e := newEnv(t, withPublic("status.>"))
	e.publish("shop.orders", 2)
	e.publish("shop.secret.revenue", 1)
	e.publish("status.api", 1)
	e.publish("admin.queue", 1)
	viewer := e.grantToken("shop.*", "sub")

	topicsOf := func(token string) string {
		status, body := e.do("GET", "/api/v1/topics", token, "")
		if status != 200 {
			t.Fatalf("topics: %d %s", status, body)
		}
		var ts []struct {
			Topic string
			Count int
			Last  struct{ Topic string }
		}
		if err := json.Unmarshal([]byte(body), &ts); err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, x := range ts {
			names = append(names, fmt.Sprintf("%s:%d:%s", x.Topic, x.Count, x.Last.Topic))
		}
		return strings.Join(names, ",")
	}
	if got := topicsOf(viewer); got != "shop.orders:2:shop.orders,status.api:1:status.api" {
		t.Fatalf("viewer sees %s", got)
	}
	if got := topicsOf(""); got != "status.api:1:status.api" {
		t.Fatalf("anonymous sees %s", got)
	}
	if got := topicsOf(e.admin); !strings.Contains(got, "admin.queue") || !strings.Contains(got, "shop.secret.revenue") {
		t.Fatalf("admin sees %s", got)
	}
	if status, _ := e.do("GET", "/api/v1/history?topic=shop.>", viewer, ""); status != 403 {
		t.Fatalf("history wider than grant: %d", status)
	}
	if status, body := e.do("GET", "/api/v1/history?topic=status.api", "", ""); status != 200 || !strings.Contains(body, "status.api") {
		t.Fatalf("public history: %d %s", status, body)
	}
	if status, _ := e.do("GET", "/api/v1/history?topic=shop.orders", "", ""); status != 401 {
		t.Fatalf("private history without token: %d", status)
	}
}

func TestHistoryLimitsAndBuckets(t *testing.T) {
	e := newEnv(t)
	now := time.Now().UnixMilli()
	var batch []string
	for i := 0; i < 30; i++ {
		batch = append(batch, fmt.Sprintf(`{"topic":"h.a","ts":%d,"data":%d}`, now-int64(30-i)*1000, i))
	}
	if status, body := e.do("POST", "/api/v1/publish", e.admin, "["+strings.Join(batch, ",")+"]"); status != 200 {
		t.Fatal(body)
	}
	var h struct{ Messages []struct{ Data int } }
	_, body := e.do("GET", "/api/v1/history?topic=h.a&limit=5", e.admin, "")
	json.Unmarshal([]byte(body), &h)
	if len(h.Messages) != 5 || h.Messages[0].Data != 25 || h.Messages[4].Data != 29 {
		t.Fatalf("newest 5: %s", body)
	}
	_, body = e.do("GET", fmt.Sprintf("/api/v1/history?topic=h.a&from=%d&limit=3", now-20000), e.admin, "")
	h.Messages = nil
	json.Unmarshal([]byte(body), &h)
	if len(h.Messages) != 3 || h.Messages[0].Data != 10 {
		t.Fatalf("from: %s", body)
	}
	_, body = e.do("GET", "/api/v1/history?topic=h.a&step=10s", e.admin, "")
	var s struct {
		Series []struct {
			Topic   string
			Buckets []struct{ T, Count int64 }
		}
	}
	if err := json.Unmarshal([]byte(body), &s); err != nil || len(s.Series) != 1 {
		t.Fatalf("buckets: %s", body)
	}
	total := int64(0)
	for i, b := range s.Series[0].Buckets {
		total += b.Count
		if b.T%10000 != 0 || (i > 0 && b.T <= s.Series[0].Buckets[i-1].T) {
			t.Fatalf("bucket t not aligned or not ascending: %s", body)
		}
	}
	if total != 30 {
		t.Fatalf("bucket counts add to %d, want 30: %s", total, body)
	}
}

func TestDashboardsAPI(t *testing.T) {
	e := newEnv(t, withPublic("status.>"))
	put := `{"title":"Status","widgets":[{"id":"api","type":"stat","topics":["status.api"]}]}`
	if status, body := e.do("PUT", "/api/v1/dashboards/status", e.admin, put); status != 200 {
		t.Fatalf("put: %d %s", status, body)
	}
	if status, body := e.do("PUT", "/api/v1/dashboards/money", e.admin, `{"widgets":[{"id":"r","type":"stat","topics":["shop.revenue"]}]}`); status != 200 {
		t.Fatalf("put: %d %s", status, body)
	}
	status, body := e.do("GET", "/api/v1/dashboards", "", "")
	if status != 200 || !strings.Contains(body, `"name":"status"`) || strings.Contains(body, "money") {
		t.Fatalf("anonymous list: %d %s", status, body)
	}
	if status, _ := e.do("GET", "/api/v1/dashboards/money", "", ""); status != 401 {
		t.Fatalf("private dashboard without token: %d", status)
	}
	if status, body := e.do("GET", "/api/v1/dashboards/money", e.admin, ""); status != 200 || !strings.Contains(body, "shop.revenue") {
		t.Fatalf("admin get: %d %s", status, body)
	}
	if status, _ := e.do("DELETE", "/api/v1/dashboards/money", e.admin, ""); status != 204 {
		t.Fatalf("delete: %d", status)
	}
	if status, _ := e.do("GET", "/api/v1/dashboards/money", e.admin, ""); status != 404 {
		t.Fatalf("after delete: %d", status)
	}
}

func TestHealthAndReady(t *testing.T) {
	e := newEnv(t)
	if status, body := e.do("GET", "/readyz", "", ""); status != 200 || !strings.Contains(body, "ready") {
		t.Fatalf("readyz: %d %s", status, body)
	}
	e.store.Close()
	if status, _ := e.do("GET", "/readyz", "", ""); status != 503 {
		t.Fatalf("readyz with a closed store: %d", status)
	}
	if status, _ := e.do("POST", "/api/v1/topics/a", e.admin, "1"); status != 503 {
		t.Fatalf("publish with a closed store: %d", status)
	}
	if status, _ := e.do("GET", "/healthz", "", ""); status != 200 {
		t.Fatalf("healthz: %d", status)
	}
}

func TestMetricsAndRequestID(t *testing.T) {
	var m *metrics.Metrics
	e := newEnv(t, func(c *envConfig) {
		c.events = func(*sqlite.Store) httpapi.Events { return m }
	}, func(c *envConfig) {
		m = metrics.New(prometheus.NewRegistry(), func() int { return 0 })
		c.metrics = m.Handler()
	})
	m.WatchStreamPool(func() metrics.PoolStats {
		st := e.api.StreamStats()
		return metrics.PoolStats{Streams: st.Conns, Blocked: st.Blocked, Writes: st.Writes, Buffers: st.Buffers}
	})
	s := e.openSSE("topic=secret-topic-name.a&backlog=0&token=" + e.admin)
	e.publish("secret-topic-name.a", 3)
	s.collect(t, 3)
	e.do("POST", "/api/v1/publish", "", `{"topic":"x","data":1}`) // 401
	waitFor(t, func() bool {
		_, body := e.do("GET", "/metrics", "", "")
		return strings.Contains(body, `livedash_messages_delivered_total{transport="sse"} 3`)
	}, "3 deliveries counted")
	status, body := e.do("GET", "/metrics", "", "")
	for _, want := range []string{
		`livedash_messages_published_total 3`,
		`livedash_connections{transport="sse"} 1`,
		`livedash_requests_refused_total{status="401"} 1`,
		`livedash_publish_duration_seconds_count 1`,
		`go_goroutines`,
		`livedash_stream_pool_blocked_streams 0`,
	} {
		if status != 200 || !strings.Contains(body, want) {
			t.Fatalf("metrics lack %q:\n%s", want, body)
		}
	}
	if pooledSSE() {
		for _, want := range []string{`livedash_stream_pool_streams 1`, `livedash_stream_pool_frames_written_total 3`} {
			if !strings.Contains(body, want) {
				t.Fatalf("metrics lack %q:\n%s", want, body)
			}
		}
	}
	if strings.Contains(body, "secret-topic-name") {
		t.Fatal("a topic name appears in /metrics")
	}
	req, _ := http.NewRequest("GET", e.url+"/healthz", nil)
	req.Header.Set("X-Request-ID", "abc-123")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Header.Get("X-Request-ID") != "abc-123" {
		t.Fatalf("request id not echoed: %q", resp.Header.Get("X-Request-ID"))
	}
	req.Header.Set("X-Request-ID", "bad id with spaces")
	resp, _ = http.DefaultClient.Do(req)
	resp.Body.Close()
	if id := resp.Header.Get("X-Request-ID"); id == "" || strings.Contains(id, " ") {
		t.Fatalf("bad request id kept: %q", id)
	}
}

func TestLineProtocolWrite(t *testing.T) {
	e := newEnv(t)
	body := "cpu,host=web1,cpu=cpu0 usage=3.5,idle=96.5 1732262400000000000\ntemp,room=kitchen value=21.5 1732262400000000000\n"
	if status, b := e.do("POST", "/api/v1/write", e.admin, body); status != 204 {
		t.Fatalf("write: %d %s", status, b)
	}
	_, h := e.do("GET", "/api/v1/history?topic=cpu.>&topic=temp.>", e.admin, "")
	if !strings.Contains(h, `"topic":"cpu.cpu0.web1"`) || !strings.Contains(h, `"data":{"usage":3.5,"idle":96.5}`) ||
		!strings.Contains(h, `"topic":"temp.kitchen","type":"point","ts":1732262400000,"data":21.5`) {
		t.Fatalf("history after write: %s", h)
	}
	head := e.store.Head()
	for _, tc := range []struct {
		name, token, body string
		status            int
		contains          string
	}{
		{"bad second line", e.admin, "ok value=1\nbroken\n", 400, "line 2"},
		{"no token", "", "a value=1", 401, "token"},
		{"outside grant", e.grantToken("cpu.>", "pub"), "temp value=1", 403, "may not publish"},
	} {
		status, b := e.do("POST", "/api/v1/write", tc.token, tc.body)
		if status != tc.status || !strings.Contains(b, tc.contains) {
			t.Fatalf("%s: %d %s", tc.name, status, b)
		}
	}
	if e.store.Head() != head {
		t.Fatal("a refused write stored something")
	}
	// InfluxDB v2 clients send "Authorization: Token …".
	status, _ := e.do("POST", "/api/v1/write?precision=s", "", "v2 value=1 1732262400", "Authorization", "Token "+e.admin)
	if status != 204 {
		t.Fatalf("Token auth: %d", status)
	}
}

func TestCORS(t *testing.T) {
	e := newEnv(t, withPublic("blog.>"), func(c *envConfig) { c.cfg.CORSOrigins = []string{"https://blog.example.com"} })
	for _, tc := range []struct {
		origin, method string
		allowed        bool
	}{
		{"https://blog.example.com", "GET", true},
		{"https://blog.example.com", "OPTIONS", true},
		{"https://evil.example.com", "GET", false},
	} {
		req, _ := http.NewRequest(tc.method, e.url+"/api/v1/history?topic=blog.a", nil)
		req.Header.Set("Origin", tc.origin)
		req.Header.Set("Access-Control-Request-Method", "GET")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		got := resp.Header.Get("Access-Control-Allow-Origin")
		if tc.allowed != (got == tc.origin) {
			t.Fatalf("%s from %s: Access-Control-Allow-Origin %q", tc.method, tc.origin, got)
		}
		if tc.method == "OPTIONS" && (resp.StatusCode != 204 || !strings.Contains(resp.Header.Get("Access-Control-Allow-Headers"), "Last-Event-ID")) {
			t.Fatalf("preflight: %d %v", resp.StatusCode, resp.Header)
		}
	}
}
