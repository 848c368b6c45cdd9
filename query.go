package livedash

import "unicode/utf8"

// TopicInfo describes one topic for GET /api/v1/topics.
type TopicInfo struct {
	Topic string
	Last  *Frame // nil when retention removed everything
	Count int64  // messages currently stored
}

// HistoryQuery selects stored messages. From (inclusive) and To (exclusive)
// filter on ts in unix ms; zero To means no upper bound. Without From, the
// newest Limit messages are returned; with it, the first Limit from From.
//
// MaxBytes, when positive, is a byte budget on the envelopes returned
// (Message.EnvelopeLen): a read stops before the message that would pass
// it, though it always returns at least one. Cut that way, a read without
// From keeps the newest messages (it drops the oldest); one with From
// keeps the first.
type HistoryQuery struct {
	Patterns []string
	From     *int64
	To       *int64
	Limit    int
	MaxBytes int64
}

// Bucket aggregates the numeric values of one topic over [T, T+step).
type Bucket struct {
	T     int64   `json:"t"`
	Count int64   `json:"count"`
	Min   float64 `json:"min"`
	Max   float64 `json:"max"`
	Avg   float64 `json:"avg"`
	Sum   float64 `json:"sum"`
	Last  float64 `json:"last"`
}

// Series is the buckets of one topic, in ascending T.
type Series struct {
	Topic   string   `json:"topic"`
	Buckets []Bucket `json:"buckets"`
}

// MaxFieldLen caps the length of a field name in bytes.
const MaxFieldLen = 200

// ValidateField checks the name of a member of object point data, as
// history's field= names it: 1 to MaxFieldLen bytes of UTF-8 with no
// control character, double quote or backslash. That is every field key
// line protocol and OTLP produce in practice (letters, digits, _ - . : /,
// spaces, any non-ASCII letter) and keeps the name a plain JSON path label.
// Returns EINVALID otherwise.
func ValidateField(name string) error {
	if name == "" || len(name) > MaxFieldLen {
		return Errorf(EINVALID, "field must be 1 to %d bytes", MaxFieldLen)
	}
	if !utf8.ValidString(name) {
		return Errorf(EINVALID, "field is not valid UTF-8")
	}
	for _, c := range name {
		if c < 0x20 || c == 0x7f || c == '"' || c == '\\' || (c >= 0x80 && c < 0xa0) {
			return Errorf(EINVALID, "field %q: character %q is not allowed (no control characters, \" or \\)", name, c)
		}
	}
	return nil
}
