package web

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"
)

// HTML pages carry a content security policy; only /embed/… pages may be
// framed by other sites. Over real HTTP, through Handler's gzip layer.
func TestPageSecurityHeaders(t *testing.T) {
	built := fstest.MapFS{"index.html": {Data: []byte("<!doctype html><div id=root></div>")}, "favicon.svg": {Data: []byte("<svg/>")}}
	for _, tc := range []struct {
		name      string
		fsys      fstest.MapFS
		target    string
		status    int
		framedBy  string // the frame-ancestors source list
		xFrameOpt string
	}{
		{"index", built, "/", 200, "'self'", "SAMEORIGIN"},
		{"index.html", built, "/index.html", 200, "'self'", "SAMEORIGIN"},
		{"dashboard", built, "/d/shop", 200, "'self'", "SAMEORIGIN"},
		{"embed", built, "/embed/shop", 200, "*", ""},
		{"embed widget", built, "/embed/shop/latency?token=x", 200, "*", ""},
		{"not built", fstest.MapFS{}, "/d/shop", 503, "'self'", "SAMEORIGIN"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(compressed(newHandler(tc.fsys)))
			defer srv.Close()
			resp, err := http.Get(srv.URL + tc.target)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d", resp.StatusCode)
			}
			csp := resp.Header.Get("Content-Security-Policy")
			if !strings.Contains(csp, "frame-ancestors "+tc.framedBy+";") && !strings.HasSuffix(csp, "frame-ancestors "+tc.framedBy) {
				t.Errorf("Content-Security-Policy %q, want frame-ancestors %s", csp, tc.framedBy)
			}
			if tc.status == 200 && !strings.Contains(csp, "default-src 'self'") {
				t.Errorf("Content-Security-Policy %q has no default-src 'self'", csp)
			}
			if got := resp.Header.Get("X-Frame-Options"); got != tc.xFrameOpt {
				t.Errorf("X-Frame-Options %q, want %q", got, tc.xFrameOpt)
			}
			if got := resp.Header.Get("Referrer-Policy"); got != "no-referrer" {
				t.Errorf("Referrer-Policy %q", got)
			}
			if got := resp.Header.Get("X-Content-Type-Options"); got != "nosniff" {
				t.Errorf("X-Content-Type-Options %q", got)
			}
		})
	}
}
