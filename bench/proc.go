package bench

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"sync"
	"time"
)

// clockTicks is USER_HZ, the unit of utime and stime in /proc/PID/stat:
// 100 on every Linux architecture Go supports.
const clockTicks = 100

// procSample is one reading of /proc/PID/{stat,status}.
type procSample struct {
	cpu time.Duration // utime+stime
	rss int64         // VmRSS, bytes
	hwm int64         // VmHWM, bytes
}

// readProc reads a process's CPU time and memory; pid 0 is this process.
func readProc(pid int) (procSample, error) {
	dir := "/proc/self"
	if pid > 0 {
		dir = "/proc/" + strconv.Itoa(pid)
	}
	var s procSample
	stat, err := os.ReadFile(dir + "/stat")
	if err != nil {
		return s, err
	}
	// The command name (field 2) is in parentheses and may hold spaces;
	// fields after it start with the state (field 3).
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return s, fmt.Errorf("%s/stat: unexpected format", dir)
	}
	f := bytes.Fields(stat[i+1:])
	if len(f) < 13 {
		return s, fmt.Errorf("%s/stat: unexpected format", dir)
	}
	utime, err1 := strconv.ParseInt(string(f[11]), 10, 64)
	stime, err2 := strconv.ParseInt(string(f[12]), 10, 64)
	if err1 != nil || err2 != nil {
		return s, fmt.Errorf("%s/stat: unexpected format", dir)
	}
	s.cpu = time.Duration(utime+stime) * time.Second / clockTicks
	status, err := os.ReadFile(dir + "/status")
	if err != nil {
		return s, err
	}
	for line := range bytes.Lines(status) {
		k, v, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			continue
		}
		var dst *int64
		switch string(k) {
		case "VmRSS":
			dst = &s.rss
		case "VmHWM":
			dst = &s.hwm
		default:
			continue
		}
		fs := bytes.Fields(v) // "1234 kB"
		if len(fs) >= 1 {
			n, _ := strconv.ParseInt(string(fs[0]), 10, 64)
			*dst = n << 10
		}
	}
	return s, nil
}

// procWatch samples the server (when its pid is known) and this process
// four times a second, keeping the peak VmRSS of each.
type procWatch struct {
	pid            int
	mu             sync.Mutex
	srvPeak, cPeak int64
	stopc, done    chan struct{}
	once           sync.Once
}

func newProcWatch(pid int) *procWatch {
	w := &procWatch{pid: pid, stopc: make(chan struct{}), done: make(chan struct{})}
	w.sample()
	go w.loop()
	return w
}

func (w *procWatch) loop() {
	defer close(w.done)
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			w.sample()
		case <-w.stopc:
			return
		}
	}
}

func (w *procWatch) sample() (srv procSample, srvErr error, cli procSample) {
	if w.pid > 0 {
		srv, srvErr = readProc(w.pid)
	}
	cli, _ = readProc(0)
	w.mu.Lock()
	defer w.mu.Unlock()
	if srvErr == nil {
		w.srvPeak = max(w.srvPeak, srv.rss)
	}
	w.cPeak = max(w.cPeak, cli.rss)
	return srv, srvErr, cli
}

func (w *procWatch) stop() {
	w.once.Do(func() { close(w.stopc) })
	<-w.done
}

// phaseMark is the readings at one moment of a run.
type phaseMark struct {
	t      time.Time
	srv    procSample
	srvErr error
	cli    procSample
}

func (w *procWatch) mark() phaseMark {
	srv, err, cli := w.sample()
	return phaseMark{t: time.Now(), srv: srv, srvErr: err, cli: cli}
}

// fill sets res.Server and res.Client for the phase from → to.
func (w *procWatch) fill(res *Result, from, to phaseMark) {
	wall := to.t.Sub(from.t).Seconds()
	w.mu.Lock()
	srvPeak, cPeak := w.srvPeak, w.cPeak
	w.mu.Unlock()
	stats := func(pid int, a, b procSample, peak int64) *ProcStats {
		cpu := (b.cpu - a.cpu).Seconds()
		return &ProcStats{PID: pid, CPUSeconds: cpu, CPUPercent: 100 * cpu / wall, RSSBefore: a.rss, RSSAfter: b.rss, RSSPeak: peak, HWM: b.hwm}
	}
	if w.pid > 0 {
		if err := firstErr(from.srvErr, to.srvErr); err != nil {
			res.Server = &ProcStats{PID: w.pid, Unavailable: err.Error()}
		} else {
			res.Server = stats(w.pid, from.srv, to.srv, srvPeak)
		}
	}
	res.Client = stats(os.Getpid(), from.cli, to.cli, cPeak)
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
