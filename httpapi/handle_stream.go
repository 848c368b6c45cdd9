package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/livedash/livedash"
	"github.com/livedash/livedash/auth"
	"github.com/livedash/livedash/hub"
	"github.com/livedash/livedash/pubsub"
	"github.com/livedash/livedash/push"
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
		pool, err := s.engine()
		if err != nil {
			release()
			s.writeError(w, r, err)
			return
		}
		st := &sseStream{s: s, subject: a.Subject(), release: release,
			sess: pubsub.NewSession(s.hub, s.store, false, int64(s.cfg.Limits.BacklogBytes))}
		if s.canPool(r, "sse") && s.servePooledSSE(w, r, a, req, pool, st) {
			return
		}
		s.serveAttachedSSE(w, r, a, req, pool, st)
	})
}

// servePooledSSE serves an SSE stream whose headers are set: it takes the
// connection over from net/http, writes the response head and the history
// itself, then hands the socket to the pool, which delivers live frames
// and heartbeats with no goroutine of the stream's own. The response has
// no length and no chunking: it ends when the connection closes. It
// reports false, having done nothing, when the connection cannot be taken.
func (s *Server) servePooledSSE(w http.ResponseWriter, r *http.Request, a auth.Access, req streamRequest, pool *push.Pool, st *sseStream) bool {
	h := w.Header()
	h.Set("Connection", "close")
	h.Set("Date", time.Now().UTC().Format(http.TimeFormat))
	nc, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		h.Del("Connection")
		h.Del("Date")
		return false
	}
	if rec, ok := w.(*statusRecorder); ok {
		rec.status = http.StatusOK // for the request log: this is no protocol switch
	}
	// History goes out through net/http's buffer, which is dropped after.
	nc.SetWriteDeadline(time.Now().Add(writeTimeout))
	bw := brw.Writer
	bw.WriteString("HTTP/1.1 200 OK\r\n")
	h.Write(bw)
	bw.WriteString("\r\nretry: " + strconv.Itoa(retryMillis) + "\n\n")
	err = st.history(r.Context(), req, bw)
	if err == nil {
		err = bw.Flush()
	}
	if err == nil {
		err = nc.SetWriteDeadline(time.Time{})
	}
	if err != nil {
		nc.Close()
		st.Closed(err)
		return true
	}
	pending, _ := brw.Reader.Peek(brw.Reader.Buffered())
	c, err := pool.Add(nc, st, s.until(a), pending)
	if err != nil {
		st.Closed(err)
		return true
	}
	st.start(c)
	return true
}

