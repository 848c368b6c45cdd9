// Package otlp owns the mapping of OpenTelemetry metrics, as an OTLP
// ExportMetricsServiceRequest (the official go.opentelemetry.io/proto/otlp
// types, decoded from protobuf or OTLP's JSON), to livedash point
// messages: topics from the resource, the metric name and the attributes;
// data from gauges, sums, histograms, exponential histograms and summaries;
// per-second rates of monotonic sums (counter resets handled, package
// counter); and the caps on attributes, series and timestamps that keep one
// exporter from creating unbounded topics. Authorising, limiting and
// storing the messages is the caller's job (the HTTP layer and the ingest
// gate).
//
// A data point becomes one message of type point on the topic
//
//	<prefix>.<service.name>.<metric name>[.<attribute value>…]
//
// where the metric name's dots separate segments, and the attribute values
// are those of the point's attributes plus the configured resource
// attributes (default host.name), taken in ascending order of their keys.
// Every character outside [A-Za-z0-9_-] of the service name and of an
// attribute value becomes "_" (an empty value is "_"); the metric name
// keeps its dots. Non-scalar attribute values (arrays, maps, bytes) are
// left out. Data:
//
//	gauge, non-monotonic sum    the value, a bare number
//	monotonic sum               {"value":V,"rate":R}: R per second; for a
//	                            cumulative sum from the series' previous point
//	                            (absent on its first), for a delta sum V over
//	                            the point's own interval
//	histogram, exponential      {"count","sum","min","max","p50","p90","p99"}
//	histogram                   (the quantiles interpolated in the buckets;
//	                            members the point lacks are left out)
//	summary                     {"count","sum","p50",…} from its quantiles
//
// ts is the point's time in unix ms (the time of the request when unset).
package otlp

import (
	"encoding/json"
	"fmt"
	"math"
	"mime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	colmetricpb "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	metricspb "go.opentelemetry.io/proto/otlp/metrics/v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/livedash/livedash"
	"github.com/livedash/livedash/counter"
)

// Content types of OTLP/HTTP bodies.
const (
	ContentTypeProtobuf = "application/x-protobuf"
	ContentTypeJSON     = "application/json"
)

// maxTS is 9999-12-31T23:59:59.999Z in unix ms, the latest ts livedash accepts.
const maxTS = 253402300799999

// Options configure a Receiver; see config.OTLP for their meaning.
type Options struct {
	Prefix             string
	ResourceAttributes []string
	MaxAttributes      int
	MaxSeriesPerMetric int
	MaxFuture          time.Duration
}

// Receiver converts requests, remembering across them the series each
// metric has created and the last value of each counter. Safe for
// concurrent use.
type Receiver struct {
	opts  Options
	rates *counter.Rates

	mu     sync.Mutex
	series map[string]map[string]struct{} // metric key → topics accepted
	nTopic int
}

// maxTracked bounds the series a Receiver remembers in all.
const maxTracked = 1_000_000

// New returns a Receiver.
func New(o Options) *Receiver {
	if o.Prefix == "" {
		o.Prefix = "otel"
	}
	return &Receiver{opts: o, rates: counter.New(0), series: map[string]map[string]struct{}{}}
}

// MediaType returns the OTLP content type of a Content-Type header value
// (ContentTypeProtobuf or ContentTypeJSON), or an EUNSUPPORTED error.
func MediaType(header string) (string, error) {
	mt, _, err := mime.ParseMediaType(header)
	if err == nil && (mt == ContentTypeProtobuf || mt == ContentTypeJSON) {
		return mt, nil
	}
	return "", livedash.Errorf(livedash.EUNSUPPORTED, "Content-Type %q is not supported; send %s or %s", header, ContentTypeProtobuf, ContentTypeJSON)
}

// Decode reads a request body of the given media type (see MediaType).
// A body that does not decode is EINVALID. Unknown JSON fields are
// ignored, as OTLP asks of receivers.
func Decode(body []byte, mediaType string) (*colmetricpb.ExportMetricsServiceRequest, error) {
	req := &colmetricpb.ExportMetricsServiceRequest{}
	var err error
	if mediaType == ContentTypeJSON {
		err = protojson.UnmarshalOptions{DiscardUnknown: true}.Unmarshal(body, req)
	} else {
		err = proto.Unmarshal(body, req)
	}
	if err != nil {
		return nil, livedash.Errorf(livedash.EINVALID, "body is not an OTLP ExportMetricsServiceRequest in %s: %v", mediaType, err)
	}
	return req, nil
}

