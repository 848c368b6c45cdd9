package livedash

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"
)

// ID identifies a stored message. Seq grows with publish order across all
// topics of one log (one server, or one cluster), so resuming "after ID"
// is exact for any set of topics. Epoch names the log that assigned Seq: an
// id from another epoch (a wiped data dir, another cluster) is unknown and
// cannot be resumed from. On the wire an ID is the opaque string "<seq>-<epoch>".
type ID struct {
	Seq   uint64
	Epoch string
}

func (id ID) String() string {
	return strconv.FormatUint(id.Seq, 10) + "-" + id.Epoch
}

// IsZero reports whether id is the zero ID.
func (id ID) IsZero() bool { return id.Seq == 0 && id.Epoch == "" }

// ParseID parses the wire form of an id. Returns EINVALID when s is malformed.
func ParseID(s string) (ID, error) {
	seq, epoch, ok := strings.Cut(s, "-")
	if !ok || epoch == "" || len(epoch) > 32 {
		return ID{}, Errorf(EINVALID, "malformed id %q", s)
	}
	n, err := strconv.ParseUint(seq, 10, 64)
	if err != nil || n == 0 {
		return ID{}, Errorf(EINVALID, "malformed id %q", s)
	}
	for i := 0; i < len(epoch); i++ {
		if !isSegmentByte(epoch[i]) || epoch[i] == '-' {
			return ID{}, Errorf(EINVALID, "malformed id %q", s)
		}
	}
	return ID{Seq: n, Epoch: epoch}, nil
}

// Well-known message types.
const (
	TypePoint = "point" // data: a number, or an object of numbers
	TypeStats = "stats" // data: an object, a full snapshot
	TypeAlert = "alert" // data: {"severity":"info|warning|critical","message":...}
	TypeEvent = "event" // data: any object, an activity-feed item
)

// Message is what is stored and delivered.
type Message struct {
	ID    ID
	Topic string
	Type  string
	TS    int64           // unix milliseconds
	Data  json.RawMessage // compact JSON, never empty
}

// Envelope returns the message's JSON envelope:
// {"id":…,"topic":…,"type":…,"ts":…,"data":…}. Topic, type and id are made
// of characters that need no JSON escaping, so the envelope is assembled
// directly.
func (m *Message) Envelope() []byte {
	return m.appendEnvelopeFields(make([]byte, 0, 64+len(m.Topic)+len(m.Data)), '{')
}

// AppendEnvelope appends the message's JSON envelope to b.
func (m *Message) AppendEnvelope(b []byte) []byte { return m.appendEnvelopeFields(b, '{') }

// EnvelopeLen is the length of the envelope of m if its data were
// dataLen bytes: what a read's byte budget counts.
func (m *Message) EnvelopeLen(dataLen int) int {
	const fixed = len(`{"id":"-","topic":"","type":"","ts":,"data":}`)
	return fixed + decimalLen(m.ID.Seq) + len(m.ID.Epoch) + len(m.Topic) + len(m.Type) + len(strconv.AppendInt(nil, m.TS, 10)) + dataLen
}

func decimalLen(n uint64) int {
	l := 1
	for n >= 10 {
		n /= 10
		l++
	}
	return l
}

func (m *Message) appendEnvelopeFields(b []byte, open byte) []byte {
	b = append(b, open)
	b = append(b, `"id":"`...)
	b = strconv.AppendUint(b, m.ID.Seq, 10)
	b = append(b, '-')
	b = append(b, m.ID.Epoch...)
	b = append(b, `","topic":"`...)
	b = append(b, m.Topic...)
	b = append(b, `","type":"`...)
	b = append(b, m.Type...)
	b = append(b, `","ts":`...)
	b = strconv.AppendInt(b, m.TS, 10)
	b = append(b, `,"data":`...)
	b = append(b, m.Data...)
	return append(b, '}')
}

// Frame is a stored message with its envelope, shared by every
// subscriber it is sent to. A transport's wire form of it (an SSE event, a
// WebSocket frame) is made by the transport on first use, kept in one of
// the frame's slots and then shared too: a frame costs only the encodings
// some connection asked for, and each is made once.
type Frame struct {
	Message
	JSON []byte // the envelope

	wire [WireSlots]atomic.Pointer[[]byte]
}

// WireSlots is how many wire forms a frame keeps. The transports number
// theirs from 0 (package httpapi lists them).
const WireSlots = 5

// Wire returns the frame in the wire form kept in slot, made by encode on
// first use. Two first uses at once may both encode; one result is kept
// and returned to both, so encode must be a pure function of the frame.
func (f *Frame) Wire(slot int, encode func(*Frame) []byte) []byte {
	if b := f.wire[slot].Load(); b != nil {
		return *b
	}
	b := encode(f)
	if f.wire[slot].CompareAndSwap(nil, &b) {
		return b
	}
	return *f.wire[slot].Load()
}

