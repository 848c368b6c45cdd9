package httpapi_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	colmetricpb "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	metricspb "go.opentelemetry.io/proto/otlp/metrics/v1"
	resourcepb "go.opentelemetry.io/proto/otlp/resource/v1"
	"google.golang.org/protobuf/proto"
)

// benchPoints is the points per request of the ingest benchmarks: the
// most one request may carry.
const benchPoints = 1000

// postAcknowledged posts body b.N times over loopback HTTP, each answer
// checked, and reports data points acknowledged per second.
func postAcknowledged(b *testing.B, e *env, path, contentType string, body []byte, want int) {
	b.Helper()
	b.SetBytes(int64(len(body)))
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		req, _ := http.NewRequest("POST", e.url+path, bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+e.admin)
		req.Header.Set("Content-Type", contentType)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != want {
			b.Fatalf("status %d", resp.StatusCode)
		}
	}
	b.ReportMetric(float64(b.N*benchPoints)/time.Since(start).Seconds(), "points/s")
}

// BenchmarkInfluxWrite: line-protocol points acknowledged (stored and
// fsynced) per second through POST /api/v2/write, 1000 per request over
// 100 series, one client.
func BenchmarkInfluxWrite(b *testing.B) {
	e := newEnv(b)
	var body bytes.Buffer
	for i := 0; i < benchPoints; i++ {
		fmt.Fprintf(&body, "cpu,host=web%d,cpu=cpu%d usage_user=%d.5,usage_system=1.25\n", i%100, i%4, i)
	}
	postAcknowledged(b, e, "/api/v2/write?org=o&bucket=b", "text/plain", body.Bytes(), 204)
}

// BenchmarkOTLPExport: OTLP gauge data points acknowledged per second
// through POST /otlp/v1/metrics (protobuf), 1000 per request: 10 metrics
// of 100 series each, one client.
func BenchmarkOTLPExport(b *testing.B) {
	e := newEnv(b)
	now := uint64(time.Now().UnixNano())
	var metrics []*metricspb.Metric
	for m := 0; m < 10; m++ {
		var pts []*metricspb.NumberDataPoint
		for s := 0; s < benchPoints/10; s++ {
			pts = append(pts, &metricspb.NumberDataPoint{TimeUnixNano: now, Value: &metricspb.NumberDataPoint_AsDouble{AsDouble: float64(s)},
				Attributes: []*commonpb.KeyValue{{Key: "pod", Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: fmt.Sprintf("pod-%d", s)}}}}})
		}
		metrics = append(metrics, &metricspb.Metric{Name: fmt.Sprintf("app.metric%d", m), Data: &metricspb.Metric_Gauge{Gauge: &metricspb.Gauge{DataPoints: pts}}})
	}
	body, err := proto.Marshal(&colmetricpb.ExportMetricsServiceRequest{ResourceMetrics: []*metricspb.ResourceMetrics{{
		Resource:     &resourcepb.Resource{Attributes: []*commonpb.KeyValue{{Key: "service.name", Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: "bench"}}}}},
		ScopeMetrics: []*metricspb.ScopeMetrics{{Metrics: metrics}},
	}}})
	if err != nil {
		b.Fatal(err)
	}
	postAcknowledged(b, e, "/otlp/v1/metrics", "application/x-protobuf", body, 200)
}
