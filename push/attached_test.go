package push_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/livedash/livedash/push"
)

// tcpWriter is an attached connection's writer over a TCP socket.
type tcpWriter struct {
	*bufio.Writer
	nc net.Conn
}

func (w tcpWriter) SetWriteDeadline(t time.Time) error { return w.nc.SetWriteDeadline(t) }

// TestAttachedServe: an attached connection (written by the caller's
// goroutine) gets woken frames in order, heartbeats when quiet, hands the
// client's input to Receive, and on End writes the goodbye last; Serve
// then returns End's reason, and Closed was called once with it.
func TestAttachedServe(t *testing.T) {
	p := newPool(t, push.Options{Heartbeat: 20 * time.Millisecond})
	server, client := pair(t)
	q := &queue{bye: []byte("bye\n")}
	r := newCloses()
	q.on(r)
	conns := make(chan *push.Conn, 1)
	reason := errors.New("done here")
	served := make(chan error, 1)
	go func() {
		served <- p.Serve(context.Background(), tcpWriter{bufio.NewWriter(server), server}, q, time.Time{}, server, func(c *push.Conn) { conns <- c })
	}()
	c := <-conns
	q.push([]byte("one\n"), []byte("two\n"))
	c.Wake()
	if b := readN(t, client, 8); string(b) != "one\ntwo\n" {
		t.Fatalf("got %q", b)
	}
	// Quiet: a heartbeat comes.
	if b := readN(t, client, len(ping)); string(b) != string(ping) {
		t.Fatalf("got %q, want a heartbeat", b)
	}
	if _, err := client.Write([]byte("hi")); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, func() bool { return q.receivedLen() == 2 }, "the input to be received")
	if n := p.Len(); n != 1 {
		t.Fatalf("Len %d, want 1", n)
	}
	c.End(reason)
	select {
	case err := <-served:
		if !errors.Is(err, reason) {
			t.Fatalf("Serve returned %v, want End's reason", err)
		}
	case <-time.After(failAfter):
		t.Fatal("Serve did not return after End")
	}
	if err := r.wait(t); !errors.Is(err, reason) {
		t.Fatalf("Closed(%v)", err)
	}
	server.Close() // the caller closes an attached connection
	client.SetReadDeadline(time.Now().Add(failAfter))
	rest, _ := io.ReadAll(client)
	// Heartbeats may come before the goodbye; the goodbye is last.
	if len(rest) < 4 || string(rest[len(rest)-4:]) != "bye\n" {
		t.Fatalf("client read %q at the end, want the goodbye last", rest)
	}
	if n := p.Len(); n != 0 || r.n.Load() != 1 {
		t.Fatalf("Len %d, Closed called %d times", n, r.n.Load())
	}
}

// TestAttachedContextEnds: Serve ends when its context does.
func TestAttachedContextEnds(t *testing.T) {
	p := newPool(t, push.Options{})
	server, _ := pair(t)
	q := &queue{}
	r := newCloses()
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() {
		served <- p.Serve(ctx, tcpWriter{bufio.NewWriter(server), server}, q.on(r), time.Time{}, nil, nil)
	}()
	waitUntil(t, func() bool { return p.Len() == 1 }, "the connection to join")
	cancel()
	select {
	case err := <-served:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Serve returned %v", err)
		}
	case <-time.After(failAfter):
		t.Fatal("Serve did not return")
	}
	if err := r.wait(t); !errors.Is(err, context.Canceled) {
		t.Fatalf("Closed(%v)", err)
	}
}

// TestEndSaysGoodbye: End on an idle pooled connection drops what waits,
// writes the goodbye and closes; the client reads the goodbye, then the
// end of the stream, and Closed gets End's reason.
func TestEndSaysGoodbye(t *testing.T) {
	linuxOnly(t)
	p := newPool(t, push.Options{})
	q := &queue{bye: []byte("bye\n")}
	c, client, r := add(t, p, q, time.Time{})
	q.push([]byte("first\n"))
	c.Wake()
	if b := readN(t, client, 6); string(b) != "first\n" {
		t.Fatalf("got %q", b)
	}
	q.push([]byte("dropped\n")) // never woken: End drops it
	reason := errors.New("cut off")
	c.End(reason)
	if b := readEOF(t, client); string(b) != "bye\n" {
		t.Fatalf("client read %q, want only the goodbye", b)
	}
	if err := r.wait(t); !errors.Is(err, reason) {
		t.Fatalf("Closed(%v)", err)
	}
	c.End(errors.New("again")) // nothing more
	if n := r.n.Load(); n != 1 {
		t.Fatalf("Closed called %d times", n)
	}
}
