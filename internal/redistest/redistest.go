// Package redistest runs a real redis-server on a free loopback port for
// tests (the cluster tests of cmd/livedash and those of redisbroker). A
// test is skipped when redis-server is not installed, and fails instead
// when CI is set (.ci/run installs it).
package redistest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"
)

// Server is a redis-server started by a test and stopped at its end. It
// persists to an append-only file in Dir, so Restart keeps the data.
type Server struct {
	Dir string

	t    testing.TB
	path string
	port int
	cmd  *exec.Cmd
	done chan struct{}
}

// Start starts a redis-server for t.
func Start(t testing.TB) *Server {
	t.Helper()
	path, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("redis-server is not installed (.ci/run installs it)")
		}
		t.Skip("redis-server is not installed; apt-get install redis-server")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	r := &Server{t: t, path: path, port: port, Dir: t.TempDir()}
	r.Start()
	t.Cleanup(r.Stop)
	return r
}

// Start starts the server again after Stop, on the same port and Dir,
// and waits until it accepts connections.
func (r *Server) Start() {
	r.t.Helper()
	r.cmd = exec.Command(r.path, "--port", fmt.Sprint(r.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "yes",
		"--appendfsync", "always", "--dir", r.Dir)
	r.done = make(chan struct{})
	if err := r.cmd.Start(); err != nil {
		r.t.Fatal(err)
	}
	go func() { r.cmd.Wait(); close(r.done) }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.Dial("tcp", r.Addr())
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("redis-server did not start: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Stop stops the server (SIGTERM, then SIGKILL after 5 s).
func (r *Server) Stop() {
	if r.cmd != nil && r.cmd.Process != nil {
		r.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-r.done:
		case <-time.After(5 * time.Second):
			r.cmd.Process.Kill()
			<-r.done
		}
	}
}

// Restart stops and starts the server; its data survives.
func (r *Server) Restart() {
	r.Stop()
	r.Start()
}

// Addr is the server's host:port.
func (r *Server) Addr() string { return fmt.Sprintf("127.0.0.1:%d", r.port) }

// URL is the server's redis:// URL.
func (r *Server) URL() string { return "redis://" + r.Addr() }
