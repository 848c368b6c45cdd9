package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/livedash/livedash"
	"github.com/livedash/livedash/auth"
	"github.com/livedash/livedash/hub"
	"github.com/livedash/livedash/pubsub"
)

// writeTimeout bounds one write to a client; a client that does not take
// bytes for this long is gone.
const writeTimeout = 15 * time.Second

// retryMillis is the reconnection delay SSE clients are told to use.
const retryMillis = 2000

// streamRequest is what a client asks of a stream.
type streamRequest struct {
	patterns []string
	since    string
	backlog  int
}

func parseStreamRequest(r *http.Request) (streamRequest, error) {
	var req streamRequest
	var err error
	if req.patterns, err = patternsParam(r); err != nil {
		return req, err
	}
	q := r.URL.Query()
	req.backlog = pubsub.DefaultBacklog
	if v := q.Get("backlog"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return req, livedash.Errorf(livedash.EINVALID, "backlog must be a whole number >= 0")
		}
		req.backlog = n
	}
	// The header is what EventSource sends on reconnect, so it wins over
	// the since= of the original URL.
	req.since = r.Header.Get("Last-Event-ID")
	if req.since == "" {
		req.since = q.Get("since")
	}
	return req, nil
}

// handleStream serves Server-Sent Events: a retry line, then history
// (backlog or resume), then live messages, with heartbeats, until the
// client leaves, falls behind, its token expires or the server stops.
func (s *Server) handleStream() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a, err := s.access(r)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		req, err := parseStreamRequest(r)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		if err := a.CheckRead(req.patterns); err != nil {
			s.writeError(w, r, err)
			return
		}
		release, ok := s.admitStream(w, r, a, "sse")
		if !ok {
			return
		}

		h := w.Header()
		h.Set("Content-Type", "text/event-stream; charset=utf-8")
		h.Set("Cache-Control", "no-cache, no-store, no-transform")
		h.Set("X-Accel-Buffering", "no") // nginx: do not buffer
		if s.canPush(r) && s.servePushed(w, r, a, req, release) {
			return
		}
		defer release()
		if r.ProtoMajor == 1 {
			h.Set("Connection", "keep-alive")
		}
		w.WriteHeader(http.StatusOK)
		sse := &sseWriter{w: w, rc: http.NewResponseController(w), events: s.events}
		sse.raw([]byte("retry: " + strconv.Itoa(retryMillis) + "\n\n"))

		sess := pubsub.NewSession(s.hub, s.store, false, int64(s.cfg.Limits.BacklogBytes))
		defer sess.Close()
		ctx := r.Context()
		if err := sess.Subscribe(ctx, req.patterns, req.since, req.backlog, sse); err != nil {
			s.logStreamEnd("sse", err)
			return
		}
		if sse.flush() != nil {
			return
		}
		// A client cut off as slow may be stuck in a write: end it now.
		sess.OnCut(func() { sse.rc.SetWriteDeadline(time.Now()) })
		s.serveLive(ctx, sess, a, sse, func() error {
			sse.raw([]byte(": ping\n\n"))
			return sse.flush()
		})
	})
}

// admitStream lets a stream in unless the server is shutting down or its
// caller (token, or address without one) has all the streams it may; it counts the stream until release.
// When it refuses, it has answered the request.
func (s *Server) admitStream(w http.ResponseWriter, r *http.Request, a auth.Access, transport string) (release func(), ok bool) {
	s.open.Add(1)
	if s.streams.Err() != nil {
		s.open.Done()
		s.writeError(w, r, livedash.Errorf(livedash.EUNAVAILABLE, "server is shutting down"))
		return nil, false
	}
	uncount, err := s.limits.acquireConn(callerOf(r, a))
	if err != nil {
		s.open.Done()
		s.writeError(w, r, err)
		return nil, false
	}
	s.events.StreamOpened(transport)
	return func() {
		s.events.StreamClosed(transport)
		uncount()
		s.open.Done()
	}, true
}

// heartbeat is how often a quiet stream gets a heartbeat.
func (s *Server) heartbeat() time.Duration {
	if hb := s.cfg.Heartbeat.D(); hb > 0 {
		return hb
	}
	return 15 * time.Second
}

