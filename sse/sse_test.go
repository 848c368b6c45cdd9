package sse

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"
)

// testStream has every kind of line the parser handles: retry, a
// comment, named and unnamed events, an event without an id, CRLF line
// ends, a long line and multi-line data.
func testStream(long string) string {
	return "retry: 2000\n\n: ping\n\nid: 1-e\nevent: point\ndata: {\"a\":1}\n\n" +
		"event: reset\ndata: {\"topics\":[\"a\"]}\n\n" +
		"id: 2-e\r\ndata: " + long + "\r\n\r\n" +
		"id: 3-e\ndata: a\ndata: b\n\n"
}

func TestReadStream(t *testing.T) {
	long := strings.Repeat("x", 3*64)
	type ev struct{ typ, id, data string }
	var got []ev
	retry := time.Second
	p := &Parser{Retry: &retry, Event: func(typ, id, data []byte) error {
		got = append(got, ev{string(typ), string(id), string(data)})
		return nil
	}}
	err := p.ReadStream(strings.NewReader(testStream(long)), 64)
	if err != io.ErrUnexpectedEOF {
		t.Errorf("end: %v", err)
	}
	want := []ev{{"point", "1-e", `{"a":1}`}, {"reset", "1-e", `{"topics":["a"]}`}, {"", "2-e", long}, {"", "3-e", "a\nb"}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("events\n%v\nwant\n%v", got, want)
	}
	if retry != 2*time.Second {
		t.Errorf("retry %v", retry)
	}
}

// TestEventErrorStops: an error from Event ends the parse with it, and
// the events after it are not delivered.
func TestEventErrorStops(t *testing.T) {
	stop := errors.New("stop")
	n := 0
	p := &Parser{Event: func(typ, id, data []byte) error { n++; return stop }}
	if err := p.ReadStream(strings.NewReader(testStream("y")), 4096); err != stop {
		t.Errorf("end: %v, want stop", err)
	}
	if n != 1 {
		t.Errorf("%d events after the error, want 1", n)
	}
}

// TestMaxLine: a line over MaxLine is an error whether it comes whole or
// in pieces; a line of exactly MaxLine is not.
func TestMaxLine(t *testing.T) {
	nop := func(typ, id, data []byte) error { return nil }
	ok := "data: " + strings.Repeat("x", 94) + "\n\n" // a 100-byte line
	for _, size := range []int{1, 7, 4096} {
		p := &Parser{Event: nop, MaxLine: 100}
		if err := p.ReadStream(strings.NewReader(ok), size); err != io.ErrUnexpectedEOF {
			t.Errorf("100 bytes in reads of %d: %v", size, err)
		}
		p = &Parser{Event: nop, MaxLine: 100}
		if err := p.ReadStream(strings.NewReader("data: "+strings.Repeat("x", 95)+"\n\n"), size); err != ErrLineTooLong {
			t.Errorf("101 bytes in reads of %d: %v, want ErrLineTooLong", size, err)
		}
	}
}

func parseAll(t *testing.T, pieces []string) string {
	t.Helper()
	var got []string
	p := &Parser{Event: func(typ, id, data []byte) error {
		got = append(got, fmt.Sprintf("%s|%s|%q", typ, id, data))
		return nil
	}}
	for _, piece := range pieces {
		if err := p.Feed([]byte(piece)); err != nil {
			t.Fatalf("feed %q: %v", piece, err)
		}
	}
	return strings.Join(got, "\n")
}

// TestFeedAnySplit: the events are the same whether the stream comes
// whole, split at any one byte, or one byte at a time.
func TestFeedAnySplit(t *testing.T) {
	in := testStream(strings.Repeat("y", 300))
	want := parseAll(t, []string{in})
	if strings.Count(want, "\n") != 3 {
		t.Fatalf("whole stream gave %s", want)
	}
	if got := parseAll(t, strings.Split(in, "")); got != want {
		t.Fatalf("byte by byte:\n%s\nwant\n%s", got, want)
	}
	for i := range in {
		if got := parseAll(t, []string{in[:i], in[i:]}); got != want {
			t.Fatalf("split at %d:\n%s\nwant\n%s", i, got, want)
		}
	}
}

// TestFeedAllocs: once its buffers have grown, the parser allocates
// nothing, also for lines split between feeds (the bench's hot path).
func TestFeedAllocs(t *testing.T) {
	pieces := benchPieces()
	p := &Parser{Event: func(typ, id, data []byte) error { return nil }}
	for _, b := range pieces {
		p.Feed(b)
	}
	allocs := testing.AllocsPerRun(20, func() {
		for _, b := range pieces {
			if err := p.Feed(b); err != nil {
				t.Fatal(err)
			}
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per stream", allocs)
	}
}

// benchPieces is 64 KiB of bench-like events (as the stream sends a bench
// message) cut into the 2 KiB reads of the bench's subscribers, so most
// reads end inside a line.
func benchPieces() [][]byte {
	var b strings.Builder
	for seq := 1; b.Len() < 64<<10; seq++ {
		fmt.Fprintf(&b, "id: %d-e\nevent: event\ndata: {\"id\":\"%d-e\",\"topic\":\"bench.t\",\"type\":\"event\",\"ts\":1764579600000,\"data\":{\"seq\":%d,\"sent\":1764579600000123456}}\n\n", seq, seq, seq)
		if seq%50 == 0 {
			b.WriteString(": ping\n\n")
		}
	}
	s := []byte(b.String())
	var pieces [][]byte
	for len(s) > 0 {
		n := min(2048, len(s))
		pieces, s = append(pieces, s[:n]), s[n:]
	}
	return pieces
}

// BenchmarkFeed parses the bench load; one op is one 64 KiB stream.
func BenchmarkFeed(b *testing.B) {
	pieces := benchPieces()
	events := 0
	p := &Parser{Event: func(typ, id, data []byte) error { events++; return nil }}
	b.SetBytes(64 << 10)
	b.ReportAllocs()
	for b.Loop() {
		for _, piece := range pieces {
			if err := p.Feed(piece); err != nil {
				b.Fatal(err)
			}
		}
	}
	if events == 0 {
		b.Fatal("no events")
	}
}
