package hub

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/livedash/livedash"
)

func frame(seq uint64, topic string) *livedash.Frame {
	return livedash.NewFrame(livedash.Message{ID: livedash.ID{Seq: seq, Epoch: "t"}, Topic: topic, Type: "point", TS: 1, Data: json.RawMessage("1")})
}

func seqs(frames []*livedash.Frame) []uint64 {
	out := make([]uint64, len(frames))
	for i, f := range frames {
		out[i] = f.ID.Seq
	}
	return out
}

func TestPublishMatchesPatterns(t *testing.T) {
	h := New(Options{})
	topics := []string{"shop.orders", "shop.a.b", "host.cpu", "sys.connections", "x"}
	for _, tc := range []struct {
		patterns []string
		want     []uint64 // seqs (1-based index into topics) delivered
	}{
		{[]string{"shop.orders"}, []uint64{1}},
		{[]string{"shop.*"}, []uint64{1}},
		{[]string{"shop.>"}, []uint64{1, 2}},
		{[]string{">"}, []uint64{1, 2, 3, 5}},
		{[]string{"*"}, []uint64{5}},
		{[]string{"*.cpu"}, []uint64{3}},
		{[]string{"*.>"}, []uint64{1, 2, 3}},
		{[]string{"sys.>"}, []uint64{4}},
		{[]string{">", "sys.>"}, []uint64{1, 2, 3, 4, 5}},
		{[]string{"shop.>", "shop.*", "shop.orders"}, []uint64{1, 2}}, // overlapping: once each
		{[]string{"nothing"}, nil},
	} {
		t.Run(fmt.Sprint(tc.patterns), func(t *testing.T) {
			s := h.Subscribe(tc.patterns...)
			defer s.Close()
			for i, topic := range topics {
				h.Publish([]*livedash.Frame{frame(uint64(100*len(tc.patterns)+i+1), topic)})
			}
			got := s.Take(nil)
			var want []uint64
			for _, w := range tc.want {
				want = append(want, uint64(100*len(tc.patterns))+w)
			}
			if fmt.Sprint(seqs(got)) != fmt.Sprint(want) && !(len(got) == 0 && len(want) == 0) {
				t.Fatalf("got %v, want %v", seqs(got), want)
			}
		})
	}
}

func TestAddRemoveAndClose(t *testing.T) {
	h := New(Options{})
	s := h.Subscribe()
	h.Publish([]*livedash.Frame{frame(1, "a.b")})
	if got := s.Take(nil); len(got) != 0 {
		t.Fatalf("subscriber with no patterns got %v", seqs(got))
	}
	s.Add("a.*")
	s.Add("a.b")
	h.Publish([]*livedash.Frame{frame(2, "a.b")})
	s.Remove("a.*")
	h.Publish([]*livedash.Frame{frame(3, "a.b"), frame(4, "a.c")})
	s.Remove("a.b")
	h.Publish([]*livedash.Frame{frame(5, "a.b")})
	if got := seqs(s.Take(nil)); fmt.Sprint(got) != "[2 3]" {
		t.Fatalf("got %v, want [2 3]", got)
	}
	if !h.root.empty() {
		t.Fatalf("tree not pruned after removes: %+v", h.root)
	}
	if h.Subscribers() != 1 {
		t.Fatalf("Subscribers = %d", h.Subscribers())
	}
	s.Add(">")
	s.Close()
	s.Close()
	if h.Subscribers() != 0 || !h.root.empty() {
		t.Fatalf("after Close: %d subscribers, tree empty=%v", h.Subscribers(), h.root.empty())
	}
	select {
	case <-s.Done():
	default:
		t.Fatal("Done not closed")
	}
	if s.Err() != ErrClosed {
		t.Fatalf("Err = %v", s.Err())
	}
}

func TestReadySignalsOnce(t *testing.T) {
	h := New(Options{})
	s := h.Subscribe("a")
	defer s.Close()
	h.Publish([]*livedash.Frame{frame(1, "a"), frame(2, "a")})
	h.Publish([]*livedash.Frame{frame(3, "a")})
	select {
	case <-s.Ready():
	default:
		t.Fatal("no ready signal")
	}
	if got := seqs(s.Take(nil)); fmt.Sprint(got) != "[1 2 3]" {
		t.Fatalf("got %v", got)
	}
	h.Publish([]*livedash.Frame{frame(4, "a")})
	select {
	case <-s.Ready():
	default:
		t.Fatal("no ready signal after the queue emptied")
	}
}

// TestSlowSubscriberCutOff: a subscriber that never takes is cut off once
// its queue passes the cap, while a fast one keeps receiving everything,
// and the slow one's memory is released.
func TestSlowSubscriberCutOff(t *testing.T) {
	var slowCalls int
	h := New(Options{MaxPending: 10_000, OnSlow: func(*Subscriber) { slowCalls++ }})
	slow := h.Subscribe("a")
	fast := h.Subscribe("a")
	defer slow.Close()
	defer fast.Close()
	var got []uint64
	for i := uint64(1); i <= 50_000; i++ {
		h.Publish([]*livedash.Frame{frame(i, "a")})
		if i%10 == 0 {
			got = append(got, seqs(fast.Take(nil))...)
		}
	}
	if len(got) != 50_000 || got[0] != 1 || got[len(got)-1] != 50_000 {
		t.Fatalf("fast subscriber got %d frames", len(got))
	}
	select {
	case <-slow.Done():
	default:
		t.Fatal("slow subscriber not cut off")
	}
	if slow.Err() != ErrSlow || slowCalls != 1 {
		t.Fatalf("Err = %v, OnSlow calls = %d", slow.Err(), slowCalls)
	}
	if q := slow.Take(nil); len(q) != 0 {
		t.Fatalf("cut-off subscriber still holds %d frames", len(q))
	}
	// Every frame queued when it was cut counts as dropped: frames 1…k,
	// where frame k took the queue past the cap.
	want, bytes := 0, 0
	for bytes <= 10_000 {
		want++
		bytes += frame(uint64(want), "a").Size()
	}
	if slow.Dropped() != want {
		t.Fatalf("Dropped = %d, want %d", slow.Dropped(), want)
	}
	if fast.Dropped() != 0 {
		t.Fatalf("the fast subscriber dropped %d", fast.Dropped())
	}
}

// BenchmarkFanout measures publishing one message to n subscribers of its
// topic, each taking its queue after every publish as a client would.
func BenchmarkFanout(b *testing.B) {
	for _, n := range []int{1, 100, 10_000} {
		b.Run(fmt.Sprintf("subscribers=%d", n), func(b *testing.B) {
			h := New(Options{})
			subs := make([]*Subscriber, n)
			for i := range subs {
				subs[i] = h.Subscribe("bench.topic")
			}
			bufs := make([][]*livedash.Frame, n)
			f := frame(0, "bench.topic")
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				m := f.Message
				m.ID.Seq = uint64(i + 1)
				g := &livedash.Frame{Message: m, JSON: f.JSON}
				h.Publish([]*livedash.Frame{g})
				for j, s := range subs {
					bufs[j] = s.Take(bufs[j])
				}
			}
			b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "deliveries/s")
		})
	}
}
