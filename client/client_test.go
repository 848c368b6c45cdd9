package client

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
)

// TestStreamResumes: Stream names unnamed events "message", hands each
// its own data (kept after the callback), takes the server's retry, and
// after a dropped connection resumes with Last-Event-ID.
func TestStreamResumes(t *testing.T) {
	var conns atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		switch conns.Add(1) {
		case 1:
			fmt.Fprint(w, "retry: 5\n\n: ping\n\nid: 1-e\ndata: a\n\n") // then the connection drops
		default:
			if got := r.Header.Get("Last-Event-ID"); got != "1-e" {
				http.Error(w, "Last-Event-ID "+got, http.StatusBadRequest)
				return
			}
			fmt.Fprint(w, "event: reset\ndata: b\n\nid: 2-e\ndata: c1\ndata: c2\n\n")
			w.(http.Flusher).Flush()
			<-r.Context().Done()
		}
	}))
	defer srv.Close()
	stop := errors.New("stop")
	var got []Event
	var dropped []error
	c := &Client{BaseURL: srv.URL}
	err := c.Stream(context.Background(), StreamOptions{Patterns: []string{"a.#"}, OnError: func(err error) { dropped = append(dropped, err) }},
		func(ev Event) error {
			if got = append(got, ev); len(got) == 3 {
				return stop
			}
			return nil
		})
	if err != stop {
		t.Fatalf("Stream: %v, want the callback's error", err)
	}
	want := "[{1-e message a} { reset b} {2-e message c1\nc2}]"
	if s := fmt.Sprintf("%s", got); s != want {
		t.Errorf("events %s, want %s", s, want)
	}
	if len(dropped) != 1 {
		t.Errorf("OnError told %v, want one dropped connection", dropped)
	}
}