// NewFrame encodes m's envelope.
func NewFrame(m Message) *Frame {
	return &Frame{Message: m, JSON: m.Envelope()}
}

// Size is the number of bytes a frame stands for in a subscriber's queue
// (the cap on queues): its envelope and about what one wire form adds.
func (f *Frame) Size() int { return len(f.JSON) + 64 }

// PublishInput is one message as a publisher sends it.
type PublishInput struct {
	Topic string          `json:"topic"`
	Type  string          `json:"type"`
	TS    json.RawMessage `json:"ts"`
	Data  json.RawMessage `json:"data"`
	// ID is accepted and ignored, so that envelopes read from a stream can
	// be published again; the server always assigns a new id.
	ID json.RawMessage `json:"id"`
}

// Validate checks a publish input and returns the message to store, with
// ts set to now when the publisher gave none and type point when it gave
// none (an empty Type; a type given as "" must be refused by the decoder,
// see ValidateType). Errors are EINVALID or EFORBIDDEN (sys topics). The
// size of the stored data is checked where every path meets (package
// ingest), after the data is compacted.
func (in *PublishInput) Validate(now time.Time) (Message, error) {
	if in.Topic == "" {
		return Message{}, Errorf(EINVALID, "topic is required")
	}
	if err := ValidateTopic(in.Topic); err != nil {
		return Message{}, err
	}
	if IsSys(in.Topic) {
		return Message{}, Errorf(EFORBIDDEN, "topics under sys. are written by the server only")
	}
	typ := in.Type
	if typ == "" {
		typ = TypePoint
	}
	if err := ValidateType(typ); err != nil {
		return Message{}, err
	}
	ts, err := ParseTS(in.TS, now)
	if err != nil {
		return Message{}, err
	}
	if len(in.Data) == 0 {
		return Message{}, Errorf(EINVALID, "data is required (use null for none)")
	}
	data, err := CompactData(in.Data)
	if err != nil {
		return Message{}, err
	}
	if err := validateData(typ, data); err != nil {
		return Message{}, err
	}
	return Message{Topic: in.Topic, Type: typ, TS: ts, Data: data}, nil
}

// ValidateType checks a message type: [a-z0-9_-]{1,64}. An explicit empty
// type is an error; only an omitted one means point.
func ValidateType(t string) error {
	if t == "" {
		return Errorf(EINVALID, `type must not be empty: omit it for "point", or name one such as "event"`)
	}
	if len(t) > 64 {
		return Errorf(EINVALID, "type must be 1 to 64 characters of a-z 0-9 _ -")
	}
	for i := 0; i < len(t); i++ {
		c := t[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return Errorf(EINVALID, "type %q: character %q is not allowed (use a-z 0-9 _ -)", t, c)
		}
	}
	return nil
}

// maxTS is 9999-12-31T23:59:59.999Z in unix ms.
const maxTS = 253402300799999

// ParseTS reads a publisher's ts: a whole number of unix milliseconds or an
// RFC 3339 string. Absent or null means now.
func ParseTS(raw json.RawMessage, now time.Time) (int64, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return now.UnixMilli(), nil
	}
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return 0, Errorf(EINVALID, "ts: %v", err)
		}
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return 0, Errorf(EINVALID, "ts %q is not an RFC 3339 time", s)
		}
		ms := t.UnixMilli()
		if ms < 0 || ms > maxTS {
			return 0, Errorf(EINVALID, "ts %q is out of range", s)
		}
		return ms, nil
	}
	n, err := strconv.ParseInt(string(raw), 10, 64)
	if err != nil {
		// Accept a float with no fractional part (1.7e12), refuse others.
		f, ferr := strconv.ParseFloat(string(raw), 64)
		if ferr != nil || f != float64(int64(f)) {
			return 0, Errorf(EINVALID, "ts must be whole unix milliseconds or an RFC 3339 string, not %s", truncate(raw, 40))
		}
		n = int64(f)
	}
	if n < 0 || n > maxTS {
		return 0, Errorf(EINVALID, "ts %d is out of range (unix milliseconds)", n)
	}
	return n, nil
}

// CompactData checks that raw is one valid UTF-8 JSON value and returns it
// without insignificant white space (so it fits on one SSE data line).
func CompactData(raw json.RawMessage) (json.RawMessage, error) {
	if !utf8.Valid(raw) {
		return nil, Errorf(EINVALID, "data is not valid UTF-8")
	}
	var buf bytes.Buffer
	buf.Grow(len(raw))
	if err := json.Compact(&buf, raw); err != nil {
		return nil, Errorf(EINVALID, "data is not valid JSON: %v", err)
	}
	out := buf.Bytes()
	if n, ok := overflowingNumber(out); !ok {
		return nil, Errorf(EINVALID, "data holds the number %s, outside the float64 range (about ±1.8e308): no client can read it back", truncate(n, 40))
	}
	return out, nil
}

