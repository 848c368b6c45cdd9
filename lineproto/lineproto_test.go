package lineproto

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/livedash/livedash"
)

// now is the request time used for lines without a timestamp.
var testNow = time.UnixMilli(1732262400123)

func TestParse(t *testing.T) {
	tests := []struct {
		name      string
		body      string
		precision string
		want      []livedash.Message // Type is always point and is filled in
	}{
		{
			name: "single value field gives a bare number",
			body: "temp value=21.5",
			want: []livedash.Message{{Topic: "temp", TS: testNow.UnixMilli(), Data: raw(`21.5`)}},
		},
		{
			name: "tag values sorted by key become segments",
			body: "cpu,host=web1.example.com,cpu=cpu0 usage=3,idle=97 1732262400000000000",
			want: []livedash.Message{{Topic: "cpu.cpu0.web1_example_com", TS: 1732262400000, Data: raw(`{"usage":3,"idle":97}`)}},
		},
		{
			name: "dots in the measurement separate segments",
			body: "shop.sales,region=eu value=3i",
			want: []livedash.Message{{Topic: "shop.sales.eu", TS: testNow.UnixMilli(), Data: raw(`3`)}},
		},
		{
			name: "integer, unsigned, boolean and string fields",
			body: `m i=-12i,u=12u,t=t,T=TRUE,f=False,F=f,s="hello",e=1e-7,big=18446744073709551615u`,
			want: []livedash.Message{{Topic: "m", TS: testNow.UnixMilli(),
				Data: raw(`{"i":-12,"u":12,"t":1,"T":1,"f":0,"F":0,"s":"hello","e":1e-7,"big":18446744073709551615}`)}},
		},
		{
			name: "a boolean value field is a bare number",
			body: "door value=true",
			want: []livedash.Message{{Topic: "door", TS: testNow.UnixMilli(), Data: raw(`1`)}},
		},
		{
			name: "a string value field stays an object",
			body: `status value="ok"`,
			want: []livedash.Message{{Topic: "status", TS: testNow.UnixMilli(), Data: raw(`{"value":"ok"}`)}},
		},
		{
			name: "escaped comma and space in measurement",
			body: `my\ meas\,ure value=1`,
			want: []livedash.Message{{Topic: "my_meas_ure", TS: testNow.UnixMilli(), Data: raw(`1`)}},
		},
		{
			name: "escaped comma, equals and space in tag keys and values",
			body: `m,ta\ g\=k=v\,a\ l\=ue f=1`,
			want: []livedash.Message{{Topic: "m.v_a_l_ue", TS: testNow.UnixMilli(), Data: raw(`{"f":1}`)}},
		},
		{
			name: "escaped comma, equals and space in field keys",
			body: `m fi\,e\=l\ d=1`,
			want: []livedash.Message{{Topic: "m", TS: testNow.UnixMilli(), Data: raw(`{"fi,e=l d":1}`)}},
		},
		{
			name: "escaped quote and backslash in string values; comma, space and equals inside quotes",
			body: `m s="say \"hi\", a=b \\ c\d"`,
			want: []livedash.Message{{Topic: "m", TS: testNow.UnixMilli(), Data: raw(`{"s":"say \"hi\", a=b \\ c\\d"}`)}},
		},
		{
			name: "a backslash before an ordinary character is literal",
			body: `m\x,t=a\b f\q=1`,
			want: []livedash.Message{{Topic: "m_x.a_b", TS: testNow.UnixMilli(), Data: raw(`{"f\\q":1}`)}},
		},
		{
			name: "unicode and control characters are escaped in JSON strings, replaced in topics",
			body: "m,city=Zürich s=\"tab\there ü\"",
			want: []livedash.Message{{Topic: "m.Z_rich", TS: testNow.UnixMilli(), Data: raw(`{"s":"tab\there ü"}`)}},
		},
		{
			name: "comments, blank lines, CRLF and leading space skipped",
			body: "# a comment\n\n  \r\n  a value=1 1000\r\n# another\nb value=2 2000\n",
			want: []livedash.Message{
				{Topic: "a", TS: 0, Data: raw(`1`)},
				{Topic: "b", TS: 0, Data: raw(`2`)},
			},
		},
		{
			name:      "precision ns (default spelled out)",
			body:      "a value=1 1732262400123999999",
			precision: "ns",
			want:      []livedash.Message{{Topic: "a", TS: 1732262400123, Data: raw(`1`)}},
		},
		{
			name:      "precision m (InfluxDB 1.x minutes)",
			body:      "a value=1 28871040",
			precision: "m",
			want:      []livedash.Message{{Topic: "a", TS: 1732262400000, Data: raw(`1`)}},
		},
		{
			name:      "precision h (InfluxDB 1.x hours)",
			body:      "a value=1 481184",
			precision: "h",
			want:      []livedash.Message{{Topic: "a", TS: 1732262400000, Data: raw(`1`)}},
		},
		{
			name:      "precision n",
			body:      "a value=1 1732262400123999999",
			precision: "n",
			want:      []livedash.Message{{Topic: "a", TS: 1732262400123, Data: raw(`1`)}},
		},
		{
			name:      "precision us",
			body:      "a value=1 1732262400123999",
			precision: "us",
			want:      []livedash.Message{{Topic: "a", TS: 1732262400123, Data: raw(`1`)}},
		},
		{
			name:      "precision ms",
			body:      "a value=1 1732262400123",
			precision: "ms",
			want:      []livedash.Message{{Topic: "a", TS: 1732262400123, Data: raw(`1`)}},
		},
		{
			name:      "precision s",
			body:      "a value=1 1732262400",
			precision: "s",
			want:      []livedash.Message{{Topic: "a", TS: 1732262400000, Data: raw(`1`)}},
		},
		{
			name: "several spaces before fields and timestamp, trailing space",
			body: "a,t=x   value=1   5000000   ",
			want: []livedash.Message{{Topic: "a.x", TS: 5, Data: raw(`1`)}},
		},
		{
			name: "empty body",
			body: "",
			want: nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse([]byte(tt.body), tt.precision, testNow)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.body, err)
			}
			// The "comments" case has explicit ns timestamps of 1000 and
			// 2000 ns, which are 0 ms.
			if len(got) != len(tt.want) {
				t.Fatalf("Parse(%q) gave %d messages, want %d: %+v", tt.body, len(got), len(tt.want), got)
			}
			for i, w := range tt.want {
				g := got[i]
				if g.Topic != w.Topic || g.Type != livedash.TypePoint || g.TS != w.TS || string(g.Data) != string(w.Data) {
					t.Errorf("message %d:\n got topic=%q type=%q ts=%d data=%s\nwant topic=%q type=point ts=%d data=%s",
						i, g.Topic, g.Type, g.TS, g.Data, w.Topic, w.TS, w.Data)
				}
				if !json.Valid(g.Data) {
					t.Errorf("message %d: data %s is not valid JSON", i, g.Data)
				}
				// The messages must pass the server's own publish validation.
				in := livedash.PublishInput{Topic: g.Topic, Type: g.Type, TS: raw(jsonInt(g.TS)), Data: g.Data}
				if _, err := in.Validate(testNow); err != nil {
					t.Errorf("message %d does not pass PublishInput.Validate: %v", i, err)
				}
			}
		})
	}
}

