package bench

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// idle: Subs streams opened (backlog 0) and held for Hold; the figures are
// the connect rate and, from the server's RSS before and after, its memory
// per open connection.
func (r *runner) idle(ctx context.Context, res *Result) error {
	o := r.o
	subCtx, stopSubs := context.WithCancel(ctx)
	defer stopSubs()
	subs := make([]*subscriber, o.Subs)
	for i := range subs {
		subs[i] = r.newSubscriber(i, o.Topic, 0, nil)
	}
	r.setPhase("connect")
	var holdStart time.Time
	r.prog.run(func() (string, float64) {
		c := r.connected.Load()
		if r.phase() == "connect" {
			return fmt.Sprintf("connect  %d/%d open", c, o.Subs), float64(c) / float64(o.Subs)
		}
		return fmt.Sprintf("hold     %d open", c), min(time.Since(holdStart).Seconds()/o.Hold.Seconds(), 1)
	})
	before := r.proc.mark()
	var wg sync.WaitGroup
	defer wg.Wait()
	r.openAll(subCtx, subs, &wg, res)
	if res.Connected == 0 {
		return errors.New("no stream could connect")
	}
	holdStart = time.Now()
	r.setPhase("hold")
	sleep(ctx, o.Hold)
	after := r.proc.mark()
	stopSubs()
	wg.Wait()
	r.setPhase("done")

	res.MeasuredPhase = "connect+hold"
	r.proc.fill(res, before, after)
	for _, s := range subs {
		res.Disconnects += s.disconnects.Load()
		res.Resumes += s.resumes.Load()
		res.Resets += s.resets.Load()
	}
	if s := res.Server; s != nil && s.Unavailable == "" {
		res.PerConnBytes = (s.RSSAfter - s.RSSBefore) / int64(res.Connected)
	}
	if c := res.Client; c != nil {
		res.ClientConnBytes = (c.RSSAfter - c.RSSBefore) / int64(res.Connected)
	}
	return nil
}
