package httpapi_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetrichttp"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/resource"
	colmetricpb "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	metricspb "go.opentelemetry.io/proto/otlp/metrics/v1"
	resourcepb "go.opentelemetry.io/proto/otlp/resource/v1"
	"google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/livedash/livedash/config"
)

// jsonTransport makes the SDK's exporter speak OTLP/JSON: the SDK only
// sends protobuf, so each request body is re-encoded with protojson (the
// same data, OTLP's JSON mapping) and each JSON answer back to protobuf
// for the SDK to read.
type jsonTransport struct{ t *testing.T }

func (j jsonTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, err
	}
	var req colmetricpb.ExportMetricsServiceRequest
	if err := proto.Unmarshal(body, &req); err != nil {
		j.t.Errorf("SDK sent no protobuf: %v", err)
	}
	js, _ := protojson.Marshal(&req)
	out := r.Clone(r.Context())
	out.Body, out.ContentLength, out.GetBody = io.NopCloser(bytes.NewReader(js)), int64(len(js)), nil
	out.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultTransport.RoundTrip(out)
	if err != nil || resp.Header.Get("Content-Type") != "application/json" {
		return resp, err
	}
	rb, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var m proto.Message = &colmetricpb.ExportMetricsServiceResponse{}
	if resp.StatusCode != 200 {
		m = &status.Status{}
	}
	if err := protojson.Unmarshal(rb, m); err != nil {
		j.t.Errorf("answer is not OTLP JSON: %v: %s", err, rb)
	}
	pb, _ := proto.Marshal(m)
	resp.Body, resp.ContentLength = io.NopCloser(bytes.NewReader(pb)), int64(len(pb))
	resp.Header.Set("Content-Type", "application/x-protobuf")
	return resp, nil
}

// sdkMeter returns a meter whose provider exports to e through the real
// OTLP/HTTP exporter on each ForceFlush.
func sdkMeter(t *testing.T, e *env, token string, jsonBodies bool, extra ...otlpmetrichttp.Option) (metric.Meter, *sdkmetric.MeterProvider) {
	return sdkMeterWith(t, e, token, jsonBodies, extra, nil)
}

// sdkMeterWith is sdkMeter with more exporter and provider options.
func sdkMeterWith(t *testing.T, e *env, token string, jsonBodies bool, extra []otlpmetrichttp.Option, provider []sdkmetric.Option) (metric.Meter, *sdkmetric.MeterProvider) {
	opts := []otlpmetrichttp.Option{
		otlpmetrichttp.WithEndpointURL(e.url + "/otlp/v1/metrics"),
		otlpmetrichttp.WithHeaders(map[string]string{"Authorization": "Bearer " + token}),
		otlpmetrichttp.WithRetry(otlpmetrichttp.RetryConfig{Enabled: false}),
	}
	if jsonBodies {
		opts = append(opts, otlpmetrichttp.WithHTTPClient(&http.Client{Transport: jsonTransport{t}}))
	} else {
		opts = append(opts, otlpmetrichttp.WithCompression(otlpmetrichttp.GzipCompression))
	}
	exp, err := otlpmetrichttp.New(context.Background(), append(opts, extra...)...)
	if err != nil {
		t.Fatal(err)
	}
	res := resource.NewSchemaless(attribute.String("service.name", "checkout"), attribute.String("host.name", "web1"), attribute.String("os.type", "linux"))
	mp := sdkmetric.NewMeterProvider(append([]sdkmetric.Option{sdkmetric.WithResource(res),
		sdkmetric.WithReader(sdkmetric.NewPeriodicReader(exp, sdkmetric.WithInterval(time.Hour)))}, provider...)...)
	t.Cleanup(func() { mp.Shutdown(context.Background()) })
	return mp.Meter("test"), mp
}

