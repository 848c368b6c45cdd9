package httpapi

import (
	"net/http"
	"strings"

	"github.com/livedash/livedash"
	"github.com/livedash/livedash/lineproto"
)

// InfluxDB-compatible endpoints (docs/ingest.md): the line-protocol writes
// of InfluxDB 1.x and 2.x, and the few calls their clients make around
// them, so InfluxDB client libraries and Telegraf's influxdb and
// influxdb_v2 outputs work unchanged.

// influxVersion is the InfluxDB 1.x API level the endpoints answer as.
const influxVersion = "1.8.10"

// influxAPI is the InfluxDB API version of an endpoint.
type influxAPI int

const (
	influxV1 influxAPI = 1
	influxV2 influxAPI = 2
)

// handleInfluxWrite stores line protocol like POST /api/v1/write: 1.x
// (POST /write?db=&precision=) or 2.x (POST /api/v2/write?org=&bucket=&precision=),
// answering 204, and errors in that version's JSON shape.
func (s *Server) handleInfluxWrite(api influxAPI) http.Handler {
	dbParam, fail := "db", s.writeInfluxV1Error
	if api == influxV2 {
		dbParam, fail = "bucket", s.writeInfluxV2Error
	}
	h := s.publishHandler(publishWire{decode: func(r *http.Request, body []byte) ([]livedash.Message, error) {
		q := r.URL.Query()
		db := q.Get(dbParam)
		if db == "" {
			return nil, livedash.Errorf(livedash.EINVALID, "%s is required", dbParam)
		}
		precision := q.Get("precision")
		if api == influxV2 && (precision == "m" || precision == "h") {
			// 2.x takes ns, us, ms and s only; minutes and hours are 1.x's.
			return nil, livedash.Errorf(livedash.EINVALID, "precision %q is not one of ns, us, ms, s", precision)
		}
		msgs, err := lineproto.Parse(body, precision, s.now())
		if err != nil || !s.cfg.Influx.DBPrefix {
			return msgs, err
		}
		// "db/retention-policy" (the 1.8 compatibility form) names db.
		db, _, _ = strings.Cut(db, "/")
		prefix := livedash.Sanitize(db, false)
		for i := range msgs {
			msgs[i].Topic = prefix + "." + msgs[i].Topic
			if err := livedash.ValidateTopic(msgs[i].Topic); err != nil {
				return nil, livedash.WithIndex(livedash.Errorf(livedash.EINVALID, "%s %q and line %d give an invalid topic: %s", dbParam, db, i+1, livedash.ErrorMessage(err)), i)
			}
		}
		return msgs, nil
	}, answer: answerNoContent, fail: fail})
	return influxCredentials(influxHeaders(h))
}

// handleInfluxQuery answers the one query InfluxDB 1.x writers send,
// Telegraf's CREATE DATABASE at start-up, with success (topics need no
// database). Any other query is a 400: livedash takes writes only.
func (s *Server) handleInfluxQuery() http.Handler {
	return influxCredentials(influxHeaders(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a, err := s.access(r)
		if err == nil {
			err = a.CheckPublishAny()
		}
		if err != nil {
			s.writeErrorAs(w, r, err, s.writeInfluxV1Error)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, 64<<10) // a query, not data
		q := strings.TrimSpace(r.FormValue("q"))
		if !strings.HasPrefix(strings.ToUpper(q), "CREATE DATABASE ") {
			s.writeErrorAs(w, r, livedash.Errorf(livedash.EINVALID, "livedash takes writes only (POST /write); it answers no queries but CREATE DATABASE"), s.writeInfluxV1Error)
			return
		}
		s.writeJSON(w, r, http.StatusOK, map[string]any{"results": []map[string]int{{"statement_id": 0}}})
	})))
}

// handlePing answers GET and HEAD /ping as InfluxDB does: 204 with its
// version headers (200 and the version as JSON with ?verbose=true).
func (s *Server) handlePing() http.Handler {
	return influxHeaders(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if v := r.URL.Query().Get("verbose"); v == "true" || v == "1" {
			s.writeJSON(w, r, http.StatusOK, map[string]string{"version": influxVersion})
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
}

// handleInfluxHealth answers GET /health, which InfluxDB 2.x clients call
// (the Go client's Health), in InfluxDB's shape.
func (s *Server) handleInfluxHealth() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		status, code, msg := http.StatusOK, "pass", "ready for writes"
		if err := s.broker.Ping(r.Context()); err != nil {
			status, code, msg = http.StatusServiceUnavailable, "fail", "broker unreachable"
		}
		s.writeJSON(w, r, status, map[string]any{"name": "livedash", "message": msg, "status": code, "checks": []any{}, "version": influxVersion})
	})
}

// influxHeaders sets the headers InfluxDB puts on every answer.
func influxHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Influxdb-Version", influxVersion)
		w.Header().Set("X-Influxdb-Build", "livedash")
		next.ServeHTTP(w, r)
	})
}

// influxCredentials turns the ways InfluxDB clients send credentials into
// the Bearer token the rest of the server reads: the password of HTTP
// Basic auth (1.x clients, Telegraf's username/password), the p= query
// parameter (1.x, with u=), and "Token user:password" (the 1.8
// compatibility form of 2.x clients). The livedash token is the password;
// the user name is ignored. "Authorization: Token T" needs nothing.
func influxCredentials(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if tok, ok := influxToken(r); ok {
			r = r.Clone(r.Context())
			r.Header.Set("Authorization", "Bearer "+tok)
		}
		next.ServeHTTP(w, r)
	})
}

func influxToken(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	if user, pass, ok := r.BasicAuth(); ok {
		if pass == "" {
			pass = user
		}
		return pass, true
	}
	if t, ok := strings.CutPrefix(h, "Token "); ok {
		if _, pass, found := strings.Cut(t, ":"); found {
			return strings.TrimSpace(pass), true
		}
		return "", false
	}
	if p := r.URL.Query().Get("p"); h == "" && p != "" {
		return p, true
	}
	return "", false
}

// writeInfluxV1Error writes {"error":…} with InfluxDB 1.x's
// X-Influxdb-Error header.
func (s *Server) writeInfluxV1Error(w http.ResponseWriter, r *http.Request, f failure) {
	w.Header().Set("X-Influxdb-Error", f.message)
	s.writeJSON(w, r, f.status, errorBody{Error: f.message})
}

// writeInfluxV2Error writes {"code":…,"message":…} with the code InfluxDB
// 2.x gives the status.
func (s *Server) writeInfluxV2Error(w http.ResponseWriter, r *http.Request, f failure) {
	code := map[int]string{
		http.StatusBadRequest:            "invalid",
		http.StatusUnauthorized:          "unauthorized",
		http.StatusForbidden:             "forbidden",
		http.StatusNotFound:              "not found",
		http.StatusConflict:              "conflict",
		http.StatusRequestEntityTooLarge: "request too large",
		http.StatusUnsupportedMediaType:  "unsupported media type",
		http.StatusTooManyRequests:       "too many requests",
		http.StatusServiceUnavailable:    "unavailable",
	}[f.status]
	if code == "" {
		code = "internal error"
	}
	s.writeJSON(w, r, f.status, map[string]string{"code": code, "message": f.message})
}
