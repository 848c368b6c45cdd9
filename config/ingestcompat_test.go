package config

import (
	"strings"
	"testing"
	"time"
)

func TestIngestCompatKeys(t *testing.T) {
	c, err := Parse([]byte("influx: {db_prefix: true}\notlp: {prefix: metrics.otel, resource_attributes: [], max_attributes: 4, max_series_per_metric: 0, max_future: 1m}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if !c.Influx.DBPrefix || c.OTLP.Prefix != "metrics.otel" || len(c.OTLP.ResourceAttributes) != 0 ||
		c.OTLP.MaxAttributes != 4 || c.OTLP.MaxSeriesPerMetric != 0 || c.OTLP.MaxFuture.D() != time.Minute {
		t.Fatalf("%+v %+v", c.Influx, c.OTLP)
	}
	d := Default().OTLP
	if d.Prefix != "otel" || d.MaxAttributes != 8 || d.MaxSeriesPerMetric != 1000 || d.MaxFuture.D() != 10*time.Minute ||
		len(d.ResourceAttributes) != 1 || d.ResourceAttributes[0] != "host.name" {
		t.Fatalf("defaults %+v", d)
	}
	for _, tc := range []struct{ yaml, want string }{
		{"otlp: {prefix: sys.otel}", "sys"},
		{"otlp: {prefix: 'a..b'}", "prefix"},
		{"otlp: {resource_attributes: [service.name]}", "service.name"},
		{"otlp: {max_attributes: -1}", "negative"},
	} {
		if _, err := Parse([]byte(tc.yaml)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Fatalf("%s: err %v, want %q", tc.yaml, err, tc.want)
		}
	}
}
