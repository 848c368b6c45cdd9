// Package hub is livedash's in-process fan-out. It indexes subscribers by
// their topic patterns in a segment tree and, for each committed message,
// queues the one shared pre-encoded frame on every matching subscriber.
//
// Publish never waits for a subscriber: each has a queue capped in bytes,
// and one that falls further behind is cut off (Done closes, Err is
// ErrSlow); its connection resumes later by id. Publish must be called from
// one goroutine at a time, in id order (the store's writer does this), so
// every subscriber sees ids in increasing order.
package hub

import (
	"errors"
	"strings"
	"sync"

	"github.com/livedash/livedash"
)

// ErrSlow is the reason of a subscriber cut off for falling behind.
var ErrSlow = errors.New("slow consumer: too far behind")

// ErrClosed is the reason of a subscriber closed by its owner.
var ErrClosed = errors.New("subscriber closed")

// DefaultMaxPending is the default cap of one subscriber's queue, in bytes.
const DefaultMaxPending = 1 << 20

// Hub fans frames out to subscribers. It is safe for concurrent use.
type Hub struct {
	maxPending int
	onSlow     func(*Subscriber)

	mu    sync.RWMutex // guards the tree and count
	root  *node
	count int
}

// Options configure a Hub.
type Options struct {
	// MaxPending caps each subscriber's queue in bytes (of SSE frames);
	// default DefaultMaxPending.
	MaxPending int
	// OnSlow is called (from Publish; it must not block) when a
	// subscriber is cut off for falling behind.
	OnSlow func(*Subscriber)
}

// New returns an empty hub.
func New(opts Options) *Hub {
	if opts.MaxPending <= 0 {
		opts.MaxPending = DefaultMaxPending
	}
	return &Hub{maxPending: opts.MaxPending, onSlow: opts.OnSlow, root: &node{}}
}

type node struct {
	children map[string]*node
	star     *node               // the "*" child
	tail     map[*Subscriber]int // patterns ending in ">" below this node
	exact    map[*Subscriber]int // patterns ending at this node
}

// Subscriber receives the frames of the topics its patterns match.
type Subscriber struct {
	hub *Hub

	mu       sync.Mutex
	queue    []*livedash.Frame
	queued   int
	lastSeq  uint64
	closed   bool
	err      error
	patterns map[string]int // guarded by hub.mu

	dropped int // frames discarded when cut off as slow
	ready   chan struct{}
	done    chan struct{}
	onCut   func() // called once when cut off as slow; guarded by mu
	onReady func() // called instead of signalling ready; guarded by mu
}

// OnReady sets fn to be called (from Publish, so it must not block)
// instead of signalling Ready each time frames start waiting: a
// connection pool uses it to wake the connection's writer.
func (s *Subscriber) OnReady(fn func()) {
	s.mu.Lock()
	s.onReady = fn
	s.mu.Unlock()
}

// OnCut sets fn to be called (from Publish, so it must not block) when s
// is cut off for falling behind: a connection uses it to abort a write
// that is stuck on the slow client.
func (s *Subscriber) OnCut(fn func()) {
	s.mu.Lock()
	s.onCut = fn
	s.mu.Unlock()
}

// Subscribe returns a new subscriber for patterns (which may be none yet).
// Patterns must be valid.
func (h *Hub) Subscribe(patterns ...string) *Subscriber {
	s := &Subscriber{hub: h, patterns: map[string]int{}, ready: make(chan struct{}, 1), done: make(chan struct{})}
	h.mu.Lock()
	h.count++
	for _, p := range patterns {
		h.addLocked(s, p)
	}
	h.mu.Unlock()
	return s
}

// Subscribers returns how many subscribers are open.
func (h *Hub) Subscribers() int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.count
}

// Add adds patterns to s. Adding a pattern twice needs two Removes.
func (s *Subscriber) Add(patterns ...string) {
	h := s.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	if s.isClosed() {
		return
	}
	for _, p := range patterns {
		h.addLocked(s, p)
	}
}

// Remove removes patterns from s.
func (s *Subscriber) Remove(patterns ...string) {
	h := s.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, p := range patterns {
		if s.patterns[p] > 0 {
			h.removeLocked(s, p)
		}
	}
}

// Close removes s from the hub and closes Done. Safe to call more than once.
func (s *Subscriber) Close() {
	h := s.hub
	h.mu.Lock()
	for p, n := range s.patterns {
		for range n {
			h.removeLocked(s, p)
		}
	}
	if s.patterns != nil {
		h.count--
		s.patterns = nil
	}
	h.mu.Unlock()
	s.shut(ErrClosed)
}

func (s *Subscriber) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// shut closes the subscriber with reason err unless already closed.
func (s *Subscriber) shut(err error) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.closed, s.err = true, err
	if err == ErrSlow {
		s.dropped = len(s.queue)
	}
	s.queue, s.queued = nil, 0
	close(s.done)
	return true
}

// Ready receives a value when frames are waiting to be taken.
func (s *Subscriber) Ready() <-chan struct{} { return s.ready }

// Done is closed when the subscriber is cut off or closed.
func (s *Subscriber) Done() <-chan struct{} { return s.done }