// TestOTLPSDKExports pushes a gauge, a counter and a histogram with the
// OpenTelemetry Go SDK's OTLP/HTTP exporter, in protobuf (gzip) and in
// JSON, and reads the documented topics and values back through history.
func TestOTLPSDKExports(t *testing.T) {
	for _, tc := range []struct {
		name string
		json bool
	}{{"protobuf", false}, {"json", true}} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			ctx := context.Background()
			meter, mp := sdkMeter(t, e, e.grantToken("otel.checkout.>", "pub"), tc.json)
			gauge, _ := meter.Float64Gauge("queue.depth")
			reqs, _ := meter.Int64Counter("http.requests")
			dur, _ := meter.Float64Histogram("http.duration", metric.WithExplicitBucketBoundaries(0, 5, 10))
			get := metric.WithAttributes(attribute.String("method", "GET"))

			gauge.Record(ctx, 7, metric.WithAttributes(attribute.String("queue", "orders")))
			reqs.Add(ctx, 5, get)
			for v := 1; v <= 10; v++ {
				dur.Record(ctx, float64(v), get)
			}
			if err := mp.ForceFlush(ctx); err != nil {
				t.Fatalf("export: %v", err)
			}
			reqs.Add(ctx, 3, get)
			if err := mp.ForceFlush(ctx); err != nil {
				t.Fatalf("second export: %v", err)
			}

			// Topics: otel.<service>.<metric>.<values of host.name and the
			// point's attributes, by key>; os.type is not a configured
			// resource attribute.
			g := e.history("otel.checkout.queue.depth.>")
			if len(g) != 2 || g[0].Topic != "otel.checkout.queue.depth.web1.orders" || string(g[0].Data) != "7" {
				t.Fatalf("gauge: %+v", g)
			}
			c := e.history("otel.checkout.http.requests.>")
			if len(c) != 2 || c[0].Topic != "otel.checkout.http.requests.web1.GET" || !jsonEqual(c[0].Data, `{"value":5}`) {
				t.Fatalf("counter: %+v", c)
			}
			var second struct{ Value, Rate float64 }
			if json.Unmarshal(c[1].Data, &second) != nil || second.Value != 8 || second.Rate <= 0 {
				t.Fatalf("counter's second point has no rate: %s", c[1].Data)
			}
			h := e.history("otel.checkout.http.duration.>")
			if len(h) != 2 || h[0].Topic != "otel.checkout.http.duration.web1.GET" ||
				!jsonEqual(h[0].Data, `{"count":10,"sum":55,"min":1,"max":10,"p50":5,"p90":9,"p99":9.9}`) {
				t.Fatalf("histogram: %+v", h)
			}
			if time.Since(time.UnixMilli(h[0].TS)) > time.Minute {
				t.Fatalf("ts %d is not the point's time", h[0].TS)
			}
		})
	}
}

// TestOTLPSDKDeltaAndExponential: the SDK exporting delta temporality and
// a base-2 exponential histogram.
func TestOTLPSDKDeltaAndExponential(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	delta := otlpmetrichttp.WithTemporalitySelector(func(sdkmetric.InstrumentKind) metricdata.Temporality { return metricdata.DeltaTemporality })
	expView := sdkmetric.NewView(sdkmetric.Instrument{Name: "rpc.size"},
		sdkmetric.Stream{Aggregation: sdkmetric.AggregationBase2ExponentialHistogram{MaxSize: 160, MaxScale: 20}})
	meter, mp := sdkMeterWith(t, e, e.admin, false, []otlpmetrichttp.Option{delta}, []sdkmetric.Option{sdkmetric.WithView(expView)})
	orders, _ := meter.Int64Counter("orders")
	size, _ := meter.Float64Histogram("rpc.size")
	orders.Add(ctx, 6)
	for v := 1; v <= 100; v++ {
		size.Record(ctx, float64(v))
	}
	if err := mp.ForceFlush(ctx); err != nil {
		t.Fatal(err)
	}
	orders.Add(ctx, 4)
	if err := mp.ForceFlush(ctx); err != nil {
		t.Fatal(err)
	}
	o := e.history("otel.checkout.orders.>")
	var first, second struct{ Value, Rate float64 }
	if len(o) != 2 || json.Unmarshal(o[0].Data, &first) != nil || json.Unmarshal(o[1].Data, &second) != nil ||
		first.Value != 6 || first.Rate <= 0 || second.Value != 4 || second.Rate <= 0 {
		t.Fatalf("delta counter: %+v", o)
	}
	h := e.history("otel.checkout.rpc.size.>")
	var st map[string]float64
	if len(h) == 0 || h[0].Topic != "otel.checkout.rpc.size.web1" || json.Unmarshal(h[0].Data, &st) != nil {
		t.Fatalf("exponential histogram: %+v", h)
	}
	// Buckets at scale 20 are narrow: the quantiles are within 1% or so.
	if st["count"] != 100 || st["sum"] != 5050 || st["min"] != 1 || st["max"] != 100 ||
		math.Abs(st["p50"]-50) > 1 || math.Abs(st["p90"]-90) > 1 || math.Abs(st["p99"]-99) > 1 {
		t.Fatalf("exponential histogram data: %v", st)
	}
}

