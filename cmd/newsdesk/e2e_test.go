package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/xml"
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
	"github.com/mmcdole/gofeed/atom"

	"github.com/newsdesk/newsdesk/internal/admin"
	"github.com/newsdesk/newsdesk/internal/feedcheck"
	"github.com/newsdesk/newsdesk/internal/store"
	"github.com/newsdesk/newsdesk/internal/store/postgres/pgtest"
)

// logWatch is the daemon's stderr: it keeps every line and lets a test wait
// for one, so the test follows the daemon's events instead of sleeping.
type logWatch struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	lines []string
	added chan struct{}
}

func newLogWatch() *logWatch { return &logWatch{added: make(chan struct{}, 1)} }

func (l *logWatch) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf.Write(p)
	for {
		line, err := l.buf.ReadString('\n')
		if err != nil {
			l.buf.WriteString(line)
			break
		}
		l.lines = append(l.lines, line)
	}
	select {
	case l.added <- struct{}{}:
	default:
	}
	return len(p), nil
}

// waitFor returns the first line after the first `from` lines that contains
// want, waiting up to a minute for it.
func (l *logWatch) waitFor(t *testing.T, from int, want string) (string, int) {
	t.Helper()
	deadline := time.After(time.Minute)
	for {
		l.mu.Lock()
		for i := from; i < len(l.lines); i++ {
			if strings.Contains(l.lines[i], want) {
				line := l.lines[i]
				l.mu.Unlock()
				return line, i + 1
			}
		}
		l.mu.Unlock()
		select {
		case <-l.added:
		case <-deadline:
			l.mu.Lock()
			defer l.mu.Unlock()
			t.Fatalf("daemon never logged %q; log:\n%s", want, strings.Join(l.lines, ""))
		}
	}
}

func (l *logWatch) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.lines)
}

