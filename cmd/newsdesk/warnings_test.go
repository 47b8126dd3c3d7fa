package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html"
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

// jsonUpstream serves one JSON Feed that a test changes, with a strong
// ETag, so an unchanged document is answered 304 (http.ServeContent).
type jsonUpstream struct {
	mu  sync.Mutex
	doc string
}

func (u *jsonUpstream) set(doc string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.doc = doc
}

func (u *jsonUpstream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	u.mu.Lock()
	doc := u.doc
	u.mu.Unlock()
	w.Header().Set("Content-Type", "application/feed+json")
	w.Header().Set("ETag", fmt.Sprintf(`"%x"`, len(doc)))
	http.ServeContent(w, r, "", time.Time{}, strings.NewReader(doc))
}

// malformedJSONFeed is a JSON Feed whose second item carries its tags as a
// string, where JSON Feed 1.1 says an array of strings: gofeed alone
// rejects the whole document.
func malformedJSONFeed(tags string) string {
	return `{
  "version": "https://jsonfeed.org/version/1.1",
  "title": "Harbour Notes",
  "home_page_url": "https://harbour.example/",
  "items": [
    {"id": "ok-1", "url": "https://harbour.example/1", "title": "Ice closes the northern harbour",
     "content_html": "<p>Ice floes closed the harbour at dawn.</p>", "date_published": "2026-01-27T08:00:00Z"},
    {"id": "bad-2", "url": "https://harbour.example/2", "title": "Ice breakers sent north",
     "tags": ` + tags + `, "content_html": "<p>Two ice breakers left port.</p>", "date_published": "2026-01-27T09:00:00Z"},
    {"id": "ok-3", "url": "https://harbour.example/3", "title": "Ferry timetable returns",
     "content_html": "<p>Ice permitting, ferries sail again.</p>", "date_published": "2026-01-27T10:00:00Z"}
  ]
}`
}

const harbourWarning = `item 2 (id "bad-2"): "tags" is a string, not an array; field ignored`

