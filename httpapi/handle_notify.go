package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/livedash/livedash"
	"github.com/livedash/livedash/notify"
)

// Notifier queues test notifications (package notify's Service).
type Notifier interface {
	// Test queues a test notification for receiver and returns its id and
	// the receiver's timeout; ENOTFOUND for an unknown receiver.
	Test(ctx context.Context, receiver string) (id string, timeout time.Duration, err error)
	// Receivers names the configured receivers, in config order.
	Receivers() []string
}

// handleNotifyReceivers lists the receivers a test can be sent to (admins
// only), for the web app's "send test notification".
func (s *Server) handleNotifyReceivers() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := s.requireAdmin(r); err != nil {
			s.writeError(w, r, err)
			return
		}
		names := []string{}
		if s.notifier != nil {
			names = append(names, s.notifier.Receivers()...)
		}
		s.writeJSON(w, r, http.StatusOK, map[string][]string{"receivers": names})
	})
}

// handleNotifyTest sends a test notification to a receiver through the
// same queue and worker as alerts (admins only), and answers with the
// outcome of its first try as published on sys.notify — also in a cluster,
// where the leader sends it — or 202 "pending" if none came in time.
func (s *Server) handleNotifyTest() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := s.requireAdmin(r); err != nil {
			s.writeError(w, r, err)
			return
		}
		name := r.URL.Query().Get("receiver")
		if name == "" {
			body, err := s.readBody(w, r)
			if err != nil {
				s.writeError(w, r, err)
				return
			}
			if len(bytes.TrimSpace(body)) > 0 {
				var in struct {
					Receiver string `json:"receiver"`
				}
				if err := json.Unmarshal(body, &in); err != nil {
					s.writeError(w, r, livedash.Errorf(livedash.EINVALID, `body must be {"receiver":"NAME"}`))
					return
				}
				name = in.Receiver
			}
		}
		if name == "" {
			s.writeError(w, r, livedash.Errorf(livedash.EINVALID, `name the receiver: ?receiver=NAME or {"receiver":"NAME"}`))
			return
		}
		if s.notifier == nil {
			s.writeError(w, r, livedash.Errorf(livedash.ENOTFOUND, "no notify receiver named %q (none are configured)", name))
			return
		}
		// Subscribed before the test is queued, so its outcome cannot be missed.
		sub := s.hub.Subscribe(notify.Topic)
		defer sub.Close()
		id, timeout, err := s.notifier.Test(r.Context(), name)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		pending := map[string]string{"id": id, "receiver": name, "outcome": "pending"}
		deadline := time.NewTimer(timeout + 5*time.Second)
		defer deadline.Stop()
		var buf []*livedash.Frame
		for {
			select {
			case <-r.Context().Done():
				return
			case <-deadline.C:
				s.writeJSON(w, r, http.StatusAccepted, pending)
				return
			case <-sub.Done():
				s.writeJSON(w, r, http.StatusAccepted, pending)
				return
			case <-sub.Ready():
				buf = sub.Take(buf[:0])
				for _, f := range buf {
					var o notify.Outcome
					if json.Unmarshal(f.Data, &o) == nil && o.ID == id {
						s.writeJSON(w, r, http.StatusOK, json.RawMessage(f.Data))
						return
					}
				}
			}
		}
	})
}
