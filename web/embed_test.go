package web

import (
	"compress/gzip"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"
)

func get(t *testing.T, h http.Handler, method, target string) *http.Response {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, target, nil))
	return rec.Result()
}

func body(t *testing.T, res *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestHandlerBuilt(t *testing.T) {
	fsys := fstest.MapFS{
		"index.html":           {Data: []byte("<!doctype html><div id=root></div>")},
		"assets/index-abc.js":  {Data: []byte("console.log(1)")},
		"assets/index-abc.css": {Data: []byte("body{}")},
		"favicon.svg":          {Data: []byte("<svg/>")},
	}
	h := newHandler(fsys)
	tests := []struct {
		target     string
		status     int
		typePrefix string
		bodyHas    string
		cache      string
	}{
		{"/", 200, "text/html", "id=root", "no-cache"},
		{"/d/shop", 200, "text/html", "id=root", "no-cache"},
		{"/d/shop/", 200, "text/html", "id=root", "no-cache"},
		{"/d/shop/edit", 200, "text/html", "id=root", "no-cache"},
		{"/new", 200, "text/html", "id=root", "no-cache"},
		{"/embed/shop", 200, "text/html", "id=root", "no-cache"},
		{"/embed/shop/latency", 200, "text/html", "id=root", "no-cache"},
		{"/embed/shop/latency?token=x", 200, "text/html", "id=root", "no-cache"},
		{"/explore", 200, "text/html", "id=root", "no-cache"},
		{"/explore/", 200, "text/html", "id=root", "no-cache"},
		{"/explore?topic=shop.%3E&topic=host.*", 200, "text/html", "id=root", "no-cache"},
		{"/assets/index-abc.js", 200, "text/javascript", "console.log", "immutable"},
		{"/assets/index-abc.css", 200, "text/css", "body{}", "immutable"},
		{"/favicon.svg", 200, "image/svg+xml", "<svg/>", ""},
		{"/assets/missing.js", 404, "", "", ""},
		{"/assets/", 404, "", "", ""},
		{"/d/", 404, "", "", ""},
		{"/d/a/b", 404, "", "", ""},
		{"/d/a/edit/x", 404, "", "", ""},
		{"/new/x", 404, "", "", ""},
		{"/embed/a/b/c", 404, "", "", ""},
		{"/explore/x", 404, "", "", ""},
		{"/nope", 404, "", "", ""},
		{"/../index.html", 200, "text/html", "id=root", ""},
	}
	for _, tt := range tests {
		t.Run(tt.target, func(t *testing.T) {
			res := get(t, h, http.MethodGet, tt.target)
			if res.StatusCode != tt.status {
				t.Fatalf("status = %d, want %d", res.StatusCode, tt.status)
			}
			if tt.status != 200 {
				return
			}
			if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, tt.typePrefix) {
				t.Errorf("Content-Type = %q, want %s…", ct, tt.typePrefix)
			}
			if b := body(t, res); !strings.Contains(b, tt.bodyHas) {
				t.Errorf("body = %q, want it to contain %q", b, tt.bodyHas)
			}
			if tt.cache != "" && !strings.Contains(res.Header.Get("Cache-Control"), tt.cache) {
				t.Errorf("Cache-Control = %q, want %q", res.Header.Get("Cache-Control"), tt.cache)
			}
		})
	}
	if res := get(t, h, http.MethodPost, "/"); res.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST / = %d, want 405", res.StatusCode)
	}
	if res := get(t, h, http.MethodHead, "/d/x"); res.StatusCode != 200 || body(t, res) != "" {
		t.Errorf("HEAD /d/x = %d with a body, want 200 and none", res.StatusCode)
	}
}

func TestHandlerNotBuilt(t *testing.T) {
	h := newHandler(fstest.MapFS{".gitkeep": {Data: nil}})
	for _, target := range []string{"/", "/d/shop", "/embed/shop/w1", "/assets/x.js"} {
		res := get(t, h, http.MethodGet, target)
		if res.StatusCode != http.StatusServiceUnavailable {
			t.Errorf("%s: status = %d, want 503", target, res.StatusCode)
		}
		if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
			t.Errorf("%s: Content-Type = %q, want text/html", target, ct)
		}
		b := body(t, res)
		if !strings.Contains(b, "not built") || !strings.Contains(b, "make web") {
			t.Errorf("%s: body does not say the UI is not built and how to build it: %q", target, b)
		}
	}
}

// TestHandlerEmbedded: Handler serves what was embedded: the built app's
// index.html when dist/ holds one (make web ran), else the not-built page.
// Which of the two is decided by the embed, not accepted either way.
func TestHandlerEmbedded(t *testing.T) {
	index, err := fs.ReadFile(dist, "dist/index.html")
	built := err == nil
	res := get(t, Handler(), http.MethodGet, "/")
	b := body(t, res)
	switch {
	case built && (res.StatusCode != 200 || b != string(index)):
		t.Fatalf("dist/index.html is embedded, GET / = %d %.60q, want 200 with it", res.StatusCode, b)
	case !built && (res.StatusCode != 503 || b != notBuilt):
		t.Fatalf("no dist/index.html embedded, GET / = %d %.60q, want 503 with the not-built page", res.StatusCode, b)
	}
	t.Logf("app built: %v", built)
}

func TestAssetsAreCompressed(t *testing.T) {
	js := strings.Repeat("console.log('livedash');\n", 200)
	h := compressed(newHandler(fstest.MapFS{
		"index.html":        {Data: []byte("<!doctype html><title>x</title>")},
		"assets/index-1.js": {Data: []byte(js)},
	}))
	req := httptest.NewRequest("GET", "/assets/index-1.js", nil)
	req.Header.Set("Accept-Encoding", "gzip")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != 200 || rec.Header().Get("Content-Encoding") != "gzip" || rec.Body.Len() >= len(js)/4 {
		t.Fatalf("status %d, encoding %q, %d bytes for %d", rec.Code, rec.Header().Get("Content-Encoding"), rec.Body.Len(), len(js))
	}
	zr, err := gzip.NewReader(rec.Body)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(zr)
	if string(got) != js {
		t.Fatal("decompressed body differs")
	}
	// Without Accept-Encoding the body is plain.
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/assets/index-1.js", nil))
	if rec.Header().Get("Content-Encoding") != "" || rec.Body.String() != js {
		t.Fatal("plain request got a compressed body")
	}
}