// Encode encodes an OTLP response message (ExportMetricsServiceResponse,
// or a google.rpc.Status) in the media type of the request.
func Encode(m proto.Message, mediaType string) ([]byte, error) {
	if mediaType == ContentTypeJSON {
		return protojson.Marshal(m)
	}
	return proto.Marshal(m)
}

// Batch is a converted request: the messages to store and the data points
// rejected, with the first reasons. Commit it once the messages are stored.
type Batch struct {
	Messages []livedash.Message
	Rejected int64
	reasons  []string
	fresh    map[string]string // new series topic → its metric key
}

// ErrorMessage sums up the rejections for an OTLP partial success.
func (b *Batch) ErrorMessage() string {
	if b.Rejected == 0 {
		return ""
	}
	msg := strings.Join(b.reasons, "; ")
	if more := b.Rejected - int64(len(b.reasons)); more > 0 {
		msg += fmt.Sprintf("; and %d more", more)
	}
	return msg
}

const maxReasons = 3

func (b *Batch) reject(format string, args ...any) {
	b.Rejected++
	if len(b.reasons) < maxReasons {
		b.reasons = append(b.reasons, fmt.Sprintf(format, args...))
	}
}

// Convert maps every data point of req to a message, or rejects it with a
// reason (too many attributes, a new series past the metric's cap, a
// timestamp too far ahead of now, a value JSON cannot hold, a name that
// makes no valid topic). Points flagged as having no recorded value are
// skipped.
func (r *Receiver) Convert(req *colmetricpb.ExportMetricsServiceRequest, now time.Time) *Batch {
	b := &Batch{}
	nowMS := now.UnixMilli()
	for _, rm := range req.GetResourceMetrics() {
		res := rm.GetResource().GetAttributes()
		service := "unknown_service"
		var resAttrs []*commonpb.KeyValue
		for _, kv := range res {
			if kv.GetKey() == "service.name" {
				if v, ok := scalar(kv.GetValue()); ok && v != "" {
					service = v
				}
			} else if slices.Contains(r.opts.ResourceAttributes, kv.GetKey()) {
				resAttrs = append(resAttrs, kv)
			}
		}
		resKey := seriesKey(res)
		for _, sm := range rm.GetScopeMetrics() {
			for _, m := range sm.GetMetrics() {
				r.convertMetric(b, service, resKey, resAttrs, m, nowMS)
			}
		}
	}
	return b
}

// point is what every kind of data point shares.
type point interface {
	GetAttributes() []*commonpb.KeyValue
	GetTimeUnixNano() uint64
	GetStartTimeUnixNano() uint64
	GetFlags() uint32
}