// TestParseErrors tries these bad inputs: a missing measurement, missing
// fields (no space, nothing after the space), a tag without '=', an empty
// tag value, an unescaped '=' in a tag value, a duplicate tag key, an empty
// field key, a field without '=', an empty field value, a trailing comma,
// bad numbers (words, "1.5i", "-1u", "12x", hex, NaN, Inf, overflowing
// integers), an unterminated quote, text after a closing quote, a duplicate
// field key, bad timestamps (not a number, a float, out of range, trailing
// text), an invalid topic (empty segment, too long), a sys topic, a bad
// precision; and that a bad line after good ones fails the whole body with
// the right line number.
func TestParseErrors(t *testing.T) {
	tests := []struct {
		name      string
		body      string
		precision string
		code      string
		contains  string // part of the error message
	}{
		{"missing measurement", ",t=1 f=1", "", livedash.EINVALID, "line 1: missing measurement"},
		{"no fields", "cpu", "", livedash.EINVALID, "line 1: missing fields"},
		{"nothing after space", "cpu,host=a   ", "", livedash.EINVALID, "line 1: missing fields"},
		{"tag without equals", "cpu,host f=1", "", livedash.EINVALID, `tag "host" has no '='`},
		{"empty tag value", "cpu,host= f=1", "", livedash.EINVALID, `tag "host" has an empty value`},
		{"empty tag key", "cpu,=a f=1", "", livedash.EINVALID, "empty tag key"},
		{"unescaped equals in tag value", "cpu,host=a=b f=1", "", livedash.EINVALID, "unescaped '='"},
		{"duplicate tag", "cpu,host=a,host=b f=1", "", livedash.EINVALID, `tag "host" appears twice`},
		{"empty field key", "cpu =1", "", livedash.EINVALID, "empty field key"},
		{"field without equals", "cpu usage", "", livedash.EINVALID, `field "usage" has no '='`},
		{"empty field value", "cpu usage=", "", livedash.EINVALID, `field "usage" has an empty value`},
		{"empty field value before comma", "cpu usage=,b=1", "", livedash.EINVALID, `field "usage" has an empty value`},
		{"trailing comma", "cpu usage=1,", "", livedash.EINVALID, "empty field key"},
		{"word instead of number", "cpu usage=high", "", livedash.EINVALID, `bad number "high"`},
		{"float with i", "cpu usage=1.5i", "", livedash.EINVALID, `bad integer "1.5i"`},
		{"negative unsigned", "cpu usage=-1u", "", livedash.EINVALID, `bad unsigned integer "-1u"`},
		{"integer overflow", "cpu usage=9223372036854775808i", "", livedash.EINVALID, "bad integer"},
		{"junk suffix", "cpu usage=12x", "", livedash.EINVALID, "bad number"},
		{"hex float", "cpu usage=0x1p3", "", livedash.EINVALID, "bad number"},
		{"NaN", "cpu usage=NaN", "", livedash.EINVALID, "bad number"},
		{"Inf", "cpu usage=Inf", "", livedash.EINVALID, "bad number"},
		{"float overflow", "cpu usage=1e999", "", livedash.EINVALID, "bad number"},
		{"unterminated quote", `cpu s="abc`, "", livedash.EINVALID, `field "s": unterminated string`},
		{"escaped closing quote", `cpu s="abc\"`, "", livedash.EINVALID, "unterminated string"},
		{"text after quote", `cpu s="abc"def`, "", livedash.EINVALID, "after the closing quote"},
		{"duplicate field", "cpu a=1,a=2", "", livedash.EINVALID, `field "a" appears twice`},
		{"timestamp not a number", "cpu a=1 yesterday", "", livedash.EINVALID, `bad timestamp "yesterday"`},
		{"float timestamp", "cpu a=1 1.5", "", livedash.EINVALID, "bad timestamp"},
		{"timestamp overflow", "cpu a=1 99999999999999999999", "", livedash.EINVALID, "bad timestamp"},
		{"timestamp too late in seconds", "cpu a=1 9223372036854775", "s", livedash.EINVALID, "out of range"},
		{"negative timestamp", "cpu a=1 -5000000", "", livedash.EINVALID, "out of range"},
		{"text after timestamp", "cpu a=1 1000 extra", "", livedash.EINVALID, "after the timestamp"},
		{"empty topic segment", "shop..sales a=1", "", livedash.EINVALID, "invalid topic"},
		{"leading dot", ".shop a=1", "", livedash.EINVALID, "invalid topic"},
		{"topic too long", strings.Repeat("m", 201) + " a=1", "", livedash.EINVALID, "invalid topic"},
		{"sys topic", "sys.connections a=1", "", livedash.EFORBIDDEN, "sys."},
		{"bad precision", "cpu a=1", "d", livedash.EINVALID, `precision "d"`},
		{"bad line after good ones", "a value=1\n# ok\nb value=2\nc value=\n", "", livedash.EINVALID, "line 4:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse([]byte(tt.body), tt.precision, testNow)
			if err == nil {
				t.Fatalf("Parse(%q) = %d messages, want an error", tt.body, len(got))
			}
			if got != nil {
				t.Errorf("Parse(%q) returned messages with the error: all or nothing broken", tt.body)
			}
			var lerr *livedash.Error
			if !errors.As(err, &lerr) {
				t.Fatalf("error %v is %T, want *livedash.Error", err, err)
			}
			if lerr.Code != tt.code {
				t.Errorf("code = %q, want %q (%v)", lerr.Code, tt.code, err)
			}
			if !strings.Contains(lerr.Message, tt.contains) {
				t.Errorf("message %q does not contain %q", lerr.Message, tt.contains)
			}
			if tt.precision == "" && tt.code != livedash.EFORBIDDEN && !strings.HasPrefix(lerr.Message, "line ") {
				t.Errorf("message %q does not name the line", lerr.Message)
			}
		})
	}
}

