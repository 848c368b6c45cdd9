package otlp

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	colmetricpb "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	metricspb "go.opentelemetry.io/proto/otlp/metrics/v1"
	resourcepb "go.opentelemetry.io/proto/otlp/resource/v1"
)

func str(k, v string) *commonpb.KeyValue {
	return &commonpb.KeyValue{Key: k, Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: v}}}
}

func request(res []*commonpb.KeyValue, metrics ...*metricspb.Metric) *colmetricpb.ExportMetricsServiceRequest {
	return &colmetricpb.ExportMetricsServiceRequest{ResourceMetrics: []*metricspb.ResourceMetrics{{
		Resource:     &resourcepb.Resource{Attributes: res},
		ScopeMetrics: []*metricspb.ScopeMetrics{{Metrics: metrics}},
	}}}
}

var t0 = time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)

func ns(d time.Duration) uint64 { return uint64(t0.Add(d).UnixNano()) }

func sum(name string, temporality metricspb.AggregationTemporality, monotonic bool, pts ...*metricspb.NumberDataPoint) *metricspb.Metric {
	return &metricspb.Metric{Name: name, Data: &metricspb.Metric_Sum{Sum: &metricspb.Sum{AggregationTemporality: temporality, IsMonotonic: monotonic, DataPoints: pts}}}
}

func intPoint(v int64, start, at time.Duration, attrs ...*commonpb.KeyValue) *metricspb.NumberDataPoint {
	return &metricspb.NumberDataPoint{StartTimeUnixNano: ns(start), TimeUnixNano: ns(at), Value: &metricspb.NumberDataPoint_AsInt{AsInt: v}, Attributes: attrs}
}

// convert returns topic → data of a converted request.
func convert(t *testing.T, r *Receiver, req *colmetricpb.ExportMetricsServiceRequest) (map[string]string, *Batch) {
	t.Helper()
	b := r.Convert(req, t0.Add(time.Hour))
	out := map[string]string{}
	for _, m := range b.Messages {
		out[m.Topic] = string(m.Data)
	}
	r.Commit(b)
	return out, b
}

func TestTopicsAndSums(t *testing.T) {
	r := New(Options{ResourceAttributes: []string{"host.name"}})
	res := []*commonpb.KeyValue{str("service.name", "shop api"), str("host.name", "web1.example.com"), str("cloud.region", "eu")}
	cum := metricspb.AggregationTemporality_AGGREGATION_TEMPORALITY_CUMULATIVE
	delta := metricspb.AggregationTemporality_AGGREGATION_TEMPORALITY_DELTA
	arr := &commonpb.KeyValue{Key: "list", Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_ArrayValue{}}}
	got, b := convert(t, r, request(res,
		sum("http.requests", cum, true, intPoint(10, 0, time.Second, str("method", "GET"), str("code", "200"), arr)),
		sum("orders", delta, true, intPoint(6, 0, 2*time.Second)),
		sum("queue.size", cum, false, intPoint(-3, 0, time.Second)),
		&metricspb.Metric{Name: "idle", Data: &metricspb.Metric_Gauge{Gauge: &metricspb.Gauge{DataPoints: []*metricspb.NumberDataPoint{
			{TimeUnixNano: ns(time.Second), Flags: uint32(metricspb.DataPointFlags_DATA_POINT_FLAGS_NO_RECORDED_VALUE_MASK)},
			{TimeUnixNano: ns(time.Second), Value: &metricspb.NumberDataPoint_AsDouble{AsDouble: math.NaN()}},
		}}}},
	))
	want := map[string]string{
		// keys code < host.name < method; the array attribute left out
		"otel.shop_api.http.requests.200.web1_example_com.GET": `{"value":10}`,
		"otel.shop_api.orders.web1_example_com":                `{"rate":3,"value":6}`,
		"otel.shop_api.queue.size.web1_example_com":            `-3`,
	}
	if len(got) != len(want) {
		t.Fatalf("got %v", got)
	}
	for topic, data := range want {
		if got[topic] != data {
			t.Fatalf("%s: %q, want %s (all %v)", topic, got[topic], data, got)
		}
	}
	if b.Rejected != 1 || !strings.Contains(b.ErrorMessage(), "not a finite number") {
		t.Fatalf("NaN: rejected %d %q", b.Rejected, b.ErrorMessage())
	}
	// The cumulative counter's next points: a rate, then a restart (new
	// start time, lower value) counted from zero.
	got, _ = convert(t, r, request(res, sum("http.requests", cum, true, intPoint(30, 0, 11*time.Second, str("method", "GET"), str("code", "200"), arr))))
	if got["otel.shop_api.http.requests.200.web1_example_com.GET"] != `{"rate":2,"value":30}` {
		t.Fatalf("second point: %v", got)
	}
	got, _ = convert(t, r, request(res, sum("http.requests", cum, true, intPoint(8, 17*time.Second, 21*time.Second, str("method", "GET"), str("code", "200"), arr))))
	if got["otel.shop_api.http.requests.200.web1_example_com.GET"] != `{"rate":2,"value":8}` {
		t.Fatalf("after a restart: %v", got)
	}
}