// convertMetric converts m's points into b. resKey names the resource's
// series (all its attributes), resAttrs are those that join the topic.
func (r *Receiver) convertMetric(b *Batch, service, resKey string, resAttrs []*commonpb.KeyValue, m *metricspb.Metric, nowMS int64) {
	name := m.GetName()
	metricKey := r.opts.Prefix + "." + livedash.Sanitize(service, false) + "." + livedash.Sanitize(name, true)
	each := func(p point, data func() (any, error)) {
		if p.GetFlags()&uint32(metricspb.DataPointFlags_DATA_POINT_FLAGS_NO_RECORDED_VALUE_MASK) != 0 {
			return
		}
		topic, err := r.topic(metricKey, resAttrs, p.GetAttributes())
		if err != nil {
			b.reject("metric %q: %s", name, err)
			return
		}
		ts, err := r.ts(p.GetTimeUnixNano(), nowMS)
		if err != nil {
			b.reject("metric %q: %s", name, err)
			return
		}
		if err := r.admit(b, metricKey, topic); err != nil {
			b.reject("metric %q: %s", name, err)
			return
		}
		v, err := data()
		if err != nil {
			b.reject("metric %q: %s", name, err)
			return
		}
		raw, err := marshalData(v)
		if err != nil {
			b.reject("metric %q: %s", name, err)
			return
		}
		b.Messages = append(b.Messages, livedash.Message{Topic: topic, Type: livedash.TypePoint, TS: ts, Data: raw})
	}
	switch d := m.GetData().(type) {
	case *metricspb.Metric_Gauge:
		for _, p := range d.Gauge.GetDataPoints() {
			each(p, func() (any, error) { return number(p) })
		}
	case *metricspb.Metric_Sum:
		sum := d.Sum
		for _, p := range sum.GetDataPoints() {
			each(p, func() (any, error) { return r.sumData(sum, p, metricKey+"\x00"+resKey) })
		}
	case *metricspb.Metric_Histogram:
		for _, p := range d.Histogram.GetDataPoints() {
			each(p, func() (any, error) { return histogramData(p), nil })
		}
	case *metricspb.Metric_ExponentialHistogram:
		for _, p := range d.ExponentialHistogram.GetDataPoints() {
			each(p, func() (any, error) { return exponentialData(p), nil })
		}
	case *metricspb.Metric_Summary:
		for _, p := range d.Summary.GetDataPoints() {
			each(p, func() (any, error) { return summaryData(p), nil })
		}
	default:
		b.reject("metric %q: no gauge, sum, histogram, exponential histogram or summary data", name)
	}
}

// topic names a data point's series.
func (r *Receiver) topic(metricKey string, resAttrs, attrs []*commonpb.KeyValue) (string, error) {
	type kv struct{ key, value string }
	all := make([]kv, 0, len(resAttrs)+len(attrs))
	for _, list := range [][]*commonpb.KeyValue{resAttrs, attrs} {
		for _, a := range list {
			if v, ok := scalar(a.GetValue()); ok { // arrays, maps, bytes left out
				all = append(all, kv{a.GetKey(), v})
			}
		}
	}
	// By key; of a key given twice the first is kept (the resource's over
	// the point's). Sorting keeps this O(n log n) for any count.
	slices.SortStableFunc(all, func(a, b kv) int { return strings.Compare(a.key, b.key) })
	all = slices.CompactFunc(all, func(a, b kv) bool { return a.key == b.key })
	if max := r.opts.MaxAttributes; max > 0 && len(all) > max {
		return "", fmt.Errorf("%d attributes, more than the limit of %d (otlp.max_attributes)", len(all), max)
	}
	var t strings.Builder
	t.WriteString(metricKey)
	for _, a := range all {
		t.WriteByte('.')
		if a.value == "" {
			t.WriteByte('_')
		} else {
			t.WriteString(livedash.Sanitize(a.value, false))
		}
	}
	if err := livedash.ValidateTopic(t.String()); err != nil {
		return "", fmt.Errorf("name and attributes give no valid topic: %s", livedash.ErrorMessage(err))
	}
	return t.String(), nil
}

// scalar renders a string, bool, int or double value; ok is false for the
// other kinds.
func scalar(v *commonpb.AnyValue) (string, bool) {
	switch x := v.GetValue().(type) {
	case *commonpb.AnyValue_StringValue:
		return x.StringValue, true
	case *commonpb.AnyValue_BoolValue:
		return strconv.FormatBool(x.BoolValue), true
	case *commonpb.AnyValue_IntValue:
		return strconv.FormatInt(x.IntValue, 10), true
	case *commonpb.AnyValue_DoubleValue:
		return strconv.FormatFloat(x.DoubleValue, 'g', -1, 64), true
	}
	return "", false
}

// ts converts a point's time, refusing one too far ahead.
func (r *Receiver) ts(unixNano uint64, nowMS int64) (int64, error) {
	if unixNano == 0 {
		return nowMS, nil
	}
	ms := unixNano / 1e6
	if ms > maxTS || (r.opts.MaxFuture > 0 && int64(ms) > nowMS+r.opts.MaxFuture.Milliseconds()) {
		return 0, fmt.Errorf("timestamp %s is more than %s ahead of the server's clock (otlp.max_future)",
			time.Unix(0, int64(min(unixNano, math.MaxInt64))).UTC().Format(time.RFC3339), r.opts.MaxFuture)
	}
	return int64(ms), nil
}

