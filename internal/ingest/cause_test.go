package ingest_test

import (
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/newsdesk/newsdesk/internal/fetch"
	"github.com/newsdesk/newsdesk/internal/ingest"
	"github.com/newsdesk/newsdesk/internal/story"
)

func TestCause(t *testing.T) {
	tests := []struct {
		name, msg, want string
	}{
		{"no route", "GET https://www.ice.gov/rss/news/all.xml: dial tcp 23.1.2.3:443: connect: no route to host", "no route to host"},
		{"network down", "GET https://a.example/f: dial tcp [2600::1]:443: connect: network is unreachable", "network is unreachable"},
		{"resolver offline", "GET https://a.example/f: dial tcp: lookup a.example on 127.0.0.53:53: server misbehaving", "DNS lookup failed"},
		{"resolver timeout", "GET https://a.example/f: dial tcp: lookup a.example: i/o timeout", "DNS lookup failed"},
		{"no such host", "GET https://typo.example/f: dial tcp: lookup typo.example on 127.0.0.53:53: no such host", "no such host"},
		{"status", "GET https://a.example/f: 404 Not Found", "HTTP 404 Not Found"},
		{"status with retry-after", "GET https://a.example/f: 429 Too Many Requests (retry after 2m0s)", "HTTP 429 Too Many Requests (retry after 2m0s)"},
		{"status challenge", "GET https://a.example/f: 403 Forbidden (bot challenge)", "HTTP 403 Forbidden (bot challenge)"},
		{"idle", "GET https://a.example/f: upstream went silent: nothing received for 15s", "upstream went silent"},
		{"total timeout", "GET https://a.example/f: no complete answer within 30s: context deadline exceeded", "timed out"},
		{"tls", "GET https://a.example/f: tls: failed to verify certificate: x509: certificate signed by unknown authority", "TLS: certificate signed by unknown authority"},
		{"parse", "parse wire: not a feed", "not a feed"},
		{"entities", "parse wire: declares XML entities; refused", "declares XML entities; refused"},
		{"refusal kept whole", "GET http://10.0.0.1/f: refused: 10.0.0.1 is a private address; allow it with fetch.allow_networks",
			"refused: 10.0.0.1 is a private address; allow it with fetch.allow_networks"},
		{"unknown: last clause", "store wire: put wire: write /data/newsdesk.db: no space left on device", "no space left on device"},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ingest.Cause(tt.msg); got != tt.want {
				t.Errorf("Cause(%q) = %q, want %q", tt.msg, got, tt.want)
			}
		})
	}
}

// TestCauseOfRealErrors checks Cause against errors the fetch client
// really returns, so a change to their wording shows here.
func TestCauseOfRealErrors(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "120")
		http.Error(w, "slow down", http.StatusTooManyRequests)
	}))
	defer srv.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	c := fetch.New(fetch.Options{Allow: loopback, Now: func() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) }})
	strict := fetch.New(fetch.Options{})
	for _, tt := range []struct {
		name   string
		client *fetch.Client
		url    string
		want   string
	}{
		{"429", c, srv.URL + "/f", "HTTP 429 Too Many Requests (retry after 2m0s)"},
		{"closed port", c, "http://" + closed + "/f", "connection refused"},
		{"guard", strict, srv.URL + "/f", "refused: 127.0.0.1 is a loopback address; allow it with fetch.allow_networks"},
	} {
		_, err := tt.client.Get(t.Context(), fetch.Request{URL: tt.url})
		if err == nil {
			t.Fatalf("%s: no error", tt.name)
		}
		if got := ingest.Cause(err.Error()); got != tt.want {
			t.Errorf("%s: Cause(%q) = %q, want %q", tt.name, err, got, tt.want)
		}
	}
}

func TestRunString(t *testing.T) {
	r := ingest.Run{Sources: 24, OK: 6, Failing: 18, Causes: []ingest.CauseCount{
		{Cause: "no route to host", Sources: 15, Offline: true},
		{Cause: "HTTP 404 Not Found", Sources: 2},
		{Cause: "DNS lookup failed", Sources: 1, Offline: true},
	}}
	want := "24 sources: 6 ok, 18 failing; 16 look offline: no route to host, DNS lookup failed; 2 HTTP 404 Not Found"
	if got := r.String(); got != want {
		t.Errorf("Run.String() =\n%s\nwant\n%s", got, want)
	}
	if !ingest.Offline("no route to host") || ingest.Offline("HTTP 404 Not Found") {
		t.Error("Offline misjudges its causes")
	}
}

// TestReportCounts checks the fields a metrics exporter reads from a
// Report and a Run.
func TestReportCounts(t *testing.T) {
	up := &upstream{}
	up.set(200, rss("Ice storm", "Border talks"), nil)
	f := newFixture(t, up)
	var runs []ingest.Run
	opts := ingest.Options{MinInterval: time.Minute, Now: func() time.Time { return f.now }, ObserveRun: func(r ingest.Run) { runs = append(runs, r) }}
	in := ingest.New(fetch.New(fetch.Options{Allow: loopback}), f.db, f.topic, slog.New(slog.DiscardHandler), opts)
	bad := story.Source{Name: "bad", URL: strings.TrimSuffix(f.src.URL, "/feed") + "/gone"}
	up2 := f.src
	reps := in.RefreshAll(t.Context(), []story.Source{up2}, false, nil)
	r := reps[0]
	if r.Status != story.StatusOK || r.HTTPStatus != 200 || r.Bytes != int64(len(rss("Ice storm", "Border talks"))) ||
		r.Stories != 2 || r.New != 2 || r.Next.Sub(f.now) != time.Minute || r.Why != ingest.WhyMinInterval || !r.Started.Equal(f.now) {
		t.Errorf("report = %+v, want ok 200 with the body's bytes, 2 stories, 2 new, next in 1m (min-interval)", r)
	}
	f.now = f.now.Add(time.Minute)
	up.set(500, "down", nil)
	reps = in.RefreshAll(t.Context(), []story.Source{up2, bad}, false, nil)
	if r := reps[0]; r.Status != story.StatusFailing || r.HTTPStatus != 500 || r.Cause != "HTTP 500 Internal Server Error" || r.Failures != 1 || r.Why != ingest.WhyBackoff {
		t.Errorf("failing report = %+v", r)
	}
	if len(runs) != 2 || runs[1].Sources != 2 || runs[1].Failing != 2 || runs[1].Trigger != ingest.TriggerRequest ||
		runs[1].Outcomes[story.StatusFailing] != 2 || len(runs[1].Causes) != 1 || runs[1].Causes[0].Sources != 2 {
		t.Errorf("runs = %+v, want a second run of 2 failing sources, one cause", runs)
	}
}
