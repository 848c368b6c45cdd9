//go:build linux

package push

import (
	"errors"
	"sync"

	"golang.org/x/sys/unix"
)

const watcherSupported = true

// watcher notices, through one epoll instance of its own, when a pushed
// connection's client hangs up or sends something, and reports it. Go's
// own poller keeps its registration of the same sockets; this one only
// adds readiness for reading, which nothing else waits for on a push
// connection.
type watcher struct {
	epfd   int
	wakefd int // an eventfd that stops the loop
	report func(*Conn)
	done   chan struct{}

	mu   sync.Mutex
	byFD map[int32]*Conn
}

func newWatcher(report func(*Conn)) (*watcher, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, err
	}
	wakefd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		unix.Close(epfd)
		return nil, err
	}
	ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(wakefd)}
	if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, wakefd, &ev); err != nil {
		unix.Close(epfd)
		unix.Close(wakefd)
		return nil, err
	}
	w := &watcher{epfd: epfd, wakefd: wakefd, report: report, done: make(chan struct{}), byFD: map[int32]*Conn{}}
	go w.loop()
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
		ev := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLRDHUP, Fd: int32(fd), Pad: int32(c.token)}
		if err = unix.EpollCtl(w.epfd, unix.EPOLL_CTL_ADD, int(fd), &ev); err != nil {
			w.forget(c)
		}
	})
	return errors.Join(cerr, err)
}

// remove stops watching c; call it before closing c's socket.
func (w *watcher) remove(c *Conn) {
	c.raw.Control(func(fd uintptr) {
		unix.EpollCtl(w.epfd, unix.EPOLL_CTL_DEL, int(fd), nil)
	})
	w.forget(c)
}

func (w *watcher) forget(c *Conn) {
	w.mu.Lock()
	if w.byFD[int32(c.fd)] == c {
		delete(w.byFD, int32(c.fd))
	}
	w.mu.Unlock()
}

func (w *watcher) loop() {
	defer close(w.done)
	defer unix.Close(w.wakefd)
	defer unix.Close(w.epfd)
	events := make([]unix.EpollEvent, 128)
	for {
		n, err := unix.EpollWait(w.epfd, events, -1)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return
		}
		for _, ev := range events[:n] {
			if ev.Fd == int32(w.wakefd) {
				return
			}
			w.mu.Lock()
			c := w.byFD[ev.Fd]
			w.mu.Unlock()
			if c != nil && c.token == uint32(ev.Pad) {
				w.report(c)
			}
		}
	}
}

// close stops the loop and waits for it.
func (w *watcher) close() {
	var one = [8]byte{1}
	unix.Write(w.wakefd, one[:])
	<-w.done
}

func writevNonBlocking(fd uintptr, bufs [][]byte) (int, error) {
	if len(bufs) == 1 {
		return unix.Write(int(fd), bufs[0])
	}
	return unix.Writev(int(fd), bufs)
}

func readNonBlocking(fd uintptr, buf []byte) (int, error) {
	return unix.Read(int(fd), buf)
}
