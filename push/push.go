// Package push delivers live bytes to many long-lived connections without a
// goroutine per connection. A Pool owns connections taken over from the
// HTTP server (hijacked); when one of them has something to send it is
// woken, and one of a few writer goroutines drains its Source and writes
// the result with a single non-blocking write (writev when several frames
// wait). Only a connection whose socket buffer is full gets a goroutine of
// its own, until it has caught up. The Pool sends heartbeats on quiet
// connections, and a watcher (epoll, on Linux) notices clients that hang
// up, so an idle connection costs a few hundred bytes and no goroutine.
//
// Supported reports whether this platform has the watcher; elsewhere the
// caller keeps a goroutine per connection.
package push

import (
	"errors"
	"fmt"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// ErrClientLeft is the reason of a connection whose client hung up.
var ErrClientLeft = errors.New("client left")

// ErrPoolClosed is the reason of connections ended by Pool.Close.
var ErrPoolClosed = errors.New("connection pool closed")

// ErrExpired is the reason of a connection ended by its deadline (Add's until).
var ErrExpired = errors.New("connection lifetime over")

// writerBatch is how many woken connections a writer takes at once; it
// yields its P between batches. 16 rather than 64 took ~1 ms off the p99
// of 1,000 subscribers x 100 msg/s in three pairs of runs (docs/benchmarks.md).
const writerBatch = 16

// maxIovecs caps the buffers given to one writev (Linux's IOV_MAX is 1024).
const maxIovecs = 512

// Source produces what a connection sends. Fill is called by one goroutine
// at a time (never concurrently for one connection); it appends the bytes
// now waiting to bufs and returns the result. The slices appended must stay
// unchanged until the next Fill (frames shared between connections are).
type Source interface {
	Fill(bufs net.Buffers) (net.Buffers, error)
}

// Options configure a Pool.
type Options struct {
	// Writers is the number of writer goroutines; default GOMAXPROCS.
	Writers int
	// Heartbeat is how often a quiet connection gets Ping; 0 sends none.
	Heartbeat time.Duration
	// Ping is what a heartbeat writes (an SSE comment, say).
	Ping []byte
	// WriteTimeout bounds a write to a client whose socket is full; a
	// client that takes no bytes for this long is dropped. Default 15 s.
	WriteTimeout time.Duration
}

// Pool owns pushed connections. It is safe for concurrent use.
type Pool struct {
	opts    Options
	watcher *watcher

	mu     sync.Mutex // guards conns, closed
	conns  map[*Conn]struct{}
	closed bool

	run       runQueue
	stop      chan struct{}
	wg        sync.WaitGroup
	nextToken atomic.Uint32

	blocked atomic.Int64  // connections waiting on a full socket
	writes  atomic.Uint64 // write system calls
	buffers atomic.Uint64 // buffers (frames, pings) those calls carried
}

// Stats are a pool's figures for monitoring.
type Stats struct {
	Conns   int    // open connections
	Blocked int    // connections whose socket is full (a slow or stalled client)
	Writes  uint64 // writes so far (one that waited on a full socket counts once)
	Buffers uint64 // frames and pings written so far: Buffers/Writes is the batching
}

// Stats returns the pool's current figures.
func (p *Pool) Stats() Stats {
	return Stats{Conns: p.Len(), Blocked: int(p.blocked.Load()), Writes: p.writes.Load(), Buffers: p.buffers.Load()}
}

// Supported reports whether pools work on this platform.
func Supported() bool { return watcherSupported }

// NewPool starts a pool's writers, heartbeat and watcher.
func NewPool(opts Options) (*Pool, error) {
	if opts.Writers <= 0 {
		opts.Writers = runtime.GOMAXPROCS(0)
	}
	if opts.WriteTimeout <= 0 {
		opts.WriteTimeout = 15 * time.Second
	}
	p := &Pool{opts: opts, conns: map[*Conn]struct{}{}, stop: make(chan struct{})}
	p.run.cond = sync.NewCond(&p.run.mu)
	w, err := newWatcher(p.hungUp)
	if err != nil {
		return nil, fmt.Errorf("push: start watcher: %w", err)
	}
	p.watcher = w
	for range opts.Writers {
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			p.writer()
		}()
	}
	if opts.Heartbeat > 0 {
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			p.heartbeats()
		}()
	}
	return p, nil
}

