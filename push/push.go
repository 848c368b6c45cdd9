// Package push is livedash's one delivery engine: it delivers live bytes to
// many long-lived connections (SSE and WebSocket alike) and owns what every
// stream has in common — waking a connection when it has bytes waiting,
// batching them into one write, heartbeats on quiet connections, the end of
// a connection's lifetime, the goodbye before a cut-off, and the figures.
//
// A transport plugs in as a Stream: the bytes it has waiting (Fill), its
// heartbeat, its goodbye, and what to do with bytes the client sends.
// Connections come in two kinds:
//
//   - Pooled (Add): a plain socket taken over from the HTTP server. When it
//     has something to send it is woken, and one of a few writer goroutines
//     drains its Stream with a single non-blocking write (writev when
//     several frames wait). Only a connection whose socket buffer is full
//     gets a goroutine of its own, until it has caught up. A watcher (epoll,
//     on Linux) reports client input, which a short-lived goroutine reads
//     and hands to the Stream, and hang-ups. An idle pooled connection has
//     no goroutine.
//   - Attached (Serve): a connection the pool cannot take over as a socket
//     (TLS, HTTP/2, or where the platform has no watcher). The caller's
//     goroutine writes for it; everything else is the same.
//
// Supported reports whether this platform pools sockets.
package push

import (
	"context"
	"errors"
	"fmt"
	"io"
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

// readChunk is how much one read of client input takes.
const readChunk = 4096

// Stream is a transport's side of one connection.
type Stream interface {
	// Fill appends the bytes now waiting to bufs and returns the result.
	// It is called by one goroutine at a time. The slices appended must
	// stay unchanged until the next Fill (frames shared between
	// connections are). An error ends the connection with it as reason.
	Fill(bufs net.Buffers) (net.Buffers, error)
	// Heartbeat is what a quiet connection is sent every beat.
	Heartbeat() []byte
	// Goodbye is what is sent last when the connection is ended for
	// reason by End (a WebSocket close frame); nil sends nothing.
	Goodbye(reason error) []byte
	// Receive is given the bytes the client sent, in order, by one
	// goroutine at a time; it may block, and the connection reads nothing
	// more meanwhile. An error ends the connection (End) with it as reason.
	Receive(p []byte) error
	// Closed is called once, when the connection has ended, with the reason.
	Closed(reason error)
}

// Options configure a Pool.
type Options struct {
	// Writers is the number of writer goroutines; default GOMAXPROCS.
	Writers int
	// Heartbeat is how often a quiet connection gets its Stream's
	// Heartbeat; 0 sends none.
	Heartbeat time.Duration
	// WriteTimeout bounds a write to a client whose socket is full; a
	// client that takes no bytes for this long is dropped. Default 15 s.
	WriteTimeout time.Duration
}

// Pool owns pushed connections. It is safe for concurrent use.
type Pool struct {
	opts    Options
	watcher *watcher // nil where sockets cannot be pooled

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

// Supported reports whether pools take sockets over (Add) on this platform.
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
	if watcherSupported {
		w, err := newWatcher(p.readable)
		if err != nil {
			return nil, fmt.Errorf("push: start watcher: %w", err)
		}
		p.watcher = w
	}
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

// Add takes nc over: from now on the pool writes st's bytes to it and
// hands it what the client sends, until it ends; then st.Closed is called
// once with the reason (ErrClientLeft, a write error, ErrExpired,
// ErrPoolClosed or what End or Close was given). pending is client input
// read before the takeover (from the HTTP server's buffer); it is handed
// to st first. A non-zero until ends the connection at that time. Nothing
// is sent until Wake. nc must be a plain socket (syscall.Conn); Add closes
// it on failure, without calling st.Closed.
func (p *Pool) Add(nc net.Conn, st Stream, until time.Time, pending []byte) (*Conn, error) {
	if p.watcher == nil {
		nc.Close()
		return nil, errors.New("push: sockets cannot be pooled on this platform")
	}
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
	c := &Conn{pool: p, nc: nc, raw: raw, st: st, token: p.nextToken.Add(1)}
	c.lastWrite.Store(time.Now().UnixNano())
	if len(pending) > 0 {
		c.pending = append([]byte(nil), pending...)
		c.reading = true // the first read goroutine, started below
	}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		nc.Close()
		return nil, ErrPoolClosed
	}
	// Watch c before publishing it, both under p.mu: Pool.Close (which
	// sets closed under p.mu before it closes anything, the watcher last)
	// can then neither close c while it is being registered nor have
	// stopped the watcher, and an Add that fails never calls Closed.
	if err := p.watcher.add(c); err != nil {
		p.mu.Unlock()
		nc.Close()
		return nil, fmt.Errorf("push: watch: %w", err)
	}
	p.conns[c] = struct{}{}
	p.mu.Unlock()
	c.expireAt(until)
	if c.pending != nil {
		go c.read()
	}
	return c, nil
}

// Writer is where an attached connection's bytes go.
type Writer interface {
	io.Writer
	// Flush sends what Write buffered.
	Flush() error
	// SetWriteDeadline bounds the writes that follow (zero: none).
	SetWriteDeadline(t time.Time) error
}

// Serve runs an attached connection on the calling goroutine: it writes
// st's bytes to w, heartbeats and the goodbye, until the connection ends
// (End, Close, a write error, until, or ctx done), calls st.Closed and
// returns the reason. When in is not nil, a goroutine reads the client's
// input from it and hands it to st; the caller closes in's connection
// after Serve returns, which ends that goroutine. The caller may Wake the
// connection from ready, which is called with it once it is registered.
func (p *Pool) Serve(ctx context.Context, w Writer, st Stream, until time.Time, in io.Reader, ready func(*Conn)) error {
	c := &Conn{pool: p, w: w, st: st, wake: make(chan struct{}, 1), done: make(chan struct{})}
	c.lastWrite.Store(time.Now().UnixNano())
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return ErrPoolClosed
	}
	p.conns[c] = struct{}{}
	p.mu.Unlock()
	c.expireAt(until)
	if in != nil {
		go c.readFrom(in)
	}
	if ready != nil {
		ready(c)
	}
	for {
		select {
		case <-c.wake:
			c.drainAttached()
		case <-c.done:
			return c.reason
		case <-ctx.Done():
			c.Close(ctx.Err())
		}
	}
}

