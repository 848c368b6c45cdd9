// Package sqlite is livedash's embedded store: the durable, ordered message
// log in one SQLite file, with per-topic state, retention, and dashboards.
//
// One goroutine, the writer, owns every write. Concurrent Append calls are
// gathered into one transaction (group commit): one fsync acknowledges the
// whole group. The writer assigns ids in order and hands each committed
// group to the OnCommit callback before any caller is answered, so fan-out
// sees messages in id order and never sees a message that is not durable.
//
// Durability: the database runs in WAL mode with synchronous=FULL, so a
// commit returns only after the WAL is fsynced; an acknowledged publish
// survives kill -9 and power loss (on a disk that honours fsync).
package sqlite

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"embed"
	"encoding/base32"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/livedash/livedash"
	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

//go:embed migration/*.sql
var migrations embed.FS

// Options configure a Store. The zero value of each field picks a default.
type Options struct {
	// Now is the clock used for retention; defaults to time.Now.
	Now func() time.Time
	// OnCommit is called by the writer goroutine with every committed
	// group of messages, in id order, before the publishers are answered.
	// It must not block.
	OnCommit func([]*livedash.Frame)
	// OnGroup, when set, is told of every group written: its size, the
	// time to write and fsync it, and the error if it failed.
	OnGroup func(n int, took time.Duration, err error)
	// MaxGroup caps the messages written in one transaction (default 5000).
	MaxGroup int
	// Recent is how many newest messages per topic are kept in memory to
	// answer backlogs without a query (default 50).
	Recent int
	// Retention bounds what is kept; zero fields mean unbounded.
	Retention Retention
	// Epoch, when set, is the cluster's log name: the store adopts it, and
	// if the file held another epoch its messages are dropped (they belong
	// to another log). Empty: the store keeps or creates its own.
	Epoch string
	// CatchUpWait is how long WaitFor may wait for ids this node has not
	// ingested yet (cluster mode); zero means the head is authoritative.
	CatchUpWait time.Duration
}

// Retention says how much history is kept. Messages older than MaxAge (by
// their ts) are removed, then the oldest messages (by id) until the
// database holds at most MaxBytes. The newest message of each topic is
// always kept, so every topic keeps its last value.
type Retention struct {
	MaxAge   time.Duration
	MaxBytes int64
}

// Store is the SQLite message log. It is safe for concurrent use.
type Store struct {
	write    *sql.DB // one connection, used only by the writer goroutine
	read     *sql.DB // a pool of read-only connections
	epoch    string
	now      func() time.Time
	onCommit func([]*livedash.Frame)
	onGroup  func(int, time.Duration, error)
	maxGroup int
	recent   int
	ret      Retention

	requests chan *appendRequest
	jobs     chan func(context.Context) error
	stop     chan struct{}
	stopped  chan struct{}
	closeMu  sync.RWMutex // held for reading while a request is queued
	closed   bool

	mu         sync.RWMutex // guards topics, byID, sysTopics, lastSeq, gapThrough, advanced
	topics     map[string]*topicState
	byID       map[int64]*topicState
	sysTopics  int // how many of topics are under sys.
	lastSeq    uint64
	gapThrough uint64        // ids up to here may be missing (cluster log gap)
	advanced   chan struct{} // closed and replaced at every commit
	catchUp    time.Duration

	// afterRecentQuery, when set (by tests), is called by a recent-window
	// load between its query and its merge.
	afterRecentQuery func()
}

type topicState struct {
	id             int64
	name           string
	count          int64
	lastSeq        uint64
	trimmedThrough uint64
	last           *livedash.Frame
	// recent holds the newest messages, oldest first, once loaded.
	recent       []*livedash.Frame
	recentLoaded bool
	// loading is set while a load of recent runs (closed when it ends);
	// meanwhile the writer keeps the newest frames it commits in pending.
	loading chan struct{}
	pending []*livedash.Frame
	// gen counts retention resets of recent, so that a load that ran
	// across one is discarded.
	gen uint64
}

