package counter

import (
	"math"
	"testing"
)

func TestRate(t *testing.T) {
	type step struct {
		value     float64
		ts, start int64
		rate      float64
		ok        bool
	}
	for _, tc := range []struct {
		name  string
		steps []step
	}{
		{"first sample has no rate", []step{{value: 10, ts: 1000}}},
		{"steady growth", []step{{value: 10, ts: 1000}, {value: 20, ts: 3000, rate: 5, ok: true}, {value: 20, ts: 4000, rate: 0, ok: true}}},
		{"reset by a lower value counts from zero", []step{{value: 100, ts: 1000}, {value: 4, ts: 3000, rate: 2, ok: true}}},
		{"reset by a new start time", []step{{value: 100, ts: 1000, start: 500}, {value: 150, ts: 3000, start: 2000, rate: 150, ok: true}}},
		{"same start time is no reset", []step{{value: 100, ts: 1000, start: 500}, {value: 150, ts: 3000, start: 500, rate: 25, ok: true}}},
		{"repeat or older sample gives no rate", []step{{value: 1, ts: 2000}, {value: 2, ts: 2000}, {value: 3, ts: 1000}, {value: 5, ts: 4000, rate: 2, ok: true}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := New(0)
			for i, s := range tc.steps {
				rate, ok := r.Rate("k", s.value, s.ts*1e6, s.start*1e6) // ms in the table
				if ok != s.ok || math.Abs(rate-s.rate) > 1e-9 {
					t.Fatalf("step %d: got %v, %v; want %v, %v", i, rate, ok, s.rate, s.ok)
				}
			}
		})
	}
}

func TestRateMemoryIsBounded(t *testing.T) {
	r := New(2)
	sec := int64(1e9)
	r.Rate("a", 1, sec, 0)
	r.Rate("b", 1, sec, 0)
	r.Rate("c", 1, sec, 0) // no room: not remembered
	if _, ok := r.Rate("c", 2, 2*sec, 0); ok || r.Len() != 2 {
		t.Fatalf("series past the bound got a rate (len %d)", r.Len())
	}
	// An hour later the old series are stale and make room.
	hour := 3600 * sec
	r.Rate("c", 1, 2*hour, 0)
	if rate, ok := r.Rate("c", 3, 2*hour+sec, 0); !ok || rate != 2 {
		t.Fatalf("got %v, %v after the stale series went", rate, ok)
	}
}
