package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/livedash/livedash/bench"
)

const benchUsage = `usage: livedash bench SCENARIO [flags]

Scenarios (see docs/benchmarks.md):
  fanout   --subs N subscribers on one topic, then --messages M at --rate R/s;
           every message verified (lost, duplicated, out of order, latency)
  idle     --subs N streams held open for --hold: connect rate, memory per connection
  publish  --conc C publishers, --batch B messages per request, for --duration
  churn    --subs N loops of connect → first event → close, publishing at --rate

Only loopback servers are loaded unless --allow-remote is given.
`

// runBench runs a load scenario against a livedash server and prints its
// figures (a table, or one JSON object with --json).
func runBench(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlags("bench", stderr)
	fs.Usage = func() { fmt.Fprint(stderr, benchUsage, "\nFlags:\n"); fs.PrintDefaults() }
	var o bench.Options
	fs.StringVar(&o.URL, "url", envOr(getenv, "LIVEDASH_URL", "http://localhost:8080"), "server URL")
	fs.StringVar(&o.Token, "token", getenv("LIVEDASH_TOKEN"), "token (an admin token works for every scenario)")
	fs.BoolVar(&o.AllowRemote, "allow-remote", false, "allow a server that is not on this machine's loopback")
	fs.IntVar(&o.Subs, "subs", 0, "subscribers / streams / churn loops (default fanout 100, idle 1000, churn 10)")
	fs.StringVar(&o.Transport, "transport", "sse", "subscriber transport: sse or ws")
	fs.BoolVar(&o.GoroutineReaders, "goroutine-readers", false, "fanout, idle: read each SSE stream in a goroutine through net/http instead of the epoll reader (Linux)")
	fs.StringVar(&o.Topic, "topic", "", "topic (default bench.SCENARIO.<random>)")
	fs.IntVar(&o.Messages, "messages", 200, "fanout: messages to publish")
	fs.Float64Var(&o.Rate, "rate", 0, "fanout, churn: messages per second (default fanout 20, churn 10)")
	fs.IntVar(&o.Inflight, "inflight", 0, "fanout, churn: publish requests under way at once (default 8; 1 = one at a time)")
	var subURLs string
	fs.StringVar(&subURLs, "sub-url", "", "fanout, idle: comma-separated servers the subscribers read from, in turn (cluster nodes); default --url")
	fs.DurationVar(&o.Drain, "drain", 5*time.Second, "fanout: wait for stragglers after the last publish")
	fs.DurationVar(&o.Hold, "hold", 10*time.Second, "idle: how long streams are held")
	fs.IntVar(&o.Conc, "conc", 8, "publish: concurrent publishers")
	fs.IntVar(&o.Batch, "batch", 1, "publish: messages per request (1 = single message)")
	fs.DurationVar(&o.Duration, "duration", 10*time.Second, "publish, churn: run time")
	fs.IntVar(&o.PID, "pid", 0, "server process id on this machine: report its CPU and memory from /proc")
	fs.DurationVar(&o.ConnectTimeout, "connect-timeout", 60*time.Second, "bound on opening the subscribers")
	fs.IntVar(&o.ConnectConc, "connect-conc", 200, "connections opened at once")
	asJSON := fs.Bool("json", false, "print one JSON object with every figure instead of a table")
	sweep := fs.String("sweep", "", "fanout: run once per subscriber count, e.g. 100,500,1000")
	svg := fs.String("svg", "", "fanout with --sweep: write a latency chart (SVG) to this file")
	quiet := fs.Bool("quiet", false, "no progress display on stderr")
	cpuProfile := fs.String("cpuprofile", "", "write the load generator's own CPU profile to this file (go tool pprof)")

	// The scenario comes first (livedash bench fanout --subs 10), but
	// flags before it are accepted too.
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		o.Scenario, args = args[0], args[1:]
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if o.Scenario == "" && fs.NArg() > 0 {
		o.Scenario = fs.Arg(0)
		if err := parseFlags(fs, fs.Args()[1:]); err != nil {
			return err
		}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("bench: unexpected argument %q", fs.Arg(0))}
	}
	if o.Scenario == "" {
		fmt.Fprint(stderr, benchUsage)
		return usageError{"bench: no scenario given"}
	}
	if subURLs != "" {
		o.SubURLs = strings.Split(subURLs, ",")
	}
	var counts []int
	if *sweep != "" {
		if o.Scenario != "fanout" {
			return usageError{"bench: --sweep is for the fanout scenario"}
		}
		for _, f := range strings.Split(*sweep, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || n <= 0 {
				return usageError{fmt.Sprintf("bench: --sweep: %q is not a subscriber count", f)}
			}
			counts = append(counts, n)
		}
	}
	if *svg != "" && counts == nil {
		return usageError{"bench: --svg needs --sweep"}
	}
	if err := bench.CheckTarget(o.URL, o.AllowRemote); err != nil {
		return usageError{"bench: " + err.Error()}
	}
	limit, err := bench.RaiseFileLimit()
	if err != nil {
		fmt.Fprintf(stderr, "livedash bench: raising the open-file limit: %v\n", err)
	} else if limit > 0 && uint64(o.Subs)+64 > limit {
		fmt.Fprintf(stderr, "livedash bench: warning: %d connections asked for, but at most %d files may be open\n", o.Subs, limit)
	}
	if !*quiet {
		o.Progress = stderr
		o.Terminal = isTerminal(stderr)
	}

	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return fmt.Errorf("bench: %w", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("bench: cpu profile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}

	var results []*bench.Result
	if counts != nil {
		results, err = bench.Sweep(ctx, o, counts)
	} else {
		var res *bench.Result
		if res, err = bench.Run(ctx, o); res != nil {
			results = []*bench.Result{res}
		}
	}
	for _, r := range results {
		r.FileLimit = limit
	}
	if len(results) > 0 {
		if perr := printBench(stdout, results, *asJSON); perr != nil && err == nil {
			err = perr
		}
		if *svg != "" {
			if serr := writeSVG(*svg, results); serr != nil && err == nil {
				err = serr
			}
		}
	}
	if err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	if ctx.Err() != nil {
		return errors.New("bench: interrupted; the figures above are partial")
	}
	return nil
}

func printBench(w io.Writer, results []*bench.Result, asJSON bool) error {
	if asJSON {
		return bench.WriteJSON(w, results)
	}
	for i, r := range results {
		if i > 0 {
			fmt.Fprintln(w)
		}
		if err := bench.WriteTable(w, r); err != nil {
			return err
		}
	}
	if len(results) > 1 {
		fmt.Fprintln(w)
		return bench.WriteSweepTable(w, results)
	}
	return nil
}

func writeSVG(path string, results []*bench.Result) error {
	r := results[0]
	title := fmt.Sprintf("livedash fan-out latency, %s, %g msg/s, %d messages", r.Transport, r.Rate, r.Messages)
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := bench.WriteLatencySVG(f, results, title); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
