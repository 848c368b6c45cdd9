package push_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/livedash/livedash/push"
)

// failAfter bounds every wait: a test that needs longer has failed. It is
// never a measure of speed.
const failAfter = 5 * time.Second

var ping = []byte(": ping\n\n")

// linuxOnly skips a test where pools do not run.
func linuxOnly(t testing.TB) {
	t.Helper()
	if !push.Supported() {
		t.Skip("push pools need the Linux watcher")
	}
}

// newPool starts a pool that is closed when the test ends.
func newPool(t testing.TB, opts push.Options) *push.Pool {
	t.Helper()
	p, err := push.NewPool(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

// pair returns both ends of a fresh loopback TCP connection: the accepted
// one, for the pool, and the dialled one, the client. Both are closed
// when the test ends.
func pair(t testing.TB) (server, client *net.TCPConn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	type accepted struct {
		c   net.Conn
		err error
	}
	ch := make(chan accepted, 1)
	go func() {
		c, err := ln.Accept()
		ch <- accepted{c, err}
	}()
	cc, err := net.DialTimeout("tcp", ln.Addr().String(), failAfter)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cc.Close() })
	a := <-ch
	if a.err != nil {
		t.Fatal(a.err)
	}
	t.Cleanup(func() { a.c.Close() })
	return a.c.(*net.TCPConn), cc.(*net.TCPConn)
}

// queue is a test Stream: a mutex-guarded queue of frames, an error to
// fail Fill with, a goodbye, the client's input, and the record of Closed.
type queue struct {
	mu       sync.Mutex
	frames   [][]byte
	err      error
	given    int    // bytes handed to the pool
	bye      []byte // Goodbye
	received []byte // what Receive was given
	maxIn    int    // Receive fails past this many bytes (0: never)
	rec      *closes
}

// errTooMuch is a test stream's Receive error.
var errTooMuch = errors.New("client sent too much")

// on makes r the record of q's Closed calls.
func (q *queue) on(r *closes) *queue {
	q.rec = r
	return q
}

func (q *queue) Heartbeat() []byte    { return ping }
func (q *queue) Goodbye(error) []byte { return q.bye }
func (q *queue) Closed(reason error)  { q.rec.onClose(reason) }
func (q *queue) receivedLen() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.received)
}

func (q *queue) Receive(p []byte) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.received = append(q.received, p...)
	if q.maxIn > 0 && len(q.received) > q.maxIn {
		return errTooMuch
	}
	return nil
}

func (q *queue) push(frames ...[]byte) {
	q.mu.Lock()
	q.frames = append(q.frames, frames...)
	q.mu.Unlock()
}

func (q *queue) fail(err error) {
	q.mu.Lock()
	q.err = err
	q.mu.Unlock()
}

func (q *queue) Fill(bufs net.Buffers) (net.Buffers, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.err != nil {
		return bufs, q.err
	}
	for _, f := range q.frames {
		q.given += len(f)
	}
	bufs = append(bufs, q.frames...)
	clear(q.frames)
	q.frames = q.frames[:0]
	return bufs, nil
}

// closes records a connection's onClose calls.
type closes struct {
	n  atomic.Int32
	ch chan error
}

func newCloses() *closes { return &closes{ch: make(chan error, 16)} }

func (r *closes) onClose(err error) {
	r.n.Add(1)
	select {
	case r.ch <- err:
	default:
	}
}

// wait returns the reason of the first onClose call.
func (r *closes) wait(t testing.TB) error {
	t.Helper()
	select {
	case err := <-r.ch:
		return err
	case <-time.After(failAfter):
		t.Fatalf("onClose not called within %v", failAfter)
		return nil
	}
}

// add puts a new connection's server end into p with src; it returns the
// pool's Conn, the client end and the record of onClose calls.
func add(t testing.TB, p *push.Pool, q *queue, until time.Time) (*push.Conn, *net.TCPConn, *closes) {
	t.Helper()
	server, client := pair(t)
	r := newCloses()
	c, err := p.Add(server, q.on(r), until, nil)
	if err != nil {
		t.Fatal(err)
	}
	return c, client, r
}

