// Package alert owns livedash's alert rules: it watches the numeric value
// of the topics a rule matches and runs one state machine per (rule, topic):
//
//	ok → pending (condition true, waiting For) → firing → ok again once the
//	value is past the clear threshold ("resolved")
//
// publishing an alert message when a rule fires and another when it
// resolves, on alerts.<rule> and on sys.alerts. Pending and firing states
// are saved, so that a restart neither forgets a firing alert nor fires it
// twice.
//
// The Engine consumes committed messages (Observe, in id order, from one
// goroutine), fires rules whose For elapsed with no new message on a clock
// (Tick / Run) and publishes through a livedash.Publisher; what every engine
// does besides (frames seen, publishing, saving, the tick loop) is package
// engine's Core. It keeps no global state; time comes from an injected
// clock.
package alert

import (
	"bytes"
	"fmt"
	"strings"
	"text/template"
	"time"

	"github.com/livedash/livedash"
)

// Prefix starts the topic each rule publishes on: alerts.<rule>.
const Prefix = "alerts."

// SysTopic receives every alert of every rule, for admins.
const SysTopic = "sys.alerts"

// Severities.
const (
	SeverityInfo     = "info"
	SeverityWarning  = "warning"
	SeverityCritical = "critical"
)

// States published in alert data.
const (
	StateFiring   = "firing"
	StateResolved = "resolved"
)

// Rule is one alert rule, as written in the config's alerts list.
type Rule struct {
	// Name names the rule; it publishes on alerts.<name>.
	Name string `yaml:"name"`
	// Topic is the topic or pattern watched; each matching topic has its
	// own state.
	Topic string `yaml:"topic"`
	// Field is the numeric field of object data (a dotted path reaches
	// into nested objects); empty means the data is the number.
	Field string `yaml:"field"`
	// Op compares the value (left) with the threshold: > >= < <= == !=.
	Op string `yaml:"op"`
	// Threshold is the value the condition compares with.
	Threshold float64 `yaml:"threshold"`
	// For is how long the condition must hold before the rule fires;
	// zero fires at the first value past the threshold.
	For time.Duration `yaml:"for"`
	// Clear, if set, is the hysteresis threshold: a firing alert resolves
	// only when the condition is false against Clear (e.g. fire above 5,
	// resolve below 3). It must be on the resolving side of Threshold.
	// Without it the alert resolves when the condition is false.
	Clear *float64 `yaml:"clear"`
	// Severity of the firing alert: info, warning (default) or critical.
	// A resolution is always info.
	Severity string `yaml:"severity"`
	// Message is a text/template for the firing alert's message, with
	// .Value .Threshold .Topic .Rule .State and .Severity.
	Message string `yaml:"message"`
	// ResolvedMessage is the template of the resolution's message;
	// default "Resolved: " followed by Message.
	ResolvedMessage string `yaml:"resolved_message"`
	// Notify names the receivers (the config's notify list) sent a
	// notification when the rule fires and when it resolves; package
	// notify checks the names and delivers.
	Notify []string `yaml:"notify"`
}

// TemplateData is what the message templates are given.
type TemplateData struct {
	Rule      string
	Topic     string
	Value     float64
	Threshold float64
	State     string
	Severity  string
}

// DefaultMessage is the firing message of a rule without Message.
const DefaultMessage = `{{.Rule}}: {{.Topic}} is {{.Value}}`

var ops = map[string]func(a, b float64) bool{
	">":  func(a, b float64) bool { return a > b },
	">=": func(a, b float64) bool { return a >= b },
	"<":  func(a, b float64) bool { return a < b },
	"<=": func(a, b float64) bool { return a <= b },
	"==": func(a, b float64) bool { return a == b },
	"!=": func(a, b float64) bool { return a != b },
}

// Validate checks the rule and says what is wrong in terms of its config.
func (r Rule) Validate() error {
	_, err := compile(r)
	return err
}

