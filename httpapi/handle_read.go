package httpapi

import (
	"bufio"
	"encoding/json"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/livedash/livedash"
)

// MaxHistoryLimit caps the messages one history request returns.
const MaxHistoryLimit = 10000

type topicJSON struct {
	Topic string          `json:"topic"`
	Last  json.RawMessage `json:"last"`
	Count int64           `json:"count"`
}

// handleTopics lists topics with their last message, only those the caller
// may read. Without ?topic= it lists every readable topic.
func (s *Server) handleTopics() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a, err := s.access(r)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		patterns := []string{">"}
		if a.Claims != nil && a.Claims.Admin {
			patterns = append(patterns, "sys.>")
		}
		if r.URL.Query().Has("topic") {
			if patterns, err = patternsParam(r); err != nil {
				s.writeError(w, r, err)
				return
			}
		}
		out := []topicJSON{}
		for _, t := range s.store.Topics(patterns) {
			if !a.CanRead(t.Topic) {
				continue
			}
			tj := topicJSON{Topic: t.Topic, Count: t.Count, Last: json.RawMessage("null")}
			if t.Last != nil {
				tj.Last = t.Last.JSON
			}
			out = append(out, tj)
		}
		s.writeJSON(w, r, http.StatusOK, out)
	})
}

type seriesResponse struct {
	Series []livedash.Series `json:"series"`
}

// handleHistory returns stored messages in id order, or with step=
// aggregated buckets of point topics.
func (s *Server) handleHistory() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a, err := s.access(r)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		patterns, err := patternsParam(r)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		if err := a.CheckRead(patterns); err != nil {
			s.writeError(w, r, err)
			return
		}
		q := r.URL.Query()
		from, err := msParam(q.Get("from"), "from")
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		to, err := msParam(q.Get("to"), "to")
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		if q.Has("step") {
			s.buckets(w, r, patterns, from, to)
			return
		}
		limit := 1000
		if v := q.Get("limit"); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				s.writeError(w, r, livedash.Errorf(livedash.EINVALID, "limit must be a positive whole number"))
				return
			}
			limit = min(n, MaxHistoryLimit)
		}
		hq := livedash.HistoryQuery{Patterns: patterns, From: from, To: to, Limit: limit, MaxBytes: int64(s.cfg.Limits.HistoryBytes)}
		s.streamHistory(w, r, hq)
	})
}

// streamHistory writes {"messages":[…]} as the store reads the rows, one
// envelope at a time through a 32 KiB buffer, so a response is never held
// whole; a response the byte budget cut ends with "truncated":true. An
// error before the first buffer is sent is an error response; after it
// (the 200 is out) the response is aborted, so the client sees it cut
// short, and the error is logged.
func (s *Server) streamHistory(w http.ResponseWriter, r *http.Request, q livedash.HistoryQuery) {
	hw := &historyWriter{w: w}
	hw.bw = bufio.NewWriterSize(hw, 32<<10)
	hw.bw.WriteString(`{"messages":[`)
	truncated, err := s.store.HistoryEnvelopes(r.Context(), q, hw.message)
	if err == nil {
		if truncated {
			hw.bw.WriteString(`],"truncated":true}` + "\n")
		} else {
			hw.bw.WriteString("]}\n")
		}
		err = hw.bw.Flush()
	}
	switch {
	case err == nil:
	case hw.writeErr != nil:
		s.logFor(r).Debug("history: client went away", "err", hw.writeErr)
	case !hw.sent:
		s.writeError(w, r, err)
	default:
		s.logFor(r).Error("history: read failed mid-response; aborted", "path", r.URL.Path, "err", err)
		panic(http.ErrAbortHandler)
	}
}

// historyWriter is the writer under a history response's buffer: the
// first write sends the 200 and its headers.
type historyWriter struct {
	w        http.ResponseWriter
	bw       *bufio.Writer
	n        int // messages written
	sent     bool
	writeErr error
}