// Len returns how many connections are open.
func (p *Pool) Len() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.conns)
}

// Add takes nc over: from now on the pool writes src's bytes to it until
// it ends, then calls onClose once with the reason (ErrClientLeft, a write
// error, ErrExpired, ErrPoolClosed or what Close was given). A non-zero
// until ends the connection at that time. Nothing is sent until Wake.
// nc must be a plain socket (syscall.Conn); Add closes it on failure.
func (p *Pool) Add(nc net.Conn, src Source, until time.Time, onClose func(error)) (*Conn, error) {
	sc, ok := nc.(syscall.Conn)
	if !ok {
		nc.Close()
		return nil, fmt.Errorf("push: %T is not a socket", nc)
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("push: %w", err)
	}
	c := &Conn{pool: p, nc: nc, raw: raw, src: src, onClose: onClose, token: p.nextToken.Add(1)}
	c.lastWrite.Store(time.Now().UnixNano())
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		nc.Close()
		return nil, ErrPoolClosed
	}
	// Watch c before publishing it, both under p.mu: Pool.Close (which
	// sets closed under p.mu before it closes anything, the watcher last)
	// can then neither close c while it is being registered nor have
	// stopped the watcher, and an Add that fails never calls onClose.
	if err := p.watcher.add(c); err != nil {
		p.mu.Unlock()
		nc.Close()
		return nil, fmt.Errorf("push: watch: %w", err)
	}
	p.conns[c] = struct{}{}
	p.mu.Unlock()
	if !until.IsZero() {
		c.mu.Lock()
		if !c.closed {
			c.expiry = time.AfterFunc(time.Until(until), func() { c.Close(ErrExpired) })
		}
		c.mu.Unlock()
	}
	return c, nil
}

// Close ends every connection (their clients see the end of the stream
// and reconnect) and stops the pool's goroutines.
func (p *Pool) Close() {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closed = true
	conns := make([]*Conn, 0, len(p.conns))
	for c := range p.conns {
		conns = append(conns, c)
	}
	p.mu.Unlock()
	for _, c := range conns {
		c.Close(ErrPoolClosed)
	}
	close(p.stop)
	p.run.close()
	p.watcher.close()
	p.wg.Wait()
}

func (p *Pool) forget(c *Conn) {
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
}

// maxIgnored is how many bytes a client may send on a push connection
// (which reads nothing) before it is dropped as abusive.
const maxIgnored = 64 << 10

// ErrClientSends is the reason of a connection whose client sent more than
// a push connection ignores.
var ErrClientSends = errors.New("client sent too much on a one-way stream")

// hungUp is the watcher's report that c's client may have left: a
// non-blocking read tells whether it did (EOF or error) or only sent bytes,
// which a push connection ignores, up to maxIgnored in all.
func (p *Pool) hungUp(c *Conn) {
	var buf [4096]byte
	for {
		var n int
		var rerr error
		err := c.raw.Read(func(fd uintptr) bool {
			n, rerr = readNonBlocking(fd, buf[:])
			return true
		})
		switch {
		case err != nil:
			c.Close(err)
			return
		case rerr == syscall.EAGAIN || rerr == syscall.EINTR:
			return
		case rerr != nil:
			c.Close(rerr)
			return
		case n == 0:
			c.Close(ErrClientLeft)
			return
		}
		if c.ignored += n; c.ignored > maxIgnored {
			c.Close(ErrClientSends)
			return
		}
	}
}

