package config

import (
	"os"
	"strings"
	"testing"
	"time"
)

func TestDefaultsAreValid(t *testing.T) {
	c, err := Parse(nil)
	if err != nil {
		t.Fatal(err)
	}
	if loc, _ := c.Location(); loc != time.UTC {
		t.Fatalf("default zone %v", loc)
	}
}

// TestBadConfigs lists the bad inputs tried and the error each must give.
func TestBadConfigs(t *testing.T) {
	tests := []struct {
		name, yaml, want string
	}{
		{"unknown key", "nope: 1", "field nope not found"},
		{"public sys", `public: ["sys.>"]`, "cannot be public"},
		{"public bad pattern", `public: ["a..b"]`, "empty segment"},
		{"negative heartbeat", "heartbeat: -1s", "heartbeat"},
		{"unknown time zone", "timezone: Mars/Olympus", "unknown IANA time zone"},
		{"public_url bad", "public_url: dash.example.com", `public_url "dash.example.com"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.yaml))
			if err == nil {
				t.Fatalf("no error for %s", tt.yaml)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q, want one containing %q", err, tt.want)
			}
		})
	}
}

// TestLoadFileNamesTheFile: an error in a file names the file, then the
// section and field; a file that is not there is an error too.
func TestLoadFileNamesTheFile(t *testing.T) {
	path := t.TempDir() + "/livedash.yaml"
	if err := os.WriteFile(path, []byte("limits: {max_topics: -1}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c := Default()
	if err := LoadFile(path, &c); err == nil || err.Error() != path+": config: limits.max_topics must not be negative" {
		t.Fatalf("error %v", err)
	}
	if err := LoadFile(path+".missing", &c); err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Fatalf("missing file: error %v", err)
	}
	c = Default()
	if err := LoadFile("", &c); err != nil || c.Limits.MaxTopics != Default().Limits.MaxTopics {
		t.Fatalf("no file: %v, max_topics %d", err, c.Limits.MaxTopics)
	}
}
