package status_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	xhtml "golang.org/x/net/html"

	"github.com/newsdesk/newsdesk/internal/config"
	"github.com/newsdesk/newsdesk/internal/fetch"
	"github.com/newsdesk/newsdesk/internal/ingest"
	"github.com/newsdesk/newsdesk/internal/status"
	"github.com/newsdesk/newsdesk/internal/store/bolt"
	"github.com/newsdesk/newsdesk/internal/story"
)

// upstream serves the feeds of the test config: a good one with an ETag,
// one that moved permanently, a 404, a 429 with Retry-After and a 410.
func upstream(t *testing.T) *httptest.Server {
	t.Helper()
	feed := func(name string, n int) string {
		var b strings.Builder
		fmt.Fprintf(&b, `<?xml version="1.0"?><rss version="2.0"><channel><title>%s</title><link>https://%s.example/</link>`, name, name)
		for i := range n {
			fmt.Fprintf(&b, `<item><title>%s port story %d</title><link>https://%s.example/%d</link><guid>%s-%d</guid>`+
				`<description>Ships at the port.</description></item>`, name, i, name, i, name, i)
		}
		return b.String() + `</channel></rss>`
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/wire.xml", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("ETag", `"v1"`)
		http.ServeContent(w, r, "", time.Time{}, strings.NewReader(feed("wire", 3)))
	})
	mux.HandleFunc("/new-home.xml", func(w http.ResponseWriter, r *http.Request) { io(w, feed("mover", 2)) })
	mux.HandleFunc("/old-home.xml", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/new-home.xml", http.StatusMovedPermanently)
	})
	mux.HandleFunc("/busy.xml", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "14400")
		http.Error(w, "slow down", http.StatusTooManyRequests)
	})
	mux.HandleFunc("/gone.xml", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "gone", http.StatusGone) })
	up := httptest.NewServer(mux)
	t.Cleanup(up.Close)
	return up
}

func io(w http.ResponseWriter, s string) { w.Write([]byte(s)) }

// longPath makes the 404's error long: the status must show it whole.
var longPath = "/archive/" + strings.Repeat("very-long-segment/", 20) + "feed.xml"