func (p *Pool) writer() {
	var batch []*Conn
	for {
		batch = p.run.take(batch[:0], writerBatch)
		if batch == nil {
			return
		}
		for i, c := range batch {
			c.drain()
			batch[i] = nil
		}
		// Writers never block while connections wait, so without this
		// they would hold every P until preempted (10 ms): the store's
		// writer and the next publish would wait behind a whole fan-out.
		runtime.Gosched()
	}
}

// heartbeats pings every connection that wrote nothing for half a beat,
// once per beat.
func (p *Pool) heartbeats() {
	t := time.NewTicker(p.opts.Heartbeat)
	defer t.Stop()
	var due []*Conn
	for {
		select {
		case <-p.stop:
			return
		case now := <-t.C:
			quiet := now.Add(-p.opts.Heartbeat / 2).UnixNano()
			due = due[:0]
			p.mu.Lock()
			for c := range p.conns {
				if c.lastWrite.Load() <= quiet {
					due = append(due, c)
				}
			}
			p.mu.Unlock()
			for i, c := range due {
				c.ping.Store(true)
				c.Wake()
				due[i] = nil
			}
		}
	}
}

// runQueue is the writers' queue of woken connections: items[head:] wait.
type runQueue struct {
	mu     sync.Mutex
	cond   *sync.Cond
	items  []*Conn
	head   int
	closed bool
}

func (q *runQueue) push(c *Conn) {
	q.mu.Lock()
	q.items = append(q.items, c)
	q.mu.Unlock()
	q.cond.Signal()
}

// take moves up to n queued connections to buf, waiting for one; nil
// means the queue is closed.
func (q *runQueue) take(buf []*Conn, n int) []*Conn {
	q.mu.Lock()
	defer q.mu.Unlock()
	for len(q.items) == q.head && !q.closed {
		q.cond.Wait()
	}
	if q.closed {
		return nil
	}
	// Taking from the head costs nothing per waiting connection; the
	// slice is reset when empty and compacted only when mostly taken.
	end := min(q.head+n, len(q.items))
	buf = append(buf, q.items[q.head:end]...)
	clear(q.items[q.head:end])
	q.head = end
	if q.head == len(q.items) {
		q.items, q.head = q.items[:0], 0
	} else if q.head > len(q.items)/2 {
		rest := copy(q.items, q.items[q.head:])
		clear(q.items[rest:])
		q.items, q.head = q.items[:rest], 0
	}
	return buf
}

func (q *runQueue) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	q.cond.Broadcast()
}

// Conn is one pushed connection.
type Conn struct {
	pool    *Pool
	nc      net.Conn
	raw     syscall.RawConn
	src     Source
	onClose func(error)
	token   uint32 // tells the watcher's events for this connection from a reused fd's
	fd      int    // set by the watcher
	ignored int    // bytes the client sent; used by the watcher only

	lastWrite atomic.Int64 // unix nanoseconds of the last successful write
	ping      atomic.Bool  // a heartbeat is due

	mu      sync.Mutex
	state   connState
	again   bool // woken while running: drain once more
	closed  bool
	expiry  *time.Timer
	bufs    net.Buffers // reused between drains (only by the running goroutine)
	scratch net.Buffers
}

type connState uint8

const (
	idle    connState = iota
	running           // queued for or held by a writer, or by its own goroutine while blocked
)

// Wake says the source has bytes waiting. It never blocks, so it may be
// called from a fan-out loop.
func (c *Conn) Wake() {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	if c.state == running {
		c.again = true
		c.mu.Unlock()
		return
	}
	c.state = running
	c.mu.Unlock()
	c.pool.run.push(c)
}

// Close ends the connection with reason err (once; later calls do
// nothing) and calls its onClose. It may block briefly: call it with go
// from code that must not.
func (c *Conn) Close(err error) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	if c.expiry != nil {
		c.expiry.Stop()
	}
	c.mu.Unlock()
	c.pool.watcher.remove(c)
	c.nc.Close()
	c.pool.forget(c)
	if c.onClose != nil {
		c.onClose(err)
	}
}

