package redisbroker

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"time"

	"github.com/redis/go-redis/v9"
)

// renewScript extends the lease only if this node still holds it.
var renewScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
`)

// releaseScript gives the lease up only if this node holds it.
var releaseScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`)

// Lead runs work while this node holds the cluster lease named name, so
// exactly one node runs it at a time; when the lease is lost (Redis
// unreachable, or this node too slow to renew) work's context is cancelled
// and Lead tries to win it back. It returns when ctx is done.
func (b *Broker) Lead(ctx context.Context, name string, work func(context.Context) error) error {
	var idb [8]byte
	rand.Read(idb[:])
	me := hex.EncodeToString(idb[:])
	key := b.key("lease:" + name)
	tick := time.NewTicker(b.leaseRenew)
	defer tick.Stop()
	for {
		won, err := b.rdb.SetNX(ctx, key, me, b.leaseTTL).Result()
		if err == nil && won {
			b.log.Info("leading", "work", name)
			b.hold(ctx, key, me, tick, work)
			releaseScript.Run(context.WithoutCancel(ctx), b.rdb, []string{key}, me)
			b.log.Info("no longer leading", "work", name)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// hold runs work and renews the lease until ctx ends or the lease is lost.
func (b *Broker) hold(ctx context.Context, key, me string, tick *time.Ticker, work func(context.Context) error) {
	wctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := work(wctx); err != nil && wctx.Err() == nil {
			b.log.Error("leader work failed", "err", err)
		}
	}()
	defer func() { cancel(); <-done }()
	for {
		select {
		case <-ctx.Done():
			return
		case <-done:
			return
		case <-tick.C:
			n, err := renewScript.Run(ctx, b.rdb, []string{key}, me, b.leaseTTL.Milliseconds()).Int()
			if err != nil || n == 0 {
				return
			}
		}
	}
}
