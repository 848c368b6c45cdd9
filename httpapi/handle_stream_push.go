package httpapi

import (
	"bufio"
	"errors"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/livedash/livedash"
	"github.com/livedash/livedash/auth"
	"github.com/livedash/livedash/hub"
	"github.com/livedash/livedash/pubsub"
	"github.com/livedash/livedash/push"
)

// pingEvent is the SSE comment a quiet stream gets every heartbeat.
var pingEvent = []byte(": ping\n\n")

// canPush reports whether an SSE request can be handed to the connection
// pool: Linux, plain HTTP/1.x (HTTP/2 and TLS streams cannot be taken
// over as sockets) and not turned off in the config.
func (s *Server) canPush(r *http.Request) bool {
	return push.Supported() && r.ProtoMajor == 1 && r.TLS == nil && !s.cfg.SSEGoroutinePerStream
}

// pushPool returns the server's connection pool, starting it on first use;
// it fails once CloseStreams has run.
func (s *Server) pushPool() (*push.Pool, error) {
	s.poolMu.Lock()
	defer s.poolMu.Unlock()
	if s.streams.Err() != nil {
		return nil, livedash.Errorf(livedash.EUNAVAILABLE, "server is shutting down")
	}
	if s.pool == nil {
		p, err := push.NewPool(push.Options{Heartbeat: s.heartbeat(), Ping: pingEvent, WriteTimeout: writeTimeout})
		if err != nil {
			return nil, err
		}
		s.pool = p
	}
	return s.pool, nil
}

// SSEPoolStats returns the SSE connection pool's figures (zero before the
// first pooled stream).
func (s *Server) SSEPoolStats() push.Stats {
	s.poolMu.Lock()
	p := s.pool
	s.poolMu.Unlock()
	if p == nil {
		return push.Stats{}
	}
	return p.Stats()
}

// closePool ends every pooled stream; no pool starts after it.
func (s *Server) closePool() {
	s.poolMu.Lock()
	p := s.pool
	s.pool = nil
	s.poolMu.Unlock()
	if p != nil {
		p.Close()
	}
}

// servePushed serves an SSE stream whose headers are set: it takes the
// connection over from net/http, writes the response head and the history
// itself, then hands the socket to the pool, which delivers live frames
// and heartbeats with no goroutine of the stream's own. The response has
// no length and no chunking: it ends when the connection closes. It
// reports false, having done nothing, when the connection cannot be taken.
func (s *Server) servePushed(w http.ResponseWriter, r *http.Request, a auth.Access, req streamRequest, release func()) bool {
	pool, err := s.pushPool()
	if err != nil {
		s.log.Warn("sse pool unavailable; serving the stream from its own goroutine", "err", err)
		return false
	}
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
	sess := pubsub.NewSession(s.hub, s.store, false, int64(s.cfg.Limits.BacklogBytes))
	fail := func(err error) {
		sess.Close()
		nc.Close()
		release()
		s.logStreamEnd("sse", err)
	}
	// History goes out through net/http's buffer, which is dropped after.
	nc.SetWriteDeadline(time.Now().Add(writeTimeout))
	bw := brw.Writer
	bw.WriteString("HTTP/1.1 200 OK\r\n")
	h.Write(bw)
	bw.WriteString("\r\nretry: " + strconv.Itoa(retryMillis) + "\n\n")
	hist := &sseHistory{w: bw}
	err = sess.Subscribe(r.Context(), req.patterns, req.since, req.backlog, hist)
	if err == nil {
		err = bw.Flush()
	}
	if err == nil {
		err = nc.SetWriteDeadline(time.Time{})
	}
	if err != nil {
		fail(err)
		return true
	}
	if hist.frames > 0 {
		s.events.Delivered("sse", hist.frames)
	}

	var until time.Time
	if exp := a.Expiry(); !exp.IsZero() {
		until = time.Now().Add(exp.Sub(s.now()))
	}
	src := &sseSource{sess: sess, events: s.events}
	c, err := pool.Add(nc, src, until, func(err error) {
		sess.Close()
		if errors.Is(err, hub.ErrSlow) {
			s.slowConsumer("sse", a.Subject(), sess.Dropped())
		} else if !errors.Is(err, push.ErrClientLeft) && !errors.Is(err, push.ErrPoolClosed) && !errors.Is(err, push.ErrExpired) {
			s.logStreamEnd("sse", err)
		}
		release()
	})
	if err != nil {
		sess.Close()
		release()
		s.logStreamEnd("sse", err)
		return true
	}
	// The hub calls these from its fan-out loop: they must not block.
	sess.OnCut(func() { go c.Close(hub.ErrSlow) })
	sess.OnReady(c.Wake)
	if err := sess.Err(); err != nil { // cut off while sending history
		c.Close(err)
		return true
	}
	c.Wake() // frames may have queued while history was written
	return true
}

// sseHistory writes a pooled stream's history into a buffer.
type sseHistory struct {
	w      *bufio.Writer
	frames int
	err    error
}

func (e *sseHistory) Frame(f *livedash.Frame) error {
	if e.err == nil {
		_, e.err = e.w.Write(f.SSE)
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

// sseSource gives the pool a stream's live frames: the shared, encoded
// bytes of each, with no copy.
type sseSource struct {
	sess   *pubsub.Session
	events Events
	bufs   net.Buffers
	frames int
}

func (s *sseSource) Fill(bufs net.Buffers) (net.Buffers, error) {
	s.bufs, s.frames = bufs, 0
	err := s.sess.Live(s)
	if s.frames > 0 {
		s.events.Delivered("sse", s.frames)
	}
	bufs, s.bufs = s.bufs, nil
	return bufs, err
}

func (s *sseSource) Frame(f *livedash.Frame) error {
	s.bufs = append(s.bufs, f.SSE)
	s.frames++
	return nil
}

func (s *sseSource) Reset(patterns []string, reason string) error {
	s.bufs = append(s.bufs, resetEvent(patterns, reason))
	return nil
}