func (h *historyWriter) Write(p []byte) (int, error) {
	if !h.sent {
		h.sent = true
		h.w.Header().Set("Content-Type", "application/json")
		h.w.Header().Set("Cache-Control", "no-store")
		h.w.WriteHeader(http.StatusOK)
	}
	n, err := h.w.Write(p)
	if err != nil {
		h.writeErr = err
	}
	return n, err
}

// message appends one envelope.
func (h *historyWriter) message(env []byte) error {
	if h.n > 0 {
		h.bw.WriteByte(',')
	}
	h.n++
	_, err := h.bw.Write(env)
	return err
}

func (s *Server) buckets(w http.ResponseWriter, r *http.Request, patterns []string, from, to *int64) {
	q := r.URL.Query()
	step, err := time.ParseDuration(q.Get("step"))
	if err != nil || step < time.Millisecond {
		s.writeError(w, r, livedash.Errorf(livedash.EINVALID, "step must be a duration of at least 1ms, like 10s or 1m"))
		return
	}
	field := q.Get("field")
	if field != "" { // empty: the data itself
		if err := livedash.ValidateField(field); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	if from != nil && to != nil && *to < *from {
		s.writeError(w, r, livedash.Errorf(livedash.EINVALID, "to (%d) is before from (%d)", *to, *from))
		return
	}
	now := s.now().UnixMilli()
	end := now + 1
	if to != nil {
		end = *to
	}
	start := now - time.Hour.Milliseconds()
	if from != nil {
		start = *from
	}
	if end <= start {
		// Only a to before the default hour gets here: nothing in range.
		s.writeJSON(w, r, http.StatusOK, seriesResponse{Series: []livedash.Series{}})
		return
	}
	if bucketCount(start, end, step.Milliseconds()) > MaxBuckets {
		s.writeError(w, r, livedash.Errorf(livedash.EINVALID, "too many buckets: use a larger step or a shorter range (at most %d)", MaxBuckets))
		return
	}
	series, err := s.store.Buckets(r.Context(), patterns, start, end, step.Milliseconds(), field)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, seriesResponse{Series: series})
}

// MaxBuckets caps the buckets one step= request may span.
const MaxBuckets = 100_000

// bucketCount is the number of step-aligned buckets [start, end) touches,
// for start < end and step > 0, computed without overflow: the difference
// of the two bucket indexes fits a uint64 even when the range spans the
// whole int64 line.
func bucketCount(start, end, step int64) uint64 {
	first, last := floorDiv(start, step), floorDiv(end-1, step)
	return uint64(last) - uint64(first) + 1
}

// floorDiv is a/b rounded down (toward -Inf), for b > 0.
func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b < 0 {
		q--
	}
	return q
}

// msParam reads an optional unix-millisecond query parameter.
func msParam(v, name string) (*int64, error) {
	if v == "" {
		return nil, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return nil, livedash.Errorf(livedash.EINVALID, "%s must be unix milliseconds", name)
	}
	return &n, nil
}

func jsonString(s string) ([]byte, error) { return json.Marshal(s) }

type accessJSON struct {
	Sub   string   `json:"sub,omitempty"`
	Admin bool     `json:"admin"`
	Read  []string `json:"read"`
}

// handleAccess tells the caller what it may read, as the patterns of one
// stream that covers all of it: every topic and sys. topic for an admin;
// else the public patterns and the token's subscribe grants. A page that
// shows "every topic the viewer may read" subscribes to exactly these.
func (s *Server) handleAccess() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a, err := s.access(r)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		out := accessJSON{Sub: a.Subject(), Read: []string{}}
		if a.Claims != nil && a.Claims.Admin {
			out.Admin, out.Read = true, []string{">", "sys.>"}
			s.writeJSON(w, r, http.StatusOK, out)
			return
		}
		out.Read = append(out.Read, a.Public...)
		if a.Claims != nil {
			for p, g := range a.Claims.Channels {
				if g.Subscribe && !slices.Contains(out.Read, p) {
					out.Read = append(out.Read, p)
				}
			}
		}
		sort.Strings(out.Read)
		s.writeJSON(w, r, http.StatusOK, out)
	})
}
