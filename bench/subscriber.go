package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/livedash/livedash/sse"
)

// sseBufferSize is the line buffer of one SSE stream: a bench message's
// lines fit many times over; longer lines are still read whole.
const sseBufferSize = 2048

// errStop ends a read early (the caller has what it wanted).
var errStop = errors.New("stop reading")

// subscriber is one stream of a run, over SSE or WebSocket. After a
// dropped connection it reconnects and resumes after the last id it saw,
// as client.Stream does (Last-Event-ID for SSE, since for WebSocket).
type subscriber struct {
	r       *runner
	base    string // server URL this subscriber reads from
	ws      bool
	topic   string
	backlog int
	v       *Verifier // nil: events are only counted

	open        bool // the first connect succeeded (set before opened is called)
	events      atomic.Int64
	disconnects atomic.Int64
	resumes     atomic.Int64
	resets      atomic.Int64
	lastID      []byte
	retry       time.Duration
}

// newSubscriber makes the i-th subscriber; with several --sub-url servers
// (a cluster) subscribers are spread over them in turn.
func (r *runner) newSubscriber(i int, topic string, backlog int, v *Verifier) *subscriber {
	base := r.o.URL
	if n := len(r.o.SubURLs); n > 0 {
		base = r.o.SubURLs[i%n]
	}
	return &subscriber{r: r, base: base, ws: r.o.Transport == "ws", topic: topic, backlog: backlog, v: v, retry: time.Second}
}

// run opens the stream (by deadline, at most len(sem) at once), calls
// opened once with the outcome, and then reads it until ctx ends,
// reconnecting after drops.
func (s *subscriber) run(ctx context.Context, deadline time.Time, sem chan struct{}, opened func(error)) {
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			opened(ctx.Err())
			return
		}
		err = s.connect(ctx, deadline, func() { <-sem; s.open = true; opened(nil) })
		if s.open {
			break
		}
		<-sem
		if ctx.Err() != nil {
			break
		}
		s.r.errs.add("connect", err)
		if time.Now().After(deadline) {
			break
		}
		sleep(ctx, 100*time.Millisecond)
	}
	if !s.open {
		opened(err)
		return
	}
	for ctx.Err() == nil {
		if err != nil {
			s.r.errs.add("stream", err)
		}
		if !sleep(ctx, s.retry) {
			return
		}
		err = s.connect(ctx, time.Time{}, func() { s.resumes.Add(1) })
	}
}

// connect opens one connection and reads it until it ends; connected is
// called once it is open (the subscription registered). A zero deadline
// means none.
func (s *subscriber) connect(ctx context.Context, deadline time.Time, connected func()) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if !deadline.IsZero() {
		t := time.AfterFunc(time.Until(deadline), cancel)
		defer t.Stop()
		stop := func() bool { return t.Stop() }
		if s.ws {
			return s.readWS(ctx, stop, connected)
		}
		return s.readSSE(ctx, stop, connected)
	}
	always := func() bool { return true }
	if s.ws {
		return s.readWS(ctx, always, connected)
	}
	return s.readSSE(ctx, always, connected)
}

// readSSE opens an SSE stream; once the answer's headers arrive (the
// server sends them after registering the subscription) and inTime says
// the connect deadline has not passed, connected is called.
func (s *subscriber) readSSE(ctx context.Context, inTime func() bool, connected func()) error {
	req, err := s.sseRequest(ctx)
	if err != nil {
		return err
	}
	if s.r.reactor != nil {
		return s.readSSEPolled(ctx, req, inTime, connected)
	}
	resp, err := s.r.subs.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return statusError(resp)
	}
	if !inTime() {
		return errors.New("connect deadline passed")
	}
	connected()
	err = readSSE(resp.Body, &s.retry, s.sseEvent)
	if ctx.Err() == nil {
		s.disconnects.Add(1)
	}
	return err
}

func (s *subscriber) sseRequest(ctx context.Context) (*http.Request, error) {
	path := "/api/v1/stream?topic=" + url.QueryEscape(s.topic) + "&backlog=" + strconv.Itoa(s.backlog)
	req, err := s.r.requestAt(ctx, s.base, http.MethodGet, path, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "text/event-stream")
	if len(s.lastID) > 0 {
		req.Header.Set("Last-Event-ID", string(s.lastID))
	}
	return req, nil
}

// sseEvent counts and checks one event, stamped on arrival.
func (s *subscriber) sseEvent(typ, id, data []byte) error {
	now := time.Now().UnixNano()
	s.events.Add(1)
	if string(typ) == "reset" {
		s.resets.Add(1)
		return nil
	}
	if len(id) > 0 {
		s.lastID = append(s.lastID[:0], id...)
	}
	if s.v != nil {
		s.v.Receive(data, now)
	}
	return nil
}

