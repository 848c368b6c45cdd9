package sqlite

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/livedash/livedash"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func openStore(t *testing.T, path string, opts Options) *Store {
	t.Helper()
	s, err := Open(context.Background(), path, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func msg(topic string, ts int64, data string) livedash.Message {
	return livedash.Message{Topic: topic, Type: "point", TS: ts, Data: json.RawMessage(data)}
}

func seqs(frames []*livedash.Frame) []uint64 {
	out := make([]uint64, len(frames))
	for i, f := range frames {
		out[i] = f.ID.Seq
	}
	return out
}

func TestAppendAssignsGrowingIDsAcrossReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "l.db")
	s := openStore(t, path, Options{})
	frames, err := s.Append(ctx, []livedash.Message{msg("a", 1, "1"), msg("b", 2, "2")})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(seqs(frames)) != "[1 2]" || frames[0].ID.Epoch != s.Epoch() || len(s.Epoch()) != 8 {
		t.Fatalf("ids %v epoch %q", seqs(frames), s.Epoch())
	}
	epoch := s.Epoch()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2 := openStore(t, path, Options{})
	if s2.Epoch() != epoch || s2.Head().Seq != 2 {
		t.Fatalf("after reopen: epoch %q head %v", s2.Epoch(), s2.Head())
	}
	frames, err = s2.Append(ctx, []livedash.Message{msg("a", 3, "3")})
	if err != nil || frames[0].ID.Seq != 3 {
		t.Fatalf("append after reopen: %v %v", seqs(frames), err)
	}
	ts := s2.Topics([]string{">"})
	if len(ts) != 2 || ts[0].Topic != "a" || ts[0].Count != 2 || string(ts[0].Last.Data) != "3" || ts[1].Count != 1 {
		t.Fatalf("topics after reopen: %+v", ts)
	}
}

// TestConcurrentAppendsCommitInOrder: many publishers at once are grouped
// into transactions; every message gets a unique id, and OnCommit sees ids
// strictly increasing with no gap.
func TestConcurrentAppendsCommitInOrder(t *testing.T) {
	ctx := context.Background()
	var mu sync.Mutex
	var committed []uint64
	s := openStore(t, filepath.Join(t.TempDir(), "l.db"), Options{OnCommit: func(fs []*livedash.Frame) {
		mu.Lock()
		committed = append(committed, seqs(fs)...)
		mu.Unlock()
	}})
	const writers, each = 16, 200
	var wg sync.WaitGroup
	ids := make(chan uint64, writers*each)
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				fs, err := s.Append(ctx, []livedash.Message{msg(fmt.Sprintf("w.%d", w), int64(i), "1")})
				if err != nil {
					t.Error(err)
					return
				}
				ids <- fs[0].ID.Seq
			}
		}()
	}
	wg.Wait()
	close(ids)
	seen := map[uint64]bool{}
	for id := range ids {
		if seen[id] {
			t.Fatalf("id %d given twice", id)
		}
		seen[id] = true
	}
	if len(seen) != writers*each {
		t.Fatalf("%d ids", len(seen))
	}
	for i, seq := range committed {
		if seq != uint64(i+1) {
			t.Fatalf("OnCommit order broken at %d: %d", i, seq)
		}
	}
}