// Err says why Done closed: ErrSlow or ErrClosed; nil while open.
func (s *Subscriber) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// Dropped returns how many queued frames were discarded when s was cut
// off as slow (its client gets them again when it resumes).
func (s *Subscriber) Dropped() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dropped
}

// Take returns every waiting frame, oldest first, and gives the queue buf
// (emptied) to fill next, so two slices alternate with no allocation.
func (s *Subscriber) Take(buf []*livedash.Frame) []*livedash.Frame {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.queue
	s.queue, s.queued = buf[:0], 0
	return q
}

func (h *Hub) addLocked(s *Subscriber, pattern string) {
	s.patterns[pattern]++
	n := h.root
	for {
		seg, rest, more := strings.Cut(pattern, ".")
		if seg == ">" {
			if n.tail == nil {
				n.tail = map[*Subscriber]int{}
			}
			n.tail[s]++
			return
		}
		n = n.child(seg)
		if !more {
			if n.exact == nil {
				n.exact = map[*Subscriber]int{}
			}
			n.exact[s]++
			return
		}
		pattern = rest
	}
}

func (n *node) child(seg string) *node {
	if seg == "*" {
		if n.star == nil {
			n.star = &node{}
		}
		return n.star
	}
	if n.children == nil {
		n.children = map[string]*node{}
	}
	c := n.children[seg]
	if c == nil {
		c = &node{}
		n.children[seg] = c
	}
	return c
}

func (h *Hub) removeLocked(s *Subscriber, pattern string) {
	if s.patterns[pattern]--; s.patterns[pattern] <= 0 {
		delete(s.patterns, pattern)
	}
	var path []*node
	var segs []string
	n := h.root
	for n != nil {
		seg, rest, more := strings.Cut(pattern, ".")
		if seg == ">" {
			decr(n.tail, s)
			break
		}
		path, segs = append(path, n), append(segs, seg)
		if seg == "*" {
			n = n.star
		} else {
			n = n.children[seg]
		}
		if n != nil && !more {
			decr(n.exact, s)
			break
		}
		pattern = rest
	}
	// Prune empty nodes bottom up so the tree does not grow with churn.
	for i := len(path) - 1; i >= 0; i-- {
		parent, seg := path[i], segs[i]
		var c *node
		if seg == "*" {
			c = parent.star
		} else {
			c = parent.children[seg]
		}
		if c == nil || !c.empty() {
			break
		}
		if seg == "*" {
			parent.star = nil
		} else {
			delete(parent.children, seg)
		}
	}
}

func decr(m map[*Subscriber]int, s *Subscriber) {
	if m[s]--; m[s] <= 0 {
		delete(m, s)
	}
}

func (n *node) empty() bool {
	return len(n.children) == 0 && n.star == nil && len(n.tail) == 0 && len(n.exact) == 0
}

// Publish queues each frame on every subscriber whose patterns match its
// topic. It never blocks on a subscriber. Call it from one goroutine, with
// frames in increasing id order.
func (h *Hub) Publish(frames []*livedash.Frame) {
	var segBuf [16]string
	h.mu.RLock()
	defer h.mu.RUnlock()
	for _, f := range frames {
		segs := splitTopic(segBuf[:0], f.Topic)
		h.root.match(segs, 0, livedash.IsSys(f.Topic), func(s *Subscriber) { h.deliver(s, f) })
	}
}

func splitTopic(buf []string, topic string) []string {
	for {
		seg, rest, more := strings.Cut(topic, ".")
		buf = append(buf, seg)
		if !more {
			return buf
		}
		topic = rest
	}
}

// match calls fn for each subscriber with a pattern matching segs[i:].
// At the root of a sys topic, wildcards do not match (only patterns that
// start with "sys." reach sys topics).
func (n *node) match(segs []string, i int, sys bool, fn func(*Subscriber)) {
	guarded := sys && i == 0
	if !guarded && i < len(segs) {
		for s := range n.tail {
			fn(s)
		}
	}
	if i == len(segs) {
		for s := range n.exact {
			fn(s)
		}
		return
	}
	if c := n.children[segs[i]]; c != nil {
		c.match(segs, i+1, sys, fn)
	}
	if n.star != nil && !guarded {
		n.star.match(segs, i+1, sys, fn)
	}
}

// deliver queues f on s once (a subscriber matched by several patterns
// gets it once) and cuts s off when its queue passes the cap.
func (h *Hub) deliver(s *Subscriber, f *livedash.Frame) {
	s.mu.Lock()
	if s.closed || f.ID.Seq <= s.lastSeq {
		s.mu.Unlock()
		return
	}
	s.lastSeq = f.ID.Seq
	wasEmpty := len(s.queue) == 0
	s.queue = append(s.queue, f)
	s.queued += f.Size()
	if s.queued > h.maxPending {
		onCut := s.onCut
		s.mu.Unlock()
		if s.shut(ErrSlow) {
			if onCut != nil {
				onCut()
			}
			if h.onSlow != nil {
				h.onSlow(s)
			}
		}
		return
	}
	onReady := s.onReady
	s.mu.Unlock()
	if wasEmpty && onReady != nil {
		onReady()
		return
	}
	if wasEmpty {
		select {
		case s.ready <- struct{}{}:
		default:
		}
	}
}