// slowConsumer logs and reports a client cut off for falling behind.
func (s *Server) slowConsumer(transport, sub string, dropped int) {
	s.log.Info("slow consumer cut off", "transport", transport, "sub", sub, "dropped", dropped)
	s.events.SlowConsumer(transport, sub, dropped)
}

// streamTimers returns a stream's heartbeat ticker and a channel that fires
// when its token expires (nil when it has none); stop releases both.
func (s *Server) streamTimers(a auth.Access) (heartbeat <-chan time.Time, expired <-chan time.Time, stop func()) {
	ticker := time.NewTicker(s.heartbeat())
	var timer *time.Timer
	if exp := a.Expiry(); !exp.IsZero() {
		timer = time.NewTimer(exp.Sub(s.now()))
		expired = timer.C
	}
	return ticker.C, expired, func() {
		ticker.Stop()
		if timer != nil {
			timer.Stop()
		}
	}
}

// liveEmitter is a transport's side of the live loop.
type liveEmitter interface {
	pubsub.Emitter
	flush() error
}

// serveLive pumps live messages until the stream must end.
func (s *Server) serveLive(ctx context.Context, sess *pubsub.Session, a auth.Access, out liveEmitter, ping func() error) {
	heartbeat, expired, stop := s.streamTimers(a)
	defer stop()
	for {
		select {
		case <-sess.Ready():
			if err := sess.Live(out); err != nil {
				return
			}
			if err := out.flush(); err != nil {
				return
			}
		case <-sess.Done():
			if errors.Is(sess.Err(), hub.ErrSlow) {
				s.slowConsumer("sse", a.Subject(), sess.Dropped())
			}
			return
		case <-heartbeat:
			if err := ping(); err != nil {
				return
			}
		case <-expired:
			return
		case <-ctx.Done():
			return
		case <-s.streams.Done():
			return
		}
	}
}

func (s *Server) logStreamEnd(transport string, err error) {
	if err != nil && !errors.Is(err, context.Canceled) && !isClosedConn(err) {
		s.log.Warn("stream ended", "transport", transport, "err", err)
	}
}

func isClosedConn(err error) bool {
	var ne net.Error
	return errors.Is(err, net.ErrClosed) || errors.As(err, &ne)
}

// sseWriter writes events to a response; the first error sticks.
type sseWriter struct {
	w      http.ResponseWriter
	rc     *http.ResponseController
	events Events
	frames int  // written since the last flush
	armed  bool // the write deadline is set for the current batch
	err    error
}

func (e *sseWriter) raw(b []byte) {
	if e.err != nil {
		return
	}
	// net/http buffers the response (4 KiB) and writes through when full,
	// so idle streams hold no buffer of their own. The write deadline is
	// armed once per batch, not per frame.
	if !e.armed {
		e.rc.SetWriteDeadline(time.Now().Add(writeTimeout))
		e.armed = true
	}
	_, e.err = e.w.Write(b)
}

func (e *sseWriter) Frame(f *livedash.Frame) error {
	e.raw(f.SSE)
	e.frames++
	return e.err
}

func (e *sseWriter) Reset(patterns []string, reason string) error {
	e.raw(resetEvent(patterns, reason))
	return e.err
}

// resetEvent is the SSE reset event for patterns.
func resetEvent(patterns []string, reason string) []byte {
	b, _ := json.Marshal(resetData{Topics: patterns, Reason: reason})
	return append(append([]byte("event: reset\ndata: "), b...), "\n\n"...)
}

func (e *sseWriter) flush() error {
	if e.err != nil {
		return e.err
	}
	if !e.armed {
		e.rc.SetWriteDeadline(time.Now().Add(writeTimeout))
	}
	e.err = e.rc.Flush()
	e.armed = false
	if e.frames > 0 && e.err == nil {
		e.events.Delivered("sse", e.frames)
	}
	e.frames = 0
	return e.err
}

type resetData struct {
	Topics []string `json:"topics"`
	Reason string   `json:"reason"`
}
