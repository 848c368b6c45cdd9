// Package counter turns samples of cumulative counters (values that only
// grow, such as Prometheus _total metrics or OpenTelemetry cumulative
// monotonic sums) into per-second rates a person can read. It owns the
// per-series memory that takes, and the handling of counter resets: a
// value below the previous one, or a new start time, means the counter
// restarted from zero, so its increase is the new value itself. A rate is
// never negative.
package counter

import (
	"sync"
	"time"
)

// DefaultMaxSeries bounds the series a Rates remembers when New is given 0.
const DefaultMaxSeries = 100_000

// staleAfter is how long a series is remembered without a new sample once
// the memory is full.
const staleAfter = time.Hour

// Rates remembers the last sample of each counter series. It is safe for
// concurrent use.
type Rates struct {
	max  int
	mu   sync.Mutex
	last map[string]sample
}

type sample struct {
	value float64
	ts    int64 // unix ns
	start int64 // unix ns, 0 when unknown
}

// New returns a Rates that remembers at most maxSeries series
// (DefaultMaxSeries when 0). Past it, series not seen for an hour are
// forgotten; a new series that still does not fit gets no rate.
func New(maxSeries int) *Rates {
	if maxSeries <= 0 {
		maxSeries = DefaultMaxSeries
	}
	return &Rates{max: maxSeries, last: map[string]sample{}}
}

// Rate records value of series key at ts (unix ns) and returns its
// per-second rate since the series' previous sample. start is when the
// counter started counting (unix ns, 0 when unknown, as for Prometheus
// text). ok is false for the first sample of a series, a sample not newer
// than the previous one, or a series that does not fit in memory.
func (r *Rates) Rate(key string, value float64, ts, start int64) (rate float64, ok bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	prev, seen := r.last[key]
	if !seen && len(r.last) >= r.max {
		r.evictBefore(ts - staleAfter.Nanoseconds())
		if len(r.last) >= r.max {
			return 0, false
		}
	}
	if seen && ts <= prev.ts {
		return 0, false // a repeat or out of order: keep the newer sample
	}
	r.last[key] = sample{value: value, ts: ts, start: start}
	if !seen {
		return 0, false
	}
	increase := value - prev.value
	from := prev.ts
	restarted := value < prev.value || (start != 0 && prev.start != 0 && start != prev.start)
	if restarted {
		increase = value // counted from zero since the restart
		if start > from && start < ts {
			from = start
		}
	}
	if increase < 0 {
		increase = 0
	}
	return increase / (float64(ts-from) / 1e9), true
}

// Len is the number of series remembered.
func (r *Rates) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.last)
}

func (r *Rates) evictBefore(ts int64) {
	for k, s := range r.last {
		if s.ts < ts {
			delete(r.last, k)
		}
	}
}
