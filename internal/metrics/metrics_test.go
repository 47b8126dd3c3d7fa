package metrics_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/newsdesk/newsdesk/internal/fetch"
	"github.com/newsdesk/newsdesk/internal/ingest"
	"github.com/newsdesk/newsdesk/internal/metrics"
	"github.com/newsdesk/newsdesk/internal/server"
	"github.com/newsdesk/newsdesk/internal/store"
	"github.com/newsdesk/newsdesk/internal/store/bolt"
	"github.com/newsdesk/newsdesk/internal/story"
	"github.com/newsdesk/newsdesk/internal/topic"
)

// feed is an RSS document of n stories about ports.
func feed(n int) string {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0"?><rss version="2.0"><channel><title>Wire</title><link>https://wire.example/</link>`)
	for i := range n {
		fmt.Fprintf(&b, `<item><title>Port story %d</title><link>https://wire.example/%d</link><guid>w%d</guid>`+
			`<pubDate>Mon, 02 Nov 2026 %02d:00:00 GMT</pubDate><description>Shipping at the port.</description></item>`, i, i, i, i)
	}
	b.WriteString(`</channel></rss>`)
	return b.String()
}

// scrape GETs /metrics from h and parses it with Prometheus's own text
// parser.
func scrape(t *testing.T, h http.Handler) map[string]*dto.MetricFamily {
	t.Helper()
	w := httptest.NewRecorder()
	r := httptest.NewRequest("GET", "/metrics", nil)
	r.Header.Set("Accept", "text/plain")
	h.ServeHTTP(w, r)
	if w.Code != http.StatusOK {
		t.Fatalf("/metrics: %d %s", w.Code, w.Body)
	}
	if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Fatalf("/metrics Content-Type %q, want the text format", ct)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(w.Body)
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	return fams
}

// sample returns the value of the series of name whose labels include
// labels ("k=v" pairs): a counter's or gauge's value, a histogram's count.
func sample(fams map[string]*dto.MetricFamily, name string, labels ...string) (float64, bool) {
	fam, ok := fams[name]
	if !ok {
		return 0, false
	}
next:
	for _, m := range fam.Metric {
		for _, l := range labels {
			k, v, _ := strings.Cut(l, "=")
			found := false
			for _, lp := range m.Label {
				if lp.GetName() == k && lp.GetValue() == v {
					found = true
				}
			}
			if !found {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue(), true
		case m.Gauge != nil:
			return m.Gauge.GetValue(), true
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount()), true
		}
	}
	return 0, false
}

