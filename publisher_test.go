package livedash

import (
	"context"
	"errors"
	"testing"
)

// failingPublisher records the size of each batch and fails the first
// fails of them.
type failingPublisher struct {
	fails   int
	batches []int
	cancel  context.CancelFunc // called at the first batch when set
}

func (p *failingPublisher) Publish(_ context.Context, msgs []Message) ([]Message, error) {
	p.batches = append(p.batches, len(msgs))
	if p.cancel != nil {
		p.cancel()
	}
	if len(p.batches) <= p.fails {
		return nil, errors.New("store unavailable")
	}
	return msgs, nil
}

func TestPublishAllKeepsGoingAfterFailure(t *testing.T) {
	p := &failingPublisher{fails: 1}
	var dropped []int
	PublishAll(context.Background(), p, make([]Message, 2*MaxBatch+1), func(n int, err error) { dropped = append(dropped, n) })
	if len(p.batches) != 3 || p.batches[0] != MaxBatch || p.batches[1] != MaxBatch || p.batches[2] != 1 {
		t.Fatalf("batches %v, want %d, %d and 1", p.batches, MaxBatch, MaxBatch)
	}
	if len(dropped) != 1 || dropped[0] != MaxBatch {
		t.Fatalf("told of dropped batches %v, want one of %d", dropped, MaxBatch)
	}
}

func TestPublishAllStopsWhenDone(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	p := &failingPublisher{fails: 1, cancel: cancel}
	PublishAll(ctx, p, make([]Message, 2*MaxBatch), func(n int, err error) { t.Errorf("told of a failure after ctx was done: %v", err) })
	if len(p.batches) != 1 {
		t.Fatalf("%d batches published after ctx was done, want 1", len(p.batches))
	}
}

type appender struct{ seq uint64 }

func (a *appender) Append(_ context.Context, msgs []Message) ([]*Frame, error) {
	frames := make([]*Frame, len(msgs))
	for i, m := range msgs {
		a.seq++
		m.ID = ID{Seq: a.seq, Epoch: "e"}
		frames[i] = &Frame{Message: m}
	}
	return frames, nil
}

func TestPublisherOfAnswersWithTheStoredMessages(t *testing.T) {
	out, err := PublisherOf(&appender{}).Publish(context.Background(), []Message{{Topic: "a"}, {Topic: "b"}})
	if err != nil || len(out) != 2 || out[0].Topic != "a" || out[1].ID != (ID{Seq: 2, Epoch: "e"}) {
		t.Fatalf("%+v, %v", out, err)
	}
}
