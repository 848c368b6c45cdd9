package notify

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	mrand "math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/livedash/livedash"
	"github.com/livedash/livedash/alert"
)

// Topic receives the outcome of every try (admins only, as every sys. topic).
const Topic = "sys.notify"

// Outcomes of a try, on Topic and in the metrics.
const (
	OutcomeSent   = "sent"    // the receiver answered 2xx
	OutcomeRetry  = "retry"   // network error, timeout, 5xx or 429: tried again later
	OutcomeFailed = "failed"  // another answer (3xx, 4xx): not tried again
	OutcomeGaveUp = "gave_up" // still failing when its retry_for ran out
)

// Queue keeps notifications until they are sent or given up, and how far
// the Service has read the alerts (its cursor), durably: the local store
// on one node, Redis in a cluster. Times are unix ms.
type Queue interface {
	// NotifyCursor returns the cursor saved by EnqueueNotifications; nil
	// when none was.
	NotifyCursor(ctx context.Context) ([]byte, error)
	// EnqueueNotifications adds items (an item whose Key is queued
	// already is left as it is) and, when cursor is not nil, saves it, all
	// in one step: either everything is stored or nothing.
	EnqueueNotifications(ctx context.Context, items []livedash.Notification, cursor []byte) error
	// DueNotifications returns up to limit notifications of receiver due
	// at now, the earliest first.
	DueNotifications(ctx context.Context, receiver string, now int64, limit int) ([]livedash.Notification, error)
	// NextNotification returns when the receiver's next notification is due.
	NextNotification(ctx context.Context, receiver string) (at int64, ok bool, err error)
	// RescheduleNotification records a failed try: its attempts so far and
	// when the next one is due.
	RescheduleNotification(ctx context.Context, key string, attempts int, next int64) error
	// RemoveNotification drops a notification sent or given up.
	RemoveNotification(ctx context.Context, key string) error
}

// Outcome is the data of a sys.notify message: one try of one notification.
type Outcome struct {
	ID       string `json:"id"`
	Receiver string `json:"receiver"`
	Outcome  string `json:"outcome"`
	Attempt  int    `json:"attempt"`
	// Status is the receiver's HTTP status; 0 when it gave none.
	Status int    `json:"status,omitempty"`
	Error  string `json:"error,omitempty"`
	// NextTry is when the next try is due (unix ms), with OutcomeRetry.
	NextTry int64 `json:"next_try,omitempty"`
}

// Options configure a Service. Zero fields take the defaults.
type Options struct {
	Receivers []Receiver
	// Rules say which receivers each alert rule notifies (Rule.Notify).
	Rules []alert.Rule
	Queue Queue
	// Publisher gets the outcomes on sys.notify (the server's, which may
	// write sys. topics); nil publishes none.
	Publisher livedash.Publisher
	// BaseURL is the server's public URL, for the links in notifications.
	BaseURL string
	// Start returns where reading starts when no cursor was ever saved
	// (the log's head then: older alerts are not notified); nil starts at
	// the beginning.
	Start func(ctx context.Context) (uint64, error)
	// Now is the clock of due times and retry_for; time.Now if nil.
	Now func() time.Time
	// Backoff is the wait before try attempt+1 after attempt failures;
	// DefaultBackoff if nil. A Retry-After longer than it wins.
	Backoff func(attempt int) time.Duration
	// OnOutcome is told of each try's outcome (metrics); it must not block.
	OnOutcome func(receiver, outcome string)
	Logger    *slog.Logger
	// PageSize is how many due notifications a worker reads at a time
	// (default 100): memory stays bounded whatever the backlog.
	PageSize int
	// Poll is the longest a worker sleeps before looking at the queue
	// again (default 1s): notifications queued by another node of a
	// cluster (a test) wake no worker here.
	Poll time.Duration
	// Transport sends the requests; a clone of http.DefaultTransport if nil.
	Transport http.RoundTripper
}

