package config_test

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/newsdesk/newsdesk/internal/config"
	"github.com/newsdesk/newsdesk/internal/topic"
)

// minimal is the smallest valid config: one source, no topics (so it loads
// whatever state the topic package is in).
const minimal = "sources:\n  - {name: wire, url: https://example.org/feed.xml}\n"

// problems parses src and returns its problems; it fails the test if src loads.
func problems(t *testing.T, src string) config.Errors {
	t.Helper()
	cfg, err := config.Parse("newsdesk.yaml", []byte(src))
	if err == nil {
		t.Fatalf("Parse accepted the config: %+v", cfg)
	}
	errs, ok := errors.AsType[*config.Errors](err)
	if !ok {
		t.Fatalf("Parse error is %T, want *config.Errors: %v", err, err)
	}
	return *errs
}

func TestInvalid(t *testing.T) {
	tests := []struct {
		name      string
		src       string
		line, col int // col 0: any column
		msg       string
	}{
		{"wrong indentation under a list item", "sources:\n  - name: a\n   url: x\n", 3, 4, "not allowed in this context"},
		{"key dedented out of its list item", "sources:\n  - name: a\n    url: x\n  title: y\n", 4, 3, "not allowed in this context"},
		{"tab indentation", "sources:\n\t- name: a\n", 2, 1, "tab"},
		{"typo'd top-level key", minimal + "refesh: '@hourly'\n", 3, 1, "unknown key `refesh`; did you mean `refresh`?"},
		{"typo'd nested key", "site: {titel: x}\n" + minimal, 1, 8, "unknown key `titel`; did you mean `title`?"},
		{"typo'd topic key", minimal + "topics:\n  - slug: a\n    titel: A\n    rule: x\n", 5, 5, "did you mean `title`?"},
		{"typo'd rule key", minimal + "topics:\n  - {slug: a, title: A, rule: {any: [x, {regx: y}]}}\n", 4, 42, "unknown key `regx`; did you mean `regex`?"},
		{"unknown key far from any", minimal + "colour: blue\n", 3, 1, "unknown key `colour`"},
		{"key at the wrong level", minimal + "timeout: 30s\n", 3, 1, "unknown key `timeout` here"},
		{"list where a map is expected", minimal + "fetch: [timeout]\n", 3, 8, "`fetch` expects a map"},
		{"map where a list is expected", "sources: {name: x}\n", 1, 10, "`sources` expects a list"},
		{"scalar where a list is expected", minimal + "topics:\n  - {slug: a, title: A, sources: wire, rule: x}\n", 4, 34, "`sources` expects a list"},
		{"unclosed double quote", "site:\n  title: \"World desk\n" + minimal, 2, 10, "double-quoted"},
		{"unclosed bracket", "refresh: [a\n", 1, 10, "this `[` is never closed"},
		{"duplicate key", minimal + "listen: a\nlisten: b\n", 4, 1, "already defined"},
		{"wrong type", minimal + "topics:\n  - slug: a\n    title: A\n    limit: fifty\n    rule: x\n", 6, 12, "`limit` expects a whole number, got \"fifty\""},
		{"negative count", minimal + "fetch: {workers: 0}\n", 3, 18, "`workers` is 0; it must be at least 1"},
		{"missing rule", minimal + "topics:\n  - {slug: a, title: A}\n", 4, 5, "has no `rule`"},
		{"empty rule map", minimal + "topics:\n  - {slug: a, title: A, rule: {}}\n", 4, 31, "none of term, regex, near, any, all or not"},
		{"empty any list", minimal + "topics:\n  - {slug: a, title: A, rule: {any: []}}\n", 4, 37, "`any` expects a non-empty list"},
		{"empty not", minimal + "topics:\n  - {slug: a, title: A, rule: {not: }}\n", 4, 32, "`not` is empty"},
		{"rule is a list", minimal + "topics:\n  - {slug: a, title: A, rule: [x, y]}\n", 4, 31, "`rule` expects a word or a map, got a list"},
		{"two kinds in one clause", minimal + "topics:\n  - {slug: a, title: A, rule: {any: [{term: a, regex: b}]}}\n", 4, 38, "`any[0]` mixes term and regex"},
		{"case is not a bool", minimal + "topics:\n  - {slug: a, title: A, rule: {term: a, case: maybe}}\n", 4, 47, "`case` expects true or false"},
		{"unknown field in in", minimal + "topics:\n  - {slug: a, title: A, rule: {term: a, in: [titel]}}\n", 4, 46, "unknown story field \"titel\""},
		{"topic with no title", minimal + "topics:\n  - {slug: a, rule: x}\n", 4, 5, "topic \"a\" has no `title`"},
		{"slug with spaces", minimal + "topics:\n  - {slug: Asia Pacific, title: A, rule: x}\n", 4, 12, "is not lowercase words joined by hyphens"},
		{"duplicate slugs", minimal + "topics:\n  - {slug: a, title: A, rule: x}\n  - {slug: a, title: B, rule: y}\n", 5, 12, "topic slug \"a\" is already used by topics[0]"},
		{"duplicate source names", minimal + "  - {name: wire, url: https://example.org/other.xml}\n", 3, 12, "source name \"wire\" is already used by sources[0]"},
		{"source without a name", "sources:\n  - {url: https://example.org/feed.xml}\n", 2, 5, "source has no `name`"},
		{"source without a url", "sources:\n  - {name: wire}\n", 2, 5, "`url` is missing"},
		{"unknown source in a topic", minimal + "topics:\n  - {slug: a, title: A, sources: [wier], rule: x}\n", 4, 35, "unknown source \"wier\""},
		{"invalid regex", minimal + "topics:\n  - slug: a\n    title: A\n    rule:\n      any:\n        - asylum\n        - {regex: 'deport(ed'}\n", 9, 19, "regex"},
		{"invalid cron in refresh", minimal + "refresh: '*/15 * *'\n", 3, 10, "`refresh` \"*/15 * *\" is not a valid schedule"},
		{"cron zone prefix that panics cron", "sources:\n  - {name: w, url: https://example.org/f, schedule: 'CRON_TZ=Asia/Tokyo'}\n", 2, 53, "is not a valid schedule"},
		{"every with a space", minimal + "refresh: '@every 15 m'\n", 3, 10, "is not a valid schedule"},
		{"every below a second", minimal + "refresh: '@every 0s'\n", 3, 10, "@every needs at least 1s"},
		{"schedule that never fires", minimal + "refresh: '0 0 30 2 *'\n", 3, 10, "never fires"},
		{"language that is not a tag", minimal + "topics:\n  - {slug: a, title: A, language: english, rule: x}\n", 4, 35, "is not a language tag"},
		{"site language that is not a tag", "site: {language: English}\n" + minimal, 1, 18, "is not a language tag"},
		{"unknown timezone", minimal + "timezone: Mars/Olympus\n", 3, 11, "not a known time zone"},
		{"bad log level", minimal + "log_level: loud\n", 3, 12, "`log_level` \"loud\" is not a level"},
		{"bad log format", minimal + "log_format: xml\n", 3, 13, "`log_format` \"xml\" is not a log format"},
		{"public_url without scheme", "site: {public_url: news.example.org}\n" + minimal, 1, 20, "`public_url` \"news.example.org\" is not an absolute http(s) URL"},
		{"public_url with a query", "site: {public_url: 'https://x.org/?a=b'}\n" + minimal, 1, 20, "has a query or fragment"},
		{"bad hub", "site: {hubs: [hub]}\n" + minimal, 1, 15, "hub \"hub\" is not an absolute http(s) URL"},
		{"bad duration", minimal + "fetch: {timeout: 30 seconds}\n", 3, 18, "`timeout` \"30 seconds\" is not a positive duration"},
		{"bare number duration", minimal + "fetch: {timeout: 30}\n", 3, 18, "`timeout` \"30\" is not a positive duration"},
		{"bad day count", minimal + "retention: {max_age: xd}\n", 3, 22, "`max_age` \"xd\" is not a positive duration"},
		{"bad size", minimal + "fetch: {max_body: 10Mb}\n", 3, 19, "`max_body` \"10Mb\" is not a size"},
		{"bad source timeout", "sources:\n  - {name: w, url: https://example.org/f, timeout: soon}\n", 2, 52, "`timeout` \"soon\""},
		{"min above max interval", minimal + "fetch: {min_interval: 2h, max_interval: 1h}\n", 3, 23, "longer than `max_interval`"},
		{"no sources", "listen: ':8080'\n", 1, 1, "no `sources` are configured"},
		{"empty sources", "sources: []\n", 1, 10, "no `sources` are configured"},
		{"unsupported scheme", "sources:\n  - {name: w, url: 'ftp://example.org/f'}\n", 2, 20, "unsupported scheme \"ftp\""},
		{"relative file URL", "sources:\n  - {name: w, url: 'file:feeds/x.xml'}\n", 2, 20, "is not an absolute file URL"},
		{"bad listen", minimal + "listen: '8080'\n", 3, 9, "`listen` \"8080\" is not a host:port address"},
		{"remote admin without token", minimal + "admin: {listen: '0.0.0.0:9000'}\n", 3, 17, "is not a loopback address"},
		{"remote admin listener even with a token", minimal + "admin: {listen: '0.0.0.0:9000', token: s3cret}\n", 3, 17, "is not a loopback address"},
		{"empty file", "# nothing\n", 1, 1, "the config is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			errs := problems(t, tt.src)
			for _, p := range errs {
				if p.Line == tt.line && (tt.col == 0 || p.Col == tt.col) && strings.Contains(p.Msg, tt.msg) {
					if p.File != "newsdesk.yaml" || p.Hint == "" {
						t.Errorf("problem %+v: want File newsdesk.yaml and a hint", p)
					}
					return
				}
			}
			t.Errorf("no problem at %d:%d containing %q; got:\n%v", tt.line, tt.col, tt.msg, &errs)
		})
	}
}

