package rollup

import (
	"bytes"
	"encoding/json"
	"strings"
)

// numberAt returns the number in data (when path is empty) or at the
// dotted path of its object, and whether there was one.
func numberAt(data json.RawMessage, path string) (float64, bool) {
	raw, ok := rawAt(data, path)
	if !ok || len(raw) == 0 {
		return 0, false
	}
	switch raw[0] {
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
	default:
		return 0, false
	}
	var f float64
	if err := json.Unmarshal(raw, &f); err != nil {
		return 0, false
	}
	return f, true
}

// keyAt returns the bytes identifying the scalar at path (a string's
// text, or a number's or bool's JSON), for distinct counting.
func keyAt(data json.RawMessage, path string) ([]byte, bool) {
	raw, ok := rawAt(data, path)
	if !ok || len(raw) == 0 {
		return nil, false
	}
	switch raw[0] {
	case '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil || s == "" {
			return nil, false
		}
		return []byte(s), true
	case '{', '[', 'n':
		return nil, false
	}
	return raw, true
}

// rawAt walks a dotted path into JSON objects.
func rawAt(data json.RawMessage, path string) (json.RawMessage, bool) {
	data = bytes.TrimSpace(data)
	if path == "" {
		return data, true
	}
	for part := range strings.SplitSeq(path, ".") {
		if len(data) == 0 || data[0] != '{' {
			return nil, false
		}
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(data, &obj); err != nil {
			return nil, false
		}
		v, ok := obj[part]
		if !ok {
			return nil, false
		}
		data = bytes.TrimSpace(v)
	}
	return data, true
}
