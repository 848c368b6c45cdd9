package main

import (
	"context"
	"fmt"
	"io"

	"github.com/livedash/livedash/client"
)

// runPublish publishes DATA (or stdin) to TOPIC and prints the new id.
func runPublish(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlags("publish", stderr)
	u := fs.String("url", envOr(getenv, "LIVEDASH_URL", "http://localhost:8080"), "server URL")
	tok := fs.String("token", getenv("LIVEDASH_TOKEN"), "token")
	typ := fs.String("type", "", "message type (default point)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() < 1 || fs.NArg() > 2 {
		return usageError{"publish: usage: livedash publish [--url U] [--token T] [--type T] TOPIC [DATA|-]"}
	}
	topic := fs.Arg(0)
	var data []byte
	if fs.NArg() == 2 && fs.Arg(1) != "-" {
		data = []byte(fs.Arg(1))
	} else {
		b, err := io.ReadAll(io.LimitReader(stdin, 64<<20))
		if err != nil {
			return fmt.Errorf("publish: read stdin: %w", err)
		}
		data = b
	}
	c := &client.Client{BaseURL: *u, Token: *tok}
	id, err := c.PublishData(ctx, topic, *typ, data)
	if err != nil {
		return fmt.Errorf("publish: %w", err)
	}
	fmt.Fprintln(stdout, id)
	return nil
}
