//go:build linux

package push

import (
	"errors"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/livedash/livedash/internal/epoll"
)

const watcherSupported = true

// watcher notices, through one epoll instance of its own, when a pushed
// connection's client hangs up or sends something, and reports it. Go's
// own poller keeps its registration of the same sockets; this one only
// adds readiness for reading, which nothing else waits for on a push
// connection. It is edge-triggered: a report comes when input arrives, and
// the reader it starts reads until the socket has no more (Conn.read), so
// a connection whose input is being handled does not report again and
// again.
type watcher struct {
	set    *epoll.Set
	report func(*Conn)

	mu   sync.Mutex
	byFD map[int32]*Conn
}

func newWatcher(report func(*Conn)) (*watcher, error) {
	set, err := epoll.New()
	if err != nil {
		return nil, err
	}
	w := &watcher{set: set, report: report, byFD: map[int32]*Conn{}}
	go set.Run(w.event)
	return w, nil
}

// add starts watching c. The event carries c's token next to its fd, so
// an event that was already on its way when c closed cannot be taken for
// that of a new connection given the same fd.
func (w *watcher) add(c *Conn) error {
	var err error
	cerr := c.raw.Control(func(fd uintptr) {
		c.fd = int(fd)
		w.mu.Lock()
		w.byFD[int32(fd)] = c
		w.mu.Unlock()
		if err = w.set.Add(int(fd), unix.EPOLLIN|unix.EPOLLRDHUP|unix.EPOLLET, int32(c.token)); err != nil {
			w.forget(c)
		}
	})
	return errors.Join(cerr, err)
}

// remove stops watching c; call it before closing c's socket.
func (w *watcher) remove(c *Conn) {
	c.raw.Control(func(fd uintptr) { w.set.Remove(int(fd)) })
	w.forget(c)
}

func (w *watcher) forget(c *Conn) {
	w.mu.Lock()
	if w.byFD[int32(c.fd)] == c {
		delete(w.byFD, int32(c.fd))
	}
	w.mu.Unlock()
}

// event reports the connection an event is for, unless it has gone.
func (w *watcher) event(fd, token int32) {
	w.mu.Lock()
	c := w.byFD[fd]
	w.mu.Unlock()
	if c != nil && c.token == uint32(token) {
		w.report(c)
	}
}

// close stops watching and waits for the loop to end.
func (w *watcher) close() { w.set.Stop() }

func writevNonBlocking(fd uintptr, bufs [][]byte) (int, error) {
	if len(bufs) == 1 {
		return unix.Write(int(fd), bufs[0])
	}
	return unix.Writev(int(fd), bufs)
}

func readNonBlocking(fd uintptr, buf []byte) (int, error) {
	return unix.Read(int(fd), buf)
}
