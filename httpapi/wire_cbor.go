package httpapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"

	"github.com/fxamacker/cbor/v2"
)

// WebSocket subprotocols. Without one (or with livedash.json) frames are
// JSON text; with livedash.cbor both sides send binary CBOR frames holding
// the same ops and fields.
const (
	subprotocolJSON = "livedash.json"
	subprotocolCBOR = "livedash.cbor"
)

// jsonToCBOR re-encodes one JSON value as CBOR: objects become maps with
// text keys, whole numbers integers, other numbers float64.
func jsonToCBOR(j []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(j))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return cbor.Marshal(numbersForCBOR(v))
}

func numbersForCBOR(v any) any {
	switch x := v.(type) {
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i
		}
		f, _ := x.Float64()
		return f
	case map[string]any:
		for k, e := range x {
			x[k] = numbersForCBOR(e)
		}
	case []any:
		for i, e := range x {
			x[i] = numbersForCBOR(e)
		}
	}
	return v
}

// cborToJSON decodes a client's CBOR frame into the JSON the op handler
// reads. Maps must have text keys; byte strings and tags are refused.
func cborToJSON(b []byte) ([]byte, error) {
	var v any
	if err := cborDecoder.Unmarshal(b, &v); err != nil {
		return nil, fmt.Errorf("bad CBOR: %w", err)
	}
	v, err := jsonSafe(v)
	if err != nil {
		return nil, err
	}
	return json.Marshal(v)
}

// cborDecoder limits nesting so a hostile frame cannot exhaust the stack.
var cborDecoder, _ = cbor.DecOptions{MaxNestedLevels: 32, MaxArrayElements: 100_000, MaxMapPairs: 100_000}.DecMode()

func jsonSafe(v any) (any, error) {
	switch x := v.(type) {
	case map[any]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			ks, ok := k.(string)
			if !ok {
				return nil, fmt.Errorf("bad CBOR: map keys must be text")
			}
			se, err := jsonSafe(e)
			if err != nil {
				return nil, err
			}
			out[ks] = se
		}
		return out, nil
	case map[string]any:
		for k, e := range x {
			se, err := jsonSafe(e)
			if err != nil {
				return nil, err
			}
			x[k] = se
		}
		return x, nil
	case []any:
		for i, e := range x {
			se, err := jsonSafe(e)
			if err != nil {
				return nil, err
			}
			x[i] = se
		}
		return x, nil
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil, fmt.Errorf("bad CBOR: NaN and infinities have no JSON form")
		}
		return x, nil
	case float32:
		return jsonSafe(float64(x))
	case nil, bool, string, int64, uint64:
		return x, nil
	}
	return nil, fmt.Errorf("bad CBOR: unsupported value of type %T", v)
}
