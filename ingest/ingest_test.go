package ingest_test

import (
	"context"
	"strings"
	"testing"

	"github.com/livedash/livedash"
	"github.com/livedash/livedash/ingest"
)

// memBroker stores topics in a map, as the real store would count them.
type memBroker struct {
	topics map[string]bool
	stored int
}

func (b *memBroker) Append(_ context.Context, msgs []livedash.Message) ([]*livedash.Frame, error) {
	out := make([]*livedash.Frame, len(msgs))
	for i, m := range msgs {
		b.topics[m.Topic] = true
		b.stored++
		out[i] = livedash.NewFrame(m)
	}
	return out, nil
}
func (b *memBroker) Ping(context.Context) error { return nil }
func (b *memBroker) HasTopic(t string) bool     { return b.topics[t] }
func (b *memBroker) TopicCount() int {
	n := 0
	for t := range b.topics {
		if !livedash.IsSys(t) {
			n++
		}
	}
	return n
}

func msgs(kv ...string) []livedash.Message {
	var out []livedash.Message
	for i := 0; i+1 < len(kv); i += 2 {
		out = append(out, livedash.Message{Topic: kv[i], Type: "point", Data: []byte(kv[i+1])})
	}
	return out
}

func TestGate(t *testing.T) {
	b := &memBroker{topics: map[string]bool{"a": true, "b": true, "sys.x": true}}
	g := ingest.New(b, b, ingest.Limits{MessageBytes: 8, MaxTopics: 3})
	for _, tc := range []struct {
		name  string
		in    []livedash.Message
		index int    // -1: accepted
		want  string // in the error
	}{
		{"existing topics", msgs("a", "1", "b", "2"), -1, ""},
		{"data at the limit", msgs("a", "12345678"), -1, ""},
		{"data over the limit", msgs("a", "1", "b", "123456789"), 1, "limits.message_bytes"},
		{"two new topics, one past the cap", msgs("c", "1", "d", "1"), 1, "limits.max_topics"},
		{"the same new topic twice counts once", msgs("c", "1", "c", "2", "a", "3"), -1, ""},
		{"sys topics are not counted", msgs("sys.y", "1"), -1, ""},
		{"now full", msgs("e", "1"), 0, "limits.max_topics"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := b.stored
			_, err := g.Append(context.Background(), tc.in)
			if tc.index < 0 {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			var e *livedash.Error
			if err == nil || livedash.ErrorCode(err) != livedash.ETOOLARGE || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want too_large with %q", err, tc.want)
			}
			if e, _ = err.(*livedash.Error); e.Index != tc.index {
				t.Fatalf("index = %d, want %d", e.Index, tc.index)
			}
			if b.stored != before {
				t.Fatal("a refused batch was stored in part")
			}
		})
	}
}

func TestGateWithoutLimits(t *testing.T) {
	b := &memBroker{topics: map[string]bool{}}
	g := ingest.New(b, b, ingest.Limits{})
	big := strings.Repeat("1", 1<<20)
	if _, err := g.Append(context.Background(), msgs("a", big, "b", "1", "c", "1")); err != nil {
		t.Fatalf("no limits, refused: %v", err)
	}
}
