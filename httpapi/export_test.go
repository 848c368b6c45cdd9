package httpapi

// CBOROf exposes the CBOR message encoding to the external tests.
var CBOROf = cborMessage
