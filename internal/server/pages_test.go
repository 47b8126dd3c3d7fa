package server_test

import (
	"bytes"
	"encoding/xml"
	"image/png"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/newsdesk/newsdesk/internal/server"
	"github.com/newsdesk/newsdesk/internal/store"
	"github.com/newsdesk/newsdesk/internal/story"
)

// Request headers as browsers and readers send them.
const (
	chromeAccept = "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8"
	readerAccept = "Accept: application/rss+xml, application/atom+xml;q=0.9, application/xml;q=0.8, */*;q=0.5"
	navigate     = "Sec-Fetch-Dest: document"
)

// TestFeedForBrowsers: RSS and Atom name the stylesheet, and a browser
// navigation gets them as application/xml (which browsers style) while a
// reader gets its feed type; the bytes, the ETag and conditional GET are the
// same for both.
func TestFeedForBrowsers(t *testing.T) {
	f := newFixture(t, 3)
	for _, tc := range []struct{ path, feedType string }{
		{"/topics/climate.rss", "application/rss+xml; charset=utf-8"},
		{"/topics/climate.atom", "application/atom+xml; charset=utf-8"},
	} {
		t.Run(tc.path, func(t *testing.T) {
			reader, readerBody := f.get(t, tc.path, readerAccept)
			if ct := reader.Header.Get("Content-Type"); ct != tc.feedType {
				t.Errorf("reader: Content-Type %q, want %q", ct, tc.feedType)
			}
			const pi = `<?xml-stylesheet type="text/xsl" href="/feed.xsl"?>`
			if !bytes.Contains(readerBody[:120], []byte(pi)) {
				t.Errorf("feed does not start with %s: %.120s", pi, readerBody)
			}
			for _, headers := range [][]string{
				{chromeAccept, navigate}, // Chromium, Firefox, Safari on https or localhost
				{chromeAccept},           // the same on plain http, with no fetch metadata
				{"Accept: text/html", navigate, "Accept-Encoding: gzip"},
			} {
				res, body := f.get(t, tc.path, headers...)
				if ct := res.Header.Get("Content-Type"); ct != "application/xml; charset=utf-8" {
					t.Errorf("%q: Content-Type %q, want application/xml", headers, ct)
				}
				if res.Header.Get("Content-Encoding") == "" && !bytes.Equal(body, readerBody) {
					t.Errorf("%q: the browser's bytes differ from the reader's", headers)
				}
				if v := res.Header.Get("Vary"); v != "Accept, Accept-Encoding, Sec-Fetch-Dest" {
					t.Errorf("%q: Vary %q", headers, v)
				}
				etag := res.Header.Get("ETag")
				if res.Header.Get("Content-Encoding") == "" && etag != reader.Header.Get("ETag") {
					t.Errorf("%q: ETag %q, the reader's is %q", headers, etag, reader.Header.Get("ETag"))
				}
				again, _ := f.get(t, tc.path, append(headers, "If-None-Match: "+etag)...)
				if again.StatusCode != http.StatusNotModified {
					t.Errorf("%q: revalidation %s, want 304", headers, again.Status)
				}
			}
			// Not navigations: a script's fetch() in a page, a reader
			// that also takes HTML, curl.
			for _, headers := range [][]string{
				{chromeAccept, "Sec-Fetch-Dest: empty"},
				{"Accept: application/rss+xml, text/html;q=0.1"},
				{"Accept: */*"},
				{},
			} {
				if res, _ := f.get(t, tc.path, headers...); res.Header.Get("Content-Type") != tc.feedType {
					t.Errorf("%q: Content-Type %q, want %q", headers, res.Header.Get("Content-Type"), tc.feedType)
				}
			}
			// A range request goes through http.ServeContent, which must
			// not sniff a type of its own.
			res, _ := f.get(t, tc.path, "Range: bytes=0-99", navigate)
			if res.StatusCode != http.StatusPartialContent || res.Header.Get("Content-Type") != "application/xml; charset=utf-8" {
				t.Errorf("range: %s %q", res.Status, res.Header.Get("Content-Type"))
			}
			// (Before, every range answer had the type ServeContent sniffed: text/xml.)
			res, _ = f.get(t, tc.path, "Range: bytes=0-99")
			if res.StatusCode != http.StatusPartialContent || res.Header.Get("Content-Type") != tc.feedType {
				t.Errorf("range for a reader: %s %q", res.Status, res.Header.Get("Content-Type"))
			}
		})
	}
	// JSON Feed has no stylesheet: one answer for everyone.
	res, body := f.get(t, "/topics/climate.json", chromeAccept, navigate)
	if ct := res.Header.Get("Content-Type"); ct != "application/feed+json; charset=utf-8" || bytes.Contains(body, []byte("xsl")) {
		t.Errorf("json for a browser: %q", ct)
	}
}

