package redisbroker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/livedash/livedash"
)

// The notification queue in a cluster (package notify's Queue), shared by
// every node so that a new leader sends what the last one left: one hash
// of the notifications by key (JSON), one sorted set per receiver of their
// keys by due time, and the notify cursor under state:notify.cursor. Only
// the leader sends; any node may queue a test notification.

func (b *Broker) notifyItems() string              { return b.key("notify:items") }
func (b *Broker) notifyDue(receiver string) string { return b.key("notify:due:" + receiver) }
func (b *Broker) notifyCursor() string             { return b.key("state:notify.cursor") }

// receiverOf returns the receiver of a notification key (id, space, receiver).
func receiverOf(key string) string { return key[strings.LastIndexByte(key, ' ')+1:] }

// enqueueScript adds the notifications not queued yet and saves the
// cursor, atomically. KEYS: items, cursor, then one due set per item;
// ARGV: 1 or 0 (save the cursor), the cursor, then key, JSON, due time per item.
var enqueueScript = redis.NewScript(`
for i = 1, #KEYS - 2 do
  local b = 3 + (i - 1) * 3
  if redis.call('HSETNX', KEYS[1], ARGV[b], ARGV[b + 1]) == 1 then
    redis.call('ZADD', KEYS[2 + i], ARGV[b + 2], ARGV[b])
  end
end
if ARGV[1] == '1' then
  redis.call('SET', KEYS[2], ARGV[2])
end
return 1
`)

// NotifyCursor returns the cursor saved with the last enqueue, nil if none.
func (b *Broker) NotifyCursor(ctx context.Context) ([]byte, error) {
	v, err := b.rdb.Get(ctx, b.notifyCursor()).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	if err != nil {
		b.onErr("notify")
		return nil, fmt.Errorf("notify cursor: %w", err)
	}
	return v, nil
}

// EnqueueNotifications queues items (keys already queued are kept) and
// saves cursor when it is not nil, in one script.
func (b *Broker) EnqueueNotifications(ctx context.Context, items []livedash.Notification, cursor []byte) error {
	keys := []string{b.notifyItems(), b.notifyCursor()}
	save := "0"
	if cursor != nil {
		save = "1"
	}
	args := []any{save, cursor}
	for _, n := range items {
		j, err := json.Marshal(n)
		if err != nil {
			return fmt.Errorf("enqueue notification %s: %w", n.Key, err)
		}
		keys = append(keys, b.notifyDue(n.Receiver))
		args = append(args, n.Key, j, n.NextAt)
	}
	if err := enqueueScript.Run(ctx, b.rdb, keys, args...).Err(); err != nil {
		b.onErr("notify")
		return fmt.Errorf("enqueue notifications: %w", err)
	}
	return nil
}

// DueNotifications returns up to limit notifications of receiver due at
// now (unix ms), the earliest first.
func (b *Broker) DueNotifications(ctx context.Context, receiver string, now int64, limit int) ([]livedash.Notification, error) {
	keys, err := b.rdb.ZRangeByScore(ctx, b.notifyDue(receiver), &redis.ZRangeBy{Min: "-inf", Max: strconv.FormatInt(now, 10), Count: int64(limit)}).Result()
	if err != nil {
		b.onErr("notify")
		return nil, fmt.Errorf("due notifications: %w", err)
	}
	if len(keys) == 0 {
		return nil, nil
	}
	vals, err := b.rdb.HMGet(ctx, b.notifyItems(), keys...).Result()
	if err != nil {
		b.onErr("notify")
		return nil, fmt.Errorf("due notifications: %w", err)
	}
	out := make([]livedash.Notification, 0, len(keys))
	for i, v := range vals {
		s, ok := v.(string)
		var n livedash.Notification
		if !ok || json.Unmarshal([]byte(s), &n) != nil {
			b.rdb.ZRem(ctx, b.notifyDue(receiver), keys[i]) // no body: nothing to send
			continue
		}
		out = append(out, n)
	}
	return out, nil
}

// NextNotification returns when receiver's next notification is due.
func (b *Broker) NextNotification(ctx context.Context, receiver string) (int64, bool, error) {
	zs, err := b.rdb.ZRangeWithScores(ctx, b.notifyDue(receiver), 0, 0).Result()
	if err != nil {
		b.onErr("notify")
		return 0, false, fmt.Errorf("next notification: %w", err)
	}
	if len(zs) == 0 {
		return 0, false, nil
	}
	return int64(zs[0].Score), true, nil
}

// RescheduleNotification records a failed try of key.
func (b *Broker) RescheduleNotification(ctx context.Context, key string, attempts int, next int64) error {
	s, err := b.rdb.HGet(ctx, b.notifyItems(), key).Result()
	if errors.Is(err, redis.Nil) {
		return nil // removed meanwhile
	}
	if err != nil {
		b.onErr("notify")
		return fmt.Errorf("reschedule notification %s: %w", key, err)
	}
	var n livedash.Notification
	if err := json.Unmarshal([]byte(s), &n); err != nil {
		return fmt.Errorf("reschedule notification %s: %w", key, err)
	}
	n.Attempts, n.NextAt = attempts, next
	j, _ := json.Marshal(n)
	_, err = b.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, b.notifyItems(), key, j)
		p.ZAddXX(ctx, b.notifyDue(receiverOf(key)), redis.Z{Score: float64(next), Member: key})
		return nil
	})
	if err != nil {
		b.onErr("notify")
		return fmt.Errorf("reschedule notification %s: %w", key, err)
	}
	return nil
}

// RemoveNotification drops key from the queue.
func (b *Broker) RemoveNotification(ctx context.Context, key string) error {
	_, err := b.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.ZRem(ctx, b.notifyDue(receiverOf(key)), key)
		p.HDel(ctx, b.notifyItems(), key)
		return nil
	})
	if err != nil {
		b.onErr("notify")
		return fmt.Errorf("remove notification %s: %w", key, err)
	}
	return nil
}
