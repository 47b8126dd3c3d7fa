package config_test

import (
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/newsdesk/newsdesk/internal/config"
	"github.com/newsdesk/newsdesk/internal/topic"
)

// FuzzConfigFromOPML: any bytes as the OPML file of sources_from give a
// config or *Errors, never a panic. A config's OPML sources have valid,
// unique names and http(s) URLs, and `sources import` of the same bytes
// prints YAML that loads to the same sources; a refusal points into a file
// with a snippet, and import refuses the file too.
func FuzzConfigFromOPML(f *testing.F) {
	f.Add([]byte(subscriptions))
	f.Add([]byte(`<opml><body><outline text="A" xmlUrl="https://a.example/"/><outline text="A" xmlUrl="https://b.example/"/></body></opml>`))
	f.Add([]byte(`<opml><body><outline text="true" xmlUrl="http://x.example/?a=&quot;b&quot;"/><outline text="123" xmlUrl="https://y.example/#f"/></body></opml>`))
	f.Add([]byte("<opml><body><outline text='\n  \t'>\n<outline title='Ünïcödé — “quotes”' xmlUrl='HTTPS://Z.example'/></outline></body></opml>"))
	f.Add([]byte(`<opml><body><outline xmlUrl="ftp://x/"/></body></opml>`))
	f.Fuzz(func(t *testing.T, doc []byte) {
		dir := t.TempDir()
		opmlPath := filepath.Join(dir, "s.opml")
		if err := os.WriteFile(opmlPath, doc, 0o644); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, "newsdesk.yaml")
		if err := os.WriteFile(path, []byte("sources_from: [s.opml]\ntopics: []\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		cfg, err := config.Load(path)
		imported, importErr := config.ImportOPML(opmlPath)
		if err != nil {
			probs, ok := errors.AsType[*config.Errors](err)
			if !ok {
				t.Fatalf("Load = %T %v, want *config.Errors", err, err)
			}
			for _, p := range *probs {
				if p.File == "" || p.Msg == "" || (p.Line > 0 && p.Snippet == "") {
					t.Fatalf("a problem without a place: %+v", p)
				}
			}
			if importErr == nil {
				t.Fatalf("sources_from refuses the file (%v) but import prints:\n%s", err, imported)
			}
			return
		}
		seen := map[string]bool{}
		for _, s := range cfg.Sources {
			u, perr := url.Parse(s.URL)
			if !topic.ValidSlug(s.Name) || seen[s.Name] || perr != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				t.Fatalf("source %+v from an accepted OPML", s)
			}
			seen[s.Name] = true
		}
		if importErr != nil {
			t.Fatalf("sources_from takes the file but import refuses it: %v", importErr)
		}
		yamlPath := filepath.Join(dir, "imported.yaml")
		if err := os.WriteFile(yamlPath, append(imported, []byte("topics: []\n")...), 0o644); err != nil {
			t.Fatal(err)
		}
		again, err := config.Load(yamlPath)
		if err != nil {
			t.Fatalf("the imported YAML does not load: %v\n%s", err, imported)
		}
		for i := range cfg.Sources {
			if cfg.Sources[i].Title == "" {
				cfg.Sources[i].Title = cfg.Sources[i].Name // a YAML source without a title is titled by its name
			}
		}
		if !slices.Equal(again.Sources, cfg.Sources) {
			t.Fatalf("imported sources\n%+v\nwant\n%+v\n%s", again.Sources, cfg.Sources, imported)
		}
	})
}