// TestStylesheetUnderPrefix: a site published under a path names its
// stylesheet there, by path only, so it is same-origin under any host name.
func TestStylesheetUnderPrefix(t *testing.T) {
	f := newFixtureWith(t, 1, func(o *server.Options) { o.Site.PublicURL = "https://example.org/news" })
	_, body := f.get(t, "/topics/climate.atom")
	if !bytes.Contains(body, []byte(`<?xml-stylesheet type="text/xsl" href="/news/feed.xsl"?>`)) {
		t.Errorf("atom under /news: %.160s", body)
	}
}

// TestStylesheetDocument: /feed.xsl is an XSLT 1.0 document, served with
// an ETag and a type browsers take, that carries the site's title and links.
func TestStylesheetDocument(t *testing.T) {
	f := newFixture(t, 1)
	res, body := f.get(t, "/feed.xsl")
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "text/xsl; charset=utf-8" {
		t.Fatalf("%s %q", res.Status, res.Header.Get("Content-Type"))
	}
	var root struct {
		XMLName xml.Name
		Version string `xml:"version,attr"`
	}
	if err := xml.Unmarshal(body, &root); err != nil {
		t.Fatalf("feed.xsl is not well-formed XML: %v", err)
	}
	if root.XMLName.Space != "http://www.w3.org/1999/XSL/Transform" || root.XMLName.Local != "stylesheet" || root.Version != "1.0" {
		t.Errorf("root %v version %q, want an XSLT 1.0 stylesheet", root.XMLName, root.Version)
	}
	for _, want := range []string{"News Desk", publicURL + "/", publicURL + "/topics.opml", "This is a web feed"} {
		if !bytes.Contains(body, []byte(want)) {
			t.Errorf("feed.xsl lacks %q", want)
		}
	}
	etag := res.Header.Get("ETag")
	if again, _ := f.get(t, "/feed.xsl", "If-None-Match: "+etag); etag == "" || again.StatusCode != http.StatusNotModified {
		t.Errorf("ETag %q, revalidation %s", etag, again.Status)
	}
	if res.Header.Get("Cache-Control") != "public, max-age=300" {
		t.Errorf("Cache-Control %q", res.Header.Get("Cache-Control"))
	}
	// A title with markup in it stays text.
	f.srv.Reconfigure(server.Site{Title: `R&D <"news">`, PublicURL: publicURL}, f.topics, server.Caching{})
	_, body = f.get(t, "/feed.xsl")
	if err := xml.Unmarshal(body, &root); err != nil || !bytes.Contains(body, []byte(`R&amp;D &lt;&#34;news&#34;&gt;`)) {
		t.Errorf("a title with markup: %v", err)
	}
}