// Close ends every connection, each with its goodbye when it is not in
// the middle of a write, and stops the pool's goroutines.
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
		c.End(ErrPoolClosed)
	}
	for _, c := range conns {
		c.Close(ErrPoolClosed) // those a writer held
	}
	close(p.stop)
	p.run.close()
	if p.watcher != nil {
		p.watcher.close()
	}
	p.wg.Wait()
}

func (p *Pool) forget(c *Conn) {
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
}

// readable is the watcher's report that c's client sent bytes or hung up:
// a goroutine reads them (one at a time per connection).
func (p *Pool) readable(c *Conn) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	if c.reading {
		c.readAgain = true
		c.mu.Unlock()
		return
	}
	c.reading = true
	c.mu.Unlock()
	go c.read()
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

// heartbeats wakes every connection that wrote nothing for half a beat
// with a heartbeat due, once per beat.
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
	pool  *Pool
	st    Stream
	token uint32 // tells the watcher's events for this connection from a reused fd's
	fd    int    // set by the watcher

	// A pooled connection's socket.
	nc  net.Conn
	raw syscall.RawConn
	// An attached connection's writer and signals.
	w    Writer
	wake chan struct{}
	done chan struct{}

	lastWrite atomic.Int64 // unix nanoseconds of the last successful write
	ping      atomic.Bool  // a heartbeat is due

	mu        sync.Mutex
	state     connState
	again     bool  // woken while running: drain once more
	closed    bool  // ended; reason says why
	reason    error // why it ended
	ending    error // End's reason: send the goodbye, then close
	blocked   bool  // a goroutine of its own waits on the full socket
	reading   bool  // a goroutine reads the client's input
	readAgain bool  // input arrived while it read
	pending   []byte
	expiry    *time.Timer
	bufs      net.Buffers // reused between drains (only by the running goroutine)
	scratch   net.Buffers
	// writeNow's call into raw.Write (only by the running goroutine).
	writeFn func(fd uintptr) bool
	chunk   net.Buffers
	written int
	werr    error
}

type connState uint8

const (
	idle    connState = iota
	running           // queued for or held by a writer, or by its own goroutine while blocked
)

func (c *Conn) expireAt(until time.Time) {
	if until.IsZero() {
		return
	}
	c.mu.Lock()
	if !c.closed {
		c.expiry = time.AfterFunc(time.Until(until), func() { c.End(ErrExpired) })
	}
	c.mu.Unlock()
}

// Wake says the stream has bytes waiting. It never blocks, so it may be
// called from a fan-out loop.
func (c *Conn) Wake() {
	if c.wake != nil {
		select {
		case c.wake <- struct{}{}:
		default:
		}
		return
	}
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

// End ends the connection for reason after what is being written and the
// stream's goodbye, dropping what else waits. A connection stuck on a full
// socket is closed at once. It never blocks for long (a goodbye is written
// without waiting), but call it with go from a fan-out loop.
func (c *Conn) End(reason error) {
	c.mu.Lock()
	if c.closed || c.ending != nil {
		c.mu.Unlock()
		return
	}
	c.ending = reason
	switch {
	case c.blocked:
		c.mu.Unlock()
		c.Close(reason)
	case c.wake == nil && c.state == idle:
		// Claim it from the writers and say goodbye here.
		c.state = running
		c.mu.Unlock()
		c.sayGoodbye()
	default:
		c.mu.Unlock()
		c.Wake() // whoever writes sees ending next
	}
}

// sayGoodbye writes the goodbye (without waiting for the socket) and
// closes; the caller holds the connection (state running).
func (c *Conn) sayGoodbye() {
	c.mu.Lock()
	reason := c.ending
	c.mu.Unlock()
	if bye := c.st.Goodbye(reason); len(bye) > 0 {
		if c.wake != nil {
			c.w.SetWriteDeadline(time.Now().Add(time.Second))
			if _, err := c.w.Write(bye); err == nil {
				c.w.Flush()
			}
		} else {
			c.writeNow(net.Buffers{bye})
		}
	}
	c.Close(reason)
}

// Close ends the connection at once with reason (once; later calls do
// nothing) and calls the stream's Closed. It may block briefly: call it
// with go from code that must not.
func (c *Conn) Close(reason error) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	c.reason = reason
	if c.expiry != nil {
		c.expiry.Stop()
	}
	c.mu.Unlock()
	if c.wake != nil {
		// Abort a write stuck on the client; Serve returns.
		c.w.SetWriteDeadline(time.Now())
		close(c.done)
	} else {
		c.pool.watcher.remove(c)
		c.nc.Close()
	}
	c.pool.forget(c)
	c.st.Closed(reason)
}

