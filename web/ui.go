package web

import (
	"embed"
	"io/fs"
	"net/http"
	"path"
	"strings"
)

// dist is the webmail as Vite builds it (make ui). The directory is kept in
// the repository with only .gitkeep, so the Go code builds before the UI
// has been built; the server then says how to build it.
//
//go:embed all:dist
var dist embed.FS

// uiCSP is the webmail's policy: its own scripts and styles only, message
// bodies in frames from this origin, API calls to this origin.
const uiCSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; " +
	"connect-src 'self'; frame-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

func (a *API) ui() http.Handler {
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		panic(err) // dist is embedded: it is always there
	}
	files := http.FileServerFS(sub)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		w.Header().Set("Content-Security-Policy", uiCSP)
		p := strings.TrimPrefix(path.Clean(r.URL.Path), "/")
		if p != "" && strings.HasPrefix(p, "assets/") {
			if _, err := fs.Stat(sub, p); err == nil {
				// Vite names assets by content hash: cache them for good.
				w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
				files.ServeHTTP(w, r)
				return
			}
			http.NotFound(w, r)
			return
		}
		// The files beside index.html (public/ in web/ui): the manifest,
		// icons, the service worker and the offline page. Not immutable:
		// their names stay the same from one build to the next.
		if p != "" && p != "index.html" && !strings.Contains(p, "/") {
			if _, err := fs.Stat(sub, p); err == nil {
				if strings.HasSuffix(p, ".webmanifest") {
					w.Header().Set("Content-Type", "application/manifest+json")
				}
				w.Header().Set("Cache-Control", "no-cache")
				files.ServeHTTP(w, r)
				return
			}
		}
		// Every other path is the application (it routes on the client).
		index, err := fs.ReadFile(sub, "index.html")
		if err != nil {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte("The webmail has not been built into this binary. Build it with `make build` (it runs `npm ci` and Vite in web/ui).\n"))
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-cache")
		_, _ = w.Write(index)
	})
}