// readN reads exactly n bytes from the client.
func readN(t testing.TB, c net.Conn, n int) []byte {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(failAfter))
	buf := make([]byte, n)
	if got, err := io.ReadFull(c, buf); err != nil {
		t.Fatalf("read %d of %d bytes: %v", got, n, err)
	}
	return buf
}

// readEOF reads the client until the server's end of stream (a clean
// close, not a reset) and returns what came before it.
func readEOF(t testing.TB, c net.Conn) []byte {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(failAfter))
	b, err := io.ReadAll(c)
	if err != nil {
		t.Fatalf("want the end of the stream, got %v after %d bytes", err, len(b))
	}
	return b
}

func numbered(i int) []byte { return fmt.Appendf(nil, "frame %05d\n", i) }

// TestWakeRoundsInOrder: frames pushed one Wake at a time, 2,000 of them,
// reach the client complete and in order, while it reads concurrently.
func TestWakeRoundsInOrder(t *testing.T) {
	linuxOnly(t)
	p := newPool(t, push.Options{})
	q := &queue{}
	c, client, r := add(t, p, q, time.Time{})

	const frames = 2000
	var want []byte
	for i := range frames {
		want = append(want, numbered(i)...)
	}
	got := make(chan []byte, 1)
	go func() {
		client.SetReadDeadline(time.Now().Add(failAfter))
		buf := make([]byte, len(want))
		n, _ := io.ReadFull(client, buf)
		got <- buf[:n]
	}()
	for i := range frames {
		q.push(numbered(i))
		c.Wake()
	}
	if b := <-got; !bytes.Equal(b, want) {
		t.Fatalf("client got %d bytes, want %d; first difference at %d", len(b), len(want), firstDiff(b, want))
	}
	if n := r.n.Load(); n != 0 {
		t.Fatalf("onClose called %d times on a live connection", n)
	}
	if n := p.Len(); n != 1 {
		t.Fatalf("Len %d, want 1", n)
	}
}

// TestFramesQueuedBeforeOneWake: many frames of varied sizes queued before
// a single Wake go out as one vectored write, across the iovec cap (more
// than 1,024 buffers), and arrive complete and in order; a second batch
// after it does too.
func TestFramesQueuedBeforeOneWake(t *testing.T) {
	linuxOnly(t)
	p := newPool(t, push.Options{})
	q := &queue{}
	c, client, r := add(t, p, q, time.Time{})

	for round := range 2 {
		var want []byte
		for i := range 1500 {
			f := bytes.Repeat([]byte{byte('a' + (i+round)%26)}, 1+i%37)
			f = append(f, numbered(i)...)
			want = append(want, f...)
			q.push(f)
		}
		c.Wake()
		if b := readN(t, client, len(want)); !bytes.Equal(b, want) {
			t.Fatalf("round %d: first difference at byte %d", round, firstDiff(b, want))
		}
	}
	if n := r.n.Load(); n != 0 {
		t.Fatalf("onClose called %d times on a live connection", n)
	}
}

