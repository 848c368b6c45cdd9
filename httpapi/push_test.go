package httpapi_test

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/livedash/livedash/push"
)

// pooledSSE reports whether this run's SSE streams go to the pool.
func pooledSSE() bool {
	return push.Supported() && os.Getenv("LIVEDASH_TEST_SSE_GOROUTINES") != "1"
}

// pooled skips a test of the pooled SSE engine where it does not run.
func pooled(t *testing.T) {
	t.Helper()
	if !pooledSSE() {
		t.Skip("SSE streams are not pooled in this run (not Linux, or LIVEDASH_TEST_SSE_GOROUTINES=1)")
	}
}

// TestPooledSSEResponse: a pooled stream is an HTTP/1.1 response with no
// length and no chunking, ended by closing the connection, carrying the
// same headers (request id included) as any other response.
func TestPooledSSEResponse(t *testing.T) {
	pooled(t)
	e := newEnv(t)
	ids := e.publish("p.a", 2)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, e.url+"/api/v1/stream?topic=p.a&token="+e.admin, nil)
	req.Header.Set("X-Request-ID", "pooled-1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.ContentLength != -1 || len(resp.TransferEncoding) != 0 || !resp.Close {
		t.Fatalf("status %d, length %d, transfer encoding %v, close %v: want 200, a close-delimited body",
			resp.StatusCode, resp.ContentLength, resp.TransferEncoding, resp.Close)
	}
	if got := resp.Header.Get("X-Request-ID"); got != "pooled-1" {
		t.Fatalf("X-Request-ID %q", got)
	}
	if resp.Header.Get("Date") == "" {
		t.Fatal("no Date header")
	}
	c := &sseConn{resp: resp, sc: bufio.NewScanner(resp.Body), cancel: cancel}
	if got := c.collect(t, 2); got[0] != ids[0] || got[1] != ids[1] {
		t.Fatalf("history %v, want %v", got, ids)
	}
	live := e.publish("p.a", 3)
	if got := c.collect(t, 3); strings.Join(got, ",") != strings.Join(live, ",") {
		t.Fatalf("live %v, want %v", got, live)
	}
}

// TestPooledSSEIgnoresClientBytes: bytes a client sends on an open stream
// (a pipelined request, say) neither end it nor confuse it; hanging up
// does end it and frees its subscription.
func TestPooledSSEIgnoresClientBytes(t *testing.T) {
	pooled(t)
	e := newEnv(t)
	conn := e.rawStream("topic=q.a&backlog=0&token=" + e.admin)
	br := bufio.NewReader(conn)
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	status, err := br.ReadString('\n')
	if err != nil || !strings.HasPrefix(status, "HTTP/1.1 200") {
		t.Fatalf("status line %q, %v", status, err)
	}
	waitFor(t, func() bool { return e.hub.Subscribers() == 1 }, "the subscriber")
	fmt.Fprintf(conn, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
	ids := e.publish("q.a", 1)
	var got strings.Builder
	for !strings.Contains(got.String(), "id: "+ids[0]+"\n") {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatalf("stream ended after the client sent bytes: %v (got %q)", err, got.String())
		}
		got.WriteString(line)
	}
	conn.Close()
	waitFor(t, func() bool { return e.hub.Subscribers() == 0 }, "the hung-up stream to be dropped")
}
