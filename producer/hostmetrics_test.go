package producer

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shirou/gopsutil/v4/disk"

	"github.com/livedash/livedash"
)

// fakeClock returns base, base+1s, base+2s, … on successive calls.
type fakeClock struct {
	mu   sync.Mutex
	base time.Time
	n    int
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.base.Add(time.Duration(c.n) * time.Second)
	c.n++
	return t
}

// runHostMetrics runs h until the publisher has seen batches batches, then
// stops it and returns what was published.
func runHostMetrics(t *testing.T, h *HostMetrics, pub *recordingPublisher, batches int) [][]livedash.Message {
	t.Helper()
	pub.published = make(chan struct{}, 1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- h.Run(ctx) }()
	deadline := time.After(20 * time.Second)
	for len(pub.recorded()) < batches {
		select {
		case <-pub.published:
		case err := <-done:
			t.Fatalf("Run returned early: %v", err)
		case <-deadline:
			t.Fatalf("only %d batches after 20s, want %d", len(pub.recorded()), batches)
		}
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run after cancel = %v, want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after its context was cancelled")
	}
	return pub.recorded()
}

func TestHostMetricsRunOnThisMachine(t *testing.T) {
	pub := &recordingPublisher{}
	clock := &fakeClock{base: time.UnixMilli(1732262400000)}
	h := &HostMetrics{
		Publisher:   pub,
		Interval:    20 * time.Millisecond,
		Host:        "testhost",
		Now:         clock.Now,
		Connections: func() int { return 7 },
	}
	batches := runHostMetrics(t, h, pub, 2)

	for i, batch := range batches {
		if len(batch) == 0 {
			t.Fatalf("batch %d is empty", i)
		}
		for _, m := range batch {
			if !strings.HasPrefix(m.Topic, "host.testhost.") {
				t.Errorf("batch %d: topic %q outside host.testhost.", i, m.Topic)
			}
			if err := livedash.ValidateTopic(m.Topic); err != nil {
				t.Errorf("batch %d: %v", i, err)
			}
			if m.Type != livedash.TypePoint {
				t.Errorf("%s: type %q, want point", m.Topic, m.Type)
			}
			if m.TS != batch[0].TS {
				t.Errorf("%s: ts %d differs from the batch's %d", m.Topic, m.TS, batch[0].TS)
			}
			in := livedash.PublishInput{Topic: m.Topic, Type: m.Type, Data: m.Data}
			if _, err := in.Validate(time.Now()); err != nil {
				t.Errorf("%s %s: fails publish validation: %v", m.Topic, m.Data, err)
			}
		}
	}
	// The first call of the clock primes the counters; batch i gets call i+1.
	if want := clock.base.Add(2 * time.Second).UnixMilli(); batches[1][0].TS != want {
		t.Errorf("second batch ts = %d, want %d from the injected clock", batches[1][0].TS, want)
	}

	got := map[string]json.RawMessage{}
	for _, m := range batches[1] {
		got[strings.TrimPrefix(m.Topic, "host.testhost.")] = m.Data
	}
	decode := func(name string, v any) bool {
		t.Helper()
		data, ok := got[name]
		if !ok {
			t.Errorf("no %s topic in the second batch; topics: %v", name, keys(got))
			return false
		}
		if err := json.Unmarshal(data, v); err != nil {
			t.Errorf("%s data %s: %v", name, data, err)
			return false
		}
		return true
	}

	var cpu map[string]float64
	if decode("cpu", &cpu) {
		if total, ok := cpu["total"]; !ok || total < 0 || total > 100 {
			t.Errorf("cpu total = %v (present %v), want within [0,100]", total, ok)
		}
		perCPU := 0
		for name, pct := range cpu {
			if strings.HasPrefix(name, "cpu") {
				perCPU++
			}
			if pct < 0 || pct > 100 {
				t.Errorf("cpu %s = %v, want within [0,100]", name, pct)
			}
		}
		if perCPU == 0 {
			t.Errorf("cpu data %v has no per-CPU member", cpu)
		}
	}
	var load loadData
	if decode("load", &load) && (load.Load1 < 0 || load.Load5 < 0 || load.Load15 < 0) {
		t.Errorf("load %+v has a negative value", load)
	}
	var mem memData
	if decode("mem", &mem) {
		if mem.Total == 0 || mem.Used > mem.Total || mem.Available > mem.Total || mem.SwapUsed > mem.SwapTotal {
			t.Errorf("implausible mem %+v", mem)
		}
		if mem.UsedPct < 0 || mem.UsedPct > 100 {
			t.Errorf("mem used_pct = %v", mem.UsedPct)
		}
	}
	var procs int
	if decode("procs", &procs) && procs <= 0 {
		t.Errorf("procs = %d, want > 0", procs)
	}
	var self selfData
	if decode("livedash", &self) {
		if self.RSS == 0 || self.Goroutines <= 0 || self.Connections != 7 {
			t.Errorf("livedash %+v: want rss > 0, goroutines > 0, connections 7", self)
		}
	}
	filesystems := 0
	for name, data := range got {
		switch {
		case strings.HasPrefix(name, "fs."):
			filesystems++
			var fs fsData
			if err := json.Unmarshal(data, &fs); err != nil || fs.Total == 0 || fs.Used > fs.Total {
				t.Errorf("%s: implausible %s (%v)", name, data, err)
			}
		case strings.HasPrefix(name, "net."), name == "disk":
			var rates map[string]float64
			if err := json.Unmarshal(data, &rates); err != nil || len(rates) != 2 {
				t.Errorf("%s: data %s (%v), want two rates", name, data, err)
			}
			for k, v := range rates {
				if v < 0 {
					t.Errorf("%s: %s = %v, want >= 0", name, k, v)
				}
			}
		}
	}
	if filesystems == 0 {
		t.Errorf("no fs.<mount> topic; topics: %v", keys(got))
	}
}

