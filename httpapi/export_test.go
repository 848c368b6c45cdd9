package httpapi

import "github.com/livedash/livedash"

// CBOROf exposes the CBOR message encoding to the external tests.
var CBOROf = cborMessage

// SSEEventOf exposes the SSE event of a frame.
var SSEEventOf = sseEvent

// testWire makes the WebSocket wire forms for WSFrameOf, its deflaters
// pooled as a server's are.
var testWire = newWSWire()

// WSFrameOf returns a frame's WebSocket wire form for a connection with
// these settings, made fresh (not the one kept in f).
func WSFrameOf(f *livedash.Frame, binary, deflate bool) []byte {
	return testWire.frame(&livedash.Frame{Message: f.Message, JSON: f.JSON}, binary, deflate)
}