// TestMalformedJSONFeedItemIsNamed runs the daemon against a real upstream
// serving a JSON Feed with one malformed item: every item is served (the
// bad one without its bad field), and the bad one is named where an admin
// looks, in the fetch table's NOTE, in `newsdesk status` (through the
// daemon and from the stopped store), on /status and in /status.json; a 304
// keeps it, logged once; the upstream's fix clears it, logged once.
func TestMalformedJSONFeedItemIsNamed(t *testing.T) {
	up := &jsonUpstream{}
	up.set(malformedJSONFeed(`"ice, harbours"`))
	srv := httptest.NewServer(up)
	defer srv.Close()
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "newsdesk.yaml")
	cfg := fmt.Sprintf(`listen: 127.0.0.1:0
refresh: '@every 1h'
status: {public: localhost}
fetch: {allow_networks: [127.0.0.1/32]}
sources:
  - {name: harbour, title: Harbour Notes, url: "%s/feed.json"}
topics:
  - {slug: ice, title: Ice, rule: {any: [ice]}}
`, srv.URL)
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	dbPath := filepath.Join(dir, "newsdesk.db")

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	logs := newLogWatch()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--config", cfgPath, "--data", dbPath}, func(string) string { return "" }, io.Discard, logs)
	}()
	line, next := logs.waitFor(t, 0, "msg=serving")
	base := "http://" + regexp.MustCompile(`addr=(\S+)`).FindStringSubmatch(line)[1]
	_, ran := logs.waitFor(t, 0, `msg="refresh run" trigger=start-up`) // may come before "serving"
	next = max(next, ran)
	const skipped = `msg="parts of the document skipped as malformed" source=harbour count=1`
	logs.waitFor(t, 0, skipped)

	// Every item is served, the malformed one too.
	feed, err := gofeed.NewParser().ParseURLWithContext(base+"/topics/ice.json", t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var titles []string
	for _, it := range feed.Items {
		titles = append(titles, it.Title)
	}
	slices.Sort(titles)
	if want := []string{"Ferry timetable returns", "Ice breakers sent north", "Ice closes the northern harbour"}; !slices.Equal(titles, want) {
		t.Errorf("topic ice serves %q, want %q", titles, want)
	}

	// The fetch table, through the daemon: the upstream answers 304, and
	// the warning still describes what is stored.
	row := regexp.MustCompile(`harbour\s+not-modified\s+304\s+0\s+0\s+\S+\s+skipped as malformed: ` + regexp.QuoteMeta(harbourWarning) + `\n`)
	out, err := newsdesk(t, "fetch", "--force", "--config", cfgPath, "--data", dbPath)
	if err != nil || !row.MatchString(out) {
		t.Errorf("fetch table (err %v) does not match %s:\n%s", err, row, out)
	}
	rep := statusJSON(t, base)
	if len(rep.Sources) != 1 || rep.Sources[0].Status != "not-modified" || !slices.Equal(rep.Sources[0].Warnings, []string{harbourWarning}) {
		t.Errorf("/status.json sources = %+v, want harbour not-modified with the warning", rep.Sources)
	}
	res, page := get(t, base+"/status")
	if res.StatusCode != 200 || !bytes.Contains(page, []byte(html.EscapeString(harbourWarning))) {
		t.Errorf("/status (%d) does not show the warning %q", res.StatusCode, harbourWarning)
	}
	out, err = newsdesk(t, "status", "--config", cfgPath, "--data", dbPath)
	if want := "harbour: skipped as malformed: " + harbourWarning; err != nil || !strings.Contains(out, want) {
		t.Errorf("newsdesk status (err %v) does not say %q:\n%s", err, want, out)
	}

	// The upstream fixes the item: the next parse clears the warning.
	up.set(malformedJSONFeed(`["ice", "harbours"]`))
	out, err = newsdesk(t, "fetch", "--force", "--config", cfgPath, "--data", dbPath)
	if err != nil || !regexp.MustCompile(`harbour\s+ok\s+200\s+0\s+1\s+\S+\s*\n`).MatchString(out) {
		t.Errorf("fetch of the fixed feed (err %v): want ok, 1 updated, no note:\n%s", err, out)
	}
	if rep := statusJSON(t, base); rep.Sources[0].Warnings != nil {
		t.Errorf("/status.json warnings after the fix = %q, want none", rep.Sources[0].Warnings)
	}
	logs.waitFor(t, next, `msg="document no longer malformed" source=harbour`)

	// Broken again, fetched without the daemon: the store keeps the warning
	// for `newsdesk status` to read from the stopped store.
	up.set(malformedJSONFeed(`"ice"`))
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("serve: %v", err)
	}
	n := 0
	for _, l := range logs.lines {
		if strings.Contains(l, skipped) {
			n++
		}
	}
	if n != 1 {
		t.Errorf("the warning was logged %d times, want once (at the parse that found it)", n)
	}
	out, err = newsdesk(t, "fetch", "--force", "--config", cfgPath, "--data", dbPath)
	if err != nil || !regexp.MustCompile(`harbour\s+ok\s+200\s+0\s+1\s+.*skipped as malformed: `+regexp.QuoteMeta(harbourWarning)).MatchString(out) {
		t.Errorf("fetch without the daemon (err %v) does not name the bad item:\n%s", err, out)
	}
	out, err = newsdesk(t, "status", "--json", "--config", cfgPath, "--data", dbPath)
	var stopped struct {
		Daemon  bool
		Sources []struct{ Warnings []string }
	}
	if err == nil {
		err = json.Unmarshal([]byte(out), &stopped)
	}
	if err != nil || stopped.Daemon || len(stopped.Sources) != 1 || !slices.Equal(stopped.Sources[0].Warnings, []string{harbourWarning}) {
		t.Errorf("newsdesk status --json from the stopped store (err %v) = %+v, want the warning", err, stopped)
	}
}
