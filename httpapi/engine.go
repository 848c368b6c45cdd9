package httpapi

import (
	"errors"
	"net/http"
	"time"

	"github.com/livedash/livedash"
	"github.com/livedash/livedash/auth"
	"github.com/livedash/livedash/hub"
	"github.com/livedash/livedash/push"
)

// This file joins the stream handlers to the delivery engine (package
// push): one pool for every SSE and WebSocket stream, the choice between a
// pooled socket and an attached connection, and what every stream does
// when it ends.

// engine returns the server's connection pool, starting it on first use;
// it fails once CloseStreams has run.
func (s *Server) engine() (*push.Pool, error) {
	s.poolMu.Lock()
	defer s.poolMu.Unlock()
	if s.streams.Err() != nil {
		return nil, livedash.Errorf(livedash.EUNAVAILABLE, "server is shutting down")
	}
	if s.pool == nil {
		p, err := push.NewPool(push.Options{Heartbeat: s.heartbeat(), WriteTimeout: writeTimeout})
		if err != nil {
			return nil, err
		}
		s.pool = p
	}
	return s.pool, nil
}

// StreamStats returns the delivery engine's figures (zero before the
// first stream).
func (s *Server) StreamStats() push.Stats {
	s.poolMu.Lock()
	p := s.pool
	s.poolMu.Unlock()
	if p == nil {
		return push.Stats{}
	}
	return p.Stats()
}

// closePool ends every stream; no pool starts after it.
func (s *Server) closePool() {
	s.poolMu.Lock()
	p := s.pool
	s.pool = nil
	s.poolMu.Unlock()
	if p != nil {
		p.Close()
	}
}

// canPool reports whether a stream's socket can be handed to the pool:
// Linux, plain HTTP/1.x (HTTP/2 and TLS streams cannot be taken over as
// sockets) and, for SSE, not turned off in the config.
func (s *Server) canPool(r *http.Request, transport string) bool {
	if transport == "sse" && s.cfg.SSEGoroutinePerStream {
		return false
	}
	return push.Supported() && r.ProtoMajor == 1 && r.TLS == nil
}

// until is when a stream of a must end: its token's expiry (zero: never).
func (s *Server) until(a auth.Access) time.Time {
	exp := a.Expiry()
	if exp.IsZero() {
		return time.Time{}
	}
	return time.Now().Add(exp.Sub(s.now()))
}

// streamEnded reports a stream's end: a slow consumer is logged and
// counted, an unexpected error logged; then release frees its place.
func (s *Server) streamEnded(transport, subject string, dropped func() int, reason error, release func()) {
	switch {
	case errors.Is(reason, hub.ErrSlow):
		s.slowConsumer(transport, subject, dropped())
	case errors.Is(reason, push.ErrClientLeft), errors.Is(reason, push.ErrPoolClosed), errors.Is(reason, push.ErrExpired):
	default:
		s.logStreamEnd(transport, reason)
	}
	release()
}

// responseWriter is an attached stream's push.Writer over net/http's
// response (HTTP/2, TLS, or sse_goroutine_per_stream).
type responseWriter struct {
	http.ResponseWriter
	rc *http.ResponseController
}

func newResponseWriter(w http.ResponseWriter) *responseWriter {
	return &responseWriter{ResponseWriter: w, rc: http.NewResponseController(w)}
}

func (w *responseWriter) Flush() error                       { return w.rc.Flush() }
func (w *responseWriter) SetWriteDeadline(t time.Time) error { return w.rc.SetWriteDeadline(t) }
