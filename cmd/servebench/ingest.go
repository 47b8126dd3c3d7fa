package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"text/tabwriter"
	"time"
)

// benchTopics is how many topics the ingest and reclassify runs serve; the
// readers poll every format of each.
const benchTopics = 10

// fetchConfig lets the daemon fetch the loopback upstream and keeps every
// story the runs make.
const fetchConfig = `fetch: {allow_networks: [127.0.0.1/32], min_interval: 1s}
retention: {max_age: 36500d, max_stories: 10000000}
`

// daemonConfig is fetchConfig with httpConfig.
func (o options) daemonConfig() string { return fetchConfig + o.httpConfig() }

// httpConfig is the http section o asks for: http.reader_process, and
// http.render_cache when o sets it.
func (o options) httpConfig() string {
	cache := ""
	if o.renderCache != "" {
		cache = ", render_cache: " + o.renderCache
	}
	return fmt.Sprintf("http: {reader_process: %t%s}\n", o.readerProcess, cache)
}

// underIngest measures readers polling cached feeds while the daemon's first
// fetch of o.feeds × o.perFeed new upstream items runs, against the same
// readers with no ingest, before it and after it. The new items are newer
// than what the topics list, so the polled feeds change all through the
// fetch.
func underIngest(ctx context.Context, o options, stdout io.Writer) error {
	return repeatLoad(o, stdout, "first fetch", func() (*loadResult, error) {
		r, err := measureIngest(ctx, o)
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(stdout, "\n%d keep-alive readers, %g polls/s each (gzip, If-None-Match) on %d cached feeds; first fetch of %d × %d items took %v (%d sources failed)\n\n",
			o.readers, o.rate, r.feeds, o.feeds, o.perFeed, r.took.Round(100*time.Millisecond), r.failed)
		printPhases(stdout, r.phases(), map[string]string{"idle": "idle, both", "idle before": "idle before",
			"ingest": "first fetch", "idle after": "idle after"})
		return r, nil
	})
}

// repeatLoad runs a load measurement o.reps times, each on a new daemon,
// store and readers, and then prints a row a run and their medians: a
// single run's p99 moves by a third or more from run to run on a shared
// machine, the idle one as much as the loaded one. A run with wrong
// answers (errors, stale versions, failed sources) ends it.
func repeatLoad(o options, stdout io.Writer, load string, measure func() (*loadResult, error)) error {
	var runs []*loadResult
	for rep := range max(o.reps, 1) {
		if o.reps > 1 {
			logf(o, "run %d of %d", rep+1, o.reps)
		}
		r, err := measure()
		if err != nil {
			return err
		}
		if err := r.check(); err != nil {
			return err
		}
		runs = append(runs, r)
	}
	if len(runs) < 2 {
		return nil
	}
	fmt.Fprintf(stdout, "\n%d runs; p99 of the readers with no load (before and after it, pooled) and under the %s:\n\n", len(runs), load)
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "run\tidle p99\tbefore / after\t%s p99\tratio\tp99 of 304s\tp99 of 200s\trequests\ttook\n", load)
	var idle, busy, ratios, took []float64
	for i, r := range runs {
		ratio := float64(r.busy.P99) / float64(max(r.idle.P99, 1))
		idle, busy, ratios = append(idle, float64(r.idle.P99)), append(busy, float64(r.busy.P99)), append(ratios, ratio)
		took = append(took, r.took.Seconds())
		fmt.Fprintf(tw, "%d\t%s\t%s / %s\t%s\t%.2f\t%s\t%s\t%d\t%.1fs\n", i+1, ms(r.idle.P99), ms(r.before.P99), ms(r.after.P99),
			ms(r.busy.P99), ratio, msOr(r.busy.P99Unchanged), msOr(r.busy.P99Full), r.busy.Requests, r.took.Seconds())
	}
	mi, mb := medianOf(idle), medianOf(busy)
	fmt.Fprintf(tw, "median\t%s\t\t%s\t%.2f\t\t\t\t%.1fs\n", ms(time.Duration(mi)), ms(time.Duration(mb)), medianOf(ratios), medianOf(took))
	tw.Flush()
	fmt.Fprintf(stdout, "\nratio of the medians (%s p99 / idle p99): %.2f\n", load, mb/max(mi, 1))
	return nil
}

