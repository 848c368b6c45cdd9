package promtext

import (
	"os"
	"strings"
	"testing"
)

// exporterPage is a metrics page as the Prometheus Go client and node
// exporter write it: HELP and TYPE comments, labels with escapes, a
// histogram with a +Inf bucket, a summary with a NaN quantile, a recording
// rule style name with colons, and a sample with its own timestamp.
// Package producer's scraper tests serve it too.
func exporterPage(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("testdata/exporter.prom")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestParse(t *testing.T) {
	samples, err := Parse(strings.NewReader(exporterPage(t)), 1000)
	if err != nil {
		t.Fatal(err)
	}
	if len(samples) != 14 {
		t.Fatalf("%d samples, want 14", len(samples))
	}
	ms := samples[12]
	if ms.Name != "job:request_rate:5m" || ms.Value != 12.5 || ms.TS != 1395066363000 || ms.LabelKey() != "job=api" {
		t.Fatalf("%+v", ms)
	}
	esc := samples[11]
	if esc.Labels[0].Value != `C:\DIR\FILE.TXT` || esc.Labels[1].Value != "Cannot find file:\n\"FILE.TXT\"" {
		t.Fatalf("escapes: %+v", esc.Labels)
	}

	bad := []struct{ name, line string }{
		{"no value", "foo"},
		{"bad value", "foo abc"},
		{"bad timestamp", "foo 1 abc"},
		{"extra field", "foo 1 2 3"},
		{"unquoted label", "foo{a=b} 1"},
		{"unterminated label", `foo{a="b} 1`},
		{"no equals", `foo{a "b"} 1`},
		{"missing brace", `foo{a="b" 1`},
		{"bad name", "1foo 1"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Parse(strings.NewReader("ok 1\n"+tt.line+"\n"), 10); err == nil || !strings.Contains(err.Error(), "line 2") {
				t.Fatalf("err %v, want one for line 2", err)
			}
		})
	}
	got, err := Parse(strings.NewReader("a 1\nb 2\nc 3\n"), 2)
	if len(got) != 2 || err == nil {
		t.Fatalf("limit: %d samples, err %v", len(got), err)
	}
}

func TestIsCounter(t *testing.T) {
	for _, tt := range []struct {
		s    Sample
		want bool
	}{
		{Sample{Name: "requests", Type: "counter"}, true},
		{Sample{Name: "requests_total"}, true},
		{Sample{Name: "requests_total", Type: "untyped"}, true},
		{Sample{Name: "requests_total", Type: "gauge"}, false},
		{Sample{Name: "requests_created", Type: "counter"}, false},
		{Sample{Name: "temperature", Type: "gauge"}, false},
	} {
		if got := tt.s.IsCounter(); got != tt.want {
			t.Errorf("%+v: IsCounter %v, want %v", tt.s, got, tt.want)
		}
	}
}
