package pubsub

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// refSet is the obvious implementation of recentSet's rule: remember up
// to max ids, forget the lowest first, count an id lower than all of a
// full set as new.
type refSet struct {
	max int
	ids []uint64 // sorted
}

func (r *refSet) add(seq uint64) bool {
	i, found := slices.BinarySearch(r.ids, seq)
	if found {
		return false
	}
	if len(r.ids) == r.max && i == 0 {
		return true
	}
	r.ids = slices.Insert(r.ids, i, seq)
	if len(r.ids) > r.max {
		r.ids = r.ids[1:]
	}
	return true
}

// TestRecentSetMatchesReference: live-like increasing ids mixed with
// bursts of older ids (a new subscription's history), repeats and ids
// below the window agree with the reference rule, add by add, and the
// contents stay sorted.
func TestRecentSetMatchesReference(t *testing.T) {
	for _, max := range []int{1, 2, 7, 64} {
		rng := rand.New(rand.NewPCG(uint64(max), 42))
		got, want := newRecentSet(max), &refSet{max: max}
		next := uint64(100)
		for step := range 20000 {
			var seq uint64
			switch r := rng.IntN(10); {
			case r < 6: // live: the next id
				next += uint64(1 + rng.IntN(3))
				seq = next
			case r < 8: // history: an older id, maybe already sent
				seq = next - uint64(rng.IntN(3*max+3))
			default: // a repeat of a recent id
				seq = next - uint64(rng.IntN(max+1))
			}
			if g, w := got.add(seq), want.add(seq); g != w {
				t.Fatalf("max %d step %d: add(%d) = %v, want %v", max, step, seq, g, w)
			}
			if len(got.ring) != len(want.ids) {
				t.Fatalf("max %d step %d: %d ids, want %d", max, step, len(got.ring), len(want.ids))
			}
			for k, id := range want.ids {
				if got.at(k) != id {
					t.Fatalf("max %d step %d: id %d is %d, want %d", max, step, k, got.at(k), id)
				}
			}
		}
	}
}

// TestRecentSetStaysSmall: the set holds at most max ids, 8 bytes each.
func TestRecentSetStaysSmall(t *testing.T) {
	s := newRecentSet(8192)
	for seq := range uint64(100_000) {
		s.add(seq)
	}
	if len(s.ring) != 8192 || cap(s.ring) > 2*8192 {
		t.Fatalf("len %d cap %d, want 8192 ids in at most twice that", len(s.ring), cap(s.ring))
	}
	if s.add(99_999) || !s.add(100_000) || s.add(100_000) {
		t.Fatal("a remembered id counted as new, or a new one as seen")
	}
}

func BenchmarkRecentSetLive(b *testing.B) {
	s := newRecentSet(8192)
	for i := range b.N {
		s.add(uint64(i))
	}
}
