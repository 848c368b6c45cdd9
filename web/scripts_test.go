package web

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"
)

// TestScripts: /livedash.js and /embed.js are JavaScript modules any origin
// may import (no credentials: they carry no data), cacheable for a while and
// revalidated by ETag.
func TestScripts(t *testing.T) {
	fsys := fstest.MapFS{
		"index.html":  {Data: []byte("<!doctype html>")},
		"livedash.js": {Data: []byte("export function connect(){}")},
		"embed.js":    {Data: []byte("customElements.define('livedash-stat',class{})")},
	}
	h := newHandler(fsys)
	for _, name := range []string{"livedash.js", "embed.js"} {
		t.Run(name, func(t *testing.T) {
			req := httptest.NewRequest("GET", "/"+name, nil)
			req.Header.Set("Origin", "https://blog.example.com")
			rec := httptest.NewRecorder()
			// What the API's CORS layer may have set for a listed origin before: a module
			// import is not credentialed, so the script drops it for *.
			rec.Header().Set("Access-Control-Allow-Origin", "https://blog.example.com")
			rec.Header().Set("Access-Control-Allow-Credentials", "true")
			h.ServeHTTP(rec, req)
			res := rec.Result()
			if res.StatusCode != 200 {
				t.Fatalf("status %d", res.StatusCode)
			}
			if got := res.Header.Get("Content-Type"); !strings.HasPrefix(got, "text/javascript") {
				t.Errorf("Content-Type %q, want text/javascript", got)
			}
			if got := res.Header.Get("Access-Control-Allow-Origin"); got != "*" {
				t.Errorf("Access-Control-Allow-Origin %q, want *", got)
			}
			if got := res.Header.Get("Access-Control-Allow-Credentials"); got != "" {
				t.Errorf("Access-Control-Allow-Credentials %q, want none", got)
			}
			if got := res.Header.Get("Cross-Origin-Resource-Policy"); got != "cross-origin" {
				t.Errorf("Cross-Origin-Resource-Policy %q", got)
			}
			cc := res.Header.Get("Cache-Control")
			if !strings.Contains(cc, "public") || !strings.Contains(cc, "max-age=") {
				t.Errorf("Cache-Control %q, want public with a max-age", cc)
			}
			etag := res.Header.Get("ETag")
			if etag == "" {
				t.Fatal("no ETag")
			}
			if b := body(t, res); b != string(fsys[name].Data) {
				t.Errorf("body %q", b)
			}
			req = httptest.NewRequest("GET", "/"+name, nil)
			req.Header.Set("If-None-Match", etag)
			rec = httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != http.StatusNotModified {
				t.Errorf("If-None-Match: status %d, want 304", rec.Code)
			}
		})
	}
	// Other files keep their own headers: no CORS for the app's assets.
	if got := get(t, h, "GET", "/index.html").Header.Get("Access-Control-Allow-Origin"); got != "" {
		t.Errorf("index.html: Access-Control-Allow-Origin %q", got)
	}
}
