package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/newsdesk/newsdesk/internal/store"
	"github.com/newsdesk/newsdesk/internal/store/bolt"
)

// oneSourceConfig writes a config with one loopback source serving doc.
func oneSourceConfig(t *testing.T, dir string, doc string) string {
	t.Helper()
	ups := &upstreams{docs: map[string]string{"/wire.xml": doc}}
	up := httptest.NewServer(ups)
	t.Cleanup(up.Close)
	cfg := fmt.Sprintf(`site: {title: store test, public_url: "http://newsdesk.test"}
listen: "127.0.0.1:0"
refresh: "@every 1h"
fetch: {min_interval: 1s, max_interval: 1h, allow_networks: [127.0.0.1/32]} # the upstream is an httptest server
sources:
  - {name: wire, title: Wire, url: "%s/wire.xml"}
topics:
  - slug: harbour
    title: Harbour
    rule: {any: [harbour]}
`, up.URL)
	path := filepath.Join(dir, "newsdesk.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func harbourFeed(n int) string {
	var items []string
	for i := range n {
		items = append(items, fmt.Sprintf(`<item><title>Harbour news %d</title><link>https://wire.example/%d</link><guid>%d</guid>`+
			`<pubDate>Mon, 19 Jan 2026 09:00:00 GMT</pubDate><description>The harbour, day %d.</description></item>`, i, i, i, i))
	}
	return rss("Wire", items...)
}

// TestDamagedStoreIsOneLine runs serve, fetch and preview on a store cut
// short: each fails with one line naming the file and the way out.
func TestDamagedStoreIsOneLine(t *testing.T) {
	dir := t.TempDir()
	cfg := oneSourceConfig(t, dir, harbourFeed(30))
	data := filepath.Join(dir, "newsdesk.db")
	if _, err := newsdesk(t, "fetch", "--config", cfg, "--data", data); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(data)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(data, b[:24<<10], 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"serve", "--config", cfg, "--data", data},
		{"fetch", "--config", cfg, "--data", data},
		{"preview", "harbour", "--config", cfg, "--data", data},
	} {
		var stdout, stderr strings.Builder
		err := run(t.Context(), args, func(string) string { return "" }, &stdout, &stderr)
		if err == nil {
			t.Fatalf("newsdesk %s on a cut store succeeded", args[0])
		}
		msg := err.Error()
		if strings.Contains(msg, "\n") || !strings.Contains(msg, data) || !strings.Contains(msg, "restore a backup") ||
			strings.Count(msg, "open") > 2 {
			t.Errorf("newsdesk %s: %q, want one line naming %s and the way out", args[0], msg, data)
		}
		// serve has logged it as its "stopped" line; main must not print
		// it a second time.
		if _, logged := errors.AsType[loggedError](err); logged != (args[0] == "serve") {
			t.Errorf("newsdesk %s: logged error %v, want it only for serve", args[0], logged)
		}
		if args[0] == "serve" && strings.Count(stderr.String(), "restore a backup") != 1 {
			t.Errorf("newsdesk serve's log says the error %d times, want once:\n%s", strings.Count(stderr.String(), "restore a backup"), stderr.String())
		}
	}
	// compact cannot salvage a file cut short, and says so; the file stays.
	if _, err := newsdesk(t, "compact", "--data", data); err == nil || !strings.Contains(err.Error(), "restore a backup") {
		t.Errorf("compact of a cut store: %v, want it to point at a backup", err)
	}
	if after, _ := os.ReadFile(data); len(after) != 24<<10 {
		t.Errorf("compact changed the cut file (%d bytes)", len(after))
	}
}

// TestBackupWhileServing takes a backup through the running daemon and
// without one: each is a whole store that opens and lists every story.
func TestBackupWhileServing(t *testing.T) {
	dir := t.TempDir()
	cfg := oneSourceConfig(t, dir, harbourFeed(40))
	data := filepath.Join(dir, "data", "newsdesk.db")

	ctx, cancel := context.WithCancel(t.Context())
	logs := newLogWatch()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--config", cfg, "--data", data}, func(string) string { return "" }, io.Discard, logs)
	}()
	logs.waitFor(t, 0, "msg=serving")
	logs.waitFor(t, 0, `msg="refresh run" trigger=start-up`) // its summary comes when wire is stored

	check := func(path string) {
		t.Helper()
		db, err := bolt.Open(path, bolt.Options{})
		if err != nil {
			t.Fatalf("the backup does not open: %v", err)
		}
		defer db.Close()
		if err := db.Check(t.Context()); err != nil {
			t.Error(err)
		}
		page, err := db.Recent(t.Context(), store.Query{Topic: "harbour", Limit: 100})
		if err != nil || len(page.Stories) != 40 {
			t.Errorf("the backup lists %d stories (%v), want 40", len(page.Stories), err)
		}
	}
	live := filepath.Join(dir, "live.db")
	out, err := newsdesk(t, "backup", "--data", data, live)
	if err != nil || !strings.Contains(out, "written to "+live) {
		t.Fatalf("backup through the daemon = %q, %v", out, err)
	}
	check(live)
	// A second backup over the first replaces it whole.
	if _, err := newsdesk(t, "backup", "--data", data, live); err != nil {
		t.Fatal(err)
	}
	check(live)
	if _, err := newsdesk(t, "backup", "--data", data, data); err == nil {
		t.Error("a backup over the store itself was accepted")
	}

	cancel()
	if err := <-done; err != nil {
		t.Fatalf("serve: %v", err)
	}
	stopped := filepath.Join(dir, "stopped.db")
	if out, err := newsdesk(t, "backup", "--data", data, stopped); err != nil || !strings.Contains(out, "written to") {
		t.Fatalf("backup of a stopped store = %q, %v", out, err)
	}
	check(stopped)
	leftovers, _ := filepath.Glob(filepath.Join(dir, ".*.tmp"))
	if len(leftovers) > 0 {
		t.Errorf("backup left %v", leftovers)
	}
}
