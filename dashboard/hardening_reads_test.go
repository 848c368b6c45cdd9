package dashboard

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLoadDirRefusesValuesJSONCannotHold: a file with a value JSON cannot
// encode is refused at load, naming the file, the widget and the field;
// whatever loads can be encoded.
func TestLoadDirRefusesValuesJSONCannotHold(t *testing.T) {
	for _, c := range []struct{ yaml, want string }{
		{"widgets:\n- {id: w1, type: stat, topics: [a], options: {x: .nan}}\n", `"w1"): options.x`},
		{"widgets:\n- {id: w1, type: stat, topics: [a], options: {x: [1, .inf]}}\n", `options.x[1]`},
		{"widgets:\n- {id: w2, type: chart, topics: [a], options: {x: {1: y}}}\n", `"w2"): options.x: key 1`},
		{"widgets:\n- {id: w3, type: chart, topics: [a], options: {x: {y: {true: 1}}}}\n", `options.x.y`},
	} {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "bad.yaml"), []byte(c.yaml), 0o644); err != nil {
			t.Fatal(err)
		}
		ds, err := LoadDir(dir)
		if err == nil {
			_, merr := json.Marshal(ds)
			t.Fatalf("%q loaded (json: %v)", c.yaml, merr)
		}
		if !strings.Contains(err.Error(), "bad.yaml") || !strings.Contains(err.Error(), c.want) {
			t.Fatalf("%q: %v; want the file and %s", c.yaml, err, c.want)
		}
	}
	// A number as a key of the options themselves is read as a string.
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "ok.yaml"), []byte("widgets:\n- {id: w1, type: stat, topics: [a], options: {1: x}}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ds, err := LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if b, err := json.Marshal(ds); err != nil || !strings.Contains(string(b), `"options":{"1":"x"}`) {
		t.Fatalf("%s %v", b, err)
	}
}