func TestMetricsMoveWithRealFetchesAndRequests(t *testing.T) {
	ctx := t.Context()
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/wire.xml" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("ETag", `"v1"`)
		w.Header().Set("Content-Type", "application/rss+xml")
		http.ServeContent(w, r, "", time.Time{}, strings.NewReader(feed(4)))
	}))
	defer up.Close()

	db, err := bolt.Open(filepath.Join(t.TempDir(), "news.db"), bolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ports, err := topic.New(topic.Definition{Slug: "ports", Title: "Ports", Rule: topic.Rule{Term: "port"}})
	if err != nil {
		t.Fatal(err)
	}
	topics := topic.NewSet(ports)
	sources := []story.Source{{Name: "wire", URL: up.URL + "/wire.xml"}, {Name: "broken", URL: up.URL + "/missing.xml"}}

	m := metrics.New(metrics.Options{
		Version: "newsdesk test",
		Store:   db,
		Topics:  func() []string { return []string{"ports"} },
		Sources: func(ctx context.Context) (map[string]store.SourceState, error) { return db.Sources(ctx) },
	})
	fc := fetch.New(fetch.Options{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}})
	in := ingest.New(fc, db, topics, slog.New(slog.DiscardHandler), ingest.Options{Observe: m.Fetched})
	srv := server.New(server.Options{DB: db, Site: server.Site{Title: "t", PublicURL: "http://news.test"}, Topics: topics, Cache: m})
	h := server.Observe(srv, func(r server.Request) { m.Request(r.Route, r.Status, r.Duration) })

	// Before anything happened: the families exist, with the runtime's.
	fams := scrape(t, m.Handler())
	for _, name := range []string{"go_goroutines", "process_resident_memory_bytes", "newsdesk_build_info", "newsdesk_store_size_bytes", "newsdesk_topic_stories"} {
		if _, ok := fams[name]; !ok {
			t.Errorf("/metrics lacks %s before any fetch", name)
		}
	}
	if v, _ := sample(fams, "newsdesk_topic_stories", "topic=ports"); v != 0 {
		t.Errorf("topic_stories{ports} = %v before any fetch", v)
	}

	// A 200, then a 304 for the same source, and a 404.
	for _, force := range []bool{true, true} {
		in.RefreshAll(ctx, sources, force, nil)
	}
	for _, path := range []string{"/topics/ports.rss", "/topics/ports.rss", "/topics/ports.json", "/no/such/page", "/topics/nope.rss"} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", path, nil))
	}
	m.Applied(time.Unix(1_800_000_000, 0), false)
	m.Refused()

	fams = scrape(t, m.Handler())
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"newsdesk_fetches_total", []string{"source=wire", "outcome=ok"}, 1},
		{"newsdesk_fetches_total", []string{"source=wire", "outcome=not-modified"}, 1},
		{"newsdesk_fetches_total", []string{"source=broken", "outcome=failing"}, 2},
		{"newsdesk_fetch_duration_seconds", []string{"outcome=failing"}, 2},
		{"newsdesk_fetch_duration_seconds", []string{"outcome=not-modified"}, 1},
		{"newsdesk_source_stories_total", []string{"source=wire", "change=new"}, 4},
		{"newsdesk_fetch_bytes_total", []string{"source=wire"}, float64(len(feed(4)))}, // the 200 only: a 304 has no body
		{"newsdesk_classify_duration_seconds", nil, 1},                                 // the one parsed body
		{"newsdesk_topic_stories", []string{"topic=ports"}, 4},
		{"newsdesk_store_stories", nil, 4},
		{"newsdesk_source_up", []string{"source=wire"}, 1},
		{"newsdesk_source_up", []string{"source=broken"}, 0},
		{"newsdesk_source_status", []string{"source=broken", "status=failing"}, 1},
		{"newsdesk_source_consecutive_failures", []string{"source=broken"}, 2},
		{"newsdesk_render_cache_misses_total", []string{"kind=rss"}, 1},
		{"newsdesk_render_cache_hits_total", []string{"kind=rss"}, 1},
		{"newsdesk_render_cache_misses_total", []string{"kind=json"}, 1},
		{"newsdesk_render_fill_duration_seconds", []string{"kind=rss"}, 1},
		{"newsdesk_http_requests_total", []string{"route=/topics/{file}", "code=200"}, 3},
		{"newsdesk_http_requests_total", []string{"route=/topics/{file}", "code=404"}, 1},
		{"newsdesk_http_requests_total", []string{"route=unmatched", "code=404"}, 1},
		{"newsdesk_http_request_duration_seconds", []string{"route=/topics/{file}"}, 4},
		{"newsdesk_config_reloads_total", []string{"result=refused"}, 1},
		{"newsdesk_config_last_reload_successful", nil, 0},
		{"newsdesk_config_last_reload_success_timestamp_seconds", nil, 1_800_000_000},
	} {
		got, ok := sample(fams, c.name, c.labels...)
		if !ok || got != c.want {
			t.Errorf("%s%v = %v (present %v), want %v", c.name, c.labels, got, ok, c.want)
		}
	}
	if v, _ := sample(fams, "newsdesk_store_size_bytes"); v <= 0 {
		t.Errorf("store_size_bytes = %v, want the file's size", v)
	}
	if v, ok := sample(fams, "newsdesk_source_last_success_timestamp_seconds", "source=wire"); !ok || time.Since(time.Unix(int64(v), 0)) > time.Hour {
		t.Errorf("source_last_success_timestamp_seconds{wire} = %v, want about now", v)
	}
	if _, ok := sample(fams, "newsdesk_source_last_success_timestamp_seconds", "source=broken"); ok {
		t.Error("a source that never succeeded has a last-success time")
	}
	// No label carries a path or a query.
	for name, fam := range fams {
		for _, s := range fam.Metric {
			for _, l := range s.Label {
				if strings.Contains(l.GetValue(), "?") || strings.Contains(l.GetValue(), "/no/such") {
					t.Errorf("%s has label %s=%q", name, l.GetName(), l.GetValue())
				}
			}
		}
	}

	// A reload that drops a source drops its series.
	m.Retain([]string{"wire"})
	fams = scrape(t, m.Handler())
	if _, ok := sample(fams, "newsdesk_fetches_total", "source=broken"); ok {
		t.Error("fetches_total{broken} still exported after Retain without it")
	}
	if v, _ := sample(fams, "newsdesk_fetches_total", "source=wire", "outcome=ok"); v != 1 {
		t.Errorf("fetches_total{wire,ok} = %v after Retain, want 1", v)
	}
}

