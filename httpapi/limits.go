package httpapi

import (
	"math"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/livedash/livedash"
)

// limiter enforces the configured per-token limits: a token bucket of
// published messages per token subject (burst = one second's worth), and a
// cap on open streams per token subject. Anonymous callers have no subject:
// they cannot publish, and their connections are not counted per token.
type limiter struct {
	perSecond float64 // 0: no publish limit
	maxConns  int     // 0: no connection limit

	mu      sync.Mutex
	buckets map[string]*rate.Limiter
	conns   map[string]int
}

func newLimiter(perSecond float64, maxConns int) *limiter {
	return &limiter{perSecond: perSecond, maxConns: maxConns, buckets: map[string]*rate.Limiter{}, conns: map[string]int{}}
}

// maxBuckets bounds the limiter map; past it, full buckets are dropped
// (a full bucket carries no state worth keeping).
const maxBuckets = 10_000

// allowPublish takes n messages from sub's bucket, or returns an
// ERATELIMITED error and how long to wait.
func (l *limiter) allowPublish(sub string, n int, now time.Time) (time.Duration, error) {
	if l.perSecond <= 0 {
		return 0, nil
	}
	burst := max(int(math.Ceil(l.perSecond)), 1)
	l.mu.Lock()
	b := l.buckets[sub]
	if b == nil {
		if len(l.buckets) >= maxBuckets {
			for k, v := range l.buckets {
				if v.TokensAt(now) >= float64(burst) {
					delete(l.buckets, k)
				}
			}
		}
		b = rate.NewLimiter(rate.Limit(l.perSecond), burst)
		l.buckets[sub] = b
	}
	l.mu.Unlock()
	if n > burst {
		return time.Second, livedash.Errorf(livedash.ERATELIMITED, "a batch of %d messages is more than the %d/s publish rate allows", n, burst)
	}
	r := b.ReserveN(now, n)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return d, livedash.Errorf(livedash.ERATELIMITED, "publish rate of %g messages/s exceeded; retry in %s", l.perSecond, d.Round(time.Millisecond))
	}
	return 0, nil
}

// acquireConn counts a new stream for sub, or refuses it past the cap.
// Each successful acquire needs one releaseConn.
func (l *limiter) acquireConn(sub string) error {
	if l.maxConns <= 0 || sub == "" {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.conns[sub] >= l.maxConns {
		return livedash.Errorf(livedash.ERATELIMITED, "this token has %d open streams, the most allowed", l.maxConns)
	}
	l.conns[sub]++
	return nil
}

func (l *limiter) releaseConn(sub string) {
	if l.maxConns <= 0 || sub == "" {
		return
	}
	l.mu.Lock()
	if l.conns[sub]--; l.conns[sub] <= 0 {
		delete(l.conns, sub)
	}
	l.mu.Unlock()
}

// retryAfter renders a wait as whole seconds for the Retry-After header.
func retryAfter(d time.Duration) string {
	return strconv.Itoa(max(int(math.Ceil(d.Seconds())), 1))
}
