package config_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/newsdesk/newsdesk/internal/config"
)

// wait is generous: a loaded CI machine may be slow, and a passing run never waits it out.
const wait = 10 * time.Second

type watcher struct {
	applied chan *config.Config
	refused chan error
	done    chan error
}

// startWatch runs Watch on path and returns once its watch is in place.
func startWatch(t *testing.T, path string) *watcher {
	t.Helper()
	w := &watcher{applied: make(chan *config.Config, 10), refused: make(chan error, 10), done: make(chan error, 1)}
	ready := make(chan struct{})
	t.Cleanup(config.SetWatchingHook(func() { close(ready) }))
	go func() {
		w.done <- config.Watch(t.Context(), path, "",
			func(c *config.Config) { w.applied <- c },
			func(err error) { w.refused <- err })
	}()
	select {
	case <-ready:
	case err := <-w.done:
		t.Fatalf("Watch returned before watching: %v", err)
	case <-time.After(wait):
		t.Fatal("Watch did not start")
	}
	return w
}

func (w *watcher) nextApplied(t *testing.T) *config.Config {
	t.Helper()
	select {
	case c := <-w.applied:
		return c
	case err := <-w.refused:
		t.Fatalf("config refused, want applied: %v", err)
	case <-time.After(wait):
		t.Fatal("no reload within the timeout")
	}
	return nil
}

func (w *watcher) nextRefused(t *testing.T) error {
	t.Helper()
	select {
	case c := <-w.applied:
		t.Fatalf("config applied (listen %s), want refused", c.Listen)
	case err := <-w.refused:
		return err
	case <-time.After(wait):
		t.Fatal("no refusal within the timeout")
	}
	return nil
}

func writeFile(t *testing.T, path, src string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
}

// saveByRename saves the way vim, VS Code and most editors do.
func saveByRename(t *testing.T, path, src string) {
	t.Helper()
	tmp := filepath.Join(filepath.Dir(path), ".newsdesk.yaml.swp")
	writeFile(t, tmp, src)
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

func TestWatch(t *testing.T) {
	path := filepath.Join(t.TempDir(), "newsdesk.yaml")
	writeFile(t, path, minimal+"listen: ':8081'\n")
	w := startWatch(t, path)

	// A valid in-place edit is applied.
	writeFile(t, path, minimal+"listen: ':8082'\n")
	if c := w.nextApplied(t); c.Listen != ":8082" {
		t.Errorf("applied listen %q, want :8082", c.Listen)
	}

	// An invalid edit is refused with its message; the caller keeps the old config.
	writeFile(t, path, minimal+"listen: ':8083'\nrefresh: 'every so often'\n")
	err := w.nextRefused(t)
	if !strings.Contains(err.Error(), "newsdesk.yaml:4:10: `refresh` \"every so often\" is not a valid schedule") {
		t.Errorf("refused with %q, want the refresh problem at 4:10", err)
	}

	// Saving by rename over the file is seen, and keeps being seen.
	saveByRename(t, path, minimal+"listen: ':8084'\n")
	if c := w.nextApplied(t); c.Listen != ":8084" {
		t.Errorf("applied listen %q, want :8084", c.Listen)
	}
	saveByRename(t, path, minimal+"listen: ':8085'\n")
	if c := w.nextApplied(t); c.Listen != ":8085" {
		t.Errorf("applied listen %q after a second rename, want :8085", c.Listen)
	}

	// Other files in the directory are ignored, and rewriting the same content is
	// no change: the next thing seen is the edit after them.
	writeFile(t, filepath.Join(filepath.Dir(path), "notes.txt"), "hello")
	writeFile(t, path, minimal+"listen: ':8085'\n")
	writeFile(t, path, minimal+"listen: ':8086'\n")
	if c := w.nextApplied(t); c.Listen != ":8086" {
		t.Errorf("applied listen %q, want :8086 (same content or other files reloaded?)", c.Listen)
	}
}

// TestWatchSeesAnEditBeforeItStarted: an edit saved after the caller loaded
// the config but before the watch was in place (a daemon's start-up) is
// applied once watching starts, not lost until the next edit.
func TestWatchSeesAnEditBeforeItStarted(t *testing.T) {
	path := filepath.Join(t.TempDir(), "newsdesk.yaml")
	writeFile(t, path, minimal+"listen: ':8081'\n")
	loaded, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, path, minimal+"listen: ':8082'\n")
	w := &watcher{applied: make(chan *config.Config, 10), refused: make(chan error, 10), done: make(chan error, 1)}
	go func() {
		w.done <- config.Watch(t.Context(), path, loaded.Fingerprint,
			func(c *config.Config) { w.applied <- c },
			func(err error) { w.refused <- err })
	}()
	if c := w.nextApplied(t); c.Listen != ":8082" {
		t.Errorf("applied listen %q, want :8082", c.Listen)
	}

	// Started on what it runs, a watch reloads nothing until an edit.
	same := &watcher{applied: make(chan *config.Config, 10), refused: make(chan error, 10), done: make(chan error, 1)}
	ready := make(chan struct{})
	t.Cleanup(config.SetWatchingHook(func() { close(ready) }))
	current, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		same.done <- config.Watch(t.Context(), path, current.Fingerprint,
			func(c *config.Config) { same.applied <- c },
			func(err error) { same.refused <- err })
	}()
	<-ready
	writeFile(t, path, minimal+"listen: ':8083'\n")
	if c := same.nextApplied(t); c.Listen != ":8083" {
		t.Errorf("first reload applied listen %q, want the edit's :8083", c.Listen)
	}
}

