// Package enginestate keeps the state of livedash's engines (rollups,
// alert rules) as JSON under a key of a Store: the local SQLite store on
// one node, Redis in a cluster.
package enginestate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
)

// Store keeps named blobs. LoadState returns nil when nothing is saved.
type Store interface {
	LoadState(ctx context.Context, key string) ([]byte, error)
	SaveState(ctx context.Context, key string, value []byte) error
}

// ErrUnreadable is returned by Load when the saved blob does not decode:
// the engine should start afresh (and say so) rather than fail.
var ErrUnreadable = errors.New("saved state is unreadable")

// Save stores v as JSON under key.
func Save(ctx context.Context, s Store, key string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("%s: save: %w", key, err)
	}
	if err := s.SaveState(ctx, key, b); err != nil {
		return fmt.Errorf("%s: save: %w", key, err)
	}
	return nil
}

// Load decodes the JSON saved under key into v and reports whether there
// was any. An undecodable blob is ErrUnreadable (wrapped).
func Load(ctx context.Context, s Store, key string, v any) (bool, error) {
	b, err := s.LoadState(ctx, key)
	if err != nil {
		return false, fmt.Errorf("%s: load: %w", key, err)
	}
	if b == nil {
		return false, nil
	}
	if err := json.Unmarshal(b, v); err != nil {
		return false, fmt.Errorf("%s: %w: %v", key, ErrUnreadable, err)
	}
	return true, nil
}
