package producer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/livedash/livedash"
	"github.com/livedash/livedash/counter"
	"github.com/livedash/livedash/promtext"
)

// Scrape defaults and limits.
const (
	DefaultScrapeInterval = 15 * time.Second
	MinScrapeInterval     = time.Second
	MaxScrapeTimeout      = 10 * time.Second
	// MaxScrapeBytes caps the body read from one target.
	MaxScrapeBytes = 16 << 20
	// MaxScrapeSamples caps the samples taken from one scrape; the rest
	// are dropped (and the scrape logged as truncated).
	MaxScrapeSamples = 20000
)

// ScrapeTarget is one Prometheus text endpoint to poll, as written in the
// config's scrape list.
type ScrapeTarget struct {
	// URL of the metrics page, http or https.
	URL string `yaml:"url"`
	// Interval between scrapes; DefaultScrapeInterval if zero, at least 1s.
	Interval time.Duration `yaml:"interval"`
	// Prefix is the topic prefix of the samples; default
	// "scrape.<host>-<port>" from the URL.
	Prefix string `yaml:"prefix"`
	// BearerToken, if set, is sent as "Authorization: Bearer <token>".
	BearerToken string `yaml:"bearer_token"`
	// Timeout of one scrape; default the interval, at most 10s.
	Timeout time.Duration `yaml:"timeout"`
	// Metrics, if set, keeps only the samples whose name matches one of
	// these shell patterns (*, ?, [...], as path.Match); a histogram's or
	// summary's _bucket, _sum and _count series also match by the base
	// name. <prefix>.up is always published.
	Metrics []string `yaml:"metrics"`
}

// Validate checks the target and says what is wrong in terms of its config.
func (t ScrapeTarget) Validate() error {
	if t.URL == "" {
		return errors.New("url is required")
	}
	u, err := url.Parse(t.URL)
	if err != nil {
		return fmt.Errorf("url %q: %w", t.URL, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("url %q: scheme must be http or https", t.URL)
	}
	if u.Host == "" {
		return fmt.Errorf("url %q: host is missing", t.URL)
	}
	if t.Interval != 0 && t.Interval < MinScrapeInterval {
		return fmt.Errorf("interval %v: must be at least %v", t.Interval, MinScrapeInterval)
	}
	if t.Timeout < 0 {
		return errors.New("timeout must not be negative")
	}
	prefix := t.TopicPrefix()
	if err := livedash.ValidateTopic(prefix); err != nil {
		return fmt.Errorf("prefix: %w", err)
	}
	if livedash.IsSys(prefix) || prefix == "sys" {
		return fmt.Errorf("prefix %q: sys topics are the server's own", prefix)
	}
	if strings.ContainsAny(t.BearerToken, "\r\n") {
		return errors.New("bearer_token must be on one line")
	}
	for _, p := range t.Metrics {
		if p == "" {
			return errors.New("metrics: an empty pattern matches nothing")
		}
		if strings.ContainsFunc(p, func(r rune) bool { return !strings.ContainsRune(metricPatternChars, r) }) {
			return fmt.Errorf("metrics: %q: characters other than a metric name's and *?[]^!-", p)
		}
		if _, err := path.Match(p, ""); err != nil {
			return fmt.Errorf("metrics: %q: bad pattern (%v)", p, err)
		}
	}
	return nil
}

// ValidateTargets checks the config's scrape list: every target, and that
// no two publish under the same prefix. Errors name the entry by index
// (and URL) and the field.
func ValidateTargets(targets []ScrapeTarget) error {
	prefixes := map[string]int{}
	for i, t := range targets {
		if err := t.Validate(); err != nil {
			return fmt.Errorf("scrape %d (%s): %w", i, t.URL, err)
		}
		if j, ok := prefixes[t.TopicPrefix()]; ok {
			return fmt.Errorf("scrape %d: prefix %q is already used by scrape %d (set prefix)", i, t.TopicPrefix(), j)
		}
		prefixes[t.TopicPrefix()] = i
	}
	return nil
}

const metricPatternChars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_:*?[]^!-"

// keeps reports whether a sample name passes the Metrics allow-list.
func (t ScrapeTarget) keeps(name string) bool {
	if len(t.Metrics) == 0 {
		return true
	}
	base := name
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		if b, ok := strings.CutSuffix(name, suffix); ok {
			base = b
			break
		}
	}
	for _, p := range t.Metrics {
		if ok, _ := path.Match(p, name); ok {
			return true
		}
		if ok, _ := path.Match(p, base); ok {
			return true
		}
	}
	return false
}

