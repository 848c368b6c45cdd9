package httpapi

import "net/http"

// routes lists the whole HTTP surface.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("POST /api/v1/publish", s.handlePublish())
	mux.Handle("POST /api/v1/topics/{topic}", s.handlePublishTopic())
	mux.Handle("POST /api/v1/write", s.handleWrite())
	mux.Handle("GET /api/v1/stream", s.handleStream())
	mux.Handle("GET /api/v1/ws", s.handleWebSocket())
	mux.Handle("GET /api/v1/topics", s.handleTopics())
	mux.Handle("GET /api/v1/access", s.handleAccess())
	mux.Handle("GET /api/v1/history", s.handleHistory())
	mux.Handle("GET /api/v1/dashboards", s.handleDashboards())
	mux.Handle("GET /api/v1/dashboards/{name}", s.handleDashboard())
	mux.Handle("PUT /api/v1/dashboards/{name}", s.handlePutDashboard())
	mux.Handle("DELETE /api/v1/dashboards/{name}", s.handleDeleteDashboard())
	mux.Handle("GET /api/v1/notify/receivers", s.handleNotifyReceivers())
	mux.Handle("POST /api/v1/notify/test", s.handleNotifyTest())
	// InfluxDB- and OpenTelemetry-compatible ingest (docs/ingest.md).
	mux.Handle("POST /write", s.handleInfluxWrite(influxV1))
	mux.Handle("POST /api/v2/write", s.handleInfluxWrite(influxV2))
	mux.Handle("POST /query", s.handleInfluxQuery())
	mux.Handle("GET /ping", s.handlePing())
	mux.Handle("GET /health", s.handleInfluxHealth())
	mux.Handle("POST /otlp/v1/metrics", s.handleOTLPMetrics())
	mux.Handle("GET /healthz", s.handleHealth())
	mux.Handle("GET /readyz", s.handleReady())
	if s.metrics != nil {
		mux.Handle("GET /metrics", s.metrics)
	}
	mux.Handle("/api/", s.handleNoRoute())
	mux.Handle("/", s.ui)
	return s.requestLog(nosniff(s.cors(s.bodyTimeout(mux))))
}

// handleNoRoute answers unknown API paths with a JSON 404.
func (s *Server) handleNoRoute() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.writeJSON(w, r, http.StatusNotFound, errorBody{Error: "no such endpoint: " + r.Method + " " + r.URL.Path})
	})
}

func (s *Server) handleHealth() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.writeJSON(w, r, http.StatusOK, map[string]string{"status": "ok"})
	})
}

func (s *Server) handleReady() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := s.store.Ping(r.Context()); err != nil {
			s.log.Warn("not ready", "err", err)
			s.writeJSON(w, r, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "error": "store unreachable"})
			return
		}
		if err := s.broker.Ping(r.Context()); err != nil {
			s.log.Warn("not ready", "err", err)
			s.writeJSON(w, r, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "error": "broker unreachable"})
			return
		}
		s.writeJSON(w, r, http.StatusOK, map[string]string{"status": "ready"})
	})
}
