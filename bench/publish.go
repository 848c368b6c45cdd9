package bench

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// publish: Conc publishers, each posting Batch messages per request (one
// request in flight each) for Duration; a message counts once the server
// acknowledged it (200 with its id).
func (r *runner) publish(ctx context.Context, res *Result) error {
	o := r.o
	pctx, cancel := context.WithTimeout(ctx, o.Duration)
	defer cancel()
	var acked, requests, failed atomic.Int64
	lats := make([][]int64, o.Conc)
	r.setPhase("publish")
	start := time.Now()
	r.prog.run(func() (string, float64) {
		a := acked.Load()
		return fmt.Sprintf("publish  %d acknowledged (%.0f/s)", a, float64(a)/time.Since(start).Seconds()), time.Since(start).Seconds() / o.Duration.Seconds()
	})
	one := appendPublishBody(nil, o.Topic, 0, time.Now().UnixNano())
	res.MessageBytes = len(one)
	from := r.proc.mark()
	var wg sync.WaitGroup
	for i := range o.Conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Built once: the server decodes and stores every copy anyway.
			var body []byte
			if o.Batch == 1 {
				body = appendPublishBody(nil, o.Topic, int64(i), time.Now().UnixNano())
			} else {
				body = append(body, '[')
				for j := range o.Batch {
					if j > 0 {
						body = append(body, ',')
					}
					body = appendPublishBody(body, o.Topic, int64(j), time.Now().UnixNano())
				}
				body = append(body, ']')
			}
			for pctx.Err() == nil {
				t := time.Now()
				if err := r.publishOnce(pctx, body, o.Batch); err != nil {
					if pctx.Err() != nil {
						return // in flight at the end: not counted either way
					}
					failed.Add(1)
					r.errs.add("publish", err)
					sleep(pctx, 10*time.Millisecond)
					continue
				}
				lats[i] = append(lats[i], int64(time.Since(t)))
				requests.Add(1)
				acked.Add(int64(o.Batch))
			}
		}()
	}
	wg.Wait()
	to := r.proc.mark()
	r.setPhase("done")
	res.MeasuredPhase = "publish"
	r.proc.fill(res, from, to)
	res.Acknowledged, res.Requests, res.RequestErrors = acked.Load(), requests.Load(), failed.Load()
	res.AcknowledgedPS = float64(res.Acknowledged) / to.t.Sub(from.t).Seconds()
	var all []int64
	for _, l := range lats {
		all = append(all, l...)
	}
	res.RequestLatency = percentiles(all)
	return nil
}