// loadResult is what readers saw idle and under a load (ingest or
// re-classification), and how long the load took. The idle figures are
// those of the readers before the load and after it, pooled: over a run
// the machine's own quiet drifts (other tenants, the hypervisor), so one
// idle phase on one side of the load can flatter or wrong the ratio.
type loadResult struct {
	idle          *phaseResult // before and after, pooled
	before, after *phaseResult
	busy          *phaseResult
	settling      *phaseResult // between the load and the idle after it: checked, not counted
	feeds         int          // feeds the readers polled
	took          time.Duration
	failed        int // sources whose first fetch failed
}

// newLoadResult reads the readers' phases "idle before", load and "idle
// after".
func newLoadResult(phases map[string]*phaseResult, load string, feeds int, took time.Duration, failed int) (*loadResult, error) {
	r := &loadResult{before: phases["idle before"], busy: phases[load], after: phases["idle after"], settling: phases["settling"],
		feeds: feeds, took: took, failed: failed}
	if r.before == nil || r.busy == nil || r.after == nil || r.settling == nil {
		return nil, fmt.Errorf("the readers reported no idle or %s phase", load)
	}
	r.idle = pooled("idle", r.before, r.after)
	return r, nil
}

// phases are the rows a run prints: the pooled idle one first, as the
// ratios' base.
func (r *loadResult) phases() []*phaseResult {
	return []*phaseResult{r.idle, r.before, r.busy, r.after}
}

// check fails a run whose readers got an error or a stale answer: those
// are wrong answers, not slow ones.
func (r *loadResult) check() error {
	for _, p := range []*phaseResult{r.before, r.busy, r.settling, r.after} {
		if p.Errors > 0 || p.Stale > 0 {
			return fmt.Errorf("%s: %d errors (first: %s), %d stale answers", p.Name, p.Errors, p.FirstErr, p.Stale)
		}
	}
	if r.failed > 0 {
		return fmt.Errorf("%d sources failed their first fetch", r.failed)
	}
	return nil
}

