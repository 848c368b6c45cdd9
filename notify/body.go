package notify

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// SignatureHeader carries the body's signature when a receiver has a secret.
const SignatureHeader = "X-Livedash-Signature"

// IDHeader carries the notification's id (the alert message's id) on every try.
const IDHeader = "X-Livedash-Id"

// StateTest is the state of a test notification (POST /api/v1/notify/test).
const StateTest = "test"

// Alert is what a notification tells: the facts of one alert message. It
// is the json format's body.
type Alert struct {
	// ID is the alert message's id (on alerts.<rule>): the same on every
	// try, so a receiver can drop repeats.
	ID        string  `json:"id"`
	Rule      string  `json:"rule"`
	Topic     string  `json:"topic"`
	State     string  `json:"state"` // firing, resolved, or test
	Severity  string  `json:"severity"`
	Value     float64 `json:"value"`
	Threshold float64 `json:"threshold"`
	Message   string  `json:"message"`
	// TS is the alert message's time, unix ms.
	TS int64 `json:"ts"`
	// URL opens the topic in livedash's explore view.
	URL string `json:"url"`
}

// Sign returns the X-Livedash-Signature value of body under secret.
func Sign(secret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// ExploreURL is the link to topic in the explore view of the server at base.
func ExploreURL(base, topic string) string {
	return strings.TrimRight(base, "/") + "/explore?topic=" + url.QueryEscape(topic)
}

// Body renders a in a receiver's format.
func Body(format string, a Alert) []byte {
	var v any = a
	if format == FormatSlack {
		v = slackBody(a)
	}
	b, _ := json.Marshal(v) // plain structs and strings: cannot fail
	return b
}

// slack is an incoming-webhook message: text (shown in notifications and
// by clients without blocks) and blocks with the same facts.
type slack struct {
	Text   string       `json:"text"`
	Blocks []slackBlock `json:"blocks"`
}

type slackBlock struct {
	Type     string      `json:"type"`
	Text     *slackText  `json:"text,omitempty"`
	Fields   []slackText `json:"fields,omitempty"`
	Elements []slackText `json:"elements,omitempty"`
}

type slackText struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

func slackBody(a Alert) slack {
	md := func(s string) slackText { return slackText{Type: "mrkdwn", Text: s} }
	head := fmt.Sprintf("%s [%s] %s", slackIcon(a), strings.ToUpper(a.State), a.Rule)
	num := func(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }
	return slack{
		Text: slackEscape(head + ": " + a.Message),
		Blocks: []slackBlock{
			{Type: "section", Text: ptr(md("*" + slackEscape(head) + "* (" + a.Severity + ")\n" + slackEscape(a.Message)))},
			{Type: "section", Fields: []slackText{
				md("*Topic*\n" + slackEscape(a.Topic)),
				md("*Value*\n" + num(a.Value) + " (threshold " + num(a.Threshold) + ")"),
			}},
			{Type: "context", Elements: []slackText{
				md("<" + a.URL + "|Open in livedash> · " + time.UnixMilli(a.TS).UTC().Format(time.RFC3339) + " · id " + a.ID),
			}},
		},
	}
}

func ptr[T any](v T) *T { return &v }

func slackIcon(a Alert) string {
	switch {
	case a.State == StateTest:
		return ":information_source:"
	case a.State != "firing":
		return ":large_green_circle:"
	case a.Severity == "critical":
		return ":red_circle:"
	}
	return ":large_orange_circle:"
}

// slackEscape escapes the three characters Slack's mrkdwn gives meaning to.
func slackEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}
