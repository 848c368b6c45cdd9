package bench

import (
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/livedash/livedash/sse"
)

func envelope(topic string, seq int, sent int64) string {
	return fmt.Sprintf(`{"id":"%d-e","topic":"%s","type":"event","ts":1,"data":{"seq":%d,"sent":%d}}`, seq+1, topic, seq, sent)
}

// TestVerifierCountsProblems feeds a stream with a duplicate, a gap, an
// out-of-order message and junk, and checks each is counted as such.
func TestVerifierCountsProblems(t *testing.T) {
	const topic = "bench.fanout.x"
	v := NewVerifier(topic, 8)
	now := time.Now().UnixNano()
	feed := []struct {
		b    string
		want Verdict
	}{
		{envelope(topic, 0, now-1e6), Delivered},
		{envelope(topic, 1, now-1e6), Delivered},
		{envelope(topic, 1, now-1e6), Duplicate},
		{envelope(topic, 3, now-1e6), Delivered}, // gap: 2 missing for now
		{envelope(topic, 5, now-1e6), Delivered}, // gap: 4 missing for good
		{envelope(topic, 2, now-1e6), OutOfOrder},
		{envelope(topic, 2, now-1e6), Duplicate},
		{envelope("bench.other", 6, now), Invalid},
		{envelope(topic, 8, now), Invalid}, // never published
		{`{"topic":"` + topic + `","data":{"sent":1}}`, Invalid},
		{`{not json`, Invalid},
		{envelope(topic, 7, now-1e6), Delivered},
	}
	for i, f := range feed {
		if got := v.Receive([]byte(f.b), now); got != f.want {
			t.Errorf("message %d: verdict %d, want %d", i, got, f.want)
		}
	}
	acked := []bool{true, true, true, true, true, true, true, true}
	acked[6] = false // a failed publish is not expected
	c := v.Counts(acked)
	want := Counts{Delivered: 6, Lost: 1, Duplicated: 2, OutOfOrder: 1, Invalid: 4}
	if c != want {
		t.Errorf("counts %+v, want %+v", c, want)
	}
	p := percentiles(v.latency)
	if p.Count != 6 || p.P50 != 1 || p.Max != 1 {
		t.Errorf("latency %+v, want 6 of 1 ms", p)
	}
}

func TestPercentiles(t *testing.T) {
	ns := make([]int64, 1000)
	for i := range ns {
		ns[len(ns)-1-i] = int64(i+1) * 1e6 // 1…1000 ms, reversed
	}
	p := percentiles(ns)
	if p.P50 != 500 || p.P90 != 900 || p.P99 != 990 || p.P999 != 999 || p.Max != 1000 || p.Mean != 500.5 {
		t.Errorf("%+v", p)
	}
	if percentiles(nil) != nil {
		t.Error("percentiles of nothing")
	}
}

// sseTestStream is a stream with every kind of line the SSE parser handles.
func sseTestStream() string {
	return "retry: 2000\n\n: ping\n\nid: 1-e\nevent: point\ndata: {\"a\":1}\n\n" +
		"event: reset\ndata: {\"topics\":[\"a\"]}\n\n" +
		"id: 2-e\r\ndata: " + strings.Repeat("y", 300) + "\r\n\r\n" +
		"id: 3-e\ndata: a\ndata: b\n\n"
}

func parseAll(t *testing.T, pieces []string, chunked bool) string {
	t.Helper()
	var got []string
	p := &sse.Parser{Event: func(typ, id, data []byte) error {
		got = append(got, fmt.Sprintf("%s|%s|%q", typ, id, data))
		return nil
	}}
	var cd chunkDecoder
	for _, piece := range pieces {
		var err error
		if chunked {
			err = cd.feed([]byte(piece), p.Feed)
		} else {
			err = p.Feed([]byte(piece))
		}
		if err != nil && err != io.EOF {
			t.Fatalf("feed %q: %v", piece, err)
		}
	}
	return strings.Join(got, "\n")
}