// TopicPrefix returns Prefix, or "scrape.<host>-<port>" from the URL.
func (t ScrapeTarget) TopicPrefix() string {
	if t.Prefix != "" {
		return t.Prefix
	}
	host := "target"
	if u, err := url.Parse(t.URL); err == nil && u.Host != "" {
		host = u.Host
	}
	return "scrape." + sanitizeSegment(host, 64, "target")
}

// redactedURL is URL with any password replaced, for logs and errors.
func (t ScrapeTarget) redactedURL() string {
	if u, err := url.Parse(t.URL); err == nil {
		return u.Redacted()
	}
	return "(unparsable url)"
}

func (t ScrapeTarget) interval() time.Duration {
	if t.Interval <= 0 {
		return DefaultScrapeInterval
	}
	return t.Interval
}

func (t ScrapeTarget) timeout() time.Duration {
	if t.Timeout > 0 {
		return t.Timeout
	}
	return min(t.interval(), MaxScrapeTimeout)
}

// Scraper polls one Prometheus text endpoint and publishes its samples.
// Each scrape publishes, all with the scrape's time as ts:
//
//	<prefix>.<name>   point  the value, for a sample name with one unlabelled sample
//	<prefix>.<name>   point  {"<label>=<value>,…":value,…} for a name with labels
//	<prefix>.up       point  1 when the scrape succeeded, 0 when it failed
//
//	<prefix>.<name>.rate  point  for a counter (a name ending in _total, or
//	                        typed counter by its # TYPE line): the per-second
//	                        rate of each of its samples since the previous
//	                        scrape, in the same shape; a counter that went
//	                        down restarted, and counts from zero
//
// <name> is the sample name (so a histogram gives <name>_bucket, _sum and
// _count) with ':' turned into '_'. NaN and infinite values are left out
// (JSON has no number for them). Only the names the target's Metrics
// allow-list keeps are published. Set the fields before Run.
type Scraper struct {
	Target    ScrapeTarget
	Publisher livedash.Publisher
	// Client makes the requests; a client with no cookie jar if nil.
	Client *http.Client
	// Now gives each scrape its ts; time.Now if nil.
	Now func() time.Time
	// Ticks, if set, paces the scrapes instead of a ticker of the
	// interval; Run returns when it is closed.
	Ticks <-chan time.Time
	// Logger gets failures (when a target goes down and comes back); nil discards.
	Logger *slog.Logger

	ratesOnce sync.Once
	rates     *counter.Rates // the last value of each counter sample
}

// Run scrapes at once and then every interval until ctx is done (or Ticks
// is closed), and returns nil. A failed scrape publishes <prefix>.up 0 and
// is retried at the next interval.
func (s *Scraper) Run(ctx context.Context) error {
	if s.Publisher == nil {
		return errors.New("scrape: no publisher")
	}
	if err := s.Target.Validate(); err != nil {
		return fmt.Errorf("scrape %s: %w", s.Target.redactedURL(), err)
	}
	log := s.Logger
	if log == nil {
		log = discardLogger()
	}
	ticks := s.Ticks
	if ticks == nil {
		t := time.NewTicker(s.Target.interval())
		defer t.Stop()
		ticks = t.C
	}
	wasUp := true
	for {
		msgs, err := s.Scrape(ctx)
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil && wasUp:
			log.Warn("scrape: target is down", "url", s.Target.redactedURL(), "err", err)
		case err == nil && !wasUp:
			log.Info("scrape: target is back", "url", s.Target.redactedURL())
		}
		wasUp = err == nil
		publishAll(ctx, s.Publisher, log, "scrape", msgs)
		select {
		case <-ctx.Done():
			return nil
		case _, ok := <-ticks:
			if !ok {
				return nil
			}
		}
	}
}

