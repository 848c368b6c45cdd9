// Package engine owns what livedash's engines (package rollup, package
// alert) share, and how the server drives them:
//
//   - Core, the skeleton of an engine: its options (publisher, state
//     store, clock, ticks, logger), which committed frames it has seen (by
//     epoch and seq), publishing its messages with failures logged at most
//     every 10 s, saving and loading its state as JSON under its name, and
//     the tick loop (Run) that ends with a last save;
//   - Feed, which gives an engine (or the notifier) every committed message
//     once, in id order: what the store holds that it has not seen, then
//     the hub's live frames, catching up again after falling behind;
//   - Store, where the state is kept: the local SQLite store on one node,
//     Redis in a cluster.
//
// What an engine computes (windows, alert state machines) stays in its own
// package.
package engine

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/livedash/livedash"
)

// Options are what every engine takes; alert.Options and rollup.Options
// carry them (with their own defaults) to NewCore.
type Options struct {
	// Publisher publishes the engine's messages (the server's, which may
	// write sys. topics).
	Publisher livedash.Publisher
	// State persists the engine's state; nil keeps it in memory only.
	State Store
	// Now is the engine's clock; time.Now if nil.
	Now func() time.Time
	// Ticks, if set, drives Run instead of a ticker of TickEvery: each
	// value is the time of a tick. Run returns when it is closed.
	Ticks <-chan time.Time
	// TickEvery is the interval of Run's ticker.
	TickEvery time.Duration
	// SaveEvery is the least time between two periodic saves.
	SaveEvery time.Duration
	// Logger gets publish and save failures; nil discards.
	Logger *slog.Logger
}

// Core is the part of an engine its package does not write again. It is
// not safe for concurrent use: the engine calls it with its own lock held
// (Run aside, whose tick and save take that lock).
type Core struct {
	name string
	opts Options
	log  *slog.Logger

	epoch     string
	lastSeq   uint64
	lastSave  time.Time
	logFailAt time.Time
}

// NewCore returns the core of the engine named name ("alert", "rollup"):
// the key its state is saved under and the start of its log lines. Zero
// TickEvery and SaveEvery take tickEvery and saveEvery.
func NewCore(name string, o Options, tickEvery, saveEvery time.Duration) (*Core, error) {
	if o.Publisher == nil {
		return nil, errors.New(name + ": no publisher")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.TickEvery <= 0 {
		o.TickEvery = tickEvery
	}
	if o.SaveEvery <= 0 {
		o.SaveEvery = saveEvery
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Core{name: name, opts: o, log: log}, nil
}

// Now reads the engine's clock.
func (c *Core) Now() time.Time { return c.opts.Now() }

// Log is the engine's logger.
func (c *Core) Log() *slog.Logger { return c.log }

// Next reports whether f is one the engine has not seen, and marks it
// seen: frames come in id order, so a frame at or before the last seq is
// a repeat (a feeder overlaps what it reads from the store with what it
// receives live). A frame of another epoch (a new log) starts the count
// afresh.
func (c *Core) Next(f *livedash.Frame) bool {
	if f.ID.Epoch != c.epoch {
		c.epoch, c.lastSeq = f.ID.Epoch, 0
	}
	if f.ID.Seq <= c.lastSeq {
		return false
	}
	c.lastSeq = f.ID.Seq
	return true
}

// Position returns the epoch and seq of the last frame seen (or restored).
func (c *Core) Position() (epoch string, seq uint64) { return c.epoch, c.lastSeq }

// Restore sets the position a loaded state was saved at.
func (c *Core) Restore(epoch string, seq uint64) { c.epoch, c.lastSeq = epoch, seq }

// Publish publishes msgs (livedash.PublishAll). A failure drops the
// failed batch and is logged, at most every 10 s by now.
func (c *Core) Publish(ctx context.Context, msgs []livedash.Message, now time.Time) {
	livedash.PublishAll(ctx, c.opts.Publisher, msgs, func(n int, err error) {
		if now.Sub(c.logFailAt) >= 10*time.Second {
			c.logFailAt = now
			c.log.Warn(c.name+": publish failed; messages dropped", "messages", n, "err", err)
		}
	})
}

// SaveDue reports whether SaveEvery has passed at now since the last save.
func (c *Core) SaveDue(now time.Time) bool { return now.Sub(c.lastSave) >= c.opts.SaveEvery }

// Save stores state, the engine's, as JSON under the engine's name, and
// notes now as the last save. It is a no-op without a Store.
func (c *Core) Save(ctx context.Context, state any, now time.Time) error {
	if c.opts.State == nil {
		return nil
	}
	if err := saveJSON(ctx, c.opts.State, c.name, state); err != nil {
		return err
	}
	c.lastSave = now
	return nil
}

// Load decodes the state saved under the engine's name into state and
// reports whether there was one. Without a Store there is none; an
// unreadable one is logged and taken as none, so the engine starts
// afresh rather than not at all.
func (c *Core) Load(ctx context.Context, state any) (bool, error) {
	if c.opts.State == nil {
		return false, nil
	}
	found, err := loadJSON(ctx, c.opts.State, c.name, state)
	if errors.Is(err, errUnreadable) {
		c.log.Warn(c.name+": saved state is unreadable; starting afresh", "err", err)
		return false, nil
	}
	return found, err
}

// Run calls tick with the engine's clock at every tick (of Ticks, or every
// TickEvery) until ctx is done or Ticks is closed, then save with a short
// context of its own (ctx is done by then). It returns nil on a normal
// stop.
func (c *Core) Run(ctx context.Context, tick func(context.Context, time.Time), save func(context.Context) error) error {
	ticks := c.opts.Ticks
	if ticks == nil {
		t := time.NewTicker(c.opts.TickEvery)
		defer t.Stop()
		ticks = t.C
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := save(sctx); err != nil {
			c.log.Warn(c.name+": final save failed", "err", err)
		}
	}()
	for {
		select {
		case <-ctx.Done():
			return nil
		case _, ok := <-ticks:
			if !ok {
				return nil
			}
			tick(ctx, c.opts.Now())
		}
	}
}