// failingStore fails every read.
type failingStore struct{}

func (failingStore) Stats(context.Context) (store.Stats, error) {
	return store.Stats{}, errors.New("disk on fire")
}

func (failingStore) Topic(context.Context, string) (store.TopicInfo, error) {
	return store.TopicInfo{}, errors.New("disk on fire")
}

// A store that fails at scrape time costs its own metrics, not the page.
func TestScrapeSurvivesStoreErrors(t *testing.T) {
	m := metrics.New(metrics.Options{Store: failingStore{}, Topics: func() []string { return []string{"a"} }})
	m.Request("/x", 200, time.Millisecond)
	w := httptest.NewRecorder()
	m.Handler().ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
	if !strings.Contains(w.Body.String(), `newsdesk_http_requests_total{code="200",route="/x"} 1`) {
		t.Errorf("/metrics with a failing store (%d) lacks the request counter:\n%.2000s", w.Code, w.Body)
	}
	if strings.Contains(w.Body.String(), "newsdesk_store_stories") {
		t.Error("/metrics exports store_stories although Stats failed")
	}
}

// TestRequestsCounted: requests counted at once (a reader process's) land
// in the histogram's bucket of their mean, with their sum, as one by one.
func TestRequestsCounted(t *testing.T) {
	m := metrics.New(metrics.Options{Store: failingStore{}, Topics: func() []string { return nil }})
	m.Requests("/topics/{file}", 304, 300*time.Microsecond, 7) // all in (0.25 ms, 0.5 ms]
	m.Request("/topics/{file}", 200, 2*time.Millisecond)
	fams := scrape(t, m.Handler())
	if got, _ := sample(fams, "newsdesk_http_requests_total", "route=/topics/{file}", "code=304"); got != 7 {
		t.Errorf("304s counted: %v, want 7", got)
	}
	var h *dto.Histogram
	for _, s := range fams["newsdesk_http_request_duration_seconds"].GetMetric() {
		h = s.GetHistogram()
	}
	if h.GetSampleCount() != 8 || math.Abs(h.GetSampleSum()-(7*0.0003+0.002)) > 1e-9 {
		t.Errorf("histogram: %d samples, sum %v; want 8 and %v", h.GetSampleCount(), h.GetSampleSum(), 7*0.0003+0.002)
	}
	for _, b := range h.GetBucket() {
		want := uint64(0)
		switch {
		case b.GetUpperBound() >= 0.0025:
			want = 8
		case b.GetUpperBound() >= 0.0005:
			want = 7
		}
		if b.GetCumulativeCount() != want {
			t.Errorf("bucket ≤ %v: %d, want %d", b.GetUpperBound(), b.GetCumulativeCount(), want)
		}
	}
}
