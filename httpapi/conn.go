package httpapi

import (
	"errors"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/livedash/livedash/config"
)

// headerTimeout bounds the reading of a request's headers.
const headerTimeout = 10 * time.Second

// NewHTTPServer returns the http.Server that serves handler with the
// connection limits of lim: headers must arrive within 10 s, and a
// keep-alive connection is closed after lim.IdleTimeout without a request.
// The body's timeout (lim.BodyTimeout) is set by the handlers that read a
// body. There is no overall read or write timeout: it would cut long-lived
// streams, which bound each write themselves (and hijacked connections,
// pooled SSE and WebSocket, lose net/http's deadlines when taken over).
func NewHTTPServer(handler http.Handler, lim config.Limits, log *slog.Logger) *http.Server {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: headerTimeout,
		IdleTimeout:       lim.IdleTimeout.D(),
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

// LimitListener returns ln with at most max connections open at once (0:
// no cap), streams included. Past the cap a new connection is closed as
// soon as it is accepted, unanswered: its client sees the connection
// closed and retries (EventSource and the WebSocket clients reconnect by
// themselves). An HTTP answer would cost a read of the request per refused
// connection and could not be read by a TLS client.
func LimitListener(ln net.Listener, max int, log *slog.Logger) net.Listener {
	if max <= 0 {
		return ln
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &limitListener{Listener: ln, max: int64(max), log: log}
}

type limitListener struct {
	net.Listener
	max    int64
	log    *slog.Logger
	open   atomic.Int64
	warned atomic.Int64 // unix nanoseconds of the last warning
}

func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if l.open.Add(1) <= l.max {
			return &limitConn{Conn: c, l: l}, nil
		}
		l.open.Add(-1)
		c.Close()
		if now := time.Now().UnixNano(); now-l.warned.Load() > int64(time.Minute) {
			l.warned.Store(now)
			l.log.Warn("connection refused: limits.max_connections reached", "max_connections", l.max)
		}
	}
}

// limitConn frees its place in the listener's count when closed, whoever
// closes it (net/http, the SSE pool, the WebSocket library).
type limitConn struct {
	net.Conn
	l    *limitListener
	once sync.Once
}

func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { c.l.open.Add(-1) })
	return err
}

// SyscallConn gives the SSE pool the socket underneath.
func (c *limitConn) SyscallConn() (syscall.RawConn, error) {
	sc, ok := c.Conn.(syscall.Conn)
	if !ok {
		return nil, errors.New("connection is not a socket")
	}
	return sc.SyscallConn()
}

// bodyTimeout gives every request that may carry a body (any method but
// GET, HEAD and OPTIONS) limits.body_timeout to deliver it, from the end of
// its headers: readBody clears the deadline once the body is in, and a
// handler that answers without reading it is not held up by a client that
// trickles. Streams (GET) are never touched.
func (s *Server) bodyTimeout(next http.Handler) http.Handler {
	d := s.cfg.Limits.BodyTimeout.D()
	if d <= 0 {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
		default:
			http.NewResponseController(w).SetReadDeadline(time.Now().Add(d))
		}
		next.ServeHTTP(w, r)
	})
}

// nosniff tells browsers to trust the Content-Type of every response.
func nosniff(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Content-Type-Options", "nosniff")
		next.ServeHTTP(w, r)
	})
}
