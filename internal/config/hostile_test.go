package config_test

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/newsdesk/newsdesk/internal/config"
)

// TestHostileConfigs: each of these once took the decoder or goccy's parser
// to gigabytes or minutes (a self-referencing alias killed the daemon on a
// live reload). Each is now refused at its line, cheaply: the test fails if
// one allocates more than a budget no parse of a small file needs.
func TestHostileConfigs(t *testing.T) {
	tests := []struct {
		name string
		src  string
		line int
		msg  string
	}{
		{"self-referencing alias", minimal + "topics:\n  - slug: t\n    title: T\n    rule: &r {any: [x, *r]}\n", 6, "alias *r is inside the value its anchor &r marks"},
		{"alias to an enclosing map", "site: &s {hubs: [*s]}\n" + minimal, 1, "alias *s is inside"},
		{"billion laughs in a rule", minimal + laughs(), 0, "aliases expand the config to more than"},
		{"aliases nesting deep", minimal + chain(80), 0, "aliases nest the config deeper than"},
		{"100k nested brackets", minimal + "site: {title: " + strings.Repeat("[", 100_000) + "}\n", 3, "deeper than 128 levels"},
		{"100k nested dashes", minimal + "site:\n  hubs:\n    " + strings.Repeat("- ", 100_000) + "x\n", 5, "deeper than 128 levels"},
		{"a block scalar ending in 100k blank lines", minimal + "site:\n  description: |\n    x\n" + strings.Repeat("\n", 100_000) + "listen: ':1'\n", 6, "blank lines in a row"},
		{"a 7M-item list", minimal + "site: {hubs: [" + strings.Repeat("a,", 7<<20) + "a]}\n", 3, "more than 100000 YAML nodes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			errs := problems(t, tt.src)
			runtime.ReadMemStats(&after)
			found := false
			for _, p := range errs {
				if strings.Contains(p.Msg, tt.msg) && (tt.line == 0 || p.Line == tt.line) {
					found = p.Hint != ""
				}
			}
			if !found {
				t.Errorf("no problem on line %d containing %q with a hint; got:\n%v", tt.line, tt.msg, &errs)
			}
			// Generous: 20 times the input, and 64 MiB. Before the limits
			// the first two grew until the process died.
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > uint64(20*len(tt.src)+64<<20) {
				t.Errorf("refusing it allocated %d MiB", alloc>>20)
			}
		})
	}
}

// laughs is ten anchors, each ten aliases of the one before: 10^10 nodes.
func laughs() string {
	var b strings.Builder
	b.WriteString("topics:\n")
	for i := range 10 {
		inner := "[x, x, x, x, x, x, x, x, x, x]"
		if i > 0 {
			inner = "[" + strings.Repeat("*a"+strconv.Itoa(i-1)+", ", 9) + "*a" + strconv.Itoa(i-1) + "]"
		}
		fmt.Fprintf(&b, "  - {slug: t%d, title: T, rule: {any: &a%d %s}}\n", i, i, inner)
	}
	return b.String()
}

// chain nests each anchor in the next: written flat, expanded n deep.
func chain(n int) string {
	var b strings.Builder
	b.WriteString("topics:\n  - {slug: c0, title: T, rule: &c0 {any: [x]}}\n")
	for i := 1; i < n; i++ {
		fmt.Fprintf(&b, "  - {slug: c%d, title: T, rule: &c%d {any: [*c%d]}}\n", i, i, i-1)
	}
	return b.String()
}

