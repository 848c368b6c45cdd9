package sysevent

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/livedash/livedash"
)

type recorder struct{ msgs []livedash.Message }

func (r *recorder) Publish(_ context.Context, msgs []livedash.Message) ([]livedash.Message, error) {
	r.msgs = append(r.msgs, msgs...)
	return msgs, nil
}

func TestSummaries(t *testing.T) {
	rec := &recorder{}
	r := New(rec, time.Hour, func() time.Time { return time.UnixMilli(5000) }, nil)
	r.Flush(context.Background())
	if len(rec.msgs) != 0 {
		t.Fatalf("published %d messages with nothing to say", len(rec.msgs))
	}
	r.StreamOpened("sse")
	r.StreamOpened("sse")
	r.StreamOpened("ws")
	r.StreamClosed("sse")
	for i := 0; i < 8; i++ {
		r.Refused("bob", 403, "token may not publish")
	}
	r.Refused("", 401, "a token is required")
	r.SlowConsumer("ws", "carol", 3)
	r.Flush(context.Background())
	byTopic := map[string]map[string]any{}
	for _, m := range rec.msgs {
		if err := livedash.ValidateTopic(m.Topic); err != nil || !livedash.IsSys(m.Topic) || m.TS != 5000 {
			t.Fatalf("bad message %+v", m)
		}
		var d map[string]any
		json.Unmarshal(m.Data, &d)
		byTopic[m.Topic] = d
	}
	c := byTopic["sys.connections"]
	if c["sse"] != 1.0 || c["ws"] != 1.0 || c["opened"] != 3.0 || c["closed"] != 1.0 || c["node"] != nil {
		t.Fatalf("connections %v", c)
	}
	rej := byTopic["sys.rejections"]
	if rej["count"] != 9.0 || rej["by_status"].(map[string]any)["403"] != 8.0 || len(rej["examples"].([]any)) != maxExamples {
		t.Fatalf("rejections %v", rej)
	}
	if byTopic["sys.consumers.slow"]["count"] != 1.0 {
		t.Fatalf("slow %v", byTopic["sys.consumers.slow"])
	}
	// Counters reset: a second flush with nothing new publishes nothing.
	n := len(rec.msgs)
	r.Flush(context.Background())
	if len(rec.msgs) != n {
		t.Fatalf("repeated %d messages", len(rec.msgs)-n)
	}
	// In a cluster the node is named.
	r.SetNode("host-a/10.0.0.1:8080")
	r.StreamOpened("sse")
	r.Flush(context.Background())
	var last map[string]any
	json.Unmarshal(rec.msgs[len(rec.msgs)-1].Data, &last)
	if last["node"] != "host-a/10.0.0.1:8080" || last["sse"] != 2.0 {
		t.Fatalf("named node: %v", last)
	}
}