// DefaultBackoff waits about 1s after the first failure, doubling each
// time up to 10 minutes, with ±50 % jitter so retries of many
// notifications spread out.
func DefaultBackoff(attempt int) time.Duration {
	d := min(time.Second<<min(max(attempt-1, 0), 10), 10*time.Minute)
	return d/2 + mrand.N(d)
}

// Service queues and sends notifications. Observe, Load and LastSeq are
// the engine side (fed with committed frames in id order, as the alert
// and rollup engines are); Run sends; Test may be called on any node.
type Service struct {
	opts      Options
	log       *slog.Logger
	receivers map[string]*receiver
	list      []*receiver
	byRule    map[string][]*receiver
	patterns  map[string]string // rule → its topic pattern

	mu      sync.Mutex
	epoch   string
	lastSeq uint64
	prev    *livedash.Frame // the last alerts.<rule> frame, paired with its sys.alerts copy
	// firing holds the (rule, topic) pairs notified as firing and not yet
	// as resolved; saved with the cursor. A repeated transition is not
	// notified again.
	firing map[series]bool
	failAt time.Time // last retry logged
}

type receiver struct {
	Receiver
	client *http.Client
	wake   chan struct{}
}

type cursor struct {
	Epoch  string   `json:"epoch"`
	Seq    uint64   `json:"seq"`
	Firing []series `json:"firing,omitempty"`
}

// series is one (rule, topic) of an alert rule.
type series struct {
	Rule  string `json:"rule"`
	Topic string `json:"topic"`
}

