package web

import (
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"net/http"
)

// scripts are the files other sites load by name: the client (/livedash.js,
// built from clients/js) and the custom elements (/embed.js). They carry no
// data, so any origin may import them as modules, without credentials.
var scripts = []string{"livedash.js", "embed.js"}

// scriptMaxAge is how long a browser or CDN may keep a script before it
// revalidates (by ETag): the names are fixed, so not forever.
const scriptMaxAge = "300"

// scriptETags returns the strong ETag of each script present in fsys.
func scriptETags(fsys fs.FS) map[string]string {
	tags := map[string]string{}
	for _, name := range scripts {
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			continue
		}
		sum := sha256.Sum256(b)
		tags[name] = `"` + hex.EncodeToString(sum[:8]) + `"`
	}
	return tags
}

// setScriptHeaders sets the headers of a script with ETag tag before the
// file server answers (200, or 304 on a matching If-None-Match).
func setScriptHeaders(h http.Header, tag string) {
	h.Set("Content-Type", "text/javascript; charset=utf-8")
	h.Set("Cache-Control", "public, max-age="+scriptMaxAge)
	h.Set("ETag", tag)
	h.Set("Access-Control-Allow-Origin", "*")
	h.Del("Access-Control-Allow-Credentials")
	h.Set("Cross-Origin-Resource-Policy", "cross-origin")
}
