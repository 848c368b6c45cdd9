package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/livedash/livedash"
	"github.com/livedash/livedash/config"
	"github.com/livedash/livedash/httpapi"
	"github.com/livedash/livedash/sqlite"
	"github.com/livedash/livedash/sysevent"
)

func withLimits(perSecond float64, conns int) envOption {
	return func(c *envConfig) {
		c.cfg.Limits.PublishRate = config.Rate{PerSecond: perSecond}
		c.cfg.Limits.ConnectionsPerToken = conns
	}
}

// TestGrantMatrix: each grant combination against each kind of request.
func TestGrantMatrix(t *testing.T) {
	e := newEnv(t, withPublic("status.>", "blog.*.views"))
	e.publish("shop.a", 1)
	e.publish("shop.a.b", 1)
	e.publish("status.api", 1)
	e.publish("blog.p1.views", 1)
	e.publish("blog.p1.comments", 1)
	subOnly := e.grantToken("shop.*", "sub")
	pubOnly := e.grantToken("shop.*", "pub")
	wide := e.grantToken(">", "sub")
	for _, tc := range []struct {
		name, method, path, token, body string
		status                          int
	}{
		{"subscribe-only reads its topic", "GET", "/api/v1/history?topic=shop.a", subOnly, "", 200},
		{"subscribe-only cannot publish", "POST", "/api/v1/topics/shop.a", subOnly, "1", 403},
		{"shop.* cannot read shop.a.b", "GET", "/api/v1/history?topic=shop.a.b", subOnly, "", 403},
		{"shop.* cannot read admin.x", "GET", "/api/v1/history?topic=admin.x", subOnly, "", 403},
		{"shop.* cannot read >", "GET", "/api/v1/history?topic=>", subOnly, "", 403},
		{"shop.* cannot stream shop.>", "GET", "/api/v1/stream?topic=shop.>", subOnly, "", 403},
		{"no partial grant", "GET", "/api/v1/stream?topic=shop.a&topic=other.x", subOnly, "", 403},
		{"publish-only publishes", "POST", "/api/v1/topics/shop.a", pubOnly, "1", 200},
		{"publish-only cannot read", "GET", "/api/v1/history?topic=shop.a", pubOnly, "", 403},
		{"publish-only cannot publish deeper", "POST", "/api/v1/topics/shop.a.b", pubOnly, "1", 403},
		{"> grant cannot read sys", "GET", "/api/v1/history?topic=sys.>", wide, "", 403},
		{"> grant cannot stream sys", "GET", "/api/v1/stream?topic=sys.connections", wide, "", 403},
		{"admin reads sys", "GET", "/api/v1/history?topic=sys.>", e.admin, "", 200},
		{"public topic without token", "GET", "/api/v1/history?topic=status.api", "", "", 200},
		{"public pattern without token", "GET", "/api/v1/history?topic=blog.p1.views", "", "", 200},
		{"sibling of public needs token", "GET", "/api/v1/history?topic=blog.p1.comments", "", "", 401},
		{"wider than public needs token", "GET", "/api/v1/history?topic=blog.>", "", "", 401},
		{"public is not publishable", "POST", "/api/v1/topics/status.api", "", "1", 401},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, body := e.do(tc.method, tc.path, tc.token, tc.body)
			if tc.method == "GET" && strings.Contains(tc.path, "/stream") && status == 200 {
				t.Fatalf("stream opened, want %d", tc.status)
			}
			if status != tc.status {
				t.Fatalf("status %d, want %d: %s", status, tc.status, body)
			}
		})
	}
}

// TestTokensRefused: every kind of bad token is a 401 on every endpoint kind.
func TestTokensRefused(t *testing.T) {
	e := newEnv(t, withPublic("status.>"))
	c := claims("x")
	c.Admin = true
	expired := e.token(c, -time.Second)
	for name, tok := range map[string]string{
		"expired":   expired,
		"garbage":   "abc.def.ghi",
		"not a jwt": "hello",
	} {
		for _, path := range []string{"/api/v1/history?topic=status.api", "/api/v1/topics", "/api/v1/stream?topic=status.api", "/api/v1/dashboards"} {
			if status, _ := e.do("GET", path, tok, ""); status != 401 {
				t.Errorf("%s token on %s: %d, want 401 (a bad token is refused even on public topics)", name, path, status)
			}
		}
	}
}

