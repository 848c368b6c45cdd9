package producer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/shirou/gopsutil/v4/cpu"
	"github.com/shirou/gopsutil/v4/disk"
	"github.com/shirou/gopsutil/v4/load"
	"github.com/shirou/gopsutil/v4/mem"
	psnet "github.com/shirou/gopsutil/v4/net"
	"github.com/shirou/gopsutil/v4/process"

	"github.com/livedash/livedash"
)

// DefaultHostMetricsInterval is how often HostMetrics samples when its
// Interval is zero.
const DefaultHostMetricsInterval = time.Second

// HostMetrics samples the machine the server runs on and publishes one
// batch of point messages per interval, all with the same ts, on these
// topics (<host> is HostSegment of the host name):
//
//	host.<host>.cpu           {"total":pct,"cpu0":pct,"cpu1":pct,…}   busy % since the previous sample
//	host.<host>.load          {"load1":n,"load5":n,"load15":n}
//	host.<host>.mem           {"used_pct":pct,"used":B,"available":B,"total":B,"swap_used":B,"swap_total":B}
//	host.<host>.net.<iface>   {"rx_bps":n,"tx_bps":n}                  bytes per second
//	host.<host>.disk          {"read_bps":n,"write_bps":n}             bytes per second, summed over disks
//	host.<host>.fs.<mount>    {"used_pct":pct,"used":B,"total":B}
//	host.<host>.procs         n                                        number of processes
//	host.<host>.livedash      {"rss":B,"goroutines":n,"connections":n} this server process
//
// Percentages are rounded to 0.01 and rates to 0.1. Network interfaces
// are those with traffic, loopback excluded; disks are whole disks (no
// partitions, loop, RAM, device-mapper or md devices, which would count the
// same bytes twice); file systems are local on-disk ones (ext4, xfs, btrfs,
// zfs, vfat, apfs…, and an overlay mounted on /, the root of a container),
// one per device, named after the shortest mount point: / is "root",
// /var/lib is "var-lib". A source the platform lacks is left out of the
// batch (and logged once) rather than stopping the others.
//
// Set the fields before Run; zero values take the documented defaults.
type HostMetrics struct {
	Publisher livedash.Publisher

	// Interval between samples; DefaultHostMetricsInterval if zero.
	Interval time.Duration
	// Host is the <host> topic segment, one segment of [A-Za-z0-9_-]; if
	// empty, HostSegment(os.Hostname()).
	Host string
	// Now is the clock giving each batch its ts and the time between
	// samples for rates; time.Now if nil.
	Now func() time.Time
	// Connections reports the number of open client connections of the
	// server, for host.<host>.livedash; nil reports 0.
	Connections func() int
	// Logger gets publish failures and unavailable sources; nil discards.
	Logger *slog.Logger
}

// HostSegment turns a host name into one topic segment: each character
// outside [A-Za-z0-9_-], dots included, becomes '-' ("web1.example.com" is
// "web1-example-com"), cut to 63 bytes; an empty name is "localhost".
func HostSegment(hostname string) string {
	return sanitizeSegment(hostname, 63, "localhost")
}

// Run samples and publishes until ctx is done, then returns nil. It returns
// an error at once when the configuration is unusable (no publisher, a
// host that is not one topic segment). A failed publish is logged and
// the batch dropped; sampling goes on.
func (h *HostMetrics) Run(ctx context.Context) error {
	if h.Publisher == nil {
		return errors.New("host metrics: no publisher")
	}
	host := h.Host
	if host == "" {
		name, err := os.Hostname()
		if err != nil {
			name = ""
		}
		host = HostSegment(name)
	}
	if err := validSegment(host); err != nil {
		return fmt.Errorf("host metrics: host: %w", err)
	}
	interval := h.Interval
	if interval <= 0 {
		interval = DefaultHostMetricsInterval
	}
	now := h.Now
	if now == nil {
		now = time.Now
	}
	log := h.Logger
	if log == nil {
		log = discardLogger()
	}

	s := &hostSampler{
		prefix:      "host." + host + ".",
		connections: h.Connections,
		log:         log,
		warned:      map[string]bool{},
	}
	if self, err := process.NewProcessWithContext(ctx, int32(os.Getpid())); err == nil {
		s.self = self
	}
	// Prime the counters so that the first tick already has rates.
	s.sample(ctx, now())

	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-ticker.C:
		}
		msgs := s.sample(ctx, now())
		if ctx.Err() != nil {
			return nil
		}
		publishAll(ctx, h.Publisher, log, "host metrics", msgs)
	}
}

