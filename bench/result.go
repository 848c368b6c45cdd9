package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// Result is every figure of one run. Fields a scenario does not measure
// are left out of the JSON.
type Result struct {
	Scenario    string    `json:"scenario"`
	URL         string    `json:"url"`
	Topic       string    `json:"topic"`
	Started     time.Time `json:"started"`
	Elapsed     Seconds   `json:"elapsed_s"`
	Interrupted bool      `json:"interrupted"`

	// The load asked for.
	Transport string  `json:"transport,omitempty"`
	Reader    string  `json:"reader,omitempty"` // how the generator read SSE streams: polled (epoll) or goroutines
	Subs      int     `json:"subs,omitempty"`
	Messages  int     `json:"messages,omitempty"`
	Rate      float64 `json:"rate,omitempty"`
	Conc      int     `json:"conc,omitempty"`
	Batch     int     `json:"batch,omitempty"`
	Duration  Seconds `json:"duration_s,omitempty"`
	Hold      Seconds `json:"hold_s,omitempty"`

	// Connections (fanout, idle).
	Connected      int     `json:"connected"`
	ConnectErrors  int     `json:"connect_errors"`
	ConnectSeconds Seconds `json:"connect_s"`
	ConnectsPerSec float64 `json:"connects_per_s"`
	Disconnects    int64   `json:"disconnects"` // streams that ended before the run did
	Resumes        int64   `json:"resumes"`     // reconnections with the last id seen
	Resets         int64   `json:"resets"`      // reset events received

	// Fan-out delivery.
	Published       int64        `json:"published,omitempty"` // publishes acknowledged
	PublishErrors   int64        `json:"publish_errors"`
	PublishRate     float64      `json:"publish_rate,omitempty"` // achieved, messages/s
	Expected        int64        `json:"expected,omitempty"`     // connected × published
	Delivered       int64        `json:"delivered"`              // new sequence numbers, verified
	Lost            int64        `json:"lost"`
	Duplicated      int64        `json:"duplicated"`
	OutOfOrder      int64        `json:"out_of_order"` // delivered, but after a higher sequence number
	Invalid         int64        `json:"invalid"`      // unparsable, other topic, or unknown sequence number
	DeliveriesPerS  float64      `json:"deliveries_per_s,omitempty"`
	Latency         *Percentiles `json:"latency_ms,omitempty"` // publish send → subscriber receive
	PublishLatency  *Percentiles `json:"publish_latency_ms,omitempty"`
	MessageBytes    int          `json:"message_bytes,omitempty"` // one publish body (one message)
	RequestLatency  *Percentiles `json:"request_latency_ms,omitempty"`
	Requests        int64        `json:"requests,omitempty"`
	RequestErrors   int64        `json:"request_errors"`
	Acknowledged    int64        `json:"acknowledged,omitempty"`
	AcknowledgedPS  float64      `json:"acknowledged_per_s,omitempty"`
	Cycles          int64        `json:"cycles,omitempty"` // churn: connect → first event → close
	CycleErrors     int64        `json:"cycle_errors"`
	CyclesPerSec    float64      `json:"cycles_per_s,omitempty"`
	FirstEvent      *Percentiles `json:"first_event_ms,omitempty"` // churn: connect start → first event
	FileLimit       uint64       `json:"file_limit,omitempty"`
	Server          *ProcStats   `json:"server,omitempty"`
	Client          *ProcStats   `json:"client,omitempty"`
	Errors          []ErrorCount `json:"errors,omitempty"`
	MeasuredPhase   string       `json:"measured_phase,omitempty"` // what the CPU figures cover
	PerConnBytes    int64        `json:"server_bytes_per_conn,omitempty"`
	ClientConnBytes int64        `json:"client_bytes_per_conn,omitempty"`
}

// Seconds is a duration written as seconds in JSON.
type Seconds time.Duration

func (s Seconds) MarshalJSON() ([]byte, error) {
	return strconv.AppendFloat(nil, math.Round(time.Duration(s).Seconds()*1000)/1000, 'f', -1, 64), nil
}

func (s Seconds) String() string { return time.Duration(s).Round(time.Millisecond).String() }