func TestLoadRefusesHugeFileUnread(t *testing.T) {
	path := filepath.Join(t.TempDir(), "huge.yaml")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	// Sparse: 1 GiB on disk costs nothing, and Load must not read it all.
	if err := f.Truncate(1 << 30); err != nil {
		t.Fatal(err)
	}
	f.Close()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err = config.Load(path)
	runtime.ReadMemStats(&after)
	if err == nil || !strings.Contains(err.Error(), "larger than 16 MiB") {
		t.Errorf("Load(1 GiB) = %v, want a size problem", err)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 64<<20 {
		t.Errorf("refusing a 1 GiB file allocated %d MiB", alloc>>20)
	}
}

// TestSyntaxMessages: the parser's message is replaced where it misleads.
func TestSyntaxMessages(t *testing.T) {
	tests := []struct {
		name      string
		src       string
		line, col int
		msg, hint string
	}{
		{"unquoted colon in a value", minimal + "topics:\n  - slug: t\n    title: Asia: Security\n    rule: x\n", 5, 12,
			"not allowed in this context", "quote the value: `title: \"Asia: Security\"`"},
		{"unquoted colon in a value, with a comment", "site:\n  title: Asia: Security # desk\n" + minimal, 2, 10,
			"not allowed in this context", "quote the value: `title: \"Asia: Security\"`"},
		{"a key at the wrong indentation is not a quoting problem", "sources:\n  - name: a\n   url: x\n", 3, 4,
			"not allowed in this context", "check the indentation"},
		{"unclosed bracket reported where it opens", minimal + "topics:\n  - {slug: t, title: x, rule: {any: [a, b\n  - {slug: u, title: y, rule: c}\n", 4, 37,
			"this `[` is never closed (the parser gave up at line 5)", "close it with `]`"},
		{"unclosed brace", minimal + "site: {title: x\nlisten: ':1'\n", 3, 7, "this `{` is never closed", "close it with `}`"},
		{"closer of the wrong kind", minimal + "topics:\n  - {slug: t, title: x, rule: {any: [a, b}\n", 4, 42,
			"`}` does not close the `[` opened at 4:37", "close `[` with `]`"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			errs := problems(t, tt.src)
			for _, p := range errs {
				if p.Line == tt.line && p.Col == tt.col && strings.Contains(p.Msg, tt.msg) && strings.Contains(p.Hint, tt.hint) {
					return
				}
			}
			t.Errorf("no problem at %d:%d with %q and hint %q; got:\n%v", tt.line, tt.col, tt.msg, tt.hint, &errs)
		})
	}
}

// TestMergeKeys: `<<: *name` merges a map the YAML 1.1 way, in sources,
// topics and rules; a bad merge is reported by name.
func TestMergeKeys(t *testing.T) {
	src := `sources:
  - &wire {name: wire, url: "https://example.org/feed.xml", timeout: 5s, max_body: 1MiB}
  - <<: *wire
    name: wire-2
    url: "https://example.org/other.xml"
topics:
  - &base {slug: a, title: A, limit: 7, rule: {any: [asylum, visa]}}
  - <<: [*base, {language: en}]
    slug: b
    title: B
  - slug: c
    title: C
    rule:
      <<: {in: [title]}
      any: [border]
`
	cfg, err := config.Parse("newsdesk.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if s := cfg.Sources[1]; s.Name != "wire-2" || s.URL != "https://example.org/other.xml" || s.Timeout != 5*time.Second || s.MaxBody != 1<<20 {
		t.Errorf("merged source = %+v, want wire's timeout and max_body under its own name and url", s)
	}
	if tp := cfg.Topics[1]; tp.Slug != "b" || tp.Title != "B" || tp.Limit != 7 || tp.Language != "en" || len(tp.Rule.Any) != 2 {
		t.Errorf("merged topic = %+v, want a's limit and rule, the inline language, its own slug and title", tp)
	}
	if in := cfg.Topics[2].Rule.In; len(in) != 1 || in[0] != "title" {
		t.Errorf("merged rule's in = %v, want [title]", in)
	}

	errs := problems(t, minimal+"topics:\n  - {<<: 5, slug: w, title: W, rule: x}\n")
	if !strings.Contains(errs.Error(), "the merge key `<<` merges a map or a list of maps") {
		t.Errorf("a merge of a number is not reported by name:\n%v", &errs)
	}
}

func TestDuplicateNamesBothLines(t *testing.T) {
	src := minimal + "  - {name: other, url: https://example.org/o.xml}\n  - {name: wire, url: https://example.org/again.xml}\n" +
		"topics:\n  - {slug: a, title: A, rule: x}\n  - {slug: a, title: B, rule: y}\n"
	errs := problems(t, src)
	for _, want := range []string{
		"newsdesk.yaml:4:12: source name \"wire\" is already used by sources[0] on line 2",
		"newsdesk.yaml:7:12: topic slug \"a\" is already used by topics[0] on line 6",
	} {
		if !strings.Contains(errs.Error(), want) {
			t.Errorf("no %q in:\n%v", want, &errs)
		}
	}
}