func TestHints(t *testing.T) {
	tests := []struct{ name, src, hint string }{
		{"slug is slugified", minimal + "topics:\n  - {slug: Asia Pacific!, title: A, rule: x}\n", "write `slug: asia-pacific`"},
		{"typo names the fix", minimal + "topics:\n  - {slug: a, title: A, sources: [wire], rule: {any: [x], min_scor: 1}}\n", "rename it to `min_score`"},
		{"close source name suggested", minimal + "topics:\n  - {slug: a, title: A, sources: [wier], rule: x}\n", "did you mean `wire`?"},
		{"unclosed quote", "site:\n  title: 'x\n", "close the quote"},
		{"key sent home", minimal + "timeout: 30s\n", "`timeout` belongs under `fetch` or `sources[]`"},
		{"rule key sent home", minimal + "topics:\n  - slug: a\n    title: A\n    any: [x]\n", "`any` belongs under `topics[].rule`"},
		{"list of words as rule", minimal + "topics:\n  - {slug: a, title: A, rule: [x, y]}\n", "rule: {any: [...]}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			errs := problems(t, tt.src)
			for _, p := range errs {
				if strings.Contains(p.Hint, tt.hint) {
					return
				}
			}
			t.Errorf("no hint containing %q; got:\n%v", tt.hint, &errs)
		})
	}
}