func TestReads(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, filepath.Join(t.TempDir(), "l.db"), Options{Recent: 3})
	// seq: 1 a.x ts10, 2 a.y ts20, 3 b ts30, 4 a.x ts40, 5 a.x ts50, 6 a.x ts60, 7 a.y ts5
	in := []livedash.Message{msg("a.x", 10, "1"), msg("a.y", 20, "2"), msg("b", 30, "3"), msg("a.x", 40, "4"), msg("a.x", 50, "5"), msg("a.x", 60, "6"), msg("a.y", 5, "7")}
	if _, err := s.Append(ctx, in); err != nil {
		t.Fatal(err)
	}
	after, err := s.After(ctx, []string{"a.*"}, 2, 100, 0)
	if err != nil || fmt.Sprint(seqs(after)) != "[4 5 6 7]" {
		t.Fatalf("After = %v %v", seqs(after), err)
	}
	after, _ = s.After(ctx, []string{"a.*", "b"}, 0, 3, 0)
	if fmt.Sprint(seqs(after)) != "[1 2 3]" {
		t.Fatalf("After limit = %v", seqs(after))
	}
	for _, tc := range []struct {
		n    int
		want string
	}{{1, "[6 7]"}, {2, "[2 5 6 7]"}, {3, "[2 4 5 6 7]"}, {10, "[1 2 4 5 6 7]"}, {0, "[]"}} {
		bl, err := s.Backlog(ctx, []string{"a.>"}, tc.n, 0)
		if err != nil || fmt.Sprint(seqs(bl)) != tc.want {
			t.Fatalf("Backlog(%d) = %v %v, want %s", tc.n, seqs(bl), err, tc.want)
		}
	}
	// The in-memory window follows new commits.
	s.Append(ctx, []livedash.Message{msg("a.x", 70, "8")})
	if bl, _ := s.Backlog(ctx, []string{"a.x"}, 2, 0); fmt.Sprint(seqs(bl)) != "[6 8]" {
		t.Fatalf("Backlog after append = %v", seqs(bl))
	}
	from, to := int64(20), int64(60)
	for _, tc := range []struct {
		q    livedash.HistoryQuery
		want string
	}{
		{livedash.HistoryQuery{Patterns: []string{"a.>"}, Limit: 2}, "[7 8]"},
		{livedash.HistoryQuery{Patterns: []string{"a.>"}, From: &from, Limit: 2}, "[2 4]"},
		{livedash.HistoryQuery{Patterns: []string{"a.>"}, From: &from, To: &to, Limit: 100}, "[2 4 5]"},
		{livedash.HistoryQuery{Patterns: []string{">"}, To: &to, Limit: 100}, "[1 2 3 4 5 7]"},
		{livedash.HistoryQuery{Patterns: []string{"nope"}, Limit: 100}, "[]"},
	} {
		h, err := s.History(ctx, tc.q)
		if err != nil || fmt.Sprint(seqs(h)) != tc.want {
			t.Fatalf("History(%+v) = %v %v, want %s", tc.q, seqs(h), err, tc.want)
		}
	}
}

func TestBuckets(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, filepath.Join(t.TempDir(), "l.db"), Options{})
	in := []livedash.Message{
		msg("m.a", 1000, "1"), msg("m.a", 9999, "3"), msg("m.a", 10000, "10"),
		msg("m.a", 25000, `"x"`), // non-numeric: skipped
		msg("m.b", 5000, `{"v":2,"w":"s"}`), msg("m.b", 6000, `{"v":4}`), msg("m.b", 7000, `{"w":1}`),
	}
	in[3].Type = "custom"
	if _, err := s.Append(ctx, in); err != nil {
		t.Fatal(err)
	}
	series, err := s.Buckets(ctx, []string{"m.a"}, 0, 30000, 10000, "")
	if err != nil {
		t.Fatal(err)
	}
	got, _ := json.Marshal(series)
	want := `[{"topic":"m.a","buckets":[{"t":0,"count":2,"min":1,"max":3,"avg":2,"sum":4,"last":3},{"t":10000,"count":1,"min":10,"max":10,"avg":10,"sum":10,"last":10}]}]`
	if string(got) != want {
		t.Fatalf("buckets\n got %s\nwant %s", got, want)
	}
	series, _ = s.Buckets(ctx, []string{"m.*"}, 0, 30000, 10000, "v")
	got, _ = json.Marshal(series)
	want = `[{"topic":"m.b","buckets":[{"t":0,"count":2,"min":2,"max":4,"avg":3,"sum":6,"last":4}]}]`
	if string(got) != want {
		t.Fatalf("field buckets\n got %s\nwant %s", got, want)
	}
}

