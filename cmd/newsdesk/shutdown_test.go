package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/newsdesk/newsdesk/internal/config"
	"github.com/newsdesk/newsdesk/internal/store"
	"github.com/newsdesk/newsdesk/internal/store/bolt"
	"github.com/newsdesk/newsdesk/internal/story"
)

// reclassifyStories is how many stories the shutdown test stores: enough
// that re-filing them takes far longer than the test takes to stop the
// daemon once the re-filing has begun.
const reclassifyStories = 30_000

// TestShutdownDuringReclassification edits the topics of a running daemon
// whose store holds many stories, and stops the daemon (SIGTERM, here its
// context) as soon as the re-classification has begun: serve must return,
// the re-classification must have been abandoned (the store keeps the old
// topics' fingerprint, so the next start redoes it), nothing may run on
// after serve returned (the store opens at once), and "stopped" must be the
// last line logged.
func TestShutdownDuringReclassification(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "newsdesk.yaml")
	feed := filepath.Join(dir, "feed.json")
	if err := os.WriteFile(feed, []byte(`{"version": "https://jsonfeed.org/version/1.1", "title": "F", "items": []}`), 0o644); err != nil {
		t.Fatal(err)
	}
	base := "listen: 127.0.0.1:0\nrefresh: '@every 1h'\nsources: [{name: f, url: feed.json}]\n" +
		"topics:\n  - {slug: ice, title: Ice, rule: {any: [ice, snow]}}\n"
	if err := os.WriteFile(cfgPath, []byte(base), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	dbPath := filepath.Join(dir, "newsdesk.db")
	fill(t, dbPath, topicsFingerprint(cfg))

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	logs := newLogWatch()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--config", cfgPath, "--data", dbPath}, func(string) string { return "" }, io.Discard, logs)
	}()
	_, next := logs.waitFor(t, 0, "msg=serving")

	// A topic edit: every stored story is re-filed. The watcher starts
	// as "serving" is logged, and an edit saved before it watches is taken
	// for what the daemon loaded: save again until the daemon acts on it.
	for i := 0; ; i++ {
		edited := strings.Replace(base, "[ice, snow]", "[ice, snow, sleet]", 1) + fmt.Sprintf("# save %d\n", i)
		writeAtomically(t, cfgPath, []byte(edited))
		if logs.within(next, "reclassifying stored stories", 2*time.Second) {
			break
		}
		if i == 10 {
			t.Fatal("the daemon never re-classified after a topic edit")
		}
	}
	stop := time.Now()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve returned %v", err)
		}
		t.Logf("serve returned %v after the stop (%d stories being re-filed)", time.Since(stop), reclassifyStories)
	case <-time.After(time.Minute): // a hang guard, not a timing
		t.Fatal("serve did not return after shutdown during a re-classification")
	}

	lines := logs.lines
	if last := lines[len(lines)-1]; !strings.Contains(last, "msg=stopped") {
		t.Errorf("last log line = %q, want the stopped line", last)
	}
	for _, l := range lines {
		if strings.Contains(l, "msg=reclassified") || strings.Contains(l, "msg=\"config reloaded\"") {
			t.Errorf("the re-classification finished instead of being cancelled: %q", l)
		}
	}
	db, err := bolt.Open(dbPath, bolt.Options{Timeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatalf("store still held after serve returned: %v", err)
	}
	defer db.Close()
	// Cleared while the re-filing ran (the old topics' had it not begun):
	// never the edit's, so the edit is redone at the next start.
	if fp, err := db.Meta(t.Context(), "topics-fingerprint"); err != nil || (fp != "" && fp != topicsFingerprint(cfg)) {
		t.Errorf("topics fingerprint = %q, %v; want it cleared or the old topics' (the edit is redone at the next start)", fp, err)
	}
}

// fill stores reclassifyStories stories, classified under the topics whose
// fingerprint is fp, as a daemon that ingested them would have left them.
func fill(t *testing.T, path, fp string) {
	t.Helper()
	db, err := bolt.Open(path, bolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	now := time.Now().Add(-reclassifyStories * time.Minute) // within retention.max_age: the daemon's retention keeps them
	words := strings.Fields("ice storm snow border talks visa housing grid energy coast guard vessels minister")
	for lo := 0; lo < reclassifyStories; lo += 5000 {
		var batch []story.Story
		for i := lo; i < lo+5000; i++ {
			text := fmt.Sprintf("%s %s story %d of a long day", words[i%len(words)], words[(i*7)%len(words)], i)
			batch = append(batch, story.Story{ID: story.NewID("s", fmt.Sprint(i)), Source: "s", Title: text,
				Link: fmt.Sprintf("https://pub.example/%d", i), ContentText: strings.Repeat(text+" ", 20),
				Published: now.Add(time.Duration(i) * time.Minute)})
		}
		if _, err := db.Put(t.Context(), "s", store.SourceState{}, batch, now); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.SetMeta(t.Context(), "topics-fingerprint", fp); err != nil {
		t.Fatal(err)
	}
}

// within reports whether a line after the first `from` contains want,
// waiting up to d for it.
func (l *logWatch) within(from int, want string, d time.Duration) bool {
	deadline := time.After(d)
	for {
		l.mu.Lock()
		for _, line := range l.lines[min(from, len(l.lines)):] {
			if strings.Contains(line, want) {
				l.mu.Unlock()
				return true
			}
		}
		l.mu.Unlock()
		select {
		case <-l.added:
		case <-deadline:
			return false
		}
	}
}
