package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/newsdesk/newsdesk/internal/store"
	"github.com/newsdesk/newsdesk/internal/store/bolt"
	"github.com/newsdesk/newsdesk/internal/story"
)

// reclassifyTopics is how many topics the re-classification files stories
// into, as in internal/ingest's BenchmarkReclassify.
const reclassifyTopics = 50

// underReclassify measures readers polling cached feeds while a topic edit
// re-files every one of o.stories stored stories, against the same readers
// before the edit and after it. The store is written directly (a first
// fetch of a million stories would take as long as the rest together), then
// served by the daemon.
func underReclassify(ctx context.Context, o options, stdout io.Writer) error {
	return repeatLoad(o, stdout, "re-classification", func() (*loadResult, error) {
		r, err := measureReclassify(ctx, o)
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(stdout, "\n%d keep-alive readers, %g polls/s each (gzip, If-None-Match) on %d cached feeds; re-classifying %d stories into %d topics took %v\n\n",
			o.readers, o.rate, r.feeds, o.stories, reclassifyTopics, r.took.Round(100*time.Millisecond))
		printPhases(stdout, r.phases(), map[string]string{"idle": "idle, both", "idle before": "idle before",
			"reclassify": "re-classification", "idle after": "idle after"})
		return r, nil
	})
}

func measureReclassify(ctx context.Context, o options) (*loadResult, error) {
	env, err := newEnv(o)
	if err != nil {
		return nil, err
	}
	defer env.close()
	bin, denv, err := env.daemonBinary(ctx, o)
	if err != nil {
		return nil, err
	}
	corpus, err := newCorpus(env.root)
	if err != nil {
		return nil, err
	}
	dbPath := filepath.Join(env.dir, "data", "newsdesk.db")
	logf(o, "storing %d stories", o.stories)
	start := time.Now()
	if err := seedStore(ctx, dbPath, corpus, o.stories); err != nil {
		return nil, err
	}
	logf(o, "stored in %v", time.Since(start).Round(time.Second))

	// One local source keeps the config valid; it adds nothing the topics take.
	if err := os.MkdirAll(filepath.Join(env.dir, "up"), 0o755); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(env.dir, "up", "quiet.xml"), corpus.rss(feedSpec{name: "quiet", items: 1, itemBytes: 100}), 0o644); err != nil {
		return nil, err
	}
	cfg := filepath.Join(env.dir, "newsdesk.yaml")
	sources := []source{{"quiet", "up/quiet.xml"}}
	if err := os.WriteFile(cfg, []byte(reclassifyConfig(sources, 0, o.daemonConfig())), 0o644); err != nil {
		return nil, err
	}
	logf(o, "starting newsdesk: it serves at once and files the stored stories under the config's topics in the background")
	start = time.Now()
	d, err := startDaemon(ctx, bin, cfg, dbPath, filepath.Join(env.dir, "newsdesk.log"), denv...)
	if err != nil {
		return nil, err
	}
	defer d.stop()
	logf(o, "serving after %v", time.Since(start).Round(time.Second))
	// seedStore records no topics fingerprint, so the daemon always files
	// the stories at start-up: the idle figures begin once it is done.
	if _, err := d.logs.wait(ctx, regexp.MustCompile(`msg=reclassified`), 2*time.Hour, d.exited); err != nil {
		return nil, fmt.Errorf("the start-up re-classification did not end: %w", err)
	}
	logf(o, "filed after %v", time.Since(start).Round(time.Second))
	var topics []benchTopic
	for i := range benchTopics {
		topics = append(topics, benchTopic{slug: "t" + strconv.Itoa(i)})
	}
	paths, err := warmFeeds(ctx, d, topics, o.items)
	if err != nil {
		return nil, err
	}

	readers, err := startReaders(d.base, paths, o.readers, o.rate)
	if err != nil {
		return nil, err
	}
	readers.admin = d.admin
	logf(o, "%d readers polling %d feeds %g times a second each; idle for %v", o.readers, len(paths), o.rate, o.idle)
	// Connections made and every feed read once (a 200) before the figures start.
	if err := sleep(ctx, 2*time.Second); err != nil {
		return nil, err
	}
	readers.phase("idle before")
	if err := sleep(ctx, o.idle); err != nil {
		return nil, err
	}
	reloaded := regexp.MustCompile(`msg="config reloaded"`)
	before := d.logs.count(reloaded)
	readers.phase("reclassify")
	start = time.Now()
	logf(o, "editing every topic's rule: the daemon re-files the %d stories", o.stories)
	tmp := cfg + ".tmp"
	if err := os.WriteFile(tmp, []byte(reclassifyConfig(sources, 1, o.daemonConfig())), 0o644); err != nil {
		return nil, err
	}
	if err := os.Rename(tmp, cfg); err != nil {
		return nil, err
	}
	profiled := profileLoad(ctx, o, d, "reclassify")
	for d.logs.count(reloaded) == before {
		if err := sleep(ctx, 100*time.Millisecond); err != nil {
			return nil, err
		}
		if time.Since(start) > 2*time.Hour {
			return nil, fmt.Errorf("the re-classification did not finish within two hours")
		}
	}
	took := time.Since(start)
	if err := idleAfter(ctx, o, readers); err != nil {
		return nil, err
	}
	if err := <-profiled; err != nil {
		return nil, err
	}
	phases, err := readers.stop()
	if err != nil {
		return nil, err
	}
	logf(o, "the daemon's render-cache misses by phase: %s", readers.missesByPhase())
	return newLoadResult(phases, "reclassify", len(paths), took, 0)
}