func testConfig(t *testing.T, up string) *config.Config {
	t.Helper()
	src := fmt.Sprintf(`
refresh: "@every 15m"
fetch: {min_interval: 1m, max_interval: 6h, allow_networks: [127.0.0.1/32]}
sources:
  - {name: wire, title: The Wire, url: "%[1]s/wire.xml"}
  - {name: mover, url: "%[1]s/old-home.xml"}
  - {name: broken, url: "http://reader:hunter2@%[2]s%[3]s?token=s3cret&page=1"}
  - {name: busy, url: "%[1]s/busy.xml"}
  - {name: gone, url: "%[1]s/gone.xml"}
  - {name: hourly, url: "%[1]s/wire.xml", schedule: "@hourly"}
topics:
  - {slug: ports, title: Ports & Harbours, rule: port}
  - {slug: empty, title: Empty, rule: nothing-matches-this}
`, up, strings.TrimPrefix(up, "http://"), longPath)
	cfg, err := config.Parse(filepath.Join(t.TempDir(), "newsdesk.yaml"), []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

type daemon struct {
	behind time.Duration // how far the ingester's clock is behind the real one
	cfg    *config.Config
	db     *bolt.DB
	live   *status.Live
	in     *ingest.Ingester
	g      *status.Gatherer
}

func newDaemon(t *testing.T) *daemon {
	t.Helper()
	up := upstream(t)
	cfg := testConfig(t, up.URL)
	db, err := bolt.Open(filepath.Join(t.TempDir(), "news.db"), bolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	d := &daemon{cfg: cfg, db: db}
	clock := func() time.Time { return time.Now().Add(-d.behind) }
	live := status.NewLive(status.LiveOptions{Started: time.Now().Add(-time.Hour), Now: clock})
	live.Applied(cfg, time.Now().Add(-time.Hour))
	in := ingest.New(fetch.New(fetch.Options{Allow: cfg.Fetch.AllowNetworks}), db, cfg.Set, slog.New(slog.DiscardHandler),
		ingest.Options{Observe: live.Fetched, MinInterval: cfg.Fetch.MinInterval, MaxInterval: cfg.Fetch.MaxInterval, Now: clock})
	g := status.New(status.Options{Store: db, Config: func() *config.Config { return cfg }, Live: live,
		Schedule: in.Status, Version: "newsdesk test", StorePath: "data/news.db"})
	d.live, d.in, d.g = live, in, g
	return d
}

func (d *daemon) gather(t *testing.T) status.Report {
	t.Helper()
	rep, err := d.g.Gather(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func source(t *testing.T, rep status.Report, name string) status.Source {
	t.Helper()
	i := slices.IndexFunc(rep.Sources, func(s status.Source) bool { return s.Name == name })
	if i < 0 {
		t.Fatalf("no source %s in the report", name)
	}
	return rep.Sources[i]
}

func TestReportAfterRealFetches(t *testing.T) {
	d := newDaemon(t)
	rep := d.gather(t)
	for _, s := range rep.Sources {
		if s.Status != "" || s.Stored != 0 || s.NextWhy != status.WhySchedule {
			t.Errorf("before any fetch, %s = %+v", s.Name, s)
		}
	}
	if rep.Summary.ByStatus["never fetched"] != 6 {
		t.Errorf("summary before any fetch = %+v", rep.Summary)
	}

	// The first fetch two hours ago; the wire again now: a 304, whose
	// times the ingester keeps in memory (the store still says two hours).
	d.behind = 2 * time.Hour
	d.in.RefreshAll(t.Context(), d.cfg.Sources, false, nil)
	d.behind = 0
	d.in.RefreshAll(t.Context(), d.cfg.Sources[:1], true, nil)
	if st, _ := d.db.Source(t.Context(), "wire"); time.Since(st.LastSuccess) < time.Hour {
		t.Fatalf("the store has the 304's time (%v): the test needs the write-behind state", st.LastSuccess)
	}
	rep = d.gather(t)
	now := rep.Generated

	wire := source(t, rep, "wire")
	if wire.Status != story.StatusNotModified || wire.HTTPStatus != 304 || wire.Failures != 0 || wire.LastError != "" {
		t.Errorf("wire = %+v, want not-modified 304", wire)
	}
	if now.Sub(wire.LastSuccess) > time.Minute {
		t.Errorf("wire's last success %v is not the 304 just now (%v): the write-behind state shows", wire.LastSuccess, now)
	}
	// (Two hours ago may be yesterday: the days are UTC days.)
	if wire.Stored != 3 || sum(wire.NewPerDay[status.Days-2:]) != 3 || len(wire.NewPerDay) != status.Days {
		t.Errorf("wire stored %d, new per day %v; want 3, all in the last two days", wire.Stored, wire.NewPerDay)
	}
	// Polled a minute ago with min_interval 1m: the next tick of @every 15m decides.
	if wire.NextWhy != status.WhySchedule || !wire.NextPoll.After(now) || wire.NextPoll.Sub(now) > 15*time.Minute {
		t.Errorf("wire next poll %v (%s), want the schedule's next tick", wire.NextPoll, wire.NextWhy)
	}
	if hourly := source(t, rep, "hourly"); hourly.NextPoll.Minute() != 0 || hourly.NextPoll.Second() != 0 {
		t.Errorf("hourly source's next poll %v is not on the hour", hourly.NextPoll)
	}

	mover := source(t, rep, "mover")
	if !strings.HasSuffix(mover.MovedTo, "/new-home.xml") || mover.Stored != 2 || mover.Status != story.StatusOK {
		t.Errorf("mover = %+v, want ok, moved to /new-home.xml, 2 stored", mover)
	}

	broken := source(t, rep, "broken")
	// One failure backs off for min_interval (1m): the schedule's tick still decides.
	if broken.Status != story.StatusFailing || broken.HTTPStatus != 404 || broken.Failures != 1 || broken.NextWhy != status.WhySchedule {
		t.Errorf("broken = %+v, want failing 404, 1 failure, the schedule", broken)
	}
	if !strings.Contains(broken.LastError, longPath+"?token=xxxxx&page=1: 404 Not Found") || len(broken.LastError) < 400 {
		t.Errorf("broken's last error is not whole (%d bytes): %q", len(broken.LastError), broken.LastError)
	}
	for _, s := range []string{broken.URL, broken.LastError} {
		if strings.Contains(s, "reader") || strings.Contains(s, "hunter2") || strings.Contains(s, "s3cret") {
			t.Errorf("credentials shown: %q", s)
		}
	}

	busy := source(t, rep, "busy")
	if busy.NextWhy != status.WhyRetryAfter || busy.HTTPStatus != 429 || busy.NextPoll.Sub(now) < 119*time.Minute {
		t.Errorf("busy = %+v, want Retry-After (4 h, two of them past) to decide", busy)
	}
	gone := source(t, rep, "gone")
	if gone.Status != story.StatusGone || gone.NextWhy != status.WhyGone || !gone.NextPoll.IsZero() {
		t.Errorf("gone = %+v, want gone and not polled", gone)
	}
	if rep.Summary.Failing != 3 || rep.Summary.ByStatus["ok"] != 2 {
		t.Errorf("summary = %+v, want 3 failing (broken, busy, gone), 2 ok", rep.Summary)
	}

	ports := rep.Topics[0]
	if ports.Slug != "ports" || ports.Stories != 5 || sum(ports.NewPerDay[status.Days-2:]) != 5 || ports.Changed.IsZero() || ports.Newest.IsZero() {
		t.Errorf("ports = %+v, want 5 stories today", ports)
	}
	if empty := rep.Topics[1]; empty.Stories != 0 || slices.ContainsFunc(empty.NewPerDay, func(n int) bool { return n != 0 }) {
		t.Errorf("empty = %+v", empty)
	}
	// hourly carries wire's stories: 8 stored, 5 listed.
	if p := rep.Process; p.Stories != 8 || p.Listed != 5 || p.StoreBytes <= 0 || p.UptimeSeconds < 3599 || p.LastFetch == nil {
		t.Errorf("process = %+v", p)
	}
	// The last run is the wire's 304 alone.
	if run := rep.Process.LastRun; run == nil || run.Trigger != "request" || run.Sources != 1 || run.OK != 1 ||
		!strings.HasPrefix(run.Summary, "1 sources: 1 ok") {
		t.Errorf("last run = %+v, want the wire's one refresh", run)
	}
	if rep.Config.Fingerprint != d.cfg.Fingerprint || rep.Config.AppliedAt.IsZero() || rep.Config.Refused != nil {
		t.Errorf("config = %+v", rep.Config)
	}
}

// refusedEdit is what a typo'd edit of the config says.
func refusedEdit(t *testing.T) error {
	t.Helper()
	_, err := config.Parse("newsdesk.yaml", []byte("sources:\n  - {name: a, url: \"https://example.org/feed\"}\nrefesh: '@hourly'\ntopics:\n\t- slug: x\n"))
	if err == nil {
		t.Fatal("the broken config loaded")
	}
	return err
}

func TestRefusedEditUntilAGoodOne(t *testing.T) {
	d := newDaemon(t)
	err := refusedEdit(t)
	d.live.Refused(err, time.Now())
	rep := d.gather(t)
	if rep.Config.Refused == nil || rep.Config.Refused.Messages != status.Messages(err) {
		t.Fatalf("refused = %+v, want the messages verbatim", rep.Config.Refused)
	}
	if !strings.Contains(rep.Config.Refused.Messages, "newsdesk.yaml:") || !strings.Contains(rep.Config.Refused.Messages, "^") {
		t.Fatalf("messages lack file:line:col or the caret: %q", rep.Config.Refused.Messages)
	}
	d.live.Applied(d.cfg, time.Now())
	if rep := d.gather(t); rep.Config.Refused != nil {
		t.Errorf("a good edit did not clear the refused one: %+v", rep.Config.Refused)
	}
}

func TestHTMLPage(t *testing.T) {
	d := newDaemon(t)
	d.in.RefreshAll(t.Context(), d.cfg.Sources, false, nil)
	err := refusedEdit(t)
	d.live.Refused(err, time.Now())
	rep := d.gather(t)
	body, herr := status.HTML(rep, status.Page{Site: "News <Desk>", Home: "https://news.example/"})
	if herr != nil {
		t.Fatal(herr)
	}
	doc, perr := xhtml.Parse(bytes.NewReader(body))
	if perr != nil {
		t.Fatal(perr)
	}
	var svgs, rects, scripts int
	var pres []string
	var walk func(*xhtml.Node)
	walk = func(n *xhtml.Node) {
		if n.Type == xhtml.ElementNode {
			switch n.Data {
			case "svg":
				svgs++
			case "rect":
				rects++
			case "script":
				scripts++
			case "pre":
				pres = append(pres, text(n))
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	if want := len(rep.Sources) + len(rep.Topics); svgs != want || rects != want*status.Days {
		t.Errorf("%d charts with %d bars, want %d charts of %d days", svgs, rects, want, status.Days)
	}
	if scripts != 0 {
		t.Errorf("the page has %d scripts", scripts)
	}
	// The refused edit, verbatim: the text of the first <pre> is the
	// messages, and each caret stands under the column its problem names.
	if len(pres) == 0 || pres[0] != rep.Config.Refused.Messages {
		t.Fatalf("first <pre> is %q, want the messages verbatim %q", pres, rep.Config.Refused.Messages)
	}
	checkCarets(t, pres[0])
	// The full error of the broken source is on the page, escaped.
	if !strings.Contains(string(body), html.EscapeString(source(t, rep, "broken").LastError)) {
		t.Error("the page lacks broken's full last error")
	}
	for _, want := range []string{"News &lt;Desk&gt;", "Ports &amp; Harbours", `href="https://news.example/"`,
		"upstream&#39;s Retry-After", "Moved permanently", `href="status.json"`, "gone (410)"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if strings.Contains(string(body), "hunter2") || strings.Contains(string(body), "s3cret") {
		t.Error("the page shows credentials")
	}
}

// checkCarets asserts that every caret line of msgs points at the column
// its problem's "file:line:col" names, on the source line above it.
func checkCarets(t *testing.T, msgs string) {
	t.Helper()
	lines := strings.Split(msgs, "\n")
	pos := regexp.MustCompile(`^[^:]+:(\d+):(\d+): `)
	col, carets := 0, 0
	for i, l := range lines {
		if m := pos.FindStringSubmatch(l); m != nil {
			fmt.Sscan(m[2], &col)
			continue
		}
		if strings.TrimSpace(l) == "^" && i > 0 {
			carets++
			prefix := strings.Index(lines[i-1], "| ") + 2 // "> %3d | " then the source line
			if got := strings.Index(l, "^") - prefix; got != col-1 {
				t.Errorf("caret under column %d, the problem says %d:\n%s\n%s", got+1, col, lines[i-1], l)
			}
		}
	}
	if carets == 0 {
		t.Errorf("no caret line in %q", msgs)
	}
}

func text(n *xhtml.Node) string {
	var b strings.Builder
	var walk func(*xhtml.Node)
	walk = func(n *xhtml.Node) {
		if n.Type == xhtml.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return b.String()
}

func TestHandlerJSONRoundTripsAndText(t *testing.T) {
	d := newDaemon(t)
	d.in.RefreshAll(t.Context(), d.cfg.Sources, false, nil)
	d.live.Refused(refusedEdit(t), time.Now())
	h := d.g.Handler(func() status.Page { return status.Page{Site: "t"} }, nil)

	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/status.json", nil))
	if w.Code != 200 || w.Header().Get("Content-Type") != "application/json" || w.Header().Get("Cache-Control") != "no-store" {
		t.Fatalf("/status.json: %d %v", w.Code, w.Header())
	}
	var got status.Report
	if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	want := d.gather(t)
	a, b := normal(got), normal(want)
	a.Generated, b.Generated = time.Time{}, time.Time{}
	a.Process.UptimeSeconds, b.Process.UptimeSeconds = 0, 0
	if !reflect.DeepEqual(a, b) {
		t.Errorf("/status.json does not read back as the report:\n got %+v\nwant %+v", got, want)
	}

	w = httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/status", nil))
	if w.Code != 200 || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/html") || !strings.Contains(w.Body.String(), "<svg") ||
		!strings.Contains(w.Body.String(), "Last refresh run") {
		t.Fatalf("/status: %d %v", w.Code, w.Header())
	}

	var out bytes.Buffer
	if err := status.Text(&out, got); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	for _, want := range []string{"REFUSED: the edit of", got.Config.Refused.Messages, "SOURCE  ", "TOPIC  ", "run      last just now (request): 6 sources: 3 ok, 3 failing",
		"broken (http://", got.Sources[2].LastError, "mover moved permanently to", "fingerprint " + d.cfg.Fingerprint} {
		if !strings.Contains(s, want) {
			t.Errorf("status text lacks %q:\n%s", want, s)
		}
	}
	if !regexp.MustCompile(`(?m)^wire\s+ok\s+200\s+just now\s+in \d+ min \(schedule\)\s+0\s+3\s+·{29}█$`).MatchString(s) {
		t.Errorf("wire's row is not as expected:\n%s", s)
	}
}

// normal drops what JSON cannot tell apart: monotonic clock readings and
// time zones.
func normal(r status.Report) status.Report {
	b, _ := json.Marshal(r)
	var out status.Report
	json.Unmarshal(b, &out)
	return out
}

func sum(ns []int) int {
	t := 0
	for _, n := range ns {
		t += n
	}
	return t
}
