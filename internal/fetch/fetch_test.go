package fetch_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/newsdesk/newsdesk/internal/fetch"
)

const rss = `<?xml version="1.0"?><rss version="2.0"><channel><title>t</title></channel></rss>`

// loopback is the allow-list of every test whose upstream is an httptest
// server: the address guard refuses 127.0.0.1 otherwise.
var loopback = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}

// upstream starts a loopback server playing one upstream behaviour.
func upstream(t *testing.T, h http.HandlerFunc) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func TestGetOK(t *testing.T) {
	var gotUA, gotAccept, gotINM, gotIMS string
	srv := upstream(t, func(w http.ResponseWriter, r *http.Request) {
		gotUA, gotAccept = r.UserAgent(), r.Header.Get("Accept")
		gotINM, gotIMS = r.Header.Get("If-None-Match"), r.Header.Get("If-Modified-Since")
		w.Header().Set("Content-Type", "application/rss+xml; charset=utf-8")
		w.Header().Set("ETag", `W/"v1"`)
		w.Header().Set("Last-Modified", "Mon, 02 Jan 2006 15:04:05 GMT")
		fmt.Fprint(w, rss)
	})
	res, err := fetch.New(fetch.Options{Allow: loopback}).Get(t.Context(), fetch.Request{URL: srv.URL + "/feed"})
	if err != nil {
		t.Fatal(err)
	}
	if string(res.Body) != rss {
		t.Errorf("Body = %q, want %q", res.Body, rss)
	}
	want := fetch.Validators{ETag: `W/"v1"`, LastModified: "Mon, 02 Jan 2006 15:04:05 GMT"}
	if res.Validators != want {
		t.Errorf("Validators = %+v, want %+v", res.Validators, want)
	}
	if res.Status != 200 || res.FinalURL != srv.URL+"/feed" || res.ContentType != "application/rss+xml; charset=utf-8" {
		t.Errorf("Status, FinalURL, ContentType = %d, %q, %q", res.Status, res.FinalURL, res.ContentType)
	}
	if gotUA != fetch.DefaultUserAgent || !strings.HasPrefix(gotUA, "newsdesk/") {
		t.Errorf("User-Agent = %q, want %q", gotUA, fetch.DefaultUserAgent)
	}
	if !strings.HasPrefix(gotAccept, "application/rss+xml") {
		t.Errorf("Accept = %q, want feed types first", gotAccept)
	}
	if gotINM != "" || gotIMS != "" {
		t.Errorf("unconditional request sent If-None-Match %q, If-Modified-Since %q", gotINM, gotIMS)
	}
}

func TestUserAgentOption(t *testing.T) {
	var got string
	srv := upstream(t, func(w http.ResponseWriter, r *http.Request) { got = r.UserAgent() })
	const ua = "newsdesk/1.2.3 (+https://news.example.org/about)"
	if _, err := fetch.New(fetch.Options{Allow: loopback, UserAgent: ua}).Get(t.Context(), fetch.Request{URL: srv.URL}); err != nil {
		t.Fatal(err)
	}
	if got != ua {
		t.Errorf("User-Agent = %q, want %q", got, ua)
	}
}

// etagServer answers 304 when If-None-Match carries its ETag and counts
// full (200) and conditional (304) answers.
func etagServer(t *testing.T, etag string, full, notModified *atomic.Int32) *httptest.Server {
	return upstream(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("ETag", etag)
		w.Header().Set("Cache-Control", "max-age=300")
		if r.Header.Get("If-None-Match") == etag {
			notModified.Add(1)
			w.WriteHeader(http.StatusNotModified)
			return
		}
		full.Add(1)
		fmt.Fprint(w, rss)
	})
}

