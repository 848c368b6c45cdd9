// Package redisbroker is livedash's cluster backplane on Redis (or Valkey).
//
// Redis is the cluster's sequencer and transport: a Lua script assigns
// cluster-wide ids (one counter) and appends the messages to one stream,
// atomically, so the stream's order is the id order. Every node reads that
// stream and ingests it into its local SQLite store, which then fans out
// and answers backlog, history and resume exactly as a single node does —
// so any node gives the same answers, and a client resumes on any node.
//
// Sources of truth: Redis holds the id counter, the epoch and the recent
// stream (capped at MaxLen entries); each node's SQLite holds the long
// history (its own retention). A node that was away catches up from the
// stream; if the stream was trimmed past what it had, or Redis lost data,
// the node records a gap and resumes from before it get a reset.
//
// The package also elects a leader for work that must run once per cluster
// (rollups, alert rules) and keeps that work's state in Redis.
package redisbroker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/livedash/livedash"
)

// Local is the node's own store, fed from the cluster stream.
type Local interface {
	Ingest(ctx context.Context, msgs []livedash.Message) ([]*livedash.Frame, error)
	Head() livedash.ID
	WaitFor(ctx context.Context, seq uint64) livedash.ID
	Adopt(ctx context.Context, epoch string) error
}

// Options configure a Broker.
type Options struct {
	// Prefix starts every Redis key (default "livedash:").
	Prefix string
	// MaxLen caps the shared stream, approximately (default 1,000,000).
	MaxLen int64
	Logger *slog.Logger
	// OnError is told of each failed call to Redis, by operation
	// (append, follow, ping); it must not block. Nil ignores them.
	OnError func(op string)
	// LeaseTTL is how long a leader (Lead) holds its lease without
	// renewing it: a node that dies is replaced within it (default 6s).
	LeaseTTL time.Duration
	// LeaseRenew is how often the leader renews the lease, and how often
	// the others try to win it (default LeaseTTL/3).
	LeaseRenew time.Duration
}

// Broker publishes through Redis and feeds the local store from it.
type Broker struct {
	rdb    *redis.Client
	local  Local
	prefix string
	maxLen int64
	log    *slog.Logger
	onErr  func(op string)

	leaseTTL, leaseRenew time.Duration

	mu      sync.Mutex
	epoch   string
	healthy bool
}

// Dial connects to the Redis at url (redis://host:port/db) with short
// timeouts and no automatic retries (a retried append could be stored
// twice), and checks it answers.
func Dial(ctx context.Context, url string) (*redis.Client, error) {
	opts, err := redis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("broker url: %w", err)
	}
	opts.DialTimeout = 2 * time.Second
	opts.ReadTimeout = 3 * time.Second
	opts.WriteTimeout = 3 * time.Second
	opts.MaxRetries = -1
	rdb := redis.NewClient(opts)
	if err := rdb.Ping(ctx).Err(); err != nil {
		rdb.Close()
		return nil, fmt.Errorf("redis at %s: %w", opts.Addr, err)
	}
	return rdb, nil
}

