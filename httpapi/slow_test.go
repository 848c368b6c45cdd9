package httpapi_test

import (
	"context"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/livedash/livedash/client"
)

// TestSlowConsumerIsCutOff: one client opens a stream and never reads
// while 8,000 messages of 4 KiB are published. The fast subscriber gets
// every message, the slow one is cut off, and the server's heap stays far
// below what holding the slow client's backlog would take (~100 MB).
func TestSlowConsumerIsCutOff(t *testing.T) {
	e := newEnv(t)
	e.rawStream("topic=load.a&backlog=0&token=" + e.admin)
	waitFor(t, func() bool { return e.hub.Subscribers() == 1 }, "the slow subscriber")

	const total = 8_000
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	got := make(chan int, 1)
	backlog := 0
	go func() {
		n := 0
		e.client(e.admin).Stream(ctx, client.StreamOptions{Patterns: []string{"load.a"}, Backlog: &backlog}, func(ev client.Event) error {
			n++
			if n == total {
				return errDone
			}
			return nil
		})
		got <- n
	}()
	waitFor(t, func() bool { return e.hub.Subscribers() == 2 }, "the fast subscriber")

	if grew := publishPadded(t, e, ctx, "load.a", total); grew > 48<<20 {
		t.Fatalf("heap grew by %d MiB while a client did not read", grew>>20)
	}
	if n := <-got; n != total {
		t.Fatalf("fast subscriber got %d of %d", n, total)
	}
	// The slow one was cut off and removed.
	waitFor(t, func() bool { return e.hub.Subscribers() == 0 }, "the slow subscriber to be cut off")
}

// publishPadded publishes total event messages of 4 KiB on topic, data
// {"i": 0…total-1, "pad": …}, in batches of 200, and returns how much the
// heap grew meanwhile (after a GC at each end).
func publishPadded(t *testing.T, e *env, ctx context.Context, topic string, total int) int64 {
	t.Helper()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	pad := strings.Repeat("p", 4096)
	for sent := 0; sent < total; sent += 200 {
		msgs := make([]client.Message, 200)
		for i := range msgs {
			msgs[i] = client.Message{Topic: topic, Type: "event", Data: map[string]any{"i": sent + i, "pad": pad}}
		}
		if _, err := e.client(e.admin).Publish(ctx, msgs); err != nil {
			t.Fatal(err)
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	return int64(after.HeapAlloc) - int64(before.HeapAlloc)
}

// TestStreamEndsAtTokenExpiry: an open stream closes when its token expires.
func TestStreamEndsAtTokenExpiry(t *testing.T) {
	e := newEnv(t)
	c := claims("short")
	c.Channels = grants("exp.>", "sub")
	tok := e.token(c, 1500*time.Millisecond)
	s := e.openSSE("topic=exp.a&token=" + tok)
	start := time.Now()
	ended := make(chan struct{})
	go func() {
		for s.sc.Scan() {
		}
		close(ended)
	}()
	select {
	case <-ended:
		if time.Since(start) < 200*time.Millisecond {
			t.Fatal("stream ended long before the token expired")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("stream still open after its token expired")
	}
}
