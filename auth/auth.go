// Package auth owns livedash's tokens and rights: the server secret, HS256
// JWT minting and verification, and the check of a request's topics
// against a token's grants and the public patterns.
//
// Rights: an admin token may do everything but publish under sys. (the
// server's own). Other tokens hold per-pattern grants; a request is allowed
// only when every topic or pattern it names is covered by one grant (no
// partial grant). Topics under the public patterns are readable by anyone.
package auth

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/livedash/livedash"
)

// Grant is what a token may do with the topics under one pattern.
type Grant struct {
	Subscribe bool `json:"subscribe,omitempty"`
	Publish   bool `json:"publish,omitempty"`
}

// Claims are the claims of a livedash token.
type Claims struct {
	jwt.RegisteredClaims
	Admin    bool             `json:"admin,omitempty"`
	Channels map[string]Grant `json:"channels,omitempty"`
}

// Secret loads the signing secret: env (LIVEDASH_SECRET) when set, else the
// trimmed text of <dataDir>/secret, created with 48 random bytes (hex) and
// mode 0600 on first use. created reports whether it was just created.
func Secret(env, dataDir string) (secret []byte, created bool, err error) {
	if s := strings.TrimSpace(env); s != "" {
		return []byte(s), false, nil
	}
	path := filepath.Join(dataDir, "secret")
	b, err := os.ReadFile(path)
	if err == nil {
		s := strings.TrimSpace(string(b))
		if s == "" {
			return nil, false, fmt.Errorf("secret file %s is empty", path)
		}
		return []byte(s), false, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, false, fmt.Errorf("read secret: %w", err)
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, false, fmt.Errorf("create data dir: %w", err)
	}
	raw := make([]byte, 48)
	if _, err := rand.Read(raw); err != nil {
		return nil, false, fmt.Errorf("generate secret: %w", err)
	}
	s := hex.EncodeToString(raw)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return Secret(env, dataDir) // another process created it first
	}
	if err != nil {
		return nil, false, fmt.Errorf("create secret: %w", err)
	}
	if _, err := f.WriteString(s + "\n"); err != nil {
		f.Close()
		return nil, false, fmt.Errorf("write secret: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, false, fmt.Errorf("write secret: %w", err)
	}
	return []byte(s), true, nil
}

// Signer mints and verifies tokens with one secret.
type Signer struct {
	secret []byte
	now    func() time.Time
}

// NewSigner returns a signer; now may be nil for the wall clock.
func NewSigner(secret []byte, now func() time.Time) *Signer {
	if now == nil {
		now = time.Now
	}
	return &Signer{secret: secret, now: now}
}

// Mint signs claims; exp is set from ttl when the claims carry none.
func (s *Signer) Mint(c Claims, ttl time.Duration) (string, error) {
	if c.ExpiresAt == nil {
		c.ExpiresAt = jwt.NewNumericDate(s.now().Add(ttl))
	}
	if c.IssuedAt == nil {
		c.IssuedAt = jwt.NewNumericDate(s.now())
	}
	if err := c.ValidateGrants(); err != nil {
		return "", err
	}
	return jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(s.secret)
}

