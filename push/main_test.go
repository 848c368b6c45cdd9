package push_test

import (
	"testing"

	"go.uber.org/goleak"
)

// Every pool's writers, heartbeat, watcher, readers and blocked writes end
// by the time the tests do.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
