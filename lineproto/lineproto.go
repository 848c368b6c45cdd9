// Package lineproto turns InfluxDB line protocol, the body of
// POST /api/v1/write, into livedash point messages. It owns the parsing and
// the mapping from measurements, tags and fields to topics and data; storing
// and authorising the result is the caller's job.
//
// Each line has the form
//
//	measurement[,tag_key=tag_value…] field_key=field_value[,…] [timestamp]
//
// and becomes one message of type "point":
//
//   - Topic: the measurement, then the value of every tag as one more
//     segment, tags taken in ascending order of their keys (the keys
//     themselves do not appear). Dots in the measurement separate segments,
//     so "shop.sales" stays "shop.sales"; in a tag value every character
//     outside [A-Za-z0-9_-], dots included, becomes "_", so a tag value is
//     always exactly one segment. In the measurement the same replacement
//     applies to every character outside [A-Za-z0-9_.-].
//     "cpu,host=web1.example.com,cpu=cpu0 usage=3" is published on
//     "cpu.cpu0.web1_example_com" (tag cpu sorts before tag host).
//     The topic must then be valid (no empty segment, at most 200 bytes);
//     a topic under "sys." is refused with EFORBIDDEN.
//   - Data: a JSON object with one member per field, in the order of the
//     line. Floats ("1.5", "-3e4") and integers ("12i") and unsigned
//     integers ("12u") become JSON numbers, booleans (t, T, true, True,
//     TRUE, f, F, false, False, FALSE) become 1 or 0, string fields
//     ("\"text\"") stay JSON strings. A line with a single numeric or
//     boolean field named "value" gives a bare number as data:
//     "temp value=21.5" → 21.5.
//   - TS: the timestamp, an integer in the request's precision ("ns", the
//     default, "us", "ms" or "s"; "n" and "u" are accepted as in InfluxDB
//     1.x), converted to unix milliseconds rounding down. Without a
//     timestamp the message gets the time of the request.
//
// Escaping follows the line protocol: in the measurement a backslash
// escapes a comma or a space; in tag keys, tag values and field keys it
// escapes a comma, an equals sign or a space; in a string field value it
// escapes a double quote or a backslash. A backslash before any other
// character is kept literally. Newlines cannot be escaped: every line of
// the body is one point. Blank lines and lines starting with "#" are
// skipped, as are trailing "\r" (CRLF bodies).
//
// Parsing is all or nothing: the first bad line makes Parse return an
// *livedash.Error with code EINVALID whose message starts with "line N:"
// (1-based) and says what is wrong, and no message at all. A body of more
// than livedash.MaxBatch points is ETOOLARGE. A tag or field key given
// twice on one line is refused, and so are NaN and infinite floats.
package lineproto

import (
	"bytes"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/livedash/livedash"
)

// maxTS is 9999-12-31T23:59:59.999Z in unix ms, the latest ts livedash accepts.
const maxTS = 253402300799999

// Parse reads a line-protocol body and returns one point message per line,
// ids unset. precision is the unit of the timestamps: "ns" (also "" and
// "n"), "us" (also "u"), "ms", "s", "m" or "h". now is the ts of lines without a
// timestamp. Errors are EINVALID (bad precision, bad line), EFORBIDDEN (a
// sys topic) or ETOOLARGE (too many points).
func Parse(body []byte, precision string, now time.Time) ([]livedash.Message, error) {
	toMillis, err := timestampConverter(precision)
	if err != nil {
		return nil, err
	}
	nowMS := now.UnixMilli()
	var msgs []livedash.Message
	lineNo := 0
	for len(body) > 0 {
		var line []byte
		line, body, _ = bytes.Cut(body, []byte{'\n'})
		lineNo++
		line = bytes.TrimSuffix(line, []byte{'\r'})
		line = bytes.TrimLeft(line, " \t")
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		if len(msgs) == livedash.MaxBatch {
			return nil, livedash.Errorf(livedash.ETOOLARGE,
				"more than %d points in one request; split the body", livedash.MaxBatch)
		}
		m, err := parseLine(line, toMillis, nowMS)
		if err != nil {
			return nil, lineError(lineNo, err)
		}
		msgs = append(msgs, m)
	}
	return msgs, nil
}

