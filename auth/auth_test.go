package auth

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/livedash/livedash"
)

var secret = []byte("unit-test-secret")

func fixedNow() time.Time { return time.Unix(1_800_000_000, 0) }

func TestVerifyRefusesBadTokens(t *testing.T) {
	s := NewSigner(secret, fixedNow)
	good, err := s.Mint(Claims{RegisteredClaims: jwt.RegisteredClaims{Subject: "a"}}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if c, err := s.Verify(good); err != nil || c.Subject != "a" {
		t.Fatalf("good token: %v", err)
	}
	exp := jwt.NewNumericDate(fixedNow().Add(time.Hour))
	sign := func(method jwt.SigningMethod, key any, c jwt.Claims) string {
		tok, err := jwt.NewWithClaims(method, c).SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	header := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`))
	payload := base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"a","admin":true,"exp":1900000000}`))
	for name, tok := range map[string]string{
		"expired":        sign(jwt.SigningMethodHS256, secret, Claims{RegisteredClaims: jwt.RegisteredClaims{ExpiresAt: jwt.NewNumericDate(fixedNow().Add(-time.Second))}}),
		"not yet valid":  sign(jwt.SigningMethodHS256, secret, Claims{RegisteredClaims: jwt.RegisteredClaims{ExpiresAt: exp, NotBefore: jwt.NewNumericDate(fixedNow().Add(time.Minute))}}),
		"no exp":         sign(jwt.SigningMethodHS256, secret, Claims{Admin: true}),
		"wrong secret":   sign(jwt.SigningMethodHS256, []byte("other"), Claims{RegisteredClaims: jwt.RegisteredClaims{ExpiresAt: exp}}),
		"HS384":          sign(jwt.SigningMethodHS384, secret, Claims{RegisteredClaims: jwt.RegisteredClaims{ExpiresAt: exp}}),
		"RS256":          sign(jwt.SigningMethodRS256, rsaKey, Claims{RegisteredClaims: jwt.RegisteredClaims{ExpiresAt: exp}}),
		"alg none":       header + "." + payload + ".",
		"none signed":    sign(jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, Claims{RegisteredClaims: jwt.RegisteredClaims{ExpiresAt: exp}, Admin: true}),
		"malformed":      "a.b",
		"garbage":        "%%%",
		"tampered":       good[:len(good)-2] + "xx",
		"bad grant":      sign(jwt.SigningMethodHS256, secret, Claims{RegisteredClaims: jwt.RegisteredClaims{ExpiresAt: exp}, Channels: map[string]Grant{"a..b": {Subscribe: true}}}),
		"payload edited": strings.Split(good, ".")[0] + "." + payload + "." + strings.Split(good, ".")[2],
	} {
		t.Run(name, func(t *testing.T) {
			c, err := s.Verify(tok)
			if err == nil {
				t.Fatalf("accepted: %+v", c)
			}
			if livedash.ErrorCode(err) != livedash.EUNAUTHORIZED {
				t.Fatalf("code %s", livedash.ErrorCode(err))
			}
		})
	}
}

func TestAccessRules(t *testing.T) {
	viewer := Access{Claims: &Claims{Channels: map[string]Grant{"shop.*": {Subscribe: true}, "bot.>": {Publish: true}}}, Public: []string{"status.>"}}
	admin := Access{Claims: &Claims{Admin: true}}
	anon := Access{Public: []string{"status.>", "blog.*.views"}}
	for _, tc := range []struct {
		name string
		got  bool
		want bool
	}{
		{"viewer reads shop.a", viewer.CanRead("shop.a"), true},
		{"viewer reads shop.*", viewer.CanRead("shop.*"), true},
		{"viewer cannot read shop.a.b", viewer.CanRead("shop.a.b"), false},
		{"viewer cannot read >", viewer.CanRead(">"), false},
		{"viewer reads public", viewer.CanRead("status.x"), true},
		{"viewer cannot publish shop.a", viewer.CanPublish("shop.a"), false},
		{"viewer publishes bot.x.y", viewer.CanPublish("bot.x.y"), true},
		{"viewer cannot read bot.x", viewer.CanRead("bot.x"), false},
		{"admin reads sys", admin.CanRead("sys.>"), true},
		{"admin cannot publish sys", admin.CanPublish("sys.x"), false},
		{"anon reads blog.p.views", anon.CanRead("blog.p.views"), true},
		{"anon reads blog.*.views", anon.CanRead("blog.*.views"), true},
		{"anon cannot read blog.p.comments", anon.CanRead("blog.p.comments"), false},
		{"anon cannot publish", anon.CanPublish("status.x"), false},
	} {
		if tc.got != tc.want {
			t.Errorf("%s: got %v", tc.name, tc.got)
		}
	}
	if err := anon.CheckRead([]string{"shop.a"}); livedash.ErrorCode(err) != livedash.EUNAUTHORIZED {
		t.Errorf("anonymous private read: %v", err)
	}
	if err := viewer.CheckRead([]string{"shop.a", "admin.x"}); livedash.ErrorCode(err) != livedash.EFORBIDDEN {
		t.Errorf("partial grant: %v", err)
	}
}

func TestSecretFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	s1, created, err := Secret("", dir)
	if err != nil || !created || len(s1) < 64 {
		t.Fatalf("first: %d bytes, created=%v, %v", len(s1), created, err)
	}
	info, _ := os.Stat(filepath.Join(dir, "secret"))
	if info.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v", info.Mode().Perm())
	}
	s2, created, err := Secret("", dir)
	if err != nil || created || string(s2) != string(s1) {
		t.Fatalf("second: created=%v same=%v %v", created, string(s2) == string(s1), err)
	}
	s3, _, _ := Secret("  from-env \n", dir)
	if string(s3) != "from-env" {
		t.Fatalf("env secret %q", s3)
	}
	// The file's trimmed text is used exactly as LIVEDASH_SECRET would be.
	os.WriteFile(filepath.Join(dir, "secret"), []byte("  typed-by-hand\n"), 0o600)
	s4, _, _ := Secret("", dir)
	if string(s4) != "typed-by-hand" {
		t.Fatalf("file secret %q", s4)
	}
	os.WriteFile(filepath.Join(dir, "secret"), []byte(" \n"), 0o600)
	if _, _, err := Secret("", dir); err == nil {
		t.Fatal("empty secret file accepted")
	}
}