// New returns a service for receivers, which must be valid with rules
// (see Validate).
func New(opts Options) (*Service, error) {
	if err := Validate(opts.Receivers, opts.Rules); err != nil {
		return nil, err
	}
	if opts.Queue == nil {
		return nil, errors.New("notify: no queue")
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Backoff == nil {
		opts.Backoff = DefaultBackoff
	}
	if opts.OnOutcome == nil {
		opts.OnOutcome = func(string, string) {}
	}
	if opts.PageSize <= 0 {
		opts.PageSize = 100
	}
	if opts.Poll <= 0 {
		opts.Poll = time.Second
	}
	if opts.Transport == nil {
		opts.Transport = http.DefaultTransport.(*http.Transport).Clone()
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Service{opts: opts, log: log, receivers: map[string]*receiver{}, byRule: map[string][]*receiver{}, patterns: map[string]string{}, firing: map[series]bool{}}
	for _, rc := range opts.Receivers {
		rc = rc.withDefaults()
		r := &receiver{Receiver: rc, wake: make(chan struct{}, 1), client: &http.Client{
			Transport: opts.Transport,
			Timeout:   rc.Timeout,
			// A redirect is an answer (failed), never followed: the signed
			// body goes only where the config says.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}}
		s.receivers[r.Name] = r
		s.list = append(s.list, r)
	}
	for _, rule := range opts.Rules {
		s.patterns[rule.Name] = rule.Topic
		for _, n := range rule.Notify {
			s.byRule[rule.Name] = append(s.byRule[rule.Name], s.receivers[n])
		}
	}
	return s, nil
}

// Patterns returns the topics the service reads: the rules' alert topics
// (for the id of the alert message) and sys.alerts (which only the server
// writes, so only the alert engine's alerts are notified).
func (s *Service) Patterns() []string { return []string{alert.Prefix + ">", alert.SysTopic} }

// LastSeq returns the seq of the last frame read (or restored by Load).
func (s *Service) LastSeq() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastSeq
}

// Load restores the cursor. Without one, reading starts at Start, and
// that cursor is saved at once, so an alert stored before the first one
// is queued is not missed after a crash. A queue that fails is retried
// until ctx is done: starting from the wrong place would skip alerts or
// queue sent ones again.
func (s *Service) Load(ctx context.Context) error {
	var b []byte
	err := s.retry(ctx, "loading the cursor", func() (err error) {
		b, err = s.opts.Queue.NotifyCursor(ctx)
		return err
	})
	if err != nil {
		return fmt.Errorf("notify: load cursor: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var c cursor
	if b != nil && json.Unmarshal(b, &c) == nil {
		s.epoch, s.lastSeq = c.Epoch, c.Seq
		for _, k := range c.Firing {
			// As the alert engine does, forget what a rule no longer
			// covers: it will never resolve, and may fire anew.
			if len(s.byRule[k.Rule]) > 0 && livedash.Match(s.patterns[k.Rule], k.Topic) {
				s.firing[k] = true
			}
		}
		if len(s.firing) == len(c.Firing) {
			return nil
		}
		return s.retry(ctx, "saving the cursor", func() error { return s.enqueue(ctx, nil) })
	}
	return s.retry(ctx, "saving the first cursor", func() (err error) {
		if s.opts.Start != nil {
			if s.lastSeq, err = s.opts.Start(ctx); err != nil {
				return err
			}
		}
		return s.enqueue(ctx, nil)
	})
}

// retry calls fn until it succeeds or ctx is done (then it returns fn's
// last error), a second apart, logging at most every 10 seconds.
func (s *Service) retry(ctx context.Context, what string, fn func() error) error {
	for {
		err := fn()
		if err == nil || ctx.Err() != nil {
			return err
		}
		if time.Since(s.failAt) >= 10*time.Second {
			s.failAt = time.Now()
			s.log.Warn("notify: "+what+" failed; retrying", "err", err)
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(time.Second):
		}
	}
}

// Observe queues the notifications of the alerts in frames (committed, in
// id order) and saves how far it read, in one step. It retries a failing
// queue until ctx is done, so nothing read is dropped.
func (s *Service) Observe(ctx context.Context, frames []*livedash.Frame) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var items []livedash.Notification
	moved := false
	now := s.opts.Now().UnixMilli()
	for _, f := range frames {
		if f.ID.Epoch != s.epoch {
			if s.epoch != "" { // another log (a cluster's adopted): start it afresh
				s.lastSeq, s.prev = 0, nil
			}
			s.epoch = f.ID.Epoch // a first cursor (from Start) has no epoch yet
		}
		if f.ID.Seq <= s.lastSeq {
			continue
		}
		s.lastSeq, moved = f.ID.Seq, true
		if f.Type != livedash.TypeAlert {
			continue
		}
		if f.Topic != alert.SysTopic {
			s.prev = f
			continue
		}
		items = s.notifications(items, f, now)
		s.prev = nil
	}
	if !moved {
		return
	}
	if s.retry(ctx, "queueing notifications", func() error { return s.enqueue(ctx, items) }) != nil {
		return // stopping: the next run reads them again from the saved cursor
	}
	for _, n := range items {
		s.wake(s.receivers[n.Receiver])
	}
}

// enqueue stores items with the cursor at lastSeq. The caller holds s.mu.
func (s *Service) enqueue(ctx context.Context, items []livedash.Notification) error {
	cur := cursor{Epoch: s.epoch, Seq: s.lastSeq}
	for k := range s.firing {
		cur.Firing = append(cur.Firing, k)
	}
	slices.SortFunc(cur.Firing, func(a, b series) int { return cmp.Or(cmp.Compare(a.Rule, b.Rule), cmp.Compare(a.Topic, b.Topic)) })
	c, _ := json.Marshal(cur)
	return s.opts.Queue.EnqueueNotifications(ctx, items, c)
}

// notifications appends one notification per receiver of the alert on
// sys.alerts in f. Its id is that of the same alert on alerts.<rule>,
// published just before it in the same batch. A firing of a (rule, topic)
// already firing, or a resolution of one not firing, is a repeat (the
// alert engine replayed after a crash, or the rule fired before it had
// receivers): not notified.
func (s *Service) notifications(items []livedash.Notification, f *livedash.Frame, now int64) []livedash.Notification {
	var d alert.Data
	if err := json.Unmarshal(f.Data, &d); err != nil {
		return items
	}
	rs := s.byRule[d.Rule]
	if len(rs) == 0 {
		return items
	}
	k := series{d.Rule, d.Topic}
	switch {
	case d.State == alert.StateFiring && !s.firing[k]:
		s.firing[k] = true
	case d.State == alert.StateResolved && s.firing[k]:
		delete(s.firing, k)
	default:
		s.log.Info("notify: not notifying a repeated transition", "rule", d.Rule, "topic", d.Topic, "state", d.State, "id", f.ID.String())
		return items
	}
	id := f.ID
	if p := s.prev; p != nil && p.ID.Epoch == f.ID.Epoch && p.ID.Seq+1 == f.ID.Seq && p.Topic == alert.Prefix+d.Rule && bytes.Equal(p.Data, f.Data) {
		id = p.ID
	}
	a := Alert{ID: id.String(), Rule: d.Rule, Topic: d.Topic, State: d.State, Severity: d.Severity, Value: d.Value,
		Threshold: d.Threshold, Message: d.Message, TS: f.TS, URL: ExploreURL(s.opts.BaseURL, d.Topic)}
	for _, r := range rs {
		items = append(items, newNotification(r, a, now))
	}
	return items
}

func newNotification(r *receiver, a Alert, now int64) livedash.Notification {
	return livedash.Notification{Key: livedash.NotificationKey(a.ID, r.Name), ID: a.ID, Receiver: r.Name,
		Body: Body(r.Format, a), Created: now, NextAt: now}
}

func (s *Service) wake(r *receiver) {
	if r == nil {
		return
	}
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Test queues a test notification for the named receiver, sent like any
// other (retries included), and returns its id and the receiver's timeout.
// Its outcome appears on sys.notify. An unknown receiver is ENOTFOUND.
func (s *Service) Test(ctx context.Context, name string) (string, time.Duration, error) {
	r := s.receivers[name]
	if r == nil {
		return "", 0, livedash.Errorf(livedash.ENOTFOUND, "no notify receiver named %q", name)
	}
	var b [8]byte
	rand.Read(b[:])
	now := s.opts.Now()
	a := Alert{ID: "test-" + hex.EncodeToString(b[:]), Rule: "test", Topic: Topic, State: StateTest, Severity: alert.SeverityInfo,
		Message: "Test notification from livedash to receiver " + name, TS: now.UnixMilli(), URL: strings.TrimRight(s.opts.BaseURL, "/") + "/"}
	if err := s.opts.Queue.EnqueueNotifications(ctx, []livedash.Notification{newNotification(r, a, now.UnixMilli())}, nil); err != nil {
		return "", 0, fmt.Errorf("notify test: %w", err)
	}
	s.wake(r)
	return a.ID, r.Timeout, nil
}

// Receivers names the receivers, in config order.
func (s *Service) Receivers() []string {
	names := make([]string, len(s.list))
	for i, r := range s.list {
		names[i] = r.Name
	}
	return names
}

// Run sends the queue, with one worker per receiver so a receiver that is
// down or hangs delays no other, until ctx is done.
func (s *Service) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	for _, r := range s.list {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.work(ctx, r)
		}()
	}
	wg.Wait()
	return nil
}

// work sends r's due notifications, a page at a time, and sleeps until
// the next is due, one is queued, or Poll passes.
func (s *Service) work(ctx context.Context, r *receiver) {
	q := s.opts.Queue
	for ctx.Err() == nil {
		items, err := q.DueNotifications(ctx, r.Name, s.opts.Now().UnixMilli(), s.opts.PageSize)
		if err != nil {
			if ctx.Err() == nil {
				s.log.Warn("notify: reading the queue failed", "receiver", r.Name, "err", err)
				s.sleep(ctx, r, time.Second)
			}
			continue
		}
		for _, n := range items {
			s.attempt(ctx, r, n)
			if ctx.Err() != nil {
				return
			}
		}
		if len(items) == s.opts.PageSize {
			continue
		}
		wait := s.opts.Poll
		if at, ok, err := q.NextNotification(ctx, r.Name); err == nil && ok {
			wait = min(wait, max(time.UnixMilli(at).Sub(s.opts.Now()), time.Millisecond))
		}
		s.sleep(ctx, r, wait)
	}
}

func (s *Service) sleep(ctx context.Context, r *receiver, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-r.wake:
	case <-t.C:
	}
}

// result is what one try gave.
type result struct {
	ok, retry, canceled bool
	status              int
	retryAfter          time.Duration
	err                 string
}

// attempt makes one try of n and records its outcome: removed when sent,
// failed or given up, rescheduled otherwise. A try cut short by shutdown
// does not count: it is made again at the next start.
func (s *Service) attempt(ctx context.Context, r *receiver, n livedash.Notification) {
	res := s.send(ctx, r, n)
	if res.canceled {
		return
	}
	qctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	n.Attempts++
	now := s.opts.Now()
	o := Outcome{ID: n.ID, Receiver: r.Name, Attempt: n.Attempts, Status: res.status, Error: res.err}
	var err error
	switch {
	case res.ok:
		o.Outcome = OutcomeSent
		err = s.opts.Queue.RemoveNotification(qctx, n.Key)
	case res.retry:
		next := now.Add(max(s.opts.Backoff(n.Attempts), res.retryAfter))
		if next.After(time.UnixMilli(n.Created).Add(r.RetryFor)) {
			o.Outcome = OutcomeGaveUp
			err = s.opts.Queue.RemoveNotification(qctx, n.Key)
			break
		}
		o.Outcome, o.NextTry = OutcomeRetry, next.UnixMilli()
		err = s.opts.Queue.RescheduleNotification(qctx, n.Key, n.Attempts, next.UnixMilli())
	default:
		o.Outcome = OutcomeFailed
		err = s.opts.Queue.RemoveNotification(qctx, n.Key)
	}
	if err != nil {
		s.log.Warn("notify: updating the queue failed; the notification will be tried again", "receiver", r.Name, "id", n.ID, "err", err)
	}
	s.report(qctx, o, now)
}

// report counts an outcome, logs it and publishes it on sys.notify.
func (s *Service) report(ctx context.Context, o Outcome, now time.Time) {
	s.opts.OnOutcome(o.Receiver, o.Outcome)
	args := []any{"receiver", o.Receiver, "id", o.ID, "outcome", o.Outcome, "attempt", o.Attempt, "status", o.Status, "err", o.Error}
	switch o.Outcome {
	case OutcomeSent:
		s.log.Debug("notification sent", args...)
	case OutcomeRetry:
		s.log.Info("notification failed; will retry", args...)
	default:
		s.log.Warn("notification not delivered", args...)
	}
	if s.opts.Publisher == nil {
		return
	}
	data, _ := json.Marshal(o)
	if _, err := s.opts.Publisher.Publish(ctx, []livedash.Message{{Topic: Topic, Type: livedash.TypeEvent, TS: now.UnixMilli(), Data: data}}); err != nil {
		s.log.Warn("notify: publishing the outcome failed", "err", err)
	}
}

// send POSTs n's body to r once.
func (s *Service) send(ctx context.Context, r *receiver, n livedash.Notification) result {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.URL, bytes.NewReader(n.Body))
	if err != nil {
		return result{err: "bad request: " + describe(err)}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "livedash-notify")
	for k, v := range r.Headers {
		req.Header.Set(k, v)
	}
	req.Header.Set(IDHeader, n.ID)
	if r.Secret != "" {
		req.Header.Set(SignatureHeader, Sign(r.Secret, n.Body))
	}
	resp, err := r.client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return result{canceled: true}
		}
		return result{retry: true, err: describe(err)}
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	res := result{status: resp.StatusCode}
	switch code := resp.StatusCode; {
	case code >= 200 && code < 300:
		res.ok = true
	case code == http.StatusTooManyRequests || code >= 500:
		res.retry = true
		res.retryAfter = retryAfter(resp.Header.Get("Retry-After"), s.opts.Now())
		res.err = "answered " + resp.Status
	default:
		res.err = "answered " + resp.Status
	}
	return res
}

// describe says what went wrong without the URL (a webhook URL is often a
// secret).
func describe(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		if ue.Timeout() {
			return "timed out"
		}
		err = ue.Err
	}
	return err.Error()
}

// retryAfter reads a Retry-After header: seconds, or an HTTP date.
func retryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if secs, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && secs > 0 {
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0)
	}
	return 0
}
