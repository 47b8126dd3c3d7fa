package config_test

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/newsdesk/newsdesk/internal/config"
	"github.com/newsdesk/newsdesk/internal/story"
)

const subscriptions = `<?xml version="1.0" encoding="UTF-8"?>
<opml version="2.0">
  <head><title>Newsroom subscriptions</title></head>
  <body>
    <outline text="World">
      <outline type="rss" text="BBC News" title="BBC News — World" xmlUrl="https://feeds.example.org/bbc/world.xml"/>
      <outline text="Europe">
        <outline type="rss" text="Le Monde: International" xmlUrl="https://lemonde.example.fr/international/rss.xml"/>
      </outline>
    </outline>
    <outline type="rss" text="Wire" xmlUrl="https://wire.example.com/a.xml"/>
    <outline type="rss" text="Wire" xmlUrl="https://wire.example.com/b.xml"/>
    <outline type="rss" text="" xmlUrl="https://www.untitled.example.net/feed"/>
  </body>
</opml>
`

// opmlConfig writes a config with the given YAML sources and sources_from
// list, and the OPML files named in opmls, into a new directory.
func opmlConfig(t *testing.T, sources, from string, opmls map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, doc := range opmls {
		p := filepath.Join(dir, filepath.FromSlash(name))
		os.MkdirAll(filepath.Dir(p), 0o755)
		writeFile(t, p, doc)
	}
	cfg := "site: {public_url: http://news.test}\n"
	if sources != "" {
		cfg += "sources:\n" + sources
	}
	if from != "" {
		cfg += "sources_from: " + from + "\n"
	}
	cfg += "topics:\n  - {slug: world, title: World, sources: [bbc-news-world, wire-2], rule: {any: [world]}}\n"
	path := filepath.Join(dir, "newsdesk.yaml")
	writeFile(t, path, cfg)
	return path
}

// TestSourcesFromOPML: the feeds of an OPML file join the YAML sources,
// named after their outlines by the slug rule, unique, folders read to any
// depth; topics may name them.
func TestSourcesFromOPML(t *testing.T) {
	path := opmlConfig(t, "  - {name: desk, url: \"https://desk.example/feed\"}\n", "[lists/subscriptions.opml]",
		map[string]string{"lists/subscriptions.opml": subscriptions})
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	want := []story.Source{
		{Name: "desk", Title: "desk", URL: "https://desk.example/feed"},
		{Name: "bbc-news-world", Title: "BBC News — World", URL: "https://feeds.example.org/bbc/world.xml"},
		{Name: "le-monde-international", Title: "Le Monde: International", URL: "https://lemonde.example.fr/international/rss.xml"},
		{Name: "wire", Title: "Wire", URL: "https://wire.example.com/a.xml"},
		{Name: "wire-2", Title: "Wire", URL: "https://wire.example.com/b.xml"},
		{Name: "untitled-example-net", Title: "", URL: "https://www.untitled.example.net/feed"},
	}
	if !slices.Equal(cfg.Sources, want) {
		t.Errorf("sources =\n%+v\nwant\n%+v", cfg.Sources, want)
	}
	if !slices.Equal(cfg.SourcesFrom, []string{filepath.Join(filepath.Dir(path), "lists", "subscriptions.opml")}) {
		t.Errorf("SourcesFrom = %q", cfg.SourcesFrom)
	}
	// The fingerprint covers the OPML: an edit of it alone names a new version.
	before := cfg.Fingerprint
	writeFile(t, filepath.Join(filepath.Dir(path), "lists", "subscriptions.opml"), strings.Replace(subscriptions, "a.xml", "c.xml", 1))
	if cfg, err = config.Load(path); err != nil || cfg.Fingerprint == before {
		t.Errorf("after an OPML edit: %v, fingerprint %s (was %s)", err, cfg.Fingerprint, before)
	}
	// Without OPML the fingerprint is the file's hash, as before.
	yamlOnly := opmlConfig(t, "  - {name: bbc-news-world, url: \"https://a.example/\"}\n  - {name: wire-2, url: \"https://b.example/\"}\n", "", nil)
	if cfg, err = config.Load(yamlOnly); err != nil || len(cfg.Fingerprint) != 16 || cfg.SourcesFrom != nil {
		t.Errorf("YAML only: %v %+v", err, cfg)
	}
}