func TestAllProblemsReported(t *testing.T) {
	src := `sources:
  - {name: wire, url: https://example.org/feed.xml}
  - {name: wire, url: gopher://example.org/}
refresh: "every hour"
timezone: Nowhere/Town
fetch: {timeout: 1 minute}
topics:
  - {slug: Bad Slug, title: A, rule: x}
  - {slug: b, sources: [nope], rule: y}
`
	errs := problems(t, src)
	wantLines := []int{3, 3, 4, 5, 6, 8, 9, 9}
	var got []int
	for _, p := range errs {
		got = append(got, p.Line)
	}
	if len(got) != len(wantLines) {
		t.Fatalf("got problems on lines %v, want %v:\n%v", got, wantLines, &errs)
	}
	for i := range got {
		if got[i] != wantLines[i] {
			t.Fatalf("got problems on lines %v, want %v (in file order):\n%v", got, wantLines, &errs)
		}
	}
}

func TestErrorsFormat(t *testing.T) {
	_, err := config.Parse("conf/newsdesk.yaml", []byte(minimal+"refresh: '@every 15 m'\n"))
	if err == nil {
		t.Fatal("Parse accepted a bad refresh")
	}
	want := "conf/newsdesk.yaml:3:10: `refresh` \"@every 15 m\" is not a valid schedule"
	if !strings.HasPrefix(err.Error(), want) {
		t.Errorf("Error() = %q, want prefix %q", err.Error(), want)
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != 3 || !strings.Contains(lines[0], "(hint: ") || !strings.Contains(lines[1], "refresh: '@every 15 m'") ||
		strings.Index(lines[2], "^") != strings.Index(lines[1], "'@every") {
		t.Errorf("Error() is not message, source line, caret under the value:\n%s", err)
	}
}

func TestDefaults(t *testing.T) {
	cfg, err := config.Parse("newsdesk.yaml", []byte(minimal))
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"public url", cfg.Site.PublicURL, "http://localhost:8080"},
		{"language", cfg.Site.Language, "en"},
		{"tag authority from public url host", cfg.Site.TagAuthority, "localhost"},
		{"listen", cfg.Listen, ":8080"},
		{"refresh", cfg.Refresh, "@every 15m"},
		{"location", cfg.Location, time.UTC},
		{"log level", cfg.LogLevel, slog.LevelInfo},
		{"log format", cfg.LogFormat, config.LogText},
		{"timeout", cfg.Fetch.Timeout, 30 * time.Second},
		{"connect timeout", cfg.Fetch.ConnectTimeout, 10 * time.Second},
		{"max body", cfg.Fetch.MaxBody, int64(10 << 20)},
		{"max redirects", cfg.Fetch.MaxRedirects, 5},
		{"workers", cfg.Fetch.Workers, 8},
		{"per host", cfg.Fetch.PerHost, 2},
		{"min interval", cfg.Fetch.MinInterval, 5 * time.Minute},
		{"max interval", cfg.Fetch.MaxInterval, 6 * time.Hour},
		{"retention age", cfg.Retention.MaxAge, 90 * 24 * time.Hour},
		{"retention count", cfg.Retention.MaxStories, 100000},
		{"admin listen", cfg.Admin.Listen, "127.0.0.1:0"},
		{"source title defaults to name", cfg.Sources[0].Title, "wire"},
		{"path", cfg.Path, "newsdesk.yaml"},
		{"no topics", len(cfg.Topics), 0},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	if cfg.Set == nil || len(cfg.Set.Topics()) != 0 {
		t.Errorf("Set = %v, want an empty set", cfg.Set)
	}
}