// admit checks the metric's series cap for topic and notes it as fresh.
func (r *Receiver) admit(b *Batch, metricKey, topic string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	known := r.series[metricKey]
	if _, ok := known[topic]; ok {
		return nil
	}
	if _, ok := b.fresh[topic]; ok {
		return nil
	}
	n := len(known)
	for _, k := range b.fresh {
		if k == metricKey {
			n++
		}
	}
	if max := r.opts.MaxSeriesPerMetric; max > 0 && n >= max {
		return fmt.Errorf("series %s would be new, and the metric has its limit of %d series (otlp.max_series_per_metric)", topic, max)
	}
	if b.fresh == nil {
		b.fresh = map[string]string{}
	}
	b.fresh[topic] = metricKey
	return nil
}

// Commit records the new series of a stored batch.
func (r *Receiver) Commit(b *Batch) {
	if len(b.fresh) == 0 {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for topic, key := range b.fresh {
		if r.nTopic >= maxTracked {
			return // past this, the store's topic cap is what holds
		}
		set := r.series[key]
		if set == nil {
			set = map[string]struct{}{}
			r.series[key] = set
		}
		if _, ok := set[topic]; !ok {
			set[topic] = struct{}{}
			r.nTopic++
		}
	}
}

func number(p *metricspb.NumberDataPoint) (float64, error) {
	var v float64
	switch x := p.GetValue().(type) {
	case *metricspb.NumberDataPoint_AsDouble:
		v = x.AsDouble
	case *metricspb.NumberDataPoint_AsInt:
		v = float64(x.AsInt)
	default:
		return 0, fmt.Errorf("data point without a value")
	}
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("value %v is not a finite number", v)
	}
	return v, nil
}

// sumData is a sum point's data: a bare number unless monotonic, then the
// value and its per-second rate. series names the metric and resource.
func (r *Receiver) sumData(sum *metricspb.Sum, p *metricspb.NumberDataPoint, series string) (any, error) {
	v, err := number(p)
	if err != nil || !sum.GetIsMonotonic() {
		return v, err
	}
	out := map[string]float64{"value": v}
	if sum.GetAggregationTemporality() == metricspb.AggregationTemporality_AGGREGATION_TEMPORALITY_DELTA {
		if start, end := p.GetStartTimeUnixNano(), p.GetTimeUnixNano(); start > 0 && end > start {
			out["rate"] = v / (float64(end-start) / 1e9)
		}
		return out, nil
	}
	// The series key: the metric and every attribute, resource ones too
	// (the topic alone may merge series that differ in a left-out attribute).
	if rate, ok := r.rates.Rate(series+"\x00"+seriesKey(p.GetAttributes()), v, int64(min(p.GetTimeUnixNano(), math.MaxInt64)), int64(min(p.GetStartTimeUnixNano(), math.MaxInt64))); ok {
		out["rate"] = rate
	}
	return out, nil
}

func seriesKey(attrs []*commonpb.KeyValue) string {
	var b strings.Builder
	for _, a := range attrs {
		v, _ := scalar(a.GetValue())
		b.WriteString(a.GetKey())
		b.WriteByte('=')
		b.WriteString(v)
		b.WriteByte(',')
	}
	return b.String()
}

// stats is the data of a histogram or summary point.
type stats map[string]float64

func (s stats) set(key string, v float64, ok bool) {
	if ok && !math.IsNaN(v) && !math.IsInf(v, 0) {
		s[key] = v
	}
}

var quantiles = []struct {
	key string
	q   float64
}{{"p50", 0.5}, {"p90", 0.9}, {"p99", 0.99}}

func histogramData(p *metricspb.HistogramDataPoint) stats {
	s := stats{"count": float64(p.GetCount())}
	s.set("sum", p.GetSum(), p.Sum != nil)
	s.set("min", p.GetMin(), p.Min != nil)
	s.set("max", p.GetMax(), p.Max != nil)
	for _, q := range quantiles {
		v, ok := explicitQuantile(q.q, p.GetExplicitBounds(), p.GetBucketCounts(), p.Min, p.Max)
		s.set(q.key, v, ok)
	}
	return s
}

