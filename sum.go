package livedash

import "math"

// Sum adds float64 values so that its results are always finite (JSON
// cannot hold NaN or ±Inf): non-finite values are refused; the total is a
// compensated (Neumaier) sum, exact-looking for prices; and a running mean,
// which cannot overflow, is kept beside it. Once the running total leaves
// the float64 range (two values of 1.7e308 do), Total is Mean × N clamped
// to ±math.MaxFloat64, and Avg is the running mean. The zero value is an
// empty sum; the fields are exported so that a sum can be saved and loaded.
type Sum struct {
	N    int64   `json:"n"`    // values added
	Sum  float64 `json:"sum"`  // running total, until it overflowed
	Comp float64 `json:"comp"` // Neumaier compensation of Sum
	Mean float64 `json:"mean"` // running mean
	// Overflowed says the running total left the float64 range: Sum and
	// Comp are no longer kept.
	Overflowed bool `json:"overflowed,omitempty"`
}

// Finite reports whether v is neither NaN nor ±Inf.
func Finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// Add adds v and reports whether it did: a non-finite v is skipped.
func (s *Sum) Add(v float64) bool {
	if !Finite(v) {
		return false
	}
	s.N++
	if s.N == 1 {
		s.Mean = v
	} else {
		// mean + (v-mean)/n without forming v-mean, which may overflow.
		s.Mean += v/float64(s.N) - s.Mean/float64(s.N)
	}
	if s.Overflowed {
		return true
	}
	t := s.Sum + v
	if !Finite(t) {
		s.Overflowed, s.Sum, s.Comp = true, 0, 0
		return true
	}
	if math.Abs(s.Sum) >= math.Abs(v) {
		s.Comp += (s.Sum - t) + v
	} else {
		s.Comp += (v - t) + s.Sum
	}
	s.Sum = t
	return true
}

// Total is the sum of the values added, always finite (see Sum).
func (s *Sum) Total() float64 {
	if !s.Overflowed {
		if t := s.Sum + s.Comp; Finite(t) {
			return t
		}
	}
	return clampFloat(s.Mean * float64(s.N))
}

// Avg is the mean of the values added (0 when none), always finite.
func (s *Sum) Avg() float64 {
	if s.N == 0 {
		return 0
	}
	if !s.Overflowed {
		if t := s.Sum + s.Comp; Finite(t) {
			return t / float64(s.N)
		}
	}
	return s.Mean
}

func clampFloat(v float64) float64 {
	switch {
	case math.IsNaN(v):
		return 0
	case v > math.MaxFloat64:
		return math.MaxFloat64
	case v < -math.MaxFloat64:
		return -math.MaxFloat64
	}
	return v
}