func measureIngest(ctx context.Context, o options) (*loadResult, error) {
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
	logf(o, "generating %d + %d upstream feeds of %d items", benchTopics, o.feeds, o.perFeed)
	docs := map[string][]byte{}
	var warm, fresh []source
	up, err := serveUpstream(docs)
	if err != nil {
		return nil, err
	}
	defer up.Close()
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range benchTopics {
		name := fmt.Sprintf("w%d", i)
		docs["/"+name+".xml"] = corpus.rss(feedSpec{name: name, items: o.items, itemBytes: o.itemBytes,
			categories: []string{fmt.Sprintf("cat%d", i)}, offset: 1000 * time.Hour})
		warm = append(warm, source{name, up.URL + "/" + name + ".xml"})
	}
	for i := range o.feeds {
		name := fmt.Sprintf("n%d", i)
		docs["/"+name+".xml"] = corpus.rss(feedSpec{name: name, items: o.perFeed, itemBytes: o.itemBytes,
			categories: []string{fmt.Sprintf("cat%d", i%benchTopics)}, offset: time.Duration(rng.IntN(200*60)) * time.Minute})
		fresh = append(fresh, source{name, up.URL + "/" + name + ".xml"})
	}
	var topics []benchTopic
	for i := range benchTopics {
		topics = append(topics, benchTopic{fmt.Sprintf("t%d", i), fmt.Sprintf("cat%d", i), o.items})
	}
	cfg := filepath.Join(env.dir, "newsdesk.yaml")
	if err := writeConfig(cfg, warm, topics, o.daemonConfig()); err != nil {
		return nil, err
	}
	d, err := startDaemon(ctx, bin, cfg, filepath.Join(env.dir, "data", "newsdesk.db"), filepath.Join(env.dir, "newsdesk.log"), denv...)
	if err != nil {
		return nil, err
	}
	defer d.stop()
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
	readers.phase("ingest")
	start := time.Now()
	logf(o, "adding %d sources: the daemon fetches each for the first time", o.feeds)
	if err := rewriteConfig(cfg, append(warm, fresh...), topics, o.daemonConfig()); err != nil {
		return nil, err
	}
	profiled := profileLoad(ctx, o, d, "ingest")
	done := regexp.MustCompile(`msg=("refresh failed"|refreshed) source=n\d+ `)
	for d.logs.count(done) < o.feeds {
		if err := sleep(ctx, 100*time.Millisecond); err != nil {
			return nil, err
		}
		if time.Since(start) > time.Hour {
			return nil, fmt.Errorf("the first fetch did not finish within an hour (%d of %d sources)", d.logs.count(done), o.feeds)
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
	failed := d.logs.count(regexp.MustCompile(`msg="refresh failed" source=n\d+ `))
	return newLoadResult(phases, "ingest", len(paths), took, failed)
}

// settle is how long after a load the readers' answers count in no figure
// (they are checked all the same): the renders of the load's last changes
// run, and the collector gives the runtime back its settings
// (background.Pace), before the idle figures after it begin.
const settle = 2 * time.Second

// idleAfter measures the readers for o.idle once a load has ended and
// settled, as the phase "idle after".
func idleAfter(ctx context.Context, o options, readers *readersProc) error {
	readers.phase("settling")
	if err := sleep(ctx, settle); err != nil {
		return err
	}
	logf(o, "idle again for %v", o.idle)
	readers.phase("idle after")
	if err := sleep(ctx, o.idle); err != nil {
		return err
	}
	readers.phase("end")
	return nil
}

// warmFeeds waits until every topic lists its items in every format, reads
// each once so it is cached, and returns the feeds' paths.
func warmFeeds(ctx context.Context, d *daemon, topics []benchTopic, items int) ([]string, error) {
	var paths []string
	for _, t := range topics {
		for _, ext := range []string{"rss", "atom", "json"} {
			p := "/topics/" + t.slug + "." + ext
			if err := waitFeed(ctx, d.base+p, items, 10*time.Minute); err != nil {
				return nil, err
			}
			paths = append(paths, p)
		}
	}
	return paths, nil
}

// printPhases prints the readers' figures, one phase a row, and the p99
// ratio of each later phase to the first.
func printPhases(w io.Writer, phases []*phaseResult, labels map[string]string) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "phase\trequests\terrors\tstale\tnew versions\tp50\tp99\tmax\tp99 / idle p99\tp99 of 304s\tp99 of 200s")
	for _, p := range phases {
		if p == nil {
			continue
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%v\t%v\t%v\t%.2f\t%v\t%v\n", labels[p.Name], p.Requests, p.Errors, p.Stale, p.Changed,
			ms(p.P50), ms(p.P99), ms(p.Max), float64(p.P99)/float64(max(phases[0].P99, 1)), ms(p.P99Unchanged), msOr(p.P99Full))
	}
	tw.Flush()
	for _, p := range phases {
		if p != nil && p.FirstErr != "" {
			fmt.Fprintf(w, "first error (%s): %s\n", labels[p.Name], p.FirstErr)
		}
	}
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2fms", float64(d)/1e6) }

// msOr is ms, or "-" for a figure of no answers (a phase with no 200s).
func msOr(d time.Duration) string {
	if d <= 0 {
		return "-"
	}
	return ms(d)
}

// serveUpstream serves docs by path on a loopback port, with the validators
// a real upstream sends.
func serveUpstream(docs map[string][]byte) (*upstream, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	modified := time.Now().UTC().Truncate(time.Second)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		doc, ok := docs[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/rss+xml")
		http.ServeContent(w, r, "", modified, strings.NewReader(string(doc)))
	})}
	go srv.Serve(ln)
	return &upstream{srv: srv, URL: "http://" + ln.Addr().String()}, nil
}

type upstream struct {
	srv *http.Server
	URL string
}

func (u *upstream) Close() { u.srv.Close() }

// rewriteConfig replaces the config file the way an editor saves it (write
// then rename), which the daemon's watcher turns into a reload.
func rewriteConfig(path string, sources []source, topics []benchTopic, extra string) error {
	tmp := path + ".tmp"
	if err := writeConfig(tmp, sources, topics, extra); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}
