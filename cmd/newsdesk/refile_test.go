package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mmcdole/gofeed"

	"github.com/newsdesk/newsdesk/internal/store"
	"github.com/newsdesk/newsdesk/internal/store/bolt"
	"github.com/newsdesk/newsdesk/internal/story"
)

// refileStories is how many stories the start-up re-classification tests
// store: a third about ice, a third about snow, a third about neither.
const refileStories = 300

// refileFixture is a store filed by an older engine (its topics
// fingerprint is not this config's), a config whose topics file it
// differently, and a daemon whose re-classification a test holds open.
type refileFixture struct {
	cfgPath, dbPath string
	entered         chan struct{} // closed when the re-classification reaches its first story
	release         chan struct{} // closing it lets the re-classification go on
	logs            *logWatch
	done            chan error
	base            string
	next            int // log lines read
}

func newRefileFixture(t *testing.T, ctx context.Context) *refileFixture {
	t.Helper()
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/feed+json")
		io.WriteString(w, `{"version": "https://jsonfeed.org/version/1.1", "title": "Quiet", "items": []}`)
	}))
	t.Cleanup(up.Close)
	dir := t.TempDir()
	f := &refileFixture{cfgPath: filepath.Join(dir, "newsdesk.yaml"), dbPath: filepath.Join(dir, "newsdesk.db"),
		entered: make(chan struct{}), release: make(chan struct{}), logs: newLogWatch(), done: make(chan error, 1)}
	cfg := fmt.Sprintf(`listen: 127.0.0.1:0
refresh: '@every 1h'
status: {public: localhost}
fetch: {allow_networks: [127.0.0.1/32]}
http: {reader_process: false} # one process: the test's hook (env.classifying) runs in it
sources:
  - {name: quiet, url: "%s/feed.json"}
topics:
  - {slug: ice, title: Ice and snow, limit: 500, rule: {any: [ice, snow]}}
  - {slug: snow, title: Snow, limit: 500, rule: {any: [snow]}}
`, up.URL)
	if err := os.WriteFile(f.cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}

	// The stored filing: ice held the ice stories only, and there was no
	// snow topic. The fingerprint is an older engine's.
	db, err := bolt.Open(f.dbPath, bolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().Add(-time.Hour)
	var batch []story.Story
	for i := range refileStories {
		title, topics := fmt.Sprintf("Harbour news %d", i), []string(nil)
		switch i % 3 {
		case 0:
			title, topics = fmt.Sprintf("Ice storm %d", i), []string{"ice"}
		case 1:
			title = fmt.Sprintf("Snow drifts %d", i)
		}
		batch = append(batch, story.Story{ID: story.NewID("old", fmt.Sprint(i)), Source: "old", Title: title,
			Link: fmt.Sprintf("https://old.example/%d", i), ContentText: title + " today.",
			Published: now.Add(time.Duration(i) * time.Second), Topics: topics})
	}
	if _, err := db.Put(t.Context(), "old", store.SourceState{Status: story.StatusOK}, batch, now); err != nil {
		t.Fatal(err)
	}
	if err := db.SetMeta(t.Context(), "topics-fingerprint", "filed by an older engine"); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	var once sync.Once
	e := env{getenv: func(string) string { return "" }, stdout: io.Discard, stderr: f.logs,
		classifying: func(ctx context.Context) {
			once.Do(func() { close(f.entered) })
			select {
			case <-f.release:
			case <-ctx.Done():
			}
		}}
	go func() { f.done <- serve(ctx, e, []string{"--config", f.cfgPath, "--data", f.dbPath}) }()
	var line string
	line, f.next = f.logs.waitFor(t, 0, "msg=serving")
	f.base = "http://" + regexp.MustCompile(`addr=(\S+)`).FindStringSubmatch(line)[1]
	select {
	case <-f.entered:
	case <-time.After(time.Minute): // a hang guard, not a timing
		t.Fatal("the start-up re-classification never began")
	}
	return f
}

// titles returns the titles a topic's JSON Feed serves, by their first
// word, with the status code.
func (f *refileFixture) titles(t *testing.T, slug string) (int, map[string]int) {
	t.Helper()
	res, body := get(t, f.base+"/topics/"+slug+".json")
	if res.StatusCode != 200 {
		return res.StatusCode, nil
	}
	feed, err := gofeed.NewParser().ParseString(string(body))
	if err != nil {
		t.Fatalf("%s.json: %v", slug, err)
	}
	kinds := map[string]int{}
	for _, it := range feed.Items {
		kinds[strings.Fields(it.Title)[0]]++
	}
	return res.StatusCode, kinds
}

