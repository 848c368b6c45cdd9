package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

var bytesReader = bytes.NewReader

// publisher publishes bench messages at a rate, with up to inflight
// requests under way at once (a durable publish takes an fsync, so one
// request at a time could not keep a high rate).
type publisher struct {
	ok, failed atomic.Int64
	mu         sync.Mutex
	latency    []int64 // ns per acknowledged request
	acked      []bool  // by sequence number, when the count is known
	elapsed    time.Duration
}

// publishAtRate publishes messages 0…n-1 (n <= 0: until ctx ends) to topic
// at rate per second, each stamped with its send time, keeping up to
// inflight requests under way. Requests in flight together may be stored in
// either order, so subscribers check the order of the server's ids, not of
// the sequence numbers. A publisher that falls behind its schedule sends
// as soon as a request slot frees up (the achieved rate is reported).
func (r *runner) publishAtRate(ctx context.Context, p *publisher, topic string, n int, rate float64, inflight int) {
	if n > 0 {
		p.acked = make([]bool, n)
	}
	inflight = max(inflight, 1)
	slots := make(chan struct{}, inflight)
	var wg sync.WaitGroup
	interval := time.Duration(float64(time.Second) / rate)
	start := time.Now()
	defer func() { wg.Wait(); p.elapsed = time.Since(start) }()
	for seq := 0; n <= 0 || seq < n; seq++ {
		if !sleep(ctx, time.Until(start.Add(time.Duration(seq)*interval))) {
			return
		}
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			return
		}
		wg.Add(1)
		go func() {
			defer func() { <-slots; wg.Done() }()
			t := time.Now()
			body := appendPublishBody(nil, topic, int64(seq), t.UnixNano())
			if err := r.publishOnce(ctx, body, 1); err != nil {
				if ctx.Err() == nil {
					p.failed.Add(1)
					r.errs.add("publish", err)
				}
				return
			}
			p.mu.Lock()
			p.latency = append(p.latency, int64(time.Since(t)))
			p.mu.Unlock()
			p.ok.Add(1)
			if n > 0 {
				p.acked[seq] = true
			}
		}()
	}
}

// publishOnce posts body to /api/v1/publish and checks that the server
// acknowledged want messages.
func (r *runner) publishOnce(ctx context.Context, body []byte, want int) error {
	req, err := r.request(ctx, http.MethodPost, "/api/v1/publish", bytesReader(body))
	if err != nil {
		return err
	}
	resp, err := r.pubs.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return statusError(resp)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	var out struct {
		IDs []json.RawMessage `json:"ids"`
	}
	if err := json.Unmarshal(b, &out); err != nil {
		return fmt.Errorf("bad answer: %w", err)
	}
	if len(out.IDs) != want {
		return fmt.Errorf("server acknowledged %d of %d messages", len(out.IDs), want)
	}
	return nil
}

// openAll starts n subscribers and waits until each is open or has failed
// (bounded by ConnectTimeout). The subscribers read until subCtx ends; wg
// tracks them.
func (r *runner) openAll(subCtx context.Context, subs []*subscriber, wg *sync.WaitGroup, res *Result) {
	var opening sync.WaitGroup
	var failed atomic.Int64
	connected := &r.connected
	sem := make(chan struct{}, r.o.ConnectConc)
	start := time.Now()
	deadline := start.Add(r.o.ConnectTimeout)
	for _, s := range subs {
		wg.Add(1)
		opening.Add(1)
		go func() {
			defer wg.Done()
			s.run(subCtx, deadline, sem, func(err error) {
				if err == nil {
					connected.Add(1)
				} else {
					failed.Add(1)
				}
				opening.Done()
			})
		}()
	}
	opening.Wait()
	d := time.Since(start)
	res.Connected, res.ConnectErrors = int(connected.Load()), int(failed.Load())
	res.ConnectSeconds = Seconds(d)
	res.ConnectsPerSec = float64(res.Connected) / d.Seconds()
}

// fanout: Subs subscribers on one topic (backlog 0), then Messages
// messages at Rate from one publisher; every subscriber verifies every
// message; after the last publish, stragglers get Drain.
func (r *runner) fanout(ctx context.Context, res *Result) error {
	o := r.o
	subCtx, stopSubs := context.WithCancel(ctx)
	defer stopSubs()
	subs := make([]*subscriber, o.Subs)
	for i := range subs {
		subs[i] = r.newSubscriber(i, o.Topic, 0, NewVerifier(o.Topic, o.Messages))
	}
	var pub publisher
	delivered := func() (n int64) {
		for _, s := range subs {
			n += s.v.delivered.Load()
		}
		return n
	}
	r.setPhase("connect")
	r.prog.run(func() (string, float64) {
		c := r.connected.Load()
		switch r.phase() {
		case "connect":
			return fmt.Sprintf("connect  %d/%d open", c, o.Subs), float64(c) / float64(o.Subs)
		}
		return fmt.Sprintf("%-8s %d open  published %d/%d  delivered %d/%d", r.phase(), c, pub.ok.Load(), o.Messages, delivered(), c*int64(o.Messages)),
			float64(pub.ok.Load()+pub.failed.Load()) / float64(o.Messages)
	})
	var wg sync.WaitGroup
	defer wg.Wait()
	r.openAll(subCtx, subs, &wg, res)
	if res.Connected == 0 {
		return errors.New("no subscriber could connect")
	}

	r.setPhase("publish")
	from := r.proc.mark()
	r.publishAtRate(ctx, &pub, o.Topic, o.Messages, o.Rate, o.Inflight)
	r.setPhase("drain")
	want := pub.ok.Load()
	drainUntil := time.Now().Add(o.Drain)
	for ctx.Err() == nil && time.Now().Before(drainUntil) {
		all := true
		for _, s := range subs {
			if s.open && s.v.delivered.Load() < want {
				all = false
				break
			}
		}
		if all {
			break
		}
		sleep(ctx, 10*time.Millisecond)
	}
	to := r.proc.mark()
	stopSubs()
	wg.Wait()
	r.setPhase("done")

	res.MeasuredPhase = "publish+drain"
	r.proc.fill(res, from, to)
	res.Published, res.PublishErrors = pub.ok.Load(), pub.failed.Load()
	res.PublishRate = float64(res.Published) / pub.elapsed.Seconds()
	res.PublishLatency = percentiles(pub.latency)
	res.Expected = int64(res.Connected) * res.Published
	var lat []int64
	var last int64
	for _, s := range subs {
		if !s.open {
			continue
		}
		c := s.v.Counts(pub.acked)
		res.Delivered += c.Delivered
		res.Lost += c.Lost
		res.Duplicated += c.Duplicated
		res.OutOfOrder += c.OutOfOrder
		res.Invalid += c.Invalid
		res.Disconnects += s.disconnects.Load()
		res.Resumes += s.resumes.Load()
		res.Resets += s.resets.Load()
		lat = append(lat, s.v.latency...)
		last = max(last, s.v.lastRecv)
	}
	if last > 0 {
		res.DeliveriesPerS = float64(res.Delivered) / (float64(last-from.t.UnixNano()) / 1e9)
	}
	res.Latency = percentiles(lat)
	return nil
}