func TestRetentionByAgeKeepsLastAndMarksTrim(t *testing.T) {
	ctx := context.Background()
	now := time.UnixMilli(1_000_000)
	s := openStore(t, filepath.Join(t.TempDir(), "l.db"), Options{
		Now:       func() time.Time { return now },
		Retention: Retention{MaxAge: time.Second},
	})
	// seq 1..3 old on a, 4 old on b (its only message), 5 new on a.
	s.Append(ctx, []livedash.Message{msg("a", 1, "1"), msg("a", 2, "2"), msg("a", 3, "3"), msg("b", 4, "4"), msg("a", 999_500, "5")})
	if s.TrimmedAfter([]string{"a"}, 0) {
		t.Fatal("trimmed before retention")
	}
	n, err := s.Retain(ctx)
	if err != nil || n != 3 {
		t.Fatalf("Retain removed %d, %v; want 3", n, err)
	}
	h, _ := s.History(ctx, livedash.HistoryQuery{Patterns: []string{">"}, Limit: 100})
	if fmt.Sprint(seqs(h)) != "[4 5]" {
		t.Fatalf("left %v, want [4 5] (b keeps its last message)", seqs(h))
	}
	if !s.TrimmedAfter([]string{"a"}, 2) || s.TrimmedAfter([]string{"a"}, 3) || s.TrimmedAfter([]string{"b"}, 0) {
		t.Fatal("trim watermark wrong")
	}
	if ts := s.Topics([]string{"a"}); ts[0].Count != 1 {
		t.Fatalf("count after retention = %d", ts[0].Count)
	}
	if bl, _ := s.Backlog(ctx, []string{"a"}, 50, 0); fmt.Sprint(seqs(bl)) != "[5]" {
		t.Fatalf("backlog after retention = %v", seqs(bl))
	}
}

func TestRetentionBySize(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, filepath.Join(t.TempDir(), "l.db"), Options{Retention: Retention{MaxBytes: 256 << 10}})
	big := `"` + string(make([]byte, 0)) + `"`
	_ = big
	payload := fmt.Sprintf(`{"pad":%q}`, fmt.Sprint(make([]int, 200)))
	for i := 0; i < 20; i++ {
		batch := make([]livedash.Message, 100)
		for j := range batch {
			batch[j] = msg("s.x", int64(i*100+j), payload)
		}
		if _, err := s.Append(ctx, batch); err != nil {
			t.Fatal(err)
		}
	}
	used, rows, _ := s.usage(ctx)
	if used <= 256<<10 {
		t.Fatalf("test data too small: %d bytes", used)
	}
	if _, err := s.Retain(ctx); err != nil {
		t.Fatal(err)
	}
	used, rows2, _ := s.usage(ctx)
	if used > 256<<10 || rows2 >= rows || rows2 == 0 {
		t.Fatalf("after retention: %d bytes, %d rows (was %d)", used, rows2, rows)
	}
	h, _ := s.History(ctx, livedash.HistoryQuery{Patterns: []string{"s.x"}, Limit: 1})
	if h[0].ID.Seq != 2000 {
		t.Fatalf("newest message lost: %v", seqs(h))
	}
	if !s.TrimmedAfter([]string{"s.x"}, 1) {
		t.Fatal("size trim not recorded")
	}
}

func TestClosedStoreRefusesAppends(t *testing.T) {
	s := openStore(t, filepath.Join(t.TempDir(), "l.db"), Options{})
	s.Close()
	_, err := s.Append(context.Background(), []livedash.Message{msg("a", 1, "1")})
	if livedash.ErrorCode(err) != livedash.EUNAVAILABLE {
		t.Fatalf("append after close: %v", err)
	}
}

// BenchmarkAppend measures durable appends (fsync per group) from 8
// concurrent publishers, one message each call.
func BenchmarkAppend(b *testing.B) {
	s, err := Open(context.Background(), filepath.Join(b.TempDir(), "l.db"), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	b.SetParallelism(8)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := s.Append(context.Background(), []livedash.Message{msg("bench.a", 1, "42.5")}); err != nil {
				b.Error(err)
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

// BenchmarkAppendBatch measures durable appends of 100-message batches
// from 4 concurrent publishers.
func BenchmarkAppendBatch(b *testing.B) {
	s, err := Open(context.Background(), filepath.Join(b.TempDir(), "l.db"), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	batch := make([]livedash.Message, 100)
	for i := range batch {
		batch[i] = msg(fmt.Sprintf("bench.t%d", i%10), 1, `{"v":42.5,"host":"a"}`)
	}
	b.SetParallelism(4)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := s.Append(context.Background(), batch); err != nil {
				b.Error(err)
			}
		}
	})
	b.ReportMetric(float64(b.N*len(batch))/b.Elapsed().Seconds(), "msgs/s")
}