func TestFavicon(t *testing.T) {
	f := newFixture(t, 1)
	res, body := f.get(t, "/favicon.ico")
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "image/x-icon" {
		t.Fatalf("favicon.ico: %s %q", res.Status, res.Header.Get("Content-Type"))
	}
	// ICONDIR (reserved 0, type 1, one image), then the entry, then a PNG.
	if len(body) < 22 || !bytes.Equal(body[:6], []byte{0, 0, 1, 0, 1, 0}) || body[6] != 32 || body[7] != 32 {
		t.Fatalf("favicon.ico header % x", body[:min(len(body), 22)])
	}
	img, err := png.Decode(bytes.NewReader(body[22:]))
	if err != nil || img.Bounds().Dx() != 32 {
		t.Fatalf("favicon.ico's image: %v", err)
	}
	if _, _, _, a := img.At(0, 0).RGBA(); a != 0 {
		t.Error("the icon's corner is not transparent")
	}
	if r, g, b, _ := img.At(16, 2).RGBA(); r>>8 != 0xb3 || g>>8 != 0x26 || b>>8 != 0x1e {
		t.Errorf("the icon's ground is %x %x %x, want the brand red", r>>8, g>>8, b>>8)
	}
	res, body = f.get(t, "/favicon.svg")
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "image/svg+xml" || !bytes.HasPrefix(body, []byte("<svg")) {
		t.Errorf("favicon.svg: %s %q", res.Status, res.Header.Get("Content-Type"))
	}
	_, page := f.get(t, "/")
	if !bytes.Contains(page, []byte(`<link rel="icon" href="`+publicURL+`/favicon.svg" type="image/svg+xml">`)) {
		t.Error("the index does not name its icon")
	}
}

// TestNotFoundPage: a browser gets a page with a way home; everyone else
// the message alone, as before; a method a path does not take is still 405.
func TestNotFoundPage(t *testing.T) {
	f := newFixture(t, 1)
	for _, tc := range []struct{ path, plain, human string }{
		{"/topics/nope", "unknown topic", `There is no topic &#34;nope&#34; here.`},
		{"/topics/nope.rss", "unknown topic", `There is no topic &#34;nope&#34; here.`},
		{"/topics/climate.xml", "unknown feed format", "Feeds of Climate come as .rss, .atom and .json."},
		{"/no/such/page", "404 page not found", "Nothing is published at /no/such/page."},
	} {
		res, body := f.get(t, tc.path, chromeAccept, navigate)
		page := string(body)
		if res.StatusCode != http.StatusNotFound || res.Header.Get("Content-Type") != "text/html; charset=utf-8" {
			t.Errorf("%s for a browser: %s %q", tc.path, res.Status, res.Header.Get("Content-Type"))
		}
		for _, want := range []string{tc.human, `href="` + publicURL + `/"`, "Back to the front page", `href="` + publicURL + `/topics/chess"`, "<title>Not found · News Desk</title>"} {
			if !strings.Contains(page, want) {
				t.Errorf("%s: the page lacks %q", tc.path, want)
			}
		}
		res, body = f.get(t, tc.path)
		if res.StatusCode != http.StatusNotFound || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/plain") || !strings.Contains(string(body), tc.plain) {
			t.Errorf("%s for a client: %s %q %q", tc.path, res.Status, res.Header.Get("Content-Type"), body)
		}
		if res.Header.Get("Vary") != "Accept, Sec-Fetch-Dest" || res.Header.Get("Cache-Control") != "public, max-age=60" {
			t.Errorf("%s: Vary %q Cache-Control %q", tc.path, res.Header.Get("Vary"), res.Header.Get("Cache-Control"))
		}
	}
	for _, tc := range []struct {
		method, path string
		want         int
	}{
		{"POST", "/no/such/page", 404}, {"DELETE", "/topics/nope.rss", 405}, {"POST", "/topics.opml", 405}, {"PUT", "/feed.xsl", 405},
	} {
		if res, _ := f.do(t, tc.method, tc.path); res.StatusCode != tc.want {
			t.Errorf("%s %s: %s, want %d", tc.method, tc.path, res.Status, tc.want)
		}
	}
}