// drain writes what the stream has until it has nothing more, without
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
				c.mu.Lock()
				c.blocked = true
				c.mu.Unlock()
				go c.finish(rest)
				return
			}
		}
		if c.settle() {
			return
		}
	}
}

// drainAttached is drain for an attached connection, on Serve's goroutine.
func (c *Conn) drainAttached() {
	for {
		bufs, ok := c.fill()
		if !ok || len(bufs) == 0 {
			return
		}
		// While it writes, the connection counts as blocked: End closes it
		// at once rather than wait behind a client that takes nothing.
		c.mu.Lock()
		c.blocked = true
		c.mu.Unlock()
		c.w.SetWriteDeadline(time.Now().Add(c.pool.opts.WriteTimeout))
		var err error
		for _, b := range bufs {
			if _, err = c.w.Write(b); err != nil {
				break
			}
		}
		if err == nil {
			err = c.w.Flush()
		}
		c.mu.Lock()
		c.blocked = false
		c.mu.Unlock()
		c.pool.writes.Add(1)
		c.pool.buffers.Add(uint64(len(bufs)))
		clear(c.bufs[:cap(c.bufs)])
		if err != nil {
			c.Close(err)
			return
		}
		c.lastWrite.Store(time.Now().UnixNano())
	}
}

// fill takes the stream's waiting bytes (and a due heartbeat when there
// are none); false means the connection is closed, failed or said goodbye.
func (c *Conn) fill() (net.Buffers, bool) {
	c.mu.Lock()
	c.again = false
	closed, ending := c.closed, c.ending != nil
	c.mu.Unlock()
	if closed {
		return nil, false
	}
	if ending {
		c.sayGoodbye()
		return nil, false
	}
	bufs, err := c.st.Fill(c.bufs[:0])
	c.bufs = bufs
	if err != nil {
		c.Close(err)
		return nil, false
	}
	if c.ping.Swap(false) && len(bufs) == 0 {
		if hb := c.st.Heartbeat(); len(hb) > 0 {
			bufs = append(bufs, hb)
			c.bufs = bufs
		}
	}
	return bufs, true
}

// settle returns the connection to idle unless it was woken meanwhile.
func (c *Conn) settle() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if (c.again || c.ending != nil) && !c.closed {
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
		if c.writeFn == nil {
			c.writeFn = c.writevFD // made once: no closure per write
		}
		c.chunk = chunk
		err := c.raw.Write(c.writeFn)
		n, werr := c.written, c.werr
		c.chunk = nil
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

// writevFD is writeNow's non-blocking writev of c.chunk, for raw.Write.
func (c *Conn) writevFD(fd uintptr) bool {
	for {
		c.written, c.werr = writevNonBlocking(fd, c.chunk)
		if c.werr != syscall.EINTR {
			return true
		}
	}
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
	c.mu.Lock()
	c.blocked = false
	c.mu.Unlock()
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

// read hands the client's input to the stream until the socket has no
// more, then ends; the watcher starts it again when input arrives.
func (c *Conn) read() {
	if p := c.pending; p != nil {
		c.pending = nil
		if err := c.st.Receive(p); err != nil {
			c.End(err)
			return
		}
	}
	var buf [readChunk]byte
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
		case rerr == syscall.EINTR:
			continue
		case rerr == syscall.EAGAIN:
			c.mu.Lock()
			if c.readAgain && !c.closed {
				c.readAgain = false
				c.mu.Unlock()
				continue
			}
			c.reading = false
			c.mu.Unlock()
			return
		case rerr != nil:
			c.Close(rerr)
			return
		case n == 0:
			c.Close(ErrClientLeft)
			return
		}
		if err := c.st.Receive(buf[:n]); err != nil {
			c.End(err)
			return
		}
	}
}

// readFrom hands an attached connection's input to the stream until in
// fails (the client left, or the caller closed the connection).
func (c *Conn) readFrom(in io.Reader) {
	buf := make([]byte, readChunk)
	for {
		n, err := in.Read(buf)
		if n > 0 {
			if rerr := c.st.Receive(buf[:n]); rerr != nil {
				c.End(rerr)
				return
			}
		}
		if err != nil {
			c.Close(ErrClientLeft)
			return
		}
	}
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
