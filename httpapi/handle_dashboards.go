package httpapi

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"

	"github.com/livedash/livedash"
	"github.com/livedash/livedash/auth"
	"github.com/livedash/livedash/dashboard"
)

// DashboardStore keeps dashboards written through the API, as JSON.
type DashboardStore interface {
	Dashboards(ctx context.Context) (map[string][]byte, error)
	PutDashboard(ctx context.Context, name string, body []byte) error
	DeleteDashboard(ctx context.Context, name string) (bool, error)
}

// dashboards returns every dashboard by name: files first, stored ones over them.
func (s *Server) dashboards(ctx context.Context) (map[string]dashboard.Dashboard, error) {
	out := make(map[string]dashboard.Dashboard, len(s.files))
	for name, d := range s.files {
		out[name] = d
	}
	if s.boards == nil {
		return out, nil
	}
	stored, err := s.boards.Dashboards(ctx)
	if err != nil {
		return nil, err
	}
	for name, body := range stored {
		var d dashboard.Dashboard
		if err := json.Unmarshal(body, &d); err != nil {
			// One damaged record must not take the list down for everyone.
			s.log.Error("stored dashboard cannot be read; leaving it out", "dashboard", name, "err", err)
			continue
		}
		out[name] = d
	}
	return out, nil
}

// readableDashboard reports whether the caller may read every topic a
// dashboard shows: a dashboard is only listed to those who can see it.
func readableDashboard(a auth.Access, d dashboard.Dashboard) error {
	for _, w := range d.Widgets {
		if err := a.CheckRead(w.Topics); err != nil {
			return err
		}
	}
	return nil
}

// readDashboards checks the caller's token and loads every dashboard; when
// it reports false it has answered the request.
func (s *Server) readDashboards(w http.ResponseWriter, r *http.Request) (auth.Access, map[string]dashboard.Dashboard, bool) {
	a, err := s.access(r)
	if err == nil {
		var all map[string]dashboard.Dashboard
		if all, err = s.dashboards(r.Context()); err == nil {
			return a, all, true
		}
	}
	s.writeError(w, r, err)
	return a, nil, false
}

func (s *Server) handleDashboards() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a, all, ok := s.readDashboards(w, r)
		if !ok {
			return
		}
		out := []dashboard.Dashboard{}
		for _, d := range all {
			if readableDashboard(a, d) == nil {
				out = append(out, d)
			}
		}
		sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
		s.writeJSON(w, r, http.StatusOK, out)
	})
}

func (s *Server) handleDashboard() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a, all, ok := s.readDashboards(w, r)
		if !ok {
			return
		}
		d, ok := all[r.PathValue("name")]
		if !ok {
			s.writeError(w, r, livedash.Errorf(livedash.ENOTFOUND, "no dashboard named %q", r.PathValue("name")))
			return
		}
		if err := readableDashboard(a, d); err != nil {
			s.writeError(w, r, err)
			return
		}
		// An ETag lets an open page poll for a changed definition cheaply.
		b, err := json.Marshal(d)
		if err != nil {
			s.writeError(w, r, fmt.Errorf("encode dashboard %s: %w", d.Name, err))
			return
		}
		sum := sha256.Sum256(b)
		etag := `"` + hex.EncodeToString(sum[:12]) + `"`
		w.Header().Set("ETag", etag)
		if _, inFile := s.files[d.Name]; inFile {
			// Read-only (PUT and DELETE are 409): the editor offers a copy.
			w.Header().Set("Livedash-Read-Only", "file")
		}
		if r.Header.Get("If-None-Match") == etag {
			w.Header().Set("Cache-Control", "no-cache")
			w.WriteHeader(http.StatusNotModified)
			return
		}
		s.writeJSON(w, r, http.StatusOK, json.RawMessage(b))
	})
}

// requireAdmin returns the caller's access, or an error unless it is an admin.
func (s *Server) requireAdmin(r *http.Request) (auth.Access, error) {
	a, err := s.access(r)
	if err != nil {
		return a, err
	}
	if a.Claims == nil {
		return a, livedash.Errorf(livedash.EUNAUTHORIZED, "an admin token is required")
	}
	if !a.Claims.Admin {
		return a, livedash.Errorf(livedash.EFORBIDDEN, "an admin token is required")
	}
	return a, nil
}

func (s *Server) handlePutDashboard() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := s.requireAdmin(r); err != nil {
			s.writeError(w, r, err)
			return
		}
		name := r.PathValue("name")
		if err := dashboard.ValidateName(name); err != nil {
			s.writeError(w, r, err)
			return
		}
		if _, inFile := s.files[name]; inFile {
			s.writeError(w, r, livedash.Errorf(livedash.ECONFLICT, "dashboard %q is defined in a file or built in, so it is read-only here; save a copy under another name", name))
			return
		}
		body, err := s.readBody(w, r)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		d, err := dashboard.Parse(name, body)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		stored, err := json.Marshal(d)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		if s.boards == nil {
			s.writeError(w, r, livedash.Errorf(livedash.EUNAVAILABLE, "dashboards cannot be stored on this server"))
			return
		}
		if err := s.boards.PutDashboard(r.Context(), name, stored); err != nil {
			s.writeError(w, r, err)
			return
		}
		s.writeJSON(w, r, http.StatusOK, d)
	})
}

func (s *Server) handleDeleteDashboard() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := s.requireAdmin(r); err != nil {
			s.writeError(w, r, err)
			return
		}
		name := r.PathValue("name")
		existed := false
		if s.boards != nil {
			var err error
			if existed, err = s.boards.DeleteDashboard(r.Context(), name); err != nil {
				s.writeError(w, r, err)
				return
			}
		}
		_, inFile := s.files[name]
		switch {
		case existed:
			w.WriteHeader(http.StatusNoContent)
		case inFile:
			s.writeError(w, r, livedash.Errorf(livedash.ECONFLICT, "dashboard %q is defined in a file; edit or remove the file instead", name))
		default:
			s.writeError(w, r, livedash.Errorf(livedash.ENOTFOUND, "no dashboard named %q", name))
		}
	})
}