type appendRequest struct {
	msgs []livedash.Message
	// assigned: the messages carry ids given by the cluster (Ingest);
	// otherwise the store assigns them.
	assigned bool
	done     chan appendResult
}

type appendResult struct {
	frames []*livedash.Frame
	err    error
}

// Open opens (creating if needed) the database at path, migrates it,
// loads per-topic state and starts the writer.
func Open(ctx context.Context, path string, opts Options) (*Store, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.MaxGroup <= 0 {
		opts.MaxGroup = 5000
	}
	if opts.Recent <= 0 {
		opts.Recent = 50
	}
	if opts.OnCommit == nil {
		opts.OnCommit = func([]*livedash.Frame) {}
	}
	if opts.OnGroup == nil {
		opts.OnGroup = func(int, time.Duration, error) {}
	}
	if err := createPrivate(path); err != nil {
		return nil, err
	}
	wdsn := "file:" + path + "?_txlock=immediate" +
		"&_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)" +
		"&_pragma=foreign_keys(on)&_pragma=auto_vacuum(incremental)"
	write, err := sql.Open("sqlite", wdsn)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	write.SetMaxOpenConns(1)
	write.SetConnMaxIdleTime(0)
	if err := write.PingContext(ctx); err != nil {
		write.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	rdsn := "file:" + path + "?_pragma=busy_timeout(10000)&_pragma=query_only(1)"
	read, err := sql.Open("sqlite", rdsn)
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("open %s for reading: %w", path, err)
	}
	read.SetMaxOpenConns(4)
	s := &Store{
		write: write, read: read,
		now: opts.Now, onCommit: opts.OnCommit, onGroup: opts.OnGroup, maxGroup: opts.MaxGroup, recent: opts.Recent, ret: opts.Retention,
		requests: make(chan *appendRequest, 1024),
		jobs:     make(chan func(context.Context) error),
		stop:     make(chan struct{}),
		stopped:  make(chan struct{}),
		topics:   map[string]*topicState{},
		byID:     map[int64]*topicState{},
		advanced: make(chan struct{}),
		catchUp:  opts.CatchUpWait,
	}
	if err := s.migrate(ctx); err != nil {
		s.closeDBs()
		return nil, err
	}
	if err := s.load(ctx, opts.Epoch); err != nil {
		s.closeDBs()
		return nil, err
	}
	go s.writer()
	return s, nil
}

func (s *Store) closeDBs() {
	s.read.Close()
	s.write.Close()
}

func (s *Store) migrate(ctx context.Context) error {
	var version int
	if err := s.write.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	names, err := fs.Glob(migrations, "migration/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	for i, name := range names {
		if i < version {
			continue
		}
		body, err := migrations.ReadFile(name)
		if err != nil {
			return err
		}
		tx, err := s.write.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("migrate %s: %w", name, err)
		}
		if _, err := tx.ExecContext(ctx, string(body)); err != nil {
			tx.Rollback()
			return fmt.Errorf("migrate %s: %w", name, err)
		}
		if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", i+1)); err != nil {
			tx.Rollback()
			return fmt.Errorf("migrate %s: %w", name, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("migrate %s: %w", name, err)
		}
	}
	return nil
}