// chunk encodes s as HTTP chunks of the given size, with a last chunk.
func chunk(s string, size int) string {
	var b strings.Builder
	for len(s) > 0 {
		n := min(size, len(s))
		fmt.Fprintf(&b, "%x;ext=1\r\n%s\r\n", n, s[:n])
		s = s[n:]
	}
	return b.String() + "0\r\n\r\n"
}

// TestSSEParserAnySplit: the events are the same whether the stream comes
// whole, split at any one byte, or one byte at a time; raw or chunked
// (chunks of several sizes, also split anywhere).
func TestSSEParserAnySplit(t *testing.T) {
	in := sseTestStream()
	want := parseAll(t, []string{in}, false)
	if strings.Count(want, "\n") != 3 {
		t.Fatalf("whole stream gave %s", want)
	}
	bytewise := func(s string) []string { return strings.Split(s, "") }
	if got := parseAll(t, bytewise(in), false); got != want {
		t.Fatalf("byte by byte:\n%s\nwant\n%s", got, want)
	}
	for i := range in {
		if got := parseAll(t, []string{in[:i], in[i:]}, false); got != want {
			t.Fatalf("split at %d:\n%s\nwant\n%s", i, got, want)
		}
	}
	for _, size := range []int{1, 7, 64, 4096} {
		enc := chunk(in, size)
		if got := parseAll(t, []string{enc}, true); got != want {
			t.Fatalf("chunks of %d:\n%s\nwant\n%s", size, got, want)
		}
		if got := parseAll(t, bytewise(enc), true); got != want {
			t.Fatalf("chunks of %d byte by byte:\n%s\nwant\n%s", size, got, want)
		}
	}
}

// TestChunkDecoderErrors: a bad size or a missing CRLF is an error, and
// the last chunk ends the body with io.EOF.
func TestChunkDecoderErrors(t *testing.T) {
	discard := func([]byte) error { return nil }
	for _, bad := range []string{"zz\r\nab\r\n", "-1\r\n", "2\r\nabXY", strings.Repeat("1", 5000)} {
		var d chunkDecoder
		if err := d.feed([]byte(bad), discard); err == nil || err == io.EOF {
			t.Errorf("%.20q: %v, want an error", bad, err)
		}
	}
	var d chunkDecoder
	var body strings.Builder
	err := d.feed([]byte("3\r\nabc\r\n0\r\n\r\n"), func(b []byte) error { body.Write(b); return nil })
	if err != io.EOF || body.String() != "abc" {
		t.Errorf("body %q, end %v", body.String(), err)
	}
}

func TestParseFrame(t *testing.T) {
	for _, tc := range []struct {
		in   string
		ok   bool
		want string // fmt of id topic seq sent
	}{
		{envelope("a.b", 3, 99), true, "4-e a.b 3 99"},
		{`{"op":"message","id":"4-e","topic":"a.b","type":"event","ts":1,"data":{"seq":4,"sent":7}}`, true, "4-e a.b 4 7"},
		{`{"topic":"a.b","id":"5-e","data":{"sent":7,"seq":5}}`, true, "5-e a.b 5 7"}, // other order: slow path
		{`{"id":"6-e","topic":"a.b","type":"event","ts":1,"data":{"seq":6,"sent":7}`, false, ""},
		{`{"id":"6-e","topic":"a.b","type":"event","ts":1,"data":{"seq":6,"sent":7}}x`, false, ""},
		{`{"id":"7-e","topic":"a\"b","type":"event","ts":1,"data":{"seq":7,"sent":7}}`, true, "7-e a\"b 7 7"},
	} {
		var f frame
		ok := parseFrame([]byte(tc.in), &f)
		if ok != tc.ok {
			t.Errorf("%s: ok %v", tc.in, ok)
			continue
		}
		if ok {
			got := fmt.Sprint(f.ID, " ", f.Topic, " ", *f.Data.Seq, " ", f.Data.Sent)
			if got != tc.want {
				t.Errorf("%s: got %q, want %q", tc.in, got, tc.want)
			}
		}
	}
}