// hostSampler holds the counters of the previous sample, from which rates
// and CPU percentages are computed. It is used by one goroutine.
type hostSampler struct {
	prefix      string // "host.<host>."
	self        *process.Process
	connections func() int
	log         *slog.Logger
	warned      map[string]bool // sources whose failure was logged

	primed   bool
	prevAt   time.Time
	prevCPU  map[string]cpu.TimesStat        // by "total", "cpu0", …
	prevNet  map[string]psnet.IOCountersStat // by interface name
	prevDisk diskBytes
	diskOK   bool
}

type diskBytes struct{ read, write uint64 }

// Data shapes, encoded as documented on HostMetrics.
type (
	loadData struct {
		Load1  float64 `json:"load1"`
		Load5  float64 `json:"load5"`
		Load15 float64 `json:"load15"`
	}
	memData struct {
		UsedPct   float64 `json:"used_pct"`
		Used      uint64  `json:"used"`
		Available uint64  `json:"available"`
		Total     uint64  `json:"total"`
		SwapUsed  uint64  `json:"swap_used"`
		SwapTotal uint64  `json:"swap_total"`
	}
	netData struct {
		RxBps float64 `json:"rx_bps"`
		TxBps float64 `json:"tx_bps"`
	}
	diskData struct {
		ReadBps  float64 `json:"read_bps"`
		WriteBps float64 `json:"write_bps"`
	}
	fsData struct {
		UsedPct float64 `json:"used_pct"`
		Used    uint64  `json:"used"`
		Total   uint64  `json:"total"`
	}
	selfData struct {
		RSS         uint64 `json:"rss"`
		Goroutines  int    `json:"goroutines"`
		Connections int    `json:"connections"`
	}
)

// sample reads every source and returns the batch to publish. The first
// call only records counters for the rates and returns nothing useful for
// rate topics.
func (s *hostSampler) sample(ctx context.Context, at time.Time) []livedash.Message {
	ts := at.UnixMilli()
	var msgs []livedash.Message
	add := func(suffix string, data any) {
		m, err := newMessage(s.prefix+suffix, livedash.TypePoint, ts, data)
		if err != nil {
			s.warnOnce("topic "+suffix, err)
			return
		}
		msgs = append(msgs, m)
	}
	var elapsed float64 // seconds since the previous sample, 0 on the first
	if s.primed {
		elapsed = at.Sub(s.prevAt).Seconds()
	}

	if pct, ok := s.cpuPercent(ctx); ok {
		add("cpu", pct)
	}
	if avg, err := load.AvgWithContext(ctx); err != nil {
		s.warnOnce("load", err)
	} else {
		add("load", loadData{round(avg.Load1, 2), round(avg.Load5, 2), round(avg.Load15, 2)})
	}
	if vm, err := mem.VirtualMemoryWithContext(ctx); err != nil {
		s.warnOnce("mem", err)
	} else {
		d := memData{UsedPct: round(vm.UsedPercent, 2), Used: vm.Used, Available: vm.Available, Total: vm.Total}
		if sw, err := mem.SwapMemoryWithContext(ctx); err != nil {
			s.warnOnce("swap", err)
		} else {
			d.SwapUsed, d.SwapTotal = sw.Used, sw.Total
		}
		add("mem", d)
	}
	for _, n := range s.netRates(ctx, elapsed) {
		add("net."+n.name, n.data)
	}
	if d, ok := s.diskRates(ctx, elapsed); ok {
		add("disk", d)
	}
	for _, f := range s.filesystems(ctx) {
		add("fs."+f.name, f.data)
	}
	if pids, err := process.PidsWithContext(ctx); err != nil {
		s.warnOnce("procs", err)
	} else {
		add("procs", len(pids))
	}
	self := selfData{Goroutines: runtime.NumGoroutine()}
	if s.self != nil {
		if mi, err := s.self.MemoryInfoWithContext(ctx); err != nil {
			s.warnOnce("rss", err)
		} else {
			self.RSS = mi.RSS
		}
	}
	if s.connections != nil {
		self.Connections = s.connections()
	}
	add("livedash", self)

	s.primed = true
	s.prevAt = at
	return msgs
}