// TestFullSocketThenRead: a client that reads nothing while 8 MiB is
// pushed (far more than the small socket buffers hold, so the pool has to
// finish the write blocking) and then reads, gets every byte in order, and
// the connection stays open meanwhile.
func TestFullSocketThenRead(t *testing.T) {
	linuxOnly(t)
	p := newPool(t, push.Options{WriteTimeout: 30 * time.Second})
	server, client := pair(t)
	// Small buffers make sure the socket fills long before 8 MiB.
	if err := server.SetWriteBuffer(32 << 10); err != nil {
		t.Fatal(err)
	}
	if err := client.SetReadBuffer(32 << 10); err != nil {
		t.Fatal(err)
	}
	q := &queue{}
	r := newCloses()
	c, err := p.Add(server, q.on(r), time.Time{}, nil)
	if err != nil {
		t.Fatal(err)
	}

	const frameSize, frames = 64 << 10, 128 // 8 MiB
	want := make([]byte, 0, frameSize*frames)
	for i := range frames {
		f := make([]byte, frameSize)
		for j := range f {
			f[j] = byte(i*131 + j*7 + j>>8)
		}
		want = append(want, f...)
		q.push(f)
		c.Wake()
	}
	// The pool runs into the full socket while the client reads nothing,
	// and says so in its stats.
	waitUntil(t, func() bool { return p.Stats().Blocked == 1 }, "the connection to be reported blocked on its full socket")
	if n := r.n.Load(); n != 0 {
		t.Fatalf("onClose called while the client was not reading: %v", <-r.ch)
	}
	q.mu.Lock()
	given := q.given
	q.mu.Unlock()
	t.Logf("pool took %d of %d bytes from the source before the client read", given, len(want))

	client.SetReadDeadline(time.Now().Add(4 * failAfter))
	got := make([]byte, len(want))
	if n, err := io.ReadFull(client, got); err != nil {
		t.Fatalf("read %d of %d bytes: %v", n, len(want), err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("first difference at byte %d", firstDiff(got, want))
	}
	// The connection still works.
	q.push([]byte("after\n"))
	c.Wake()
	if b := readN(t, client, 6); string(b) != "after\n" {
		t.Fatalf("got %q after the big push", b)
	}
	if n := r.n.Load(); n != 0 {
		t.Fatalf("onClose called %d times on a live connection", n)
	}
	st := p.Stats()
	if st.Blocked != 0 || st.Conns != 1 || st.Writes == 0 || st.Buffers < frames+1 {
		t.Fatalf("stats after catching up %+v: want 0 blocked, 1 conn, at least %d buffers written", st, frames+1)
	}
}

// TestClientLeft: a client that closes its end is noticed with no write:
// onClose is called once with ErrClientLeft and the pool forgets it.
func TestClientLeft(t *testing.T) {
	linuxOnly(t)
	p := newPool(t, push.Options{})
	q := &queue{}
	c, client, r := add(t, p, q, time.Time{})
	if n := p.Len(); n != 1 {
		t.Fatalf("Len %d, want 1", n)
	}
	client.Close()
	if err := r.wait(t); !errors.Is(err, push.ErrClientLeft) {
		t.Fatalf("onClose(%v), want ErrClientLeft", err)
	}
	if n := p.Len(); n != 0 {
		t.Fatalf("Len %d after the client left, want 0", n)
	}
	// Later calls change nothing.
	q.push([]byte("late\n"))
	c.Wake()
	c.Close(errors.New("again"))
	p.Close() // waits for the writers and the watcher
	if n := r.n.Load(); n != 1 {
		t.Fatalf("onClose called %d times, want once", n)
	}
}

// TestClientSendsBytes: bytes from the client reach the stream's Receive,
// in order, and do not end the connection: a later push still arrives.
// Input the server read before the takeover (Add's pending) comes first.
func TestClientSendsBytes(t *testing.T) {
	linuxOnly(t)
	p := newPool(t, push.Options{})
	q := &queue{}
	server, client := pair(t)
	r := newCloses()
	c, err := p.Add(server, q.on(r), time.Time{}, []byte("early "))
	if err != nil {
		t.Fatal(err)
	}
	want := "early "
	for i := range 3 {
		client.SetWriteDeadline(time.Now().Add(failAfter))
		msg := fmt.Sprintf("hello %d ", i)
		if _, err := client.Write([]byte(msg)); err != nil {
			t.Fatal(err)
		}
		want += msg
		waitUntil(t, func() bool { return q.receivedLen() == len(want) }, "the input to be received")
		push := fmt.Sprintf("push %d\n", i)
		q.push([]byte(push))
		c.Wake()
		if b := readN(t, client, len(push)); string(b) != push {
			t.Fatalf("got %q, want %q", b, push)
		}
	}
	q.mu.Lock()
	got := string(q.received)
	q.mu.Unlock()
	if got != want {
		t.Fatalf("received %q, want %q", got, want)
	}
	if n := r.n.Load(); n != 0 {
		t.Fatalf("Closed(%v) on a client that only sent bytes", <-r.ch)
	}
	if n := p.Len(); n != 1 {
		t.Fatalf("Len %d, want 1", n)
	}
}

// TestReceiveErrorEnds: when Receive fails (a client sending more than a
// one-way stream ignores, say), the connection ends with that reason, and
// the stream's goodbye is the last thing the client reads.
func TestReceiveErrorEnds(t *testing.T) {
	linuxOnly(t)
	p := newPool(t, push.Options{})
	q := &queue{maxIn: 64 << 10, bye: []byte("bye\n")}
	_, client, r := add(t, p, q, time.Time{})
	junk := bytes.Repeat([]byte("j"), 8<<10)
	go func() {
		// Writes fail once the pool drops the connection; that ends this.
		for range 64 {
			client.SetWriteDeadline(time.Now().Add(failAfter))
			if _, err := client.Write(junk); err != nil {
				return
			}
		}
	}()
	if err := r.wait(t); !errors.Is(err, errTooMuch) {
		t.Fatalf("Closed(%v), want the Receive error", err)
	}
	// The client's unread input makes the close a reset, after the goodbye.
	client.SetReadDeadline(time.Now().Add(failAfter))
	if b, _ := io.ReadAll(client); string(b) != "bye\n" {
		t.Fatalf("client read %q before the end, want the goodbye", b)
	}
	if n := p.Len(); n != 0 {
		t.Fatalf("Len %d, want 0", n)
	}
}

// waitUntil polls cond until it holds; failAfter is a failure.
func waitUntil(t testing.TB, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(failAfter)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestHeartbeat: a quiet connection gets Ping; a busy connection gets
// every frame whole and in order, with any pings only between frames.
func TestHeartbeat(t *testing.T) {
	linuxOnly(t)
	p := newPool(t, push.Options{Heartbeat: 50 * time.Millisecond})

	_, quiet, qr := add(t, p, &queue{}, time.Time{})
	for range 2 {
		if b := readN(t, quiet, len(ping)); !bytes.Equal(b, ping) {
			t.Fatalf("quiet connection got %q, want %q", b, ping)
		}
	}

	bq := &queue{}
	busy, client, br := add(t, p, bq, time.Time{})
	const frames = 60 // one every 5 ms for 300 ms
	done := make(chan error, 1)
	pings := 0
	go func() {
		client.SetReadDeadline(time.Now().Add(failAfter))
		rd := bufio.NewReader(client)
		next := 0
		for next < frames {
			line, err := rd.ReadString('\n')
			if err != nil {
				done <- err
				return
			}
			blank, err := rd.ReadString('\n')
			if err != nil {
				done <- err
				return
			}
			if blank != "\n" {
				done <- fmt.Errorf("unit %q%q is not followed by a blank line", line, blank)
				return
			}
			switch {
			case line+blank == string(ping):
				pings++
			case line == "data: "+strconv.Itoa(next)+"\n":
				next++
			default:
				done <- fmt.Errorf("got %q, want frame %d or a ping", line, next)
				return
			}
		}
		done <- nil
	}()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for i := range frames {
		<-tick.C
		bq.push(fmt.Appendf(nil, "data: %d\n\n", i))
		busy.Wake()
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	t.Logf("busy connection got %d pings with %d frames", pings, frames)
	if n, m := qr.n.Load(), br.n.Load(); n != 0 || m != 0 {
		t.Fatalf("onClose called on live connections (%d, %d)", n, m)
	}
}

// TestExpiry: a connection's until ends it with ErrExpired, and its client
// sees the end of the stream.
func TestExpiry(t *testing.T) {
	linuxOnly(t)
	p := newPool(t, push.Options{})
	_, client, r := add(t, p, &queue{}, time.Now().Add(100*time.Millisecond))
	if err := r.wait(t); !errors.Is(err, push.ErrExpired) {
		t.Fatalf("onClose(%v), want ErrExpired", err)
	}
	if b := readEOF(t, client); len(b) != 0 {
		t.Fatalf("client got %q before EOF", b)
	}
	if n := p.Len(); n != 0 {
		t.Fatalf("Len %d, want 0", n)
	}
}

// TestPoolClose: Close ends every connection with ErrPoolClosed and a
// clean end of stream; Add after it fails and closes the connection.
func TestPoolClose(t *testing.T) {
	linuxOnly(t)
	p := newPool(t, push.Options{Heartbeat: time.Hour})
	type conn struct {
		c      *push.Conn
		client *net.TCPConn
		r      *closes
	}
	var conns []conn
	for i := range 3 {
		q := &queue{}
		c, client, r := add(t, p, q, time.Now().Add(time.Hour))
		q.push([]byte("hi " + strconv.Itoa(i) + "\n"))
		c.Wake()
		conns = append(conns, conn{c, client, r})
	}
	for i, cn := range conns {
		want := "hi " + strconv.Itoa(i) + "\n"
		if b := readN(t, cn.client, len(want)); string(b) != want {
			t.Fatalf("got %q, want %q", b, want)
		}
	}
	p.Close()
	for i, cn := range conns {
		if err := cn.r.wait(t); !errors.Is(err, push.ErrPoolClosed) {
			t.Fatalf("conn %d: onClose(%v), want ErrPoolClosed", i, err)
		}
		if b := readEOF(t, cn.client); len(b) != 0 {
			t.Fatalf("conn %d: unexpected %q", i, b)
		}
		cn.c.Wake() // harmless now
		if n := cn.r.n.Load(); n != 1 {
			t.Fatalf("conn %d: onClose called %d times", i, n)
		}
	}
	if n := p.Len(); n != 0 {
		t.Fatalf("Len %d after Close, want 0", n)
	}
	p.Close() // twice is fine

	server, client := pair(t)
	r := newCloses()
	if _, err := p.Add(server, (&queue{}).on(r), time.Time{}, nil); !errors.Is(err, push.ErrPoolClosed) {
		t.Fatalf("Add after Close: %v, want ErrPoolClosed", err)
	}
	if b := readEOF(t, client); len(b) != 0 {
		t.Fatalf("unexpected %q", b)
	}
	if n := r.n.Load(); n != 0 {
		t.Fatalf("onClose called %d times for a connection Add refused", n)
	}
}

// TestAddNotASocket: Add refuses a connection that is not a socket and
// closes it.
func TestAddNotASocket(t *testing.T) {
	linuxOnly(t)
	p := newPool(t, push.Options{})
	a, b := net.Pipe()
	t.Cleanup(func() { a.Close(); b.Close() })
	r := newCloses()
	if _, err := p.Add(a, (&queue{}).on(r), time.Time{}, nil); err == nil {
		t.Fatal("Add accepted a net.Pipe")
	}
	b.SetWriteDeadline(time.Now().Add(failAfter))
	if _, err := b.Write([]byte("x")); !errors.Is(err, io.ErrClosedPipe) {
		t.Fatalf("writing to the other end: %v, want io.ErrClosedPipe (Add must close the conn)", err)
	}
	if n := r.n.Load(); n != 0 {
		t.Fatalf("onClose called %d times for a connection Add refused", n)
	}
	if n := p.Len(); n != 0 {
		t.Fatalf("Len %d, want 0", n)
	}
}

// TestFillError: a Source that fails ends the connection with its error.
func TestFillError(t *testing.T) {
	linuxOnly(t)
	p := newPool(t, push.Options{})
	q := &queue{}
	c, client, r := add(t, p, q, time.Time{})
	q.push([]byte("ok\n"))
	c.Wake()
	if b := readN(t, client, 3); string(b) != "ok\n" {
		t.Fatalf("got %q", b)
	}
	boom := errors.New("boom")
	q.fail(fmt.Errorf("source: %w", boom))
	c.Wake()
	if err := r.wait(t); !errors.Is(err, boom) {
		t.Fatalf("onClose(%v), want the Fill error", err)
	}
	if b := readEOF(t, client); len(b) != 0 {
		t.Fatalf("unexpected %q", b)
	}
	if n := p.Len(); n != 0 {
		t.Fatalf("Len %d, want 0", n)
	}
}

// TestOnCloseOnce: racing Close calls and a hang-up call onClose once.
func TestOnCloseOnce(t *testing.T) {
	linuxOnly(t)
	p := newPool(t, push.Options{})
	const conns, closers = 40, 6
	var records []*closes
	for i := range conns {
		q := &queue{}
		c, client, r := add(t, p, q, time.Time{})
		records = append(records, r)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for k := range closers {
			wg.Go(func() {
				<-start
				if k == 0 {
					client.Close()
					return
				}
				if k == 1 {
					q.push([]byte("x"))
					c.Wake()
				}
				c.Close(fmt.Errorf("closer %d", k))
			})
		}
		close(start)
		wg.Wait()
		// The reason is whoever won: a closer, the hang-up, or a reset
		// seen by the write or the watcher.
		if err := r.wait(t); err == nil {
			t.Fatalf("conn %d: onClose(nil)", i)
		}
	}
	p.Close() // waits for the watcher, which may be reporting a hang-up
	for i, r := range records {
		if n := r.n.Load(); n != 1 {
			t.Fatalf("conn %d: onClose called %d times, want once", i, n)
		}
	}
	if n := p.Len(); n != 0 {
		t.Fatalf("Len %d, want 0", n)
	}
}

// TestConcurrentWakeClose: Wake, Close, heartbeats and Pool.Close from
// many goroutines at once: no race, no panic, onClose once per
// connection, and a connection nobody closed delivers in order until the
// pool closes.
func TestConcurrentWakeClose(t *testing.T) {
	linuxOnly(t)
	p := newPool(t, push.Options{Heartbeat: time.Millisecond})
	const conns, wakers = 16, 8
	type conn struct {
		c *push.Conn
		q *queue
		r *closes
	}
	var cs []conn
	var readers sync.WaitGroup
	for range conns {
		q := &queue{}
		c, client, r := add(t, p, q, time.Time{})
		cs = append(cs, conn{c, q, r})
		readers.Go(func() {
			client.SetReadDeadline(time.Now().Add(4 * failAfter))
			io.Copy(io.Discard, client)
		})
	}
	frame := []byte("data: shared frame\n\n")
	start := make(chan struct{})
	var wg sync.WaitGroup
	for w := range wakers {
		wg.Go(func() {
			<-start
			for i := range 300 {
				cn := cs[(w*7+i)%conns]
				cn.q.push(frame)
				cn.c.Wake()
				if w%2 == 0 && i%50 == 49 {
					cn.c.Close(fmt.Errorf("closed by %d", w))
				}
			}
		})
	}
	wg.Go(func() {
		<-start
		// Close in the middle of the storm, at no particular moment: the
		// test holds whatever the interleaving. Not a synchronisation.
		time.Sleep(5 * time.Millisecond)
		p.Close()
	})
	close(start)
	wg.Wait()
	p.Close()
	for i, cn := range cs {
		cn.c.Wake()
		cn.c.Close(errors.New("late"))
		if n := cn.r.n.Load(); n != 1 {
			t.Fatalf("conn %d: onClose called %d times, want once", i, n)
		}
		if err := <-cn.r.ch; fmt.Sprint(err) == "late" {
			t.Fatalf("conn %d: closed late, not by the test's closers or Pool.Close", i)
		}
	}
	// Every client sees its end of stream.
	done := make(chan struct{})
	go func() { readers.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(4 * failAfter):
		t.Fatal("clients did not see the end of their streams")
	}
	if n := p.Len(); n != 0 {
		t.Fatalf("Len %d, want 0", n)
	}
}

// TestAddRacingPoolClose: Add racing Pool.Close either succeeds, and
// onClose is then called once, or fails, and onClose is never called (a
// caller cleans up after a failed Add itself); every connection ends.
func TestAddRacingPoolClose(t *testing.T) {
	linuxOnly(t)
	for round := range 30 {
		p := newPool(t, push.Options{})
		const conns = 8
		type result struct {
			client *net.TCPConn
			r      *closes
			err    error
		}
		results := make([]result, conns)
		servers := make([]*net.TCPConn, conns)
		for i := range conns {
			servers[i], results[i].client = pair(t)
			results[i].r = newCloses()
		}
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range conns {
			wg.Go(func() {
				<-start
				_, results[i].err = p.Add(servers[i], (&queue{}).on(results[i].r), time.Time{}, nil)
			})
		}
		wg.Go(func() {
			<-start
			p.Close()
		})
		close(start)
		wg.Wait()
		p.Close()
		for i, res := range results {
			n := res.r.n.Load()
			switch {
			case res.err == nil && n != 1:
				t.Fatalf("round %d conn %d: Add succeeded, onClose called %d times", round, i, n)
			case res.err != nil && n != 0:
				t.Fatalf("round %d conn %d: Add failed (%v), yet onClose called %d times (%v)", round, i, res.err, n, <-res.r.ch)
			}
			if b := readEOF(t, res.client); len(b) != 0 {
				t.Fatalf("unexpected %q", b)
			}
		}
	}
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// BenchmarkPoolFanout: per round, one 200-byte frame to 100 connections,
// each woken, until every client has read it.
func BenchmarkPoolFanout(b *testing.B) {
	linuxOnly(b)
	const conns, size = 100, 200
	p := newPool(b, push.Options{})
	frame := bytes.Repeat([]byte("x"), size-1)
	frame = append(frame, '\n')
	got := make(chan struct{}, conns)
	failed := make(chan struct{})
	var failOnce sync.Once
	var readErr atomic.Value
	var stopping atomic.Bool
	var pcs []*push.Conn
	var qs []*queue
	for range conns {
		q := &queue{}
		c, client, _ := add(b, p, q, time.Time{})
		pcs, qs = append(pcs, c), append(qs, q)
		go func() {
			buf := make([]byte, size)
			for {
				if _, err := io.ReadFull(client, buf); err != nil {
					if !stopping.Load() {
						readErr.Store(err)
						failOnce.Do(func() { close(failed) })
					}
					return
				}
				if !bytes.Equal(buf, frame) {
					readErr.Store(fmt.Errorf("got %q", buf))
					failOnce.Do(func() { close(failed) })
					return
				}
				got <- struct{}{}
			}
		}()
	}
	b.Cleanup(func() { stopping.Store(true) })
	bound := time.NewTimer(failAfter)
	defer bound.Stop()
	b.ResetTimer()
	for range b.N {
		for i, c := range pcs {
			qs[i].push(frame)
			c.Wake()
		}
		bound.Reset(failAfter)
		for range conns {
			select {
			case <-got:
			case <-failed:
				b.Fatalf("client read: %v", readErr.Load())
			case <-bound.C:
				b.Fatal("a frame was not delivered")
			}
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*conns), "ns/delivery")
}

// BenchmarkLoopbackWrite is the floor under every delivery: one 200-byte
// write(2) on a loopback TCP socket whose reader keeps up, with no pool
// involved. The pool's cost per delivery is this plus its own.
func BenchmarkLoopbackWrite(b *testing.B) {
	server, client := pair(b)
	go io.Copy(io.Discard, client)
	frame := bytes.Repeat([]byte("x"), 200)
	b.ResetTimer()
	for range b.N {
		if _, err := server.Write(frame); err != nil {
			b.Fatal(err)
		}
	}
}
