package sqlite

import (
	"context"
	"fmt"
	"sort"
	"strconv"

	"github.com/livedash/livedash"
)

// After returns up to limit messages on topics matching patterns whose seq
// is greater than after, in id order, within maxBytes of envelopes (0: no
// budget): it stops before the message that would pass the budget, though
// it always returns at least one. So fewer than limit messages do not mean
// there are no more: a reader pages on until a read returns none.
func (s *Store) After(ctx context.Context, patterns []string, after uint64, limit int, maxBytes int64) ([]*livedash.Frame, error) {
	s.mu.RLock()
	ts := s.matchingTopics(patterns)
	s.mu.RUnlock()
	if len(ts) == 0 || limit <= 0 {
		return nil, nil
	}
	q := "SELECT seq, topic_id, type, ts, data FROM messages WHERE topic_id IN (" + idList(ts) + ") AND seq > ? ORDER BY seq LIMIT ?"
	b := budget{max: maxBytes}
	var frames []*livedash.Frame
	err := s.scan(ctx, s.read, q, []any{after, limit}, func(m *livedash.Message) (bool, error) {
		if !b.take(m.EnvelopeLen(len(m.Data))) {
			return false, nil
		}
		frames = append(frames, frameOf(m))
		return true, nil
	})
	if err != nil {
		return nil, fmt.Errorf("read after %d: %w", after, err)
	}
	return frames, nil
}

// budget counts envelope bytes against max (0: no budget).
type budget struct {
	max, used int64
	n         int
}

// take counts a message of size bytes and reports whether it fits; the
// first message always fits, so that every read makes progress.
func (b *budget) take(size int) bool {
	if b.max > 0 && b.n > 0 && b.used+int64(size) > b.max {
		return false
	}
	b.used += int64(size)
	b.n++
	return true
}

// newestWithin sorts frames by id and returns the newest of them whose
// envelopes fit in maxBytes (0: all of them), at least one, in id order.
func newestWithin(frames []*livedash.Frame, maxBytes int64) []*livedash.Frame {
	sort.Slice(frames, func(i, j int) bool { return frames[i].ID.Seq < frames[j].ID.Seq })
	b := budget{max: maxBytes}
	i := len(frames)
	for i > 0 && b.take(len(frames[i-1].JSON)) {
		i--
	}
	return frames[i:]
}

// Backlog returns the newest perTopic messages of each topic matching
// patterns, merged in id order, and of those the newest that fit in
// maxBytes of envelopes (0: no budget; at least one is returned). Small
// backlogs are served from memory. A topic is read newest first and only
// as far as the budget reaches, and what is gathered is cut back to the
// budget as it grows, so a backlog holds about twice maxBytes at most.
func (s *Store) Backlog(ctx context.Context, patterns []string, perTopic int, maxBytes int64) ([]*livedash.Frame, error) {
	if perTopic <= 0 {
		return nil, nil
	}
	s.mu.RLock()
	ts := s.matchingTopics(patterns)
	s.mu.RUnlock()
	var (
		out  []*livedash.Frame
		size int64
	)
	for _, t := range ts {
		frames, err := s.topicBacklog(ctx, t, perTopic, maxBytes)
		if err != nil {
			return nil, fmt.Errorf("backlog of %s: %w", t.name, err)
		}
		out = append(out, frames...)
		for _, f := range frames {
			size += int64(len(f.JSON))
		}
		if maxBytes > 0 && size > 2*maxBytes {
			out = newestWithin(out, maxBytes)
			size = 0
			for _, f := range out {
				size += int64(len(f.JSON))
			}
		}
	}
	return newestWithin(out, maxBytes), nil
}

// topicBacklog returns the newest n messages of t, in id order, and of
// those the newest that fit in maxBytes (0: no budget).
func (s *Store) topicBacklog(ctx context.Context, t *topicState, n int, maxBytes int64) ([]*livedash.Frame, error) {
	if n <= s.recent {
		r, err := s.recentWindow(ctx, t, n)
		if err != nil {
			return nil, err
		}
		return newestWithin(r, maxBytes), nil
	}
	b := budget{max: maxBytes}
	var frames []*livedash.Frame
	err := s.scan(ctx, s.read, "SELECT seq, topic_id, type, ts, data FROM messages WHERE topic_id = ? ORDER BY seq DESC LIMIT ?", []any{t.id, n},
		func(m *livedash.Message) (bool, error) {
			if !b.take(m.EnvelopeLen(len(m.Data))) {
				return false, nil
			}
			frames = append(frames, frameOf(m))
			return true, nil
		})
	if err != nil {
		return nil, err
	}
	reverse(frames)
	return frames, nil
}

// recentWindow returns a copy of the newest n (at most s.recent) messages
// of t, oldest first, from its in-memory window, loading the window first
// if it is not loaded.
func (s *Store) recentWindow(ctx context.Context, t *topicState, n int) ([]*livedash.Frame, error) {
	for {
		s.mu.RLock()
		loaded := t.recentLoaded
		r := t.recent
		if len(r) > n {
			r = r[len(r)-n:]
		}
		out := append([]*livedash.Frame(nil), r...)
		s.mu.RUnlock()
		if loaded {
			return out, nil
		}
		if err := s.loadRecent(ctx, t); err != nil {
			return nil, err
		}
	}
}