// Percentiles summarise durations, in milliseconds.
type Percentiles struct {
	Count int64   `json:"count"`
	Mean  float64 `json:"mean"`
	P50   float64 `json:"p50"`
	P90   float64 `json:"p90"`
	P99   float64 `json:"p99"`
	P999  float64 `json:"p999"`
	Max   float64 `json:"max"`
}

// percentiles sorts ns (nanoseconds) in place and summarises it by nearest
// rank; nil when empty.
func percentiles(ns []int64) *Percentiles {
	if len(ns) == 0 {
		return nil
	}
	slices.Sort(ns)
	var sum float64
	for _, v := range ns {
		sum += float64(v)
	}
	at := func(q float64) float64 {
		i := int(math.Ceil(q*float64(len(ns)))) - 1
		i = min(max(i, 0), len(ns)-1)
		return ms(ns[i])
	}
	return &Percentiles{
		Count: int64(len(ns)),
		Mean:  math.Round(sum/float64(len(ns))/1e3) / 1e3,
		P50:   at(0.50), P90: at(0.90), P99: at(0.99), P999: at(0.999),
		Max: ms(ns[len(ns)-1]),
	}
}

// ms converts nanoseconds to milliseconds with µs precision.
func ms(ns int64) float64 { return math.Round(float64(ns)/1e3) / 1e3 }

// ProcStats are a process's resources during a run, read from /proc.
type ProcStats struct {
	PID         int     `json:"pid"`
	CPUSeconds  float64 `json:"cpu_s"`       // user+system during the measured phase
	CPUPercent  float64 `json:"cpu_percent"` // of one core, over the measured phase
	RSSBefore   int64   `json:"rss_before_bytes"`
	RSSAfter    int64   `json:"rss_after_bytes"`
	RSSPeak     int64   `json:"rss_peak_bytes"` // highest VmRSS sampled (4/s)
	HWM         int64   `json:"vm_hwm_bytes"`   // VmHWM: the process's lifetime peak
	Unavailable string  `json:"unavailable,omitempty"`
}

// ErrorCount is one kind of error and how often it happened.
type ErrorCount struct {
	Error string `json:"error"`
	Count int    `json:"count"`
}

// WriteJSON writes v (a *Result or a []*Result) as one JSON object.
func WriteJSON(w io.Writer, results []*Result) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if len(results) == 1 {
		return enc.Encode(results[0])
	}
	return enc.Encode(struct {
		Scenario string    `json:"scenario"`
		Sweep    []*Result `json:"sweep"`
	}{results[0].Scenario, results})
}