// load reads the epoch and per-topic state, creating the epoch on first open.
func (s *Store) load(ctx context.Context, adopt string) error {
	err := s.write.QueryRowContext(ctx, "SELECT value FROM meta WHERE key = 'epoch'").Scan(&s.epoch)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		s.epoch = adopt
		if s.epoch == "" {
			s.epoch = newEpoch()
		}
		if _, err := s.write.ExecContext(ctx, "INSERT INTO meta(key, value) VALUES ('epoch', ?)", s.epoch); err != nil {
			return fmt.Errorf("store epoch: %w", err)
		}
	case err != nil:
		return fmt.Errorf("read epoch: %w", err)
	case adopt != "" && adopt != s.epoch:
		if err := s.adopt(ctx, adopt); err != nil {
			return err
		}
	}
	var gap sql.NullString
	if err := s.write.QueryRowContext(ctx, "SELECT value FROM meta WHERE key = 'gap_through'").Scan(&gap); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("read gap: %w", err)
	}
	if gap.Valid {
		s.gapThrough, _ = strconv.ParseUint(gap.String, 10, 64)
	}
	rows, err := s.write.QueryContext(ctx, "SELECT id, name, count, last_seq, trimmed_through FROM topics")
	if err != nil {
		return fmt.Errorf("load topics: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		t := &topicState{}
		if err := rows.Scan(&t.id, &t.name, &t.count, &t.lastSeq, &t.trimmedThrough); err != nil {
			return fmt.Errorf("load topics: %w", err)
		}
		s.addTopic(t)
		s.lastSeq = max(s.lastSeq, t.lastSeq)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("load topics: %w", err)
	}
	rows.Close()
	lasts, err := s.query(ctx, s.write, "SELECT seq, topic_id, type, ts, data FROM messages WHERE seq IN (SELECT last_seq FROM topics)")
	if err != nil {
		return fmt.Errorf("load last messages: %w", err)
	}
	for _, f := range lasts {
		s.topics[f.Topic].last = f
	}
	return nil
}

// Adopt makes the store part of the cluster log named epoch: unless it
// already is, its messages (of another log) are dropped. Safe while running.
func (s *Store) Adopt(ctx context.Context, epoch string) error {
	return s.runJob(ctx, func(ctx context.Context) error {
		if epoch == s.Epoch() {
			return nil
		}
		if err := s.adopt(ctx, epoch); err != nil {
			return err
		}
		s.mu.Lock()
		s.topics, s.byID, s.sysTopics = map[string]*topicState{}, map[int64]*topicState{}, 0
		s.lastSeq, s.gapThrough = 0, 0
		s.mu.Unlock()
		return nil
	})
}

// adopt drops the messages of another log and takes the cluster's epoch.
func (s *Store) adopt(ctx context.Context, epoch string) error {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("adopt epoch: %w", err)
	}
	defer tx.Rollback()
	for _, q := range []string{"DELETE FROM messages", "DELETE FROM topics", "DELETE FROM meta WHERE key = 'gap_through'"} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("adopt epoch: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, "UPDATE meta SET value = ? WHERE key = 'epoch'", epoch); err != nil {
		return fmt.Errorf("adopt epoch: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("adopt epoch: %w", err)
	}
	s.mu.Lock()
	s.epoch = epoch
	s.mu.Unlock()
	return nil
}

// newEpoch returns a random name for a new log, 8 characters of base32.
func newEpoch() string {
	var b [5]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return strings.ToLower(base32.StdEncoding.EncodeToString(b[:]))
}

// Epoch names this log; ids from another epoch are unknown here.
func (s *Store) Epoch() string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.epoch
}

// Head returns the id of the newest message (Seq 0 when the log is empty).
func (s *Store) Head() livedash.ID {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return livedash.ID{Seq: s.lastSeq, Epoch: s.epoch}
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	var one int
	if err := s.read.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return fmt.Errorf("store ping: %w", err)
	}
	return nil
}

// Append stores msgs durably as one group, assigns their ids and returns
// them encoded. Either all are stored or none. Returns EUNAVAILABLE once the
// store is closing.
func (s *Store) Append(ctx context.Context, msgs []livedash.Message) ([]*livedash.Frame, error) {
	return s.enqueue(ctx, &appendRequest{msgs: msgs, done: make(chan appendResult, 1)})
}