// cpuPercent returns the busy percentage of the whole machine ("total")
// and of each CPU since the previous call, computed from cumulative CPU
// times. It reports false on the first call and on failure.
func (s *hostSampler) cpuPercent(ctx context.Context) (map[string]float64, bool) {
	perCPU, err := cpu.TimesWithContext(ctx, true)
	if err != nil {
		s.warnOnce("cpu", err)
		return nil, false
	}
	total, err := cpu.TimesWithContext(ctx, false)
	if err != nil || len(total) == 0 {
		s.warnOnce("cpu", fmt.Errorf("total cpu times: %v", err))
		return nil, false
	}
	cur := make(map[string]cpu.TimesStat, len(perCPU)+1)
	cur["total"] = total[0]
	for _, t := range perCPU {
		cur[sanitizeSegment(t.CPU, 32, "cpu")] = t
	}
	prev := s.prevCPU
	s.prevCPU = cur
	if prev == nil {
		return nil, false
	}
	pct := make(map[string]float64, len(cur))
	for name, t := range cur {
		if p, ok := prev[name]; ok {
			pct[name] = round(busyPercent(p, t), 2)
		}
	}
	return pct, true
}

// busyPercent is the share of CPU time between two readings that was not
// idle or waiting for I/O, in [0, 100]. Guest time is already counted in
// user time on Linux, so it is left out of the total.
func busyPercent(before, after cpu.TimesStat) float64 {
	all := func(t cpu.TimesStat) float64 {
		return t.User + t.System + t.Idle + t.Nice + t.Iowait + t.Irq + t.Softirq + t.Steal
	}
	idle := func(t cpu.TimesStat) float64 { return t.Idle + t.Iowait }
	dAll := all(after) - all(before)
	dIdle := idle(after) - idle(before)
	if dAll <= 0 {
		return 0
	}
	return math.Min(100, math.Max(0, (dAll-dIdle)/dAll*100))
}

type namedNet struct {
	name string
	data netData
}

// netRates returns the receive and send rates of each interface with
// traffic, loopback excluded, sorted by name. Interfaces new since the
// previous sample, or whose counters went backwards, are skipped once.
func (s *hostSampler) netRates(ctx context.Context, elapsed float64) []namedNet {
	counters, err := psnet.IOCountersWithContext(ctx, true)
	if err != nil {
		s.warnOnce("net", err)
		return nil
	}
	prev := s.prevNet
	s.prevNet = make(map[string]psnet.IOCountersStat, len(counters))
	var out []namedNet
	for _, c := range counters {
		if isLoopback(c.Name) || c.BytesRecv == 0 && c.BytesSent == 0 {
			continue
		}
		s.prevNet[c.Name] = c
		p, ok := prev[c.Name]
		if !ok || elapsed <= 0 || c.BytesRecv < p.BytesRecv || c.BytesSent < p.BytesSent {
			continue
		}
		out = append(out, namedNet{
			name: sanitizeSegment(c.Name, 64, "iface"),
			data: netData{
				RxBps: round(float64(c.BytesRecv-p.BytesRecv)/elapsed, 1),
				TxBps: round(float64(c.BytesSent-p.BytesSent)/elapsed, 1),
			},
		})
	}
	slices.SortFunc(out, func(a, b namedNet) int { return strings.Compare(a.name, b.name) })
	return out
}

func isLoopback(iface string) bool {
	return iface == "lo" || strings.HasPrefix(iface, "lo0") || strings.EqualFold(iface, "loopback")
}

// diskRates returns the read and write rates summed over whole disks.
func (s *hostSampler) diskRates(ctx context.Context, elapsed float64) (diskData, bool) {
	counters, err := disk.IOCountersWithContext(ctx)
	if err != nil {
		s.warnOnce("disk", err)
		s.diskOK = false
		return diskData{}, false
	}
	names := make([]string, 0, len(counters))
	for name := range counters {
		names = append(names, name)
	}
	var cur diskBytes
	for _, name := range wholeDisks(names) {
		cur.read += counters[name].ReadBytes
		cur.write += counters[name].WriteBytes
	}
	prev, prevOK := s.prevDisk, s.diskOK
	s.prevDisk, s.diskOK = cur, true
	if !prevOK || elapsed <= 0 || cur.read < prev.read || cur.write < prev.write {
		return diskData{}, false
	}
	return diskData{
		ReadBps:  round(float64(cur.read-prev.read)/elapsed, 1),
		WriteBps: round(float64(cur.write-prev.write)/elapsed, 1),
	}, true
}