// lineError prefixes err's message with the line number, keeping its code.
func lineError(lineNo int, err error) error {
	return livedash.Errorf(livedash.ErrorCode(err), "line %d: %s", lineNo, livedash.ErrorMessage(err))
}

func invalid(format string, args ...any) error {
	return livedash.Errorf(livedash.EINVALID, format, args...)
}

// mul converts a timestamp in units of m milliseconds, and says whether it fits.
func mul(m int64) func(int64) (int64, bool) {
	return func(v int64) (int64, bool) {
		if v > math.MaxInt64/m || v < math.MinInt64/m {
			return 0, false
		}
		return v * m, true
	}
}

// timestampConverter returns the function turning a timestamp in the given
// precision into unix milliseconds, and whether it fits.
func timestampConverter(precision string) (func(int64) (int64, bool), error) {
	div := func(d int64) func(int64) (int64, bool) {
		return func(v int64) (int64, bool) {
			q := v / d
			if v%d < 0 { // round towards minus infinity, like time.UnixMilli
				q--
			}
			return q, true
		}
	}
	switch precision {
	case "", "ns", "n":
		return div(1_000_000), nil
	case "us", "u":
		return div(1_000), nil
	case "ms":
		return func(v int64) (int64, bool) { return v, true }, nil
	case "s":
		return mul(1000), nil
	case "m": // InfluxDB 1.x also writes minutes and hours
		return mul(60_000), nil
	case "h":
		return mul(3_600_000), nil
	}
	return nil, invalid("precision %q is not one of ns, us, ms, s, m, h", precision)
}

// Characters each part of a line lets a backslash escape.
const (
	measurementEscapes = ", "
	keyEscapes         = ",= " // tag keys, tag values, field keys
)

// field is one parsed field: its key and its value as JSON.
type field struct {
	key   string
	value []byte // JSON
	// numeric is true for floats, integers and booleans.
	numeric bool
}

