package httpapi

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/livedash/livedash"
	"github.com/livedash/livedash/auth"
	"github.com/livedash/livedash/lineproto"
)

type publishResponse struct {
	IDs []string `json:"ids"`
}

// handlePublish stores one message or a batch (all or nothing) and answers
// with their ids once they are durable.
func (s *Server) handlePublish() http.Handler {
	return s.publishHandler(publishWire{decode: func(r *http.Request, body []byte) ([]livedash.Message, error) {
		return livedash.DecodePublish(body, s.now())
	}, answer: s.answerIDs})
}

// handlePublishTopic stores one message whose body is the data JSON.
func (s *Server) handlePublishTopic() http.Handler {
	return s.publishHandler(publishWire{decode: func(r *http.Request, body []byte) ([]livedash.Message, error) {
		q := r.URL.Query()
		in := livedash.PublishInput{Topic: r.PathValue("topic"), Type: q.Get("type"), Data: body}
		if q.Has("type") {
			if err := livedash.ValidateType(in.Type); err != nil { // ?type= is not point
				return nil, err
			}
		}
		if q.Has("ts") {
			in.TS = tsParam(q.Get("ts"))
		}
		m, err := in.Validate(s.now())
		if err != nil {
			return nil, err
		}
		return []livedash.Message{m}, nil
	}, answer: s.answerIDs})
}

// handleWrite stores InfluxDB line protocol (one point message per line;
// see docs/ingest.md), all or nothing, and answers 204 as InfluxDB does.
func (s *Server) handleWrite() http.Handler {
	return s.publishHandler(publishWire{decode: func(r *http.Request, body []byte) ([]livedash.Message, error) {
		return lineproto.Parse(body, r.URL.Query().Get("precision"), s.now())
	}, answer: answerNoContent})
}

// answerNoContent answers 204, as InfluxDB does a write.
func answerNoContent(w http.ResponseWriter, _ *http.Request, _ []*livedash.Frame) {
	w.WriteHeader(http.StatusNoContent)
}

// publishWire is how one publish endpoint reads and answers: decode turns
// the (decompressed) body into messages, answer writes the success, fail
// writes errors in the endpoint's format (the API's own JSON when nil).
type publishWire struct {
	decode func(*http.Request, []byte) ([]livedash.Message, error)
	answer func(http.ResponseWriter, *http.Request, []*livedash.Frame)
	fail   errorWriter
}

// publishHandler is the shape of every publish endpoint: verify the token
// and that it may publish at all, read the body (gzip decoded), decode it
// into messages, check rights and rate, store them, answer. Any error
// answers and stores nothing. A caller who may not publish is answered
// before the body is read, and the connection closed.
func (s *Server) publishHandler(pw publishWire) http.Handler {
	fail := pw.fail
	if fail == nil {
		fail = s.writeAPIError
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		a, err := s.access(r)
		if err == nil {
			err = a.CheckPublishAny()
		}
		if err != nil {
			leaveBodyUnread(w, r)
			s.writeErrorAs(w, r, err, fail)
			return
		}
		body, err := s.readBody(w, r)
		if err != nil {
			s.writeErrorAs(w, r, err, fail)
			return
		}
		msgs, err := pw.decode(r, body)
		if err != nil {
			s.writeErrorAs(w, r, err, fail)
			return
		}
		if len(msgs) == 0 {
			pw.answer(w, r, nil)
			return
		}
		if err := s.mayPublish(a, callerOf(r, a), msgs); err != nil {
			if wait, ok := err.(rateLimited); ok {
				w.Header().Set("Retry-After", retryAfter(wait.wait))
				err = wait.err
			}
			s.writeErrorAs(w, r, err, fail)
			return
		}
		frames, err := s.broker.Append(r.Context(), msgs)
		if err != nil {
			s.writeErrorAs(w, r, err, fail)
			return
		}
		s.events.Published(len(frames), time.Since(start))
		pw.answer(w, r, frames)
	})
}

