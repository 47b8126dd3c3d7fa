package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/newsdesk/newsdesk/internal/status"
)

// TestStatusAndMetrics runs the daemon against the bundled feeds and reads
// its status and metrics as an admin would: the page and the JSON on the
// public listener (status.public: localhost) and the admin listener,
// `newsdesk status` through the daemon and from the stopped store, a
// refused edit shown verbatim until a good one, and the metrics moved by
// the fetches and requests.
func TestStatusAndMetrics(t *testing.T) {
	up := httptest.NewServer(http.FileServer(http.Dir("../../feeds")))
	defer up.Close()
	dir := t.TempDir()
	cfgPath := writeConfig(t, dir, up.URL, "http://127.0.0.1:9/") // the hub is never reached: no topic changes after start
	good, err := os.ReadFile(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	good = append(good, []byte("\nstatus: {public: localhost}\nlog_access: true\n")...)
	writeAtomically(t, cfgPath, good)
	dbPath := filepath.Join(dir, "data", "newsdesk.db")

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	logs := newLogWatch()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--config", cfgPath, "--data", dbPath}, func(string) string { return "" }, io.Discard, logs)
	}()
	line, next := logs.waitFor(t, 0, "msg=serving")
	base := "http://" + regexp.MustCompile(`addr=(\S+)`).FindStringSubmatch(line)[1]
	adminBase := "http://" + regexp.MustCompile(`admin=(\S+)`).FindStringSubmatch(line)[1]
	// The start-up fetch of all seven sources: its summary comes when the
	// last of them ends, which may be before the daemon says it serves.
	_, ran := logs.waitFor(t, 0, `msg="refresh run" trigger=start-up sources=7`)
	next = max(next, ran)

	rep := statusJSON(t, base)
	if len(rep.Sources) != 7 || !rep.Daemon {
		t.Fatalf("status lists %d sources (daemon %v), want 7", len(rep.Sources), rep.Daemon)
	}
	for _, s := range rep.Sources {
		switch s.Name {
		case "broken":
			if s.Status != "failing" || s.HTTPStatus != 404 || !strings.Contains(s.LastError, "/missing.xml: 404 Not Found") {
				t.Errorf("broken = %+v, want failing 404 with its error", s)
			}
		default:
			if s.Status != "ok" || s.Stored == 0 || s.NewPerDay[status.Days-1] != s.Stored || s.LastSuccess.IsZero() {
				t.Errorf("%s = %+v, want ok with its stories today", s.Name, s)
			}
		}
	}
	if run := rep.Process.LastRun; run == nil || run.Trigger != "start-up" || run.Sources != 7 || run.Failing != 1 {
		t.Errorf("last run = %+v, want the start-up run of 7 sources, 1 failing", run)
	}
	if rep.Topics[0].Slug != "immigration" || rep.Topics[0].Stories == 0 || rep.Process.Stories == 0 || rep.Config.Fingerprint == "" {
		t.Errorf("topics %+v, process %+v, config %+v", rep.Topics[0], rep.Process, rep.Config)
	}

	res, page := get(t, base+"/status")
	if res.StatusCode != 200 || !bytes.Contains(page, []byte(`<svg class="chart"`)) || !bytes.Contains(page, []byte("/missing.xml: 404 Not Found")) {
		t.Errorf("/status: %d, %d bytes, want the page with charts and broken's error", res.StatusCode, len(page))
	}
	// Through a proxy the request is not local any more.
	if res, _ := get(t, base+"/status", "X-Forwarded-For", "198.51.100.7"); res.StatusCode != 404 {
		t.Errorf("/status through a proxy: %d, want 404", res.StatusCode)
	}
	_, next = logs.waitFor(t, next, `msg=request method=GET route=/status path=/status status=200`)

	out, err := newsdesk(t, "status", "--config", cfgPath, "--data", dbPath)
	if err != nil || !regexp.MustCompile(`(?m)^broken\s+failing\s+404\s+never`).MatchString(out) || !strings.Contains(out, "up ") {
		t.Errorf("newsdesk status through the daemon = %v:\n%s", err, out)
	}

	// A refused edit is on the status until a good one replaces it.
	writeAtomically(t, cfgPath, append(bytes.Clone(good), []byte("refesh: '@hourly'\n")...))
	_, next = logs.waitFor(t, next, "config refused")
	rep = statusJSON(t, adminBase)
	if rep.Config.Refused == nil || !strings.Contains(rep.Config.Refused.Messages, "newsdesk.yaml:") ||
		!strings.Contains(rep.Config.Refused.Messages, "unknown key `refesh`; did you mean `refresh`?") ||
		!strings.Contains(rep.Config.Refused.Messages, "^") {
		t.Errorf("refused edit on the status = %+v", rep.Config.Refused)
	}
	if _, page := get(t, base+"/status"); !bytes.Contains(page, []byte("The last config edit was refused")) {
		t.Error("the page does not show the refused edit")
	}
	// The good edit turns the public status off: only the admin listener
	// serves it now.
	writeAtomically(t, cfgPath, bytes.Replace(good, []byte("public: localhost"), []byte("public: false"), 1))
	_, next = logs.waitFor(t, next, "config reloaded")
	if rep = statusJSON(t, adminBase); rep.Config.Refused != nil {
		t.Errorf("a good edit left the refused one on the status: %+v", rep.Config.Refused)
	}
	for _, path := range []string{"/status", "/status.json", "/metrics"} {
		if res, _ := get(t, base+path); res.StatusCode != 404 {
			t.Errorf("public %s with status.public false: %d, want 404", path, res.StatusCode)
		}
		// A browser cannot tell the hidden page from one that never was.
		_, hidden := get(t, base+path, "Accept", "text/html")
		_, absent := get(t, base+path+"-not-here", "Accept", "text/html")
		if !bytes.Contains(hidden, []byte("Nothing is published at "+path+".")) ||
			!bytes.Equal(bytes.ReplaceAll(absent, []byte(path+"-not-here"), []byte(path)), hidden) {
			t.Errorf("hidden %s differs from an absent page:\n%s", path, hidden)
		}
	}

	fams := scrapeMetrics(t, adminBase+"/metrics")
	for _, c := range []struct {
		name   string
		labels []string
		min    float64
	}{
		{"newsdesk_fetches_total", []string{"source=world-desk", "outcome=ok"}, 1},
		{"newsdesk_fetches_total", []string{"source=broken", "outcome=failing"}, 1},
		{"newsdesk_source_stories_total", []string{"source=world-desk", "change=new"}, 1},
		{"newsdesk_fetch_bytes_total", []string{"source=world-desk"}, 1000},
		{"newsdesk_classify_duration_seconds", nil, 6},
		{"newsdesk_topic_stories", []string{"topic=immigration"}, 1},
		{"newsdesk_http_requests_total", []string{"route=/status", "code=200"}, 1},
		{"newsdesk_http_requests_total", []string{"route=/status.json", "code=200"}, 2},
		{"newsdesk_config_reloads_total", []string{"result=refused"}, 1},
		{"newsdesk_config_reloads_total", []string{"result=applied"}, 1},
		{"newsdesk_config_last_reload_successful", nil, 1},
		{"newsdesk_store_size_bytes", nil, 1},
		{"newsdesk_source_up", []string{"source=world-desk"}, 1},
	} {
		if got, ok := metric(fams, c.name, c.labels...); !ok || got < c.min {
			t.Errorf("%s%v = %v (present %v), want at least %v", c.name, c.labels, got, ok, c.min)
		}
	}
	if _, ok := fams["go_goroutines"]; !ok {
		t.Error("no Go runtime metrics")
	}

	cancel()
	if err := <-done; err != nil {
		t.Fatalf("serve: %v", err)
	}

	// With the daemon stopped, the command line reads the store itself.
	out, err = newsdesk(t, "status", "--config", cfgPath, "--data", dbPath)
	if err != nil || !strings.Contains(out, "daemon   not running") || !regexp.MustCompile(`(?m)^world-desk\s+ok\s+200`).MatchString(out) {
		t.Errorf("newsdesk status from the store = %v:\n%s", err, out)
	}
	// And a config that does not load still shows the store, with its problems.
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("sources: [\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err = newsdesk(t, "status", "--config", bad, "--data", dbPath)
	if err != nil || !strings.Contains(out, "REFUSED") || !strings.Contains(out, "bad.yaml:1:") || !regexp.MustCompile(`(?m)^broken\s+failing`).MatchString(out) {
		t.Errorf("newsdesk status with a broken config = %v:\n%s", err, out)
	}
	if out, err = newsdesk(t, "status", "--json", "--config", cfgPath, "--data", dbPath); err != nil || !json.Valid([]byte(out)) {
		t.Errorf("newsdesk status --json = %v:\n%.300s", err, out)
	}
}

func statusJSON(t *testing.T, base string) status.Report {
	t.Helper()
	res, body := get(t, base+"/status.json")
	if res.StatusCode != 200 {
		t.Fatalf("%s/status.json: %d %s", base, res.StatusCode, body)
	}
	var rep status.Report
	if err := json.Unmarshal(body, &rep); err != nil {
		t.Fatal(err)
	}
	return rep
}

func scrapeMetrics(t *testing.T, url string) map[string]*dto.MetricFamily {
	t.Helper()
	res, body := get(t, url, "Accept", "text/plain")
	if res.StatusCode != 200 {
		t.Fatalf("%s: %d", url, res.StatusCode)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("parse %s: %v", url, err)
	}
	return fams
}

// metric is the value of name's first series with every label in labels
// ("k=v"), a histogram's count.
func metric(fams map[string]*dto.MetricFamily, name string, labels ...string) (float64, bool) {
	fam, ok := fams[name]
	if !ok {
		return 0, false
	}
	for _, m := range fam.Metric {
		have := map[string]string{}
		for _, l := range m.Label {
			have[l.GetName()] = l.GetValue()
		}
		match := true
		for _, l := range labels {
			k, v, _ := strings.Cut(l, "=")
			match = match && have[k] == v
		}
		if !match {
			continue
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