func TestValues(t *testing.T) {
	src := `site: {public_url: "https://news.example.org:8443/desk/", hubs: [https://hub.example.org/]}
timezone: Asia/Tokyo
log_level: debug
log_format: json
refresh: "0 */10 * * * *"
fetch: {max_body: 512KiB, timeout: 1m30s}
retention: {max_age: 30d}
admin: {listen: "127.0.0.1:9000", token: s3cret}
sources:
  - {name: a, url: "https://example.org/a.xml", max_body: 2048, timeout: 5s, schedule: "@hourly"}
  - {name: b, url: "%s"}
`
	feed := filepath.Join(t.TempDir(), "b.xml")
	if err := os.WriteFile(feed, []byte("<rss/>"), 0o644); err != nil {
		t.Fatal(err)
	}
	fileURL := "file://" + filepath.ToSlash(feed)
	cfg, err := config.Parse("newsdesk.yaml", []byte(fmt.Sprintf(src, fileURL)))
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"public url loses trailing slash", cfg.Site.PublicURL, "https://news.example.org:8443/desk"},
		{"tag authority is the host name without port", cfg.Site.TagAuthority, "news.example.org"},
		{"timezone", cfg.Location.String(), "Asia/Tokyo"},
		{"log level", cfg.LogLevel, slog.LevelDebug},
		{"log format", cfg.LogFormat, config.LogJSON},
		{"six-field cron kept", cfg.Refresh, "0 */10 * * * *"},
		{"KiB", cfg.Fetch.MaxBody, int64(512 << 10)},
		{"compound duration", cfg.Fetch.Timeout, 90 * time.Second},
		{"days", cfg.Retention.MaxAge, 30 * 24 * time.Hour},
		{"remote admin with token", cfg.Admin.Token, "s3cret"},
		{"int size", cfg.Sources[0].MaxBody, int64(2048)},
		{"source timeout", cfg.Sources[0].Timeout, 5 * time.Second},
		{"source schedule", cfg.Sources[0].Schedule, "@hourly"},
		{"file URL passes through", cfg.Sources[1].URL, fileURL},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestRelativeSourceURL(t *testing.T) {
	dir := t.TempDir()
	tests := []struct{ name, configPath, url, wantFile string }{
		{"sibling directory", filepath.Join(dir, "config", "newsdesk.yaml"), "../feeds/world.xml", filepath.Join(dir, "feeds", "world.xml")},
		{"same directory", filepath.Join(dir, "newsdesk.yaml"), "world.xml", filepath.Join(dir, "world.xml")},
		{"absolute path", filepath.Join(dir, "newsdesk.yaml"), filepath.ToSlash(filepath.Join(dir, "x.xml")), filepath.Join(dir, "x.xml")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			touch(t, tt.wantFile)
			cfg, err := config.Parse(tt.configPath, []byte("sources:\n  - {name: w, url: '"+tt.url+"'}\n"))
			if err != nil {
				t.Fatal(err)
			}
			want := "file://" + filepath.ToSlash(tt.wantFile)
			if got := cfg.Sources[0].URL; got != want {
				t.Errorf("URL = %q, want %q", got, want)
			}
		})
	}
	// A relative config path resolves against the working directory.
	t.Chdir(dir)
	touch(t, filepath.Join("feeds", "x.xml"))
	cfg, err := config.Parse(filepath.Join("conf", "newsdesk.yaml"), []byte("sources:\n  - {name: w, url: ../feeds/x.xml}\n"))
	if err != nil {
		t.Fatal(err)
	}
	abs, _ := filepath.Abs(filepath.Join("feeds", "x.xml"))
	if want := "file://" + filepath.ToSlash(abs); cfg.Sources[0].URL != want {
		t.Errorf("URL = %q, want %q", cfg.Sources[0].URL, want)
	}
}