// ValidateRules checks every rule and that names are unique.
func ValidateRules(rules []Rule) error {
	seen := map[string]int{}
	for i, r := range rules {
		if err := r.Validate(); err != nil {
			return fmt.Errorf("alert %d (%s): %w", i, r.Name, err)
		}
		if j, ok := seen[r.Name]; ok {
			return fmt.Errorf("alert %d: name %q is already used by alert %d", i, r.Name, j)
		}
		seen[r.Name] = i
	}
	return nil
}

// compiled is a checked rule, ready to evaluate.
type compiled struct {
	Rule
	cond     func(a, b float64) bool
	clear    float64
	severity string
	topic    string // alerts.<name>
	message  *template.Template
	resolved *template.Template
}

func compile(r Rule) (*compiled, error) {
	if r.Name == "" {
		return nil, fmt.Errorf("name is required")
	}
	if err := livedash.ValidateTopic(Prefix + r.Name); err != nil {
		return nil, fmt.Errorf("name %q: %w", r.Name, err)
	}
	if r.Topic == "" {
		return nil, fmt.Errorf("topic is required")
	}
	if err := livedash.ValidatePattern(r.Topic); err != nil {
		return nil, fmt.Errorf("topic: %w", err)
	}
	if livedash.IsSys(r.Topic) {
		return nil, fmt.Errorf("topic %q: sys topics cannot be watched (alerts are readable by non-admins)", r.Topic)
	}
	if r.Topic == "alerts" || strings.HasPrefix(r.Topic, Prefix) {
		return nil, fmt.Errorf("topic %q: alerts topics cannot be watched (an alert would feed itself)", r.Topic)
	}
	if r.Field != "" {
		for part := range strings.SplitSeq(r.Field, ".") {
			if part == "" {
				return nil, fmt.Errorf("field %q has an empty path segment", r.Field)
			}
		}
	}
	c := &compiled{Rule: r, cond: ops[r.Op], clear: r.Threshold, severity: r.Severity, topic: Prefix + r.Name}
	if c.cond == nil {
		return nil, fmt.Errorf("op %q: use one of > >= < <= == !=", r.Op)
	}
	if r.For < 0 {
		return nil, fmt.Errorf("for must not be negative")
	}
	if r.Clear != nil {
		switch r.Op {
		case ">", ">=":
			if *r.Clear > r.Threshold {
				return nil, fmt.Errorf("clear %v must not be above threshold %v for op %s", *r.Clear, r.Threshold, r.Op)
			}
		case "<", "<=":
			if *r.Clear < r.Threshold {
				return nil, fmt.Errorf("clear %v must not be below threshold %v for op %s", *r.Clear, r.Threshold, r.Op)
			}
		default:
			return nil, fmt.Errorf("clear needs op > >= < or <=, not %s", r.Op)
		}
		c.clear = *r.Clear
	}
	switch c.severity {
	case "":
		c.severity = SeverityWarning
	case SeverityInfo, SeverityWarning, SeverityCritical:
	default:
		return nil, fmt.Errorf("severity %q: use info, warning or critical", r.Severity)
	}
	msg := r.Message
	if msg == "" {
		msg = DefaultMessage
	}
	var err error
	if c.message, err = parseTemplate("message", msg); err != nil {
		return nil, err
	}
	resolved := r.ResolvedMessage
	if resolved == "" {
		resolved = "Resolved: " + msg
	}
	if c.resolved, err = parseTemplate("resolved_message", resolved); err != nil {
		return nil, err
	}
	return c, nil
}

// parseTemplate parses a message template and runs it once on sample data,
// so that a misspelt field is reported with the config, not at 3 a.m.
func parseTemplate(what, text string) (*template.Template, error) {
	t, err := template.New(what).Option("missingkey=error").Parse(text)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, TemplateData{Rule: "r", Topic: "a.b", Value: 1, Threshold: 2, State: StateFiring, Severity: SeverityWarning}); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return t, nil
}

func render(t *template.Template, d TemplateData) string {
	var buf bytes.Buffer
	if err := t.Execute(&buf, d); err != nil {
		return fmt.Sprintf("%s: %s is %v (message template failed: %v)", d.Rule, d.Topic, d.Value, err)
	}
	return buf.String()
}
