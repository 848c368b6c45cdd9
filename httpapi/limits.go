package httpapi

import (
	"crypto/sha256"
	"encoding/hex"
	"math"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/livedash/livedash"
	"github.com/livedash/livedash/auth"
	"github.com/livedash/livedash/config"
	"github.com/livedash/livedash/ingest"
)

// IngestLimits are the limits of the configuration every publish path
// applies (package ingest): the API's and the server's own producers'.
func IngestLimits(l config.Limits) ingest.Limits {
	return ingest.Limits{MessageBytes: int(l.MessageBytes), MaxTopics: l.MaxTopics}
}

// limiter enforces the configured per-caller limits (see callerOf): a token
// bucket of published messages per caller (burst = one second's worth), and
// caps on open streams per token and, for anonymous callers (who cannot
// publish), per client address.
type limiter struct {
	perSecond float64 // 0: no publish limit
	maxConns  int     // streams per token; 0: no limit
	maxAnon   int     // streams per address without a token; 0: no limit

	mu      sync.Mutex
	buckets map[string]*rate.Limiter
	conns   map[string]int
}

func newLimiter(perSecond float64, maxConns, maxAnon int) *limiter {
	return &limiter{perSecond: perSecond, maxConns: maxConns, maxAnon: maxAnon, buckets: map[string]*rate.Limiter{}, conns: map[string]int{}}
}

// maxBuckets bounds the limiter map; past it, full buckets are dropped
// (a full bucket carries no state worth keeping).
const maxBuckets = 10_000

// allowPublish takes n messages from the caller's bucket, or returns an
// ERATELIMITED error and how long to wait.
func (l *limiter) allowPublish(key string, n int, now time.Time) (time.Duration, error) {
	if l.perSecond <= 0 {
		return 0, nil
	}
	burst := max(int(math.Ceil(l.perSecond)), 1)
	l.mu.Lock()
	b := l.buckets[key]
	if b == nil {
		if len(l.buckets) >= maxBuckets {
			for k, v := range l.buckets {
				if v.TokensAt(now) >= float64(burst) {
					delete(l.buckets, k)
				}
			}
		}
		b = rate.NewLimiter(rate.Limit(l.perSecond), burst)
		l.buckets[key] = b
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

// acquireConn counts a new stream of caller (see caller), or
// refuses it past the cap; release uncounts it, once.
func (l *limiter) acquireConn(c caller) (release func(), err error) {
	max := l.maxConns
	if c.anonymous {
		max = l.maxAnon
	}
	if max <= 0 {
		return func() {}, nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.conns[c.key] >= max {
		if c.anonymous {
			return nil, livedash.Errorf(livedash.ERATELIMITED, "this address has %d open streams without a token, the most allowed", max)
		}
		return nil, livedash.Errorf(livedash.ERATELIMITED, "this token has %d open streams, the most allowed", max)
	}
	l.conns[c.key]++
	var once sync.Once
	return func() {
		once.Do(func() {
			l.mu.Lock()
			if l.conns[c.key]--; l.conns[c.key] <= 0 {
				delete(l.conns, c.key)
			}
			l.mu.Unlock()
		})
	}, nil
}

// caller is whom a stream or a publish counts against.
type caller struct {
	key       string
	anonymous bool
}

// callerOf names the caller of a request: the token's subject; the token
// itself (a hash of it, so the limiter holds no secret) when it has none;
// the client's IP address when there is no token. Behind a reverse proxy
// every anonymous client has the proxy's address.
func callerOf(r *http.Request, a auth.Access) caller {
	switch {
	case a.Claims == nil:
		host, _, err := net.SplitHostPort(r.RemoteAddr)
		if err != nil {
			host = r.RemoteAddr
		}
		return caller{key: "addr:" + host, anonymous: true}
	case a.Claims.Subject != "":
		return caller{key: "sub:" + a.Claims.Subject}
	}
	sum := sha256.Sum256([]byte(auth.FromRequest(r)))
	return caller{key: "token:" + hex.EncodeToString(sum[:16])}
}

// retryAfter renders a wait as whole seconds for the Retry-After header.
func retryAfter(d time.Duration) string {
	return strconv.Itoa(max(int(math.Ceil(d.Seconds())), 1))
}
