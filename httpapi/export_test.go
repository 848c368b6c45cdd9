package httpapi

import "github.com/livedash/livedash"

// CBOROf exposes the CBOR message encoding to the external tests.
var CBOROf = cborMessage

// SSEEventOf exposes the SSE event of a frame.
var SSEEventOf = sseEvent

// WSFrameOf returns a frame's WebSocket wire form for a connection with
// these settings, made fresh (not kept in the frame).
func WSFrameOf(f *livedash.Frame, binary, deflate bool) []byte {
	g := livedash.NewFrame(f.Message)
	return newWSWire().frame(g, binary, deflate)
}
