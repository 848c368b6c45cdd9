package notify_test

import (
	"context"
	"crypto/hmac"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/livedash/livedash"
	"github.com/livedash/livedash/alert"
	"github.com/livedash/livedash/notify"
	"github.com/livedash/livedash/sqlite"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// request is one request a test receiver got.
type request struct {
	at       time.Time
	id       string
	body     []byte
	signedOK bool
	status   int
}

// receiver is a real HTTP receiver on loopback; answer picks the status
// of the n-th request (0-based).
type receiver struct {
	srv    *httptest.Server
	secret string
	answer func(n int, w http.ResponseWriter, r *http.Request) int

	mu   sync.Mutex
	reqs []request
}

func newReceiver(t *testing.T, secret string, answer func(n int, w http.ResponseWriter, r *http.Request) int) *receiver {
	t.Helper()
	rc := &receiver{secret: secret, answer: answer}
	if rc.answer == nil {
		rc.answer = func(int, http.ResponseWriter, *http.Request) int { return 200 }
	}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		req := request{at: time.Now(), id: r.Header.Get(notify.IDHeader), body: body}
		if rc.secret != "" {
			// What a receiver does: recompute the HMAC and compare in constant time.
			want := notify.Sign(rc.secret, body)
			req.signedOK = hmac.Equal([]byte(r.Header.Get(notify.SignatureHeader)), []byte(want))
		}
		rc.mu.Lock()
		n := len(rc.reqs)
		rc.reqs = append(rc.reqs, req)
		rc.mu.Unlock()
		status := rc.answer(n, w, r)
		rc.mu.Lock()
		rc.reqs[n].status = status
		rc.mu.Unlock()
		w.WriteHeader(status)
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) requests() []request {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]request(nil), rc.reqs...)
}

// waitRequests waits until the receiver has n requests.
func (rc *receiver) waitRequests(t *testing.T, n int) []request {
	t.Helper()
	waitFor(t, 10*time.Second, func() bool { return len(rc.requests()) >= n })
	return rc.requests()
}

