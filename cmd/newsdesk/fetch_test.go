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
	"testing"
)

// TestFetchTableRefusedAndMoved runs `newsdesk fetch` over a refused
// address and a permanently moved feed, and reads the table an admin sees.
func TestFetchTableRefusedAndMoved(t *testing.T) {
	feeds := http.FileServer(http.Dir("../../feeds"))
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/old-world" {
			http.Redirect(w, r, "/world-desk.rss.xml", http.StatusMovedPermanently)
			return
		}
		feeds.ServeHTTP(w, r)
	}))
	defer up.Close()
	dir := t.TempDir()
	cfg := fmt.Sprintf(`fetch: {allow_networks: [127.0.0.1/32]}
sources:
  - {name: moved, url: "%[1]s/old-world"}
  - {name: intranet, url: "http://127.0.0.3:9/feed.xml"} # loopback, but not the allowed 127.0.0.1: never dialed
  - {name: bundled, url: ../feeds/americas.json}
  - {name: missing, url: "%[1]s/a/long/path/to/a/feed/that/the/publisher/has/since/removed/from/the/site.xml"}
`, up.URL)
	// The bundled feed is read relative to the config file, as in the
	// default config: config/ and feeds/ side by side.
	for _, sub := range []string{"config", "feeds"} {
		if err := os.Mkdir(filepath.Join(dir, sub), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	body, err := os.ReadFile("../../feeds/americas.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "feeds", "americas.json"), body, 0o644); err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(dir, "config", "newsdesk.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	dbPath := filepath.Join(dir, "newsdesk.db")

	out, err := newsdesk(t, "fetch", "--config", cfgPath, "--data", dbPath)
	if err != nil {
		t.Fatalf("fetch: %v", err)
	}
	rows := map[string]*regexp.Regexp{
		"moved":    regexp.MustCompile(`moved\s+ok\s+200\s+\d+.*moved permanently to ` + regexp.QuoteMeta(up.URL+"/world-desk.rss.xml") + `: polled there; update the source's url in the config`),
		"intranet": regexp.MustCompile(`intranet\s+refused\s+-.*refused: 127\.0\.0\.3 is a loopback address; allow it with fetch\.allow_networks`),
		"bundled":  regexp.MustCompile(`bundled\s+ok\s+200`), // a file source is not the guard's business
		// A long error is shown by its cause, not cut in the middle of its URL.
		"missing": regexp.MustCompile(`missing\s+failing\s+404\s+.*\sHTTP 404 Not Found\n`),
	}
	for name, re := range rows {
		if !re.MatchString(out) {
			t.Errorf("fetch table row for %s does not match %s:\n%s", name, re, out)
		}
	}
	if !strings.Contains(out, "4 sources:") {
		t.Errorf("fetch table has no total line:\n%s", out)
	}

	// Through a running daemon, without --force: the failing sources are
	// backing off, and the table says until when, why, and what they last
	// failed with.
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	logs := newLogWatch()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--config", cfgPath, "--data", dbPath}, func(string) string { return "" }, io.Discard, logs)
	}()
	logs.waitFor(t, 0, "msg=serving")
	out, err = newsdesk(t, "fetch", "--config", cfgPath, "--data", dbPath)
	if err != nil {
		t.Fatalf("fetch through the daemon: %v", err)
	}
	deferred := map[string]*regexp.Regexp{
		"intranet": regexp.MustCompile(`intranet\s+deferred\s+.*not before \S+Z \(backoff after 1 failure: refused: 127\.0\.0\.3 is a loopback address; allow it with fetch\.allow_networks; --force ignores it\)`),
		"missing":  regexp.MustCompile(`missing\s+deferred\s+.*not before \S+Z \(backoff after 1 failure: HTTP 404 Not Found; --force ignores it\)`),
	}
	for name, re := range deferred {
		if !re.MatchString(out) {
			t.Errorf("daemon's fetch table row for %s does not match %s:\n%s", name, re, out)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("serve: %v", err)
	}
}
