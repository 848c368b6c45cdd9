package sqlite

import (
	"context"
	"fmt"
	"sort"
	"strconv"

	"github.com/livedash/livedash"
)

// After returns up to limit messages on topics matching patterns whose seq
// is greater than after, in id order.
func (s *Store) After(ctx context.Context, patterns []string, after uint64, limit int) ([]*livedash.Frame, error) {
	s.mu.RLock()
	ts := s.matchingTopics(patterns)
	s.mu.RUnlock()
	if len(ts) == 0 || limit <= 0 {
		return nil, nil
	}
	q := "SELECT seq, topic_id, type, ts, data FROM messages WHERE topic_id IN (" + idList(ts) + ") AND seq > ? ORDER BY seq LIMIT ?"
	frames, err := s.query(ctx, s.read, q, after, limit)
	if err != nil {
		return nil, fmt.Errorf("read after %d: %w", after, err)
	}
	return frames, nil
}

// Backlog returns the newest perTopic messages of each topic matching
// patterns, merged in id order. Small backlogs are served from memory.
func (s *Store) Backlog(ctx context.Context, patterns []string, perTopic int) ([]*livedash.Frame, error) {
	if perTopic <= 0 {
		return nil, nil
	}
	s.mu.RLock()
	ts := s.matchingTopics(patterns)
	s.mu.RUnlock()
	var out []*livedash.Frame
	for _, t := range ts {
		frames, err := s.topicBacklog(ctx, t, perTopic)
		if err != nil {
			return nil, fmt.Errorf("backlog of %s: %w", t.name, err)
		}
		out = append(out, frames...)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID.Seq < out[j].ID.Seq })
	return out, nil
}

func (s *Store) topicBacklog(ctx context.Context, t *topicState, n int) ([]*livedash.Frame, error) {
	if n <= s.recent {
		s.mu.RLock()
		if t.recentLoaded {
			r := t.recent
			if len(r) > n {
				r = r[len(r)-n:]
			}
			out := append([]*livedash.Frame(nil), r...)
			s.mu.RUnlock()
			return out, nil
		}
		s.mu.RUnlock()
		// Load the window once. Holding the write lock while querying keeps
		// the writer from appending to a half-loaded window; frames it
		// commits meanwhile are skipped by appendRecent as already present.
		s.mu.Lock()
		defer s.mu.Unlock()
		if !t.recentLoaded {
			frames, err := s.queryLocked(ctx, t, s.recent)
			if err != nil {
				return nil, err
			}
			t.recent = frames
			t.recentLoaded = true
		}
		r := t.recent
		if len(r) > n {
			r = r[len(r)-n:]
		}
		return append([]*livedash.Frame(nil), r...), nil
	}
	frames, err := s.query(ctx, s.read, "SELECT seq, topic_id, type, ts, data FROM messages WHERE topic_id = ? ORDER BY seq DESC LIMIT ?", t.id, n)
	if err != nil {
		return nil, err
	}
	reverse(frames)
	return frames, nil
}

// queryLocked reads the newest n messages of t while s.mu is held.
func (s *Store) queryLocked(ctx context.Context, t *topicState, n int) ([]*livedash.Frame, error) {
	rows, err := s.read.QueryContext(ctx, "SELECT seq, type, ts, data FROM messages WHERE topic_id = ? ORDER BY seq DESC LIMIT ?", t.id, n)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*livedash.Frame
	for rows.Next() {
		m := livedash.Message{Topic: t.name}
		var data []byte
		if err := rows.Scan(&m.ID.Seq, &m.Type, &m.TS, &data); err != nil {
			return nil, err
		}
		m.ID.Epoch = s.epoch
		m.Data = data
		out = append(out, livedash.NewFrame(m))
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	reverse(out)
	return out, nil
}

func reverse(f []*livedash.Frame) {
	for i, j := 0, len(f)-1; i < j; i, j = i+1, j-1 {
		f[i], f[j] = f[j], f[i]
	}
}

// TrimmedAfter reports whether retention removed any message newer than
// seq from a topic matching patterns: then a resume from seq is not exact.
func (s *Store) TrimmedAfter(patterns []string, seq uint64) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if seq < s.gapThrough {
		return true
	}
	for _, t := range s.matchingTopics(patterns) {
		if t.trimmedThrough > seq {
			return true
		}
	}
	return false
}

// Topics lists the topics matching any of patterns, sorted by name.
func (s *Store) Topics(patterns []string) []livedash.TopicInfo {
	s.mu.RLock()
	ts := s.matchingTopics(patterns)
	out := make([]livedash.TopicInfo, 0, len(ts))
	for _, t := range ts {
		out = append(out, livedash.TopicInfo{Topic: t.name, Last: t.last, Count: t.count})
	}
	s.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Topic < out[j].Topic })
	return out
}

