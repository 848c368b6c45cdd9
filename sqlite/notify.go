package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/livedash/livedash"
)

// The notification queue (package notify's Queue): rows of notify_queue,
// written on the writer goroutine like everything else, read in pages.

// notifyCursorKey is the state key of the notify cursor.
const notifyCursorKey = "notify.cursor"

// NotifyCursor returns the cursor saved with the last enqueue, nil if none.
func (s *Store) NotifyCursor(ctx context.Context) ([]byte, error) {
	return s.LoadState(ctx, notifyCursorKey)
}

// EnqueueNotifications queues items (keys already queued are kept as they
// are) and saves cursor when it is not nil, in one transaction.
func (s *Store) EnqueueNotifications(ctx context.Context, items []livedash.Notification, cursor []byte) error {
	return s.runJob(ctx, func(ctx context.Context) error {
		tx, err := s.write.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("enqueue notifications: %w", err)
		}
		defer tx.Rollback()
		for _, n := range items {
			if _, err := tx.ExecContext(ctx, "INSERT INTO notify_queue(key, id, receiver, body, created, attempts, next_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(key) DO NOTHING",
				n.Key, n.ID, n.Receiver, n.Body, n.Created, n.Attempts, n.NextAt); err != nil {
				return fmt.Errorf("enqueue notification %s: %w", n.Key, err)
			}
		}
		if cursor != nil {
			if _, err := tx.ExecContext(ctx, "INSERT INTO state(key, value, updated) VALUES (?, ?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated = excluded.updated",
				notifyCursorKey, cursor, s.now().UnixMilli()); err != nil {
				return fmt.Errorf("save notify cursor: %w", err)
			}
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("enqueue notifications: %w", err)
		}
		return nil
	})
}

// DueNotifications returns up to limit notifications of receiver due at
// now (unix ms), the earliest first.
func (s *Store) DueNotifications(ctx context.Context, receiver string, now int64, limit int) ([]livedash.Notification, error) {
	rows, err := s.read.QueryContext(ctx, "SELECT key, id, receiver, body, created, attempts, next_at FROM notify_queue WHERE receiver = ? AND next_at <= ? ORDER BY next_at, key LIMIT ?",
		receiver, now, limit)
	if err != nil {
		return nil, fmt.Errorf("due notifications: %w", err)
	}
	defer rows.Close()
	var out []livedash.Notification
	for rows.Next() {
		var n livedash.Notification
		if err := rows.Scan(&n.Key, &n.ID, &n.Receiver, &n.Body, &n.Created, &n.Attempts, &n.NextAt); err != nil {
			return nil, fmt.Errorf("due notifications: %w", err)
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

// NextNotification returns when receiver's next notification is due.
func (s *Store) NextNotification(ctx context.Context, receiver string) (int64, bool, error) {
	var at int64
	err := s.read.QueryRowContext(ctx, "SELECT next_at FROM notify_queue WHERE receiver = ? ORDER BY next_at LIMIT 1", receiver).Scan(&at)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("next notification: %w", err)
	}
	return at, true, nil
}

// RescheduleNotification records a failed try of key.
func (s *Store) RescheduleNotification(ctx context.Context, key string, attempts int, next int64) error {
	return s.runJob(ctx, func(ctx context.Context) error {
		if _, err := s.write.ExecContext(ctx, "UPDATE notify_queue SET attempts = ?, next_at = ? WHERE key = ?", attempts, next, key); err != nil {
			return fmt.Errorf("reschedule notification %s: %w", key, err)
		}
		return nil
	})
}

// RemoveNotification drops key from the queue.
func (s *Store) RemoveNotification(ctx context.Context, key string) error {
	return s.runJob(ctx, func(ctx context.Context) error {
		if _, err := s.write.ExecContext(ctx, "DELETE FROM notify_queue WHERE key = ?", key); err != nil {
			return fmt.Errorf("remove notification %s: %w", key, err)
		}
		return nil
	})
}
