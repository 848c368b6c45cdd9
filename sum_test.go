package livedash

import (
	"math"
	"testing"
)

func TestSumStaysFinite(t *testing.T) {
	for _, c := range []struct {
		name       string
		vals       []float64
		n          int64
		total, avg float64
	}{
		{"prices", []float64{19.99, 19.99, 19.99, 19.99, 19.99}, 5, 99.95, 19.99},
		{"non-finite skipped", []float64{math.NaN(), math.Inf(1), 2, math.Inf(-1), 4}, 2, 6, 3},
		{"overflow clamps", []float64{1.7e308, 1.7e308}, 2, math.MaxFloat64, 1.7e308},
		{"back in range", []float64{1.7e308, 1.7e308, -1.7e308}, 3, 1.7e308, 1.7e308 / 3},
		{"negative overflow", []float64{-1.7e308, -1.7e308}, 2, -math.MaxFloat64, -1.7e308},
		{"empty", nil, 0, 0, 0},
	} {
		var s Sum
		for _, v := range c.vals {
			s.Add(v)
		}
		if s.N != c.n || !within(s.Total(), c.total) || !within(s.Avg(), c.avg) || !Finite(s.Total()) || !Finite(s.Avg()) {
			t.Errorf("%s: n %d total %v avg %v, want %d %v %v", c.name, s.N, s.Total(), s.Avg(), c.n, c.total, c.avg)
		}
	}
}

func within(got, want float64) bool { return math.Abs(got-want) <= 1e-12*math.Abs(want) }

func TestValidateField(t *testing.T) {
	for _, ok := range []string{"v", "usage_idle", "a.b", "p-99", "x:y/z", "a b", "température", "it's"} {
		if err := ValidateField(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for _, bad := range []string{"", `a\`, `a"b`, "a\x00", "a\nb", "\x7f", "\u0085", string(make([]byte, 201)), "\xff"} {
		if err := ValidateField(bad); ErrorCode(err) != EINVALID {
			t.Errorf("%q: %v, want EINVALID", bad, err)
		}
	}
}