// TestTopicPageShowsWhatItKnows: the other sources of a story, its image,
// and "date unknown" where the source gave no date.
func TestTopicPageShowsWhatItKnows(t *testing.T) {
	f := newFixture(t, 2)
	const link = "https://wire.example.com/climate/shared"
	shared := func(src, title string) story.Story {
		return story.Story{ID: story.NewID(src, link), Source: src, SourceTitle: title, GUID: link, Link: link,
			Title: "climate summit shared", Published: base.Add(time.Minute), Topics: []string{"climate"},
			Image: "https://cdn.example.com/summit.jpg"}
	}
	undated := story.Story{ID: story.NewID("wire", "undated"), Source: "wire", SourceTitle: "The Wire", GUID: "undated",
		Link: "https://wire.example.com/climate/undated", Title: "climate bulletin without a date", Topics: []string{"climate"}}
	put := func(src string, stories ...story.Story) {
		if _, err := f.db.Put(t.Context(), src, store.SourceState{Status: "ok"}, stories, base.Add(2*time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	put("wire", shared("wire", "The Wire"), undated)
	put("courier", shared("courier", "The Courier"))
	put("radio", shared("radio", "Radio Nord"))
	f.srv.Invalidate()
	_, body := f.get(t, "/topics/climate")
	page := string(body)
	for _, want := range []string{
		`<img class="thumb" src="https://cdn.example.com/summit.jpg" alt="" loading="lazy" referrerpolicy="no-referrer">`,
		`climate bulletin without a date`,
		`>date unknown</span>`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %s", want)
		}
	}
	// The group's representative is listed once, naming the other two.
	m := regexp.MustCompile(`<span class="source">([^<]+)</span>[^\n]*\n\n<p class="also">Also reported by ([^<]+)</p>`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("page does not name the other sources of the shared story:\n%s", page)
	}
	names := append(strings.Split(m[2], ", "), m[1])
	slices.Sort(names)
	if !slices.Equal(names, []string{"Radio Nord", "The Courier", "The Wire"}) {
		t.Errorf("listed under %q, also reported by %q", m[1], m[2])
	}
	if n := strings.Count(page, "climate summit shared"); n != 1 {
		t.Errorf("the shared story is listed %d times", n)
	}
	if n := strings.Count(page, "date unknown"); n != 1 {
		t.Errorf("%d stories say date unknown, want 1", n)
	}
}

// TestIndexLinksStatus: the index links the status page exactly for the
// requests the status page answers.
func TestIndexLinksStatus(t *testing.T) {
	f := newFixtureWith(t, 1, func(o *server.Options) {
		o.StatusVisible = func(r *http.Request) bool { return r.Header.Get("X-Local") == "yes" }
	})
	for range 2 { // the second time from the cache's fixed-path slot
		if _, body := f.get(t, "/"); bytes.Contains(body, []byte(`/status"`)) {
			t.Error("the index links the status page for a request it would not answer")
		}
		if _, body := f.get(t, "/", "X-Local: yes"); !bytes.Contains(body, []byte(`<a href="`+publicURL+`/status">Status</a>`)) {
			t.Error("the index does not link the status page for a request it answers")
		}
	}
	f = newFixture(t, 1)
	if _, body := f.get(t, "/"); bytes.Contains(body, []byte(`/status"`)) {
		t.Error("with no StatusVisible the index links the status page")
	}
}

// TestIndexShowsLatest: each topic's card leads with its newest headline.
func TestIndexShowsLatest(t *testing.T) {
	f := newFixture(t, 3)
	_, body := f.get(t, "/")
	for _, want := range []string{
		`<p class="latest"><a href="https://wire.example.com/climate/00">climate story 00</a><span class="meta">Latest · The Wire</span></p>`,
		`<p class="latest"><a href="https://wire.example.com/chess/00">chess story 00</a>`,
	} {
		if !bytes.Contains(body, []byte(want)) {
			t.Errorf("index lacks %s", want)
		}
	}
	if n := bytes.Count(body, []byte(`<p class="latest">`)); n != 2 {
		t.Errorf("%d latest headlines, want 2 (the empty topic has none)", n)
	}
}