func TestHostMetricsKeepsSamplingWhenPublishFails(t *testing.T) {
	pub := &recordingPublisher{err: livedash.Errorf(livedash.EUNAVAILABLE, "store down")}
	h := &HostMetrics{Publisher: pub, Interval: 10 * time.Millisecond, Host: "h"}
	if got := runHostMetrics(t, h, pub, 3); len(got) < 3 {
		t.Fatalf("%d publish attempts, want 3", len(got))
	}
}

func TestHostMetricsDefaultHost(t *testing.T) {
	name, err := os.Hostname()
	if err != nil {
		t.Skip("no host name:", err)
	}
	pub := &recordingPublisher{}
	batches := runHostMetrics(t, &HostMetrics{Publisher: pub, Interval: 10 * time.Millisecond}, pub, 1)
	want := "host." + HostSegment(name) + "."
	for _, m := range batches[0] {
		if !strings.HasPrefix(m.Topic, want) {
			t.Fatalf("topic %q, want prefix %q", m.Topic, want)
		}
	}
}

func TestHostMetricsRefusesBadConfig(t *testing.T) {
	tests := []struct {
		name string
		h    HostMetrics
	}{
		{"no publisher", HostMetrics{Host: "h"}},
		{"host with a dot", HostMetrics{Publisher: &recordingPublisher{}, Host: "a.b"}},
		{"host with a space", HostMetrics{Publisher: &recordingPublisher{}, Host: "a b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			err := tt.h.Run(ctx)
			if err == nil || errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("Run = %v, want a configuration error at once", err)
			}
		})
	}
}

func TestHostSegment(t *testing.T) {
	tests := []struct{ in, want string }{
		{"web1.example.com", "web1-example-com"},
		{"db_2", "db_2"},
		{"", "localhost"},
	}
	for _, tt := range tests {
		if got := HostSegment(tt.in); got != tt.want {
			t.Errorf("HostSegment(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestMountSegment(t *testing.T) {
	tests := []struct{ in, want string }{
		{"/", "root"},
		{"/var/lib", "var-lib"},
		{"/mnt/my disk.2/", "mnt-my-disk-2"},
		{`C:\`, "C-"},
	}
	for _, tt := range tests {
		if got := MountSegment(tt.in); got != tt.want {
			t.Errorf("MountSegment(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestWholeDisks(t *testing.T) {
	names := []string{
		"sda", "sda1", "sda2", "nvme0n1", "nvme0n1p1", "nvme0n10", "mmcblk0", "mmcblk0p2",
		"vda", "loop0", "loop1", "zram0", "ram0", "dm-0", "md127", "disk0", "disk0s1", "xvdb", "xvdb1",
	}
	want := []string{"disk0", "mmcblk0", "nvme0n1", "nvme0n10", "sda", "vda", "xvdb"}
	if got := wholeDisks(names); !slices.Equal(got, want) {
		t.Errorf("wholeDisks = %v, want %v", got, want)
	}
}

func TestRealMounts(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "hosts")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	sub := filepath.Join(dir, "data")
	if err := os.Mkdir(sub, 0o700); err != nil {
		t.Fatal(err)
	}
	parts := []disk.PartitionStat{
		{Device: "/dev/vda", Mountpoint: "/", Fstype: "ext4"},
		{Device: "/dev/vda", Mountpoint: dir, Fstype: "ext4"},  // bind mount of the same device
		{Device: "/dev/vda", Mountpoint: file, Fstype: "ext4"}, // bind-mounted file
		{Device: "/dev/vdb", Mountpoint: sub, Fstype: "xfs"},
		{Device: "proc", Mountpoint: "/proc", Fstype: "proc"},
		{Device: "tmpfs", Mountpoint: "/dev/shm", Fstype: "tmpfs"},
		{Device: "overlay", Mountpoint: dir, Fstype: "overlay"}, // overlay that is not the root
		{Device: "server:/export", Mountpoint: dir, Fstype: "nfs4"},
	}
	want := []string{"/", sub}
	slices.Sort(want)
	if got := realMounts(parts); !slices.Equal(got, want) {
		t.Errorf("realMounts = %v, want %v", got, want)
	}
	container := []disk.PartitionStat{{Device: "overlay", Mountpoint: "/", Fstype: "overlay"}}
	if got := realMounts(container); !slices.Equal(got, []string{"/"}) {
		t.Errorf("realMounts(overlay on /) = %v, want [/]", got)
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
