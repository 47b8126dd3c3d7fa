package status_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/newsdesk/newsdesk/internal/config"
	"github.com/newsdesk/newsdesk/internal/status"
	"github.com/newsdesk/newsdesk/internal/store"
	"github.com/newsdesk/newsdesk/internal/story"
)

func TestNextPoll(t *testing.T) {
	tokyo, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		t.Skip("no tz database:", err)
	}
	cfg := &config.Config{Refresh: "*/15 * * * *", Location: time.UTC,
		Fetch: config.Fetch{MinInterval: 5 * time.Minute, MaxInterval: 6 * time.Hour}}
	slow := &config.Config{Refresh: cfg.Refresh, Location: time.UTC, Fetch: config.Fetch{MinInterval: 20 * time.Minute, MaxInterval: 6 * time.Hour}}
	now := time.Date(2026, 12, 1, 10, 7, 0, 0, time.UTC)
	src := story.Source{Name: "s"}
	ok := store.SourceState{Status: story.StatusOK, LastStatus: 200, LastAttempt: now.Add(-7 * time.Minute)}
	failing := func(n int, code int, wait time.Duration) store.SourceState {
		return store.SourceState{Status: story.StatusFailing, LastStatus: code, Failures: n,
			LastAttempt: now.Add(-time.Minute), NextFetch: now.Add(-time.Minute + wait)}
	}
	with := func(st store.SourceState, next time.Time) store.SourceState { st.NextFetch = next; return st }
	for _, tt := range []struct {
		name string
		cfg  *config.Config
		src  story.Source
		st   store.SourceState
		want time.Time
		why  status.Why
	}{
		{"never fetched", cfg, src, store.SourceState{}, at(10, 15), status.WhySchedule},
		{"next fetch before the tick", cfg, src, with(ok, now.Add(-2*time.Minute)), at(10, 15), status.WhySchedule},
		{"min_interval over a tick", slow, src, with(store.SourceState{Status: story.StatusOK, LastAttempt: now.Add(-time.Minute)}, now.Add(19*time.Minute)), at(10, 30), status.WhyMinInterval},
		{"upstream ttl of an hour, ending on a tick", cfg, src, with(ok, ok.LastAttempt.Add(time.Hour)), at(11, 0), status.WhyTTL},
		{"backoff after 4 failures", cfg, src, failing(4, 500, 40*time.Minute), at(11, 0), status.WhyBackoff},
		{"backoff after a refused dial", cfg, src, failing(2, 0, 3*time.Hour), at(13, 15), status.WhyBackoff},
		{"Retry-After an hour after a 429", cfg, src, failing(1, 429, time.Hour), at(11, 15), status.WhyRetryAfter},
		{"backoff capped at max_interval", cfg, src, failing(12, 503, 6*time.Hour), at(16, 15), status.WhyBackoff},
		{"gone", cfg, src, store.SourceState{Status: story.StatusGone, Failures: 1}, time.Time{}, status.WhyGone},
		{"own schedule", cfg, story.Source{Schedule: "@hourly"}, ok, at(11, 0), status.WhySchedule},
		{"schedule in the config's zone", &config.Config{Refresh: "0 9 * * *", Location: tokyo, Fetch: cfg.Fetch}, src, ok,
			time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC), status.WhySchedule}, // 09:00 in Tokyo
	} {
		got, why := status.NextPoll(tt.cfg, tt.src, tt.st, now)
		if !got.Equal(tt.want) || why != tt.why {
			t.Errorf("%s: next poll %v (%s), want %v (%s)", tt.name, got, why, tt.want, tt.why)
		}
	}
}

// at is 1 December 2026 at h:m UTC.
func at(h, m int) time.Time { return time.Date(2026, 12, 1, h, m, 0, 0, time.UTC) }