func TestMissingLocalFeed(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "newsdesk.yaml")
	touch(t, filepath.Join(dir, "feeds", "here.xml"))
	if err := os.Mkdir(filepath.Join(dir, "feeds", "adir"), 0o755); err != nil {
		t.Fatal(err)
	}
	src := "sources:\n  - {name: here, url: feeds/here.xml}\n  - {name: gone, url: feeds/gone.xml}\n" +
		"  - {name: abs, url: 'file://" + filepath.ToSlash(filepath.Join(dir, "nope.xml")) + "'}\n  - {name: dir, url: feeds/adir}\n"
	_, err := config.Parse(cfgPath, []byte(src))
	errs, ok := err.(*config.Errors)
	if !ok {
		t.Fatalf("Parse = %v, want problems", err)
	}
	want := []struct {
		line int
		msg  string
	}{{3, "`url` \"feeds/gone.xml\": no such file"}, {4, "nope.xml\": no such file"}, {5, "is a directory"}}
	if len(*errs) != len(want) {
		t.Fatalf("got %d problems, want %d:\n%v", len(*errs), len(want), errs)
	}
	for i, w := range want {
		if p := (*errs)[i]; p.Line != w.line || !strings.Contains(p.Msg, w.msg) {
			t.Errorf("problem %d = %d: %s, want line %d: %q", i, p.Line, p.Msg, w.line, w.msg)
		}
	}
	if !strings.Contains((*errs)[0].Hint, "read from the config file's directory, "+dir) {
		t.Errorf("hint %q does not say where relative paths are read from", (*errs)[0].Hint)
	}
}

// TestPublicURLFollowsListen: with no public_url, links name the address the
// daemon listens on (`--addr :8081` used to serve links to :8080); a
// public_url on localhost while listening for others is a warning.
func TestPublicURLFollowsListen(t *testing.T) {
	parse := func(src string) *config.Config {
		t.Helper()
		cfg, err := config.Parse("newsdesk.yaml", []byte(src))
		if err != nil {
			t.Fatal(err)
		}
		return cfg
	}
	cfg := parse(minimal + "listen: ':8081'\n")
	if cfg.Site.PublicURL != "http://localhost:8081" || !cfg.Site.FollowsListen || cfg.Site.TagAuthority != "localhost" {
		t.Errorf("site = %+v, want http://localhost:8081 following listen", cfg.Site)
	}
	for _, tt := range []struct{ bound, want string }{
		{"[::]:9090", "http://localhost:9090"},
		{"127.0.0.1:43211", "http://localhost:43211"},
		{"192.0.2.7:8080", "http://192.0.2.7:8080"},
		{"[2001:db8::1]:80", "http://[2001:db8::1]"},
	} {
		cfg.FollowListen(tt.bound)
		if cfg.Site.PublicURL != tt.want {
			t.Errorf("FollowListen(%s): PublicURL = %s, want %s", tt.bound, cfg.Site.PublicURL, tt.want)
		}
	}
	if w := cfg.Warnings(); len(w) != 0 {
		t.Errorf("warnings for a public URL that follows listen: %v", w)
	}

	set := parse("site: {public_url: 'https://news.example.org'}\n" + minimal)
	set.FollowListen("[::]:9090")
	if set.Site.PublicURL != "https://news.example.org" || set.Site.TagAuthority != "news.example.org" || len(set.Warnings()) != 0 {
		t.Errorf("an explicit public_url moved or warned: %+v %v", set.Site, set.Warnings())
	}

	for _, tt := range []struct{ name, listen, warn string }{
		{"localhost while listening on every interface", ":8080", "is this machine only"},
		{"localhost on another port", "127.0.0.1:8081", "says port 8080"},
		{"localhost on the listen port", "127.0.0.1:8080", ""},
		{"localhost and a chosen port", "127.0.0.1:0", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg := parse("site:\n  public_url: http://localhost:8080\n" + minimal + "listen: '" + tt.listen + "'\n")
			w := cfg.Warnings()
			if tt.warn == "" {
				if len(w) != 0 {
					t.Errorf("warnings %v, want none", w)
				}
				return
			}
			if len(w) != 1 || !strings.Contains(w[0].Msg, tt.warn) || w[0].Line != 2 || w[0].Col != 15 || !strings.HasPrefix(w[0].String(), "newsdesk.yaml:2:15: warning: ") {
				t.Errorf("warnings %v, want one at 2:15 containing %q", w, tt.warn)
			}
		})
	}
}