// Ingest stores messages whose ids were assigned elsewhere (the cluster
// log), in increasing id order: those at or below the head are skipped, and
// a jump past head+1 is recorded as a gap (resumes from before it get a
// reset). It returns the frames it stored.
func (s *Store) Ingest(ctx context.Context, msgs []livedash.Message) ([]*livedash.Frame, error) {
	return s.enqueue(ctx, &appendRequest{msgs: msgs, assigned: true, done: make(chan appendResult, 1)})
}

// WaitFor waits until the head reaches seq, ctx ends, or the store's
// catch-up wait (Options.CatchUpWait) passes, and returns the head then.
func (s *Store) WaitFor(ctx context.Context, seq uint64) livedash.ID {
	deadline := time.NewTimer(s.catchUp)
	defer deadline.Stop()
	for {
		s.mu.RLock()
		head, advanced := livedash.ID{Seq: s.lastSeq, Epoch: s.epoch}, s.advanced
		s.mu.RUnlock()
		if head.Seq >= seq || s.catchUp <= 0 {
			return head
		}
		select {
		case <-advanced:
		case <-deadline.C:
			return s.Head()
		case <-ctx.Done():
			return s.Head()
		}
	}
}

func (s *Store) enqueue(ctx context.Context, req *appendRequest) ([]*livedash.Frame, error) {
	if len(req.msgs) == 0 {
		return nil, nil
	}
	// Queue under the read lock: Close takes the write lock before it
	// stops the writer, so every queued request is written.
	s.closeMu.RLock()
	if s.closed {
		s.closeMu.RUnlock()
		return nil, livedash.Errorf(livedash.EUNAVAILABLE, "server is shutting down")
	}
	select {
	case s.requests <- req:
		s.closeMu.RUnlock()
	case <-ctx.Done():
		s.closeMu.RUnlock()
		return nil, ctx.Err()
	}
	// Once queued the write happens; wait for it so the answer is true.
	res := <-req.done
	return res.frames, res.err
}

// Close stops the writer after it has written every queued message, then
// checkpoints and closes the database.
func (s *Store) Close() error {
	s.closeMu.Lock()
	if s.closed {
		s.closeMu.Unlock()
		return nil
	}
	s.closed = true
	close(s.stop)
	s.closeMu.Unlock()
	<-s.stopped
	_, cerr := s.write.Exec("PRAGMA wal_checkpoint(TRUNCATE)")
	rerr := s.read.Close()
	werr := s.write.Close()
	return errors.Join(cerr, rerr, werr)
}

// writer owns all writes: it gathers queued appends into groups and runs
// maintenance jobs between groups.
func (s *Store) writer() {
	defer close(s.stopped)
	ctx := context.Background()
	group := make([]*appendRequest, 0, 64)
	for {
		select {
		case req := <-s.requests:
			group = s.gather(append(group[:0], req))
			s.commit(ctx, group)
		case job := <-s.jobs:
			job(ctx)
		case <-s.stop:
			// Write what was queued before the stop, then leave.
			for {
				select {
				case req := <-s.requests:
					group = s.gather(append(group[:0], req))
					s.commit(ctx, group)
				default:
					return
				}
			}
		}
	}
}

// gather adds already-queued requests to group up to MaxGroup messages.
func (s *Store) gather(group []*appendRequest) []*appendRequest {
	n := len(group[0].msgs)
	for n < s.maxGroup {
		select {
		case req := <-s.requests:
			group = append(group, req)
			n += len(req.msgs)
		default:
			return group
		}
	}
	return group
}

func (s *Store) commit(ctx context.Context, group []*appendRequest) {
	start := time.Now()
	frames, perReq, err := s.writeGroup(ctx, group)
	s.onGroup(len(frames), time.Since(start), err)
	if err != nil {
		err = fmt.Errorf("append: %w", err)
		for _, req := range group {
			req.done <- appendResult{err: err}
		}
		return
	}
	if len(frames) > 0 {
		s.onCommit(frames)
	}
	for i, req := range group {
		req.done <- appendResult{frames: perReq[i]}
	}
}

