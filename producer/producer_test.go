package producer

import (
	"context"
	"sync"
	"testing"

	"go.uber.org/goleak"

	"github.com/livedash/livedash"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// recordingPublisher is the boundary producers publish through: it keeps
// every batch and assigns no ids. err, when set, fails every publish.
type recordingPublisher struct {
	mu      sync.Mutex
	batches [][]livedash.Message
	err     error
	// published, when not nil, gets a signal (without blocking) per batch.
	published chan struct{}
}

func (p *recordingPublisher) Publish(_ context.Context, msgs []livedash.Message) ([]livedash.Message, error) {
	p.mu.Lock()
	p.batches = append(p.batches, append([]livedash.Message(nil), msgs...))
	err := p.err
	p.mu.Unlock()
	if p.published != nil {
		select {
		case p.published <- struct{}{}:
		default:
		}
	}
	if err != nil {
		return nil, err
	}
	return msgs, nil
}

func (p *recordingPublisher) recorded() [][]livedash.Message {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([][]livedash.Message(nil), p.batches...)
}

func TestSanitizeSegment(t *testing.T) {
	tests := []struct{ in, want string }{
		{"web1.example.com", "web1-example-com"},
		{"my_host-2", "my_host-2"},
		{"höst name", "h-st-name"},
		{"", "fallback"},
	}
	for _, tt := range tests {
		if got := sanitizeSegment(tt.in, 63, "fallback"); got != tt.want {
			t.Errorf("sanitizeSegment(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	long := sanitizeSegment(string(make([]byte, 100)), 63, "x")
	if len(long) != 63 {
		t.Errorf("a 100-byte name gave %d bytes, want 63", len(long))
	}
}