// explicitQuantile interpolates quantile q linearly within the bucket that
// holds it. Bucket i holds (bounds[i-1], bounds[i]]; the first starts at
// min (or 0 for a positive bound, as Prometheus does), the last ends at max
// (or its lower bound). The result is kept within [min, max] when known.
func explicitQuantile(q float64, bounds []float64, counts []uint64, minV, maxV *float64) (float64, bool) {
	var total uint64
	for _, c := range counts {
		total += c
	}
	if total == 0 || len(counts) != len(bounds)+1 {
		return 0, false
	}
	rank := q * float64(total)
	var seen float64
	for i, c := range counts {
		if c == 0 || seen+float64(c) < rank {
			seen += float64(c)
			continue
		}
		var lo, hi float64
		switch {
		case len(bounds) == 0:
			if minV == nil || maxV == nil {
				return 0, false
			}
			lo, hi = *minV, *maxV
		case i == 0:
			hi = bounds[0]
			lo = math.Min(0, hi)
			if minV != nil {
				lo = *minV
			}
		case i == len(bounds):
			lo = bounds[i-1]
			hi = lo
			if maxV != nil {
				hi = *maxV
			}
		default:
			lo, hi = bounds[i-1], bounds[i]
		}
		v := lo + (hi-lo)*(rank-seen)/float64(c)
		return clamp(v, minV, maxV), true
	}
	return 0, false
}

func clamp(v float64, minV, maxV *float64) float64 {
	if minV != nil && v < *minV {
		v = *minV
	}
	if maxV != nil && v > *maxV {
		v = *maxV
	}
	return v
}

func exponentialData(p *metricspb.ExponentialHistogramDataPoint) stats {
	s := stats{"count": float64(p.GetCount())}
	s.set("sum", p.GetSum(), p.Sum != nil)
	s.set("min", p.GetMin(), p.Min != nil)
	s.set("max", p.GetMax(), p.Max != nil)
	for _, q := range quantiles {
		v, ok := exponentialQuantile(q.q, p)
		s.set(q.key, v, ok)
	}
	return s
}

// exponentialQuantile walks the buckets from the most negative values to
// the most positive: bucket index i of scale s holds (base^i, base^(i+1)]
// with base = 2^(2^-s), mirrored for negative values; the zero bucket
// holds zero. Within a bucket it interpolates linearly.
func exponentialQuantile(q float64, p *metricspb.ExponentialHistogramDataPoint) (float64, bool) {
	base := math.Pow(2, math.Pow(2, -float64(p.GetScale())))
	type bucket struct {
		lo, hi float64
		n      uint64
	}
	var bs []bucket
	neg := p.GetNegative()
	for k := len(neg.GetBucketCounts()) - 1; k >= 0; k-- {
		i := float64(neg.GetOffset()) + float64(k)
		bs = append(bs, bucket{-math.Pow(base, i+1), -math.Pow(base, i), neg.GetBucketCounts()[k]})
	}
	bs = append(bs, bucket{0, 0, p.GetZeroCount()})
	pos := p.GetPositive()
	for k, n := range pos.GetBucketCounts() {
		i := float64(pos.GetOffset()) + float64(k)
		bs = append(bs, bucket{math.Pow(base, i), math.Pow(base, i+1), n})
	}
	var total uint64
	for _, b := range bs {
		total += b.n
	}
	if total == 0 {
		return 0, false
	}
	rank := q * float64(total)
	var seen float64
	for _, b := range bs {
		if b.n == 0 || seen+float64(b.n) < rank {
			seen += float64(b.n)
			continue
		}
		v := b.lo + (b.hi-b.lo)*(rank-seen)/float64(b.n)
		return clamp(v, p.Min, p.Max), true
	}
	return 0, false
}

// marshalData encodes a point's data as compact JSON.
func marshalData(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("data: %v", err)
	}
	return b, nil
}

func summaryData(p *metricspb.SummaryDataPoint) stats {
	s := stats{"count": float64(p.GetCount())}
	s.set("sum", p.GetSum(), true)
	for _, qv := range p.GetQuantileValues() {
		key := "p" + strconv.FormatFloat(qv.GetQuantile()*100, 'f', -1, 64)
		s.set(key, qv.GetValue(), true)
	}
	return s
}
