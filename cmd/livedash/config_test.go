package main

import (
	"os"
	"strings"
	"testing"
	"time"
)

// The tests of the configuration file's sections that the engines and
// producers own (the server's part is tested in package config).

func TestExampleFileParses(t *testing.T) {
	b, err := os.ReadFile("../../livedash.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	c, err := parseConfig(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Rollups) != 4 || len(c.Alerts) != 3 || len(c.Scrape) != 2 || len(c.Notify) != 2 {
		t.Fatalf("rollups %d alerts %d scrape %d notify %d", len(c.Rollups), len(c.Alerts), len(c.Scrape), len(c.Notify))
	}
	if n := c.Notify[0]; n.Name != "ops" || n.Secret == "" || n.Timeout != 5*time.Second || n.RetryFor != 24*time.Hour || n.Headers["Authorization"] == "" ||
		c.Notify[1].Format != "slack" || strings.Join(c.Alerts[0].Notify, ",") != "ops,team-chat" || c.PublicURL != "https://dash.example.com" {
		t.Fatalf("notify %+v, alert notify %v, public_url %q", c.Notify, c.Alerts[0].Notify, c.PublicURL)
	}
	a := c.Alerts[0]
	if a.Name != "checkout-errors" || a.Op != ">" || a.Threshold != 5 || a.For != 30*time.Second ||
		a.Clear == nil || *a.Clear != 3 || a.Severity != "critical" {
		t.Fatalf("alert %+v", a)
	}
	r := c.Rollups[0]
	if r.Topic != "shop.revenue" || strings.Join(r.Windows, ",") != "1m,1h,today" {
		t.Fatalf("rollup %+v", r)
	}
	if c.Rollups[3].Throttle != 5*time.Second {
		t.Fatalf("throttle %v", c.Rollups[3].Throttle)
	}
	s := c.Scrape[1]
	if s.Interval != 30*time.Second || s.Prefix != "app.metrics" || s.BearerToken != "change-me" || s.Timeout != 5*time.Second {
		t.Fatalf("scrape %+v", s)
	}
	loc, err := c.Location()
	if err != nil || loc.String() != "Europe/Berlin" {
		t.Fatalf("location %v, %v", loc, err)
	}
}

// TestLoadNamesTheFile: a bad config read from a file names the file, the
// entry and the field.
func TestLoadNamesTheFile(t *testing.T) {
	path := t.TempDir() + "/livedash.yaml"
	os.WriteFile(path, []byte("alerts: [{name: cpu, topic: x, op: '>', notify: [pager]}]"), 0o600)
	_, err := loadConfig(path)
	if err == nil || !strings.Contains(err.Error(), path+": config: alerts: alert 0 (cpu): notify: unknown receiver \"pager\"") {
		t.Fatalf("error %v", err)
	}
}

