package sqlite

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/livedash/livedash"
)

// stallBound only turns a stall into a failure instead of a hung test;
// nothing waits for it to pass.
const stallBound = 10 * time.Second

// storeWithUnloadedWindow stores msgs, then reopens the store, so that the
// topics have no recent window in memory until a backlog loads it.
func storeWithUnloadedWindow(t *testing.T, opts Options, msgs []livedash.Message) *Store {
	t.Helper()
	path := filepath.Join(t.TempDir(), "l.db")
	s := openStore(t, path, opts)
	if _, err := s.Append(context.Background(), msgs); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return openStore(t, path, opts)
}

// TestAppendNotStalledByRecentLoad: while a topic's recent window is being
// loaded (held between query and merge), a publish to that topic completes,
// a reader waiting for the load gives up when its context ends, and the
// window, once loaded, ends with the publish.
func TestAppendNotStalledByRecentLoad(t *testing.T) {
	ctx := context.Background()
	s := storeWithUnloadedWindow(t, Options{Recent: 5}, []livedash.Message{msg("t", 1, "1"), msg("t", 2, "2"), msg("t", 3, "3")})
	inLoad, release := make(chan struct{}), make(chan struct{})
	s.afterRecentQuery = func() {
		close(inLoad)
		<-release
	}
	type result struct {
		frames []*livedash.Frame
		err    error
	}
	backlog := make(chan result, 1)
	go func() {
		f, err := s.Backlog(ctx, []string{"t"}, 5, 0)
		backlog <- result{f, err}
	}()
	<-inLoad
	appended := make(chan error, 1)
	go func() {
		_, err := s.Append(ctx, []livedash.Message{msg("t", 4, "4")})
		appended <- err
	}()
	bound := time.NewTimer(stallBound)
	defer bound.Stop()
	select {
	case err := <-appended:
		if err != nil {
			t.Fatal(err)
		}
	case <-bound.C:
		t.Error("Append did not complete while a backlog load was between query and merge")
	}
	// A second reader waits for the load under way, but not past its context.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := s.Backlog(cctx, []string{"t"}, 5, 0); !errors.Is(err, context.Canceled) {
		t.Errorf("backlog with a cancelled context during a load: %v, want context.Canceled", err)
	}
	close(release)
	if t.Failed() {
		<-appended
	}
	r := <-backlog
	if r.err != nil || fmt.Sprint(seqs(r.frames)) != "[1 2 3 4]" {
		t.Fatalf("backlog = %v %v, want [1 2 3 4]", seqs(r.frames), r.err)
	}
	if bl, _ := s.Backlog(ctx, []string{"t"}, 5, 0); fmt.Sprint(seqs(bl)) != "[1 2 3 4]" {
		t.Fatalf("window after load = %v, want [1 2 3 4]", seqs(bl))
	}
}