func TestPerClientConnections(t *testing.T) {
	cfg, err := config.Parse("newsdesk.yaml", []byte(minimal+"limits: {per_client_connections: 0}\n"))
	if err != nil || cfg.Limits.PerClientConnections != 0 {
		t.Errorf("per_client_connections: 0 = %v, %v; want 0 (no limit)", cfg, err)
	}
	if cfg, _ := config.Parse("newsdesk.yaml", []byte(minimal)); cfg.Limits.PerClientConnections != 256 {
		t.Errorf("default per_client_connections = %d, want 256", cfg.Limits.PerClientConnections)
	}
	problems(t, minimal+"limits: {per_client_connections: -1}\n")
}

// TestEncodings: a UTF-8 byte order mark (Windows editors write one; YAML
// allows it) is read past, and a file that is not UTF-8 text is refused
// for what it is, at the first byte that shows it, instead of as a puzzling
// key or value.
func TestEncodings(t *testing.T) {
	const bom = "\xef\xbb\xbf"
	for _, src := range []string{bom + minimal, bom + "# a comment first\n" + minimal} {
		if _, err := config.Parse("newsdesk.yaml", []byte(src)); err != nil {
			t.Errorf("a config with a UTF-8 byte order mark: %v", err)
		}
	}
	// A problem on the first line is placed as an editor counts columns,
	// which do not include the mark.
	errs := problems(t, bom+"listen: [1]\n"+minimal)
	if len(errs) != 1 || errs[0].Line != 1 || errs[0].Col != 9 || strings.ContainsRune(errs[0].Snippet, '\ufeff') {
		t.Errorf("a problem after the mark: %+v, want line 1 col 9, a snippet without the mark", errs)
	}

	utf16 := func(s string, big bool) string {
		var b strings.Builder
		for _, r := range s {
			if big {
				b.WriteByte(0)
				b.WriteByte(byte(r))
			} else {
				b.WriteByte(byte(r))
				b.WriteByte(0)
			}
		}
		return b.String()
	}
	for _, tt := range []struct {
		name, src string
		line, col int
		msg       string
	}{
		{"UTF-16 LE with its mark", "\xff\xfe" + utf16(minimal, false), 1, 1, "UTF-16"},
		{"UTF-16 BE with its mark", "\xfe\xff" + utf16(minimal, true), 1, 1, "UTF-16"},
		{"UTF-32 LE with its mark", "\xff\xfe\x00\x00" + utf16(minimal, false), 1, 1, "UTF-32"},
		{"UTF-16 without a mark", utf16(minimal, false), 1, 2, "NUL byte"},
		{"a NUL byte", minimal + "site: {title: a\x00b}\n", 3, 16, "NUL byte"},
		{"Latin-1", minimal + "site: {title: Caf\xe9 du Port}\n", 3, 18, "not UTF-8"},
		{"a cut UTF-8 sequence", minimal + "site: {title: \"Z\xc3\"}\n", 3, 17, "not UTF-8"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			errs := problems(t, tt.src)
			if len(errs) != 1 || errs[0].Line != tt.line || errs[0].Col != tt.col ||
				!strings.Contains(errs[0].Msg, tt.msg) || !strings.Contains(errs[0].Hint, "UTF-8") {
				t.Errorf("got %v, want one problem at %d:%d about %q with a hint to save as UTF-8", &errs, tt.line, tt.col, tt.msg)
			}
			if strings.ContainsFunc(errs[0].Snippet, func(r rune) bool { return r == 0 }) {
				t.Errorf("the snippet prints a NUL: %q", errs[0].Snippet)
			}
		})
	}
	// An escape sequence in a bad line is shown, not sent to the terminal.
	errs = problems(t, minimal+"listen: [\x1b[2J\x1b]0;pwned\x07]\n")
	if len(errs) == 0 || strings.ContainsAny(errs[0].Snippet, "\x1b\x07") || !strings.Contains(errs[0].Snippet, "␛[2J") {
		t.Errorf("escape sequences reach the snippet: %q", errs)
	}
}
