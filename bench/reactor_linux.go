//go:build linux

package bench

import (
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"github.com/livedash/livedash/internal/epoll"
)

const reactorSupported = true

// errReactorClosed ends the streams still open when the run ends.
var errReactorClosed = errors.New("reader closed")

// reactor reads many SSE streams with one goroutine per core: each
// stream's socket sits in an epoll set of one loop, which reads whatever
// arrives and feeds the stream's parser. A delivery then costs the
// generator one read(2) and no goroutine wake-up, which leaves more of a
// shared machine to the server being measured. The sockets are taken out
// of Go's poller (dup'ed with File, the original closed).
type reactor struct {
	loops []*pollLoop
	next  atomic.Uint32
}

type pollLoop struct {
	set *epoll.Set
	buf []byte // read buffer, used by the loop's goroutine only

	mu      sync.Mutex
	streams map[int32]*polledStream
}

// polledStream is one stream in a loop; end receives why it ended, once.
type polledStream struct {
	loop *pollLoop
	file *os.File
	fd   int
	feed func([]byte) error
	end  chan error

	mu      sync.Mutex // held while reading, so stop never races a feed
	stopped bool
}

func newReactor(loops int) (*reactor, error) {
	r := &reactor{}
	for range loops {
		l, err := newPollLoop()
		if err != nil {
			r.close()
			return nil, err
		}
		r.loops = append(r.loops, l)
	}
	return r, nil
}

func newPollLoop() (*pollLoop, error) {
	set, err := epoll.New()
	if err != nil {
		return nil, err
	}
	l := &pollLoop{set: set, buf: make([]byte, 64<<10), streams: map[int32]*polledStream{}}
	go set.Run(l.event)
	return l, nil
}

// add moves conn into a loop; from then on the loop feeds what arrives
// to feed until the stream ends or stop is called.
func (r *reactor) add(conn *net.TCPConn, feed func([]byte) error) (*polledStream, error) {
	f, err := conn.File()
	conn.Close()
	if err != nil {
		return nil, err
	}
	fd := int(f.Fd())
	if err := unix.SetNonblock(fd, true); err != nil {
		f.Close()
		return nil, err
	}
	l := r.loops[int(r.next.Add(1))%len(r.loops)]
	st := &polledStream{loop: l, file: f, fd: fd, feed: feed, end: make(chan error, 1)}
	l.mu.Lock()
	l.streams[int32(fd)] = st
	l.mu.Unlock()
	if err := l.set.Add(fd, unix.EPOLLIN|unix.EPOLLRDHUP, 0); err != nil {
		st.stop(err)
		return nil, err
	}
	return st, nil
}

// close stops the loops and ends the streams left.
func (r *reactor) close() {
	for _, l := range r.loops {
		// The streams first: each leaves the set as it closes.
		l.mu.Lock()
		left := make([]*polledStream, 0, len(l.streams))
		for _, st := range l.streams {
			left = append(left, st)
		}
		l.mu.Unlock()
		for _, st := range left {
			st.stop(errReactorClosed)
		}
		l.set.Stop()
	}
}

func (l *pollLoop) event(fd, _ int32) {
	l.mu.Lock()
	st := l.streams[fd]
	l.mu.Unlock()
	if st != nil {
		st.read(l.buf)
	}
}

// read takes what the socket has (the epoll set is level-triggered, so
// what one read leaves is reported again).
func (st *polledStream) read(buf []byte) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.stopped {
		return
	}
	for {
		n, err := unix.Read(st.fd, buf)
		switch {
		case err == unix.EINTR:
			continue
		case err == unix.EAGAIN:
			return
		case err != nil:
			st.stopLocked(err)
			return
		case n == 0:
			st.stopLocked(io.ErrUnexpectedEOF)
			return
		}
		if err := st.feed(buf[:n]); err != nil {
			st.stopLocked(err)
			return
		}
		if n < len(buf) {
			return
		}
	}
}

// stop ends the stream with err unless it has ended already; no feed runs
// after it returns.
func (st *polledStream) stop(err error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.stopLocked(err)
}

func (st *polledStream) stopLocked(err error) {
	if st.stopped {
		return
	}
	st.stopped = true
	l := st.loop
	l.set.Remove(st.fd)
	l.mu.Lock()
	if l.streams[int32(st.fd)] == st {
		delete(l.streams, int32(st.fd))
	}
	l.mu.Unlock()
	st.file.Close()
	st.end <- err
}
