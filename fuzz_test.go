package livedash

import (
	"bytes"
	"encoding/json"
	"testing"
)

// FuzzDecodePublish: whatever the body, DecodePublish never panics, and
// what it accepts is storable and readable by any client: a valid topic and
// type, compact JSON data with no number outside float64, and an envelope
// that encoding/json parses back to the same data.
func FuzzDecodePublish(f *testing.F) {
	for _, seed := range []string{
		`{"topic":"host.cpu","data":42.3}`,
		`[{"topic":"a.b","type":"event","ts":1000,"data":{"x":[1,2]}},{"topic":"a.c","type":"alert","data":{"severity":"info","message":"m"}}]`,
		`{"topic":"a","data":1} {"topic":"b","data":2}`,
		`{"topic":"a","type":"","data":1}`,
		`{"topic":"a","data":1e999}`,
		`{"topic":"a","type":"event","data":{"a":-1E+400,"s":"1e999"}}`,
		`{"topic":"a","ts":"2024-11-22T08:00:00.5Z","data":{"v":1}}`,
		`{"topic":"sys.x","data":1}`,
		`{"topic":"a","data":"\u00e9\ud800"}`,
		"{\"topic\":\"a\",\"data\":\"\xff\"}",
		`[]`, ``, `"x"`, `{"topic":"a.*","data":1}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		msgs, err := DecodePublish(body, testNow)
		if err != nil {
			if ErrorCode(err) == EINTERNAL {
				t.Fatalf("internal error for bad input: %v", err)
			}
			return
		}
		for _, m := range msgs {
			if ValidateTopic(m.Topic) != nil || IsSys(m.Topic) || ValidateType(m.Type) != nil {
				t.Fatalf("accepted topic %q type %q", m.Topic, m.Type)
			}
			var c bytes.Buffer
			if json.Compact(&c, m.Data) != nil || !bytes.Equal(c.Bytes(), m.Data) {
				t.Fatalf("data not compact JSON: %q", m.Data)
			}
			if n, ok := overflowingNumber(m.Data); !ok {
				t.Fatalf("accepted out-of-range number %s", n)
			}
			var env struct {
				Data json.RawMessage `json:"data"`
			}
			if err := json.Unmarshal(NewFrame(m).JSON, &env); err != nil || !bytes.Equal(env.Data, m.Data) {
				t.Fatalf("envelope does not parse back: %v: %s", err, NewFrame(m).JSON)
			}
			var v any
			if err := json.Unmarshal(m.Data, &v); err != nil {
				t.Fatalf("a Go client cannot read the data %s: %v", m.Data, err)
			}
		}
	})
}

// FuzzPatterns: validation never panics, and for valid inputs Match and
// Covers agree with each other and keep sys. topics to sys. patterns.
func FuzzPatterns(f *testing.F) {
	for _, s := range [][2]string{
		{"shop.*", "shop.orders"}, {"shop.>", "shop.a.b"}, {">", "sys.alerts"}, {"sys.>", "sys.alerts"},
		{"*.*", "a.b"}, {"a.>.b", "a.x.b"}, {"a..b", "a.b"}, {"*", "sys"}, {"", "a"}, {"a.*.>", "a.b"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, pattern, topic string) {
		perr, terr := ValidatePattern(pattern), ValidateTopic(topic)
		if perr != nil || terr != nil {
			return
		}
		m := Match(pattern, topic)
		if m != Covers(pattern, topic) {
			t.Fatalf("Match(%q, %q) = %v but Covers says %v", pattern, topic, m, !m)
		}
		if m && IsSys(topic) && !IsSys(pattern) {
			t.Fatalf("non-sys pattern %q matches sys topic %q", pattern, topic)
		}
		if !Covers(pattern, pattern) {
			t.Fatalf("%q does not cover itself", pattern)
		}
		if Covers(">", pattern) == IsSys(pattern) { // > is every topic but the server's own
			t.Fatalf("> covers %q: %v", pattern, Covers(">", pattern))
		}
	})
}
