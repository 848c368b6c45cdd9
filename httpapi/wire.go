package httpapi

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"sync"

	"github.com/fxamacker/cbor/v2"
	"github.com/gobwas/ws"
	"github.com/klauspost/compress/flate"

	"github.com/livedash/livedash"
)

// The slots of a frame's wire forms (livedash.Frame.Wire): each is made
// once per message, on first use, and shared by every connection sending it.
const (
	wireSSE           = iota // the SSE event
	wireWSJSON               // the message op as a WebSocket text frame
	wireWSCBOR               // the message op in CBOR, as a binary frame
	wireWSJSONDeflate        // wireWSJSON compressed (permessage-deflate)
	wireWSCBORDeflate        // wireWSCBOR compressed
	wireSlots                // how many; livedash.WireSlots must be at least this
)

var _ = [livedash.WireSlots - wireSlots]struct{}{} // fails to compile when the frame has too few slots

// sseEvent is f's SSE event: id, event type and the envelope as data.
func sseEvent(f *livedash.Frame) []byte {
	id := f.ID.String()
	b := make([]byte, 0, len(f.JSON)+len(id)+len(f.Type)+24)
	b = append(b, "id: "...)
	b = append(b, id...)
	b = append(b, "\nevent: "...)
	b = append(b, f.Type...)
	b = append(b, "\ndata: "...)
	b = append(b, f.JSON...)
	return append(b, "\n\n"...)
}

// wsMessageOp is f's message op in JSON: the envelope's fields after "op".
func wsMessageOp(f *livedash.Frame) []byte {
	b := make([]byte, 0, len(f.JSON)+16)
	b = append(b, `{"op":"message",`...)
	return append(b, f.JSON[1:]...)
}

// cborMessage is f's message op in CBOR. Only the data is converted from
// JSON; the other fields are encoded as they are.
func cborMessage(f *livedash.Frame) []byte {
	data, err := jsonToCBOR(f.Data)
	if err != nil {
		// f.Data is validated JSON; this cannot happen.
		panic(fmt.Sprintf("message %s: %v", f.ID, err))
	}
	b, err := cbor.Marshal(cborOp{Op: "message", ID: f.ID.String(), Topic: f.Topic, Type: f.Type, TS: f.TS, Data: data})
	if err != nil {
		panic(fmt.Sprintf("message %s: %v", f.ID, err))
	}
	return b
}

type cborOp struct {
	Op    string          `cbor:"op"`
	ID    string          `cbor:"id"`
	Topic string          `cbor:"topic"`
	Type  string          `cbor:"type"`
	TS    int64           `cbor:"ts"`
	Data  cbor.RawMessage `cbor:"data"`
}

// wsFrame is payload as one final, unmasked (server) frame.
func wsFrame(op ws.OpCode, compressed bool, payload []byte) []byte {
	h := ws.Header{Fin: true, OpCode: op, Length: int64(len(payload))}
	if compressed {
		h.Rsv = ws.Rsv(true, false, false)
	}
	b := make([]byte, 0, ws.HeaderSize(h)+len(payload))
	b = append(b, h.Rsv<<4|byte(op)|0x80)
	switch n := len(payload); {
	case n < 126:
		b = append(b, byte(n))
	case n <= 0xffff:
		b = append(b, 126)
		b = binary.BigEndian.AppendUint16(b, uint16(n))
	default:
		b = append(b, 127)
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	return append(b, payload...)
}

// wsClose is a close frame with code and reason.
func wsClose(code ws.StatusCode, reason string) []byte {
	return wsFrame(ws.OpClose, false, ws.NewCloseFrameBody(code, reason))
}

// wsWire makes the WebSocket wire forms of frames. The compressed forms are
// made without context takeover (server_no_context_takeover): each message
// is deflated on its own, so one compressed frame serves every connection.
type wsWire struct {
	deflaters sync.Pool // *flate.Writer
	// The encoders, made once so that Frame.Wire gets no new closure per call.
	json, cbor, jsonDeflate, cborDeflate func(*livedash.Frame) []byte
}

func newWSWire() *wsWire {
	w := &wsWire{}
	w.json = func(f *livedash.Frame) []byte { return wsFrame(ws.OpText, false, wsMessageOp(f)) }
	w.cbor = func(f *livedash.Frame) []byte { return wsFrame(ws.OpBinary, false, cborMessage(f)) }
	w.jsonDeflate = func(f *livedash.Frame) []byte { return w.compressed(ws.OpText, wsMessageOp(f)) }
	w.cborDeflate = func(f *livedash.Frame) []byte { return w.compressed(ws.OpBinary, cborMessage(f)) }
	return w
}

// frame returns f as a connection with these settings receives it.
func (w *wsWire) frame(f *livedash.Frame, binary, deflate bool) []byte {
	switch {
	case binary && deflate:
		return f.Wire(wireWSCBORDeflate, w.cborDeflate)
	case binary:
		return f.Wire(wireWSCBOR, w.cbor)
	case deflate:
		return f.Wire(wireWSJSONDeflate, w.jsonDeflate)
	}
	return f.Wire(wireWSJSON, w.json)
}

// minDeflate is the smallest payload worth compressing; smaller ones, and
// those deflate does not shrink, go uncompressed (permitted per message).
const minDeflate = 128

// compressed is payload as a frame, deflated when that makes it smaller.
func (w *wsWire) compressed(op ws.OpCode, payload []byte) []byte {
	if len(payload) < minDeflate {
		return wsFrame(op, false, payload)
	}
	fw, _ := w.deflaters.Get().(*flate.Writer)
	var buf bytes.Buffer
	if fw == nil {
		fw, _ = flate.NewWriter(&buf, flate.BestSpeed)
	} else {
		fw.Reset(&buf)
	}
	fw.Write(payload)
	fw.Flush()
	w.deflaters.Put(fw)
	// A flush ends with the empty stored block 00 00 ff ff, which the
	// receiver adds back (RFC 7692, section 7.2.1).
	out := bytes.TrimSuffix(buf.Bytes(), deflateTail)
	if len(out) >= len(payload) {
		return wsFrame(op, false, payload)
	}
	return wsFrame(op, true, out)
}

// deflateTail ends every compressed message on the wire's behalf.
var deflateTail = []byte{0, 0, 0xff, 0xff}