// Scrape polls the target once and returns the messages to publish: the
// samples and <prefix>.up. On failure it returns the error and only
// <prefix>.up 0.
func (s *Scraper) Scrape(ctx context.Context) ([]livedash.Message, error) {
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	prefix := s.Target.TopicPrefix()
	ts := now().UnixMilli()
	samples, err := s.fetch(ctx)
	up := 1
	if err != nil {
		up = 0
	}
	upMsg, uerr := newMessage(prefix+".up", livedash.TypePoint, ts, up)
	if uerr != nil {
		return nil, uerr
	}
	if err != nil {
		return []livedash.Message{upMsg}, err
	}
	s.ratesOnce.Do(func() { s.rates = counter.New(MaxScrapeSamples) })
	kept := samples[:0]
	for _, smp := range samples {
		if s.Target.keeps(smp.Name) {
			kept = append(kept, smp)
		}
	}
	msgs, err := samplesToMessages(prefix, ts, kept, s.rates)
	return append(msgs, upMsg), err
}

func (s *Scraper) fetch(ctx context.Context) ([]promtext.Sample, error) {
	ctx, cancel := context.WithTimeout(ctx, s.Target.timeout())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.Target.URL, nil)
	if err != nil {
		return nil, fmt.Errorf("scrape %s: %w", s.Target.redactedURL(), err)
	}
	req.Header.Set("Accept", "text/plain;version=0.0.4;q=1,*/*;q=0.1")
	if s.Target.BearerToken != "" {
		req.Header.Set("Authorization", "Bearer "+s.Target.BearerToken)
	}
	client := s.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err // a *url.Error, which names the URL without its password
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		return nil, fmt.Errorf("scrape %s: status %s", s.Target.redactedURL(), resp.Status)
	}
	samples, err := promtext.Parse(io.LimitReader(resp.Body, MaxScrapeBytes), MaxScrapeSamples)
	if err != nil && !errors.Is(err, promtext.ErrTooManySamples) { // too many: keep the first ones
		return nil, fmt.Errorf("scrape %s: %w", s.Target.redactedURL(), err)
	}
	return samples, nil
}

// samplesToMessages groups samples by name into one point message each,
// in the order the names first appear, each counter followed by its rate
// message (once rates knows a previous value).
func samplesToMessages(prefix string, ts int64, samples []promtext.Sample, rates *counter.Rates) ([]livedash.Message, error) {
	type group struct {
		name    string
		samples []promtext.Sample
	}
	var groups []*group
	byName := map[string]*group{}
	for _, smp := range samples {
		if math.IsNaN(smp.Value) || math.IsInf(smp.Value, 0) {
			continue
		}
		g := byName[smp.Name]
		if g == nil {
			g = &group{name: smp.Name}
			byName[smp.Name] = g
			groups = append(groups, g)
		}
		g.samples = append(g.samples, smp)
	}
	msgs := make([]livedash.Message, 0, len(groups))
	for _, g := range groups {
		topic := prefix + "." + strings.ReplaceAll(g.name, ":", "_")
		values := make([]float64, len(g.samples))
		for i, smp := range g.samples {
			values[i] = smp.Value
		}
		m, err := newMessage(topic, livedash.TypePoint, ts, sampleData(g.samples, values))
		if err != nil {
			return msgs, fmt.Errorf("sample %s: %w", g.name, err)
		}
		msgs = append(msgs, m)
		if !g.samples[0].IsCounter() {
			continue
		}
		var withRate []promtext.Sample
		var perSecond []float64
		for _, smp := range g.samples {
			if r, ok := rates.Rate(topic+"\x00"+smp.LabelKey(), smp.Value, ts*1e6, 0); ok {
				withRate = append(withRate, smp)
				perSecond = append(perSecond, r)
			}
		}
		if len(withRate) == 0 {
			continue
		}
		if m, err = newMessage(topic+".rate", livedash.TypePoint, ts, sampleData(withRate, perSecond)); err != nil {
			return msgs, fmt.Errorf("sample %s: %w", g.name, err)
		}
		msgs = append(msgs, m)
	}
	return msgs, nil
}

// sampleData is the data of one name's samples: the value alone for one
// unlabelled sample, else {"<labels>":value,…}.
func sampleData(samples []promtext.Sample, values []float64) any {
	if len(samples) == 1 && len(samples[0].Labels) == 0 {
		return values[0]
	}
	obj := make(map[string]float64, len(samples))
	for i, smp := range samples {
		obj[smp.LabelKey()] = values[i]
	}
	return obj
}