func TestConditionalETag(t *testing.T) {
	var full, notModified atomic.Int32
	srv := etagServer(t, `"abc"`, &full, &notModified)
	c := fetch.New(fetch.Options{Allow: loopback})

	first, err := c.Get(t.Context(), fetch.Request{URL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	second, err := c.Get(t.Context(), fetch.Request{URL: srv.URL, Validators: first.Validators})
	if !errors.Is(err, fetch.ErrNotModified) {
		t.Fatalf("second Get error = %v, want ErrNotModified", err)
	}
	if !strings.Contains(err.Error(), srv.URL) {
		t.Errorf("error %q does not name the URL", err)
	}
	if full.Load() != 1 || notModified.Load() != 1 {
		t.Errorf("upstream answered %d full and %d not-modified, want 1 and 1", full.Load(), notModified.Load())
	}
	if second == nil || second.Status != 304 || second.Validators.ETag != `"abc"` || second.MaxAge.Seconds() != 300 || second.Body != nil {
		t.Errorf("304 Result = %+v, want status 304, the ETag, MaxAge 5m and no body", second)
	}
	// A changed upstream ETag means a full answer again.
	_, err = c.Get(t.Context(), fetch.Request{URL: srv.URL, Validators: fetch.Validators{ETag: `"old"`}})
	if err != nil || full.Load() != 2 {
		t.Errorf("Get with a stale ETag: err %v, full answers %d, want nil and 2", err, full.Load())
	}
}

func TestConditionalLastModified(t *testing.T) {
	const lastMod = "Tue, 03 Mar 2026 10:00:00 GMT"
	var gotINM atomic.Value
	srv := upstream(t, func(w http.ResponseWriter, r *http.Request) {
		gotINM.Store(r.Header.Get("If-None-Match"))
		// Verbatim comparison on purpose: the client must send back exactly what it got.
		if r.Header.Get("If-Modified-Since") == lastMod {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("Last-Modified", lastMod)
		fmt.Fprint(w, rss)
	})
	c := fetch.New(fetch.Options{Allow: loopback})
	first, err := c.Get(t.Context(), fetch.Request{URL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	if first.Validators != (fetch.Validators{LastModified: lastMod}) {
		t.Fatalf("Validators = %+v, want only LastModified %q", first.Validators, lastMod)
	}
	second, err := c.Get(t.Context(), fetch.Request{URL: srv.URL, Validators: first.Validators})
	if !errors.Is(err, fetch.ErrNotModified) {
		t.Fatalf("second Get error = %v, want ErrNotModified", err)
	}
	if gotINM.Load() != "" {
		t.Errorf("sent If-None-Match %q with no ETag to send", gotINM.Load())
	}
	if second.Validators.LastModified != lastMod {
		t.Errorf("304 without validators lost the request's Last-Modified: %+v", second.Validators)
	}
}

func gzipped(t testing.TB, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// gzipServer sends body gzip-encoded when the client accepts gzip.
func gzipServer(t *testing.T, body []byte) *httptest.Server {
	z := gzipped(t, body)
	return upstream(t, func(w http.ResponseWriter, r *http.Request) {
		if !strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
			http.Error(w, "this upstream only speaks gzip", http.StatusNotAcceptable)
			return
		}
		w.Header().Set("Content-Encoding", "gzip")
		w.Header().Set("Content-Length", fmt.Sprint(len(z)))
		w.Write(z)
	})
}

func TestGzip(t *testing.T) {
	srv := gzipServer(t, []byte(rss))
	res, err := fetch.New(fetch.Options{Allow: loopback}).Get(t.Context(), fetch.Request{URL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	if string(res.Body) != rss {
		t.Errorf("Body = %q, want the decoded feed %q", res.Body, rss)
	}
}

func TestMaxBody(t *testing.T) {
	plain := func(n int) *httptest.Server {
		body := bytes.Repeat([]byte("x"), n)
		return upstream(t, func(w http.ResponseWriter, r *http.Request) { w.Write(body) })
	}
	chunked := func(n int) *httptest.Server { // no Content-Length: only reading can tell
		body := bytes.Repeat([]byte("x"), n)
		return upstream(t, func(w http.ResponseWriter, r *http.Request) {
			w.(http.Flusher).Flush()
			w.Write(body)
		})
	}
	tests := []struct {
		name    string
		srv     *httptest.Server
		maxBody int64 // Request.MaxBody; 0 = the default 10 MiB
		wantErr bool
	}{
		{"exactly at the cap is fine", plain(1000), 1000, false},
		{"one byte over the cap", plain(1001), 1000, true},
		{"over the cap without Content-Length", chunked(5000), 1000, true},
		{"small gzip decoding past the cap", gzipServer(t, bytes.Repeat([]byte("x"), 5000)), 1000, true},
		{"gzip bomb past the default 10 MiB", gzipServer(t, make([]byte, 11<<20)), 0, true},
		{"gzip under the cap decoded in full", gzipServer(t, bytes.Repeat([]byte("x"), 1000)), 1000, false},
	}
	c := fetch.New(fetch.Options{Allow: loopback})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := c.Get(t.Context(), fetch.Request{URL: tt.srv.URL, MaxBody: tt.maxBody})
			if tt.wantErr {
				if !errors.Is(err, fetch.ErrTooLarge) {
					t.Fatalf("Get error = %v, want ErrTooLarge", err)
				}
				if !strings.Contains(err.Error(), tt.srv.URL) {
					t.Errorf("error %q does not name the URL", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if int64(len(res.Body)) != tt.maxBody {
				t.Errorf("len(Body) = %d, want %d", len(res.Body), tt.maxBody)
			}
		})
	}
}

func TestMaxBodyOption(t *testing.T) {
	srv := upstream(t, func(w http.ResponseWriter, r *http.Request) { w.Write(make([]byte, 200)) })
	c := fetch.New(fetch.Options{Allow: loopback, MaxBody: 100})
	if _, err := c.Get(t.Context(), fetch.Request{URL: srv.URL}); !errors.Is(err, fetch.ErrTooLarge) {
		t.Errorf("Options.MaxBody 100, 200-byte body: error = %v, want ErrTooLarge", err)
	}
	if _, err := c.Get(t.Context(), fetch.Request{URL: srv.URL, MaxBody: 200}); err != nil {
		t.Errorf("Request.MaxBody 200 overrides Options.MaxBody: error = %v", err)
	}
}

// redirector serves /feed, redirects /hop/N to /hop/N-1 (and /hop/0 to
// /feed), and /loop to itself.
func redirector(t *testing.T) *httptest.Server {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /feed", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, rss) })
	mux.HandleFunc("GET /hop/{n}", func(w http.ResponseWriter, r *http.Request) {
		var n int
		fmt.Sscan(r.PathValue("n"), &n)
		next := "/feed"
		if n > 0 {
			next = fmt.Sprintf("/hop/%d", n-1)
		}
		http.Redirect(w, r, next, http.StatusMovedPermanently)
	})
	mux.HandleFunc("GET /loop", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/loop", http.StatusFound)
	})
	for _, target := range []string{"file:///etc/passwd", "gopher://127.0.0.1:70/", "ftp://127.0.0.1/feed.xml", "javascript:alert(1)"} {
		scheme, _, _ := strings.Cut(target, ":")
		mux.HandleFunc("GET /to-"+scheme, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Location", target) // http.Redirect would clean the path
			w.WriteHeader(http.StatusFound)
		})
	}
	return upstream(t, mux.ServeHTTP)
}

func TestRedirects(t *testing.T) {
	srv := redirector(t)
	tests := []struct {
		name    string
		path    string
		opts    fetch.Options
		wantErr string // "" = success, FinalURL /feed
	}{
		{"one redirect followed", "/hop/0", fetch.Options{Allow: loopback}, ""},
		{"five redirects is the default limit", "/hop/4", fetch.Options{Allow: loopback}, ""},
		{"six redirects is too many", "/hop/5", fetch.Options{Allow: loopback}, "stopped after 6 redirects"},
		{"MaxRedirects lowers the limit", "/hop/2", fetch.Options{Allow: loopback, MaxRedirects: 2}, "stopped after 3 redirects"},
		{"negative MaxRedirects follows none", "/hop/0", fetch.Options{Allow: loopback, MaxRedirects: -1}, "stopped after 1 redirects"},
		{"a loop is named as such", "/loop", fetch.Options{Allow: loopback}, "redirect loop"},
		{"an upstream cannot redirect into local files", "/to-file", fetch.Options{Allow: loopback}, "refused redirect to file:///etc/passwd"},
		{"nor to gopher", "/to-gopher", fetch.Options{Allow: loopback}, "refused redirect to gopher://"},
		{"nor to ftp", "/to-ftp", fetch.Options{Allow: loopback}, "refused redirect to ftp://"},
		{"nor to javascript", "/to-javascript", fetch.Options{Allow: loopback}, "refused redirect to javascript:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := fetch.New(tt.opts).Get(t.Context(), fetch.Request{URL: srv.URL + tt.path})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), srv.URL+tt.path) {
					t.Fatalf("Get error = %v, want one naming %s and saying %q", err, srv.URL+tt.path, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if res.FinalURL != srv.URL+"/feed" || string(res.Body) != rss {
				t.Errorf("FinalURL = %q, Body %q; want %q and the feed", res.FinalURL, res.Body, srv.URL+"/feed")
			}
		})
	}
}

func TestTimeout(t *testing.T) {
	var served atomic.Int32
	srv := upstream(t, func(w http.ResponseWriter, r *http.Request) {
		served.Add(1)
		<-r.Context().Done() // hang until the client gives up
	})
	_, err := fetch.New(fetch.Options{Allow: loopback}).Get(t.Context(), fetch.Request{URL: srv.URL, Timeout: 50 * time.Millisecond})
	var ne net.Error
	if !errors.Is(err, context.DeadlineExceeded) && !(errors.As(err, &ne) && ne.Timeout()) {
		t.Fatalf("Get error = %v, want a timeout", err)
	}
	if !strings.Contains(err.Error(), srv.URL) || !strings.Contains(err.Error(), "within 50ms") {
		t.Errorf("error %q does not name the URL and the timeout", err)
	}
	if served.Load() != 1 {
		t.Errorf("upstream saw %d requests, want 1", served.Load())
	}
}

func TestTimeoutDuringBody(t *testing.T) {
	srv := upstream(t, func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "<rss>")
		w.(http.Flusher).Flush() // headers and a first chunk, then a stall
		<-r.Context().Done()
	})
	_, err := fetch.New(fetch.Options{Allow: loopback, Timeout: 50 * time.Millisecond}).Get(t.Context(), fetch.Request{URL: srv.URL})
	var ne net.Error
	if !errors.Is(err, context.DeadlineExceeded) && !(errors.As(err, &ne) && ne.Timeout()) {
		t.Fatalf("Get error = %v, want a timeout while reading the body", err)
	}
}

func TestCancel(t *testing.T) {
	entered := make(chan struct{})
	srv := upstream(t, func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-r.Context().Done()
	})
	ctx, cancel := context.WithCancel(t.Context())
	go func() {
		<-entered
		cancel()
	}()
	_, err := fetch.New(fetch.Options{Allow: loopback}).Get(ctx, fetch.Request{URL: srv.URL})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Get error = %v, want context.Canceled", err)
	}
}

func TestBadURL(t *testing.T) {
	tests := []struct{ name, url, want string }{
		{"unknown scheme", "ftp://example.org/feed.xml", "unsupported scheme"},
		{"no scheme", "example.org/feed.xml", "unsupported scheme"},
		{"http without host", "http:///feed.xml", "no host"},
		{"relative file URL", "file://feeds/x.xml", "must be absolute"},
		{"unparseable", "http://[::1", "missing ']'"},
	}
	c := fetch.New(fetch.Options{Allow: loopback})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.Get(t.Context(), fetch.Request{URL: tt.url})
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), tt.url) {
				t.Errorf("Get(%q) error = %v, want one naming the URL and saying %q", tt.url, err, tt.want)
			}
		})
	}
}