// TestSourcesFromOPMLOnly: a config may take all its sources from OPML.
func TestSourcesFromOPMLOnly(t *testing.T) {
	path := opmlConfig(t, "", "[subscriptions.opml]", map[string]string{"subscriptions.opml": subscriptions})
	if cfg, err := config.Load(path); err != nil || len(cfg.Sources) != 5 {
		t.Fatalf("%v, %d sources", err, len(cfg.Sources))
	}
	path = opmlConfig(t, "", "[none.opml]", map[string]string{"none.opml": `<opml version="2.0"><head/><body/></opml>`})
	if _, err := config.Load(path); err == nil || !strings.Contains(err.Error(), "no `sources` are configured") {
		t.Errorf("an OPML with no feeds and no YAML sources: %v", err)
	}
}

// TestSourcesFromOPMLRefused: every mistake in an OPML file is reported at
// its file:line:col with a snippet, beside the config's own, and names the
// other place where it clashes.
func TestSourcesFromOPMLRefused(t *testing.T) {
	opmlDoc := func(outlines ...string) string {
		return "<?xml version=\"1.0\"?>\n<opml version=\"2.0\">\n<body>\n" + strings.Join(outlines, "\n") + "\n</body>\n</opml>\n"
	}
	tests := []struct {
		name, sources, from string
		opml                string
		want                []string // each a substring of one line of the error
		whole               bool     // the OPML is refused whole: the topic's names from it are not "unknown"
	}{
		{"malformed XML", "", "[s.opml]", "<opml>\n<body>\n<outline text='a'>\n</body></opml>",
			[]string{"s.opml:4:", "not an OPML file: element <outline> closed by </body>", ">   4 | </body></opml>"}, true},
		{"not OPML", "", "[s.opml]", "<?xml version='1.0'?>\n<rss version='2.0'/>",
			[]string{"s.opml:2:1: not an OPML file: the document is <rss>, not an OPML list"}, true},
		{"no xmlUrl", "", "[s.opml]", opmlDoc(`<outline type="rss" text="Feed without address"/>`),
			[]string{`s.opml:4:1: outline "Feed without address" has no xmlUrl`, `>   4 | <outline type="rss"`}, false},
		{"not http", "", "[s.opml]", opmlDoc(`  <outline text="Local" xmlUrl="file:///etc/passwd"/>`, `<outline text="Relative" xmlUrl="/feed.xml"/>`),
			[]string{`s.opml:4:3: outline "Local": xmlUrl "file:///etc/passwd" is not an http(s) URL`, `s.opml:5:1: outline "Relative": xmlUrl "/feed.xml" is not an http(s) URL`}, false},
		{"duplicate feed", "", "[s.opml]", opmlDoc(`<outline text="A" xmlUrl="https://x.example/feed"/>`, `<outline text="B" xmlUrl="https://X.EXAMPLE/feed"/>`),
			[]string{"s.opml:5:1: feed https://X.EXAMPLE/feed is listed twice: ", "s.opml:4 has it too"}, false},
		{"feed in YAML too", "  - {name: mine, url: \"https://x.example/feed\"}\n", "[s.opml]", opmlDoc(`<outline text="Theirs" xmlUrl="https://x.example/feed"/>`),
			[]string{"s.opml:4:1: feed https://x.example/feed is listed twice: sources[0] (", "newsdesk.yaml:3) has it too"}, false},
		{"name clash with YAML", "  - {name: wire, url: \"https://mine.example/\"}\n", "[s.opml]", opmlDoc(`<outline text="Wire" xmlUrl="https://wire.example/feed"/>`),
			[]string{`s.opml:4:1: outline "Wire" is named "wire", which sources[0] (`, `newsdesk.yaml:3) already uses`}, false},
		{"include", "", "[s.opml]", opmlDoc(`<outline type="include" text="More" url="https://x.example/more.opml"/>`),
			[]string{`outline "More" includes another OPML file`}, false},
		{"missing file", "  - {name: mine, url: \"https://mine.example/\"}\n", "[s.opml, gone.opml]", opmlDoc(`<outline text="A" xmlUrl="https://a.example/"/>`),
			[]string{"newsdesk.yaml:4:", "`sources_from` \"gone.opml\": no such file"}, true},
		{"not a list", "", "s.opml", opmlDoc(),
			[]string{"newsdesk.yaml:", "`sources_from` expects a list"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := opmlConfig(t, tt.sources, tt.from, map[string]string{"s.opml": tt.opml})
			_, err := config.Load(path)
			probs, ok := errors.AsType[*config.Errors](err)
			if !ok {
				t.Fatalf("Load = %v, want *config.Errors", err)
			}
			msg := err.Error()
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("errors lack %q:\n%s", w, msg)
				}
			}
			if tt.whole && strings.Contains(msg, "unknown source") {
				t.Errorf("a refused OPML file makes its feeds unknown sources:\n%s", msg)
			}
			for _, p := range *probs {
				if p.File == "" || (p.Line > 0 && p.Snippet == "") {
					t.Errorf("problem without a place: %+v", p)
				}
			}
		})
	}
	// The config's problems come first, then the OPML file's.
	path := opmlConfig(t, "  - {name: Bad Name, url: \"https://mine.example/\"}\n", "[s.opml]", map[string]string{"s.opml": opmlDoc(`<outline text="A"/>`)})
	_, err := config.Load(path)
	msg := err.Error()
	if i, j := strings.Index(msg, "newsdesk.yaml:3"), strings.Index(msg, "s.opml:4"); i < 0 || j < i {
		t.Errorf("problems out of order:\n%s", msg)
	}
}