// overflowingNumber scans compact JSON for a number that float64 cannot
// hold (such as 1e999) and returns it with ok false. Only numbers with an
// exponent or of 309 digits and more can overflow, so others are not parsed.
func overflowingNumber(j []byte) (num []byte, ok bool) {
	inString := false
	for i := 0; i < len(j); i++ {
		c := j[i]
		if inString {
			switch c {
			case '\\':
				i++
			case '"':
				inString = false
			}
			continue
		}
		if c == '"' {
			inString = true
			continue
		}
		if c != '-' && (c < '0' || c > '9') {
			continue
		}
		start, exp := i, false
		for i < len(j) && (j[i] == '-' || j[i] == '+' || j[i] == '.' || j[i] == 'e' || j[i] == 'E' || j[i] >= '0' && j[i] <= '9') {
			exp = exp || j[i] == 'e' || j[i] == 'E'
			i++
		}
		n := j[start:i]
		i--
		if !exp && len(n) < 309 {
			continue
		}
		if _, err := strconv.ParseFloat(string(n), 64); err != nil {
			return n, false
		}
	}
	return nil, true
}

func validateData(typ string, data json.RawMessage) error {
	switch typ {
	case TypePoint:
		switch data[0] {
		case '{', 'n':
			return nil
		case '"', '[', 't', 'f':
			return Errorf(EINVALID, `point data must be a number or an object of numbers; for other data set a type, such as "type": "event"`)
		}
		return nil // a number
	case TypeStats, TypeEvent:
		if data[0] != '{' {
			return Errorf(EINVALID, "%s data must be a JSON object", typ)
		}
	case TypeAlert:
		if data[0] != '{' {
			return Errorf(EINVALID, "alert data must be an object with severity and message")
		}
		var a struct {
			Severity *string `json:"severity"`
		}
		if err := json.Unmarshal(data, &a); err != nil || a.Severity == nil {
			return Errorf(EINVALID, `alert data needs "severity": "info", "warning" or "critical"`)
		}
		switch *a.Severity {
		case "info", "warning", "critical":
		default:
			return Errorf(EINVALID, "alert severity %q must be info, warning or critical", *a.Severity)
		}
	}
	return nil
}

func truncate(b []byte, n int) string {
	if len(b) <= n {
		return string(b)
	}
	return string(b[:n]) + "…"
}

// MaxBatch is the most messages one publish request may carry.
const MaxBatch = 1000

// DecodePublish reads a publish body: exactly one JSON value, a message
// object or an array of them. The batch is all or nothing: the first bad
// item is returned as an error naming its index.
func DecodePublish(body []byte, now time.Time) ([]Message, error) {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return nil, Errorf(EINVALID, "empty body: send a message object or an array of them")
	}
	if !utf8.Valid(body) {
		return nil, Errorf(EINVALID, "body is not valid UTF-8")
	}
	var items []json.RawMessage
	switch body[0] {
	case '[':
		if err := json.Unmarshal(body, &items); err != nil {
			return nil, Errorf(EINVALID, "body is not valid JSON: %v", err)
		}
		if len(items) == 0 {
			return nil, Errorf(EINVALID, "empty batch")
		}
		if len(items) > MaxBatch {
			return nil, Errorf(ETOOLARGE, "batch of %d messages; the limit is %d", len(items), MaxBatch)
		}
	case '{':
		m, err := decodeOne(body, now)
		if err != nil {
			return nil, err
		}
		return []Message{m}, nil
	default:
		return nil, Errorf(EINVALID, "body must be a message object or an array of them")
	}
	msgs := make([]Message, len(items))
	for i, raw := range items {
		m, err := decodeOne(raw, now)
		if err != nil {
			return nil, WithIndex(err, i)
		}
		msgs[i] = m
	}
	return msgs, nil
}

func decodeOne(raw json.RawMessage, now time.Time) (Message, error) {
	if len(raw) == 0 || raw[0] != '{' {
		return Message{}, Errorf(EINVALID, "a message must be a JSON object")
	}
	var in struct {
		PublishInput
		Type *string `json:"type"` // nil when omitted: only then is it point
	}
	if err := DecodeJSON(raw, &in, true); err != nil {
		return Message{}, Errorf(EINVALID, "bad message: %v", err)
	}
	if in.Type != nil {
		if err := ValidateType(*in.Type); err != nil {
			return Message{}, err
		}
		in.PublishInput.Type = *in.Type
	}
	return in.PublishInput.Validate(now)
}

// DecodeJSON reads exactly one JSON value from b into v: bytes after the
// value (other than white space) are an error, and so are fields v does not
// have when strict is set.
func DecodeJSON(b []byte, v any, strict bool) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	if strict {
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("unexpected bytes after the JSON value: send exactly one value")
	}
	return nil
}
