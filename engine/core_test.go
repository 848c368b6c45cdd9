package engine

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/livedash/livedash"
)

type memStore map[string][]byte

func (s memStore) LoadState(_ context.Context, key string) ([]byte, error) { return s[key], nil }
func (s memStore) SaveState(_ context.Context, key string, v []byte) error {
	s[key] = v
	return nil
}

type failingPublisher struct{ calls int }

func (p *failingPublisher) Publish(context.Context, []livedash.Message) ([]livedash.Message, error) {
	p.calls++
	return nil, errors.New("store down")
}

func frame(epoch string, seq uint64) *livedash.Frame {
	return &livedash.Frame{Message: livedash.Message{ID: livedash.ID{Epoch: epoch, Seq: seq}}}
}

func TestNewCoreNeedsAPublisher(t *testing.T) {
	if _, err := NewCore("x", Options{}, time.Second, time.Second); err == nil || err.Error() != "x: no publisher" {
		t.Fatalf("err %v", err)
	}
}

// TestNextSkipsRepeatsAndRestartsWithANewEpoch: a feeder overlaps the
// store with the live frames; a new log starts the count afresh.
func TestNextSkipsRepeatsAndRestartsWithANewEpoch(t *testing.T) {
	c, _ := NewCore("x", Options{Publisher: &failingPublisher{}}, time.Second, time.Second)
	var got []uint64
	for _, f := range []*livedash.Frame{frame("a", 1), frame("a", 2), frame("a", 2), frame("a", 1), frame("a", 3), frame("b", 1)} {
		if c.Next(f) {
			got = append(got, f.ID.Seq)
		}
	}
	if epoch, seq := c.Position(); epoch != "b" || seq != 1 || len(got) != 4 || got[3] != 1 {
		t.Fatalf("new frames %v, position %s %d", got, epoch, seq)
	}
	c.Restore("a", 3)
	if c.Next(frame("a", 3)) || !c.Next(frame("a", 4)) {
		t.Fatal("Restore did not set the position")
	}
}

func TestSaveLoadAndAnUnreadableState(t *testing.T) {
	var logs bytes.Buffer
	store := memStore{}
	c, _ := NewCore("x", Options{Publisher: &failingPublisher{}, State: store, SaveEvery: time.Minute, Logger: slog.New(slog.NewTextHandler(&logs, nil))}, time.Second, time.Second)
	t0 := time.UnixMilli(1_700_000_000_000)
	if !c.SaveDue(t0) {
		t.Fatal("a first save is not due")
	}
	if err := c.Save(context.Background(), map[string]int{"n": 7}, t0); err != nil {
		t.Fatal(err)
	}
	if c.SaveDue(t0.Add(59*time.Second)) || !c.SaveDue(t0.Add(time.Minute)) {
		t.Fatal("SaveDue does not follow SaveEvery from the last save")
	}
	var st map[string]int
	if found, err := c.Load(context.Background(), &st); !found || err != nil || st["n"] != 7 || string(store["x"]) != `{"n":7}` {
		t.Fatalf("load %v %v %v; saved %s", found, err, st, store["x"])
	}
	store["x"] = []byte("{not json")
	if found, err := c.Load(context.Background(), &st); found || err != nil {
		t.Fatalf("unreadable state: found %v, err %v; want a fresh start", found, err)
	}
	if !strings.Contains(logs.String(), "x: saved state is unreadable; starting afresh") {
		t.Fatalf("logs %q", logs.String())
	}
}

// TestPublishFailuresAreLoggedEvery10s: every batch is tried, the log
// says so at most every 10 s of the engine's clock.
func TestPublishFailuresAreLoggedEvery10s(t *testing.T) {
	var logs bytes.Buffer
	pub := &failingPublisher{}
	c, _ := NewCore("x", Options{Publisher: pub, Logger: slog.New(slog.NewTextHandler(&logs, nil))}, time.Second, time.Second)
	t0 := time.UnixMilli(1_700_000_000_000)
	msgs := make([]livedash.Message, 1)
	for _, at := range []time.Duration{0, time.Second, 9 * time.Second, 10 * time.Second} {
		c.Publish(context.Background(), msgs, t0.Add(at))
	}
	if n := strings.Count(logs.String(), "x: publish failed"); pub.calls != 4 || n != 2 {
		t.Fatalf("%d publishes, %d log lines; want 4 and 2", pub.calls, n)
	}
}

// TestRunTicksOnTheClockAndSavesLast: each tick gets the engine's clock;
// closing Ticks ends Run after one last save, with a live context.
func TestRunTicksOnTheClockAndSavesLast(t *testing.T) {
	ticks := make(chan time.Time, 2)
	t0 := time.UnixMilli(1_700_000_000_000)
	c, _ := NewCore("x", Options{Publisher: &failingPublisher{}, Ticks: ticks, Now: func() time.Time { return t0 }}, time.Second, time.Second)
	ticks <- time.Time{}
	ticks <- time.Time{}
	close(ticks)
	var ticked []time.Time
	saves := 0
	err := c.Run(context.Background(), func(_ context.Context, now time.Time) { ticked = append(ticked, now) }, func(ctx context.Context) error {
		saves++
		return ctx.Err()
	})
	if err != nil || len(ticked) != 2 || !ticked[0].Equal(t0) || saves != 1 {
		t.Fatalf("err %v, ticks %v, saves %d", err, ticked, saves)
	}
}

// TestRunSavesWithALiveContextAfterCtxIsDone: the run's context is done
// when Run stops; the last save gets one of its own.
func TestRunSavesWithALiveContextAfterCtxIsDone(t *testing.T) {
	c, _ := NewCore("x", Options{Publisher: &failingPublisher{}, Ticks: make(chan time.Time)}, time.Second, time.Second)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var saveErr error = errors.New("no save")
	if err := c.Run(ctx, func(context.Context, time.Time) {}, func(ctx context.Context) error { saveErr = ctx.Err(); return nil }); err != nil {
		t.Fatal(err)
	}
	if saveErr != nil {
		t.Fatalf("the last save's context: %v", saveErr)
	}
}