// expectedStories reads the seed story titles the bundled feeds carry.
func expectedStories(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile("../../feeds/README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, list, ok := strings.Cut(string(b), "## Expected stories")
	if !ok {
		t.Fatal("feeds/README.md has no Expected stories list")
	}
	var titles []string
	for line := range strings.Lines(list) {
		if title, ok := strings.CutPrefix(strings.TrimSpace(line), "- "); ok {
			titles = append(titles, title)
		}
	}
	if len(titles) < 18 {
		t.Fatalf("expected-stories list has %d titles, want the 18 seed stories", len(titles))
	}
	return titles
}

// writeConfig writes a config whose sources are the bundled feeds served by
// upstream, and whose topics are the default config's.
func writeConfig(t *testing.T, dir, upstream, hub string) string {
	t.Helper()
	def, err := os.ReadFile("../../config/newsdesk.yaml")
	if err != nil {
		t.Fatal(err)
	}
	_, topics, ok := strings.Cut(string(def), "\ntopics:")
	if !ok {
		t.Fatal("default config has no topics section")
	}
	cfg := fmt.Sprintf(`site:
  title: newsdesk test
  public_url: http://newsdesk.test
  hubs: ["%[3]s"]
listen: "127.0.0.1:0"
refresh: "@every 1h"
log_level: debug
fetch: {min_interval: 1s, max_interval: 1h, allow_networks: [127.0.0.1/32]} # the upstreams are httptest servers
sources:
  - {name: world-desk, title: World Desk, url: "%[1]s/world-desk.rss.xml"}
  - {name: asia-pacific, title: Asia-Pacific Desk, url: "%[1]s/asia-pacific.atom.xml"}
  - {name: americas, title: Americas Report, url: "%[1]s/americas.json"}
  - {name: policy-wire, title: Policy Wire, url: "%[1]s/policy-wire.rdf"}
  - {name: regional-roundup, title: Regional Roundup, url: "%[1]s/regional-latin1.rss.xml"}
  - {name: morning-bulletin, title: Morning Bulletin, url: "%[1]s/bulletin.rss091.xml"}
  - {name: broken, title: Broken upstream, url: "%[1]s/missing.xml"}
topics:%[2]s`, upstream, topics, hub)
	path := filepath.Join(dir, "newsdesk.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// newsdesk runs the command line once and returns its stdout.
func newsdesk(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	err := run(t.Context(), args, func(string) string { return "" }, &stdout, &stderr)
	if err != nil {
		t.Logf("newsdesk %s: %v\nstderr:\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String(), err
}

func requireValidators(t *testing.T) {
	if os.Getenv("NEWSDESK_REQUIRE_VALIDATORS") == "" {
		return
	}
	if !feedcheck.HaveJing() || !feedcheck.HaveFeedparser() {
		t.Fatal("NEWSDESK_REQUIRE_VALIDATORS is set but jing or python3-feedparser is missing")
	}
}

func TestEndToEnd(t *testing.T) {
	endToEnd(t, filepath.Join(t.TempDir(), "data", "newsdesk.db"))
}

// TestEndToEndPostgres is TestEndToEnd on a PostgreSQL store: one replica,
// which leads; fetch and preview work directly against the database, beside
// it.
func TestEndToEndPostgres(t *testing.T) {
	endToEnd(t, pgtest.URL(t))
}

// endToEnd runs the commands and the daemon on the store data names.
func endToEnd(t *testing.T, data string) {
	requireValidators(t)
	up := httptest.NewServer(http.FileServer(http.Dir("../../feeds")))
	defer up.Close()
	pings := make(chan string, 100)
	hub := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.FormValue("hub.mode") == "publish" {
			pings <- r.FormValue("hub.url")
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer hub.Close()
	dir := t.TempDir()
	cfgPath := writeConfig(t, dir, up.URL, hub.URL)
	dbPath := data
	want := expectedStories(t)

	if out, err := newsdesk(t, "validate", "--config", cfgPath); err != nil || !strings.Contains(out, "ok") {
		t.Fatalf("validate = %q, %v", out, err)
	}

	// fetch, with nothing holding the store, does the work itself.
	out, err := newsdesk(t, "fetch", "--config", cfgPath, "--data", dbPath)
	if err != nil {
		t.Fatalf("fetch: %v", err)
	}
	for _, row := range []string{"world-desk  ", "regional-roundup", "broken"} {
		if !strings.Contains(out, row) {
			t.Errorf("fetch summary lacks a row for %s:\n%s", row, out)
		}
	}
	if !regexp.MustCompile(`broken\s+failing\s+404`).MatchString(out) {
		t.Errorf("fetch summary does not report the broken source as failing 404:\n%s", out)
	}
	assertStoredOnce(t, dbPath, want)

	// A second run stores no duplicates: everything is unchanged.
	out, err = newsdesk(t, "fetch", "--config", cfgPath, "--data", dbPath, "--force")
	if err != nil {
		t.Fatalf("second fetch: %v", err)
	}
	if !strings.Contains(out, " 0 new, 0 updated") {
		t.Errorf("second fetch changed stories:\n%s", out)
	}
	assertStoredOnce(t, dbPath, want)

	// Now the daemon.
	ctx, cancel := context.WithCancel(t.Context())
	logs := newLogWatch()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--config", cfgPath, "--data", dbPath}, func(string) string { return "" }, io.Discard, logs)
	}()
	line, next := logs.waitFor(t, 0, "msg=serving")
	addr := regexp.MustCompile(`addr=(\S+)`).FindStringSubmatch(line)[1]
	base := "http://" + addr
	t.Logf("daemon at %s", base)

	t.Run("feeds", func(t *testing.T) { checkFeeds(t, base) })
	t.Run("http", func(t *testing.T) { checkHTTP(t, base) })
	t.Run("pages", func(t *testing.T) { checkPages(t, base) })

	// fetch and preview while the daemon holds the store go through it
	// (bbolt), or work beside it (PostgreSQL).
	out, err = newsdesk(t, "fetch", "--config", cfgPath, "--data", dbPath, "--source", "world-desk")
	if err != nil || !strings.Contains(out, "world-desk") {
		t.Errorf("fetch through the daemon = %q, %v", out, err)
	}
	out, err = newsdesk(t, "preview", "immigration", "--explain", "--config", cfgPath, "--data", dbPath)
	if err != nil || !strings.Contains(out, "Sam Altman Criticizes ICE Enforcement") || !strings.Contains(out, "score") {
		t.Errorf("preview through the daemon = %q, %v", out, err)
	}

	// An edit to the config applies without a restart.
	edited, _ := os.ReadFile(cfgPath)
	edited = append(edited, []byte(`
  - slug: consulates
    title: Consulates
    rule: {any: [consulate, embassy]}
`)...)
	writeAtomically(t, cfgPath, edited)
	_, next = logs.waitFor(t, next, "config reloaded")
	titles := feedTitles(t, base+"/topics/consulates.json")
	if len(titles) != 1 || !strings.Contains(titles[0], "Ecuador") {
		t.Errorf("new topic consulates lists %q, want the ICE/Ecuador consulate story", titles)
	}
	// The hub hears about the topic whose stories changed.
	for want := "http://newsdesk.test/topics/consulates.json"; ; {
		select {
		case got := <-pings:
			if got != want {
				continue
			}
		case <-time.After(time.Minute):
			t.Fatalf("hub was never pinged about %s", want)
		}
		break
	}

	// A broken edit is refused, and the last good config keeps serving.
	writeAtomically(t, cfgPath, append(edited, []byte("\n  - slug: bad slug\n    title: [\n")...))
	_, _ = logs.waitFor(t, next, "config refused")
	if got := feedTitles(t, base+"/topics/consulates.json"); len(got) != 1 {
		t.Errorf("after a refused edit consulates lists %q, want it still served", got)
	}

	// SIGTERM (here: ctx) stops the daemon cleanly and releases the store.
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("serve returned %v after shutdown", err)
	}
	if _, err := os.Stat(admin.AnnouncePath(dbPath)); !isDatabaseURL(dbPath) && !os.IsNotExist(err) {
		t.Errorf("admin announcement left behind: %v", err)
	}
	assertStoredOnce(t, dbPath, want)
}

func writeAtomically(t *testing.T, path string, b []byte) {
	t.Helper()
	tmp := path + ".swp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// assertStoredOnce checks that every seed story is in the store exactly once.
func assertStoredOnce(t *testing.T, dbPath string, want []string) {
	t.Helper()
	db, err := openStore(dbPath, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	page, err := db.Recent(t.Context(), store.Query{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for _, s := range page.Stories {
		count[s.Title]++
		// Every sample story but one carries an upstream date in at least one
		// of its copies; the listed copy must show it, whatever the order the
		// sources were fetched in.
		if !strings.HasPrefix(s.Title, "Sam Altman") && (s.Published.Year() != 2026 || s.Published.Month() != time.January) {
			t.Errorf("story %q (from %s) is dated %v, want its January 2026 upstream date", s.Title, s.Source, s.Published)
		}
		if strings.HasPrefix(s.Title, "ICE Agent Blocked") && (s.Source != "world-desk" || len(s.AlsoIn) == 0) {
			t.Errorf("the ICE story is listed from %s (also in %v), want world-desk's full copy naming the others", s.Source, s.AlsoIn)
		}
	}
	for _, title := range want {
		if count[title] != 1 {
			t.Errorf("story %q stored %d times, want once", title, count[title])
		}
	}
	if len(page.Stories) != len(want) {
		t.Errorf("store lists %d stories, want %d", len(page.Stories), len(want))
	}
}

func get(t *testing.T, url string, header ...string) (*http.Response, []byte) {
	t.Helper()
	return do(t, http.MethodGet, url, header...)
}

// bareTransport does no transparent gzip, so the tests see what is sent.
// It is shared, so the requests of one test reuse connections: a new
// transport per request leaves one open connection behind each, and the
// per-client limit refuses the 257th.
var bareTransport = &http.Transport{DisableCompression: true}

func do(t *testing.T, method, url string, header ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := bareTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, body
}

func feedTitles(t *testing.T, url string) []string {
	t.Helper()
	res, body := get(t, url)
	if res.StatusCode != 200 {
		t.Fatalf("GET %s = %s", url, res.Status)
	}
	f, err := gofeed.NewParser().Parse(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("gofeed cannot read %s: %v", url, err)
	}
	var titles []string
	for _, it := range f.Items {
		titles = append(titles, it.Title)
	}
	return titles
}

// editorial holds the editors' decisions the default topics must keep.
var editorial = map[string][]string{
	"immigration": {
		"ICE Agent Blocked From Entering Ecuador’s Consulate in Minneapolis",
		"Sam Altman Criticizes ICE Enforcement as Corporate Leaders Call for De-Escalation",
		"Australia Day Protests Highlight Deep Divisions Over Indigenous Rights and Immigration",
	},
	"asia-pacific-security": {
		"Japan Urges Fishermen to Avoid Senkaku Islands as China Tensions Rise",
		"Japan PM Sanae Takaichi Clarifies Taiwan Stance, Stresses Importance of U.S. Alliance",
		"U.S., South Korea Deepen Defense Ties as Seoul Pursues Nuclear-Powered Submarine",
	},
}

// checkFeeds reads every topic in every format back with real parsers and
// the spec checks.
func checkFeeds(t *testing.T, base string) {
	_, body := get(t, base+"/topics.opml")
	var opml struct {
		Outlines []struct {
			XMLURL string `xml:"xmlUrl,attr"`
			Text   string `xml:"text,attr"`
		} `xml:"body>outline"`
	}
	if err := xml.Unmarshal(body, &opml); err != nil || len(opml.Outlines) < 6 {
		t.Fatalf("OPML lists %d outlines (%v), want every topic", len(opml.Outlines), err)
	}
	credited := 0 // Atom entries crediting the bundled Atom upstream by its own id
	for _, o := range opml.Outlines {
		slug := strings.TrimSuffix(o.XMLURL[strings.LastIndex(o.XMLURL, "/")+1:], ".rss")
		for _, format := range []string{"rss", "atom", "json"} {
			t.Run(slug+"."+format, func(t *testing.T) {
				res, doc := get(t, base+"/topics/"+slug+"."+format)
				if res.StatusCode != 200 {
					t.Fatalf("status %s", res.Status)
				}
				wantType := map[string]string{"rss": "application/rss+xml", "atom": "application/atom+xml", "json": "application/feed+json"}[format]
				if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, wantType) || !strings.Contains(ct, "charset=utf-8") {
					t.Errorf("Content-Type = %q, want %s; charset=utf-8", ct, wantType)
				}
				var err error
				switch format {
				case "rss":
					err = feedcheck.RSS(doc)
				case "atom":
					err = feedcheck.Atom(doc)
				case "json":
					err = feedcheck.JSONFeed(doc)
				}
				if err != nil {
					t.Errorf("invalid %s:\n%v", format, err)
				}
				if format == "atom" {
					credited += checkAtomSources(t, doc)
				}
				f, err := gofeed.NewParser().Parse(bytes.NewReader(doc))
				if err != nil {
					t.Fatalf("gofeed: %v", err)
				}
				var titles, ids []string
				for _, it := range f.Items {
					titles = append(titles, it.Title)
					ids = append(ids, it.GUID)
					if it.GUID == "" || it.Link == "" || it.PublishedParsed == nil {
						t.Errorf("item %q lacks an id, link or date", it.Title)
					}
				}
				slices.Sort(ids)
				if len(slices.Compact(ids)) != len(titles) {
					t.Errorf("item ids are not unique: %v", ids)
				}
				for _, w := range editorial[slug] {
					if !slices.Contains(titles, w) {
						t.Errorf("%s lacks %q; has %q", slug, w, titles)
					}
				}
				if format != "json" && feedcheck.HaveFeedparser() {
					fp, err := feedcheck.Feedparser(doc)
					if err != nil {
						t.Errorf("feedparser: %v", err)
					} else if !slices.Equal(fp, titles) {
						t.Errorf("feedparser titles %q, gofeed %q", fp, titles)
					}
				}
			})
		}
	}
	if credited == 0 {
		t.Error("no Atom entry credits the bundled Atom upstream in its <source>")
	}
}

// checkAtomSources checks that every entry from the bundled Atom upstream
// names that feed in its <source> by the feed's own id and updated, and
// returns how many did.
func checkAtomSources(t *testing.T, doc []byte) int {
	feed, err := (&atom.Parser{}).Parse(bytes.NewReader(doc))
	if err != nil {
		t.Fatalf("gofeed atom: %v", err)
	}
	n := 0
	for _, e := range feed.Entries {
		if e.Source == nil || e.Source.Title != "Asia-Pacific Desk" {
			continue
		}
		n++
		if e.Source.ID != "tag:pacificmonitor.example,2026:feed/asia-pacific" || e.Source.Updated != "2026-01-26T09:15:00Z" {
			t.Errorf("entry %q: <source> id %q, updated %q; want the upstream feed's own", e.Title, e.Source.ID, e.Source.Updated)
		}
	}
	return n
}

// checkHTTP covers what feed readers rely on: conditional GET, gzip, HEAD,
// and clear errors.
func checkHTTP(t *testing.T, base string) {
	url := base + "/topics/immigration.atom"
	res, body := get(t, url)
	etag, lastMod := res.Header.Get("ETag"), res.Header.Get("Last-Modified")
	if etag == "" || lastMod == "" || !strings.Contains(res.Header.Get("Cache-Control"), "max-age=") {
		t.Fatalf("missing caching headers: %v", res.Header)
	}
	links := strings.Join(res.Header.Values("Link"), ", ")
	if !strings.Contains(links, `<http://newsdesk.test/topics/immigration.atom>; rel="self"`) || !strings.Contains(links, `rel="hub"`) {
		t.Errorf("Link headers %q lack the WebSub self and hub links", links)
	}
	if !bytes.Contains(body, []byte(`rel="hub"`)) {
		t.Error("Atom feed does not advertise the hub")
	}
	res, again := get(t, url, "If-None-Match", etag)
	if res.StatusCode != http.StatusNotModified || len(again) != 0 || res.Header.Get("ETag") != etag {
		t.Errorf("If-None-Match: %s with %d bytes and ETag %q, want 304, empty, %q", res.Status, len(again), res.Header.Get("ETag"), etag)
	}
	if res, _ := get(t, url, "If-Modified-Since", lastMod); res.StatusCode != http.StatusNotModified {
		t.Errorf("If-Modified-Since: %s, want 304", res.Status)
	}
	if res, _ := get(t, url, "If-None-Match", `"other"`, "If-Modified-Since", lastMod); res.StatusCode != 200 {
		t.Errorf("mismatched If-None-Match with a fresh If-Modified-Since: %s, want 200 (If-None-Match wins)", res.Status)
	}
	res, gz := get(t, url, "Accept-Encoding", "gzip")
	if res.Header.Get("Content-Encoding") != "gzip" {
		t.Errorf("Accept-Encoding gzip: Content-Encoding %q", res.Header.Get("Content-Encoding"))
	} else if zr, err := gzip.NewReader(bytes.NewReader(gz)); err != nil {
		t.Error(err)
	} else if plain, _ := io.ReadAll(zr); !bytes.Equal(plain, body) {
		t.Error("gzip body differs from the identity body")
	}
	if res, b := do(t, http.MethodHead, url); res.StatusCode != 200 || len(b) != 0 {
		t.Errorf("HEAD: %s with %d bytes", res.Status, len(b))
	}
	for _, tc := range []struct {
		method, path string
		want         int
	}{
		{"GET", "/topics/no-such-topic.rss", 404},
		{"GET", "/topics/immigration.txt", 404},
		{"POST", "/topics/immigration.rss", 405},
		{"GET", "/topics/immigration.rss?limit=abc", 400},
		{"GET", "/topics/immigration.rss?limit=0", 400},
		{"GET", "/topics/immigration.json?before=%%%", 400},
		{"GET", "/topics/immigration.json?since=-1", 400},
		{"GET", "/healthz", 200},
		{"GET", "/readyz", 200},
	} {
		if res, _ := do(t, tc.method, base+tc.path); res.StatusCode != tc.want {
			t.Errorf("%s %s = %s, want %d", tc.method, tc.path, res.Status, tc.want)
		}
	}
}

// checkPages looks at what people see: the index with every topic and every
// autodiscovery link.
func checkPages(t *testing.T, base string) {
	res, body := get(t, base+"/")
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("index: %s %s", res.Status, res.Header.Get("Content-Type"))
	}
	page := string(body)
	for _, slug := range []string{"immigration", "asia-pacific-security", "ukraine-russia", "latin-america-security", "housing", "energy-grid"} {
		for _, ext := range []string{"rss", "atom", "json"} {
			link := fmt.Sprintf(`href="http://newsdesk.test/topics/%s.%s"`, slug, ext)
			if !strings.Contains(page, link) {
				t.Errorf("index lacks %s", link)
			}
		}
	}
	if n := strings.Count(page, `rel="alternate"`); n < 18 {
		t.Errorf("index has %d autodiscovery links, want 3 per topic", n)
	}
	res, body = get(t, base+"/topics/immigration")
	if res.StatusCode != 200 || !strings.Contains(string(body), "Sam Altman") {
		t.Errorf("topic page: %s, mentions Sam Altman: %v", res.Status, strings.Contains(string(body), "Sam Altman"))
	}
}
