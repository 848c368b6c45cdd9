//go:build linux

package epoll

import (
	"golang.org/x/sys/unix"
)

// Set is an epoll instance plus an eventfd that stops its loop.
type Set struct {
	epfd, wakefd int
	done         chan struct{}
}

// New returns an empty set; call Run to wait on it.
func New() (*Set, error) {
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
	return &Set{epfd: epfd, wakefd: wakefd, done: make(chan struct{})}, nil
}

// Add watches fd for events (level-triggered); the events reported for it
// carry fd and tag.
func (s *Set) Add(fd int, events uint32, tag int32) error {
	return unix.EpollCtl(s.epfd, unix.EPOLL_CTL_ADD, fd, &unix.EpollEvent{Events: events, Fd: int32(fd), Pad: tag})
}

// Remove stops watching fd (closing fd does too).
func (s *Set) Remove(fd int) {
	unix.EpollCtl(s.epfd, unix.EPOLL_CTL_DEL, fd, nil)
}

// Run calls fn with each event until Stop, then closes the set. Call it
// from one goroutine.
func (s *Set) Run(fn func(fd int32, tag int32)) {
	defer close(s.done)
	defer unix.Close(s.wakefd)
	defer unix.Close(s.epfd)
	events := make([]unix.EpollEvent, 256)
	for {
		n, err := unix.EpollWait(s.epfd, events, -1)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return
		}
		for _, ev := range events[:n] {
			if ev.Fd == int32(s.wakefd) {
				return
			}
			fn(ev.Fd, ev.Pad)
		}
	}
}

// Stop ends Run and waits for it to return.
func (s *Set) Stop() {
	var one = [8]byte{1}
	unix.Write(s.wakefd, one[:])
	<-s.done
}
