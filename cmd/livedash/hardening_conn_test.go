package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// serve builds its server from the config's limits: past max_connections a
// connection is closed unanswered, and idle_timeout closes an idle one.
func TestServeAppliesConnectionLimits(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "livedash.yaml")
	if err := os.WriteFile(cfg, []byte("limits: {max_connections: 1, idle_timeout: 300ms}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := startServerArgs(t, t.TempDir(), "127.0.0.1:0", []string{"--config", cfg}, "LIVEDASH_SECRET="+e2eSecret)
	http.DefaultClient.CloseIdleConnections() // the start-up health check's

	// get sends one request on a new connection; the connection stays open
	// when it is answered.
	get := func() (net.Conn, *bufio.Reader, error) {
		c, err := net.Dial("tcp", s.addr())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		fmt.Fprintf(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		br := bufio.NewReader(c)
		resp, err := http.ReadResponse(br, nil)
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Fatal("no answer and no close within 5s")
		}
		if err != nil {
			c.Close()
			return nil, nil, err
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return c, br, nil
	}
	var a net.Conn
	var br *bufio.Reader
	deadline := time.Now().Add(5 * time.Second)
	for a == nil {
		a, br, _ = get() // the health check's connection may hold the place a moment
		if a == nil && time.Now().After(deadline) {
			t.Fatal("no connection served")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if c, _, err := get(); err == nil {
		c.Close()
		t.Fatal("a second connection was served with max_connections 1")
	}
	a.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := br.ReadByte(); !errors.Is(err, io.EOF) {
		t.Fatalf("the idle connection was not closed by the server: %v", err)
	}
	deadline = time.Now().Add(5 * time.Second)
	for {
		if c, _, err := get(); err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the place of the closed connection was not freed")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