// History returns messages in id order.
func (s *Store) History(ctx context.Context, q livedash.HistoryQuery) ([]*livedash.Frame, error) {
	s.mu.RLock()
	ts := s.matchingTopics(q.Patterns)
	s.mu.RUnlock()
	if len(ts) == 0 || q.Limit <= 0 {
		return nil, nil
	}
	where, args := historyWhere(ts, q.From, q.To)
	var (
		frames []*livedash.Frame
		err    error
	)
	if q.From == nil {
		frames, err = s.query(ctx, s.read, "SELECT seq, topic_id, type, ts, data FROM messages WHERE "+where+" ORDER BY seq DESC LIMIT ?", append(args, q.Limit)...)
		reverse(frames)
	} else {
		frames, err = s.query(ctx, s.read, "SELECT seq, topic_id, type, ts, data FROM messages WHERE "+where+" ORDER BY seq LIMIT ?", append(args, q.Limit)...)
	}
	if err != nil {
		return nil, fmt.Errorf("history: %w", err)
	}
	return frames, nil
}

func historyWhere(ts []*topicState, from, to *int64) (string, []any) {
	where := "topic_id IN (" + idList(ts) + ")"
	var args []any
	if from != nil {
		where += " AND ts >= ?"
		args = append(args, *from)
	}
	if to != nil {
		where += " AND ts < ?"
		args = append(args, *to)
	}
	return where, args
}

// maxBucketRows caps how many values one aggregation reads.
const maxBucketRows = 2_000_000

// Buckets aggregates point messages on topics matching patterns into
// step-wide buckets aligned to multiples of step, over ts in [from, to).
// field selects a member of object data; empty means the data itself.
// Non-numeric and non-finite values are skipped; empty buckets are left
// out. Every number is finite (see livedash.Sum). A field that is not
// valid (livedash.ValidateField) is EINVALID.
func (s *Store) Buckets(ctx context.Context, patterns []string, from, to, step int64, field string) ([]livedash.Series, error) {
	s.mu.RLock()
	ts := s.matchingTopics(patterns)
	s.mu.RUnlock()
	if len(ts) == 0 {
		return []livedash.Series{}, nil
	}
	path := "$"
	if field != "" {
		if err := livedash.ValidateField(field); err != nil {
			return nil, err
		}
		path = `$."` + field + `"` // no " or \ in a valid field
	}
	where, args := historyWhere(ts, &from, &to)
	q := "SELECT topic_id, ts, json_extract(data, ?) FROM messages WHERE " + where +
		" AND type = 'point' AND json_type(data, ?) IN ('integer', 'real') ORDER BY seq LIMIT " + strconv.Itoa(maxBucketRows)
	rows, err := s.read.QueryContext(ctx, q, append([]any{path}, append(args, path)...)...)
	if err != nil {
		return nil, fmt.Errorf("buckets: %w", err)
	}
	defer rows.Close()
	type key struct {
		topic int64
		t     int64
	}
	type acc struct {
		b   livedash.Bucket
		sum livedash.Sum
	}
	buckets := map[key]*acc{}
	for rows.Next() {
		var (
			topicID, t int64
			v          float64
		)
		if err := rows.Scan(&topicID, &t, &v); err != nil {
			return nil, fmt.Errorf("buckets: %w", err)
		}
		if !livedash.Finite(v) {
			continue // stored before publishes refused numbers out of range
		}
		start := t - mod(t, step)
		k := key{topicID, start}
		a := buckets[k]
		if a == nil {
			a = &acc{b: livedash.Bucket{T: start, Min: v, Max: v}}
			buckets[k] = a
		}
		a.sum.Add(v)
		a.b.Min = min(a.b.Min, v)
		a.b.Max = max(a.b.Max, v)
		a.b.Last = v
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("buckets: %w", err)
	}
	byTopic := map[int64]*livedash.Series{}
	for k, a := range buckets {
		b := a.b
		b.Count, b.Sum, b.Avg = a.sum.N, a.sum.Total(), a.sum.Avg()
		sr := byTopic[k.topic]
		if sr == nil {
			s.mu.RLock()
			sr = &livedash.Series{Topic: s.byID[k.topic].name}
			s.mu.RUnlock()
			byTopic[k.topic] = sr
		}
		sr.Buckets = append(sr.Buckets, b)
	}
	out := make([]livedash.Series, 0, len(byTopic))
	for _, sr := range byTopic {
		sort.Slice(sr.Buckets, func(i, j int) bool { return sr.Buckets[i].T < sr.Buckets[j].T })
		out = append(out, *sr)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Topic < out[j].Topic })
	return out, nil
}

// mod is the non-negative remainder, so buckets align below negative ts too.
func mod(a, b int64) int64 {
	r := a % b
	if r < 0 {
		r += b
	}
	return r
}