func TestParseTooManyPoints(t *testing.T) {
	body := strings.Repeat("a value=1\n", livedash.MaxBatch)
	msgs, err := Parse([]byte(body), "", testNow)
	if err != nil || len(msgs) != livedash.MaxBatch {
		t.Fatalf("%d points: got %d messages, err %v; want all", livedash.MaxBatch, len(msgs), err)
	}
	_, err = Parse([]byte(body+"a value=1\n"), "", testNow)
	if code := livedash.ErrorCode(err); code != livedash.ETOOLARGE {
		t.Fatalf("%d points: err %v (code %s), want %s", livedash.MaxBatch+1, err, code, livedash.ETOOLARGE)
	}
}

func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		"cpu,host=a,cpu=cpu0 usage=3,idle=97i 1732262400000000000",
		`m s="say \"hi\"",b=t,u=3u`,
		`my\ meas\,ure,ta\ g\=k=v\,a\ l\=ue fi\,e\=l\ d=1`,
		"# comment\n\na value=1 1000\r\n",
		"shop..sales a=1",
		`cpu s="abc`,
		"a value=1e-7",
		"m v=1e999",
		"m s=\"\x01\x02\"",
		"sys.x v=1",
		"m v=1 99999999999999999999",
	} {
		f.Add([]byte(seed), "ns")
	}
	f.Add([]byte("a value=1 1732262400"), "s")
	f.Fuzz(func(t *testing.T, body []byte, precision string) {
		msgs, err := Parse(body, precision, testNow)
		if err != nil {
			if msgs != nil {
				t.Fatalf("messages returned with error %v", err)
			}
			if _, ok := errors.AsType[*livedash.Error](err); !ok {
				t.Fatalf("error %v is %T, want *livedash.Error", err, err)
			}
			return
		}
		for i, m := range msgs {
			if err := livedash.ValidateTopic(m.Topic); err != nil {
				t.Fatalf("message %d: invalid topic %q: %v", i, m.Topic, err)
			}
			if livedash.IsSys(m.Topic) {
				t.Fatalf("message %d: sys topic %q accepted", i, m.Topic)
			}
			if m.Type != livedash.TypePoint {
				t.Fatalf("message %d: type %q", i, m.Type)
			}
			in := livedash.PublishInput{Topic: m.Topic, Type: m.Type, TS: raw(jsonInt(m.TS)), Data: m.Data}
			again, err := in.Validate(testNow)
			if err != nil {
				t.Fatalf("message %d (%s %s) fails publish validation: %v", i, m.Topic, m.Data, err)
			}
			if !bytes.Equal(again.Data, m.Data) {
				t.Fatalf("message %d: data %s is not canonical (publish would store %s)", i, m.Data, again.Data)
			}
		}
	})
}