// chain serves /feed (with an ETag, answering 304 to it) and, for
// /r/301/302/…, a redirect with the first code to the rest of the path,
// ending at /feed: /r/301/308 is a 301 to /r/308, which is a 308 to /feed.
func chain(t *testing.T, hits *atomic.Int32) *httptest.Server {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /feed", func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("ETag", `"v1"`)
		if r.Header.Get("If-None-Match") == `"v1"` {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		fmt.Fprint(w, rss)
	})
	mux.HandleFunc("GET /r/{codes...}", func(w http.ResponseWriter, r *http.Request) {
		first, rest, _ := strings.Cut(r.PathValue("codes"), "/")
		var code int
		fmt.Sscan(first, &code)
		next := "/feed"
		if rest != "" {
			next = "/r/" + rest
		}
		http.Redirect(w, r, next, code)
	})
	return upstream(t, mux.ServeHTTP)
}

func TestMovedTo(t *testing.T) {
	var hits atomic.Int32
	srv := chain(t, &hits)
	other := chain(t, &hits) // another origin
	feed := srv.URL + "/feed"
	tests := []struct {
		name, path string
		want       string // Result.MovedTo
	}{
		{"no redirect", "/feed", ""},
		{"301", "/r/301", feed},
		{"308", "/r/308", feed},
		{"permanent hops chain to the last", "/r/301/308/301", feed},
		{"302 is temporary", "/r/302", ""},
		{"307 is temporary", "/r/307", ""},
		{"303 is not a move", "/r/303", ""},
		{"a temporary hop after permanent ones", "/r/301/302", ""},
		{"a temporary hop before permanent ones", "/r/307/301", ""},
	}
	c := fetch.New(fetch.Options{Allow: loopback})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := c.Get(t.Context(), fetch.Request{URL: srv.URL + tt.path})
			if err != nil {
				t.Fatal(err)
			}
			if res.MovedTo != tt.want || res.FinalURL != feed {
				t.Errorf("MovedTo = %q, FinalURL %q; want %q and %q", res.MovedTo, res.FinalURL, tt.want, feed)
			}
		})
	}

	t.Run("to another origin", func(t *testing.T) {
		mux := http.NewServeMux()
		mux.HandleFunc("GET /old", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, other.URL+"/r/308", http.StatusMovedPermanently)
		})
		old := upstream(t, mux.ServeHTTP)
		res, err := c.Get(t.Context(), fetch.Request{URL: old.URL + "/old"})
		if err != nil || res.MovedTo != other.URL+"/feed" {
			t.Fatalf("Get: err %v, result %+v; want MovedTo %s", err, res, other.URL+"/feed")
		}
	})

	t.Run("on a 304 too", func(t *testing.T) {
		res, err := c.Get(t.Context(), fetch.Request{URL: srv.URL + "/r/301", Validators: fetch.Validators{ETag: `"v1"`}})
		if !errors.Is(err, fetch.ErrNotModified) || res == nil || res.MovedTo != feed {
			t.Fatalf("conditional Get through a 301: err %v, result %+v; want ErrNotModified with MovedTo %s", err, res, feed)
		}
	})
}