// answerIDs answers 200 {"ids":[…]}.
func (s *Server) answerIDs(w http.ResponseWriter, r *http.Request, frames []*livedash.Frame) {
	ids := make([]string, len(frames))
	for i, f := range frames {
		ids[i] = f.ID.String()
	}
	s.writeJSON(w, r, http.StatusOK, publishResponse{IDs: ids})
}

// tsParam turns a ts query value into the JSON form ParseTS reads.
func tsParam(v string) []byte {
	for i := 0; i < len(v); i++ {
		if v[i] < '0' || v[i] > '9' {
			b, _ := jsonString(v)
			return b
		}
	}
	return []byte(v)
}

// rateLimited carries how long to wait with a rate-limit error.
type rateLimited struct {
	err  error
	wait time.Duration
}

func (e rateLimited) Error() string { return e.err.Error() }

// mayPublish checks rights on every message, then takes them from the
// caller's publish rate (tokens without a subject each have their own).
func (s *Server) mayPublish(a auth.Access, who caller, msgs []livedash.Message) error {
	for i, m := range msgs {
		if err := a.CheckPublish(m.Topic); err != nil {
			return livedash.WithIndex(err, i)
		}
	}
	if wait, err := s.limits.allowPublish(who.key, len(msgs), s.now()); err != nil {
		return rateLimited{err: err, wait: wait}
	}
	return nil
}

// readBody reads the request body up to the request size limit, within
// the body timeout (see bodyTimeout), then lifts that deadline so a slow
// store does not cut the request. A gzip body (Content-Encoding: gzip) is
// decompressed, and what it decompresses to is held to the same limit;
// any other encoding is EUNSUPPORTED.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	limit := int64(s.cfg.Limits.RequestBytes)
	if limit <= 0 {
		limit = 1 << 20
	}
	gzipped := false
	switch enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))); enc {
	case "", "identity":
	case "gzip", "x-gzip":
		gzipped = true
	default:
		leaveBodyUnread(w, r)
		return nil, livedash.Errorf(livedash.EUNSUPPORTED, "Content-Encoding %q is not supported; send gzip or no encoding", enc)
	}
	if r.ContentLength > limit {
		leaveBodyUnread(w, r)
		return nil, livedash.Errorf(livedash.ETOOLARGE, "request body is %d bytes; the limit is %d", r.ContentLength, limit)
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, livedash.Errorf(livedash.ETOOLARGE, "request body is over the limit of %d bytes", limit)
		}
		leaveBodyUnread(w, r)
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return nil, livedash.Errorf(livedash.EINVALID, "request body not received within %s (limits.body_timeout)", s.cfg.Limits.BodyTimeout.D())
		}
		return nil, livedash.Errorf(livedash.EINVALID, "reading body: %v", err)
	}
	http.NewResponseController(w).SetReadDeadline(time.Time{})
	if gzipped {
		return gunzip(body, limit)
	}
	return body, nil
}

// gunzip decompresses a gzip body, refusing one that decompresses to more
// than limit bytes (a gzip bomb) without inflating past it.
func gunzip(body []byte, limit int64) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(body))
	if err != nil {
		return nil, livedash.Errorf(livedash.EINVALID, "gzip body: %v", err)
	}
	out, err := io.ReadAll(io.LimitReader(zr, limit+1))
	if err != nil {
		return nil, livedash.Errorf(livedash.EINVALID, "gzip body: %v", err)
	}
	if int64(len(out)) > limit {
		return nil, livedash.Errorf(livedash.ETOOLARGE, "gzip body decompresses to more than the limit of %d bytes (limits.request_bytes)", limit)
	}
	return out, nil
}

// leaveBodyUnread prepares the answer to a request whose body is not read
// (to its end): over HTTP/1 the connection closes after the answer, so
// net/http neither waits for the rest of the body nor reads it as the next
// request. HTTP/2 resets the stream by itself, and Connection: close would
// end every other stream of the connection.
func leaveBodyUnread(w http.ResponseWriter, r *http.Request) {
	if r.ProtoMajor == 1 {
		w.Header().Set("Connection", "close")
	}
}
