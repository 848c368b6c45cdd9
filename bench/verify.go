package bench

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"sync/atomic"
)

// payload is the data of a bench message: its sequence number in the run
// and its send time (unix ns, the publisher's clock; the subscribers are on
// the same machine).
type payload struct {
	Seq  *int64 `json:"seq"`
	Sent int64  `json:"sent"`
}

// appendPublishBody appends the publish request body of message seq.
func appendPublishBody(b []byte, topic string, seq, sent int64) []byte {
	b = append(b, `{"topic":"`...)
	b = append(b, topic...)
	b = append(b, `","type":"event","data":{"seq":`...)
	b = strconv.AppendInt(b, seq, 10)
	b = append(b, `,"sent":`...)
	b = strconv.AppendInt(b, sent, 10)
	return append(b, "}}"...)
}

// frame is the fields a subscriber reads of what it receives: an SSE data
// line (an envelope) or a WebSocket frame (op plus envelope fields).
type frame struct {
	Op    string   `json:"op"`
	Ref   int64    `json:"ref"`
	ID    string   `json:"id"`
	Topic string   `json:"topic"`
	Data  *payload `json:"data"`
	Code  string   `json:"code"`
	Msg   string   `json:"message"`
}

// Verdict is what a verifier made of one message.
type Verdict int

const (
	Delivered  Verdict = iota // a new sequence number, in id order
	OutOfOrder                // a new sequence number whose server id is below one already seen (also delivered)
	Duplicate                 // a sequence number seen before
	Invalid                   // not JSON, another topic, or no or an unknown sequence number
)

// Verifier checks and counts the messages one subscriber receives in a
// fan-out run of n messages (sequence numbers 0…n-1). It is used by one
// goroutine; Delivered may be read from others.
type Verifier struct {
	topic string
	n     int64
	seen  []uint64 // bit per sequence number
	topID uint64   // highest server id (its sequence part) delivered

	delivered  atomic.Int64
	duplicated int64
	outOfOrder int64
	invalid    int64
	lastRecv   int64   // unix ns of the last delivery
	latency    []int64 // ns, one per delivery
}

// NewVerifier returns a verifier for n messages on topic.
func NewVerifier(topic string, n int) *Verifier {
	return &Verifier{topic: topic, n: int64(n), seen: make([]uint64, (n+63)/64)}
}

// Receive checks one received envelope (or WebSocket message frame) b,
// received at recv (unix ns), and counts it.
func (v *Verifier) Receive(b []byte, recv int64) Verdict {
	var f frame
	if !parseFrame(b, &f) {
		v.invalid++
		return Invalid
	}
	return v.check(&f, recv)
}

// parseFrame reads b into f and reports whether b is valid JSON. The
// fields of a well-formed bench message, in the order the server writes
// them, are picked out directly once json.Valid has checked the whole
// text (encoding/json's reflection costs the load generator more CPU than
// the server spends sending); anything else goes through json.Unmarshal.
func parseFrame(b []byte, f *frame) bool {
	if !json.Valid(b) {
		return false
	}
	if fastFrame(b, f) {
		return true
	}
	*f = frame{}
	return json.Unmarshal(b, f) == nil
}

func fastFrame(b []byte, f *frame) bool {
	rest := b
	str := func(key string) (string, bool) {
		i := bytes.Index(rest, []byte(key))
		if i < 0 {
			return "", false
		}
		rest = rest[i+len(key):]
		j := bytes.IndexByte(rest, '"')
		if j < 0 || bytes.IndexByte(rest[:j], '\\') >= 0 {
			return "", false
		}
		v := rest[:j]
		rest = rest[j+1:]
		return string(v), true
	}
	num := func(key string, end byte) (int64, bool) {
		if !bytes.HasPrefix(rest, []byte(key)) {
			return 0, false
		}
		rest = rest[len(key):]
		j := bytes.IndexByte(rest, end)
		if j < 0 {
			return 0, false
		}
		n, err := strconv.ParseInt(string(rest[:j]), 10, 64)
		rest = rest[j:]
		return n, err == nil
	}
	if bytes.HasPrefix(b, []byte(`{"op":"message",`)) {
		f.Op = "message"
	} else if !bytes.HasPrefix(b, []byte(`{"id":`)) {
		return false
	}
	var ok bool
	if f.ID, ok = str(`"id":"`); !ok {
		return false
	}
	if f.Topic, ok = str(`,"topic":"`); !ok {
		return false
	}
	i := bytes.Index(rest, []byte(`,"data":{`))
	if i < 0 {
		return false
	}
	rest = rest[i+len(`,"data":`):]
	seq, ok := num(`{"seq":`, ',')
	if !ok {
		return false
	}
	sent, ok := num(`,"sent":`, '}')
	if !ok || string(rest) != "}}" {
		return false
	}
	f.Data = &payload{Seq: &seq, Sent: sent}
	return true
}

func (v *Verifier) check(f *frame, recv int64) Verdict {
	if f.Topic != v.topic || f.Data == nil || f.Data.Seq == nil || *f.Data.Seq < 0 || *f.Data.Seq >= v.n {
		v.invalid++
		return Invalid
	}
	idSeq, _, _ := strings.Cut(f.ID, "-")
	id, err := strconv.ParseUint(idSeq, 10, 64)
	if err != nil {
		v.invalid++
		return Invalid
	}
	seq := *f.Data.Seq
	word, bit := seq/64, uint64(1)<<(seq%64)
	if v.seen[word]&bit != 0 {
		v.duplicated++
		return Duplicate
	}
	v.seen[word] |= bit
	v.delivered.Add(1)
	v.lastRecv = recv
	v.latency = append(v.latency, max(recv-f.Data.Sent, 0))
	// The server promises increasing ids on a stream; the order of the
	// publisher's sequence numbers is not promised when requests overlap.
	if id <= v.topID {
		v.outOfOrder++
		return OutOfOrder
	}
	v.topID = id
	return Delivered
}

// countInvalid counts something received that is not even a frame.
func (v *Verifier) countInvalid() { v.invalid++ }

// Counts are a verifier's totals.
type Counts struct {
	Delivered, Lost, Duplicated, OutOfOrder, Invalid int64
}

// Counts returns the totals. acked[seq] says the publish of seq was
// acknowledged; every acknowledged message not delivered is lost. (A
// message whose publish failed but that arrives anyway is delivered, not
// lost.)
func (v *Verifier) Counts(acked []bool) Counts {
	var lost int64
	for seq, ok := range acked {
		if ok && int64(seq) < v.n && v.seen[seq/64]&(1<<(seq%64)) == 0 {
			lost++
		}
	}
	return Counts{Delivered: v.delivered.Load(), Lost: lost, Duplicated: v.duplicated, OutOfOrder: v.outOfOrder, Invalid: v.invalid}
}
