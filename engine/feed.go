package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/livedash/livedash"
	"github.com/livedash/livedash/hub"
)

// Fed is what Feed drives: rollup.Engine, alert.Engine and notify.Service.
type Fed interface {
	Patterns() []string
	Load(ctx context.Context) error
	LastSeq() uint64
	Observe(ctx context.Context, frames []*livedash.Frame)
	Run(ctx context.Context) error
}

// FrameReader reads stored messages to catch an engine up: the store.
type FrameReader interface {
	After(ctx context.Context, patterns []string, after uint64, limit int, maxBytes int64) ([]*livedash.Frame, error)
	History(ctx context.Context, q livedash.HistoryQuery) ([]*livedash.Frame, error)
}

// Start says where an engine without saved state (LastSeq 0) starts
// reading the store: the messages with ts from BackfillFrom() on when it
// is set, else those after AfterSeq.
type Start struct {
	BackfillFrom func() int64
	AfterSeq     uint64
}

// catchUpBatch is how many stored messages are read at a time.
const catchUpBatch = 1000

// Feed restores eng's state, then feeds it: it subscribes to the hub,
// reads from the store what eng has not seen (the overlap with the live
// subscription is skipped by eng, by seq), starts eng's clock and passes
// it live frames until ctx is done. When the subscription is cut off for
// falling behind, it logs, subscribes again and catches up from the store,
// so nothing is missed. fresh says where an engine without saved state
// starts.
func Feed(ctx context.Context, eng Fed, h *hub.Hub, store FrameReader, fresh Start, log *slog.Logger) error {
	if err := eng.Load(ctx); err != nil {
		log.Error("engine: cannot load saved state; starting afresh", "err", err)
	}
	patterns := eng.Patterns()
	var clock sync.WaitGroup
	defer clock.Wait()
	clockStarted := false
	buf := make([]*livedash.Frame, 0, 256)
	for {
		sub := h.Subscribe(patterns...)
		if err := catchUp(ctx, store, patterns, eng, fresh); err != nil {
			sub.Close()
			if ctx.Err() != nil {
				return nil
			}
			log.Warn("engine: catching up from the store failed; retrying", "err", err)
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(time.Second):
			}
			continue
		}
		if !clockStarted {
			clockStarted = true
			clock.Add(1)
			go func() {
				defer clock.Done()
				if err := eng.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
					log.Error("engine: stopped", "err", err)
				}
			}()
		}
		if !feedLive(ctx, sub, eng, &buf) {
			sub.Close()
			return nil
		}
		log.Warn("engine: fell behind the live messages; catching up from the store", "err", sub.Err())
		sub.Close()
	}
}

// feedLive passes sub's frames to eng until ctx is done (false) or sub is
// cut off (true).
func feedLive(ctx context.Context, sub *hub.Subscriber, eng Fed, buf *[]*livedash.Frame) bool {
	for {
		select {
		case <-ctx.Done():
			return false
		case <-sub.Done():
			return true
		case <-sub.Ready():
			frames := sub.Take(*buf)
			eng.Observe(ctx, frames)
			*buf = frames[:0]
		}
	}
}

// catchUp feeds eng the stored messages after its LastSeq; an engine that
// has seen nothing starts where fresh says.
func catchUp(ctx context.Context, store FrameReader, patterns []string, eng Fed, fresh Start) error {
	after := eng.LastSeq()
	if after == 0 && fresh.BackfillFrom != nil {
		from := fresh.BackfillFrom()
		frames, err := store.History(ctx, livedash.HistoryQuery{Patterns: patterns, From: &from, Limit: catchUpBatch})
		if err != nil {
			return fmt.Errorf("backfill: %w", err)
		}
		eng.Observe(ctx, frames)
		if len(frames) < catchUpBatch {
			return nil
		}
		after = frames[len(frames)-1].ID.Seq
	} else if after == 0 {
		after = fresh.AfterSeq
	}
	for {
		frames, err := store.After(ctx, patterns, after, catchUpBatch, 0)
		if err != nil {
			return fmt.Errorf("catch up after %d: %w", after, err)
		}
		eng.Observe(ctx, frames)
		if len(frames) < catchUpBatch {
			return nil
		}
		after = frames[len(frames)-1].ID.Seq
	}
}
