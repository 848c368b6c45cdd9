package redisbroker_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/livedash/livedash"
	"github.com/livedash/livedash/hub"
	"github.com/livedash/livedash/internal/redistest"
	"github.com/livedash/livedash/redisbroker"
	"github.com/livedash/livedash/sqlite"
)

// node is one cluster node: a broker on the test's redis-server, feeding
// its own SQLite store, whose commits go to its hub.
type node struct {
	b     *redisbroker.Broker
	rdb   *redis.Client
	store *sqlite.Store
	hub   *hub.Hub
}

func newNode(t *testing.T, r *redistest.Server, opts redisbroker.Options) *node {
	t.Helper()
	ctx := t.Context() // ends before the cleanups run: every node stops at once
	h := hub.New(hub.Options{})
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "node.db"), sqlite.Options{OnCommit: h.Publish, CatchUpWait: 3 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	rdb, err := redisbroker.Dial(ctx, r.URL())
	if err != nil {
		t.Fatal(err)
	}
	b, err := redisbroker.New(ctx, rdb, store, opts)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx) }()
	t.Cleanup(func() {
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
		rdb.Close()
		store.Close()
	})
	return &node{b: b, rdb: rdb, store: store, hub: h}
}

func msg(topic string, i int) livedash.Message {
	return livedash.Message{Topic: topic, Type: "event", TS: int64(i), Data: []byte(fmt.Sprint(i))}
}

// collect takes n frames from s, failing after 10 s.
func collect(t *testing.T, s *hub.Subscriber, n int) []*livedash.Frame {
	t.Helper()
	var got []*livedash.Frame
	timeout := time.After(10 * time.Second)
	for len(got) < n {
		select {
		case <-s.Ready():
			got = append(got, s.Take(nil)...)
		case <-timeout:
			t.Fatalf("got %d of %d frames", len(got), n)
		}
	}
	return got
}

// ids are the frames' ids, as strings.
func ids(frames []*livedash.Frame) []string {
	out := make([]string, len(frames))
	for i, f := range frames {
		out[i] = f.ID.String()
	}
	return out
}

