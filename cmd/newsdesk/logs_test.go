package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// TestServeLogs runs the daemon with log_format json over one healthy
// source, two that answer 500 and two on a closed loopback port (connection
// refused), on a one-second schedule, and reads its log as an admin would:
// one summary line per refresh run grouping the failures by cause, each
// failing source's short cause once (not again on every run; the full error
// only at debug), a refused reload as one line per problem, and "stopped"
// last.
func TestServeLogs(t *testing.T) {
	feeds := http.FileServer(http.Dir("../../feeds"))
	var mu sync.Mutex
	hits := map[string]int{}
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/broken") {
			mu.Lock()
			hits[r.URL.Path]++
			mu.Unlock()
			http.Error(w, "oops", http.StatusInternalServerError)
			return
		}
		feeds.ServeHTTP(w, r)
	}))
	defer up.Close()
	closed := closedPort(t)
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "newsdesk.yaml")
	cfg := fmt.Sprintf(`listen: 127.0.0.1:0
refresh: "@every 1s"
log_format: json
fetch: {min_interval: 1s, allow_networks: [127.0.0.1/32]}
sources:
  - {name: ok, url: "%[1]s/world-desk.rss.xml"}
  - {name: broken-1, url: "%[1]s/broken-1"}
  - {name: broken-2, url: "%[1]s/broken-2"}
  - {name: down-1, url: "http://%[2]s/a.xml"}
  - {name: down-2, url: "http://%[2]s/b.xml"}
topics:
  - {slug: ice, title: Ice, rule: ice}
`, up.URL, closed)
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	logs := newLogWatch()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--config", cfgPath, "--data", filepath.Join(dir, "n.db")},
			func(string) string { return "" }, io.Discard, logs)
	}()
	// Until each broken source has failed three times (backoff 1s, 2s).
	next := 0
	for polled := 0; polled < 3; {
		_, next = logs.waitFor(t, next, `"msg":"refresh run"`)
		mu.Lock()
		polled = min(hits["/broken-1"], hits["/broken-2"])
		mu.Unlock()
	}
	// A broken edit: two problems.
	writeAtomically(t, cfgPath, []byte(strings.Replace(cfg, "refresh: \"@every 1s\"", "refresh: \"every second\"\nlog_level: loud", 1)))
	logs.waitFor(t, next, `"msg":"config problem"`)
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("serve: %v", err)
	}

	var runs, failing, problems []map[string]any
	var last map[string]any
	for _, line := range logs.lines {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line is not JSON: %q: %v", line, err)
		}
		if rec["level"] == "DEBUG" {
			t.Errorf("debug line at log level info: %q", line)
		}
		switch rec["msg"] {
		case "refresh run":
			runs = append(runs, rec)
		case "source failing":
			failing = append(failing, rec)
		case "config problem":
			problems = append(problems, rec)
		}
		if len(line) > 400 {
			t.Errorf("log line of %d bytes: %q", len(line), line)
		}
		last = rec
	}
	if r := runs[0]; r["trigger"] != "start-up" || r["sources"] != 5.0 || r["ok"] != 1.0 || r["failing"] != 4.0 ||
		r["causes"] != "2 HTTP 500 Internal Server Error; 2 connection refused" {
		t.Errorf("start-up run = %v, want 5 sources, 1 ok, 4 failing, causes 2 HTTP 500 Internal Server Error; 2 connection refused", r)
	}
	for _, r := range runs[1:] { // the failing sources back off apart: later runs hold some of them
		if r["trigger"] != "schedule" || r["failing"] != r["sources"] {
			t.Errorf("scheduled run = %v, want only failing sources (ok asked for its ttl)", r)
		}
	}
	seen := map[any]int{}
	for _, f := range failing {
		seen[f["source"]]++
	}
	want := map[any]string{"broken-1": "HTTP 500 Internal Server Error", "broken-2": "HTTP 500 Internal Server Error",
		"down-1": "connection refused", "down-2": "connection refused"}
	for _, f := range failing {
		if f["cause"] != want[f["source"]] {
			t.Errorf("failing line %v, want cause %s", f, want[f["source"]])
		}
	}
	if len(failing) != 4 || len(seen) != 4 {
		t.Errorf("source failing lines = %v, want one per failing source over all %d runs", failing, len(runs))
	}
	if len(problems) != 2 {
		t.Errorf("refused reload logged %d problem lines, want 2: %v", len(problems), problems)
	}
	for _, p := range problems {
		if at, _ := p["at"].(string); !strings.HasPrefix(at, cfgPath+":") || p["problem"] == "" {
			t.Errorf("problem line %v, want file:line:col and the problem", p)
		}
	}
	if last["msg"] != "stopped" {
		t.Errorf("last line = %v, want stopped", last)
	}
}