// TestOTLPSDKPartialSuccess: points over the attribute cap are rejected,
// the SDK is told so through a partial success, and only the others are
// stored.
func TestOTLPSDKPartialSuccess(t *testing.T) {
	e := newEnv(t, func(c *envConfig) { c.cfg.OTLP.MaxAttributes = 2 })
	ctx := context.Background()
	meter, mp := sdkMeter(t, e, e.admin, false)
	g, _ := meter.Int64Gauge("temp")
	g.Record(ctx, 20, metric.WithAttributes(attribute.String("room", "hall")))
	g.Record(ctx, 21, metric.WithAttributes(attribute.String("room", "loft"), attribute.String("floor", "2")))
	err := mp.ForceFlush(ctx)
	if err == nil || !strings.Contains(err.Error(), "1 metric data points rejected") || !strings.Contains(err.Error(), "otlp.max_attributes") {
		t.Fatalf("export: %v", err)
	}
	got := e.history("otel.>")
	if len(got) != 1 || got[0].Topic != "otel.checkout.temp.web1.hall" {
		t.Fatalf("history: %+v", got)
	}
}

// otlpRequest builds a request of gauge points, one per attribute value
// (the attribute "series"), stamped ts.
func otlpRequest(metricName string, ts time.Time, series ...string) *colmetricpb.ExportMetricsServiceRequest {
	var pts []*metricspb.NumberDataPoint
	for _, s := range series {
		pts = append(pts, &metricspb.NumberDataPoint{
			TimeUnixNano: uint64(ts.UnixNano()),
			Value:        &metricspb.NumberDataPoint_AsDouble{AsDouble: 1},
			Attributes:   []*commonpb.KeyValue{{Key: "series", Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: s}}}},
		})
	}
	return &colmetricpb.ExportMetricsServiceRequest{ResourceMetrics: []*metricspb.ResourceMetrics{{
		Resource: &resourcepb.Resource{Attributes: []*commonpb.KeyValue{{Key: "service.name", Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: "svc"}}}}},
		ScopeMetrics: []*metricspb.ScopeMetrics{{Metrics: []*metricspb.Metric{{
			Name: metricName, Data: &metricspb.Metric_Gauge{Gauge: &metricspb.Gauge{DataPoints: pts}},
		}}}},
	}}}
}

// TestOTLPBadInput: each refusal is clear (status and an OTLP Status, or a
// partial success naming the cause) and stores nothing.
func TestOTLPBadInput(t *testing.T) {
	e := newEnv(t, withRequestBytes(64<<10), func(c *envConfig) { c.cfg.OTLP.MaxSeriesPerMetric = 2 })
	pb := func(m proto.Message) string { b, _ := proto.Marshal(m); return string(b) }
	js := func(m proto.Message) string { b, _ := protojson.Marshal(m); return string(b) }
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(bytes.Repeat([]byte{0}, 8<<20))
	zw.Close()
	now := time.Now()
	many := make([]string, 1001)
	for i := range many {
		many[i] = "s"
	}
	protobuf, jsonCT := []string{"Content-Type", "application/x-protobuf"}, []string{"Content-Type", "application/json"}
	for _, tc := range []struct {
		name, body string
		headers    []string
		status     int
		rejected   int64
		want       string
	}{
		{"malformed protobuf", "\x0a\xff\xff\xff\xff\x0f", protobuf, 400, 0, "not an OTLP ExportMetricsServiceRequest"},
		{"malformed JSON", `{"resourceMetrics":[{]}`, jsonCT, 400, 0, "not an OTLP ExportMetricsServiceRequest"},
		{"wrong content type", js(otlpRequest("m", now, "a")), []string{"Content-Type", "text/plain"}, 415, 0, "not supported"},
		{"gzip bomb", gz.String(), append([]string{"Content-Encoding", "gzip"}, protobuf...), 413, 0, "decompresses to more than the limit"},
		{"far future", pb(otlpRequest("m", now.Add(24*time.Hour), "a")), protobuf, 200, 1, "ahead of the server's clock"},
		{"too many series", pb(otlpRequest("m", now, "a", "b", "c")), protobuf, 200, 1, "otlp.max_series_per_metric"},
		{"too many points", pb(otlpRequest("n", now, many...)), protobuf, 413, 0, "more than 1000"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			head := e.store.Head()
			req, _ := http.NewRequest("POST", e.url+"/otlp/v1/metrics", strings.NewReader(tc.body))
			req.Header.Set("Authorization", "Bearer "+e.admin)
			for i := 0; i < len(tc.headers); i += 2 {
				req.Header.Set(tc.headers[i], tc.headers[i+1])
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d: %q", resp.StatusCode, b)
			}
			mt := resp.Header.Get("Content-Type")
			unmarshal := proto.Unmarshal
			if mt == "application/json" {
				unmarshal = protojson.Unmarshal
			}
			if tc.status == 200 {
				var r colmetricpb.ExportMetricsServiceResponse
				if err := unmarshal(b, &r); err != nil || r.GetPartialSuccess().GetRejectedDataPoints() != tc.rejected ||
					!strings.Contains(r.GetPartialSuccess().GetErrorMessage(), tc.want) {
					t.Fatalf("partial success: %v %v", &r, err)
				}
				if tc.name == "too many series" { // the two within the cap are stored
					if n := len(e.history("otel.svc.m.>")); n != 2 {
						t.Fatalf("stored %d of the series", n)
					}
					return
				}
			} else {
				var s status.Status
				if err := unmarshal(b, &s); err != nil || !strings.Contains(s.GetMessage(), tc.want) || s.GetCode() == 0 {
					t.Fatalf("status %s (%s): %v %v", b, mt, &s, err)
				}
			}
			if e.store.Head() != head {
				t.Fatal("a refused request stored something")
			}
		})
	}
	// A third series of m stays refused in a later request.
	code, b := e.do("POST", "/otlp/v1/metrics", e.admin, pb(otlpRequest("m", now, "a", "z")), protobuf...)
	var r colmetricpb.ExportMetricsServiceResponse
	if code != 200 || proto.Unmarshal([]byte(b), &r) != nil || r.GetPartialSuccess().GetRejectedDataPoints() != 1 {
		t.Fatalf("later new series: %d %v", code, &r)
	}
	// No token, and a token without the right, in the OTLP shape too.
	for _, tok := range []string{"", e.grantToken("other.>", "pub")} {
		code, b := e.do("POST", "/otlp/v1/metrics", tok, js(otlpRequest("q", now, "a")), jsonCT...)
		var s status.Status
		if (code != 401 && code != 403) || protojson.Unmarshal([]byte(b), &s) != nil || s.GetMessage() == "" {
			t.Fatalf("refused token: %d %s", code, b)
		}
	}
}