// Verify checks a token's signature (HS256 only), exp (required), nbf and
// grant patterns. Every failure is EUNAUTHORIZED.
func (s *Signer) Verify(token string) (*Claims, error) {
	var c Claims
	_, err := jwt.ParseWithClaims(token, &c, func(t *jwt.Token) (any, error) { return s.secret, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(s.now),
	)
	if err != nil {
		return nil, livedash.Errorf(livedash.EUNAUTHORIZED, "invalid token: %s", reason(err))
	}
	if err := c.ValidateGrants(); err != nil {
		return nil, livedash.Errorf(livedash.EUNAUTHORIZED, "invalid token: %s", livedash.ErrorMessage(err))
	}
	return &c, nil
}

// ValidateGrants checks the grant patterns: each valid, and none on the server's
// own sys. topics unless the token is an admin's (who reads them anyway).
// Errors are EINVALID.
func (c *Claims) ValidateGrants() error {
	for p := range c.Channels {
		if err := livedash.ValidatePattern(p); err != nil {
			return livedash.Errorf(livedash.EINVALID, "bad grant: %s", livedash.ErrorMessage(err))
		}
		if livedash.IsSys(p) && !c.Admin {
			return livedash.Errorf(livedash.EINVALID, "grant %q: only admin tokens read sys. topics", p)
		}
	}
	return nil
}

// reason turns a jwt error into a short phrase that leaks nothing.
func reason(err error) string {
	switch {
	case errors.Is(err, jwt.ErrTokenExpired):
		return "expired"
	case errors.Is(err, jwt.ErrTokenNotValidYet):
		return "not valid yet"
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		return "exp is required"
	case errors.Is(err, jwt.ErrTokenUnverifiable), errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return "bad signature or signing method (HS256 only)"
	case errors.Is(err, jwt.ErrTokenMalformed):
		return "malformed"
	}
	return "rejected"
}

// CookieName is the cookie the web app keeps its token in.
const CookieName = "livedash_token"

// FromRequest returns the token a request carries: Authorization Bearer
// (or Token, as InfluxDB clients send it), then ?token=, then, for reads
// only (GET and HEAD, which includes the WebSocket handshake), the
// livedash_token cookie; "" when none. A write that carries only the
// cookie carries no token: a cookie rides along on requests other sites
// make.
func FromRequest(r *http.Request) string {
	tok, _ := TokenOf(r)
	return tok
}

// TokenOf is FromRequest, and whether the token came from the cookie.
func TokenOf(r *http.Request) (token string, cookie bool) {
	if h := r.Header.Get("Authorization"); h != "" {
		if t, ok := strings.CutPrefix(h, "Bearer "); ok {
			return strings.TrimSpace(t), false
		}
		if t, ok := strings.CutPrefix(h, "Token "); ok { // InfluxDB v2 clients (Telegraf)
			return strings.TrimSpace(t), false
		}
		return strings.TrimSpace(h), false // a malformed header still counts as a (bad) token
	}
	if t := r.URL.Query().Get("token"); t != "" {
		return t, false
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return "", false
	}
	if c, err := r.Cookie(CookieName); err == nil && c.Value != "" {
		return c.Value, true
	}
	return "", false
}

// Access is the rights of one request: its verified claims (nil when it
// carried no token) and the server's public patterns.
type Access struct {
	Claims *Claims
	Public []string
}

// Subject names the caller for logs and limits ("" when anonymous).
func (a Access) Subject() string {
	if a.Claims == nil {
		return ""
	}
	return a.Claims.Subject
}

// Expiry is when the token expires (zero when there is none).
func (a Access) Expiry() time.Time {
	if a.Claims == nil || a.Claims.ExpiresAt == nil {
		return time.Time{}
	}
	return a.Claims.ExpiresAt.Time
}

// CanRead reports whether the caller may read every topic pattern p
// matches (stream, history, topics).
func (a Access) CanRead(p string) bool {
	if a.Claims != nil && a.Claims.Admin {
		return true
	}
	if livedash.IsSys(p) {
		return false // the server's own topics: admins only, whatever the grants say
	}
	for _, pub := range a.Public {
		if livedash.Covers(pub, p) {
			return true
		}
	}
	return a.granted(p, func(g Grant) bool { return g.Subscribe })
}

// CanPublish reports whether the caller may publish to topic.
func (a Access) CanPublish(topic string) bool {
	if livedash.IsSys(topic) {
		return false
	}
	if a.Claims != nil && a.Claims.Admin {
		return true
	}
	return a.granted(topic, func(g Grant) bool { return g.Publish })
}

func (a Access) granted(p string, ok func(Grant) bool) bool {
	if a.Claims == nil {
		return false
	}
	for gp, g := range a.Claims.Channels {
		if ok(g) && livedash.Covers(gp, p) {
			return true
		}
	}
	return false
}

// CheckRead returns nil when every pattern may be read, else
// EUNAUTHORIZED (no token) or EFORBIDDEN (a token without the right).
func (a Access) CheckRead(patterns []string) error {
	for _, p := range patterns {
		if !a.CanRead(p) {
			if a.Claims == nil {
				return livedash.Errorf(livedash.EUNAUTHORIZED, "a token is required to read %q", p)
			}
			return livedash.Errorf(livedash.EFORBIDDEN, "token may not read %q", p)
		}
	}
	return nil
}

// CheckPublishAny returns nil when the caller may publish to some topic:
// an admin, or a token with a publish grant. Publish endpoints check it
// before they read the body.
func (a Access) CheckPublishAny() error {
	if a.Claims == nil {
		return livedash.Errorf(livedash.EUNAUTHORIZED, "a token is required to publish")
	}
	if a.Claims.Admin {
		return nil
	}
	for _, g := range a.Claims.Channels {
		if g.Publish {
			return nil
		}
	}
	return livedash.Errorf(livedash.EFORBIDDEN, "token may not publish")
}

// CheckPublish returns nil when topic may be published to.
func (a Access) CheckPublish(topic string) error {
	if livedash.IsSys(topic) {
		return livedash.Errorf(livedash.EFORBIDDEN, "topics under sys. are written by the server only")
	}
	if a.CanPublish(topic) {
		return nil
	}
	if a.Claims == nil {
		return livedash.Errorf(livedash.EUNAUTHORIZED, "a token is required to publish")
	}
	return livedash.Errorf(livedash.EFORBIDDEN, "token may not publish to %q", topic)
}