// touch creates an empty feed file at path.
func touch(t *testing.T, path string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := config.Load(filepath.Join(t.TempDir(), "absent.yaml"))
	if err == nil || !strings.Contains(err.Error(), "read config") {
		t.Errorf("Load(absent) = %v, want a read error", err)
	}
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// FuzzParse: whatever an admin saves, Parse neither panics nor returns an
// error without a located, explained problem.
func FuzzParse(f *testing.F) {
	if src, err := os.ReadFile("../../config/newsdesk.yaml"); err == nil {
		f.Add(string(src))
	}
	f.Add(minimal)
	f.Add(minimal + "topics:\n  - {slug: a, title: A, rule: {any: [x, {regex: '('}, {all: [y, {not: z}]}]}}\n")
	f.Add("a: &x [1, *x]\n")
	f.Add("sources: [&s {name: a, url: 'https://x.org/f'}, {<<: *s, name: b}]\nsite: {title: [[[a]]]}\n")
	f.Add("a: |\n  x\n\n\n# c\nb: [1, {c: d}] # e\n")
	f.Fuzz(func(t *testing.T, src string) {
		cfg, err := config.Parse("f.yaml", []byte(src))
		// The same bytes give the same answer: messages must not depend
		// on map order.
		again, err2 := config.Parse("f.yaml", []byte(src))
		if (err == nil) != (err2 == nil) || (err != nil && err.Error() != err2.Error()) {
			t.Fatalf("two parses disagree:\n%v\n---\n%v", err, err2)
		}
		if err == nil {
			checkAccepted(t, cfg)
			_ = again
			return
		}
		errs, ok := errors.AsType[*config.Errors](err)
		if !ok || len(*errs) == 0 {
			t.Fatalf("error %T %v is not a non-empty *config.Errors", err, err)
		}
		for _, p := range *errs {
			if p.Msg == "" || p.File != "f.yaml" {
				t.Fatalf("problem without a message or file: %+v", p)
			}
		}
	})
}

// checkAccepted fails on a config that Parse should not have let through.
func checkAccepted(t *testing.T, cfg *config.Config) {
	t.Helper()
	for _, s := range cfg.Sources {
		u, err := url.Parse(s.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https" && u.Scheme != "file") || !topic.ValidSlug(s.Name) {
			t.Fatalf("accepted source %+v", s)
		}
	}
	for _, d := range cfg.Topics {
		if !topic.ValidSlug(d.Slug) || strings.TrimSpace(d.Title) == "" {
			t.Fatalf("accepted topic %+v", d)
		}
	}
	if u, err := url.Parse(cfg.Site.PublicURL); err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		t.Fatalf("accepted public URL %q", cfg.Site.PublicURL)
	}
	if cfg.Limits.PerClientConnections < 0 || cfg.Fetch.Workers < 1 || cfg.Set == nil {
		t.Fatalf("accepted %+v", cfg)
	}
}