// drain writes what the source has until it has nothing more, without
// blocking; when the socket is full, a goroutine of the connection's own
// finishes the write and goes on draining.
func (c *Conn) drain() {
	for {
		bufs, ok := c.fill()
		if !ok {
			return
		}
		if len(bufs) > 0 {
			rest, err := c.writeNow(bufs)
			if err != nil {
				c.Close(err)
				return
			}
			if len(rest) > 0 {
				go c.finish(rest)
				return
			}
		}
		if c.settle() {
			return
		}
	}
}

// fill takes the source's waiting bytes (and a due ping when there are
// none); false means the connection is closed or failed.
func (c *Conn) fill() (net.Buffers, bool) {
	c.mu.Lock()
	c.again = false
	closed := c.closed
	c.mu.Unlock()
	if closed {
		return nil, false
	}
	bufs, err := c.src.Fill(c.bufs[:0])
	c.bufs = bufs
	if err != nil {
		c.Close(err)
		return nil, false
	}
	if c.ping.Swap(false) && len(bufs) == 0 && len(c.pool.opts.Ping) > 0 {
		bufs = append(bufs, c.pool.opts.Ping)
		c.bufs = bufs
	}
	return bufs, true
}

// settle returns the connection to idle unless it was woken meanwhile.
func (c *Conn) settle() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.again && !c.closed {
		return false
	}
	c.state = idle
	clear(c.bufs[:cap(c.bufs)])
	return true
}

// writeNow writes bufs without waiting and returns what the socket did not
// take.
func (c *Conn) writeNow(bufs net.Buffers) (net.Buffers, error) {
	for len(bufs) > 0 {
		chunk := bufs[:min(len(bufs), maxIovecs)]
		want := totalLen(chunk)
		var n int
		var werr error
		err := c.raw.Write(func(fd uintptr) bool {
			for {
				n, werr = writevNonBlocking(fd, chunk)
				if werr != syscall.EINTR {
					return true
				}
			}
		})
		if err != nil {
			return nil, err
		}
		if werr == syscall.EAGAIN {
			return bufs, nil
		}
		if werr != nil {
			return nil, werr
		}
		c.lastWrite.Store(time.Now().UnixNano())
		c.pool.writes.Add(1)
		c.pool.buffers.Add(uint64(len(chunk)))
		bufs = consume(bufs, n)
		if n < want {
			return bufs, nil // the socket is full
		}
	}
	return nil, nil
}

// finish writes rest, waiting for the socket (up to the write timeout),
// then drains on in this goroutine until the connection is idle.
func (c *Conn) finish(rest net.Buffers) {
	// Copy the remaining slice headers: c.bufs is reused by the next fill.
	c.scratch = append(c.scratch[:0], rest...)
	c.pool.blocked.Add(1)
	c.pool.writes.Add(1)
	c.pool.buffers.Add(uint64(len(rest)))
	c.nc.SetWriteDeadline(time.Now().Add(c.pool.opts.WriteTimeout))
	_, err := c.scratch.WriteTo(c.nc)
	c.pool.blocked.Add(-1)
	clear(c.scratch[:cap(c.scratch)])
	c.scratch = c.scratch[:0]
	if err == nil {
		// Non-blocking writes check the deadline too: clear it.
		err = c.nc.SetWriteDeadline(time.Time{})
	}
	if err != nil {
		c.Close(err)
		return
	}
	c.lastWrite.Store(time.Now().UnixNano())
	if c.settle() {
		return
	}
	c.drain()
}

// consume drops the first n bytes of bufs.
func consume(bufs net.Buffers, n int) net.Buffers {
	for n > 0 && len(bufs) > 0 {
		if n < len(bufs[0]) {
			bufs[0] = bufs[0][n:]
			return bufs
		}
		n -= len(bufs[0])
		bufs = bufs[1:]
	}
	return bufs
}

func totalLen(bufs net.Buffers) int {
	n := 0
	for _, b := range bufs {
		n += len(b)
	}
	return n
}
