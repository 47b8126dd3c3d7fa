package server

import (
	"net/http"
	"strings"
	"sync"
	"time"
)

// noObserver is the CacheObserver of a Server that has none.
type noObserver struct{}

func (noObserver) CacheHit(string)                        {}
func (noObserver) CacheMiss(string)                       {}
func (noObserver) CacheFill(string, time.Duration, error) {}

// Request is one answered HTTP request, as Observe reports it.
type Request struct {
	Method string
	// Route is the pattern that matched, without its method
	// ("/topics/{file}"), or "" when none did (an unknown path, a method
	// no route takes): a label of bounded cardinality, unlike the path.
	Route    string
	Path     string // r.URL.Path, for logs only
	Status   int
	Bytes    int64 // body bytes sent (compressed when gzip was sent; 0 for HEAD)
	Duration time.Duration
	Remote   string // r.RemoteAddr
}

// Observe wraps h so that done sees every request once h has answered it:
// the daemon hangs its request metrics and the access log here. The route is
// read from the request after h returns (http.ServeMux records the pattern it
// matched in r.Pattern, the innermost mux last), so h must hand the mux the
// same *http.Request, not a copy.
func Observe(h http.Handler, done func(Request)) http.Handler {
	// Recorders are reused: a cached feed's answer allocates little else,
	// and every allocation on the hit path brings the next GC (and its
	// pauses, which are readers' tail latency) closer. A recorder is
	// referenced only while h runs.
	pool := sync.Pool{New: func() any { return new(recorder) }}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rw := pool.Get().(*recorder)
		*rw = recorder{ResponseWriter: w}
		defer func() {
			route := r.Pattern
			if i := strings.IndexByte(route, ' '); i >= 0 {
				route = route[i+1:] // "GET /topics/{file}" → "/topics/{file}"
			}
			status := rw.status
			if status == 0 {
				status = http.StatusOK
			}
			n := rw.bytes
			if r.Method == http.MethodHead {
				n = 0 // net/http drops what a handler writes for HEAD
			}
			*rw = recorder{}
			pool.Put(rw)
			done(Request{Method: r.Method, Route: route, Path: r.URL.Path, Status: status, Bytes: n,
				Duration: time.Since(start), Remote: r.RemoteAddr})
		}()
		h.ServeHTTP(rw, r)
	})
}

// recorder notes the status and the bytes of a response.
type recorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *recorder) WriteHeader(code int) {
	if w.status == 0 && code >= 200 { // 1xx are interim; the final status follows
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *recorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

// Flush keeps streaming responses (an admin fetch's progress) streaming.
func (w *recorder) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *recorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// path is the fixed URL path of k's document (k has no query).
func (k key) path() string {
	switch k.kind {
	case "index":
		return "/"
	case "opml":
		return "/topics.opml"
	case assetKind:
		return k.slug
	case "html":
		return "/topics/" + k.slug
	}
	return "/topics/" + k.slug + "." + k.kind
}

// pattern is the route the mux matches for the fixed path of a document of
// k's kind: ServeHTTP's lock-free hit path sets it in r.Pattern, as the mux
// does, so Observe names the route of every request alike.
func (k key) pattern() string {
	switch k.kind {
	case "index":
		return "GET /{$}"
	case "opml":
		return "GET /topics.opml"
	case assetKind:
		return "GET " + k.slug
	}
	return "GET /topics/{file}"
}
