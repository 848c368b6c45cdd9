package bench

import (
	"context"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
)

// Sweep runs the fanout scenario once per subscriber count, each on a
// fresh topic, and returns the results in order. It stops early (with the
// results so far) when ctx ends.
func Sweep(ctx context.Context, o Options, counts []int) ([]*Result, error) {
	var out []*Result
	topic := o.Topic
	for i, n := range counts {
		if ctx.Err() != nil {
			break
		}
		if i > 0 {
			sleep(ctx, 2*time.Second) // let the server close the previous run's streams
		}
		run := o
		run.Scenario, run.Subs = "fanout", n
		if topic != "" {
			run.Topic = topic + "." + strconv.Itoa(n)
		}
		res, err := Run(ctx, run)
		if err != nil {
			return out, fmt.Errorf("%d subscribers: %w", n, err)
		}
		out = append(out, res)
	}
	return out, nil
}

// WriteLatencySVG draws latency p50, p99 and max (log scale) against the
// subscriber count of fanout results as an SVG line chart.
func WriteLatencySVG(w io.Writer, results []*Result, title string) error {
	const (
		width, height          = 720, 420
		left, right, top, bott = 70, 130, 50, 60
	)
	pw, ph := float64(width-left-right), float64(height-top-bott)
	series := []struct {
		name, color string
		get         func(*Percentiles) float64
	}{
		{"p50", "#2b6cb0", func(p *Percentiles) float64 { return p.P50 }},
		{"p99", "#dd6b20", func(p *Percentiles) float64 { return p.P99 }},
		{"max", "#c53030", func(p *Percentiles) float64 { return p.Max }},
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, r := range results {
		if r.Latency == nil {
			continue
		}
		for _, s := range series {
			v := max(s.get(r.Latency), 0.01)
			lo, hi = min(lo, v), max(hi, v)
		}
	}
	if math.IsInf(lo, 0) {
		lo, hi = 0.1, 1000
	}
	lo = math.Pow(10, math.Floor(math.Log10(lo)))
	hi = math.Pow(10, math.Ceil(math.Log10(hi)))
	if hi <= lo {
		hi = lo * 10
	}
	y := func(v float64) float64 {
		v = max(v, lo)
		return float64(top) + ph - (math.Log10(v)-math.Log10(lo))/(math.Log10(hi)-math.Log10(lo))*ph
	}
	x := func(i int) float64 {
		if len(results) == 1 {
			return float64(left) + pw/2
		}
		return float64(left) + float64(i)*pw/float64(len(results)-1)
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n", width, height, width, height)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="#fff"/>`+"\n")
	fmt.Fprintf(&b, `<text x="%d" y="24" font-size="15" font-weight="bold">%s</text>`+"\n", left, xmlEscape(title))
	// Grid: one line per decade.
	for v := lo; v <= hi*1.0001; v *= 10 {
		fmt.Fprintf(&b, `<line x1="%d" x2="%.1f" y1="%.1f" y2="%.1f" stroke="#ddd"/>`+"\n", left, float64(left)+pw, y(v), y(v))
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" text-anchor="end" dominant-baseline="middle">%s</text>`+"\n", left-6, y(v), strconv.FormatFloat(v, 'g', -1, 64))
	}
	fmt.Fprintf(&b, `<text transform="translate(18 %.1f) rotate(-90)" text-anchor="middle">latency, ms (log scale)</text>`+"\n", float64(top)+ph/2)
	fmt.Fprintf(&b, `<line x1="%d" x2="%.1f" y1="%.1f" y2="%.1f" stroke="#333"/>`+"\n", left, float64(left)+pw, float64(top)+ph, float64(top)+ph)
	for i, r := range results {
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle">%d</text>`+"\n", x(i), float64(top)+ph+18, r.Subs)
		// The publish rate achieved, in red when it fell short of the one asked for.
		color := "#555"
		if r.PublishRate < 0.95*r.Rate {
			color = "#c53030"
		}
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle" font-size="10" fill="%s">%.1f msg/s</text>`+"\n", x(i), float64(top)+ph+31, color, r.PublishRate)
	}
	fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle">subscribers (and publish rate achieved)</text>`+"\n", float64(left)+pw/2, height-12)
	for k, s := range series {
		var pts []string
		for i, r := range results {
			if r.Latency == nil {
				continue
			}
			v := s.get(r.Latency)
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(i), y(v)))
			fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="3" fill="%s"><title>%d subs %s %s ms</title></circle>`+"\n", x(i), y(v), s.color, r.Subs, s.name, num(v))
		}
		fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="2" points="%s"/>`+"\n", s.color, strings.Join(pts, " "))
		ly := top + 10 + k*20
		fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%d" y2="%d" stroke="%s" stroke-width="2"/><text x="%d" y="%d" dominant-baseline="middle">%s</text>`+"\n",
			width-right+15, width-right+40, ly, ly, s.color, width-right+46, ly, s.name)
	}
	b.WriteString("</svg>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func xmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;").Replace(s)
}