// TestStartupServesWhileReclassifying starts the daemon on a store filed
// by an older engine: it listens and serves the stored filing while it
// re-files in the background (held open here by the test's hook), with
// /readyz ready and /status saying so; once the re-filing ends, readers get
// the new filing, whole, without waiting for a cached render to expire.
func TestStartupServesWhileReclassifying(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	f := newRefileFixture(t, ctx)

	// Held open: the old filing, whole.
	code, kinds := f.titles(t, "ice")
	if code != 200 || kinds["Ice"] != refileStories/3 || kinds["Snow"] != 0 || kinds["Harbour"] != 0 {
		t.Errorf("ice during the re-classification = %d %v, want 200 with the %d ice stories of the old filing only", code, kinds, refileStories/3)
	}
	if code, kinds := f.titles(t, "snow"); code != 200 || len(kinds) != 0 {
		t.Errorf("snow (a new topic) during the re-classification = %d %v, want 200 and empty", code, kinds)
	}
	if res, body := get(t, f.base+"/readyz"); res.StatusCode != 200 {
		t.Errorf("/readyz during the re-classification = %d %s, want 200: valid, if old, feeds are served", res.StatusCode, body)
	}
	rep := statusJSON(t, f.base)
	if rc := rep.Process.Reclassifying; rc == nil || rc.Stories != refileStories || rc.Started.IsZero() {
		t.Errorf("/status.json process.reclassifying = %+v, want %d stories under way", rc, refileStories)
	}
	out, err := newsdesk(t, "status", "--config", f.cfgPath, "--data", f.dbPath)
	if err != nil || !strings.Contains(out, "re-classifying since") || !strings.Contains(out, fmt.Sprintf("of %d stories", refileStories)) {
		t.Errorf("newsdesk status during the re-classification (err %v) does not say it runs:\n%s", err, out)
	}

	close(f.release)
	f.logs.waitFor(t, f.next, "msg=reclassified")
	// The new filing, whole: ice takes the snow stories too, snow exists.
	code, kinds = f.titles(t, "ice")
	if code != 200 || kinds["Ice"] != refileStories/3 || kinds["Snow"] != refileStories/3 || kinds["Harbour"] != 0 {
		t.Errorf("ice after the re-classification = %d %v, want the ice and the snow stories", code, kinds)
	}
	if code, kinds := f.titles(t, "snow"); code != 200 || kinds["Snow"] != refileStories/3 || len(kinds) != 1 {
		t.Errorf("snow after the re-classification = %d %v, want the %d snow stories", code, kinds, refileStories/3)
	}
	if rc := statusJSON(t, f.base).Process.Reclassifying; rc != nil {
		t.Errorf("/status.json still reports a re-classification after it ended: %+v", rc)
	}

	cancel()
	if err := <-f.done; err != nil {
		t.Fatalf("serve: %v", err)
	}
	db, err := bolt.Open(f.dbPath, bolt.Options{Timeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if fp, _ := db.Meta(t.Context(), "topics-fingerprint"); fp == "filed by an older engine" || fp == "" {
		t.Errorf("topics fingerprint after the re-classification = %q, want this config's", fp)
	}
}

// TestShutdownDuringStartupReclassification stops the daemon (SIGTERM,
// here its context) while its start-up re-classification runs: serve
// returns, the store keeps the old filing and fingerprint (the next start
// re-files), and "stopped" is the last line.
func TestShutdownDuringStartupReclassification(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	f := newRefileFixture(t, ctx)
	cancel()
	select {
	case err := <-f.done:
		if err != nil {
			t.Fatalf("serve returned %v", err)
		}
	case <-time.After(time.Minute): // a hang guard, not a timing
		t.Fatal("serve did not return after shutdown during the start-up re-classification")
	}
	f.logs.waitFor(t, f.next, "re-classification cancelled; the next start (or leader) does it again")
	if last := f.logs.lines[len(f.logs.lines)-1]; !strings.Contains(last, "msg=stopped") {
		t.Errorf("last log line = %q, want the stopped line", last)
	}
	db, err := bolt.Open(f.dbPath, bolt.Options{Timeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatalf("store still held after serve returned: %v", err)
	}
	defer db.Close()
	// Cleared while the re-filing ran (or the old one, had it not begun):
	// never the new topics', so the next start re-files.
	if fp, _ := db.Meta(t.Context(), "topics-fingerprint"); fp != "" && fp != "filed by an older engine" {
		t.Errorf("topics fingerprint = %q, want it cleared or the old one kept (the next start re-files)", fp)
	}
	page, err := db.Recent(t.Context(), store.Query{Topic: "ice", Limit: 500})
	if err != nil || len(page.Stories) != refileStories/3 {
		t.Errorf("ice after the cancelled re-classification holds %d stories (%v), want the old filing's %d", len(page.Stories), err, refileStories/3)
	}
}