func TestHideCredentials(t *testing.T) {
	for in, want := range map[string]string{
		"https://example.org/feed.xml":                         "https://example.org/feed.xml",
		"https://alice:pw@example.org/feed":                    "https://example.org/feed",
		"https://alice@example.org/feed":                       "https://example.org/feed",
		"https://example.org/feed?api_key=abc123&lang=en":      "https://example.org/feed?api_key=xxxxx&lang=en",
		"https://example.org/feed?lang=en&token=abc#frag":      "https://example.org/feed?lang=en&token=xxxxx#frag",
		"https://example.org/feed?access_token=a&Signature=b":  "https://example.org/feed?access_token=xxxxx&Signature=xxxxx",
		"https://example.org/feed?keyword=ports&monkey=1":      "https://example.org/feed?keyword=ports&monkey=1",
		"https://s3.example/f?X-Amz-Signature=ab&apikey=c":     "https://s3.example/f?X-Amz-Signature=xxxxx&apikey=xxxxx",
		"https://example.org/feed?page=2":                      "https://example.org/feed?page=2",
		`GET "https://u:p@a.example/x?token=t": 404 Not Found`: `GET "https://a.example/x?token=xxxxx": 404 Not Found`,
		"file:///srv/feeds/local.xml":                          "file:///srv/feeds/local.xml",
		"two: http://a:b@x.example/ and http://c:d@y.example/": "two: http://x.example/ and http://y.example/",
		"mail me at someone@example.org":                       "mail me at someone@example.org",
	} {
		if got := status.HideCredentials(in); got != want {
			t.Errorf("HideCredentials(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestExposure(t *testing.T) {
	const token = "s3cret-admin-token"
	req := func(remote string, headers ...string) func() *http.Request {
		return func() *http.Request {
			r := httptest.NewRequest("GET", "/status", nil)
			r.RemoteAddr = remote // set, not dialled: the decision is what is tested
			for _, h := range headers {
				k, v, _ := strings.Cut(h, ": ")
				r.Header.Set(k, v)
			}
			return r
		}
	}
	local, local6, remote := req("127.0.0.1:50000"), req("[::1]:50000"), req("203.0.113.9:50000")
	lan := req("192.168.1.20:50000")
	proxied := req("127.0.0.1:50000", "X-Forwarded-For: 203.0.113.9")
	forwarded := req("127.0.0.1:50000", "Forwarded: for=203.0.113.9")
	realIP := req("127.0.0.1:50000", "X-Real-IP: 203.0.113.9")
	bearer := req("203.0.113.9:50000", "Authorization: Bearer "+token)
	wrongBearer := req("203.0.113.9:50000", "Authorization: Bearer nope")
	for _, tt := range []struct {
		name  string
		mode  config.Exposure
		token string
		r     func() *http.Request
		want  bool
	}{
		{"false: local", config.ExposeNone, "", local, false},
		{"false: remote", config.ExposeNone, "", remote, false},
		{"false: token", config.ExposeNone, token, bearer, true},
		{"false: wrong token", config.ExposeNone, token, wrongBearer, false},
		{"false: a bearer but no token configured", config.ExposeNone, "", bearer, false},
		{"localhost: 127.0.0.1", config.ExposeLocal, "", local, true},
		{"localhost: ::1", config.ExposeLocal, "", local6, true},
		{"localhost: remote", config.ExposeLocal, "", remote, false},
		{"localhost: LAN", config.ExposeLocal, "", lan, false},
		{"localhost: through a proxy (X-Forwarded-For)", config.ExposeLocal, "", proxied, false},
		{"localhost: through a proxy (Forwarded)", config.ExposeLocal, "", forwarded, false},
		{"localhost: through a proxy (X-Real-IP)", config.ExposeLocal, "", realIP, false},
		{"localhost: remote with token", config.ExposeLocal, token, bearer, true},
		{"true: remote", config.ExposeAll, "", remote, true},
		{"true: proxied", config.ExposeAll, "", proxied, true},
	} {
		if got := status.Allowed(tt.r(), tt.mode, tt.token); got != tt.want {
			t.Errorf("%s: Allowed = %v, want %v", tt.name, got, tt.want)
		}
		// Expose answers accordingly: the page, or a 404 as if it did not exist.
		h := status.Expose(okHandler{}, tt.mode, tt.token)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, tt.r())
		if code := map[bool]int{true: 200, false: 404}[tt.want]; w.Code != code {
			t.Errorf("%s: Expose answered %d, want %d", tt.name, w.Code, code)
		}
	}
}

type okHandler struct{}

func (okHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) { w.Write([]byte("status")) }

// What reaches a terminal cannot drive it: an upstream's error (or a
// doctored /status.json) with escape sequences prints them as U+FFFD.
func TestTextIsTerminalSafe(t *testing.T) {
	rep := status.Report{
		Generated: time.Now(),
		Sources: []status.Source{{Name: "evil\x1b]0;owned\x07", URL: "http://x.example/\x1b[2J",
			LastError: "parse: bad byte \x1b[31mRED\x1b[0m\r\x9b1m at line 1\nsecond line\tkept", NewPerDay: make([]int, status.Days),
			Warnings: []string{"item 1 (id \"\x1b[2Jwiped\"): \"tags\" is a string, not an array; field ignored"}}},
		Topics: []status.Topic{{Slug: "t\x1bc", NewPerDay: make([]int, status.Days)}},
		Config: status.Config{File: "c.yaml", Refused: &status.Refusal{Messages: "c.yaml:1:1: \x1b[1mbold\n> 1 | x\n      ^"}},
	}
	var b strings.Builder
	if err := status.Text(&b, rep); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, c := range []string{"\x1b", "\x07", "\r", "\x9b"} {
		if strings.Contains(out, c) {
			t.Errorf("status text holds control character %q:\n%q", c, out)
		}
	}
	for _, want := range []string{"second line\tkept", "\uFFFD[31mRED", "> 1 | x\n      ^", "skipped as malformed: item 1 (id \"\uFFFD[2Jwiped\")"} {
		if !strings.Contains(out, want) {
			t.Errorf("status text lacks %q:\n%s", want, out)
		}
	}
}