func TestPublishRateLimit(t *testing.T) {
	// 2 messages/s, burst 2: slow enough that a loaded test machine cannot
	// refill the bucket between two requests.
	e := newEnv(t, withLimits(2, 0))
	pub := e.grantToken("r.>", "pub")
	if status, body := e.do("POST", "/api/v1/publish", pub, `[{"topic":"r.a","data":1},{"topic":"r.a","data":2}]`); status != 200 {
		t.Fatalf("first batch within the burst: %d %s", status, body)
	}
	req, _ := http.NewRequest("POST", e.url+"/api/v1/topics/r.a", strings.NewReader("1"))
	req.Header.Set("Authorization", "Bearer "+pub)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var eb struct{ Error string }
	json.NewDecoder(resp.Body).Decode(&eb)
	resp.Body.Close()
	if resp.StatusCode != 429 || eb.Error == "" {
		t.Fatalf("over the rate: %d %q", resp.StatusCode, eb.Error)
	}
	if n, err := strconv.Atoi(resp.Header.Get("Retry-After")); err != nil || n < 1 {
		t.Fatalf("Retry-After %q is not whole seconds", resp.Header.Get("Retry-After"))
	}
	// The bucket is per token subject: another subject has its own.
	c := claims("someone-else")
	c.Channels = grants("r.>", "pub")
	if status, _ := e.do("POST", "/api/v1/topics/r.a", e.token(c, time.Hour), "1"); status != 200 {
		t.Fatalf("another subject was limited too: %d", status)
	}
	// A batch larger than the burst can never pass.
	if status, _ := e.do("POST", "/api/v1/publish", pub, `[{"topic":"r.a","data":1},{"topic":"r.a","data":1},{"topic":"r.a","data":1}]`); status != 429 {
		t.Fatalf("oversized batch: %d", status)
	}
	// That the bucket refills is TestLimiterRefills, on the limiter's clock.
}

func TestConnectionsPerToken(t *testing.T) {
	e := newEnv(t, withLimits(0, 2))
	tok := e.grantToken("c.>", "sub")
	s1 := e.openSSE("topic=c.a&token=" + tok)
	e.openSSE("topic=c.a&token=" + tok)
	if status, body := e.do("GET", "/api/v1/stream?topic=c.a", tok, ""); status != 429 {
		t.Fatalf("third stream: %d %s", status, body)
	}
	s1.close()
	waitFor(t, func() bool { return e.hub.Subscribers() == 1 }, "the first stream to close")
	e.openSSE("topic=c.a&token=" + tok)
}

// TestSysEventsReachAdminsOnly: refusals, connections and slow consumers are
// published on sys. topics that an admin can stream and nobody else can.
func TestSysEventsReachAdminsOnly(t *testing.T) {
	var rep *sysevent.Reporter
	e := newEnv(t, func(c *envConfig) {
		c.events = func(store *sqlite.Store) httpapi.Events {
			rep = sysevent.New(storePublisher{store}, time.Hour, nil, nil)
			return rep
		}
	})

	admin := e.openSSE("topic=sys.>&backlog=0&token=" + e.admin)
	e.do("POST", "/api/v1/topics/a", "", "1")          // refused: 401
	e.do("POST", "/api/v1/topics/sys.x", e.admin, "1") // refused: 403
	viewer := e.openSSE("topic=v.a&token=" + e.grantToken("v.>", "sub"))
	viewer.close()
	rep.Flush(context.Background())

	got := map[string]string{}
	for len(got) < 2 {
		ev := admin.next(t, 5*time.Second)
		var env struct {
			Topic string
			Data  json.RawMessage
		}
		json.Unmarshal([]byte(ev.data), &env)
		got[env.Topic] = string(env.Data)
	}
	if !strings.Contains(got["sys.rejections"], `"count":2`) || !strings.Contains(got["sys.rejections"], `"401":1`) {
		t.Fatalf("sys.rejections: %s", got["sys.rejections"])
	}
	if !strings.Contains(got["sys.connections"], `"opened":2`) {
		t.Fatalf("sys.connections: %s", got["sys.connections"])
	}
	if strings.Contains(got["sys.rejections"], e.admin) {
		t.Fatal("a token leaked into sys events")
	}
}

// storePublisher publishes through the store, as the server does.
type storePublisher struct{ store *sqlite.Store }

func (p storePublisher) Publish(ctx context.Context, msgs []livedash.Message) ([]livedash.Message, error) {
	frames, err := p.store.Append(ctx, msgs)
	if err != nil {
		return nil, err
	}
	out := make([]livedash.Message, len(frames))
	for i, f := range frames {
		out[i] = f.Message
	}
	return out, nil
}
