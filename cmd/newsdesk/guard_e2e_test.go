package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
)

// TestRefusedAddressEverywhere: a source whose address the guard refuses
// is a clear source error wherever an admin looks — the log's "source
// failing" line, the status page and status.json, newsdesk status — and is
// counted in the metrics (fetches by outcome, the source's status), while
// the allowed source beside it is fetched and served. The refused address
// is loopback outside fetch.allow_networks (127.0.0.3 where only
// 127.0.0.1/32 is allowed), so nothing but loopback is ever dialed; an
// upstream there counts any request that reaches it.
func TestRefusedAddressEverywhere(t *testing.T) {
	var reached atomic.Int32
	intranet := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached.Add(1)
		io.WriteString(w, harbourFeed(1))
	}))
	ln, err := net.Listen("tcp", "127.0.0.3:0")
	if err != nil {
		t.Skipf("cannot listen on 127.0.0.3 here: %v", err)
	}
	intranet.Listener = ln
	intranet.Start()
	defer intranet.Close()
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, harbourFeed(3))
	}))
	defer up.Close()

	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "newsdesk.yaml")
	cfg := fmt.Sprintf(`listen: "127.0.0.1:0"
refresh: "@every 1h"
status: {public: localhost}
fetch: {allow_networks: [127.0.0.1/32]} # the allowed upstream is an httptest server; 127.0.0.3 is not allowed
sources:
  - {name: wire, url: %q}
  - {name: intranet, url: %q}
topics:
  - {slug: harbour, title: Harbour, rule: {any: [harbour]}}
`, up.URL+"/feed.xml", intranet.URL+"/feed.xml")
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
	line, _ := logs.waitFor(t, 0, "msg=serving")
	base := "http://" + regexp.MustCompile(`addr=(\S+)`).FindStringSubmatch(line)[1]
	adminBase := "http://" + regexp.MustCompile(`admin=(\S+)`).FindStringSubmatch(line)[1]
	logs.waitFor(t, 0, `msg="refresh run" trigger=start-up sources=2`)

	refusal := "refused: 127.0.0.3 is a loopback address; allow it with fetch.allow_networks"
	failing, _ := logs.waitFor(t, 0, `msg="source failing" source=intranet`)
	if !strings.Contains(failing, "status=refused") || !strings.Contains(failing, "127.0.0.3 is a loopback address") {
		t.Errorf("the log's failing line: %s", failing)
	}
	rep := statusJSON(t, base)
	for _, s := range rep.Sources {
		switch s.Name {
		case "intranet":
			if s.Status != "refused" || !strings.Contains(s.LastError, refusal) || s.Stored != 0 {
				t.Errorf("status.json intranet = %+v, want refused with %q", s, refusal)
			}
		case "wire":
			if s.Status != "ok" || s.Stored != 3 {
				t.Errorf("status.json wire = %+v, want ok with 3 stories", s)
			}
		}
	}
	if _, page := get(t, base+"/status"); !bytes.Contains(page, []byte("127.0.0.3 is a loopback address")) {
		t.Error("the status page does not show the refusal")
	}
	if out, err := newsdesk(t, "status", "--config", cfgPath, "--data", dbPath); err != nil ||
		!regexp.MustCompile(`(?m)^intranet\s+refused\b`).MatchString(out) {
		t.Errorf("newsdesk status = %v:\n%s", err, out)
	}
	fams := scrapeMetrics(t, adminBase+"/metrics")
	for _, c := range []struct {
		name   string
		labels []string
	}{
		{"newsdesk_fetches_total", []string{"source=intranet", "outcome=refused"}},
		{"newsdesk_source_status", []string{"source=intranet", "status=refused"}},
		{"newsdesk_fetches_total", []string{"source=wire", "outcome=ok"}},
	} {
		if got, ok := metric(fams, c.name, c.labels...); !ok || got < 1 {
			t.Errorf("%s%v = %v (present %v), want at least 1", c.name, c.labels, got, ok)
		}
	}
	if _, body := get(t, base+"/topics/harbour.json"); !bytes.Contains(body, []byte("Harbour news 2")) {
		t.Errorf("the allowed source is not served beside the refused one:\n%.300s", body)
	}
	if n := reached.Load(); n != 0 {
		t.Errorf("the refused upstream was reached %d times", n)
	}

	cancel()
	if err := <-done; err != nil {
		t.Fatalf("serve: %v", err)
	}
}