// writeGroup writes one group in one transaction and, once committed,
// updates the in-memory topic state.
func (s *Store) writeGroup(ctx context.Context, group []*appendRequest) (frames []*livedash.Frame, perReq [][]*livedash.Frame, err error) {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return nil, nil, err
	}
	defer func() {
		if err != nil {
			tx.Rollback()
		}
	}()
	insert, err := tx.PrepareContext(ctx, "INSERT INTO messages(seq, topic_id, type, ts, data) VALUES (?, ?, ?, ?, ?)")
	if err != nil {
		return nil, nil, err
	}
	defer insert.Close()

	s.mu.RLock()
	seq, gap := s.lastSeq, s.gapThrough
	s.mu.RUnlock()
	newTopics := map[string]int64{}
	touched := map[int64]*topicDelta{}
	perReq = make([][]*livedash.Frame, len(group))
	for i, req := range group {
		start := len(frames)
		for _, m := range req.msgs {
			if req.assigned {
				if m.ID.Seq <= seq {
					continue // already stored: ingest is idempotent
				}
				if m.ID.Seq > seq+1 {
					gap = m.ID.Seq - 1 // the cluster log lost or trimmed what lies between
				}
				seq = m.ID.Seq
			} else {
				seq++
			}
			id, err := s.topicID(ctx, tx, m.Topic, newTopics)
			if err != nil {
				return nil, nil, err
			}
			if _, err := insert.ExecContext(ctx, seq, id, m.Type, m.TS, []byte(m.Data)); err != nil {
				return nil, nil, err
			}
			m.ID = livedash.ID{Seq: seq, Epoch: s.epoch}
			f := livedash.NewFrame(m)
			frames = append(frames, f)
			d := touched[id]
			if d == nil {
				d = &topicDelta{}
				touched[id] = d
			}
			d.count++
			d.last = f
		}
		perReq[i] = frames[start:len(frames):len(frames)]
	}
	for id, d := range touched {
		if _, err := tx.ExecContext(ctx, "UPDATE topics SET count = count + ?, last_seq = ? WHERE id = ?", d.count, d.last.ID.Seq, id); err != nil {
			return nil, nil, err
		}
	}
	if gap != s.gapThrough {
		if _, err := tx.ExecContext(ctx, "INSERT INTO meta(key, value) VALUES ('gap_through', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value", strconv.FormatUint(gap, 10)); err != nil {
			return nil, nil, err
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, nil, err
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	for name, id := range newTopics {
		s.addTopic(&topicState{id: id, name: name, recentLoaded: true})
	}
	for _, f := range frames {
		t := s.topics[f.Topic]
		t.count++
		t.lastSeq = f.ID.Seq
		t.last = f
		switch {
		case t.recentLoaded:
			t.recent = appendRecent(t.recent, f, s.recent)
		case t.loading != nil:
			t.pending = appendRecent(t.pending, f, s.recent)
		}
	}
	s.lastSeq = seq
	s.gapThrough = gap
	close(s.advanced) // wake WaitFor callers
	s.advanced = make(chan struct{})
	return frames, perReq, nil
}

type topicDelta struct {
	count int64
	last  *livedash.Frame
}

// appendRecent adds f to the newest-first window of at most n frames,
// keeping it oldest first; frames already in the window are skipped.
func appendRecent(recent []*livedash.Frame, f *livedash.Frame, n int) []*livedash.Frame {
	if k := len(recent); k > 0 && recent[k-1].ID.Seq >= f.ID.Seq {
		return recent
	}
	if len(recent) >= n {
		copy(recent, recent[len(recent)-n+1:])
		recent = recent[:n-1]
	}
	return append(recent, f)
}

// topicID returns the id of a topic, inserting it inside tx when new.
func (s *Store) topicID(ctx context.Context, tx *sql.Tx, name string, newTopics map[string]int64) (int64, error) {
	s.mu.RLock()
	t := s.topics[name]
	s.mu.RUnlock()
	if t != nil {
		return t.id, nil
	}
	if id, ok := newTopics[name]; ok {
		return id, nil
	}
	var id int64
	if err := tx.QueryRowContext(ctx, "INSERT INTO topics(name) VALUES (?) RETURNING id", name).Scan(&id); err != nil {
		return 0, fmt.Errorf("new topic %s: %w", name, err)
	}
	newTopics[name] = id
	return id, nil
}

// runJob runs fn on the writer goroutine, between groups, and waits for it.
func (s *Store) runJob(ctx context.Context, fn func(context.Context) error) error {
	done := make(chan error, 1)
	job := func(ctx context.Context) error {
		err := fn(ctx)
		done <- err
		return err
	}
	select {
	case s.jobs <- job:
	case <-s.stop:
		return livedash.Errorf(livedash.EUNAVAILABLE, "store is closed")
	case <-ctx.Done():
		return ctx.Err()
	}
	return <-done
}

// matchingTopics returns the states of the topics matched by any pattern.
// The caller holds s.mu.
func (s *Store) matchingTopics(patterns []string) []*topicState {
	var out []*topicState
	for name, t := range s.topics {
		for _, p := range patterns {
			if livedash.Match(p, name) {
				out = append(out, t)
				break
			}
		}
	}
	return out
}

// query runs a message query and decodes its rows (seq, topic_id, type, ts, data).
func (s *Store) query(ctx context.Context, db *sql.DB, q string, args ...any) ([]*livedash.Frame, error) {
	var out []*livedash.Frame
	err := s.scan(ctx, db, q, args, func(m *livedash.Message) (bool, error) {
		out = append(out, frameOf(m))
		return true, nil
	})
	return out, err
}

// scan runs a message query (seq, topic_id, type, ts, data) and calls fn
// with each row's message, in row order, until fn returns false or an
// error. m.Data is valid only during the call: a frame is made of a copy
// (frameOf), and a reader that only needs the envelope makes no frame.
func (s *Store) scan(ctx context.Context, db *sql.DB, q string, args []any, fn func(m *livedash.Message) (bool, error)) error {
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	epoch := s.Epoch()
	for rows.Next() {
		var (
			m       livedash.Message
			topicID int64
			data    sql.RawBytes
		)
		if err := rows.Scan(&m.ID.Seq, &topicID, &m.Type, &m.TS, &data); err != nil {
			return err
		}
		s.mu.RLock()
		t := s.byID[topicID]
		s.mu.RUnlock()
		if t == nil {
			continue // a topic committed after our snapshot of the map; not ours to return
		}
		m.ID.Epoch = epoch
		m.Topic = t.name
		m.Data = json.RawMessage(data)
		more, err := fn(&m)
		if err != nil || !more {
			return err
		}
	}
	return rows.Err()
}

// frameOf encodes a message read by scan, with a copy of its data.
func frameOf(m *livedash.Message) *livedash.Frame {
	c := *m
	c.Data = bytes.Clone(m.Data)
	return livedash.NewFrame(c)
}

// idList renders topic ids for an IN clause; ids are integers, so this is safe.
func idList(ts []*topicState) string {
	var b strings.Builder
	for i, t := range ts {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatInt(t.id, 10))
	}
	return b.String()
}

// createPrivate creates the database's directory (mode 0700) and file (mode
// 0600) when they are missing, so that SQLite, which gives the -wal and
// -shm files the database file's mode, makes those 0600 too. It tightens
// the files of an older data directory, best effort.
func createPrivate(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("create data dir: %w", err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("open %s: %w", path, err)
	}
	f.Close()
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		if st, err := os.Stat(p); err == nil && st.Mode().Perm()&0o077 != 0 {
			os.Chmod(p, st.Mode().Perm()&0o700)
		}
	}
	return nil
}
