package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// churn: Subs loops of connect → read the first event → close, for
// Duration, while one publisher publishes at Rate. Streams ask for a
// backlog of 1, so the first event is the topic's newest message and a
// cycle does not wait for the next publish.
func (r *runner) churn(ctx context.Context, res *Result) error {
	o := r.o
	if err := r.publishOnce(ctx, appendPublishBody(nil, o.Topic, 0, time.Now().UnixNano()), 1); err != nil {
		return fmt.Errorf("first publish: %w", err)
	}
	cctx, cancel := context.WithTimeout(ctx, o.Duration)
	defer cancel()
	var cycles, failed atomic.Int64
	var pub publisher
	lats := make([][]int64, o.Subs)
	r.setPhase("churn")
	start := time.Now()
	r.prog.run(func() (string, float64) {
		c := cycles.Load()
		return fmt.Sprintf("churn    %d cycles (%.0f/s)  published %d", c, float64(c)/time.Since(start).Seconds(), pub.ok.Load()),
			time.Since(start).Seconds() / o.Duration.Seconds()
	})
	from := r.proc.mark()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		r.publishAtRate(cctx, &pub, o.Topic, 0, o.Rate, o.Inflight)
	}()
	for i := range o.Subs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for cctx.Err() == nil {
				t := time.Now()
				var err error
				if o.Transport == "ws" {
					err = r.cycleWS(cctx)
				} else {
					err = r.cycleSSE(cctx)
				}
				if err != nil {
					if cctx.Err() != nil {
						return
					}
					failed.Add(1)
					r.errs.add("cycle", err)
					sleep(cctx, 10*time.Millisecond)
					continue
				}
				lats[i] = append(lats[i], int64(time.Since(t)))
				cycles.Add(1)
			}
		}()
	}
	wg.Wait()
	to := r.proc.mark()
	r.setPhase("done")
	res.MeasuredPhase = "churn"
	r.proc.fill(res, from, to)
	d := to.t.Sub(from.t).Seconds()
	res.Cycles, res.CycleErrors = cycles.Load(), failed.Load()
	res.CyclesPerSec = float64(res.Cycles) / d
	var all []int64
	for _, l := range lats {
		all = append(all, l...)
	}
	res.FirstEvent = percentiles(all)
	res.Published, res.PublishErrors = pub.ok.Load(), pub.failed.Load()
	res.PublishRate = float64(res.Published) / pub.elapsed.Seconds()
	res.PublishLatency = percentiles(pub.latency)
	return nil
}

// checkFirst checks that a first event is a message of topic.
func checkFirst(b []byte, topic string) error {
	var f frame
	if err := json.Unmarshal(b, &f); err != nil {
		return fmt.Errorf("first event: %w", err)
	}
	if f.Topic != topic || f.Data == nil || f.Data.Seq == nil {
		return fmt.Errorf("first event is not a bench message of %s", topic)
	}
	return nil
}

// cycleSSE opens a stream, reads its first event and closes it.
func (r *runner) cycleSSE(ctx context.Context) error {
	req, err := r.request(ctx, http.MethodGet, "/api/v1/stream?backlog=1&topic="+url.QueryEscape(r.o.Topic), nil)
	if err != nil {
		return err
	}
	resp, err := r.subs.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return statusError(resp)
	}
	var checked error
	err = readSSE(resp.Body, nil, func(typ, id, data []byte) error {
		checked = checkFirst(data, r.o.Topic)
		return errStop
	})
	if !errors.Is(err, errStop) {
		return err
	}
	return checked
}

// cycleWS opens a WebSocket, subscribes, reads the first message and
// closes it.
func (r *runner) cycleWS(ctx context.Context) error {
	c, _, err := websocket.Dial(ctx, r.o.URL+"/api/v1/ws", &websocket.DialOptions{HTTPClient: r.subs, HTTPHeader: r.authHeader()})
	if err != nil {
		return err
	}
	defer c.CloseNow()
	sub, _ := json.Marshal(map[string]any{"op": "subscribe", "ref": 1, "topics": []string{r.o.Topic}, "backlog": 1})
	if err := c.Write(ctx, websocket.MessageText, sub); err != nil {
		return err
	}
	for {
		_, b, err := c.Read(ctx)
		if err != nil {
			return err
		}
		var f frame
		if err := json.Unmarshal(b, &f); err != nil {
			return fmt.Errorf("bad frame: %w", err)
		}
		switch f.Op {
		case "message":
			return checkFirst(b, r.o.Topic)
		case "error":
			return fmt.Errorf("server: %s: %s", f.Code, f.Msg)
		}
	}
}
