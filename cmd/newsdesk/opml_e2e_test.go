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
	"strings"
	"testing"
)

// TestSourcesFromOPMLLive runs the daemon with some of the bundled feeds
// in an OPML file beside the config: they are fetched and served like the
// YAML ones; adding a feed to the OPML reloads and fetches it; a broken OPML
// is refused with its file:line in the log and on the status page while the
// last good config keeps serving; fixing it applies. `newsdesk sources
// import` prints the same sources as YAML.
func TestSourcesFromOPMLLive(t *testing.T) {
	up := httptest.NewServer(http.FileServer(http.Dir("../../feeds")))
	defer up.Close()
	dir := t.TempDir()
	cfgPath := writeConfig(t, dir, up.URL, "http://127.0.0.1:9/")
	cfg, err := os.ReadFile(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	// Two bundled feeds move from the YAML to the OPML file.
	var moved []string
	for _, line := range []string{
		fmt.Sprintf("  - {name: americas, title: Americas Report, url: \"%s/americas.json\"}\n", up.URL),
		fmt.Sprintf("  - {name: policy-wire, title: Policy Wire, url: \"%s/policy-wire.rdf\"}\n", up.URL),
	} {
		if !bytes.Contains(cfg, []byte(line)) {
			t.Fatalf("the test config has no line %q", line)
		}
		cfg = bytes.Replace(cfg, []byte(line), nil, 1)
		moved = append(moved, line)
	}
	cfg = bytes.Replace(cfg, []byte("sources:\n"), []byte("sources_from: [subscriptions.opml]\nstatus: {public: localhost}\nsources:\n"), 1)
	writeAtomically(t, cfgPath, cfg)
	opmlPath := filepath.Join(dir, "subscriptions.opml")
	list := func(extra ...string) []byte {
		doc := `<?xml version="1.0" encoding="UTF-8"?>
<opml version="2.0">
  <head><title>Desk subscriptions</title></head>
  <body>
    <outline text="Regional">
      <outline type="rss" text="Americas Report" xmlUrl="` + up.URL + `/americas.json"/>
      <outline type="rss" text="Policy Wire" xmlUrl="` + up.URL + `/policy-wire.rdf"/>
    </outline>
` + strings.Join(extra, "\n") + `
  </body>
</opml>
`
		return []byte(doc)
	}
	writeAtomically(t, opmlPath, list())

	out, err := newsdesk(t, "sources", "import", opmlPath)
	if err != nil || !strings.Contains(out, "  # Regional\n  - name: \"americas-report\"\n    title: \"Americas Report\"\n    url: \""+up.URL+"/americas.json\"\n") {
		t.Errorf("sources import = %v:\n%s", err, out)
	}
	if out, err := newsdesk(t, "validate", "--config", cfgPath); err != nil || !strings.Contains(out, "ok (7 sources, 6 topics, sources also from ") {
		t.Errorf("validate = %v: %s", err, out)
	}

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	logs := newLogWatch()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--config", cfgPath, "--data", filepath.Join(dir, "newsdesk.db")}, func(string) string { return "" }, io.Discard, logs)
	}()
	line, next := logs.waitFor(t, 0, "msg=serving")
	base := "http://" + regexp.MustCompile(`addr=(\S+)`).FindStringSubmatch(line)[1]
	_, next = logs.waitFor(t, next, `msg="refresh run" trigger=start-up sources=7`)
	names := func() map[string]string {
		m := map[string]string{}
		for _, s := range statusJSON(t, base).Sources {
			m[s.Name] = string(s.Status)
		}
		return m
	}
	if got := names(); got["americas-report"] != "ok" || got["policy-wire"] != "ok" || len(got) != 7 {
		t.Errorf("sources after start-up: %v", got)
	}

	// A feed added to the OPML is a source at once: fetched, on the status.
	writeAtomically(t, opmlPath, list(`    <outline type="rss" text="Morning Bulletin (again)" xmlUrl="`+up.URL+`/bulletin.rss091.xml?copy"/>`))
	_, next = logs.waitFor(t, next, "config reloaded")
	if got := names(); len(got) != 8 || got["morning-bulletin-again"] == "" {
		t.Errorf("sources after the OPML edit: %v", got)
	}

	// A broken OPML is refused where it is broken; the feeds stay served.
	broken := bytes.Replace(list(), []byte(`text="Policy Wire"`), []byte(`text="Policy Wire`), 1)
	writeAtomically(t, opmlPath, broken)
	_, next = logs.waitFor(t, next, "config refused")
	_, next = logs.waitFor(t, next, `msg="config problem" at=`+opmlPath+`:7:`)
	rep := statusJSON(t, base)
	if rep.Config.Refused == nil || !strings.Contains(rep.Config.Refused.Messages, "subscriptions.opml:7:") || !strings.Contains(rep.Config.Refused.Messages, "not an OPML file") {
		t.Errorf("the refused OPML on the status: %+v", rep.Config.Refused)
	}
	if len(rep.Sources) != 8 {
		t.Errorf("after a refused edit %d sources, want the last good 8", len(rep.Sources))
	}
	if res, body := get(t, base+"/topics/immigration.rss"); res.StatusCode != 200 || !bytes.Contains(body, []byte("<item>")) {
		t.Errorf("feeds after a refused edit: %s", res.Status)
	}

	// Fixed, it applies, and the refusal leaves the status.
	writeAtomically(t, opmlPath, list())
	logs.waitFor(t, next, "config reloaded")
	if rep := statusJSON(t, base); rep.Config.Refused != nil || len(rep.Sources) != 7 {
		t.Errorf("after the fix: refused %+v, %d sources", rep.Config.Refused, len(rep.Sources))
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("serve: %v", err)
	}
}
