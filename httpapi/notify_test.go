package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/livedash/livedash"
	"github.com/livedash/livedash/auth"
	"github.com/livedash/livedash/httpapi"
	"github.com/livedash/livedash/notify"
	"github.com/livedash/livedash/sqlite"
)

// internalPublisher stores outcomes as the server's internal publisher.
type internalPublisher struct{ s *sqlite.Store }

func (p internalPublisher) Publish(ctx context.Context, msgs []livedash.Message) ([]livedash.Message, error) {
	_, err := p.s.Append(ctx, msgs)
	return msgs, err
}

// newNotifyEnv is a server whose notifier sends, through the store's
// queue, to receivers "ok" (answers 200) and "down" (answers 503).
func newNotifyEnv(t *testing.T) (*env, *atomic.Int32) {
	var got atomic.Int32
	okSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got.Add(1) }))
	t.Cleanup(okSrv.Close)
	downSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(503) }))
	t.Cleanup(downSrv.Close)
	var svc *notify.Service
	e := newEnv(t, func(c *envConfig) {
		c.notifier = func(s *sqlite.Store) httpapi.Notifier {
			var err error
			svc, err = notify.New(notify.Options{Receivers: []notify.Receiver{{Name: "ok", URL: okSrv.URL}, {Name: "down", URL: downSrv.URL}},
				Queue: s, Publisher: internalPublisher{s}})
			if err != nil {
				t.Fatal(err)
			}
			return svc
		}
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { svc.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done }) // before the store closes
	return e, &got
}

func TestNotifyTestAPI(t *testing.T) {
	e, got := newNotifyEnv(t)
	user := e.token(auth.Claims{}, time.Hour)
	for _, tc := range []struct {
		name, token, path, body string
		status                  int
		want                    string
	}{
		{"no token", "", "/api/v1/notify/test?receiver=ok", "", 401, `"error"`},
		{"not admin", user, "/api/v1/notify/test?receiver=ok", "", 403, "admin token is required"},
		{"unknown receiver", e.admin, "/api/v1/notify/test?receiver=nope", "", 404, `no notify receiver named \"nope\"`},
		{"no receiver named", e.admin, "/api/v1/notify/test", "", 400, "name the receiver"},
		{"bad body", e.admin, "/api/v1/notify/test", "{oops", 400, `body must be {\"receiver\":\"NAME\"}`},
		{"sent, by query", e.admin, "/api/v1/notify/test?receiver=ok", "", 200, `"outcome":"sent"`},
		{"sent, by body", e.admin, "/api/v1/notify/test", `{"receiver":"ok"}`, 200, `"outcome":"sent"`},
		{"receiver down", e.admin, "/api/v1/notify/test?receiver=down", "", 200, `"outcome":"retry","attempt":1,"status":503`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, body := e.do("POST", tc.path, tc.token, tc.body)
			if status != tc.status || !strings.Contains(body, tc.want) {
				t.Fatalf("%d %s, want %d and %s", status, body, tc.status, tc.want)
			}
		})
	}
	if n := got.Load(); n != 2 {
		t.Fatalf("receiver ok got %d requests, want 2", n)
	}
	status, body := e.do("GET", "/api/v1/notify/receivers", e.admin, "")
	var list struct{ Receivers []string }
	json.Unmarshal([]byte(body), &list)
	if status != 200 || strings.Join(list.Receivers, ",") != "ok,down" {
		t.Fatalf("receivers: %d %s", status, body)
	}
	if status, _ := e.do("GET", "/api/v1/notify/receivers", user, ""); status != 403 {
		t.Fatalf("receivers for a non-admin: %d", status)
	}
}

func TestNotifyTestAPIWithoutReceivers(t *testing.T) {
	e := newEnv(t)
	if status, body := e.do("POST", "/api/v1/notify/test?receiver=x", e.admin, ""); status != 404 || !strings.Contains(body, "none are configured") {
		t.Fatalf("%d %s", status, body)
	}
	if status, body := e.do("GET", "/api/v1/notify/receivers", e.admin, ""); status != 200 || !strings.Contains(body, `{"receivers":[]}`) {
		t.Fatalf("%d %s", status, body)
	}
}
