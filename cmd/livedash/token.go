package main

import (
	"fmt"
	"io"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/livedash/livedash"
	"github.com/livedash/livedash/auth"
)

// runToken mints a token with the server secret and prints it alone on one line.
func runToken(args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlags("token", stderr)
	sub := fs.String("sub", "", "subject: who the token is for (required)")
	var subscribe, publish stringList
	fs.Var(&subscribe, "subscribe", "pattern the token may read (repeatable)")
	fs.Var(&publish, "publish", "pattern the token may publish to (repeatable)")
	admin := fs.Bool("admin", false, "grant every right")
	ttl := fs.Duration("ttl", 24*time.Hour, "time to live")
	data := fs.String("data", envOr(getenv, "LIVEDASH_DATA", "./livedash-data"), "data directory holding the secret")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *sub == "" {
		return usageError{"token: --sub is required"}
	}
	if *ttl <= 0 {
		return usageError{"token: --ttl must be positive"}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("token: unexpected argument %q", fs.Arg(0))}
	}
	channels := map[string]auth.Grant{}
	for _, p := range subscribe {
		g := channels[p]
		g.Subscribe = true
		channels[p] = g
	}
	for _, p := range publish {
		g := channels[p]
		g.Publish = true
		channels[p] = g
	}
	c := auth.Claims{RegisteredClaims: jwt.RegisteredClaims{Subject: *sub}, Admin: *admin}
	if len(channels) > 0 {
		c.Channels = channels
	}
	if err := c.ValidateGrants(); err != nil {
		return usageError{"token: " + livedash.ErrorMessage(err)}
	}
	secret, _, err := auth.Secret(getenv("LIVEDASH_SECRET"), *data)
	if err != nil {
		return err
	}
	tok, err := auth.NewSigner(secret, nil).Mint(c, *ttl)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, tok)
	return nil
}