func raw(s string) json.RawMessage { return json.RawMessage(s) }

func jsonInt(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// TestManyKeysParseInLinearishTime: a request-sized line of distinct tag
// (or field) keys is refused quickly; checking each key against all before
// it made a 1 MiB line cost tens of seconds of CPU.
func TestManyKeysParseInLinearishTime(t *testing.T) {
	for _, part := range []string{"tags", "fields"} {
		var b strings.Builder
		b.WriteString("m")
		sep := ","
		if part == "fields" {
			b.WriteString(" v=1")
		}
		for i := 0; b.Len() < 1<<20; i++ {
			fmt.Fprintf(&b, "%sk%d=1", sep, i)
		}
		if part == "tags" {
			b.WriteString(" v=1")
		}
		start := time.Now()
		_, err := Parse([]byte(b.String()), "", time.Now())
		if took := time.Since(start); took > 3*time.Second {
			t.Fatalf("%s: a 1 MiB line took %v", part, took)
		}
		if part == "tags" && err == nil { // the topic is far over 200 bytes
			t.Fatalf("%s: no error", part)
		}
	}
	// Duplicates are still found, wherever they are.
	for _, line := range []string{"m,a=1,b=2,c=3,a=4 v=1", "m x=1,y=2,z=3,y=4"} {
		if _, err := Parse([]byte(line), "", time.Now()); err == nil || !strings.Contains(err.Error(), "appears twice") {
			t.Fatalf("%s: %v", line, err)
		}
	}
}
