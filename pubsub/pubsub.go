// Package pubsub joins the durable log and the live fan-out into what a
// client sees: on subscribe, stored history (a backlog, or exactly what came
// after a given id) followed by live messages, in id order, with no gap and
// no message twice; a reset first when an exact resume is impossible.
//
// The trick that makes the join exact: the session registers its patterns
// with the hub before it reads history. Every message committed after that
// is queued live; every message committed before it is in the history read.
// Live frames already covered by history are skipped by id.
package pubsub

import (
	"context"
	"fmt"
	"slices"
	"sort"

	"github.com/livedash/livedash"
	"github.com/livedash/livedash/hub"
)

// Log is what a session needs from the message store.
type Log interface {
	// After returns up to limit messages matching patterns with seq >
	// after, in id order, stopping before the one that would pass
	// maxBytes of envelopes (0: no budget; at least one is returned).
	After(ctx context.Context, patterns []string, after uint64, limit int, maxBytes int64) ([]*livedash.Frame, error)
	// Backlog returns the newest perTopic messages of each matching topic,
	// in id order, and of those the newest that fit in maxBytes of
	// envelopes (0: no budget; at least one is returned).
	Backlog(ctx context.Context, patterns []string, perTopic int, maxBytes int64) ([]*livedash.Frame, error)
	// TrimmedAfter reports whether retention removed a matching message newer than seq.
	TrimmedAfter(patterns []string, seq uint64) bool
	// Head is the id of the newest message.
	Head() livedash.ID
	// WaitFor waits (briefly, as the log allows) until the head reaches
	// seq and returns the head: in a cluster a node may not yet have
	// ingested an id another node handed out.
	WaitFor(ctx context.Context, seq uint64) livedash.ID
}

// DefaultBacklog is how many recent messages per topic a fresh subscription gets.
const DefaultBacklog = 50

// MaxBacklog caps the backlog a client may ask for, per topic.
const MaxBacklog = 1000

// resumePage is how many messages one history read returns while resuming
// (fewer when the session's byte budget cuts the read).
const resumePage = 1000

// Emitter receives what a session sends to its client, in order.
type Emitter interface {
	Reset(patterns []string, reason string) error
	Frame(f *livedash.Frame) error
}

// Session is one client connection's view: a hub subscriber plus one group
// per subscribe request. It is used by one goroutine.
type Session struct {
	log    Log
	sub    *hub.Subscriber
	groups []*group
	buf    []*livedash.Frame
	// sent remembers recently sent ids when several groups may overlap, so
	// a message matched by two subscriptions is still sent once.
	sent *recentSet
	// maxBytes is the byte budget of one history read (0: none).
	maxBytes int64
}

type group struct {
	patterns []string
	cursor   uint64 // every matching message with seq <= cursor is handled
}

// NewSession starts a session with no subscriptions. multi says the client
// may subscribe more than once (WebSocket), which turns on the dedupe of
// overlapping subscriptions. maxBytes (0: none) is the byte budget of the
// session's history reads: a backlog keeps the newest messages that fit
// in it; a resume reads pages that fit in it until it has caught up, so it
// stays exact.
func NewSession(h *hub.Hub, log Log, multi bool, maxBytes int64) *Session {
	s := &Session{log: log, sub: h.Subscribe(), maxBytes: maxBytes}
	if multi {
		s.sent = newRecentSet(8192)
	}
	return s
}

// Ready receives a value when live frames wait; call Live then.
func (s *Session) Ready() <-chan struct{} { return s.sub.Ready() }

// OnReady sets fn to be called (without blocking) instead of signalling
// Ready when live frames start waiting.
func (s *Session) OnReady(fn func()) { s.sub.OnReady(fn) }

// Done is closed when the session's subscriber is cut off (Err says why).
func (s *Session) Done() <-chan struct{} { return s.sub.Done() }

// Err is hub.ErrSlow when the client fell behind and was cut off.
func (s *Session) Err() error { return s.sub.Err() }

// Dropped is how many live frames were discarded when the session was cut
// off as slow.
func (s *Session) Dropped() int { return s.sub.Dropped() }

// Close ends the session.
func (s *Session) Close() { s.sub.Close() }

// OnCut sets fn to run (without blocking) when the session is cut off for
// falling behind, so a write stuck on the slow client can be aborted.
func (s *Session) OnCut(fn func()) { s.sub.OnCut(fn) }

// Subscribe adds a subscription to patterns (already validated and
// authorised) and emits its history: after the id since when given and
// resumable, else (after a reset when since was given) the newest backlog
// messages per topic. Live messages follow through Live.
func (s *Session) Subscribe(ctx context.Context, patterns []string, since string, backlog int, emit Emitter) error {
	s.sub.Add(patterns...)
	g := &group{patterns: patterns}
	s.groups = append(s.groups, g)
	if since != "" {
		if reason := s.resumable(ctx, patterns, since); reason != "" {
			if err := emit.Reset(patterns, reason); err != nil {
				return err
			}
		} else {
			return s.resume(ctx, g, since, emit)
		}
	}
	frames, err := s.log.Backlog(ctx, patterns, min(backlog, MaxBacklog), s.maxBytes)
	if err != nil {
		return fmt.Errorf("backlog: %w", err)
	}
	for _, f := range frames {
		if err := s.emitHistory(g, f, emit); err != nil {
			return err
		}
	}
	return nil
}