// wholeDisks keeps the block devices whose bytes are not counted by another
// device too: it drops partitions (sda1 of sda, nvme0n1p1 of nvme0n1,
// mmcblk0p1 of mmcblk0, disk0s1 of disk0) and virtual devices layered on
// disks or memory (loop, ram, zram, dm-, md). The result is sorted.
func wholeDisks(names []string) []string {
	present := make(map[string]bool, len(names))
	for _, n := range names {
		present[n] = true
	}
	var out []string
	for _, n := range names {
		if isVirtualDisk(n) || isPartition(n, present) {
			continue
		}
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

func isVirtualDisk(name string) bool {
	for _, p := range []string{"loop", "ram", "zram", "dm-", "md", "fd", "sr"} {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

// isPartition reports whether name is a partition of another present
// device: the device name followed by a number, or, when the device name
// ends in a digit, by "p" or "s" and a number.
func isPartition(name string, present map[string]bool) bool {
	end := len(name)
	for end > 0 && name[end-1] >= '0' && name[end-1] <= '9' {
		end--
	}
	if end == len(name) || end == 0 {
		return false
	}
	parent := name[:end]
	if present[parent] && !endsInDigit(parent) {
		return true // sda1
	}
	if c := parent[len(parent)-1]; c == 'p' || c == 's' {
		grand := parent[:len(parent)-1]
		return present[grand] && endsInDigit(grand) // nvme0n1p1, disk0s1
	}
	return false
}

func endsInDigit(s string) bool {
	return s != "" && s[len(s)-1] >= '0' && s[len(s)-1] <= '9'
}

// isRealFilesystem reports whether a file system type is reported under
// fs.<mount>: local, on-disk ones. Network file systems are left out, as a
// hung server would block the sampler.
func isRealFilesystem(fstype string) bool {
	switch fstype {
	case "ext2", "ext3", "ext4", "xfs", "btrfs", "zfs", "f2fs", "jfs", "reiserfs",
		"bcachefs", "nilfs2", "vfat", "msdos", "exfat", "ntfs", "ntfs3", "fuseblk",
		"apfs", "hfs", "ufs":
		return true
	}
	return false
}

type namedFS struct {
	name string
	data fsData
}

// filesystems returns the usage of each real file system, one per device,
// named after its shortest mount point, sorted by name.
func (s *hostSampler) filesystems(ctx context.Context) []namedFS {
	parts, err := disk.PartitionsWithContext(ctx, true)
	if err != nil && len(parts) == 0 {
		s.warnOnce("fs", err)
		return nil
	}
	mounts := realMounts(parts)
	out := make([]namedFS, 0, len(mounts))
	for _, mp := range mounts {
		u, err := disk.UsageWithContext(ctx, mp)
		if err != nil || u.Total == 0 {
			continue
		}
		out = append(out, namedFS{
			name: MountSegment(mp),
			data: fsData{UsedPct: round(u.UsedPercent, 2), Used: u.Used, Total: u.Total},
		})
	}
	slices.SortFunc(out, func(a, b namedFS) int { return strings.Compare(a.name, b.name) })
	return slices.CompactFunc(out, func(a, b namedFS) bool { return a.name == b.name })
}

// realMounts picks the mount points of real file systems: an allowed type
// (or an overlay on /), a directory (not a bind-mounted file), and for each
// device only the shortest mount point, so bind mounts are not repeated.
func realMounts(parts []disk.PartitionStat) []string {
	byDevice := map[string]string{}
	for _, p := range parts {
		if !isRealFilesystem(p.Fstype) && !(p.Fstype == "overlay" && p.Mountpoint == "/") {
			continue
		}
		if fi, err := os.Stat(p.Mountpoint); err != nil || !fi.IsDir() {
			continue
		}
		key := p.Device
		if cur, ok := byDevice[key]; !ok || len(p.Mountpoint) < len(cur) {
			byDevice[key] = p.Mountpoint
		}
	}
	mounts := make([]string, 0, len(byDevice))
	for _, mp := range byDevice {
		mounts = append(mounts, mp)
	}
	slices.Sort(mounts)
	return mounts
}

// MountSegment names a mount point as one topic segment: "/" is "root",
// others lose their leading and trailing slashes and have every character
// outside [A-Za-z0-9_-] replaced by '-' ("/var/lib" is "var-lib").
func MountSegment(mountpoint string) string {
	trimmed := strings.Trim(mountpoint, `/\`)
	if trimmed == "" {
		return "root"
	}
	return sanitizeSegment(trimmed, 64, "root")
}

func (s *hostSampler) warnOnce(source string, err error) {
	if s.warned[source] {
		return
	}
	s.warned[source] = true
	s.log.Warn("host metrics: source unavailable; left out", "source", source, "err", err)
}

// round rounds f to the given number of decimals.
func round(f float64, decimals int) float64 {
	p := math.Pow10(decimals)
	return math.Round(f*p) / p
}