// WriteTable writes a result as a two-column table.
func WriteTable(w io.Writer, res *Result) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row := func(k, f string, a ...any) { fmt.Fprintf(tw, "%s\t"+f+"\n", append([]any{k}, a...)...) }
	title := res.Scenario
	if res.Transport != "" {
		title += " (" + res.Transport
		if res.Reader != "" && res.Transport == "sse" {
			title += ", " + res.Reader + " reader"
		}
		title += ")"
	}
	if res.Interrupted {
		title += " — INTERRUPTED, partial figures"
	}
	row("scenario", "%s", title)
	row("server", "%s", res.URL)
	row("topic", "%s", res.Topic)
	row("elapsed", "%s", res.Elapsed)
	switch res.Scenario {
	case "fanout":
		row("load", "%d subscribers, %d messages at %g/s", res.Subs, res.Messages, res.Rate)
	case "idle":
		row("load", "%d streams held %s", res.Subs, res.Hold)
	case "publish":
		row("load", "%d publishers, batch %d, for %s", res.Conc, res.Batch, res.Duration)
	case "churn":
		row("load", "%d connect/close loops, publishing at %g/s, for %s", res.Subs, res.Rate, res.Duration)
	}
	if res.Scenario == "fanout" || res.Scenario == "idle" {
		row("connected", "%d / %d (%d errors) in %s, %.0f connects/s", res.Connected, res.Subs, res.ConnectErrors, res.ConnectSeconds, res.ConnectsPerSec)
		row("disconnects / resumes / resets", "%d / %d / %d", res.Disconnects, res.Resumes, res.Resets)
	}
	if res.Scenario == "fanout" {
		row("published", "%d (%d errors), %.1f/s achieved", res.Published, res.PublishErrors, res.PublishRate)
		row("delivered / expected", "%d / %d", res.Delivered, res.Expected)
		row("lost / duplicated / out-of-order / invalid", "%d / %d / %d / %d", res.Lost, res.Duplicated, res.OutOfOrder, res.Invalid)
		row("deliveries/s", "%.0f", res.DeliveriesPerS)
		row("latency ms (send → receive)", "%s", res.Latency)
		row("publish request ms", "%s", res.PublishLatency)
	}
	if res.Scenario == "publish" {
		row("acknowledged", "%d messages in %d requests (%d errors)", res.Acknowledged, res.Requests, res.RequestErrors)
		row("acknowledged msgs/s", "%.0f", res.AcknowledgedPS)
		row("request latency ms", "%s", res.RequestLatency)
		row("message body bytes", "%d", res.MessageBytes)
	}
	if res.Scenario == "churn" {
		row("cycles", "%d (%d errors), %.1f/s", res.Cycles, res.CycleErrors, res.CyclesPerSec)
		row("connect → first event ms", "%s", res.FirstEvent)
		row("published", "%d (%d errors), %.1f/s achieved", res.Published, res.PublishErrors, res.PublishRate)
		row("publish request ms", "%s", res.PublishLatency)
	}
	if s := res.Server; s != nil {
		if s.Unavailable != "" {
			row("server", "pid %d: %s", s.PID, s.Unavailable)
		} else {
			row("server CPU ("+res.MeasuredPhase+")", "%.2f s (%.0f%% of one core)", s.CPUSeconds, s.CPUPercent)
			row("server RSS before / after / peak", "%s / %s / %s (VmHWM %s)", mib(s.RSSBefore), mib(s.RSSAfter), mib(s.RSSPeak), mib(s.HWM))
		}
	}
	if res.PerConnBytes != 0 {
		row("server memory per connection", "%.1f KiB", float64(res.PerConnBytes)/1024)
	}
	if c := res.Client; c != nil && c.Unavailable == "" {
		row("bench client CPU ("+res.MeasuredPhase+")", "%.2f s (%.0f%% of one core)", c.CPUSeconds, c.CPUPercent)
		row("bench client RSS peak", "%s", mib(c.RSSPeak))
	}
	if res.ClientConnBytes != 0 {
		row("client memory per connection", "%.1f KiB", float64(res.ClientConnBytes)/1024)
	}
	for _, e := range res.Errors {
		row("error", "%d× %s", e.Count, e.Error)
	}
	return tw.Flush()
}

func (p *Percentiles) String() string {
	if p == nil {
		return "-"
	}
	return fmt.Sprintf("p50 %s  p90 %s  p99 %s  p99.9 %s  max %s  (n=%d)", num(p.P50), num(p.P90), num(p.P99), num(p.P999), num(p.Max), p.Count)
}

func num(v float64) string {
	switch {
	case v >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case v >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
	return strconv.FormatFloat(v, 'f', 2, 64)
}

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

// WriteSweepTable writes one row per run of a sweep.
func WriteSweepTable(w io.Writer, results []*Result) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, strings.Join([]string{"subs", "connected", "published/s", "delivered", "expected", "lost", "dup", "ooo", "p50 ms", "p99 ms", "p99.9 ms", "max ms", "deliveries/s", "server CPU %", ""}, "\t"))
	for _, r := range results {
		cpu := "-"
		if r.Server != nil && r.Server.Unavailable == "" {
			cpu = fmt.Sprintf("%.0f", r.Server.CPUPercent)
		}
		l := r.Latency
		if l == nil {
			l = &Percentiles{}
		}
		fmt.Fprintf(tw, "%d\t%d\t%.1f\t%d\t%d\t%d\t%d\t%d\t%s\t%s\t%s\t%s\t%.0f\t%s\t\n", r.Subs, r.Connected, r.PublishRate, r.Delivered, r.Expected, r.Lost, r.Duplicated, r.OutOfOrder,
			num(l.P50), num(l.P99), num(l.P999), num(l.Max), r.DeliveriesPerS, cpu)
	}
	return tw.Flush()
}
