// Package ingest owns the limits that every way into the store shares: the
// size of each message's data, as stored, and the number of topics. Its
// Gate wraps the broker that stores publishes, so the JSON publish
// endpoints, the topic shorthand, line protocol, WebSocket publishes and the
// server's own producers (scrapes, demo, host metrics) all pass the same
// checks in one place, after each decoder has produced its messages.
package ingest

import (
	"context"

	"github.com/livedash/livedash"
)

// Broker stores messages and answers with their frames: the local store,
// or the cluster backplane.
type Broker interface {
	Append(ctx context.Context, msgs []livedash.Message) ([]*livedash.Frame, error)
	Ping(ctx context.Context) error
}

// Topics is what the gate needs to know of the stored topics.
type Topics interface {
	// HasTopic reports whether topic already exists.
	HasTopic(topic string) bool
	// TopicCount is the number of topics stored.
	TopicCount() int
}

// Limits are the checks a Gate applies; zero turns one off.
type Limits struct {
	// MessageBytes caps a message's data as stored (compact JSON), whatever
	// the input format was: line-protocol escapes or a decoder's rendering
	// can make the stored data larger than what was sent.
	MessageBytes int
	// MaxTopics caps the number of topics. The server's own sys. topics are
	// not counted against it. Concurrent publishes that each create new
	// topics may pass it by the new topics of those in flight.
	MaxTopics int
}

// Gate checks every message against the limits before the broker stores it.
type Gate struct {
	next   Broker
	topics Topics
	limits Limits
}

// New returns a gate in front of next.
func New(next Broker, topics Topics, l Limits) *Gate {
	return &Gate{next: next, topics: topics, limits: l}
}

// Append checks msgs and stores them, all or nothing. A message over the
// data limit, or one that would create a topic past the topic limit, is an
// ETOOLARGE error naming its index, and nothing is stored.
func (g *Gate) Append(ctx context.Context, msgs []livedash.Message) ([]*livedash.Frame, error) {
	if err := g.Check(msgs); err != nil {
		return nil, err
	}
	return g.next.Append(ctx, msgs)
}

// Ping checks the broker behind the gate.
func (g *Gate) Ping(ctx context.Context) error { return g.next.Ping(ctx) }

// Check returns the first limit msgs break, or nil.
func (g *Gate) Check(msgs []livedash.Message) error {
	if max := g.limits.MessageBytes; max > 0 {
		for i, m := range msgs {
			if len(m.Data) > max {
				return livedash.WithIndex(livedash.Errorf(livedash.ETOOLARGE,
					"data of %s is %d bytes as stored; the limit is %d (limits.message_bytes)", m.Topic, len(m.Data), max), i)
			}
		}
	}
	if max := g.limits.MaxTopics; max > 0 && g.topics != nil {
		var fresh map[string]bool
		have := -1
		for i, m := range msgs {
			if livedash.IsSys(m.Topic) || fresh[m.Topic] || g.topics.HasTopic(m.Topic) {
				continue
			}
			if have < 0 {
				have = g.topics.TopicCount()
			}
			if have+len(fresh) >= max {
				return livedash.WithIndex(livedash.Errorf(livedash.ETOOLARGE,
					"topic %s would be new, and the server holds its limit of %d topics (limits.max_topics)", m.Topic, max), i)
			}
			if fresh == nil {
				fresh = map[string]bool{}
			}
			fresh[m.Topic] = true
		}
	}
	return nil
}