// readSSEPolled is readSSE over a plain TCP connection that, once the
// headers are in, is read by the run's reactor instead of this goroutine,
// which only waits for the stream to end.
func (s *subscriber) readSSEPolled(ctx context.Context, req *http.Request, inTime func() bool, connected func()) error {
	var d net.Dialer
	nc, err := d.DialContext(ctx, "tcp", req.URL.Host)
	if err != nil {
		return err
	}
	conn := nc.(*net.TCPConn)
	abort := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Now()) })
	br := bufio.NewReaderSize(conn, 4096)
	resp, err := func() (*http.Response, error) {
		if err := req.Write(conn); err != nil {
			return nil, err
		}
		return http.ReadResponse(br, req)
	}()
	if !abort() && err == nil {
		err = ctx.Err()
	}
	if err == nil && resp.StatusCode != http.StatusOK {
		err = statusError(resp)
	}
	if err == nil && !inTime() {
		err = errors.New("connect deadline passed")
	}
	if err == nil {
		err = conn.SetDeadline(time.Time{})
	}
	if err != nil {
		conn.Close()
		return err
	}
	connected()
	p := &sse.Parser{Event: s.sseEvent, Retry: &s.retry}
	feed := p.Feed
	if slices.Contains(resp.TransferEncoding, "chunked") {
		var cd chunkDecoder
		feed = func(b []byte) error { return cd.feed(b, p.Feed) }
	}
	// Bytes read with the headers come first.
	if n := br.Buffered(); n > 0 {
		b, _ := br.Peek(n)
		if err := feed(b); err != nil {
			conn.Close()
			return err
		}
	}
	st, err := s.r.reactor.add(conn, feed)
	if err != nil {
		return err
	}
	select {
	case err = <-st.end:
	case <-ctx.Done():
		st.stop(ctx.Err())
		err = <-st.end
	}
	if ctx.Err() == nil {
		s.disconnects.Add(1)
	}
	return err
}

// readWS opens a WebSocket, subscribes and pings; the pong proves the
// subscription registered (the server handles a connection's frames in
// order), and then connected is called.
func (s *subscriber) readWS(ctx context.Context, inTime func() bool, connected func()) error {
	c, _, err := websocket.Dial(ctx, s.base+"/api/v1/ws", &websocket.DialOptions{HTTPClient: s.r.subs, HTTPHeader: s.r.authHeader()})
	if err != nil {
		return err
	}
	defer c.CloseNow()
	c.SetReadLimit(4 << 20)
	sub, _ := json.Marshal(map[string]any{"op": "subscribe", "ref": 1, "topics": []string{s.topic}, "backlog": s.backlog, "since": string(s.lastID)})
	if err := c.Write(ctx, websocket.MessageText, sub); err != nil {
		return err
	}
	if err := c.Write(ctx, websocket.MessageText, []byte(`{"op":"ping","ref":2}`)); err != nil {
		return err
	}
	var buf bytes.Buffer
	open := false
	for {
		_, rd, err := c.Reader(ctx)
		if err == nil {
			buf.Reset()
			_, err = buf.ReadFrom(rd)
		}
		if err != nil {
			if open && ctx.Err() == nil {
				s.disconnects.Add(1)
			}
			return err
		}
		now := time.Now().UnixNano()
		var f frame
		if !parseFrame(buf.Bytes(), &f) {
			if s.v != nil {
				s.v.countInvalid()
			}
			continue
		}
		switch f.Op {
		case "message":
			s.events.Add(1)
			s.lastID = append(s.lastID[:0], f.ID...)
			if s.v != nil {
				s.v.check(&f, now)
			}
		case "pong":
			if f.Ref == 2 && !open {
				if !inTime() {
					return errors.New("connect deadline passed")
				}
				open = true
				connected()
			}
		case "reset":
			s.events.Add(1)
			s.resets.Add(1)
		case "error":
			return fmt.Errorf("server: %s: %s", f.Code, f.Msg)
		}
	}
}

func (r *runner) authHeader() http.Header {
	h := http.Header{}
	if r.o.Token != "" {
		h.Set("Authorization", "Bearer "+r.o.Token)
	}
	return h
}

// statusError describes a non-2xx answer.
func statusError(resp *http.Response) error {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	var e struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(b, &e) != nil || e.Error == "" {
		e.Error = string(bytes.TrimSpace(b))
	}
	return fmt.Errorf("%s: %s", resp.Status, e.Error)
}
