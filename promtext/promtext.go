// Package promtext reads the Prometheus text exposition format (version
// 0.0.4, which OpenMetrics text also parses as, but for its timestamps)
// into samples: the format only, no HTTP and no topics (package producer's
// Scraper polls endpoints and turns samples into messages).
package promtext

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// ErrTooManySamples is returned by Parse with the samples up to its limit.
var ErrTooManySamples = errors.New("too many samples")

// Sample is one line of the Prometheus text format.
type Sample struct {
	Name   string
	Labels []Label
	Value  float64
	// TS is the sample's own timestamp in unix ms; 0 when it has none.
	TS int64
	// Type is the metric type its # TYPE line gave the sample's family
	// (counter, gauge, histogram, summary, untyped), "" without one.
	Type string
}

// IsCounter reports whether the sample is a counter's: typed counter, or
// named like one (_total). An OpenMetrics _created sample is a time.
func (s Sample) IsCounter() bool {
	if strings.HasSuffix(s.Name, "_created") {
		return false
	}
	return s.Type == "counter" || (s.Type == "" || s.Type == "untyped") && strings.HasSuffix(s.Name, "_total")
}

// Label is one label of a sample, in the order written.
type Label struct{ Name, Value string }

// LabelKey returns the labels as "name=value,name=value" in the order
// written, or "value" for a sample with no labels.
func (s Sample) LabelKey() string {
	if len(s.Labels) == 0 {
		return "value"
	}
	var b strings.Builder
	for i, l := range s.Labels {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(l.Name)
		b.WriteByte('=')
		b.WriteString(l.Value)
	}
	return b.String()
}

// Parse reads the Prometheus text exposition format (version 0.0.4,
// which OpenMetrics text also parses as, but for its timestamps): comment
// and blank lines are skipped, each other line is
// name{label="value",…} value [timestamp]. At most maxSamples are
// returned (with ErrTooManySamples when there were more); a malformed
// line is an error naming its line number.
func Parse(r io.Reader, maxSamples int) ([]Sample, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	var out []Sample
	types := map[string]string{}
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if text == "" || text[0] == '#' {
			if f := strings.Fields(text); len(f) == 4 && f[0] == "#" && f[1] == "TYPE" && len(types) < maxSamples {
				types[f[2]] = f[3]
			}
			continue
		}
		if len(out) >= maxSamples {
			return out, fmt.Errorf("%w: more than %d", ErrTooManySamples, maxSamples)
		}
		smp, err := parseSampleLine(text)
		if err != nil {
			return out, fmt.Errorf("line %d: %w", line, err)
		}
		smp.Type = familyType(types, smp.Name)
		out = append(out, smp)
	}
	if err := sc.Err(); err != nil {
		return out, fmt.Errorf("line %d: %w", line+1, err)
	}
	return out, nil
}

// familyType finds the TYPE of a sample's family: its own name, or its
// name less a suffix the family's samples carry.
func familyType(types map[string]string, name string) string {
	if t, ok := types[name]; ok {
		return t
	}
	for _, suffix := range []string{"_total", "_created", "_bucket", "_sum", "_count"} {
		if base, ok := strings.CutSuffix(name, suffix); ok {
			if t, ok := types[base]; ok {
				return t
			}
		}
	}
	return ""
}

func parseSampleLine(s string) (Sample, error) {
	var smp Sample
	i := 0
	for i < len(s) && isMetricNameByte(s[i], i == 0) {
		i++
	}
	if i == 0 {
		return smp, fmt.Errorf("bad metric name in %q", clip(s))
	}
	smp.Name = s[:i]
	if i < len(s) && s[i] == '{' {
		i++
		for {
			i = skipSpaces(s, i)
			if i < len(s) && s[i] == '}' {
				i++
				break
			}
			start := i
			for i < len(s) && isMetricNameByte(s[i], i == start) && s[i] != ':' {
				i++
			}
			if i == start {
				return smp, fmt.Errorf("bad label name in %q", clip(s))
			}
			name := s[start:i]
			i = skipSpaces(s, i)
			if i >= len(s) || s[i] != '=' {
				return smp, fmt.Errorf("label %s: '=' expected in %q", name, clip(s))
			}
			i = skipSpaces(s, i+1)
			if i >= len(s) || s[i] != '"' {
				return smp, fmt.Errorf("label %s: quoted value expected in %q", name, clip(s))
			}
			value, next, err := readQuoted(s, i+1)
			if err != nil {
				return smp, fmt.Errorf("label %s: %w", name, err)
			}
			smp.Labels = append(smp.Labels, Label{Name: name, Value: value})
			i = skipSpaces(s, next)
			if i < len(s) && s[i] == ',' {
				i++
				continue
			}
			if i < len(s) && s[i] == '}' {
				i++
				break
			}
			return smp, fmt.Errorf("',' or '}' expected in %q", clip(s))
		}
	}
	fields := strings.Fields(s[i:])
	if len(fields) == 0 || len(fields) > 2 {
		return smp, fmt.Errorf("value [timestamp] expected after %s in %q", smp.Name, clip(s))
	}
	v, err := strconv.ParseFloat(fields[0], 64)
	if err != nil {
		return smp, fmt.Errorf("bad value %q of %s", fields[0], smp.Name)
	}
	smp.Value = v
	if len(fields) == 2 {
		ts, err := strconv.ParseInt(fields[1], 10, 64)
		if err != nil {
			return smp, fmt.Errorf("bad timestamp %q of %s", fields[1], smp.Name)
		}
		smp.TS = ts
	}
	return smp, nil
}

// readQuoted reads a label value after its opening quote, undoing the
// escapes \\ \" and \n, and returns it with the index after the closing quote.
func readQuoted(s string, i int) (string, int, error) {
	var b strings.Builder
	for i < len(s) {
		c := s[i]
		switch c {
		case '"':
			return b.String(), i + 1, nil
		case '\\':
			if i+1 >= len(s) {
				return "", 0, errors.New("unterminated escape")
			}
			switch s[i+1] {
			case 'n':
				b.WriteByte('\n')
			case '\\', '"':
				b.WriteByte(s[i+1])
			default:
				b.WriteByte('\\')
				b.WriteByte(s[i+1])
			}
			i += 2
			continue
		}
		b.WriteByte(c)
		i++
	}
	return "", 0, errors.New("unterminated label value")
}

func isMetricNameByte(c byte, first bool) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c == ':' || !first && c >= '0' && c <= '9'
}

func skipSpaces(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	return i
}

func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}