// reclassifyConfig is a config of 50 topics, each taking a few percent of
// the stored stories by the zetaN words their text carries; edit shifts
// every rule, so that each value is a real edit of every topic. extra is
// the fetch and http settings (daemonConfig).
func reclassifyConfig(sources []source, edit int, extra string) string {
	var b strings.Builder
	b.WriteString("site: {title: servebench, public_url: \"http://127.0.0.1:8080\"}\nlisten: \"127.0.0.1:0\"\nrefresh: \"@every 1h\"\nlog_level: debug\n")
	b.WriteString("limits: {per_client_connections: 0}\n") // the readers all come from 127.0.0.1
	b.WriteString(extra)
	b.WriteString("sources:\n")
	for _, s := range sources {
		fmt.Fprintf(&b, "  - {name: %s, url: %q}\n", s.name, s.url)
	}
	b.WriteString("topics:\n")
	for i := range reclassifyTopics {
		tag := func(k int) string { return fmt.Sprintf("zeta%d", (i+k*50+edit)%200) }
		fmt.Fprintf(&b, "  - {slug: t%d, title: Topic %d, rule: {any: [%s, {all: [%s, {not: %s}]}, {term: %s, in: [title]}]}}\n",
			i, i, tag(0), tag(1), tag(2), tag(3))
	}
	return b.String()
}

// seedStore writes n stories of about 1 KB of text straight into a bbolt
// store, each carrying two zetaN words the topics' rules look for.
func seedStore(ctx context.Context, path string, c *corpus, n int) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	db, err := bolt.Open(path, bolt.Options{NoSync: true})
	if err != nil {
		return err
	}
	now := time.Now().UTC()
	for lo := 0; lo < n; lo += 5000 {
		batch := make([]story.Story, 0, 5000)
		for i := lo; i < min(lo+5000, n); i++ {
			text := fmt.Sprintf("%s zeta%d %s zeta%d", c.text(80), (i*7)%200, c.text(80), (i*13)%200)
			batch = append(batch, story.Story{ID: story.NewID("seed", strconv.Itoa(i)), Source: "seed", SourceTitle: "Seed",
				Title: fmt.Sprintf("%s zeta%d", c.text(8), (i*11)%200), Link: fmt.Sprintf("https://seed.example.com/%d", i),
				Summary: "<p>" + c.text(25) + "</p>", Content: "<p>" + text + "</p>", ContentText: text,
				Published: now.Add(-time.Duration(i) * time.Minute)})
		}
		for i := range batch {
			batch[i].SummaryText = strings.TrimSuffix(strings.TrimPrefix(batch[i].Summary, "<p>"), "</p>")
		}
		if _, err := db.Put(ctx, "seed", store.SourceState{}, batch, now); err != nil {
			db.Close()
			return err
		}
	}
	return db.Close()
}
