// Package web owns the livedash web UI: the React + TypeScript app in this
// directory (built by Vite into dist/) and its embedding into the server
// binary. Handler serves the built single-page app: static assets under their
// own paths (among them /livedash.js and /embed.js, for other sites: see
// scripts.go), and index.html for the app routes (/, /explore, /new, /d/{name},
// /d/{name}/edit, /embed/{name}, /embed/{name}/{widget}), where the app reads the route
// from the URL. The app talks to the server only through /api/v1.
//
// Build the UI with `cd web && npm ci && npm run build` before `go build`;
// a binary built without it still runs and answers the UI routes with a
// 503 page that says how to build it.
package web

import (
	"embed"
	"io/fs"
	"net/http"
	"path"
	"strings"

	"github.com/klauspost/compress/gzhttp"
)

//go:embed all:dist
var dist embed.FS

// Handler returns the handler for the web UI, built into the binary.
func Handler() http.Handler {
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		panic(err) // "dist" is a valid path: cannot happen
	}
	return compressed(newHandler(sub))
}

// compressed gzips responses for clients that accept it: the app's
// JavaScript shrinks about threefold on the wire.
func compressed(h http.Handler) http.Handler {
	return gzhttp.GzipHandler(h)
}

// notBuilt is served, with status 503, when dist/index.html is missing.
const notBuilt = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>livedash: UI not built</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem;color:#1f2937}
code{background:#f3f4f6;padding:.1rem .3rem;border-radius:4px}</style></head>
<body><h1>The livedash web UI is not built</h1>
<p>This server was compiled without the dashboard app. Build it and the server together with
<code>make web</code> (or <code>make run</code>), or by hand with
<code>cd web &amp;&amp; npm ci &amp;&amp; npm run build</code>, then rebuild the server.</p>
<p>The API under <code>/api/v1</code> works without it.</p></body></html>
`

// pagePolicy is the content security policy of the app's pages: the
// built app loads its script, styles, images and data (fetch, SSE,
// WebSocket) from this origin only, and sets styles through the DOM, never
// as inline markup. Only /embed/… pages, which exist to be put on other
// sites, may be framed by any origin.
func pagePolicy(frameable bool) string {
	ancestors := "'self'"
	if frameable {
		ancestors = "*"
	}
	return "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
		"connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors " + ancestors
}

// notBuiltPolicy is the policy of the notBuilt page and its inline style.
const notBuiltPolicy = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; frame-ancestors 'self'"

// setPageHeaders sets the security headers of an HTML page: its policy,
// X-Frame-Options for browsers without frame-ancestors unless frameable,
// and no Referer, since a page's URL may carry ?token=.
func setPageHeaders(h http.Header, policy string, frameable bool) {
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Security-Policy", policy)
	if !frameable {
		h.Set("X-Frame-Options", "SAMEORIGIN")
	}
}

// newHandler serves the app in fsys, whose root holds index.html and the
// built assets.
func newHandler(fsys fs.FS) http.Handler {
	index, err := fs.ReadFile(fsys, "index.html")
	if err != nil {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			setPageHeaders(w.Header(), notBuiltPolicy, false)
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Header().Set("Cache-Control", "no-store")
			w.WriteHeader(http.StatusServiceUnavailable)
			if r.Method != http.MethodHead {
				_, _ = w.Write([]byte(notBuilt))
			}
		})
	}
	files := http.FileServerFS(fsys)
	tags := scriptETags(fsys)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		w.Header().Set("X-Content-Type-Options", "nosniff")
		p := path.Clean("/" + r.URL.Path)
		if isAppRoute(p) {
			embed := strings.HasPrefix(p, "/embed/")
			setPageHeaders(w.Header(), pagePolicy(embed), embed)
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			// The shell is small and names the hashed assets: always revalidate.
			w.Header().Set("Cache-Control", "no-cache")
			if r.Method != http.MethodHead {
				_, _ = w.Write(index)
			}
			return
		}
		name := strings.TrimPrefix(p, "/")
		info, err := fs.Stat(fsys, name)
		if err != nil || info.IsDir() {
			http.NotFound(w, r)
			return
		}
		if tag, ok := tags[name]; ok {
			setScriptHeaders(w.Header(), tag)
		} else if strings.HasPrefix(name, "assets/") {
			// Vite puts a content hash in every asset name.
			w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		}
		files.ServeHTTP(w, r)
	})
}

// isAppRoute reports whether the cleaned path p is a route of the app, served
// by index.html: /, /index.html, /explore, /new, /d/{name}, /d/{name}/edit,
// /embed/{name}, /embed/{name}/{widget}.
func isAppRoute(p string) bool {
	if p == "/" || p == "/index.html" || p == "/explore" || p == "/new" {
		return true
	}
	parts := strings.Split(strings.TrimPrefix(p, "/"), "/")
	switch parts[0] {
	case "d":
		return (len(parts) == 2 || len(parts) == 3 && parts[2] == "edit") && parts[1] != ""
	case "embed":
		return (len(parts) == 2 || len(parts) == 3) && parts[1] != ""
	}
	return false
}
