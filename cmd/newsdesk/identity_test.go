package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mmcdole/gofeed"
)

// upstreams serves documents that a test changes between fetches.
type upstreams struct {
	mu   sync.Mutex
	docs map[string]string
}

func (u *upstreams) set(path, doc string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.docs[path] = doc
}

func (u *upstreams) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	u.mu.Lock()
	doc, ok := u.docs[r.URL.Path]
	u.mu.Unlock()
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/rss+xml")
	io.WriteString(w, doc)
}

// rss is an RSS 2.0 document with items.
func rss(title string, items ...string) string {
	return `<?xml version="1.0" encoding="utf-8"?><rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel><title>` +
		title + `</title><link>https://` + strings.ToLower(title) + `.example/</link><description>` + title + `</description>` +
		strings.Join(items, "") + `</channel></rss>`
}

// servedItem is one feed's item for a link, as gofeed reads it.
type servedItem struct {
	id, title, content string
	published, updated time.Time
	enclosures         []string
	categories         []string
}

// readItem fetches the topic in every format and returns, per format, the
// one item whose link is link (failing when there is not exactly one).
// readItemOnce is readItem once every format shows the change done (or
// after five seconds, when the caller's checks say what is wrong): the
// daemon serves with server.DefaultRefreshLag, so a document read right
// after a change may still be its previous render, for up to about a second.
func readItemOnce(t *testing.T, base, slug, link string, done func(servedItem) bool) map[string]servedItem {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		items := readItem(t, base, slug, link)
		all := true
		for _, it := range items {
			all = all && done(it)
		}
		if all || time.Now().After(deadline) {
			return items
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func readItem(t *testing.T, base, slug, link string) map[string]servedItem {
	t.Helper()
	out := make(map[string]servedItem)
	for _, ext := range []string{"rss", "atom", "json"} {
		url := base + "/topics/" + slug + "." + ext
		res, body := get(t, url)
		if res.StatusCode != 200 {
			t.Fatalf("GET %s = %s", url, res.Status)
		}
		f, err := gofeed.NewParser().Parse(bytes.NewReader(body))
		if err != nil {
			t.Fatalf("gofeed cannot read %s: %v", url, err)
		}
		var found []servedItem
		for _, it := range f.Items {
			if it.Link != link {
				continue
			}
			si := servedItem{id: it.GUID, title: it.Title, content: it.Content, categories: it.Categories}
			if it.PublishedParsed != nil {
				si.published = *it.PublishedParsed
			}
			if it.UpdatedParsed != nil {
				si.updated = *it.UpdatedParsed
			}
			for _, e := range it.Enclosures {
				si.enclosures = append(si.enclosures, e.URL)
			}
			found = append(found, si)
		}
		if len(found) != 1 {
			t.Fatalf("%s lists %d items for %s, want 1:\n%s", url, len(found), link, body)
		}
		out[ext] = found[0]
	}
	return out
}

// TestServedIDsSurviveABetterCopy runs the daemon over two upstreams that
// carry one article: an undated bulletin stub first, then the wire's full,
// dated copy, then an edit of it. A reader (gofeed) must see one item under
// one id in every format throughout, with the better copy's text and date,
// every copy's enclosures and categories, and the edit signalled.
func TestServedIDsSurviveABetterCopy(t *testing.T) {
	const link = "https://news.example/2026/01/harbour-reopens"
	ups := &upstreams{docs: map[string]string{}}
	stub := `<item><title>Harbour reopens</title><link>` + link + `</link><description>Partner story</description>` +
		`<enclosure url="https://cdn.example/harbour.mp3" type="audio/mpeg" length="1000"/><category>Local</category></item>`
	// Two posts of one page, with no guid: two stories, served with their
	// fragments.
	diary := `<item><title>Harbour diary: morning</title><link>https://bulletin.example/day.html#a1</link><description>Boats wait.</description></item>` +
		`<item><title>Harbour diary: evening</title><link>https://bulletin.example/day.html#a2</link><description>Boats leave.</description></item>`
	ups.set("/bulletin.xml", rss("Bulletin", stub, diary))
	other := `<item><title>Ferry timetable</title><link>https://wire.example/ferry</link><guid>ferry</guid><pubDate>Tue, 20 Jan 2026 08:00:00 GMT</pubDate><description>Harbour ferries run late.</description></item>`
	ups.set("/wire.xml", rss("Wire", other))
	up := httptest.NewServer(ups)
	defer up.Close()

	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "newsdesk.yaml")
	cfg := fmt.Sprintf(`site: {title: identity test, public_url: "http://newsdesk.test"}
listen: "127.0.0.1:0"
refresh: "@every 1h"
fetch: {min_interval: 1s, max_interval: 1h, allow_networks: [127.0.0.1/32]} # the upstreams are httptest servers
sources:
  - {name: bulletin, title: Bulletin, url: "%[1]s/bulletin.xml"}
  - {name: wire, title: Wire, url: "%[1]s/wire.xml"}
topics:
  - slug: harbour
    title: Harbour
    rule: {any: [harbour]}
`, up.URL)
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	dbPath := filepath.Join(dir, "data", "newsdesk.db")

	ctx, cancel := context.WithCancel(t.Context())
	logs := newLogWatch()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--config", cfgPath, "--data", dbPath}, func(string) string { return "" }, io.Discard, logs)
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	}()
	line, _ := logs.waitFor(t, 0, "msg=serving")
	base := "http://" + regexp.MustCompile(`addr=(\S+)`).FindStringSubmatch(line)[1]
	// Both sources are fetched in the start-up run; its summary line comes
	// when the last of them is stored.
	logs.waitFor(t, 0, `msg="refresh run" trigger=start-up sources=2 ok=2`)

	first := readItem(t, base, "harbour", link)
	for ext, it := range first {
		if it.id == "" || it.title != "Harbour reopens" {
			t.Fatalf("%s before: %+v", ext, it)
		}
	}
	morning := readItem(t, base, "harbour", "https://bulletin.example/day.html#a1")
	evening := readItem(t, base, "harbour", "https://bulletin.example/day.html#a2")
	for ext := range morning {
		if morning[ext].id == evening[ext].id || morning[ext].title != "Harbour diary: morning" || evening[ext].title != "Harbour diary: evening" {
			t.Errorf("%s: the page's two posts are %+v and %+v, want two items", ext, morning[ext], evening[ext])
		}
	}

	// The wire publishes its full, dated copy of the same article.
	full := `<item><title>Harbour reopens</title><link>` + link + `?utm_source=wire</link><guid>harbour-1</guid>` +
		`<pubDate>Mon, 19 Jan 2026 09:00:00 GMT</pubDate><description>The harbour reopened on Monday.</description>` +
		`<content:encoded><![CDATA[<p>The harbour reopened on Monday after a month of repairs, the port authority said.</p>]]></content:encoded>` +
		`<enclosure url="https://cdn.example/harbour.ogg" type="audio/ogg" length="900"/><category>Ports</category></item>`
	ups.set("/wire.xml", rss("Wire", full, other))
	if _, err := newsdesk(t, "fetch", "--config", cfgPath, "--data", dbPath, "--source", "wire", "--force"); err != nil {
		t.Fatal(err)
	}
	second := readItemOnce(t, base, "harbour", link, func(it servedItem) bool { return strings.Contains(it.content, "a month of repairs") })
	jan19 := time.Date(2026, 1, 19, 9, 0, 0, 0, time.UTC)
	for ext, it := range second {
		if it.id != first[ext].id {
			t.Errorf("%s: the item's id moved from %q to %q when the better copy took over", ext, first[ext].id, it.id)
		}
		if !strings.Contains(it.content, "a month of repairs") {
			t.Errorf("%s: content %q, want the wire's full text", ext, it.content)
		}
		if !it.published.Equal(jan19) {
			t.Errorf("%s: published %v, want the upstream date %v", ext, it.published, jan19)
		}
		if ext != "rss" { // RSS 2.0 has one enclosure per item
			slices.Sort(it.enclosures)
			if want := []string{"https://cdn.example/harbour.mp3", "https://cdn.example/harbour.ogg"}; !slices.Equal(it.enclosures, want) {
				t.Errorf("%s: enclosures %v, want every copy's %v", ext, it.enclosures, want)
			}
		}
		if !slices.Contains(it.categories, "Ports") || !slices.Contains(it.categories, "Local") {
			t.Errorf("%s: categories %v, want both copies'", ext, it.categories)
		}
	}
	for _, ext := range []string{"atom", "json"} {
		if !second[ext].updated.After(first[ext].updated) {
			t.Errorf("%s: updated %v, was %v: want it moved when the listed copy changed", ext, second[ext].updated, first[ext].updated)
		}
	}

	// The wire corrects its headline: same item, same id and date, updated moves.
	edited := strings.Replace(full, "<title>Harbour reopens</title>", "<title>Harbour reopens after repairs</title>", 1)
	ups.set("/wire.xml", rss("Wire", edited, other))
	if _, err := newsdesk(t, "fetch", "--config", cfgPath, "--data", dbPath, "--source", "wire", "--force"); err != nil {
		t.Fatal(err)
	}
	third := readItemOnce(t, base, "harbour", link, func(it servedItem) bool { return it.title == "Harbour reopens after repairs" })
	for ext, it := range third {
		if it.id != first[ext].id || it.title != "Harbour reopens after repairs" || !it.published.Equal(jan19) {
			t.Errorf("%s after the edit: id %q title %q published %v; want id %q, the new title, %v", ext, it.id, it.title, it.published, first[ext].id, jan19)
		}
		if ext != "rss" && !it.updated.After(second[ext].updated) {
			t.Errorf("%s: updated %v after the edit, was %v: the edit is not signalled", ext, it.updated, second[ext].updated)
		}
	}
}