func TestCredentialsNeverShown(t *testing.T) {
	const secret = "s3cret-pw"
	var gotUser, gotPass atomic.Value
	mux := http.NewServeMux()
	mux.HandleFunc("GET /feed", func(w http.ResponseWriter, r *http.Request) {
		u, p, _ := r.BasicAuth()
		gotUser.Store(u)
		gotPass.Store(p)
		fmt.Fprint(w, `<rss version="2.0"><channel><title>t</title><link>/x</link></channel></rss>`)
	})
	mux.HandleFunc("GET /missing", http.NotFound)
	mux.HandleFunc("GET /big", func(w http.ResponseWriter, r *http.Request) { w.Write(make([]byte, 2000)) })
	mux.HandleFunc("GET /moved", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/feed", http.StatusMovedPermanently)
	})
	mux.HandleFunc("GET /stall", func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	srv := upstream(t, mux.ServeHTTP)
	withCreds := strings.Replace(srv.URL, "http://", "http://reader:"+secret+"@", 1)

	// The answers that must succeed get the default idle timeout: 20 ms,
	// which the stalled failure below needs, failed /moved on a loaded
	// machine (and the check then dereferenced a nil result).
	c := fetch.New(fetch.Options{Allow: loopback})
	res, err := c.Get(t.Context(), fetch.Request{URL: withCreds + "/feed"})
	if err != nil {
		t.Fatal(err)
	}
	if gotUser.Load() != "reader" || gotPass.Load() != secret {
		t.Errorf("upstream got basic auth %v:%v, want the URL's user info", gotUser.Load(), gotPass.Load())
	}
	if strings.Contains(res.FinalURL, secret) {
		t.Errorf("FinalURL %q carries the password (it is stored, and links resolve against it)", res.FinalURL)
	}
	moved, err := c.Get(t.Context(), fetch.Request{URL: withCreds + "/moved"})
	if err != nil {
		t.Fatalf("Get /moved: %v", err)
	}
	if moved.MovedTo != withCreds+"/feed" {
		t.Errorf("Get /moved: MovedTo %q; want %s (polling it needs the user info)", moved.MovedTo, withCreds+"/feed")
	}
	if shown := fetch.Redact(moved.MovedTo); strings.Contains(shown, secret) {
		t.Errorf("Redact(%q) = %q, still showing the password", moved.MovedTo, shown)
	}

	failures := []struct{ name, url string }{
		{"status error", withCreds + "/missing"},
		{"too large", withCreds + "/big"},
		{"idle", withCreds + "/stall"},
		{"refused", strings.Replace(withCreds, "127.0.0.1", "127.0.0.3", 1) + "/feed"},
		{"unparseable", "http://reader:" + secret + "@[::1/feed"},
		{"bad scheme", "gopher://reader:" + secret + "@example.org/"},
	}
	c = fetch.New(fetch.Options{Allow: loopback, IdleTimeout: 20 * time.Millisecond})
	for _, tt := range failures {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.Get(t.Context(), fetch.Request{URL: tt.url, MaxBody: 1000})
			if err == nil {
				t.Fatal("Get succeeded; want an error")
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("error %q shows the password", err)
			}
			if se, ok := errors.AsType[*fetch.StatusError](err); ok && strings.Contains(se.URL, secret) {
				t.Errorf("StatusError.URL %q shows the password", se.URL)
			}
		})
	}
}

func TestHugeResponseHeaders(t *testing.T) {
	srv := upstream(t, func(w http.ResponseWriter, r *http.Request) {
		for i := range 40 { // 40 × 8 KiB: past the 256 KiB default
			w.Header().Set(fmt.Sprintf("X-Junk-%d", i), strings.Repeat("a", 8<<10))
		}
		fmt.Fprint(w, rss)
	})
	_, err := fetch.New(fetch.Options{Allow: loopback}).Get(t.Context(), fetch.Request{URL: srv.URL})
	if err == nil || !strings.Contains(err.Error(), "headers exceeded") || !strings.Contains(err.Error(), srv.URL) {
		t.Fatalf("Get of 320 KiB of headers: error = %v, want one naming the URL and saying the headers exceeded the cap", err)
	}
	if _, err := fetch.New(fetch.Options{Allow: loopback, MaxHeaderBytes: 1 << 20}).Get(t.Context(), fetch.Request{URL: srv.URL}); err != nil {
		t.Errorf("with MaxHeaderBytes 1 MiB: %v", err)
	}
}