func TestHistogramsAndSummaries(t *testing.T) {
	r := New(Options{})
	f := func(v float64) *float64 { return &v }
	hist := &metricspb.Metric{Name: "latency", Data: &metricspb.Metric_Histogram{Histogram: &metricspb.Histogram{DataPoints: []*metricspb.HistogramDataPoint{{
		TimeUnixNano: ns(0), Count: 100, Sum: f(2500), Min: f(1), Max: f(120),
		ExplicitBounds: []float64{10, 50, 100}, BucketCounts: []uint64{10, 40, 40, 10},
	}}}}}
	// Scale 0: base 2, bucket i holds (2^i, 2^(i+1)]. Positive offset 1:
	// buckets (2,4], (4,8], (8,16] with 2, 6, 2 values; one zero.
	exp := &metricspb.Metric{Name: "size", Data: &metricspb.Metric_ExponentialHistogram{ExponentialHistogram: &metricspb.ExponentialHistogram{DataPoints: []*metricspb.ExponentialHistogramDataPoint{{
		TimeUnixNano: ns(0), Count: 11, Sum: f(70), Scale: 0, ZeroCount: 1,
		Positive: &metricspb.ExponentialHistogramDataPoint_Buckets{Offset: 1, BucketCounts: []uint64{2, 6, 2}},
	}}}}}
	summary := &metricspb.Metric{Name: "rpc", Data: &metricspb.Metric_Summary{Summary: &metricspb.Summary{DataPoints: []*metricspb.SummaryDataPoint{{
		TimeUnixNano: ns(0), Count: 4, Sum: 10,
		QuantileValues: []*metricspb.SummaryDataPoint_ValueAtQuantile{{Quantile: 0.5, Value: 2}, {Quantile: 0.999, Value: 9}},
	}}}}}
	got, b := convert(t, r, request(nil, hist, exp, summary))
	if b.Rejected != 0 {
		t.Fatal(b.ErrorMessage())
	}
	check := func(topic string, want map[string]float64) {
		t.Helper()
		var data map[string]float64
		if err := json.Unmarshal([]byte(got[topic]), &data); err != nil {
			t.Fatalf("%s: %q", topic, got[topic])
		}
		for k, v := range want {
			if math.Abs(data[k]-v) > 1e-9 {
				t.Fatalf("%s.%s = %v, want %v (%v)", topic, k, data[k], v, data)
			}
		}
		if len(data) != len(want) {
			t.Fatalf("%s: %v, want %v", topic, data, want)
		}
	}
	// p50: rank 50 ends bucket (10,50]; p90: rank 90 ends (50,100]; p99:
	// rank 99 in (100,+Inf), which ends at max 120: 100 + 20*9/10.
	check("otel.unknown_service.latency", map[string]float64{"count": 100, "sum": 2500, "min": 1, "max": 120, "p50": 50, "p90": 100, "p99": 118})
	// p50: rank 5.5 in (4,8] after 3 values: 4 + 4*2.5/6; p90: rank 9.9
	// in (8,16] after 9: 8 + 8*0.9/2; p99: rank 10.89: 8 + 8*1.89/2.
	check("otel.unknown_service.size", map[string]float64{"count": 11, "sum": 70, "p50": 4 + 4*2.5/6, "p90": 8 + 8*0.9/2, "p99": 8 + 8*1.89/2})
	check("otel.unknown_service.rpc", map[string]float64{"count": 4, "sum": 10, "p50": 2, "p99.9": 9})
}

