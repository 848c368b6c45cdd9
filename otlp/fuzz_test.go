package otlp

import (
	"encoding/json"
	"testing"
	"time"

	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	metricspb "go.opentelemetry.io/proto/otlp/metrics/v1"
	"google.golang.org/protobuf/proto"

	"github.com/livedash/livedash"
)

// FuzzConvert: any body, protobuf or JSON, either fails to decode or
// converts to messages that are valid point publishes (topic, finite
// numeric data) plus counted rejections; nothing panics.
func FuzzConvert(f *testing.F) {
	f32 := func(v float64) *float64 { return &v }
	seed := request([]*commonpb.KeyValue{str("service.name", "s"), str("host.name", "h")},
		sum("c", metricspb.AggregationTemporality_AGGREGATION_TEMPORALITY_CUMULATIVE, true, intPoint(3, 0, time.Second, str("a", "1"))),
		&metricspb.Metric{Name: "h", Data: &metricspb.Metric_Histogram{Histogram: &metricspb.Histogram{DataPoints: []*metricspb.HistogramDataPoint{{
			Count: 3, Sum: f32(3), ExplicitBounds: []float64{1}, BucketCounts: []uint64{1, 2}}}}}},
		&metricspb.Metric{Name: "e", Data: &metricspb.Metric_ExponentialHistogram{ExponentialHistogram: &metricspb.ExponentialHistogram{DataPoints: []*metricspb.ExponentialHistogramDataPoint{{
			Count: 3, Scale: -3, Positive: &metricspb.ExponentialHistogramDataPoint_Buckets{Offset: -2, BucketCounts: []uint64{1, 2}}}}}}},
	)
	pb, _ := proto.Marshal(seed)
	js, _ := Encode(seed, ContentTypeJSON)
	f.Add(pb, false)
	f.Add(js, true)
	f.Add([]byte(`{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"name":"x..y","gauge":{"dataPoints":[{"asDouble":1e308}]}}]}]}]}`), true)
	f.Fuzz(func(t *testing.T, body []byte, isJSON bool) {
		mt := ContentTypeProtobuf
		if isJSON {
			mt = ContentTypeJSON
		}
		req, err := Decode(body, mt)
		if err != nil {
			return
		}
		b := New(Options{MaxAttributes: 8, MaxSeriesPerMetric: 100, MaxFuture: time.Minute}).Convert(req, t0)
		for _, m := range b.Messages {
			in := livedash.PublishInput{Topic: m.Topic, Type: m.Type, Data: m.Data, TS: json.RawMessage(`1`)}
			if _, err := in.Validate(t0); err != nil {
				t.Fatalf("message %s %s would be refused: %v", m.Topic, m.Data, err)
			}
		}
		if b.Rejected < 0 || (b.Rejected > 0) != (b.ErrorMessage() != "") {
			t.Fatalf("rejected %d, message %q", b.Rejected, b.ErrorMessage())
		}
	})
}
