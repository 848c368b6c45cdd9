package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
)

// Store keeps the engines' state, named blobs: the local SQLite store on one
// node, Redis in a cluster (so the next leader continues where the last one
// stopped). LoadState returns nil when nothing is saved under key.
type Store interface {
	LoadState(ctx context.Context, key string) ([]byte, error)
	SaveState(ctx context.Context, key string, value []byte) error
}

// errUnreadable is returned by loadJSON when the saved blob does not decode:
// the engine should start afresh (and say so) rather than fail.
var errUnreadable = errors.New("saved state is unreadable")

// saveJSON stores v as JSON under key.
func saveJSON(ctx context.Context, s Store, key string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("%s: save: %w", key, err)
	}
	if err := s.SaveState(ctx, key, b); err != nil {
		return fmt.Errorf("%s: save: %w", key, err)
	}
	return nil
}

// loadJSON decodes the JSON saved under key into v and reports whether
// there was any. An undecodable blob is errUnreadable (wrapped).
func loadJSON(ctx context.Context, s Store, key string, v any) (bool, error) {
	b, err := s.LoadState(ctx, key)
	if err != nil {
		return false, fmt.Errorf("%s: load: %w", key, err)
	}
	if b == nil {
		return false, nil
	}
	if err := json.Unmarshal(b, v); err != nil {
		return false, fmt.Errorf("%s: %w: %v", key, errUnreadable, err)
	}
	return true, nil
}