func waitFor(t *testing.T, d time.Duration, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("condition not met within %v", d)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// fixture is a Service on a real SQLite store, sending to real receivers.
type fixture struct {
	t     *testing.T
	store *sqlite.Store
	svc   *notify.Service
	opts  notify.Options
	stop  func()

	mu       sync.Mutex
	outcomes []string // receiver/outcome
}

func newFixture(t *testing.T, receivers []notify.Receiver, rules []alert.Rule, opt func(*notify.Options)) *fixture {
	t.Helper()
	store, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "livedash.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, store: store}
	opts := notify.Options{Receivers: receivers, Rules: rules, Queue: store, Publisher: livedash.PublisherOf(store),
		BaseURL: "http://dash.example:8080", Backoff: func(int) time.Duration { return time.Millisecond },
		OnOutcome: func(r, o string) {
			f.mu.Lock()
			f.outcomes = append(f.outcomes, r+"/"+o)
			f.mu.Unlock()
		}}
	if opt != nil {
		opt(&opts)
	}
	f.opts = opts
	f.start()
	t.Cleanup(func() {
		f.stop()
		store.Close()
	})
	return f
}

// start runs a new Service on the fixture's store, as a server start does.
func (f *fixture) start() {
	f.t.Helper()
	var err error
	if f.svc, err = notify.New(f.opts); err != nil {
		f.t.Fatal(err)
	}
	if err := f.svc.Load(context.Background()); err != nil {
		f.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { f.svc.Run(ctx); close(done) }()
	f.stop = func() { cancel(); <-done }
}

// fire stores an alert as the alert engine does (on alerts.<rule>, then
// the same on sys.alerts, in one publish), feeds the service the frames
// and returns the id of the alerts.<rule> message.
func (f *fixture) fire(rule, state string, value float64) string {
	f.t.Helper()
	sev := "critical"
	if state == alert.StateResolved {
		sev = "info"
	}
	data, _ := json.Marshal(alert.Data{Severity: sev, Message: rule + " is " + state, State: state, Rule: rule, Topic: "host.cpu", Value: value, Threshold: 90})
	m := livedash.Message{Topic: alert.Prefix + rule, Type: livedash.TypeAlert, TS: time.Now().UnixMilli(), Data: data}
	sys := m
	sys.Topic = alert.SysTopic
	frames, err := f.store.Append(context.Background(), []livedash.Message{m, sys})
	if err != nil {
		f.t.Fatal(err)
	}
	f.svc.Observe(context.Background(), frames)
	return frames[0].ID.String()
}

func (f *fixture) outcomesOf(receiver string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, o := range f.outcomes {
		if r, oc, _ := strings.Cut(o, "/"); r == receiver {
			out = append(out, oc)
		}
	}
	return out
}

// waitDone waits until nothing is queued for receiver and every request
// rc got has its outcome reported: every send is over.
func (f *fixture) waitDone(receiver string, rc *receiver) {
	f.t.Helper()
	waitFor(f.t, 10*time.Second, func() bool {
		_, ok, err := f.store.NextNotification(context.Background(), receiver)
		return err == nil && !ok && len(f.outcomesOf(receiver)) == len(rc.requests())
	})
}

func TestFiringAndResolvedOncePerReceiverSigned(t *testing.T) {
	hook := newReceiver(t, "s3cret", nil)
	chat := newReceiver(t, "other-secret", nil)
	plain := newReceiver(t, "", nil)
	f := newFixture(t, []notify.Receiver{
		{Name: "hook", URL: hook.srv.URL, Secret: "s3cret", Headers: map[string]string{"Authorization": "Bearer x"}},
		{Name: "chat", URL: chat.srv.URL, Format: "slack", Secret: "other-secret"},
		{Name: "plain", URL: plain.srv.URL},
	}, []alert.Rule{{Name: "cpu", Topic: "host.cpu", Op: ">", Threshold: 90, Notify: []string{"hook", "chat"}}, {Name: "quiet", Topic: "x", Op: ">", Threshold: 1}}, nil)

	firing := f.fire("cpu", alert.StateFiring, 95)
	f.fire("quiet", alert.StateFiring, 2) // no receivers: nothing sent
	resolved := f.fire("cpu", alert.StateResolved, 10)
	f.waitDone("hook", hook)
	f.waitDone("chat", chat)
	hr, cr := hook.requests(), chat.requests()
	if len(hr) != 2 || len(cr) != 2 {
		t.Fatalf("hook got %d requests, chat %d; want 2 each", len(hr), len(cr))
	}
	if n := len(plain.requests()); n != 0 {
		t.Fatalf("a receiver no rule names got %d requests", n)
	}
	for i, want := range []struct{ id, state string }{{firing, "firing"}, {resolved, "resolved"}} {
		var a notify.Alert
		if err := json.Unmarshal(hr[i].body, &a); err != nil {
			t.Fatal(err)
		}
		if !hr[i].signedOK || !cr[i].signedOK {
			t.Fatalf("request %d: signature invalid (hook %v, chat %v)", i, hr[i].signedOK, cr[i].signedOK)
		}
		if a.ID != want.id || hr[i].id != want.id || cr[i].id != want.id || a.State != want.state || a.Rule != "cpu" || a.Topic != "host.cpu" ||
			a.Threshold != 90 || a.URL != "http://dash.example:8080/explore?topic=host.cpu" || a.TS == 0 || a.Message != "cpu is "+want.state {
			t.Fatalf("json body %d: %+v (header id %s), want id %s state %s", i, a, hr[i].id, want.id, want.state)
		}
		var s struct {
			Text   string            `json:"text"`
			Blocks []json.RawMessage `json:"blocks"`
		}
		if err := json.Unmarshal(cr[i].body, &s); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(s.Text, "["+strings.ToUpper(want.state)+"] cpu") || len(s.Blocks) != 3 || !strings.Contains(string(cr[i].body), want.id) ||
			!strings.Contains(string(cr[i].body), "explore?topic=host.cpu") {
			t.Fatalf("slack body %d: %s", i, cr[i].body)
		}
	}
	if got := f.outcomesOf("hook"); strings.Join(got, ",") != "sent,sent" {
		t.Fatalf("hook outcomes %v", got)
	}
	// Each outcome is on sys.notify.
	var msgs []*livedash.Frame
	waitFor(t, 5*time.Second, func() bool {
		var err error
		msgs, err = f.store.History(context.Background(), livedash.HistoryQuery{Patterns: []string{notify.Topic}, Limit: 100})
		return err == nil && len(msgs) >= 4
	})
	if len(msgs) != 4 || !strings.Contains(string(msgs[0].Data), `"outcome":"sent"`) {
		t.Fatalf("sys.notify: %d messages, first %s", len(msgs), msgs[0].Data)
	}
}

func TestServerErrorsRetriedUntilOneSuccessSameID(t *testing.T) {
	rc := newReceiver(t, "k", func(n int, _ http.ResponseWriter, _ *http.Request) int {
		if n < 3 {
			return 500
		}
		return 200
	})
	f := newFixture(t, []notify.Receiver{{Name: "r", URL: rc.srv.URL, Secret: "k"}}, []alert.Rule{{Name: "cpu", Topic: "host.cpu", Op: ">", Threshold: 90, Notify: []string{"r"}}}, nil)
	id := f.fire("cpu", alert.StateFiring, 95)
	f.waitDone("r", rc)
	reqs := rc.requests()
	ok := 0
	for i, r := range reqs {
		if r.id != id || !strings.Contains(string(r.body), `"id":"`+id+`"`) || !r.signedOK {
			t.Fatalf("try %d: id %s body %s signed %v, want id %s", i, r.id, r.body, r.signedOK, id)
		}
		if r.status == 200 {
			ok++
		}
	}
	if len(reqs) != 4 || ok != 1 {
		t.Fatalf("%d tries, %d successful; want 4 and 1", len(reqs), ok)
	}
	if got := strings.Join(f.outcomesOf("r"), ","); got != "retry,retry,retry,sent" {
		t.Fatalf("outcomes %s", got)
	}
}

func TestRetryAfterHonoured(t *testing.T) {
	rc := newReceiver(t, "", func(n int, w http.ResponseWriter, _ *http.Request) int {
		if n == 0 {
			w.Header().Set("Retry-After", "1")
			return 429
		}
		return 200
	})
	f := newFixture(t, []notify.Receiver{{Name: "r", URL: rc.srv.URL}}, []alert.Rule{{Name: "cpu", Topic: "host.cpu", Op: ">", Threshold: 90, Notify: []string{"r"}}}, nil)
	f.fire("cpu", alert.StateFiring, 95)
	f.waitDone("r", rc)
	reqs := rc.requests()
	if len(reqs) != 2 {
		t.Fatalf("%d tries, want 2", len(reqs))
	}
	// The backoff is 1ms: only Retry-After makes the second try wait.
	if gap := reqs[1].at.Sub(reqs[0].at); gap < 900*time.Millisecond {
		t.Fatalf("second try %v after a 429 with Retry-After: 1", gap)
	}
}

func TestClientErrorNotRetried(t *testing.T) {
	rc := newReceiver(t, "", func(int, http.ResponseWriter, *http.Request) int { return 400 })
	f := newFixture(t, []notify.Receiver{{Name: "r", URL: rc.srv.URL}}, []alert.Rule{{Name: "cpu", Topic: "host.cpu", Op: ">", Threshold: 90, Notify: []string{"r"}}}, nil)
	f.fire("cpu", alert.StateFiring, 95)
	f.waitDone("r", rc)
	if n := len(rc.requests()); n != 1 {
		t.Fatalf("a 400 was tried %d times", n)
	}
	if got := strings.Join(f.outcomesOf("r"), ","); got != "failed" {
		t.Fatalf("outcomes %s", got)
	}
}

func TestGivesUpAfterRetryFor(t *testing.T) {
	rc := newReceiver(t, "", func(int, http.ResponseWriter, *http.Request) int { return 503 })
	var mu sync.Mutex
	now := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	f := newFixture(t, []notify.Receiver{{Name: "r", URL: rc.srv.URL, RetryFor: time.Hour}}, []alert.Rule{{Name: "cpu", Topic: "host.cpu", Op: ">", Threshold: 90, Notify: []string{"r"}}},
		func(o *notify.Options) {
			o.Now = clock
			// Each failure moves the clock 25 minutes on and waits that long.
			o.Backoff = func(int) time.Duration {
				mu.Lock()
				now = now.Add(25 * time.Minute)
				mu.Unlock()
				return 25 * time.Minute
			}
		})
	f.fire("cpu", alert.StateFiring, 95)
	f.waitDone("r", rc)
	// Tries at 0, 25 and 50 minutes; the next would be at 75 > 60.
	if got := strings.Join(f.outcomesOf("r"), ","); got != "retry,retry,gave_up" || len(rc.requests()) != 3 {
		t.Fatalf("outcomes %s after %d tries", got, len(rc.requests()))
	}
}

func TestHangingReceiverDelaysNoOther(t *testing.T) {
	release := make(chan struct{})
	hang := newReceiver(t, "", func(_ int, _ http.ResponseWriter, r *http.Request) int {
		select {
		case <-release:
		case <-r.Context().Done():
		}
		return 200
	})
	defer close(release)
	fast := newReceiver(t, "", nil)
	const timeout = 5 * time.Second
	f := newFixture(t, []notify.Receiver{{Name: "hang", URL: hang.srv.URL, Timeout: timeout}, {Name: "fast", URL: fast.srv.URL}},
		[]alert.Rule{{Name: "cpu", Topic: "host.cpu", Op: ">", Threshold: 90, Notify: []string{"hang", "fast"}}}, nil)
	for i, state := range []string{alert.StateFiring, alert.StateResolved} {
		start := time.Now()
		f.fire("cpu", state, 95)
		reqs := fast.waitRequests(t, i+1)
		if d := reqs[i].at.Sub(start); d > timeout/2 {
			t.Fatalf("notification %d reached the fast receiver after %v, with the other hanging (timeout %v)", i, d, timeout)
		}
	}
	if len(hang.requests()) == 0 {
		t.Fatal("the hanging receiver was never tried")
	}
}

func TestTestNotification(t *testing.T) {
	rc := newReceiver(t, "k", nil)
	f := newFixture(t, []notify.Receiver{{Name: "r", URL: rc.srv.URL, Secret: "k"}}, nil, nil)
	id, timeout, err := f.svc.Test(context.Background(), "r")
	if err != nil || timeout != notify.DefaultTimeout {
		t.Fatal(err, timeout)
	}
	reqs := rc.waitRequests(t, 1)
	var a notify.Alert
	json.Unmarshal(reqs[0].body, &a)
	if a.ID != id || a.State != notify.StateTest || !reqs[0].signedOK {
		t.Fatalf("test notification %s (signed %v), want id %s", reqs[0].body, reqs[0].signedOK, id)
	}
	if _, _, err := f.svc.Test(context.Background(), "nope"); livedash.ErrorCode(err) != livedash.ENOTFOUND {
		t.Fatalf("unknown receiver: %v", err)
	}
}

func TestBacklogReadInPages(t *testing.T) {
	rc := newReceiver(t, "", nil)
	f := newFixture(t, []notify.Receiver{{Name: "r", URL: rc.srv.URL}}, []alert.Rule{{Name: "cpu", Topic: "host.cpu", Op: ">", Threshold: 90, Notify: []string{"r"}}},
		func(o *notify.Options) { o.PageSize = 2 })
	ids := map[string]bool{}
	for i := range 7 {
		ids[f.fire("cpu", []string{alert.StateFiring, alert.StateResolved}[i%2], 95)] = true
	}
	f.waitDone("r", rc)
	got := map[string]bool{}
	for _, r := range rc.requests() {
		got[r.id] = true
	}
	if len(rc.requests()) != 7 || len(got) != 7 {
		t.Fatalf("%d requests for %d distinct ids, want 7", len(rc.requests()), len(got))
	}
}

func TestDefaultBackoff(t *testing.T) {
	for range 100 {
		if d := notify.DefaultBackoff(1); d < 500*time.Millisecond || d >= 1500*time.Millisecond {
			t.Fatalf("first retry after %v, want within 0.5-1.5s", d)
		}
	}
	if d := notify.DefaultBackoff(30); d > 15*time.Minute {
		t.Fatalf("backoff %v is not capped", d)
	}
}

func TestValidate(t *testing.T) {
	ok := notify.Receiver{Name: "ops", URL: "https://hooks.example.com/x"}
	rule := func(names ...string) []alert.Rule {
		return []alert.Rule{{Name: "cpu", Topic: "host.cpu", Op: ">", Threshold: 1, Notify: names}}
	}
	for _, tc := range []struct {
		name      string
		receivers []notify.Receiver
		rules     []alert.Rule
		want      string
	}{
		{"unknown receiver", []notify.Receiver{ok}, rule("pager"), `alerts: alert 0 (cpu): notify: unknown receiver "pager" (receivers: ops)`},
		{"no receivers", nil, rule("pager"), `unknown receiver "pager" (none are configured under notify)`},
		{"listed twice", []notify.Receiver{ok}, rule("ops", "ops"), `receiver "ops" is listed twice`},
		{"bad url", []notify.Receiver{{Name: "a", URL: "ftp://x/y"}}, nil, `notify: receiver 0 (a): url "ftp://x/y": must be an http:// or https:// URL with a host`},
		{"no host", []notify.Receiver{{Name: "a", URL: "http:///x"}}, nil, `url "http:///x"`},
		{"bad format", []notify.Receiver{{Name: "a", URL: "http://x", Format: "xml"}}, nil, `notify: receiver 0 (a): format "xml": use json or slack`},
		{"duplicate", []notify.Receiver{ok, ok}, nil, `notify: receiver 1: name "ops" is already used by receiver 0`},
		{"bad name", []notify.Receiver{{Name: "a b", URL: "http://x"}}, nil, `name "a b"`},
		{"bad timeout", []notify.Receiver{{Name: "a", URL: "http://x", Timeout: time.Hour}}, nil, `timeout 1h0m0s`},
		{"reserved header", []notify.Receiver{{Name: "a", URL: "http://x", Headers: map[string]string{"X-Livedash-Signature": "x"}}}, nil, `set by the server`},
		{"header newline", []notify.Receiver{{Name: "a", URL: "http://x", Headers: map[string]string{"X-A": "1\r\nX-B: 2"}}}, nil, `line break`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := notify.Validate(tc.receivers, tc.rules)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
		})
	}
	if err := notify.Validate([]notify.Receiver{ok, {Name: "chat", URL: "http://127.0.0.1:9/h", Format: "slack"}}, rule("ops", "chat")); err != nil {
		t.Fatal(err)
	}
}

// TestStartsAtTheHeadTheFirstTime: with no saved cursor, alerts stored
// before the head Start gives are not notified; later ones are, and the
// cursor saved then is used from then on.
func TestStartsAtTheHeadTheFirstTime(t *testing.T) {
	rc := newReceiver(t, "", nil)
	f := newFixture(t, []notify.Receiver{{Name: "r", URL: rc.srv.URL}}, []alert.Rule{{Name: "cpu", Topic: "host.cpu", Op: ">", Threshold: 90, Notify: []string{"r"}}},
		func(o *notify.Options) { o.Start = func(context.Context) (uint64, error) { return 2, nil } })
	f.fire("cpu", alert.StateFiring, 95) // seqs 1 and 2: before the start
	id := f.fire("cpu", alert.StateFiring, 96)
	reqs := rc.waitRequests(t, 1)
	f.waitDone("r", rc)
	if len(rc.requests()) != 1 || reqs[0].id != id {
		t.Fatalf("got %d requests, first %s; want only %s", len(rc.requests()), reqs[0].id, id)
	}
	if f.svc.LastSeq() != 4 {
		t.Fatalf("cursor at %d, want 4", f.svc.LastSeq())
	}
}

// TestRepeatsOfATransitionNotNotified: the alert engine may publish a
// transition twice (a crash between its publish and its state save, then
// a replay); the second, with its own id, is not notified — also when the
// service restarted in between. Transitions alternate again after.
func TestRepeatsOfATransitionNotNotified(t *testing.T) {
	rc := newReceiver(t, "", nil)
	f := newFixture(t, []notify.Receiver{{Name: "r", URL: rc.srv.URL}}, []alert.Rule{{Name: "cpu", Topic: "host.cpu", Op: ">", Threshold: 90, Notify: []string{"r"}}}, nil)
	fired := f.fire("cpu", alert.StateFiring, 95)
	f.fire("cpu", alert.StateFiring, 95) // the replayed one
	rc.waitRequests(t, 1)
	f.waitDone("r", rc)
	f.stop()
	f.start()
	f.fire("cpu", alert.StateFiring, 96) // replayed after a restart
	resolved := f.fire("cpu", alert.StateResolved, 10)
	f.fire("cpu", alert.StateResolved, 10)
	again := f.fire("cpu", alert.StateFiring, 99)
	rc.waitRequests(t, 3)
	f.waitDone("r", rc)
	var got []string
	for _, r := range rc.requests() {
		got = append(got, r.id)
	}
	if want := []string{fired, resolved, again}; strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("notified %v, want %v", got, want)
	}
	// The rule changes to a pattern that no longer covers host.cpu: the
	// engine forgets that series, so does the notifier; once the rule
	// covers it again, its next firing is notified.
	f.stop()
	f.opts.Rules[0].Topic = "host.mem"
	f.start()
	f.stop()
	f.opts.Rules[0].Topic = "host.*"
	f.start()
	anew := f.fire("cpu", alert.StateFiring, 97)
	if reqs := rc.waitRequests(t, 4); reqs[3].id != anew {
		t.Fatalf("after the rule changed, notified %s, want %s", reqs[3].id, anew)
	}
}
