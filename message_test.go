package livedash

import (
	"encoding/json"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

var testNow = time.UnixMilli(1732262400123)

func TestIDRoundTrip(t *testing.T) {
	id := ID{Seq: 42, Epoch: "abc123"}
	got, err := ParseID(id.String())
	if err != nil || got != id {
		t.Fatalf("ParseID(%q) = %v, %v", id.String(), got, err)
	}
	for _, bad := range []string{"", "42", "-abc", "x-abc", "0-abc", "42-", "42-a.b", "42-ab-cd", "18446744073709551616-a", "42-" + strings.Repeat("a", 33)} {
		if _, err := ParseID(bad); err == nil {
			t.Errorf("ParseID(%q) succeeded", bad)
		}
	}
}

func TestFrameEnvelopeAndWire(t *testing.T) {
	f := NewFrame(Message{ID: ID{7, "ep"}, Topic: "shop.orders", Type: "event", TS: 5, Data: json.RawMessage(`{"a":"x\ny"}`)})
	var env map[string]any
	if err := json.Unmarshal(f.JSON, &env); err != nil {
		t.Fatalf("envelope is not JSON: %v: %s", err, f.JSON)
	}
	if env["id"] != "7-ep" || env["topic"] != "shop.orders" || env["type"] != "event" || env["ts"] != 5.0 {
		t.Fatalf("envelope = %v", env)
	}
	// A wire form is made once, however many ask for it at once, and
	// every caller gets the same bytes; other slots are separate.
	var calls atomic.Int32
	encode := func(f *Frame) []byte {
		calls.Add(1)
		return append([]byte("wire:"), f.JSON...)
	}
	var wg sync.WaitGroup
	got := make([][]byte, 16)
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i] = f.Wire(1, encode)
		}()
	}
	wg.Wait()
	for _, b := range got {
		if &b[0] != &got[0][0] || string(b) != "wire:"+string(f.JSON) {
			t.Fatalf("callers got different bytes: %q", b)
		}
	}
	if n := calls.Load(); n < 1 || n > 16 {
		t.Fatalf("encode called %d times", n)
	}
	before := calls.Load()
	f.Wire(1, encode)
	if calls.Load() != before {
		t.Fatal("a kept wire form was encoded again")
	}
	if b := f.Wire(2, func(*Frame) []byte { return []byte("other") }); string(b) != "other" {
		t.Fatalf("slot 2 = %q", b)
	}
}

func TestDecodePublish(t *testing.T) {
	msgs, err := DecodePublish([]byte(`{"topic":"host.cpu","data":42.3}`), testNow)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 1 || msgs[0].Type != "point" || msgs[0].TS != testNow.UnixMilli() || string(msgs[0].Data) != "42.3" {
		t.Fatalf("got %+v", msgs)
	}
	msgs, err = DecodePublish([]byte(`[
		{"topic":"a.b","type":"event","ts":1000,"data":{ "x" : [1, 2] }},
		{"topic":"a.c","type":"alert","ts":"2024-11-22T08:00:00.5Z","data":{"severity":"critical","message":"m"}},
		{"topic":"a.d","type":"custom_t-1","data":"anything","id":"1-old"}]`), testNow)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 3 || msgs[0].TS != 1000 || string(msgs[0].Data) != `{"x":[1,2]}` || msgs[1].TS != 1732262400500 || msgs[2].Type != "custom_t-1" {
		t.Fatalf("got %+v", msgs)
	}
}