// TestImportOPML: `newsdesk sources import` prints the sources sources_from
// would give, as YAML that loads to the same sources, folders as comments.
func TestImportOPML(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "subscriptions.opml")
	writeFile(t, file, subscriptions)
	out, err := config.ImportOPML(file)
	if err != nil {
		t.Fatal(err)
	}
	yaml := string(out)
	for _, want := range []string{"sources:\n", "  # World\n", "  # World / Europe\n", `  - name: "bbc-news-world"` + "\n" + `    title: "BBC News — World"` + "\n" + `    url: "https://feeds.example.org/bbc/world.xml"` + "\n"} {
		if !strings.Contains(yaml, want) {
			t.Errorf("import lacks %q:\n%s", want, yaml)
		}
	}
	fromOPML, err := config.Load(opmlConfig(t, "", "[s.opml]", map[string]string{"s.opml": subscriptions}))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "newsdesk.yaml")
	writeFile(t, path, "site: {public_url: http://news.test}\n"+yaml+"topics:\n  - {slug: world, title: World, sources: [bbc-news-world, wire-2], rule: {any: [world]}}\n")
	fromYAML, err := config.Load(path)
	if err != nil {
		t.Fatalf("the imported YAML does not load: %v\n%s", err, yaml)
	}
	// A YAML source without a title is titled by its name.
	for i := range fromOPML.Sources {
		if fromOPML.Sources[i].Title == "" {
			fromOPML.Sources[i].Title = fromOPML.Sources[i].Name
		}
	}
	if !slices.Equal(fromYAML.Sources, fromOPML.Sources) {
		t.Errorf("imported:\n%+v\nsources_from:\n%+v", fromYAML.Sources, fromOPML.Sources)
	}
	// Refusals are those of sources_from, at the file as named.
	bad := filepath.Join(dir, "bad.opml")
	writeFile(t, bad, "<opml><body>\n<outline text='x'/>\n</body></opml>")
	if _, err := config.ImportOPML(bad); err == nil || !strings.HasPrefix(err.Error(), bad+`:2:1: outline "x" has no xmlUrl`) {
		t.Errorf("import of a bad file: %v", err)
	}
	if _, err := config.ImportOPML(filepath.Join(dir, "none.opml")); err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Errorf("import of a missing file: %v", err)
	}
}
