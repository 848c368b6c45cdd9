package httpapi

import (
	"testing"
	"time"
)

// TestLimiterRefills: on the clock it is given, a caller's bucket refuses
// past the burst with the wait until the next message, refills at the
// rate, and never passes a batch larger than the burst.
func TestLimiterRefills(t *testing.T) {
	l := newLimiter(2, 0, 0) // 2 messages/s, burst 2
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	allow := func(n int, at time.Duration) (time.Duration, error) { return l.allowPublish("k", n, t0.Add(at)) }
	if _, err := allow(2, 0); err != nil {
		t.Fatalf("the burst: %v", err)
	}
	if wait, err := allow(1, 0); err == nil || wait != 500*time.Millisecond {
		t.Fatalf("past the burst: wait %v, %v; want 500ms and an error", wait, err)
	}
	if _, err := allow(1, 499*time.Millisecond); err == nil {
		t.Fatal("a message passed before the bucket refilled one")
	}
	if _, err := allow(1, 500*time.Millisecond); err != nil {
		t.Fatalf("after half a second: %v", err)
	}
	if _, err := allow(2, 2*time.Second); err != nil {
		t.Fatalf("after the bucket refilled: %v", err)
	}
	if _, err := allow(3, time.Hour); err == nil {
		t.Fatal("a batch larger than the burst passed")
	}
	if _, err := l.allowPublish("other", 2, t0); err != nil {
		t.Fatalf("another caller shares the bucket: %v", err)
	}
}