// serveAttachedSSE serves an SSE stream through net/http's response (TLS,
// HTTP/2, or sse_goroutine_per_stream): the same stream on the same pool,
// written by this goroutine.
func (s *Server) serveAttachedSSE(w http.ResponseWriter, r *http.Request, a auth.Access, req streamRequest, pool *push.Pool, st *sseStream) {
	if r.ProtoMajor == 1 {
		w.Header().Set("Connection", "keep-alive")
	}
	w.WriteHeader(http.StatusOK)
	rw := newResponseWriter(w)
	rw.SetWriteDeadline(time.Now().Add(writeTimeout))
	io.WriteString(w, "retry: "+strconv.Itoa(retryMillis)+"\n\n")
	err := st.history(r.Context(), req, w)
	if err == nil {
		err = rw.Flush()
	}
	if err != nil {
		st.Closed(err)
		return
	}
	if err := pool.Serve(r.Context(), rw, st, s.until(a), nil, st.start); errors.Is(err, push.ErrPoolClosed) && !st.closed.Load() {
		st.Closed(err) // the pool closed before the stream joined it
	}
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

func (s *Server) logStreamEnd(transport string, err error) {
	if err != nil && !errors.Is(err, context.Canceled) && !isClosedConn(err) {
		s.log.Warn("stream ended", "transport", transport, "err", err)
	}
}

func isClosedConn(err error) bool {
	var ne net.Error
	return errors.Is(err, net.ErrClosed) || errors.As(err, &ne)
}

// resetEvent is the SSE reset event for patterns.
func resetEvent(patterns []string, reason string) []byte {
	b, _ := json.Marshal(resetData{Topics: patterns, Reason: reason})
	return append(append([]byte("event: reset\ndata: "), b...), "\n\n"...)
}

type resetData struct {
	Topics []string `json:"topics"`
	Reason string   `json:"reason"`
}

// pingEvent is the SSE comment a quiet stream gets every heartbeat.
var pingEvent = []byte(": ping\n\n")

// maxIgnored is how many bytes an SSE client may send (a one-way stream
// reads nothing) before it is dropped as abusive.
const maxIgnored = 64 << 10

// errClientSends is the reason of an SSE stream whose client sent more
// than maxIgnored.
var errClientSends = errors.New("client sent too much on a one-way stream")

// sseStream is an SSE stream's side of the delivery engine (push.Stream):
// the shared, encoded event of each live frame, with no copy.
type sseStream struct {
	s       *Server
	sess    *pubsub.Session
	subject string
	release func()
	closed  atomic.Bool

	// Used by one goroutine at a time (the pool's Fill, Receive).
	bufs    net.Buffers
	frames  int
	ignored int
}

// history writes the stream's history (backlog or resume) to w.
func (st *sseStream) history(ctx context.Context, req streamRequest, w io.Writer) error {
	h := &sseHistory{w: w}
	err := st.sess.Subscribe(ctx, req.patterns, req.since, req.backlog, h)
	if h.frames > 0 {
		st.s.events.Delivered("sse", h.frames)
	}
	return err
}

// start joins the stream to its connection.
func (st *sseStream) start(c *push.Conn) { joinSession(st.sess, c) }

// joinSession makes a session's live frames wake c and its cut-off end c
// (with the transport's goodbye), then wakes c for what queued meanwhile.
func joinSession(sess *pubsub.Session, c *push.Conn) {
	// The hub calls these from its fan-out loop: they must not block.
	sess.OnCut(func() { go c.End(hub.ErrSlow) })
	sess.OnReady(c.Wake)
	if err := sess.Err(); err != nil { // cut off while sending history
		c.End(err)
		return
	}
	c.Wake()
}

func (st *sseStream) Fill(bufs net.Buffers) (net.Buffers, error) {
	st.bufs, st.frames = bufs, 0
	err := st.sess.Live(st)
	if st.frames > 0 {
		st.s.events.Delivered("sse", st.frames)
	}
	bufs, st.bufs = st.bufs, nil
	return bufs, err
}

func (st *sseStream) Frame(f *livedash.Frame) error {
	st.bufs = append(st.bufs, f.Wire(wireSSE, sseEvent))
	st.frames++
	return nil
}

func (st *sseStream) Reset(patterns []string, reason string) error {
	st.bufs = append(st.bufs, resetEvent(patterns, reason))
	return nil
}

func (st *sseStream) Heartbeat() []byte    { return pingEvent }
func (st *sseStream) Goodbye(error) []byte { return nil }

// Receive counts what the client sends, which SSE ignores, up to maxIgnored.
func (st *sseStream) Receive(p []byte) error {
	if st.ignored += len(p); st.ignored > maxIgnored {
		return errClientSends
	}
	return nil
}

func (st *sseStream) Closed(reason error) {
	if st.closed.Swap(true) {
		return
	}
	st.sess.Close()
	st.s.streamEnded("sse", st.subject, st.sess.Dropped, reason, st.release)
}

// sseHistory writes a stream's history events to w.
type sseHistory struct {
	w      io.Writer
	frames int
	err    error
}

func (e *sseHistory) Frame(f *livedash.Frame) error {
	if e.err == nil {
		_, e.err = e.w.Write(f.Wire(wireSSE, sseEvent))
		e.frames++
	}
	return e.err
}

func (e *sseHistory) Reset(patterns []string, reason string) error {
	if e.err == nil {
		_, e.err = e.w.Write(resetEvent(patterns, reason))
	}
	return e.err
}
