package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/livedash/livedash/client"
)

// runTail prints every message on the patterns as one JSON envelope per
// line, resuming by id after a dropped connection, until interrupted.
func runTail(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlags("tail", stderr)
	u := fs.String("url", envOr(getenv, "LIVEDASH_URL", "http://localhost:8080"), "server URL")
	tok := fs.String("token", getenv("LIVEDASH_TOKEN"), "token")
	backlog := fs.Int("backlog", -1, "recent messages per topic to print first (default: the server's, 50)")
	since := fs.String("since", "", "resume after this id")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return usageError{"tail: usage: livedash tail [--url U] [--token T] PATTERN…"}
	}
	o := client.StreamOptions{
		Patterns: fs.Args(),
		Since:    *since,
		OnError:  func(err error) { fmt.Fprintf(stderr, "livedash tail: %v; reconnecting\n", err) },
	}
	if *backlog >= 0 {
		o.Backlog = backlog
	}
	c := &client.Client{BaseURL: *u, Token: *tok}
	err := c.Stream(ctx, o, func(ev client.Event) error {
		if ev.Type == "reset" {
			fmt.Fprintf(stderr, "livedash tail: reset: %s\n", ev.Data)
			return nil
		}
		_, err := fmt.Fprintf(stdout, "%s\n", ev.Data)
		return err
	})
	if errors.Is(err, context.Canceled) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("tail: %w", err)
	}
	return nil
}