// New joins the cluster: it agrees on the epoch with Redis (a new cluster
// takes this node's epoch and history; a node from another epoch adopts
// the cluster's and drops its local messages) and returns the broker.
func New(ctx context.Context, rdb *redis.Client, local Local, opts Options) (*Broker, error) {
	if opts.Prefix == "" {
		opts.Prefix = "livedash:"
	}
	if opts.MaxLen <= 0 {
		opts.MaxLen = 1_000_000
	}
	if opts.OnError == nil {
		opts.OnError = func(string) {}
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.LeaseTTL <= 0 {
		opts.LeaseTTL = 6 * time.Second
	}
	if opts.LeaseRenew <= 0 || opts.LeaseRenew >= opts.LeaseTTL {
		opts.LeaseRenew = opts.LeaseTTL / 3
	}
	b := &Broker{rdb: rdb, local: local, prefix: opts.Prefix, maxLen: opts.MaxLen, log: opts.Logger, onErr: opts.OnError,
		leaseTTL: opts.LeaseTTL, leaseRenew: opts.LeaseRenew}
	if err := b.join(ctx); err != nil {
		return nil, err
	}
	return b, nil
}

func (b *Broker) key(name string) string { return b.prefix + name }

// joinScript makes sure the cluster has an epoch (this node's if none) and
// that its counter is not behind this node's head when they share an
// epoch (Redis restarted without its data, but the nodes kept theirs).
var joinScript = redis.NewScript(`
local e = redis.call('GET', KEYS[1])
if not e then
  redis.call('SET', KEYS[1], ARGV[1])
  e = ARGV[1]
end
if e == ARGV[1] then
  local cur = tonumber(redis.call('GET', KEYS[2]) or '0')
  if cur < tonumber(ARGV[2]) then
    redis.call('SET', KEYS[2], ARGV[2])
  end
end
return e
`)

func (b *Broker) join(ctx context.Context) error {
	head := b.local.Head()
	epoch, err := joinScript.Run(ctx, b.rdb, []string{b.key("epoch"), b.key("seq")}, head.Epoch, head.Seq).Text()
	if err != nil {
		return fmt.Errorf("join cluster: %w", err)
	}
	if epoch != head.Epoch {
		if head.Seq > 0 {
			b.log.Warn("joining a cluster with another epoch: local messages are replaced by the cluster's", "local", head.Epoch, "cluster", epoch)
		}
		if err := b.local.Adopt(ctx, epoch); err != nil {
			return fmt.Errorf("join cluster: %w", err)
		}
	}
	b.mu.Lock()
	b.epoch, b.healthy = epoch, true
	b.mu.Unlock()
	return nil
}

// appendScript assigns ids first..first+n-1 and appends the messages to
// the stream with those ids, atomically. It refuses when the cluster's
// epoch is not the caller's (Redis lost its data: the node must rejoin).
var appendScript = redis.NewScript(`
if redis.call('GET', KEYS[3]) ~= ARGV[2] then
  return redis.error_reply('EPOCH cluster epoch changed')
end
local n = (#ARGV - 2) / 4
local last = redis.call('INCRBY', KEYS[1], n)
local first = last - n + 1
for i = 0, n - 1 do
  local b = 3 + i * 4
  redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[1], (first + i) .. '-0',
    't', ARGV[b], 'y', ARGV[b + 1], 's', ARGV[b + 2], 'd', ARGV[b + 3])
end
return first
`)

// Append assigns cluster ids to msgs and stores them in Redis, then waits
// (briefly) until this node has ingested them, so a client reads its own
// writes on the node it published to. Redis unreachable is EUNAVAILABLE.
func (b *Broker) Append(ctx context.Context, msgs []livedash.Message) ([]*livedash.Frame, error) {
	if len(msgs) == 0 {
		return nil, nil
	}
	first, err := b.appendOnce(ctx, msgs)
	if err != nil && strings.Contains(err.Error(), "EPOCH") {
		if jerr := b.join(ctx); jerr == nil {
			first, err = b.appendOnce(ctx, msgs)
		}
	}
	if err != nil {
		b.onErr("append")
		b.setHealthy(false)
		return nil, livedash.Errorf(livedash.EUNAVAILABLE, "cluster broker unreachable; nothing was stored, try again")
	}
	b.mu.Lock()
	epoch := b.epoch
	b.mu.Unlock()
	frames := make([]*livedash.Frame, len(msgs))
	for i, m := range msgs {
		m.ID = livedash.ID{Seq: uint64(first) + uint64(i), Epoch: epoch}
		frames[i] = livedash.NewFrame(m)
	}
	b.local.WaitFor(ctx, frames[len(frames)-1].ID.Seq)
	return frames, nil
}

func (b *Broker) appendOnce(ctx context.Context, msgs []livedash.Message) (int64, error) {
	b.mu.Lock()
	epoch := b.epoch
	b.mu.Unlock()
	args := make([]any, 0, 2+4*len(msgs))
	args = append(args, b.maxLen, epoch)
	for _, m := range msgs {
		args = append(args, m.Topic, m.Type, m.TS, []byte(m.Data))
	}
	return appendScript.Run(ctx, b.rdb, []string{b.key("seq"), b.key("log"), b.key("epoch")}, args...).Int64()
}

// Head returns the seq of the newest id the cluster handed out.
func (b *Broker) Head(ctx context.Context) (uint64, error) {
	n, err := b.rdb.Get(ctx, b.key("seq")).Uint64()
	if errors.Is(err, redis.Nil) {
		return 0, nil
	}
	if err != nil {
		b.onErr("head")
		return 0, fmt.Errorf("cluster head: %w", err)
	}
	return n, nil
}

// Ping checks that Redis answers (for /readyz).
func (b *Broker) Ping(ctx context.Context) error {
	if err := b.rdb.Ping(ctx).Err(); err != nil {
		b.onErr("ping")
		b.setHealthy(false)
		return fmt.Errorf("redis: %w", err)
	}
	return nil
}

func (b *Broker) setHealthy(ok bool) {
	b.mu.Lock()
	was := b.healthy
	b.healthy = ok
	b.mu.Unlock()
	if was && !ok {
		b.log.Warn("redis unreachable")
	} else if !was && ok {
		b.log.Info("redis reachable again")
	}
}

// Run feeds the local store from the cluster stream until ctx is done.
// When Redis is unreachable it retries with backoff and, once back,
// rejoins and catches up from where the local store stands.
func (b *Broker) Run(ctx context.Context) error {
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := b.follow(ctx)
		if ctx.Err() != nil {
			return nil
		}
		b.onErr("follow")
		b.setHealthy(false)
		b.log.Debug("following the cluster stream", "err", err)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 2*time.Second)
		if b.join(ctx) == nil {
			backoff = 100 * time.Millisecond
		}
	}
	return nil
}

