package main

import (
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestBehindNginxCache puts nginx's proxy_cache in front of the daemon,
// configured to obey the origin (no proxy_cache_valid, no ignored headers),
// and checks issue 12's three claims about what our headers let a shared
// cache do: readers polling a topic are answered from the cache (≥ 99%
// without touching newsdesk), a changed topic is visible through the cache
// within max-age, and with newsdesk stopped the cache keeps serving the last
// good feed (stale-if-error).
//
// It runs when nginx is installed (Debian nginx; no root needed: a private
// prefix and a loopback port) and fails instead of skipping when
// NEWSDESK_REQUIRE_VALIDATORS is set, as in CI.
func TestBehindNginxCache(t *testing.T) {
	nginx := nginxBinary(t)
	var feed atomic.Pointer[string]
	setFeed := func(titles ...string) {
		var items strings.Builder
		for i, title := range titles {
			fmt.Fprintf(&items, "<item><title>%s</title><link>https://up.example.com/%d</link><guid>up-%d</guid>"+
				"<pubDate>%s</pubDate><description>Visa rules %d.</description></item>", title, i, i,
				time.Date(2026, 1, 20, 10, i, 0, 0, time.UTC).Format(time.RFC1123Z), i)
		}
		doc := `<?xml version="1.0"?><rss version="2.0"><channel><title>Up</title><link>https://up.example.com/</link>` +
			`<description>d</description>` + items.String() + `</channel></rss>`
		feed.Store(&doc)
	}
	setFeed("Visa backlog grows", "Visa office reopens")
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml")
		io.WriteString(w, *feed.Load())
	}))
	defer up.Close()

	const maxAge = 2 * time.Second
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "newsdesk.yaml")
	cfg := fmt.Sprintf(`site: {title: cdn test, public_url: "http://news.test"}
listen: "127.0.0.1:0"
refresh: "@every 1h"
fetch: {min_interval: 1s, allow_networks: [127.0.0.1/32]}
http: {max_age: 2s, s_maxage: 2s, stale_while_revalidate: 1s, stale_if_error: 1h}
sources:
  - {name: up, title: Upstream, url: "%s/feed.xml"}
topics:
  - {slug: visas, title: Visas, rule: {term: visa}}
`, up.URL)
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	dbPath := filepath.Join(dir, "data", "newsdesk.db")
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	logs := newLogWatch()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--config", cfgPath, "--data", dbPath}, func(string) string { return "" }, io.Discard, logs)
	}()
	line, _ := logs.waitFor(t, 0, "msg=serving")
	origin := "http://" + regexp.MustCompile(`addr=(\S+)`).FindStringSubmatch(line)[1]
	logs.waitFor(t, 0, `msg="refresh run" trigger=start-up`) // the start-up fetch

	// Between nginx and newsdesk, a counter of the requests that reach us.
	var touched atomic.Int64
	target, _ := url.Parse(origin)
	proxy := httputil.NewSingleHostReverseProxy(target)
	counter := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		touched.Add(1)
		proxy.ServeHTTP(w, r)
	}))
	defer counter.Close()
	cache := startNginxCache(t, nginx, filepath.Join(dir, "nginx"), counter.URL)

	const path = "/topics/visas.rss"
	poll := func() (*http.Response, string) {
		res, body := get(t, cache+path, "Accept-Encoding", "gzip")
		if res.StatusCode != http.StatusOK {
			t.Fatalf("GET %s through nginx: %s (cache %s)", path, res.Status, res.Header.Get("X-Cache-Status"))
		}
		return res, string(body)
	}

	// 1. Readers polling: almost every answer comes from the cache.
	touched.Store(0)
	var answers atomic.Int64
	statuses := map[string]int{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	stop := time.Now().Add(3 * maxAge / 2) // the copy expires once on the way
	for range 8 {
		wg.Go(func() {
			client := &http.Client{Transport: &http.Transport{DisableCompression: true}}
			defer client.CloseIdleConnections()
			for time.Now().Before(stop) {
				req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, cache+path, nil)
				req.Header.Set("Accept-Encoding", "gzip")
				res, err := client.Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode != http.StatusOK {
					t.Errorf("reader got %s", res.Status)
					return
				}
				answers.Add(1)
				mu.Lock()
				statuses[res.Header.Get("X-Cache-Status")]++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	n, origins := answers.Load(), touched.Load()
	share := 1 - float64(origins)/float64(n)
	t.Logf("%d answers through nginx, %d reached newsdesk (%.2f%% from the cache); cache statuses %v", n, origins, 100*share, statuses)
	if n < 1000 || share < 0.99 {
		t.Errorf("%d of %d answers reached newsdesk; want at least 1,000 answers, 99%% from the cache", origins, n)
	}

	// 2. A change is visible through the cache within max-age (plus one
	// revalidation: a request, after which the next one is fresh).
	setFeed("Visa backlog grows", "Visa office reopens", "Visa fees to double")
	if out, err := newsdesk(t, "fetch", "--config", cfgPath, "--data", dbPath, "--source", "up", "--force"); err != nil {
		t.Fatalf("fetch: %v\n%s", err, out)
	}
	if _, body := get(t, origin+path); !strings.Contains(string(body), "Visa fees to double") {
		t.Fatal("newsdesk itself does not serve the change after the fetch")
	}
	changed := time.Now()
	for {
		_, body := poll()
		if strings.Contains(gunzipString(t, body), "Visa fees to double") {
			break
		}
		if waited := time.Since(changed); waited > maxAge+time.Second { // max-age, then stale-while-revalidate (1s) at most
			t.Fatalf("the change is not visible through the cache %v after it was made (max-age %v)", waited, maxAge)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("the change was visible through the cache %v after it was made (max-age %v)", time.Since(changed).Round(time.Millisecond), maxAge)

	// 3. newsdesk stops: the cache keeps serving the last good feed. The
	// counter goes too, so nginx finds nothing listening, as it would with
	// newsdesk itself behind it.
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("serve: %v", err)
	}
	counter.Close()
	time.Sleep(maxAge + 2*time.Second) // past max-age and stale-while-revalidate
	res, body := poll()
	if !strings.Contains(gunzipString(t, body), "Visa fees to double") {
		t.Errorf("with newsdesk stopped the cache answers %q", body)
	}
	if st := res.Header.Get("X-Cache-Status"); st != "STALE" {
		t.Errorf("with newsdesk stopped X-Cache-Status = %q, want STALE (served under stale-if-error)", st)
	}
}

// nginxBinary finds Debian's nginx, or skips (fails under
// NEWSDESK_REQUIRE_VALIDATORS, as in CI).
func nginxBinary(t *testing.T) string {
	for _, p := range []string{"nginx", "/usr/sbin/nginx"} {
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	if os.Getenv("NEWSDESK_REQUIRE_VALIDATORS") != "" {
		t.Fatal("NEWSDESK_REQUIRE_VALIDATORS is set but nginx is not installed (Debian nginx)")
	}
	t.Skip("nginx not installed (Debian nginx); skipping the shared-cache test")
	return ""
}

// startNginxCache runs nginx as a caching reverse proxy of origin, from a
// private prefix, and returns its base URL. The config is what a site would
// write to let the origin's Cache-Control decide: a cache zone, validators
// for revalidation, one request per missing or expired entry, updates in the
// background, and the cache status in a header for the test to read.
func startNginxCache(t *testing.T, nginx, prefix, origin string) string {
	t.Helper()
	for _, d := range []string{"cache", "tmp", "logs"} {
		if err := os.MkdirAll(filepath.Join(prefix, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	user := ""
	if os.Geteuid() == 0 { // nginx would switch its workers to nobody, who cannot read the test's folder
		user = "user root root;\n"
	}
	conf := fmt.Sprintf(`%sworker_processes 1;
daemon off;
pid %[2]s/nginx.pid;
error_log %[2]s/logs/error.log warn;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path %[2]s/tmp/body;
  proxy_temp_path %[2]s/tmp/proxy;
  fastcgi_temp_path %[2]s/tmp/fastcgi;
  uwsgi_temp_path %[2]s/tmp/uwsgi;
  scgi_temp_path %[2]s/tmp/scgi;
  proxy_cache_path %[2]s/cache keys_zone=feeds:1m;
  upstream newsdesk { server %[3]s; keepalive 8; }
  server {
    listen 127.0.0.1:%[4]d;
    location / {
      proxy_pass http://newsdesk;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_cache feeds;
      proxy_cache_revalidate on;
      proxy_cache_lock on;
      proxy_cache_background_update on;
      add_header X-Cache-Status $upstream_cache_status always;
    }
  }
}
`, user, prefix, strings.TrimPrefix(origin, "http://"), port)
	confPath := filepath.Join(prefix, "nginx.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(nginx, "-p", prefix, "-c", confPath, "-e", filepath.Join(prefix, "logs", "error.log"))
	out := &strings.Builder{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start nginx: %v", err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
	})
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	for deadline := time.Now().Add(10 * time.Second); ; {
		if res, err := http.Get(base + "/healthz"); err == nil {
			res.Body.Close()
			return base
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(prefix, "logs", "error.log"))
			t.Fatalf("nginx did not start: %s\n%s", out, log)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// gunzipString returns body decompressed when it is gzip, else as is.
func gunzipString(t *testing.T, body string) string {
	t.Helper()
	zr, err := gzip.NewReader(strings.NewReader(body))
	if err != nil {
		return body
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("gunzip: %v", err)
	}
	return string(b)
}