// TestDecodePublishBadInput lists every bad input tried and the code it must get.
func TestDecodePublishBadInput(t *testing.T) {
	batch := func(n int) string {
		items := make([]string, n)
		for i := range items {
			items[i] = `{"topic":"a","data":1}`
		}
		return "[" + strings.Join(items, ",") + "]"
	}
	for _, tc := range []struct {
		name, body, code string
		index            int
	}{
		{"empty body", ``, EINVALID, -1},
		{"not JSON", `{"topic":`, EINVALID, -1},
		{"a string", `"x"`, EINVALID, -1},
		{"empty batch", `[]`, EINVALID, -1},
		{"1001 items", batch(1001), ETOOLARGE, -1},
		{"invalid UTF-8", "{\"topic\":\"a\",\"data\":\"\xff\"}", EINVALID, -1},
		{"missing topic", `{"data":1}`, EINVALID, -1},
		{"missing data", `{"topic":"a"}`, EINVALID, -1},
		{"wildcard topic *", `{"topic":"a.*","data":1}`, EINVALID, -1},
		{"wildcard topic >", `{"topic":"a.>","data":1}`, EINVALID, -1},
		{"bad topic chars", `{"topic":"a b","data":1}`, EINVALID, -1},
		{"topic too long", `{"topic":"` + strings.Repeat("a", 201) + `","data":1}`, EINVALID, -1},
		{"sys topic", `{"topic":"sys.x","data":1}`, EFORBIDDEN, -1},
		{"bad type", `{"topic":"a","type":"Bad","data":1}`, EINVALID, -1},
		{"type too long", `{"topic":"a","type":"` + strings.Repeat("t", 65) + `","data":1}`, EINVALID, -1},
		{"ts negative", `{"topic":"a","ts":-1,"data":1}`, EINVALID, -1},
		{"ts fraction", `{"topic":"a","ts":1.5,"data":1}`, EINVALID, -1},
		{"ts bad string", `{"topic":"a","ts":"yesterday","data":1}`, EINVALID, -1},
		{"ts bool", `{"topic":"a","ts":true,"data":1}`, EINVALID, -1},
		{"ts too far", `{"topic":"a","ts":253402300800000,"data":1}`, EINVALID, -1},
		{"unknown field", `{"topic":"a","dta":1,"data":1}`, EINVALID, -1},
		{"point with string data", `{"topic":"a","data":"x"}`, EINVALID, -1},
		{"event with number data", `{"topic":"a","type":"event","data":1}`, EINVALID, -1},
		{"alert without severity", `{"topic":"a","type":"alert","data":{"message":"m"}}`, EINVALID, -1},
		{"alert bad severity", `{"topic":"a","type":"alert","data":{"severity":"meh"}}`, EINVALID, -1},
		{"trailing object", `{"topic":"a","data":1} {"topic":"b","data":2}`, EINVALID, -1},
		{"trailing garbage", `{"topic":"a","data":1}x`, EINVALID, -1},
		{"trailing after a batch", `[{"topic":"a","data":1}] [{"topic":"b","data":2}]`, EINVALID, -1},
		{"explicit empty type", `{"topic":"a","type":"","data":1}`, EINVALID, -1},
		{"point 1e999", `{"topic":"a","data":1e999}`, EINVALID, -1},
		{"point -1e999", `{"topic":"a","data":-1e999}`, EINVALID, -1},
		{"point field 1e400", `{"topic":"a","data":{"a":1e400}}`, EINVALID, -1},
		{"point 400 digits", `{"topic":"a","data":1` + strings.Repeat("0", 400) + `}`, EINVALID, -1},
		{"event field 1e400", `{"topic":"a","type":"event","data":{"a":[1,{"b":-1E+400}]}}`, EINVALID, -1},
		{"ts 1e999", `{"topic":"a","ts":1e999,"data":1}`, EINVALID, -1},
		{"batch item 1e999", `[{"topic":"a","data":1},{"topic":"a","data":1e999}]`, EINVALID, 1},
		{"bad item in a batch", `[{"topic":"a.*","data":1}]`, EINVALID, 0},
		{"second item bad", `[{"topic":"a","data":1},{"topic":"","data":1}]`, EINVALID, 1},
		{"item not an object", `[{"topic":"a","data":1},7]`, EINVALID, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			msgs, err := DecodePublish([]byte(tc.body), testNow)
			if err == nil {
				t.Fatalf("accepted: %+v", msgs)
			}
			if ErrorCode(err) != tc.code {
				t.Fatalf("code = %s (%v), want %s", ErrorCode(err), err, tc.code)
			}
			if e := err.(*Error); e.Index != tc.index {
				t.Fatalf("index = %d, want %d", e.Index, tc.index)
			}
		})
	}
}

// TestDecodePublishEdgesAccepted lists inputs near the refused ones that
// must still be stored.
func TestDecodePublishEdgesAccepted(t *testing.T) {
	for _, body := range []string{
		`{"topic":"a","data":1.7e308}`,
		`{"topic":"a","data":-1.7976931348623157e308}`,
		`{"topic":"a","data":1e-400}`, // underflows to 0: representable
		`{"topic":"a","type":"event","data":{"note":"1e999 is too big"}}`,
		`{"topic":"a","type":"event","data":{"q":"\\\"1e999"}}`,
		"{\"topic\":\"a\",\"data\":1}\n\t ",
		`{"topic":"a","data":{"x":1,"label":"ok"}}`,
	} {
		if _, err := DecodePublish([]byte(body), testNow); err != nil {
			t.Errorf("%s refused: %v", body, err)
		}
	}
}

// TestPointDataErrorSaysHowToFix: the refusal of non-numeric point data
// names the way out.
func TestPointDataErrorSaysHowToFix(t *testing.T) {
	_, err := DecodePublish([]byte(`{"topic":"a","data":"hello"}`), testNow)
	if err == nil || !strings.Contains(ErrorMessage(err), `"type": "event"`) {
		t.Fatalf("err = %v, want advice to set a type", err)
	}
}

func TestEnvelopeLen(t *testing.T) {
	for _, m := range []Message{
		{ID: ID{Seq: 1, Epoch: "e"}, Topic: "a", Type: "point", TS: 0, Data: json.RawMessage(`1`)},
		{ID: ID{Seq: 18446744073709551615, Epoch: "abcdef0123"}, Topic: "shop.orders", Type: "event", TS: 253402300799999, Data: json.RawMessage(`{"x":"y"}`)},
		{ID: ID{Seq: 10, Epoch: "e"}, Topic: "a", Type: "point", TS: -5, Data: json.RawMessage(`null`)},
	} {
		if got, want := m.EnvelopeLen(len(m.Data)), len(m.Envelope()); got != want {
			t.Fatalf("%s: EnvelopeLen %d, envelope %d", m.Envelope(), got, want)
		}
	}
}