func TestWatchStopsWithContext(t *testing.T) {
	path := filepath.Join(t.TempDir(), "newsdesk.yaml")
	writeFile(t, path, minimal)
	w := &watcher{done: make(chan error, 1)}
	ready := make(chan struct{})
	t.Cleanup(config.SetWatchingHook(func() { close(ready) }))
	ctx, cancel := context.WithCancel(t.Context())
	go func() { w.done <- config.Watch(ctx, path, "", func(*config.Config) {}, func(error) {}) }()
	<-ready
	cancel()
	select {
	case err := <-w.done:
		if err != nil {
			t.Errorf("Watch = %v, want nil after cancel", err)
		}
	case <-time.After(wait):
		t.Fatal("Watch did not return after its context ended")
	}
}

func TestWatchMissingDirectory(t *testing.T) {
	err := config.Watch(t.Context(), filepath.Join(t.TempDir(), "absent", "newsdesk.yaml"), "", func(*config.Config) {}, func(error) {})
	if err == nil {
		t.Error("Watch on a missing directory returned nil")
	}
}

// TestWatchRefusesFailingExamples: an edit whose topic examples fail is
// refused like any invalid config, so the last good one keeps serving.
func TestWatchRefusesFailingExamples(t *testing.T) {
	topics := func(examples string) string {
		return minimal + "topics:\n  - slug: immigration\n    title: Immigration\n    rule: {any: [asylum, deport*]}\n" +
			"    examples:\n" + examples
	}
	path := filepath.Join(t.TempDir(), "newsdesk.yaml")
	writeFile(t, path, topics("      match: [Asylum seekers wait]\n"))
	w := startWatch(t, path)

	writeFile(t, path, topics("      match: [Asylum seekers wait, Visa backlog grows]\n"))
	err := w.nextRefused(t)
	if !strings.Contains(err.Error(), `newsdesk.yaml:8:36: example "Visa backlog grows" should match immigration but does not`) {
		t.Errorf("refused with %q, want the failing example at 8:36", err)
	}
	writeFile(t, path, topics("      match: [Asylum seekers wait, Deportees land]\n      no_match: [Visa backlog grows]\n"))
	if c := w.nextApplied(t); len(c.Topics[0].Examples.NoMatch) != 1 {
		t.Errorf("applied examples %+v", c.Topics[0].Examples)
	}
}

// TestWatchOPML: an edit of an OPML file of sources_from reloads the config
// like an edit of the config; a bad one is refused at its file:line and the
// caller keeps its config; a file an edit adds to sources_from, in another
// directory, is watched from then on.
func TestWatchOPML(t *testing.T) {
	dir := t.TempDir()
	feeds := func(urls ...string) string {
		doc := "<opml version=\"2.0\">\n<body>\n"
		for _, u := range urls {
			doc += `<outline type="rss" text="` + u + `" xmlUrl="https://` + u + `/feed"/>` + "\n"
		}
		return doc + "</body>\n</opml>\n"
	}
	cfg := func(from string) string { return "sources_from: " + from + "\ntopics: []\n" }
	opmlPath := filepath.Join(dir, "subscriptions.opml")
	writeFile(t, opmlPath, feeds("a.example"))
	path := filepath.Join(dir, "newsdesk.yaml")
	writeFile(t, path, cfg("[subscriptions.opml]"))
	w := startWatch(t, path)

	writeFile(t, opmlPath, feeds("a.example", "b.example"))
	if c := w.nextApplied(t); len(c.Sources) != 2 || c.Sources[1].Name != "b-example" {
		t.Errorf("after adding a feed to the OPML: %+v", c.Sources)
	}
	writeFile(t, opmlPath, feeds("a.example")+"<outline")
	err := w.nextRefused(t)
	if !strings.Contains(err.Error(), "subscriptions.opml:6:") || !strings.Contains(err.Error(), "not an OPML file") {
		t.Errorf("a broken OPML refused with %q", err)
	}
	saveByRename(t, opmlPath, feeds("a.example", "c.example"))
	if c := w.nextApplied(t); len(c.Sources) != 2 || c.Sources[1].Name != "c-example" {
		t.Errorf("after fixing the OPML: %+v", c.Sources)
	}

	// A second list, in a directory of its own, named by an edit.
	os.Mkdir(filepath.Join(dir, "lists"), 0o755)
	more := filepath.Join(dir, "lists", "more.opml")
	writeFile(t, more, feeds("d.example"))
	writeFile(t, path, cfg("[subscriptions.opml, lists/more.opml]"))
	if c := w.nextApplied(t); len(c.Sources) != 3 {
		t.Errorf("after naming a second list: %+v", c.Sources)
	}
	writeFile(t, more, feeds("d.example", "e.example"))
	if c := w.nextApplied(t); len(c.Sources) != 4 {
		t.Errorf("after editing the second list: %+v", c.Sources)
	}
	// Other files beside the lists are not the config's business.
	writeFile(t, filepath.Join(dir, "lists", "notes.opml"), feeds("z.example"))
	writeFile(t, more, feeds("d.example"))
	if c := w.nextApplied(t); len(c.Sources) != 3 {
		t.Errorf("after the second list lost a feed: %+v", c.Sources)
	}
}