// TestConcurrentFirstLoadsWhileWriting: a writer commits to a topic (and
// another) without pause while 20 readers load the topic's window at once
// for the first time, the load held until the writer has committed more;
// every backlog is the topic's newest messages up to its last one, in
// order, without a duplicate or a gap, and so is the window afterwards.
func TestConcurrentFirstLoadsWhileWriting(t *testing.T) {
	ctx := context.Background()
	const recent, loaders = 20, 20
	var pre []livedash.Message
	for i := 0; i < 60; i++ {
		pre = append(pre, msg("t", int64(i), "1"), msg("u", int64(i), "2"))
	}
	s := storeWithUnloadedWindow(t, Options{Recent: recent}, pre)
	inLoad, wroteMore := make(chan struct{}), make(chan struct{})
	var loads atomic.Int32
	s.afterRecentQuery = func() {
		if loads.Add(1) > 1 {
			return
		}
		close(inLoad)
		select {
		case <-wroteMore:
		case <-time.After(stallBound):
			t.Error("the writer made no progress during the load")
		}
	}
	writing, stop, stopped := make(chan struct{}), make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		after := -1 // messages written since the load reached its hook
		for i := 0; ; i++ {
			batch := []livedash.Message{msg("t", int64(i), "3")}
			if i%3 == 0 {
				batch = append(batch, msg("u", int64(i), "4"))
			}
			if _, err := s.Append(ctx, batch); err != nil {
				t.Error(err)
				return
			}
			if i == 0 {
				close(writing)
			}
			if after < 0 {
				select {
				case <-inLoad:
					after = 0
				default:
				}
			} else if after++; after == 3 {
				close(wroteMore)
			}
			select {
			case <-stop:
				return
			default:
			}
			if after >= 10 {
				<-stop // few enough after the load that a gap would still show in the window
				return
			}
		}
	}()
	<-writing
	backlogs := make(chan []*livedash.Frame, loaders)
	start := make(chan struct{})
	for i := 0; i < loaders; i++ {
		go func() {
			<-start
			bl, err := s.Backlog(ctx, []string{"t"}, recent, 0)
			if err != nil {
				t.Error(err)
			}
			backlogs <- bl
		}()
	}
	close(start)
	got := make([][]*livedash.Frame, loaders)
	for i := range got {
		got[i] = <-backlogs
	}
	close(stop)
	<-stopped
	if t.Failed() {
		t.FailNow()
	}
	if n := loads.Load(); n != 1 {
		t.Fatalf("%d loads of the window, want 1 (the others wait for it)", n)
	}
	all, err := s.History(ctx, livedash.HistoryQuery{Patterns: []string{"t"}, Limit: 100_000})
	if err != nil {
		t.Fatal(err)
	}
	idx := map[uint64]int{}
	for i, f := range all {
		idx[f.ID.Seq] = i
	}
	check := func(what string, bl []*livedash.Frame) {
		t.Helper()
		if len(bl) != recent {
			t.Fatalf("%s: %d messages, want %d: %v", what, len(bl), recent, seqs(bl))
		}
		last, ok := idx[bl[len(bl)-1].ID.Seq]
		if !ok {
			t.Fatalf("%s: newest %d is not a message of t", what, bl[len(bl)-1].ID.Seq)
		}
		if want := seqs(all[last-recent+1 : last+1]); fmt.Sprint(seqs(bl)) != fmt.Sprint(want) {
			t.Fatalf("%s = %v\nwant the newest up to its last: %v", what, seqs(bl), want)
		}
	}
	for i, bl := range got {
		check(fmt.Sprintf("backlog %d", i), bl)
	}
	window, err := s.Backlog(ctx, []string{"t"}, recent, 0)
	if err != nil {
		t.Fatal(err)
	}
	check("window after the writer stopped", window)
	if window[len(window)-1].ID.Seq != all[len(all)-1].ID.Seq {
		t.Fatalf("window ends at %d, topic at %d", window[len(window)-1].ID.Seq, all[len(all)-1].ID.Seq)
	}
}

// TestRetentionDuringRecentLoad: retention removes messages after a load
// has read them but before it merges; the load is discarded and redone, so
// the backlog and the window hold no removed message.
func TestRetentionDuringRecentLoad(t *testing.T) {
	ctx := context.Background()
	now := time.UnixMilli(1_000_000)
	opts := Options{Recent: 10, Now: func() time.Time { return now }, Retention: Retention{MaxAge: time.Second}}
	// seq 1..5 old, 6..8 new, all on t.
	s := storeWithUnloadedWindow(t, opts, []livedash.Message{
		msg("t", 1, "1"), msg("t", 2, "2"), msg("t", 3, "3"), msg("t", 4, "4"), msg("t", 5, "5"),
		msg("t", 999_500, "6"), msg("t", 999_600, "7"), msg("t", 999_700, "8"),
	})
	loads := 0
	s.afterRecentQuery = func() {
		loads++
		if loads == 1 {
			if n, err := s.Retain(ctx); err != nil || n != 5 {
				t.Errorf("Retain during the load removed %d, %v; want 5", n, err)
			}
		}
	}
	bl, err := s.Backlog(ctx, []string{"t"}, 10, 0)
	if err != nil || fmt.Sprint(seqs(bl)) != "[6 7 8]" {
		t.Fatalf("backlog = %v %v, want [6 7 8] (1..5 were removed during its load)", seqs(bl), err)
	}
	if loads != 2 {
		t.Fatalf("%d loads, want 2 (the first discarded)", loads)
	}
	if bl, _ := s.Backlog(ctx, []string{"t"}, 10, 0); fmt.Sprint(seqs(bl)) != "[6 7 8]" || loads != 2 {
		t.Fatalf("window = %v after %d loads, want [6 7 8] from memory", seqs(bl), loads)
	}
}