// resumable returns why a resume from since is impossible, or "".
func (s *Session) resumable(ctx context.Context, patterns []string, since string) string {
	id, err := livedash.ParseID(since)
	if err != nil {
		return "malformed id"
	}
	head := s.log.Head()
	if id.Epoch == head.Epoch && id.Seq > head.Seq {
		head = s.log.WaitFor(ctx, id.Seq)
	}
	if id.Epoch != head.Epoch || id.Seq > head.Seq {
		return "unknown id"
	}
	if s.log.TrimmedAfter(patterns, id.Seq) {
		return "history trimmed"
	}
	return ""
}

func (s *Session) resume(ctx context.Context, g *group, since string, emit Emitter) error {
	id, _ := livedash.ParseID(since)
	g.cursor = id.Seq
	for {
		frames, err := s.log.After(ctx, g.patterns, g.cursor, resumePage, s.maxBytes)
		if err != nil {
			return fmt.Errorf("resume: %w", err)
		}
		for _, f := range frames {
			if err := s.emitHistory(g, f, emit); err != nil {
				return err
			}
		}
		// A short page is the end only without a budget: one that the
		// budget cut is followed by another read.
		if len(frames) == 0 || (s.maxBytes == 0 && len(frames) < resumePage) {
			return nil
		}
		select {
		case <-s.sub.Done():
			return nil // too far behind; the caller sees Done and ends the stream
		case <-ctx.Done():
			return ctx.Err()
		default:
		}
	}
}

func (s *Session) emitHistory(g *group, f *livedash.Frame, emit Emitter) error {
	g.cursor = max(g.cursor, f.ID.Seq)
	if s.sent != nil && !s.sent.add(f.ID.Seq) {
		return nil
	}
	return emit.Frame(f)
}

// Patterns is how many patterns the session's subscriptions hold, counting
// a pattern once per subscription that names it.
func (s *Session) Patterns() int {
	n := 0
	for _, g := range s.groups {
		n += len(g.patterns)
	}
	return n
}

// Unsubscribe removes patterns from every subscription that has them.
func (s *Session) Unsubscribe(patterns []string) {
	drop := map[string]bool{}
	for _, p := range patterns {
		drop[p] = true
	}
	kept := s.groups[:0]
	for _, g := range s.groups {
		ps := g.patterns[:0:0]
		for _, p := range g.patterns {
			if drop[p] {
				s.sub.Remove(p)
			} else {
				ps = append(ps, p)
			}
		}
		g.patterns = ps
		if len(ps) > 0 {
			kept = append(kept, g)
		}
	}
	s.groups = kept
}

// Live emits the live frames waiting, skipping what history already sent.
func (s *Session) Live(emit Emitter) error {
	frames := s.sub.Take(s.buf)
	defer func() { s.buf = frames[:0] }()
	for _, f := range frames {
		if !s.due(f) {
			continue
		}
		if s.sent != nil && !s.sent.add(f.ID.Seq) {
			continue
		}
		if err := emit.Frame(f); err != nil {
			return err
		}
	}
	return nil
}

// due reports whether a live frame is new to some subscription it matches,
// and moves those subscriptions' cursors past it.
func (s *Session) due(f *livedash.Frame) bool {
	if len(s.groups) == 1 {
		g := s.groups[0]
		if f.ID.Seq <= g.cursor {
			return false
		}
		g.cursor = f.ID.Seq
		return true
	}
	due := false
	for _, g := range s.groups {
		if !g.matches(f.Topic) {
			continue
		}
		if f.ID.Seq > g.cursor {
			due = true
			g.cursor = f.ID.Seq
		}
	}
	return due
}

func (g *group) matches(topic string) bool {
	for _, p := range g.patterns {
		if livedash.Match(p, topic) {
			return true
		}
	}
	return false
}

// recentSet remembers up to max ids, and forgets the lowest first when
// full. The ids are kept sorted in a ring: live ids arrive in increasing
// order, so the common add is an append that may overwrite the lowest, and
// the rarer ids of a new subscription's history are inserted in place.
// It costs 8 bytes an id and grows as ids arrive, so an idle connection
// holds almost nothing.
type recentSet struct {
	max   int
	ring  []uint64 // ring[(start+i)%len(ring)] is the i-th lowest id
	start int
}

// newRecentSet returns a set remembering up to n ids.
func newRecentSet(n int) *recentSet {
	return &recentSet{max: n}
}

func (r *recentSet) at(i int) uint64 { return r.ring[(r.start+i)%len(r.ring)] }

// add records seq and reports whether it was new. An id lower than every
// remembered one while the set is full counts as new (it is too old to
// tell).
func (r *recentSet) add(seq uint64) bool {
	n := len(r.ring)
	i := n // a live id, higher than any yet: no search
	if n > 0 && seq <= r.at(n-1) {
		i = sort.Search(n, func(i int) bool { return r.at(i) >= seq })
	}
	if i < n && r.at(i) == seq {
		return false
	}
	if n < r.max {
		// Not full: the ring is not wrapped yet (start is 0).
		r.ring = slices.Insert(r.ring, i, seq)
		return true
	}
	if i == 0 {
		return true
	}
	// Full: drop the lowest id, L[0], and put seq between L[i-1] and L[i],
	// moving whichever side is shorter by one place.
	if i-1 <= n-i {
		for k := 0; k < i-1; k++ {
			r.ring[(r.start+k)%n] = r.ring[(r.start+k+1)%n]
		}
		r.ring[(r.start+i-1)%n] = seq
	} else {
		// L[i…] moves up into L[0]'s slot and the view starts one later;
		// for a live id (the highest yet) nothing moves at all.
		for k := n - 1; k >= i; k-- {
			r.ring[(r.start+k+1)%n] = r.ring[(r.start+k)%n]
		}
		r.ring[(r.start+i)%n] = seq
		r.start = (r.start + 1) % n
	}
	return true
}
