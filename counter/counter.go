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
	value   float64
	tsMS    int64
	startMS int64
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

// Rate records value of series key at tsMS (unix ms) and returns its
// per-second rate since the series' previous sample. startMS is when the
// counter started counting (unix ms, 0 when unknown, as for Prometheus
// text). ok is false for the first sample of a series, a sample not newer
// than the previous one, or a series that does not fit in memory.
func (r *Rates) Rate(key string, value float64, tsMS, startMS int64) (rate float64, ok bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	prev, seen := r.last[key]
	if !seen && len(r.last) >= r.max {
		r.evictBefore(tsMS - staleAfter.Milliseconds())
		if len(r.last) >= r.max {
			return 0, false
		}
	}
	if seen && tsMS <= prev.tsMS {
		return 0, false // a repeat or out of order: keep the newer sample
	}
	r.last[key] = sample{value: value, tsMS: tsMS, startMS: startMS}
	if !seen {
		return 0, false
	}
	increase := value - prev.value
	from := prev.tsMS
	restarted := value < prev.value || (startMS != 0 && prev.startMS != 0 && startMS != prev.startMS)
	if restarted {
		increase = value // counted from zero since the restart
		if startMS > from && startMS < tsMS {
			from = startMS
		}
	}
	if increase < 0 {
		increase = 0
	}
	return increase / (float64(tsMS-from) / 1000), true
}

// Len is the number of series remembered.
func (r *Rates) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.last)
}

func (r *Rates) evictBefore(tsMS int64) {
	for k, s := range r.last {
		if s.tsMS < tsMS {
			delete(r.last, k)
		}
	}
}
