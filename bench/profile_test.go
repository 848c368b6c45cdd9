package bench_test

import (
	"context"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"testing"
	"time"

	"github.com/livedash/livedash/bench"
)

// The tests below run only with LIVEDASH_PROFILE=1: they run a scenario
// at full size against the in-process server so that `go test -cpuprofile`
// (or the profiles they write) show where the server's time and memory go,
// and fail when the run did not do what it was asked (a profile of a run
// that lost messages or connections is a profile of something else).
// The server's goroutines are those under net/http.(*conn).serve; the load
// generator's are under bench.
//
//	LIVEDASH_PROFILE=1 go test -run TestProfileFanout -count=1 -cpuprofile /tmp/cpu.out ./bench/
//	go tool pprof -top -focus 'net/http.\(\*conn\).serve|sqlite|hub' bench.test /tmp/cpu.out
func profiling(t *testing.T) {
	if os.Getenv("LIVEDASH_PROFILE") == "" {
		t.Skip("set LIVEDASH_PROFILE=1 to run")
	}
}

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil {
		return n
	}
	return def
}

func TestProfileFanout(t *testing.T) {
	profiling(t)
	url, tok := newServer(t)
	subs, msgs := envInt("SUBS", 1000), envInt("MESSAGES", 1000)
	res := run(t, bench.Options{URL: url, Token: tok, Scenario: "fanout",
		Subs: subs, Messages: msgs, Rate: float64(envInt("RATE", 100))})
	t.Logf("delivered %d/%d lost %d, %.0f deliveries/s, latency %s, publish %.1f/s", res.Delivered, res.Expected, res.Lost, res.DeliveriesPerS, res.Latency, res.PublishRate)
	connectedAll(t, res, subs)
	if want := int64(subs * msgs); res.Published != int64(msgs) || res.Expected != want || res.Delivered != want || res.Lost+res.Duplicated+res.OutOfOrder+res.Invalid != 0 {
		t.Errorf("published %d/%d, delivered %d/%d (lost %d, dup %d, ooo %d, invalid %d)", res.Published, msgs, res.Delivered, want, res.Lost, res.Duplicated, res.OutOfOrder, res.Invalid)
	}
}

// TestProfileIdle holds SUBS idle streams and writes a goroutine and a heap
// profile to PROFILE_DIR (default the temp dir) while they are open.
func TestProfileIdle(t *testing.T) {
	profiling(t)
	url, tok := newServer(t)
	dir := os.Getenv("PROFILE_DIR")
	if dir == "" {
		dir = os.TempDir()
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	hold, subs := 5*time.Second, envInt("SUBS", 2000)
	done := make(chan *bench.Result)
	go func() {
		res, err := bench.Run(ctx, bench.Options{URL: url, Token: tok, Scenario: "idle", Subs: subs, Hold: hold})
		if err != nil {
			t.Error(err)
		}
		done <- res
	}()
	time.Sleep(hold / 2)
	runtime.GC()
	for _, p := range []string{"goroutine", "heap"} {
		f, err := os.Create(dir + "/idle-" + p + ".pprof")
		if err != nil {
			t.Fatal(err)
		}
		pprof.Lookup(p).WriteTo(f, 0)
		f.Close()
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	t.Logf("goroutines %d, stack in use %d MiB, heap in use %d MiB (server and load generator together)", runtime.NumGoroutine(), ms.StackInuse>>20, ms.HeapInuse>>20)
	res := <-done
	if res == nil {
		t.FailNow()
	}
	connectedAll(t, res, subs)
	if res.Disconnects != 0 {
		t.Errorf("%d streams ended while held", res.Disconnects)
	}
}

func TestProfilePublish(t *testing.T) {
	profiling(t)
	url, tok := newServer(t)
	res := run(t, bench.Options{URL: url, Token: tok, Scenario: "publish",
		Conc: envInt("CONC", 16), Batch: envInt("BATCH", 1), Duration: time.Duration(envInt("SECONDS", 10)) * time.Second})
	t.Logf("acknowledged %d (%.0f/s), latency %s", res.Acknowledged, res.AcknowledgedPS, res.RequestLatency)
	if res.Requests == 0 || res.RequestErrors != 0 || res.Acknowledged != res.Requests*int64(max(1, envInt("BATCH", 1))) {
		t.Errorf("requests %d (%d errors), acknowledged %d: %+v", res.Requests, res.RequestErrors, res.Acknowledged, res.Errors)
	}
}

// connectedAll fails t unless every one of subs streams connected.
func connectedAll(t *testing.T, res *bench.Result, subs int) {
	t.Helper()
	if res.Connected != subs || res.ConnectErrors != 0 {
		t.Errorf("connected %d/%d, %d errors: %+v", res.Connected, subs, res.ConnectErrors, res.Errors)
	}
}