// TestCompatEndpointsShareLimits: rights on every topic a body produces,
// the publish rate, and the topic cap hold on the Influx and OTLP
// endpoints as on every publish path, and a refusal stores nothing.
func TestCompatEndpointsShareLimits(t *testing.T) {
	e := newEnv(t, func(c *envConfig) {
		c.cfg.Limits.PublishRate = config.Rate{PerSecond: 3}
		c.cfg.Limits.MaxTopics = 4
	})
	tok := e.grantToken("otel.svc.m.>", "pub", "cpu.>", "pub")
	pb := func(m proto.Message) string { b, _ := proto.Marshal(m); return string(b) }
	now := time.Now()
	mixed := otlpRequest("m", now, "a")
	mixed.ResourceMetrics[0].ScopeMetrics[0].Metrics = append(mixed.ResourceMetrics[0].ScopeMetrics[0].Metrics, otlpRequest("other", now, "a").ResourceMetrics[0].ScopeMetrics[0].Metrics...)
	for _, tc := range []struct {
		name, path, body string
		headers          []string
		status           int
		want             string
	}{
		{"otlp: one topic outside the grant", "/otlp/v1/metrics", pb(mixed), []string{"Content-Type", "application/x-protobuf"}, 403, "otel.svc.other.a"},
		{"influx: one topic outside the grant", "/api/v2/write?bucket=b", "cpu,host=a v=1\nmem,host=a v=1", nil, 403, `"code":"forbidden"`},
		{"otlp: over the rate", "/otlp/v1/metrics", pb(otlpRequest("m", now, "a", "b", "c", "d")), []string{"Content-Type", "application/x-protobuf"}, 429, "rate"},
		{"influx: over the rate", "/write?db=x", "cpu,host=a v=1\ncpu,host=b v=1\ncpu,host=c v=1\ncpu,host=d v=1", nil, 429, "rate"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			head := e.store.Head()
			status, b := e.do("POST", tc.path, tok, tc.body, tc.headers...)
			if status != tc.status || !strings.Contains(b, tc.want) {
				t.Fatalf("%d %q", status, b)
			}
			if e.store.Head() != head {
				t.Fatal("a refused request stored something")
			}
		})
	}
	// The topic cap (4): three topics fit, then a body with two new ones
	// is refused whole.
	// Each call as another admin subject: a publish-rate bucket of its own.
	n := 0
	admin := func(path, body string, headers ...string) (int, string) {
		n++
		c := claims(fmt.Sprintf("admin%d", n))
		c.Admin = true
		return e.do("POST", path, e.token(c, time.Hour), body, headers...)
	}
	if status, b := admin("/api/v2/write?bucket=b", "cpu,host=a v=1\ncpu,host=b v=1\ncpu,host=c v=1"); status != 204 {
		t.Fatalf("three topics: %d %s", status, b)
	}
	head := e.store.Head()
	if status, b := admin("/otlp/v1/metrics", pb(otlpRequest("m", now, "a", "b")), "Content-Type", "application/x-protobuf"); status != 413 || !strings.Contains(b, "limits.max_topics") {
		t.Fatalf("past the topic cap: %d %q", status, b)
	}
	if e.store.Head() != head {
		t.Fatal("a request past the topic cap stored something")
	}
}