// parseLine parses one non-blank, non-comment line.
func parseLine(line []byte, toMillis func(int64) (int64, bool), nowMS int64) (livedash.Message, error) {
	// The series part: measurement and tags, up to the first unescaped space.
	measurement, rest := scanUntil(line, measurementEscapes, " ,")
	if measurement == "" {
		return livedash.Message{}, invalid("missing measurement")
	}
	type tag struct{ key, value string }
	var tags []tag
	for len(rest) > 0 && rest[0] == ',' {
		var key, value string
		key, rest = scanUntil(rest[1:], keyEscapes, "=, ")
		if key == "" {
			return livedash.Message{}, invalid("empty tag key after measurement %q", measurement)
		}
		if len(rest) == 0 || rest[0] != '=' {
			return livedash.Message{}, invalid("tag %q has no '=' and value", key)
		}
		value, rest = scanUntil(rest[1:], keyEscapes, "=, ")
		if value == "" {
			return livedash.Message{}, invalid("tag %q has an empty value", key)
		}
		if len(rest) > 0 && rest[0] == '=' {
			return livedash.Message{}, invalid("tag %q: unescaped '=' in value", key)
		}
		tags = append(tags, tag{key, value})
	}
	if len(bytes.Trim(rest, " \t")) == 0 {
		return livedash.Message{}, invalid("missing fields (want: measurement[,tag=value…] field=value[,…] [timestamp])")
	}
	rest = bytes.TrimLeft(rest, " \t")

	// The fields, separated by commas, up to the next unescaped space.
	var fields []field
	for {
		var key string
		key, rest = scanUntil(rest, keyEscapes, "=, ")
		if key == "" {
			return livedash.Message{}, invalid("empty field key")
		}
		if len(rest) == 0 || rest[0] != '=' {
			return livedash.Message{}, invalid("field %q has no '=' and value", key)
		}
		f, after, err := parseFieldValue(key, rest[1:])
		if err != nil {
			return livedash.Message{}, err
		}
		fields = append(fields, f)
		rest = after
		if len(rest) == 0 || rest[0] != ',' {
			break
		}
		rest = rest[1:]
	}

	// Keys given twice, found by sorting (checking each key against every
	// one before it is quadratic: tens of seconds for a 1 MiB line).
	slices.SortStableFunc(tags, func(a, b tag) int { return strings.Compare(a.key, b.key) })
	for i := 1; i < len(tags); i++ {
		if tags[i].key == tags[i-1].key {
			return livedash.Message{}, invalid("tag %q appears twice", tags[i].key)
		}
	}
	if len(fields) > 1 {
		keys := make([]string, len(fields))
		for i, f := range fields {
			keys[i] = f.key
		}
		slices.Sort(keys)
		for i := 1; i < len(keys); i++ {
			if keys[i] == keys[i-1] {
				return livedash.Message{}, invalid("field %q appears twice", keys[i])
			}
		}
	}

	// The optional timestamp.
	ts := nowMS
	rest = bytes.Trim(rest, " \t")
	if len(rest) > 0 {
		if bytes.ContainsAny(rest, " \t") {
			return livedash.Message{}, invalid("unexpected text %q after the timestamp", clip(rest[bytes.IndexAny(rest, " \t"):]))
		}
		v, err := strconv.ParseInt(string(rest), 10, 64)
		if err != nil {
			return livedash.Message{}, invalid("bad timestamp %q: want an integer", clip(rest))
		}
		ms, ok := toMillis(v)
		if !ok || ms < 0 || ms > maxTS {
			return livedash.Message{}, invalid("timestamp %d is out of range for its precision", v)
		}
		ts = ms
	}

	var topic strings.Builder
	topic.WriteString(livedash.Sanitize(measurement, true))
	for _, t := range tags {
		topic.WriteByte('.')
		topic.WriteString(livedash.Sanitize(t.value, false))
	}
	if err := livedash.ValidateTopic(topic.String()); err != nil {
		return livedash.Message{}, invalid("measurement %q and tags give an invalid topic: %s", measurement, livedash.ErrorMessage(err))
	}
	if livedash.IsSys(topic.String()) {
		return livedash.Message{}, livedash.Errorf(livedash.EFORBIDDEN, "topic %q: topics under sys. are written by the server only", topic.String())
	}

	return livedash.Message{
		Topic: topic.String(),
		Type:  livedash.TypePoint,
		TS:    ts,
		Data:  fieldsJSON(fields),
	}, nil
}

// scanUntil reads an escaped name from b up to (not including) the first
// unescaped byte of stops, and returns the unescaped name and the rest of b.
// A backslash before a byte of escapable stands for that byte; before any
// other byte it is literal.
func scanUntil(b []byte, escapable, stops string) (string, []byte) {
	var name []byte
	i := 0
	for i < len(b) {
		c := b[i]
		if c == '\\' && i+1 < len(b) && strings.IndexByte(escapable, b[i+1]) >= 0 {
			name = append(name, b[i+1])
			i += 2
			continue
		}
		if strings.IndexByte(stops, c) >= 0 {
			break
		}
		name = append(name, c)
		i++
	}
	return string(name), b[i:]
}

