package main

import (
	"fmt"

	"github.com/livedash/livedash/alert"
	"github.com/livedash/livedash/config"
	"github.com/livedash/livedash/notify"
	"github.com/livedash/livedash/producer"
	"github.com/livedash/livedash/rollup"
)

// serverConfig is the configuration file: package config's part (the
// server's) with, beside it in the same YAML document, the sections the
// engines and producers own and validate.
type serverConfig struct {
	config.Config `yaml:",inline"`
	// Rollups are server-side aggregates, published on rollup.<name>.<window>.
	Rollups []rollup.Rule `yaml:"rollups"`
	// Alerts are alert rules, published on alerts.<name> and sys.alerts.
	Alerts []alert.Rule `yaml:"alerts"`
	// Scrape lists Prometheus text endpoints to poll.
	Scrape []producer.ScrapeTarget `yaml:"scrape"`
	// Notify lists the receivers alert rules may send notifications to
	// (a rule's notify: [names]).
	Notify []notify.Receiver `yaml:"notify"`
}

// defaultConfig is the configuration used when no file is given.
func defaultConfig() serverConfig { return serverConfig{Config: config.Default()} }

// loadConfig reads the configuration file at path over the defaults; an
// error names the file, the section, the entry and the field.
func loadConfig(path string) (serverConfig, error) {
	c := defaultConfig()
	err := config.LoadFile(path, &c)
	return c, err
}

// parseConfig reads configuration text over the defaults and validates it.
func parseConfig(b []byte) (serverConfig, error) {
	c := defaultConfig()
	err := config.ParseFile(b, &c)
	return c, err
}

// Validate checks the server's part, then each section with the package
// that owns it.
func (c serverConfig) Validate() error {
	if err := c.Config.Validate(); err != nil {
		return err
	}
	if err := rollup.ValidateRules(c.Rollups); err != nil {
		return fmt.Errorf("config: rollups: %w", err)
	}
	if err := alert.ValidateRules(c.Alerts); err != nil {
		return fmt.Errorf("config: alerts: %w", err)
	}
	if err := notify.Validate(c.Notify, c.Alerts); err != nil {
		return fmt.Errorf("config: %w", err)
	}
	if err := producer.ValidateTargets(c.Scrape); err != nil {
		return fmt.Errorf("config: %w", err)
	}
	return nil
}