// loadRecent loads t's window, or waits for the load under way to end; the
// window may still be unloaded when it returns (a failed or discarded
// load), and the caller tries again. The query runs with no lock held:
// frames the writer commits meanwhile are kept in t.pending and merged
// with the query's result, which may hold some of them too (appendRecent
// skips those). Pending frames are the topic's newest from some id on, and
// the query has its newest up to a moment after pending began, so the
// merge leaves no gap. A retention reset during the load (t.gen moved) may
// have removed messages the query read: the result is then discarded.
func (s *Store) loadRecent(ctx context.Context, t *topicState) error {
	s.mu.Lock()
	if t.recentLoaded {
		s.mu.Unlock()
		return nil
	}
	if wait := t.loading; wait != nil {
		s.mu.Unlock()
		select {
		case <-wait:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	done := make(chan struct{})
	t.loading, t.pending = done, nil
	gen, epoch := t.gen, s.epoch
	s.mu.Unlock()

	frames, err := s.queryRecent(ctx, t, epoch)
	if s.afterRecentQuery != nil {
		s.afterRecentQuery()
	}

	s.mu.Lock()
	if err == nil && t.gen == gen {
		for _, f := range t.pending {
			frames = appendRecent(frames, f, s.recent)
		}
		t.recent, t.recentLoaded = frames, true
	}
	t.loading, t.pending = nil, nil
	s.mu.Unlock()
	close(done)
	return err
}

// queryRecent reads the newest s.recent messages of t, oldest first.
func (s *Store) queryRecent(ctx context.Context, t *topicState, epoch string) ([]*livedash.Frame, error) {
	rows, err := s.read.QueryContext(ctx, "SELECT seq, type, ts, data FROM messages WHERE topic_id = ? ORDER BY seq DESC LIMIT ?", t.id, s.recent)
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
		m.ID.Epoch = epoch
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

// History returns the messages of q in id order.
func (s *Store) History(ctx context.Context, q livedash.HistoryQuery) ([]*livedash.Frame, error) {
	var frames []*livedash.Frame
	_, err := s.history(ctx, q, func(m *livedash.Message) error {
		frames = append(frames, frameOf(m))
		return nil
	})
	return frames, err
}

// HistoryEnvelopes calls fn with the envelope of each message of q, in id
// order, as it reads them: no frame is made and nothing is held but the
// row at hand. env is valid only during the call; an error from fn ends
// the read and is returned. truncated says q.MaxBytes cut the read short.
func (s *Store) HistoryEnvelopes(ctx context.Context, q livedash.HistoryQuery, fn func(env []byte) error) (truncated bool, err error) {
	var buf []byte
	return s.history(ctx, q, func(m *livedash.Message) error {
		buf = m.AppendEnvelope(buf[:0])
		return fn(buf)
	})
}

// history reads the messages of q in id order within its byte budget and
// calls fn with each (m.Data valid only during the call).
func (s *Store) history(ctx context.Context, q livedash.HistoryQuery, fn func(m *livedash.Message) error) (truncated bool, err error) {
	s.mu.RLock()
	ts := s.matchingTopics(q.Patterns)
	s.mu.RUnlock()
	if len(ts) == 0 || q.Limit <= 0 {
		return false, nil
	}
	where, args := historyWhere(ts, q.From, q.To)
	sel := "SELECT seq, topic_id, type, ts, data FROM messages WHERE " + where
	limit := q.Limit
	if q.From == nil {
		// The newest: find the oldest of them that fits the budget, reading
		// sizes only, newest first; then read forward from it.
		var first uint64
		first, limit, truncated, err = s.newestStart(ctx, where, args, q.Limit, q.MaxBytes)
		if err != nil || limit == 0 {
			return false, wrapHistory(err)
		}
		sel += " AND seq >= ?"
		args = append(args, first)
	}
	b := budget{max: q.MaxBytes}
	err = s.scan(ctx, s.read, sel+" ORDER BY seq LIMIT ?", append(args, limit), func(m *livedash.Message) (bool, error) {
		if !b.take(m.EnvelopeLen(len(m.Data))) {
			truncated = true
			return false, nil
		}
		return true, fn(m)
	})
	return truncated, wrapHistory(err)
}

func wrapHistory(err error) error {
	if err != nil {
		return fmt.Errorf("history: %w", err)
	}
	return nil
}

// newestStart returns the seq of the oldest of the newest limit messages
// matching where that fit in maxBytes, how many messages that is, and
// whether the budget left some out. It reads the size of each message's
// data, not the data.
func (s *Store) newestStart(ctx context.Context, where string, args []any, limit int, maxBytes int64) (first uint64, n int, truncated bool, err error) {
	rows, err := s.read.QueryContext(ctx, "SELECT seq, topic_id, type, ts, length(data) FROM messages WHERE "+where+" ORDER BY seq DESC LIMIT ?", append(args, limit)...)
	if err != nil {
		return 0, 0, false, err
	}
	defer rows.Close()
	epoch := s.Epoch()
	b := budget{max: maxBytes}
	for rows.Next() {
		var (
			m       livedash.Message
			topicID int64
			dataLen int
		)
		if err := rows.Scan(&m.ID.Seq, &topicID, &m.Type, &m.TS, &dataLen); err != nil {
			return 0, 0, false, err
		}
		s.mu.RLock()
		t := s.byID[topicID]
		s.mu.RUnlock()
		if t == nil {
			continue
		}
		m.ID.Epoch, m.Topic = epoch, t.name
		if !b.take(m.EnvelopeLen(dataLen)) {
			truncated = true
			break
		}
		first = m.ID.Seq
	}
	return first, b.n, truncated, rows.Err()
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
