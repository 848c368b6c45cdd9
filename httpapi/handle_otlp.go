package httpapi

import (
	"net/http"

	colmetricpb "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	"google.golang.org/genproto/googleapis/rpc/code"
	"google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/livedash/livedash"
	"github.com/livedash/livedash/otlp"
)

// handleOTLPMetrics is the OTLP/HTTP metrics receiver (POST
// /otlp/v1/metrics, docs/ingest.md): protobuf or JSON, gzip allowed, the
// data points mapped by package otlp, stored through the same publish
// path, rights, rate and limits as every other. It answers an
// ExportMetricsServiceResponse (with partial_success when points were
// rejected) or a google.rpc.Status, in the request's content type.
func (s *Server) handleOTLPMetrics() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mt, err := otlp.MediaType(r.Header.Get("Content-Type"))
		if err != nil {
			leaveBodyUnread(w, r)
			s.writeErrorAs(w, r, err, s.writeOTLPError)
			return
		}
		var batch *otlp.Batch
		s.publishHandler(publishWire{
			decode: func(r *http.Request, body []byte) ([]livedash.Message, error) {
				req, err := otlp.Decode(body, mt)
				if err != nil {
					return nil, err
				}
				batch = s.otlp.Convert(req, s.now())
				if n := len(batch.Messages); n > livedash.MaxBatch {
					return nil, livedash.Errorf(livedash.ETOOLARGE, "%d data points in one request, more than %d; export smaller batches", n, livedash.MaxBatch)
				}
				return batch.Messages, nil
			},
			answer: func(w http.ResponseWriter, r *http.Request, _ []*livedash.Frame) {
				s.otlp.Commit(batch)
				resp := &colmetricpb.ExportMetricsServiceResponse{}
				if batch.Rejected > 0 {
					resp.PartialSuccess = &colmetricpb.ExportMetricsPartialSuccess{RejectedDataPoints: batch.Rejected, ErrorMessage: batch.ErrorMessage()}
				}
				s.writeOTLP(w, r, http.StatusOK, resp)
			},
			fail: s.writeOTLPError,
		}).ServeHTTP(w, r)
	})
}

// writeOTLPError writes a google.rpc.Status, as OTLP/HTTP asks.
func (s *Server) writeOTLPError(w http.ResponseWriter, r *http.Request, f failure) {
	c := map[int]code.Code{
		http.StatusBadRequest:            code.Code_INVALID_ARGUMENT,
		http.StatusUnauthorized:          code.Code_UNAUTHENTICATED,
		http.StatusForbidden:             code.Code_PERMISSION_DENIED,
		http.StatusNotFound:              code.Code_NOT_FOUND,
		http.StatusRequestEntityTooLarge: code.Code_RESOURCE_EXHAUSTED,
		http.StatusUnsupportedMediaType:  code.Code_INVALID_ARGUMENT,
		http.StatusTooManyRequests:       code.Code_RESOURCE_EXHAUSTED,
		http.StatusServiceUnavailable:    code.Code_UNAVAILABLE,
	}[f.status]
	if c == code.Code_OK {
		c = code.Code_INTERNAL
	}
	s.writeOTLP(w, r, f.status, &status.Status{Code: int32(c), Message: f.message})
}

// writeOTLP answers m in the request's content type (JSON when that is
// not one OTLP has).
func (s *Server) writeOTLP(w http.ResponseWriter, r *http.Request, httpStatus int, m proto.Message) {
	mt, err := otlp.MediaType(r.Header.Get("Content-Type"))
	if err != nil {
		mt = otlp.ContentTypeJSON
	}
	b, err := otlp.Encode(m, mt)
	if err != nil {
		s.logFor(r).Error("encode OTLP response", "err", err)
		httpStatus, mt, b = http.StatusInternalServerError, otlp.ContentTypeJSON, []byte(`{"code":13,"message":"internal error"}`)
	}
	w.Header().Set("Content-Type", mt)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(httpStatus)
	w.Write(b)
}