func BenchmarkLoadDefault(b *testing.B) {
	for b.Loop() {
		if _, err := config.Load("../../config/newsdesk.yaml"); err != nil {
			b.Fatal(err)
		}
	}
}

// TestAliasBomb: aliases that double at every step (billion laughs) are
// cut off with a problem instead of expanding 2^30 rule clauses.
func TestAliasBomb(t *testing.T) {
	var b strings.Builder
	b.WriteString(minimal + "topics:\n- {slug: t0, title: T, rule: &r0 {any: [w, w]}}\n")
	for i := 1; i < 30; i++ {
		fmt.Fprintf(&b, "- {slug: t%d, title: T, rule: &r%d {any: [*r%d, *r%d]}}\n", i, i, i-1, i-1)
	}
	errs := problems(t, b.String())
	if !strings.Contains(errs.Error(), "aliases expand the config to more than") {
		t.Errorf("alias bomb not reported:\n%v", &errs)
	}
	if len(errs) > 51 {
		t.Errorf("%d problems listed, want at most 50 and a summary", len(errs))
	}
}

// TestShapeProblemsDoNotHideOthers: a value of the wrong shape used to stop
// the check, so an admin fixed one problem per run. Every problem is reported
// at once, without echoes of the misshapen value ("has no title").
func TestShapeProblemsDoNotHideOthers(t *testing.T) {
	src := minimal + `topics:
  - slug: a
    title: [A, B]
    pin: 5
    rule: {regex: 'deport(ed'}
  - slug: bad slug
    titel: B
    limit: -1
    rule: x
`
	want := []struct {
		line int
		msg  string
	}{
		{5, "`title` expects text"},
		{6, "`pin` expects a list"},
		{7, "invalid regex"},
		{8, "is not lowercase words joined by hyphens"},
		{9, "unknown key `titel`"},
		{10, "`limit` is -1"},
	}
	errs := problems(t, src)
	for _, w := range want {
		if !slices.ContainsFunc(errs, func(p config.Problem) bool { return p.Line == w.line && strings.Contains(p.Msg, w.msg) }) {
			t.Errorf("no problem on line %d containing %q; got:\n%v", w.line, w.msg, &errs)
		}
	}
	for _, p := range errs {
		if p.Line == 4 {
			t.Errorf("echo of the misshapen title reported: %+v", p)
		}
	}
}
