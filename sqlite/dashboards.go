package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// Dashboards returns the stored dashboard definitions (JSON) by name.
func (s *Store) Dashboards(ctx context.Context) (map[string][]byte, error) {
	rows, err := s.read.QueryContext(ctx, "SELECT name, body FROM dashboards")
	if err != nil {
		return nil, fmt.Errorf("list dashboards: %w", err)
	}
	defer rows.Close()
	out := map[string][]byte{}
	for rows.Next() {
		var name string
		var body []byte
		if err := rows.Scan(&name, &body); err != nil {
			return nil, fmt.Errorf("list dashboards: %w", err)
		}
		out[name] = body
	}
	return out, rows.Err()
}

// PutDashboard stores a dashboard definition (JSON) under name.
func (s *Store) PutDashboard(ctx context.Context, name string, body []byte) error {
	return s.runJob(ctx, func(ctx context.Context) error {
		_, err := s.write.ExecContext(ctx, "INSERT INTO dashboards(name, body, updated) VALUES (?, ?, ?) ON CONFLICT(name) DO UPDATE SET body = excluded.body, updated = excluded.updated",
			name, body, s.now().UnixMilli())
		if err != nil {
			return fmt.Errorf("put dashboard %s: %w", name, err)
		}
		return nil
	})
}

// DeleteDashboard removes a stored dashboard and reports whether it existed.
func (s *Store) DeleteDashboard(ctx context.Context, name string) (bool, error) {
	var existed bool
	err := s.runJob(ctx, func(ctx context.Context) error {
		res, err := s.write.ExecContext(ctx, "DELETE FROM dashboards WHERE name = ?", name)
		if err != nil {
			return fmt.Errorf("delete dashboard %s: %w", name, err)
		}
		n, _ := res.RowsAffected()
		existed = n > 0
		return nil
	})
	return existed, err
}

// LoadState returns the blob saved under key, or nil when there is none.
func (s *Store) LoadState(ctx context.Context, key string) ([]byte, error) {
	var b []byte
	err := s.read.QueryRowContext(ctx, "SELECT value FROM state WHERE key = ?", key).Scan(&b)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load state %s: %w", key, err)
	}
	return b, nil
}

// SaveState saves a blob under key, durably.
func (s *Store) SaveState(ctx context.Context, key string, value []byte) error {
	return s.runJob(ctx, func(ctx context.Context) error {
		_, err := s.write.ExecContext(ctx, "INSERT INTO state(key, value, updated) VALUES (?, ?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated = excluded.updated",
			key, value, s.now().UnixMilli())
		if err != nil {
			return fmt.Errorf("save state %s: %w", key, err)
		}
		return nil
	})
}