// TestAppendOrderAcrossBrokers: two nodes appending at once get distinct
// ids of one cluster sequence, and each node's subscribers receive every
// message, in id order, the same on both nodes.
func TestAppendOrderAcrossBrokers(t *testing.T) {
	r := redistest.Start(t)
	a, b := newNode(t, r, redisbroker.Options{}), newNode(t, r, redisbroker.Options{})
	subA, subB := a.hub.Subscribe("o.>"), b.hub.Subscribe("o.>")
	defer subA.Close()
	defer subB.Close()
	const per = 40
	var mu sync.Mutex
	var appended []livedash.ID
	var wg sync.WaitGroup
	for _, n := range []*node{a, b} {
		wg.Go(func() {
			for i := range per {
				frames, err := n.b.Append(context.Background(), []livedash.Message{msg("o.a", i), msg("o.b", i)})
				if err != nil {
					t.Error(err)
					return
				}
				if head := n.store.Head().Seq; head < frames[1].ID.Seq {
					t.Errorf("Append returned %s before its node ingested it (head %d)", frames[1].ID, head)
				}
				mu.Lock()
				appended = append(appended, frames[0].ID, frames[1].ID)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	gotA, gotB := ids(collect(t, subA, 4*per)), ids(collect(t, subB, 4*per))
	if !slices.Equal(gotA, gotB) {
		t.Fatalf("the nodes delivered different sequences:\nA %v\nB %v", gotA, gotB)
	}
	slices.SortFunc(appended, func(x, y livedash.ID) int { return int(x.Seq) - int(y.Seq) })
	for i, id := range appended {
		if id.Seq != uint64(i+1) || id.Epoch != appended[0].Epoch {
			t.Fatalf("appended ids %v: not one gapless sequence of one epoch", appended)
		}
		if gotA[i] != id.String() {
			t.Fatalf("delivered %v\nwant the appended ids in order %v", gotA, appended)
		}
	}
}

// TestResumeAfterOnAnotherNode: a node that joins later catches up from
// the cluster stream, so a client that read up to an id on one node gets
// exactly what follows it from the other.
func TestResumeAfterOnAnotherNode(t *testing.T) {
	r := redistest.Start(t)
	a := newNode(t, r, redisbroker.Options{})
	var all []*livedash.Frame
	for i := range 30 {
		frames, err := a.b.Append(context.Background(), []livedash.Message{msg(fmt.Sprintf("r.t%d", i%3), i)})
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, frames...)
	}
	b := newNode(t, r, redisbroker.Options{})
	last := all[len(all)-1].ID
	if head := b.store.WaitFor(context.Background(), last.Seq); head != last {
		t.Fatalf("the new node's head is %s, want %s", head, last)
	}
	after := all[9].ID
	got, err := b.store.After(context.Background(), []string{"r.>"}, after.Seq, 100, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if want := ids(all[10:]); !slices.Equal(ids(got), want) {
		t.Fatalf("after %s on the other node: %v\nwant %v", after, ids(got), want)
	}
	for i, f := range got {
		if string(f.Data) != string(all[10+i].Data) || f.Topic != all[10+i].Topic {
			t.Fatalf("%s arrived as %s %s, sent as %s %s", f.ID, f.Topic, f.Data, all[10+i].Topic, all[10+i].Data)
		}
	}
}

// TestDashboardsShared: what one node stores, the other lists; a delete
// through the other says it existed, once, and then both list none.
func TestDashboardsShared(t *testing.T) {
	r := redistest.Start(t)
	a, b := newNode(t, r, redisbroker.Options{}), newNode(t, r, redisbroker.Options{})
	ctx := context.Background()
	if err := a.b.PutDashboard(ctx, "shop", []byte(`{"title":"Shop"}`)); err != nil {
		t.Fatal(err)
	}
	got, err := b.b.Dashboards(ctx)
	if err != nil || len(got) != 1 || string(got["shop"]) != `{"title":"Shop"}` {
		t.Fatalf("the other node lists %q, %v", got, err)
	}
	if ok, err := b.b.DeleteDashboard(ctx, "shop"); !ok || err != nil {
		t.Fatalf("delete through the other node: %v, %v", ok, err)
	}
	if ok, err := a.b.DeleteDashboard(ctx, "shop"); ok || err != nil {
		t.Fatalf("second delete: %v, %v; want false", ok, err)
	}
	if got, err := a.b.Dashboards(ctx); len(got) != 0 || err != nil {
		t.Fatalf("after the delete: %q, %v", got, err)
	}
}

// TestLeaseHandover: of two nodes leading the same work, one runs it at a
// time; when the leader stops it gives the lease up and the other takes
// over at once, and when a leader loses Redis its work is stopped and the
// other takes over once the lease runs out.
func TestLeaseHandover(t *testing.T) {
	r := redistest.Start(t)
	const ttl = 2 * time.Second
	opts := redisbroker.Options{LeaseTTL: ttl, LeaseRenew: 100 * time.Millisecond}
	nodes := []*node{newNode(t, r, opts), newNode(t, r, opts), newNode(t, r, opts)}
	var running, overlaps atomic.Int32
	started := make(chan int, 10)
	stopped := make(chan int, 10)
	cancels := make([]context.CancelFunc, len(nodes))
	var wg sync.WaitGroup
	for i, n := range nodes {
		ctx, cancel := context.WithCancel(context.Background())
		cancels[i] = cancel
		wg.Go(func() {
			n.b.Lead(ctx, "work", func(ctx context.Context) error {
				if running.Add(1) > 1 {
					overlaps.Add(1)
				}
				started <- i
				<-ctx.Done()
				running.Add(-1)
				stopped <- i
				return nil
			})
		})
	}
	defer func() {
		for _, c := range cancels {
			c()
		}
		wg.Wait()
	}()
	next := func(ch chan int, what string, within time.Duration) int {
		t.Helper()
		select {
		case i := <-ch:
			return i
		case <-time.After(within):
			t.Fatalf("no node %s within %v", what, within)
			return -1
		}
	}
	first := next(started, "started leading", 5*time.Second)
	// A graceful stop gives the lease up: another node leads within a
	// renew interval or so, well before the lease would run out.
	cancels[first]()
	if i := next(stopped, "stopped", 5*time.Second); i != first {
		t.Fatalf("node %d stopped, want the leader %d", i, first)
	}
	begin := time.Now()
	second := next(started, "took over", 5*time.Second)
	if second == first {
		t.Fatal("the stopped node leads again")
	}
	if d := time.Since(begin); d > ttl*3/4 {
		t.Fatalf("took %v to take over from a node that stopped: the lease was not given up", d)
	}
	// Losing Redis: the leader cannot renew, its work is cancelled, and
	// the third node takes over after the lease runs out.
	nodes[second].rdb.Close()
	if i := next(stopped, "stopped after losing Redis", 5*time.Second); i != second {
		t.Fatalf("node %d stopped, want %d", i, second)
	}
	third := next(started, "took over from the node without Redis", 5*time.Second)
	if third == first || third == second {
		t.Fatalf("node %d took over, want the third", third)
	}
	if overlaps.Load() != 0 {
		t.Fatalf("work ran on two nodes at once %d times", overlaps.Load())
	}
	t.Logf("graceful handover, then a lease expiry, within %v", time.Since(begin))
}
