package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// retentionChunk is how many ids one retention transaction covers, so the
// writer is never held long away from publishes.
const retentionChunk = 20_000

// RunRetention enforces the retention policy every interval until ctx is
// done. Errors are reported to onError and the loop goes on.
func (s *Store) RunRetention(ctx context.Context, interval time.Duration, onError func(error)) {
	if s.ret.MaxAge <= 0 && s.ret.MaxBytes <= 0 {
		return
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, err := s.Retain(ctx); err != nil && ctx.Err() == nil && onError != nil {
			onError(err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Retain applies the retention policy once and returns how many messages
// it removed: first those older than MaxAge, then the oldest until the
// database uses at most MaxBytes. The newest message of each topic stays.
func (s *Store) Retain(ctx context.Context) (int64, error) {
	var removed int64
	if s.ret.MaxAge > 0 {
		cutoff := s.now().Add(-s.ret.MaxAge).UnixMilli()
		s.mu.RLock()
		head := s.lastSeq
		s.mu.RUnlock()
		var low uint64
		if err := s.read.QueryRowContext(ctx, "SELECT coalesce(min(seq), 0) FROM messages").Scan(&low); err != nil {
			return removed, fmt.Errorf("retention: %w", err)
		}
		for lo := low; lo <= head && lo > 0; lo += retentionChunk {
			hi := lo + retentionChunk
			n, err := s.removeWhere(ctx, "seq >= ? AND seq < ? AND ts < ?", lo, hi, cutoff)
			removed += n
			if err != nil {
				return removed, err
			}
		}
	}
	if s.ret.MaxBytes > 0 {
		for i := 0; i < 100; i++ {
			used, rows, err := s.usage(ctx)
			if err != nil || used <= s.ret.MaxBytes || rows == 0 {
				return removed, err
			}
			// Remove the oldest share that brings usage under the cap, and
			// 5% more so the next publishes do not trip it again at once.
			share := float64(used-s.ret.MaxBytes)/float64(used) + 0.05
			k := max(int64(float64(rows)*share), 1)
			var through uint64
			err = s.read.QueryRowContext(ctx, "SELECT seq FROM messages ORDER BY seq LIMIT 1 OFFSET ?", min(k, rows)-1).Scan(&through)
			if err != nil {
				return removed, fmt.Errorf("retention: %w", err)
			}
			n, err := s.removeWhere(ctx, "seq <= ?", through)
			removed += n
			if err != nil || n == 0 {
				return removed, err
			}
		}
	}
	return removed, nil
}

// usage returns the bytes in use by the database (not counting free pages)
// and the number of stored messages.
func (s *Store) usage(ctx context.Context) (used, rows int64, err error) {
	var pages, free, size int64
	if err := s.read.QueryRowContext(ctx, "PRAGMA page_count").Scan(&pages); err != nil {
		return 0, 0, fmt.Errorf("retention: %w", err)
	}
	if err := s.read.QueryRowContext(ctx, "PRAGMA freelist_count").Scan(&free); err != nil {
		return 0, 0, fmt.Errorf("retention: %w", err)
	}
	if err := s.read.QueryRowContext(ctx, "PRAGMA page_size").Scan(&size); err != nil {
		return 0, 0, fmt.Errorf("retention: %w", err)
	}
	if err := s.read.QueryRowContext(ctx, "SELECT count(*) FROM messages").Scan(&rows); err != nil {
		return 0, 0, fmt.Errorf("retention: %w", err)
	}
	return (pages - free) * size, rows, nil
}

// removeWhere deletes the messages matching cond, except the newest of each
// topic, on the writer goroutine, and records per topic the highest id it
// removed so resumes from before it are known to be inexact.
func (s *Store) removeWhere(ctx context.Context, cond string, args ...any) (int64, error) {
	var removed int64
	err := s.runJob(ctx, func(ctx context.Context) error {
		tx, err := s.write.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("retention: %w", err)
		}
		defer tx.Rollback()
		cond := cond + " AND seq NOT IN (SELECT last_seq FROM topics)"
		type gone struct {
			topic   int64
			count   int64
			through uint64
		}
		var gones []gone
		rows, err := tx.QueryContext(ctx, "SELECT topic_id, count(*), max(seq) FROM messages WHERE "+cond+" GROUP BY topic_id", args...)
		if err != nil {
			return fmt.Errorf("retention: %w", err)
		}
		for rows.Next() {
			var g gone
			if err := rows.Scan(&g.topic, &g.count, &g.through); err != nil {
				rows.Close()
				return fmt.Errorf("retention: %w", err)
			}
			gones = append(gones, g)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("retention: %w", err)
		}
		if len(gones) == 0 {
			return nil
		}
		for _, g := range gones {
			if _, err := tx.ExecContext(ctx, "UPDATE topics SET count = count - ?, trimmed_through = max(trimmed_through, ?) WHERE id = ?", g.count, g.through, g.topic); err != nil {
				return fmt.Errorf("retention: %w", err)
			}
		}
		res, err := tx.ExecContext(ctx, "DELETE FROM messages WHERE "+cond, args...)
		if err != nil {
			return fmt.Errorf("retention: %w", err)
		}
		removed, _ = res.RowsAffected()
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("retention: %w", err)
		}
		if _, err := s.write.ExecContext(ctx, "PRAGMA incremental_vacuum"); err != nil && err != sql.ErrNoRows {
			return fmt.Errorf("retention: vacuum: %w", err)
		}
		s.mu.Lock()
		for _, g := range gones {
			t := s.byID[g.topic]
			t.count -= g.count
			t.trimmedThrough = max(t.trimmedThrough, g.through)
			// The in-memory window may hold removed messages: reload it on
			// next use, and discard a load under way (it may have read them).
			t.recent, t.recentLoaded = nil, false
			t.gen++
		}
		s.mu.Unlock()
		return nil
	})
	return removed, err
}
