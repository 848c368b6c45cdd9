package livedash

import "context"

// Publisher stores and fans out messages on the server's own behalf: the
// built-in producers, the rollup and alert engines, the notifier's outcomes
// and the server's event summaries all publish through one. It assigns the
// ids, checks no rights (so it may write sys. topics) and answers with the
// messages as stored. The server's is its store, or the cluster broker,
// behind the ingest limits (PublisherOf).
type Publisher interface {
	Publish(ctx context.Context, msgs []Message) ([]Message, error)
}

// Appender stores messages and answers with their frames: the store, the
// cluster broker, or the ingest gate in front of either.
type Appender interface {
	Append(ctx context.Context, msgs []Message) ([]*Frame, error)
}

// PublisherOf returns the Publisher that stores through a.
func PublisherOf(a Appender) Publisher { return appendPublisher{a} }

type appendPublisher struct{ a Appender }

func (p appendPublisher) Publish(ctx context.Context, msgs []Message) ([]Message, error) {
	frames, err := p.a.Append(ctx, msgs)
	if err != nil {
		return nil, err
	}
	out := make([]Message, len(frames))
	for i, f := range frames {
		out[i] = f.Message
	}
	return out, nil
}

// PublishAll publishes msgs through p in batches of at most MaxBatch, the
// most one publish may carry. A batch that fails is dropped and told to
// failed with its size (nil: dropped silently), and the next ones are
// still published: a producer or an engine keeps going while the store is
// briefly unable to take its messages. Once ctx is done it stops, without
// telling failed.
func PublishAll(ctx context.Context, p Publisher, msgs []Message, failed func(n int, err error)) {
	for start := 0; start < len(msgs); start += MaxBatch {
		end := min(start+MaxBatch, len(msgs))
		if _, err := p.Publish(ctx, msgs[start:end]); err != nil {
			if ctx.Err() != nil {
				return
			}
			if failed != nil {
				failed(end-start, err)
			}
		}
	}
}
