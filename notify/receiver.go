// Package notify owns alert notifications: the receivers of the config's
// notify section (webhooks taking a JSON or a Slack body, optionally signed
// with HMAC-SHA256), the bodies they are sent, and their delivery.
//
// The Service reads the alerts the alert engine stores on sys.alerts
// (written by the server only, so a publisher cannot forge a notification),
// queues one notification per receiver of the alert's rule in a durable
// Queue (SQLite, or Redis in a cluster) together with how far it has read,
// and sends the queue with one worker per receiver: retries with
// exponential backoff on network errors, timeouts, 5xx and 429 (honouring
// Retry-After) for a bounded time, none on other answers. A crash at any
// point loses nothing; at worst a notification is sent once more, with the
// same id. Each try's outcome is published on sys.notify and counted.
package notify

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/livedash/livedash/alert"
)

// Formats of a receiver's body.
const (
	FormatJSON  = "json"
	FormatSlack = "slack"
)

// Defaults of a Receiver.
const (
	DefaultTimeout  = 10 * time.Second
	DefaultRetryFor = 24 * time.Hour
	MaxTimeout      = 5 * time.Minute
)

// Receiver is one entry of the config's notify list: where and how
// notifications are sent.
type Receiver struct {
	// Name names the receiver for alert rules (notify: [name]), metrics
	// and sys.notify.
	Name string `yaml:"name"`
	// URL is the http(s) endpoint POSTed to.
	URL string `yaml:"url"`
	// Format is the body: json (default) or slack (an incoming webhook).
	Format string `yaml:"format"`
	// Secret, if set, signs each body: X-Livedash-Signature:
	// sha256=<hex HMAC-SHA256 of the body with Secret as key>.
	Secret string `yaml:"secret"`
	// Headers are extra request headers (e.g. Authorization).
	Headers map[string]string `yaml:"headers"`
	// Timeout bounds one try (default 10s).
	Timeout time.Duration `yaml:"timeout"`
	// RetryFor is how long a notification is retried after it was queued
	// (default 24h); then it is given up.
	RetryFor time.Duration `yaml:"retry_for"`
}

var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)

var headerRE = regexp.MustCompile(`^[A-Za-z0-9!#$%&'*+.^_` + "`" + `|~-]+$`)

// withDefaults returns r with its zero fields set to the defaults.
func (r Receiver) withDefaults() Receiver {
	if r.Format == "" {
		r.Format = FormatJSON
	}
	if r.Timeout == 0 {
		r.Timeout = DefaultTimeout
	}
	if r.RetryFor == 0 {
		r.RetryFor = DefaultRetryFor
	}
	return r
}

// Validate checks the receiver and says what is wrong in terms of its
// config fields.
func (r Receiver) Validate() error {
	if !nameRE.MatchString(r.Name) {
		return fmt.Errorf("name %q: use 1 to 64 letters, digits, '.', '_' or '-'", r.Name)
	}
	u, err := url.Parse(r.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("url %q: must be an http:// or https:// URL with a host", redact(r.URL))
	}
	switch r.Format {
	case "", FormatJSON, FormatSlack:
	default:
		return fmt.Errorf("format %q: use json or slack", r.Format)
	}
	if r.Timeout < 0 || r.Timeout > MaxTimeout {
		return fmt.Errorf("timeout %v: must be between 0 (default %v) and %v", r.Timeout, DefaultTimeout, MaxTimeout)
	}
	if r.RetryFor < 0 {
		return fmt.Errorf("retry_for must not be negative")
	}
	for k, v := range r.Headers {
		if !headerRE.MatchString(k) {
			return fmt.Errorf("headers: %q is not a valid header name", k)
		}
		switch lk := strings.ToLower(k); {
		case lk == "host" || lk == "content-length" || strings.HasPrefix(lk, "x-livedash-"):
			return fmt.Errorf("headers: %s is set by the server", k)
		}
		if strings.ContainsAny(v, "\r\n") {
			return fmt.Errorf("headers: %s: a value may not hold a line break", k)
		}
	}
	return nil
}

// Validate checks every receiver, that their names are unique, and that
// every receiver an alert rule names in notify exists. Errors name the
// entry (receiver or rule, by index and name) and the field.
func Validate(receivers []Receiver, rules []alert.Rule) error {
	seen := map[string]int{}
	var names []string
	for i, r := range receivers {
		if err := r.Validate(); err != nil {
			return fmt.Errorf("notify: receiver %d (%s): %w", i, r.Name, err)
		}
		if j, ok := seen[r.Name]; ok {
			return fmt.Errorf("notify: receiver %d: name %q is already used by receiver %d", i, r.Name, j)
		}
		seen[r.Name] = i
		names = append(names, r.Name)
	}
	known := "none are configured under notify"
	if len(names) > 0 {
		known = "receivers: " + strings.Join(names, ", ")
	}
	for i, rule := range rules {
		for k, n := range rule.Notify {
			if _, ok := seen[n]; !ok {
				return fmt.Errorf("alerts: alert %d (%s): notify: unknown receiver %q (%s)", i, rule.Name, n, known)
			}
			if slices.Index(rule.Notify, n) != k {
				return fmt.Errorf("alerts: alert %d (%s): notify: receiver %q is listed twice", i, rule.Name, n)
			}
		}
	}
	return nil
}

// redact hides a password in a URL for messages and logs.
func redact(s string) string {
	if u, err := url.Parse(s); err == nil && u.User != nil {
		return u.Redacted()
	}
	return s
}