// TestBadConfigs lists the bad inputs of the engines' and producers'
// sections tried and the error each must give.
func TestBadConfigs(t *testing.T) {
	tests := []struct {
		name, yaml, want string
	}{
		{"unknown key", "nope: 1", "field nope not found"},
		{"server part", "heartbeat: -1s", "heartbeat"},
		{"rollup no topic", "rollups: [{windows: [1m]}]", "rollups: rollup 0"},
		{"rollup bad pattern", "rollups: [{topic: 'a.>.b', name: x}]", "last segment"},
		{"rollup of rollups", "rollups: [{topic: 'rollup.>', name: x}]", "rolled up again"},
		{"rollup sys", "rollups: [{topic: sys.connections}]", "sys topics"},
		{"rollup wildcard unnamed", "rollups: [{topic: 'host.*.cpu'}]", "name is required"},
		{"rollup bad window", "rollups: [{topic: a, windows: [yesterday]}]", "use today or a duration"},
		{"rollup tiny window", "rollups: [{topic: a, windows: [1ms]}]", "at least 1s"},
		{"rollup same name", "rollups: [{topic: a}, {topic: b, name: a}]", "already used"},
		{"rollup negative throttle", "rollups: [{topic: a, throttle: -1s}]", "negative"},
		{"rollup bad throttle", "rollups: [{topic: a, throttle: soon}]", "soon"},
		{"rollup unknown key", "rollups: [{topic: a, windoes: [1m]}]", "windoes"},
		{"alert bad op", "alerts: [{name: a, topic: x, op: '=>', threshold: 1}]", `op "=>"`},
		{"alert no name", "alerts: [{topic: x, op: '>', threshold: 1}]", "name is required"},
		{"alert bad name", "alerts: [{name: 'a b', topic: x, op: '>'}]", "name"},
		{"alert bad pattern", "alerts: [{name: a, topic: 'x..y', op: '>'}]", "empty segment"},
		{"alert sys topic", "alerts: [{name: a, topic: 'sys.>', op: '>'}]", "sys topics"},
		{"alert own topics", "alerts: [{name: a, topic: 'alerts.>', op: '>'}]", "feed itself"},
		{"alert negative for", "alerts: [{name: a, topic: x, op: '>', for: -5s}]", "for must not be negative"},
		{"alert bad for", "alerts: [{name: a, topic: x, op: '>', for: forever}]", "forever"},
		{"alert unknown severity", "alerts: [{name: a, topic: x, op: '>', severity: fatal}]", `severity "fatal"`},
		{"alert bad template", "alerts: [{name: a, topic: x, op: '>', message: '{{.Value'}]", "message"},
		{"alert unknown template field", "alerts: [{name: a, topic: x, op: '>', message: '{{.Valu}}'}]", "Valu"},
		{"alert clear wrong side", "alerts: [{name: a, topic: x, op: '>', threshold: 5, clear: 7}]", "clear"},
		{"alert duplicate", "alerts: [{name: a, topic: x, op: '>'}, {name: a, topic: y, op: '<'}]", "already used"},
		{"alert threshold not a number", "alerts: [{name: a, topic: x, op: '>', threshold: high}]", "high"},
		{"scrape no url", "scrape: [{interval: 5s}]", "url is required"},
		{"scrape bad url", "scrape: [{url: 'http://[::1'}]", "url"},
		{"scrape bad scheme", "scrape: [{url: 'ftp://h/m'}]", "scheme"},
		{"scrape no host", "scrape: [{url: '/metrics'}]", "scheme"},
		{"scrape short interval", "scrape: [{url: 'http://h/m', interval: 10ms}]", "at least 1s"},
		{"scrape bad prefix", "scrape: [{url: 'http://h/m', prefix: 'a b'}]", "prefix"},
		{"scrape sys prefix", "scrape: [{url: 'http://h/m', prefix: sys.x}]", "sys"},
		{"scrape same prefix", "scrape: [{url: 'http://h/a'}, {url: 'http://h/b'}]", "already used"},
		{"notify unknown receiver", "notify: [{name: ops, url: 'http://h/x'}]\nalerts: [{name: a, topic: x, op: '>', notify: [pager]}]", `config: alerts: alert 0 (a): notify: unknown receiver "pager" (receivers: ops)`},
		{"notify bad url", "notify: [{name: ops, url: 'h/x'}]", `config: notify: receiver 0 (ops): url "h/x"`},
		{"notify bad format", "notify: [{name: ops, url: 'http://h/x', format: teams}]", `config: notify: receiver 0 (ops): format "teams": use json or slack`},
		{"notify duplicate", "notify: [{name: ops, url: 'http://h/x'}, {name: ops, url: 'http://h/y'}]", `receiver 1: name "ops" is already used by receiver 0`},
		{"notify bad timeout", "notify: [{name: ops, url: 'http://h/x', timeout: soon}]", "soon"},
		{"notify unknown key", "notify: [{name: ops, url: 'http://h/x', secrt: x}]", "secrt"},
		{"scrape bad metrics pattern", "scrape: [{url: 'http://h/m', metrics: ['node_[']}]", "bad pattern"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseConfig([]byte(tt.yaml))
			if err == nil {
				t.Fatalf("no error for %s", tt.yaml)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q, want one containing %q", err, tt.want)
			}
		})
	}
}
