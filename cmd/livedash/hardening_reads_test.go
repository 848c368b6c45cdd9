package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestServeRefusesDashboardJSONCannotHold: serve with a dashboards_dir
// holding a value JSON cannot encode stops at start, naming the file and
// the field, instead of serving a dashboard list that answers 500.
func TestServeRefusesDashboardJSONCannotHold(t *testing.T) {
	dir := t.TempDir()
	boards := filepath.Join(dir, "boards")
	if err := os.Mkdir(boards, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(boards, "nan.yaml"), []byte("widgets:\n- {id: w1, type: stat, topics: [a], options: {x: .nan}}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "livedash.yaml")
	if err := os.WriteFile(cfg, []byte("dashboards_dir: "+boards+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// A server that starts anyway serves until ctx ends and returns nil.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	getenv := func(k string) string {
		if k == "LIVEDASH_SECRET" {
			return e2eSecret
		}
		return ""
	}
	err := run(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--data", filepath.Join(dir, "data"), "--host-metrics", "off", "--config", cfg},
		getenv, strings.NewReader(""), io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "nan.yaml") || !strings.Contains(err.Error(), "options.x") {
		t.Fatalf("serve: %v; want a refusal naming nan.yaml and options.x", err)
	}
}