// parseFieldValue reads one field value at the start of b and returns the
// field and the rest of b, which starts with ',' or ' ' or is empty.
func parseFieldValue(key string, b []byte) (field, []byte, error) {
	if len(b) == 0 || b[0] == ',' || b[0] == ' ' || b[0] == '\t' {
		return field{}, nil, invalid("field %q has an empty value", key)
	}
	if b[0] == '"' {
		s, rest, err := scanString(b[1:])
		if err != nil {
			return field{}, nil, invalid("field %q: %s", key, livedash.ErrorMessage(err))
		}
		if len(rest) > 0 && rest[0] != ',' && rest[0] != ' ' && rest[0] != '\t' {
			return field{}, nil, invalid("field %q: unexpected %q after the closing quote", key, clip(rest))
		}
		return field{key: key, value: appendJSONString(nil, s)}, rest, nil
	}
	end := bytes.IndexAny(b, ", \t")
	if end < 0 {
		end = len(b)
	}
	raw, rest := string(b[:end]), b[end:]
	value, err := numberJSON(raw)
	if err != nil {
		return field{}, nil, invalid("field %q: %s", key, livedash.ErrorMessage(err))
	}
	return field{key: key, value: value, numeric: true}, rest, nil
}

// scanString reads a string field value after its opening quote, up to the
// closing quote, and returns the unescaped text and what follows the quote.
func scanString(b []byte) (string, []byte, error) {
	var s []byte
	for i := 0; i < len(b); i++ {
		switch c := b[i]; {
		case c == '"':
			return string(s), b[i+1:], nil
		case c == '\\' && i+1 < len(b) && (b[i+1] == '"' || b[i+1] == '\\'):
			s = append(s, b[i+1])
			i++
		default:
			s = append(s, c)
		}
	}
	return "", nil, invalid("unterminated string value (missing closing \")")
}

// numberJSON turns an unquoted field value into a JSON number.
func numberJSON(raw string) ([]byte, error) {
	switch raw {
	case "t", "T", "true", "True", "TRUE":
		return []byte("1"), nil
	case "f", "F", "false", "False", "FALSE":
		return []byte("0"), nil
	}
	switch last := raw[len(raw)-1]; last {
	case 'i':
		n, err := strconv.ParseInt(raw[:len(raw)-1], 10, 64)
		if err != nil {
			return nil, invalid("bad integer %q", clip([]byte(raw)))
		}
		return strconv.AppendInt(nil, n, 10), nil
	case 'u':
		n, err := strconv.ParseUint(raw[:len(raw)-1], 10, 64)
		if err != nil {
			return nil, invalid("bad unsigned integer %q", clip([]byte(raw)))
		}
		return strconv.AppendUint(nil, n, 10), nil
	}
	if !isFloatSyntax(raw) {
		return nil, invalid("bad number %q (strings need double quotes)", clip([]byte(raw)))
	}
	f, err := strconv.ParseFloat(raw, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return nil, invalid("bad number %q", clip([]byte(raw)))
	}
	return appendJSONFloat(nil, f), nil
}

// isFloatSyntax reports whether s is a plain decimal float: digits with an
// optional sign, point and exponent. strconv.ParseFloat alone would also
// take "Inf", "NaN", hex floats and underscores.
func isFloatSyntax(s string) bool {
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	digits := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
		digits++
	}
	if i < len(s) && s[i] == '.' {
		i++
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
			digits++
		}
	}
	if digits == 0 {
		return false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		exp := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
			exp++
		}
		if exp == 0 {
			return false
		}
	}
	return i == len(s)
}

// appendJSONFloat appends f the way encoding/json writes a float64.
func appendJSONFloat(b []byte, f float64) []byte {
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// Turn e-09 into e-9, as encoding/json does.
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

// appendJSONString appends s as a JSON string. Invalid UTF-8 becomes U+FFFD.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c == '\t':
				b = append(b, '\\', 't')
			case c < 0x20:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, `\ufffd`...)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}

// fieldsJSON builds the data of a point: a bare number for a single numeric
// field named "value", an object of all fields otherwise.
func fieldsJSON(fields []field) []byte {
	if len(fields) == 1 && fields[0].key == "value" && fields[0].numeric {
		return fields[0].value
	}
	b := []byte{'{'}
	for i, f := range fields {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, f.key)
		b = append(b, ':')
		b = append(b, f.value...)
	}
	return append(b, '}')
}

// clip shortens b for an error message.
func clip(b []byte) string {
	const n = 40
	if len(b) <= n {
		return string(b)
	}
	return string(b[:n]) + "…"
}
