package main

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/newsdesk/newsdesk/internal/browser"
)

// TestPagesInBrowser runs the daemon against the bundled feeds and opens
// what people open in headless Chromium, one browser for every page: the
// index, a topic page, the status page, both XML feeds (shown through
// their stylesheet), and a page that does not exist. It checks what the
// browser built, not the bytes sent: the titles a reader sees, the status
// charts, the styled feed with its address to copy and its stories, and no
// error in the console. NEWSDESK_SCREENSHOTS=dir keeps the screenshots.
//
// Without Chromium it skips, unless NEWSDESK_REQUIRE_BROWSER=1 (CI).
func TestPagesInBrowser(t *testing.T) {
	chromium, err := browser.Find()
	if err != nil {
		if os.Getenv("NEWSDESK_REQUIRE_BROWSER") == "1" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	up := httptest.NewServer(http.FileServer(http.Dir("../../feeds")))
	defer up.Close()
	dir := t.TempDir()
	// Links must lead somewhere the browser can follow: public_url is the
	// address the daemon listens on.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	base := "http://" + addr
	cfgPath := writeConfig(t, dir, up.URL, "http://127.0.0.1:9/")
	cfg, err := os.ReadFile(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	cfg = bytes.Replace(cfg, []byte("public_url: http://newsdesk.test"), []byte("public_url: "+base), 1)
	cfg = bytes.Replace(cfg, []byte(`listen: "127.0.0.1:0"`), []byte(`listen: "`+addr+`"`), 1)
	cfg = append(cfg, []byte("\nstatus: {public: localhost}\n")...)
	writeAtomically(t, cfgPath, cfg)

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	logs := newLogWatch()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--config", cfgPath, "--data", filepath.Join(dir, "newsdesk.db")}, func(string) string { return "" }, io.Discard, logs)
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	}()
	logs.waitFor(t, 0, `msg="refresh run" trigger=start-up sources=7`)

	// What the pages must show, from the daemon's own JSON.
	rep := statusJSON(t, base)
	var feed struct {
		Title string `json:"title"`
		Items []struct {
			Title    string `json:"title"`
			Newsdesk struct {
				AlsoIn []struct{ Title string } `json:"also_in"`
			} `json:"_newsdesk"`
		} `json:"items"`
	}
	_, body := get(t, base+"/topics/immigration.json")
	if err := json.Unmarshal(body, &feed); err != nil || len(feed.Items) == 0 {
		t.Fatalf("immigration.json: %v, %d items", err, len(feed.Items))
	}

	b, err := browser.Start(ctx, chromium, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	shots := os.Getenv("NEWSDESK_SCREENSHOTS")
	open := func(name, path string, status int) *browser.Page {
		t.Helper()
		p, err := b.Open(ctx, base+path, browser.Options{Screenshot: true})
		if err != nil {
			t.Fatalf("open %s: %v", path, err)
		}
		if p.Status != status {
			t.Errorf("%s: %d, want %d", path, p.Status, status)
		}
		for _, pr := range p.Problems {
			if pr.URL == p.URL && pr.Source == "network" && status != 200 {
				continue // the console notes the status we asked for
			}
			// Our pages must not fail; what they cannot help (an
			// upstream's image on a host this test cannot reach, Chrome's
			// notice that XSLT is deprecated) is only logged.
			ours := pr.URL == "" || strings.HasPrefix(pr.URL, base)
			if pr.Level == "error" && (ours || pr.Source == "exception" || pr.Source == "console") {
				t.Errorf("%s: %s", path, pr)
			} else {
				t.Logf("%s: %s", path, pr)
			}
		}
		img, err := png.Decode(bytes.NewReader(p.Screenshot))
		if err != nil {
			t.Fatalf("%s: screenshot: %v", path, err)
		}
		if colours := distinctColours(img); colours < 8 {
			t.Errorf("%s: the screenshot has %d colours: a blank page?", path, colours)
		}
		if shots != "" {
			if err := os.WriteFile(filepath.Join(shots, name+".png"), p.Screenshot, 0o644); err != nil {
				t.Error(err)
			}
		}
		return p
	}
	has := func(p *browser.Page, what ...string) {
		t.Helper()
		for _, w := range what {
			if !strings.Contains(p.DOM, w) {
				t.Errorf("%s lacks %q", p.URL, w)
			}
		}
	}

	index := open("index", "/", 200)
	if index.Title != "newsdesk test" {
		t.Errorf("index title %q", index.Title)
	}
	for _, tp := range rep.Topics {
		has(index, ">"+domText(tp.Title)+"</a></h2>")
	}
	has(index, `<a href="`+base+`/status">Status</a>`, `<link rel="icon" href="`+base+`/favicon.svg"`)

	page := open("topic", "/topics/immigration", 200)
	has(page, "<h1>"+domText(feed.Title)+"</h1>")
	also := false
	for _, it := range feed.Items {
		has(page, ">"+domText(it.Title)+"</")
		also = also || len(it.Newsdesk.AlsoIn) > 0
	}
	if also {
		has(page, `<p class="also">Also reported by `)
	}

	st := open("status", "/status", 200)
	has(st, `<svg class="chart"`, "/missing.xml: 404 Not Found")
	for _, s := range rep.Sources {
		has(st, "<strong>"+s.Name+"</strong>")
	}

	for _, ext := range []string{"rss", "atom"} {
		p := open("feed-"+ext, "/topics/immigration."+ext, 200)
		if p.ContentType != "application/xml" {
			t.Errorf("%s: %q, want application/xml", ext, p.ContentType)
		}
		kind := map[string]string{"rss": "RSS", "atom": "Atom"}[ext]
		has(p, `<p class="kicker">Web feed · `+kind+`</p>`, "<h1>"+domText(feed.Title)+"</h1>",
			`<code class="feedurl">`+base+`/topics/immigration.`+ext+`</code>`,
			`<a href="`+base+`/topics/immigration">Read this topic on the web</a>`)
		for _, it := range feed.Items {
			has(p, ">"+domText(it.Title)+"</")
		}
		if strings.Contains(p.DOM, "<rss") || strings.Contains(p.DOM, "<feed") {
			t.Errorf("%s: the browser shows the XML, not the styled page", ext)
		}
	}

	missing := open("not-found", "/topics/no-such-topic", 404)
	has(missing, "Back to the front page", `There is no topic "no-such-topic" here.`)
}

// domText is s as outerHTML writes it in a text node.
func domText(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", "\u00a0", "&nbsp;").Replace(s)
}

// distinctColours counts the colours of a screenshot, up to 1000.
func distinctColours(img interface {
	Bounds() (r image.Rectangle)
	At(x, y int) color.Color
}) int {
	seen := map[color.Color]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y && len(seen) < 1000; y += 3 {
		for x := b.Min.X; x < b.Max.X; x += 3 {
			seen[img.At(x, y)] = true
		}
	}
	return len(seen)
}
