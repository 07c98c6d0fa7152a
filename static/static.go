// Package static holds the browser assets of the Settings → Billing pages (the stylesheet,
// vendored htmx and a little JavaScript), embedded in the binary so that nothing is fetched from
// a CDN and no Node is needed at run time.
package static

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"net/http"
	"path"
	"strings"
)

// FS holds every asset, by path under static/ ("css/app.css", "js/htmx-2.0.11.min.js").
// htmx is vendored from the npm package htmx.org 2.0.11 (dist/htmx.min.js, BSD Zero Clause);
// Chart.js from chart.js 4.6.1 (dist/chart.umd.min.js, MIT), drawn by js/usage.js.
//
//go:embed css img js
var FS embed.FS

// Prefix is the URL path the assets are served under.
const Prefix = "/static/"

// versions maps an asset's path to a short hash of its content, for cache-busting URLs.
var versions = func() map[string]string {
	out := map[string]string{}
	_ = fs.WalkDir(FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := FS.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		out[p] = hex.EncodeToString(sum[:])[:10]
		return nil
	})
	return out
}()

// Path returns the URL of asset name with a content hash ("/static/css/app.css?v=1a2b3c4d5e"),
// so that a changed asset gets a new URL and an unchanged one can be cached for a year. It
// panics on an asset that does not exist: a typo is caught by the first render in any test.
func Path(name string) string {
	v, ok := versions[name]
	if !ok {
		panic("static: no asset " + name)
	}
	return Prefix + name + "?v=" + v
}

// Handler serves the assets under Prefix. A request carrying the current content hash is
// cacheable for a year; any other is revalidated.
func Handler() http.Handler {
	files := http.FileServer(http.FS(FS))
	return http.StripPrefix(strings.TrimSuffix(Prefix, "/"), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(path.Clean(r.URL.Path), "/")
		v, ok := versions[name]
		if !ok {
			http.NotFound(w, r)
			return
		}
		if r.URL.Query().Get("v") == v {
			w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			w.Header().Set("Cache-Control", "no-cache")
		}
		files.ServeHTTP(w, r)
	}))
}