// follow reads the stream after the local head and ingests it.
func (b *Broker) follow(ctx context.Context) error {
	for {
		head := b.local.Head().Seq
		res, err := b.rdb.XRead(ctx, &redis.XReadArgs{
			Streams: []string{b.key("log"), strconv.FormatUint(head, 10) + "-0"},
			Count:   2000,
			Block:   time.Second,
		}).Result()
		if errors.Is(err, redis.Nil) {
			continue
		}
		if err != nil {
			return err
		}
		b.setHealthy(true)
		for _, stream := range res {
			msgs, err := b.decode(stream.Messages)
			if err != nil {
				return err
			}
			if _, err := b.local.Ingest(ctx, msgs); err != nil {
				return fmt.Errorf("ingest: %w", err)
			}
		}
	}
}

func (b *Broker) decode(entries []redis.XMessage) ([]livedash.Message, error) {
	b.mu.Lock()
	epoch := b.epoch
	b.mu.Unlock()
	msgs := make([]livedash.Message, 0, len(entries))
	for _, e := range entries {
		seqPart, _, _ := strings.Cut(e.ID, "-")
		seq, err := strconv.ParseUint(seqPart, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("stream entry %s: %w", e.ID, err)
		}
		ts, err := strconv.ParseInt(fmt.Sprint(e.Values["s"]), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("stream entry %s: bad ts", e.ID)
		}
		msgs = append(msgs, livedash.Message{
			ID:    livedash.ID{Seq: seq, Epoch: epoch},
			Topic: fmt.Sprint(e.Values["t"]),
			Type:  fmt.Sprint(e.Values["y"]),
			TS:    ts,
			Data:  []byte(fmt.Sprint(e.Values["d"])),
		})
	}
	return msgs, nil
}

// LoadState returns the blob saved under key in Redis, nil when none.
func (b *Broker) LoadState(ctx context.Context, key string) ([]byte, error) {
	v, err := b.rdb.Get(ctx, b.key("state:"+key)).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load state %s: %w", key, err)
	}
	return v, nil
}

// SaveState saves a blob under key in Redis.
func (b *Broker) SaveState(ctx context.Context, key string, value []byte) error {
	if err := b.rdb.Set(ctx, b.key("state:"+key), value, 0).Err(); err != nil {
		return fmt.Errorf("save state %s: %w", key, err)
	}
	return nil
}