func TestCaps(t *testing.T) {
	r := New(Options{MaxAttributes: 2, MaxSeriesPerMetric: 2, MaxFuture: time.Minute})
	g := func(at time.Duration, attrs ...*commonpb.KeyValue) *metricspb.Metric {
		return &metricspb.Metric{Name: "g", Data: &metricspb.Metric_Gauge{Gauge: &metricspb.Gauge{DataPoints: []*metricspb.NumberDataPoint{
			{TimeUnixNano: ns(at), Value: &metricspb.NumberDataPoint_AsInt{AsInt: 1}, Attributes: attrs}}}}}
	}
	now := time.Hour // convert's clock
	got, b := convert(t, r, request(nil,
		g(now, str("a", "1")),
		g(now, str("a", "2")),
		g(now, str("a", "3")),                               // third series
		g(now, str("a", "1"), str("b", "x"), str("c", "y")), // three attributes
		g(now+2*time.Minute, str("a", "1")),                 // ahead of the clock
		g(now, str("a", "1")),                               // a known series again
		&metricspb.Metric{Name: "bad..name", Data: &metricspb.Metric_Gauge{Gauge: &metricspb.Gauge{DataPoints: []*metricspb.NumberDataPoint{{Value: &metricspb.NumberDataPoint_AsInt{AsInt: 1}}}}}},
	))
	if len(got) != 2 || b.Rejected != 4 || len(b.Messages) != 3 {
		t.Fatalf("got %v, %d messages, rejected %d: %s", got, len(b.Messages), b.Rejected, b.ErrorMessage())
	}
	msg := b.ErrorMessage()
	for _, want := range []string{"max_series_per_metric", "max_attributes", "max_future", "and 1 more"} {
		if !strings.Contains(msg, want) {
			t.Fatalf("%q lacks %q", msg, want)
		}
	}
	// The cap holds across requests once the batch is committed.
	_, b = convert(t, r, request(nil, g(now, str("a", "4"))))
	if b.Rejected != 1 {
		t.Fatal("a later new series passed the cap")
	}
}

func TestDecode(t *testing.T) {
	if _, err := MediaType("application/json; charset=utf-8"); err != nil {
		t.Fatal(err)
	}
	if _, err := MediaType("text/plain"); err == nil {
		t.Fatal("text/plain accepted")
	}
	req, err := Decode([]byte(`{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"name":"x","gauge":{"dataPoints":[{"asInt":"3","timeUnixNano":"1764576000000000000"}]},"unknownField":1}]}]}]}`), ContentTypeJSON)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := convert(t, New(Options{}), req)
	if got["otel.unknown_service.x"] != "3" {
		t.Fatalf("%v", got)
	}
	if _, err := Decode([]byte("\xff"), ContentTypeProtobuf); err == nil {
		t.Fatal("bad protobuf decoded")
	}
}

// TestManyAttributesConvertQuickly: a point with a request's worth of
// attributes (no cap configured) is refused quickly, not in quadratic time.
func TestManyAttributesConvertQuickly(t *testing.T) {
	var attrs []*commonpb.KeyValue
	for i := 0; i < 60_000; i++ {
		attrs = append(attrs, str(fmt.Sprintf("k%d", i), "v"))
	}
	req := request(nil, &metricspb.Metric{Name: "g", Data: &metricspb.Metric_Gauge{Gauge: &metricspb.Gauge{DataPoints: []*metricspb.NumberDataPoint{
		{Value: &metricspb.NumberDataPoint_AsInt{AsInt: 1}, Attributes: attrs}}}}})
	start := time.Now()
	b := New(Options{}).Convert(req, t0)
	if took := time.Since(start); took > 3*time.Second || b.Rejected != 1 {
		t.Fatalf("took %v, rejected %d", took, b.Rejected)
	}
	// A point attribute the resource also gives is taken once, the resource's.
	r := New(Options{ResourceAttributes: []string{"host.name"}})
	got, _ := convert(t, r, request([]*commonpb.KeyValue{str("host.name", "web1")}, &metricspb.Metric{Name: "g", Data: &metricspb.Metric_Gauge{Gauge: &metricspb.Gauge{DataPoints: []*metricspb.NumberDataPoint{
		{Value: &metricspb.NumberDataPoint_AsInt{AsInt: 1}, Attributes: []*commonpb.KeyValue{str("host.name", "other"), str("a", "x")}}}}}}))
	if _, ok := got["otel.unknown_service.g.x.web1"]; !ok || len(got) != 1 {
		t.Fatalf("%v", got)
	}
}
