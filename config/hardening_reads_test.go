package config

import (
	"strings"
	"testing"
)

func TestReadBudgets(t *testing.T) {
	c := Default()
	if c.Limits.HistoryBytes != 16<<20 || c.Limits.BacklogBytes != 4<<20 {
		t.Fatalf("defaults %d, %d", c.Limits.HistoryBytes, c.Limits.BacklogBytes)
	}
	c, err := Parse([]byte("limits: {history_bytes: 1MiB, backlog_bytes: 256KiB}"))
	if err != nil || c.Limits.HistoryBytes != 1<<20 || c.Limits.BacklogBytes != 256<<10 || c.Limits.MessageBytes != 64<<10 {
		t.Fatalf("%+v %v", c.Limits, err)
	}
	for _, y := range []string{"limits: {history_bytes: 0}", "limits: {backlog_bytes: 0}"} {
		if _, err := Parse([]byte(y)); err == nil || !strings.Contains(err.Error(), "must be positive") {
			t.Fatalf("%s: %v", y, err)
		}
	}
}
