//go:build unix

package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/newsdesk/newsdesk/internal/config"
	"github.com/newsdesk/newsdesk/internal/store"
	"github.com/newsdesk/newsdesk/internal/store/bolt"
	"github.com/newsdesk/newsdesk/internal/story"
	"github.com/newsdesk/newsdesk/internal/topic"
)

// TestCrashSafety builds newsdesk, serves a loopback upstream of 300 feeds
// with it, and SIGKILLs the real process at random moments: during the first
// ingest, during live and start-up re-classifications after topic edits,
// during retention pruning, and during `newsdesk compact`. After every kill,
// with the process dead, the file passes bbolt's own consistency check
// (Tx.Check), the store opens, no story served before the kill is missing,
// no story is listed twice, and every topic index agrees with the stories
// and with one whole topic set (the old or the new, never a mix). An
// uninterrupted run then holds every upstream story.
//
// NEWSDESK_CRASH_SEED replays one run's kill moments; the seed is logged.
func TestCrashSafety(t *testing.T) {
	if testing.Short() {
		t.Skip("builds newsdesk and kills it 30+ times: skipped with -short")
	}
	if raceEnabled {
		// The daemon under test is a normal build either way; the race
		// detector would only slow this driver, past the package's test
		// timeout on a busy machine. .ci/run runs it in a step of its own.
		t.Skip("run without -race: go test -run TestCrashSafety ./cmd/newsdesk")
	}
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("NEWSDESK_CRASH_SEED"); s != "" {
		fmt.Sscan(s, &seed)
	}
	t.Logf("seed %d (NEWSDESK_CRASH_SEED replays it)", seed)
	c := newCrashRun(t, seed)

	c.firstIngest(10)
	c.settle("after the first ingest") // every upstream story, uninterrupted
	if n := len(c.stored); n != crashFeeds*crashStories {
		t.Fatalf("the uninterrupted run holds %d stories, want all %d upstream", n, crashFeeds*crashStories)
	}
	c.reclassify(20 - c.phases[0].kills) // 30 kills or more in all, whatever the first ingest left
	c.terminate(4)
	c.prune(6)
	c.compact(6)
	pruned := crashFeeds*crashStories - len(c.stored)
	c.settle("at the end")
	// Every upstream story is stored, but those retention pruned: their
	// tombstones keep them out.
	if n := len(c.stored); n != crashFeeds*crashStories-pruned {
		t.Errorf("the last run holds %d stories, want the %d upstream less the %d pruned", n, crashFeeds*crashStories, pruned)
	}

	var total int
	for _, p := range c.phases {
		if p.term {
			t.Logf("%-28s %2d stops; stories before the first stop %4d, after the last %4d; the longest from SIGTERM to exit %v (%v)",
				p.name, p.kills, p.before, p.after, p.longest.Round(time.Millisecond), p.took.Round(time.Second))
			continue
		}
		total += p.kills
		t.Logf("%-28s %2d kills; stories before the first kill %4d, after the last %4d (%v)", p.name, p.kills, p.before, p.after, p.took.Round(time.Second))
	}
	t.Logf("%d kills in all", total)
	if total < 30 {
		t.Errorf("only %d kills landed inside a phase, want at least 30", total)
	}
}

const (
	crashFeeds   = 300
	crashStories = 20
)

// crashWords are the subjects of the upstream stories; each topic set
// files them differently.
var crashWords = []string{"harbour", "energy", "housing", "border", "election", "drought"}

// Topic sets A and B: B changes one topic, drops one and adds one.
const (
	topicsA = `topics:
  - {slug: harbour, title: Harbour, rule: {any: [harbour]}}
  - {slug: energy, title: Energy, rule: {any: [energy]}}
  - {slug: housing, title: Housing, rule: {any: [housing]}}
  - {slug: border, title: Border, rule: {any: [border]}}
  - {slug: election, title: Election, rule: {any: [election]}}
  - {slug: drought, title: Drought, rule: {any: [drought]}}
`
	topicsB = `topics:
  - {slug: harbour, title: Harbour, rule: {any: [harbour, energy]}}
  - {slug: grid, title: Grid, rule: {any: [energy, drought]}}
  - {slug: housing, title: Housing, rule: {all: [housing, {not: border}]}}
  - {slug: border, title: Border, rule: {any: [border]}}
  - {slug: election, title: Election, rule: {any: [election]}}
  - {slug: drought, title: Drought, rule: {any: [drought]}}
`
)

type phase struct {
	name          string
	kills         int           // SIGKILLs inside the work, or SIGTERMs when term
	term          bool          // the phase stops the daemon with SIGTERM
	longest       time.Duration // of a term phase: the longest from SIGTERM to exit
	before, after int
	start         time.Time
	took          time.Duration
}

type crashRun struct {
	t                            *testing.T
	rnd                          *rand.Rand
	bin                          string
	dir                          string
	cfg                          string
	data                         string
	up                           string
	sets                         map[string]*topic.Set // "A", "B": the two topic sets, compiled as the daemon does
	topics                       string                // the set the config file holds now
	refresh, retention, logLevel string
	stored                       map[string]story.Story // by title, as of the last check
	phases                       []*phase
}

func newCrashRun(t *testing.T, seed uint64) *crashRun {
	dir := t.TempDir()
	c := &crashRun{t: t, rnd: rand.New(rand.NewPCG(seed, seed^0x5eed)), dir: dir,
		cfg: filepath.Join(dir, "newsdesk.yaml"), data: filepath.Join(dir, "data", "newsdesk.db"),
		bin: buildNewsdesk(t), stored: map[string]story.Story{}, refresh: "@every 1h", logLevel: "debug"}
	up := httptest.NewServer(http.HandlerFunc(crashUpstream))
	t.Cleanup(up.Close)
	c.up = up.URL
	c.sets = map[string]*topic.Set{}
	for name, topics := range map[string]string{"A": topicsA, "B": topicsB} {
		cfg, err := config.Parse("x.yaml", []byte("sources: [{name: x, url: 'https://example.org/'}]\n"+topics))
		if err != nil {
			t.Fatal(err)
		}
		c.sets[name] = cfg.Set
	}
	c.writeConfig("A")
	return c
}

func crashTitle(f, i int) string {
	return fmt.Sprintf("Report %d-%d on the %s", f, i, crashWords[(f*7+i)%len(crashWords)])
}

// crashUpstream serves feed f (/f/N.xml) with crashStories stories, each
// about one or two of crashWords.
func crashUpstream(w http.ResponseWriter, r *http.Request) {
	var f int
	if _, err := fmt.Sscanf(r.URL.Path, "/f/%d.xml", &f); err != nil || f < 0 || f >= crashFeeds {
		http.NotFound(w, r)
		return
	}
	var items []string
	day := time.Now().UTC().Truncate(24 * time.Hour)
	for i := range crashStories {
		second := crashWords[(f*3+i*5)%len(crashWords)]
		items = append(items, fmt.Sprintf(`<item><title>%s</title><link>https://upstream.example/%d/%d</link><guid>%d-%d</guid>`+
			`<pubDate>%s</pubDate><description>A correspondent's notes, with a word on the %s. %s</description></item>`,
			crashTitle(f, i), f, i, f, i, day.Add(-time.Duration(f*crashStories+i)*time.Minute).Format(time.RFC1123Z), second,
			strings.Repeat("Nothing else happened that day. ", 20)))
	}
	w.Header().Set("Content-Type", "application/rss+xml")
	w.Header().Set("Cache-Control", "max-age=3600") // no source is due again for an hour…
	if f == crashFeeds-1 {
		w.Header().Set("Cache-Control", "no-cache") // …but the pulse, due at every tick
	}
	io.WriteString(w, rss(fmt.Sprintf("Desk%d", f), items...))
}

func (c *crashRun) writeConfig(topics string) {
	c.topics = topics
	var b strings.Builder
	fmt.Fprintf(&b, `site: {public_url: "http://newsdesk.test"}
listen: "127.0.0.1:0"
refresh: %q
log_level: %s
fetch: {min_interval: 1s, max_interval: 1h, workers: 2, per_host: 2, allow_networks: [127.0.0.1/32]} # the upstream is an httptest server
retention: {max_age: 3650d%s}
sources:
`, c.refresh, c.logLevel, c.retention)
	for f := range crashFeeds {
		fmt.Fprintf(&b, "  - {name: f%d, url: \"%s/f/%d.xml\"}\n", f, c.up, f)
	}
	b.WriteString(map[string]string{"A": topicsA, "B": topicsB}[topics])
	if err := os.WriteFile(c.cfg+".tmp", []byte(b.String()), 0o644); err != nil {
		c.t.Fatal(err)
	}
	if err := os.Rename(c.cfg+".tmp", c.cfg); err != nil {
		c.t.Fatal(err)
	}
}

// child is one run of the binary.
type child struct {
	cmd  *exec.Cmd
	logs *logWatch
	exit chan struct{} // closed when the process has exited
	err  error         // its exit status, once exit is closed
	addr string
}

func (c *crashRun) start(args ...string) *child {
	c.t.Helper()
	ch := &child{logs: newLogWatch(), exit: make(chan struct{})}
	ch.cmd = exec.Command(c.bin, args...)
	ch.cmd.Stderr = ch.logs
	ch.cmd.Stdout = io.Discard
	if err := ch.cmd.Start(); err != nil {
		c.t.Fatal(err)
	}
	go func() { ch.err = ch.cmd.Wait(); close(ch.exit) }()
	c.t.Cleanup(func() { ch.kill() })
	return ch
}

func (c *crashRun) serve() *child {
	return c.start("serve", "--config", c.cfg, "--data", c.data)
}

// stop SIGTERMs the child and waits for it to exit cleanly.
func (ch *child) stop(t *testing.T, what string) {
	t.Helper()
	ch.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-ch.exit:
		if ch.err != nil {
			t.Fatalf("%s: the daemon did not stop cleanly: %v", what, ch.err)
		}
	case <-time.After(30 * time.Second):
		ch.cmd.Process.Signal(syscall.SIGQUIT) // a goroutine dump, into the log
		time.Sleep(time.Second)
		ch.logs.mu.Lock()
		defer ch.logs.mu.Unlock()
		t.Fatalf("%s: the daemon did not stop within 30 s of SIGTERM; log:\n%s", what, strings.Join(ch.logs.lines, ""))
	}
}

// exited reports whether the child has ended by itself.
func (ch *child) exited() bool {
	select {
	case <-ch.exit:
		return true
	default:
		return false
	}
}

// kill SIGKILLs the child and reports whether it was still running, i.e.
// whether the kill interrupted it.
func (ch *child) kill() bool {
	running := !ch.exited()
	pids := signalTree(ch.cmd.Process.Pid, syscall.SIGKILL) // the daemon behind the reader process too
	<-ch.exit
	for _, pid := range pids[:len(pids)-1] { // the next run opens the store they held
		for alive(pid) {
			time.Sleep(time.Millisecond)
		}
	}
	return running
}

// serving waits for the daemon's "serving" line and notes its address.
func (ch *child) serving(t *testing.T) {
	line, _ := ch.logs.waitFor(t, 0, "msg=serving")
	ch.addr = regexp.MustCompile(`addr=(\S+)`).FindStringSubmatch(line)[1]
}

// served returns the titles the daemon serves now in every topic feed (the
// newest 200 of each): they must survive any kill that follows.
func (c *crashRun) served(ch *child) []string {
	var titles []string
	sets := []string{"harbour", "energy", "housing", "border", "election", "drought", "grid"}
	for _, slug := range sets {
		res, err := http.Get("http://" + ch.addr + "/topics/" + slug + ".json?limit=200")
		if err != nil {
			continue // dying, or not serving this topic
		}
		var feed struct {
			Items []struct {
				Title string `json:"title"`
			} `json:"items"`
		}
		json.NewDecoder(res.Body).Decode(&feed)
		res.Body.Close()
		for _, it := range feed.Items {
			titles = append(titles, it.Title)
		}
	}
	return titles
}

func (c *crashRun) phase(name string) *phase {
	p := &phase{name: name, before: len(c.stored)}
	c.phases = append(c.phases, p)
	p.start = time.Now()
	return p
}

// end closes p: how many stories it left, how long it took.
func (c *crashRun) end(p *phase) {
	p.after, p.took = len(c.stored), time.Since(p.start)
}

// tries bounds a phase's attempts: a kill that comes too late (the work
// already done) is not counted, and the phase tries again.
func (c *crashRun) tries(attempt *int, kills int) {
	if *attempt++; *attempt > 10*kills+10 {
		c.t.Fatalf("%d attempts for %d kills inside the work: it ends before the kills land", *attempt, kills)
	}
}

// check examines the store with the process dead. served must all be
// stored; pruning allows stories to go, but only the oldest ingested.
func (c *crashRun) check(what string, served []string, pruning bool) {
	t := c.t
	t.Helper()
	// bbolt's own consistency check, on the file as the kill left it.
	bdb, err := bbolt.Open(c.data, 0o600, &bbolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		t.Fatalf("%s: bbolt cannot open the file: %v", what, err)
	}
	err = bdb.View(func(tx *bbolt.Tx) error {
		var errs []error
		for err := range tx.Check() {
			errs = append(errs, err)
		}
		return errors.Join(errs...)
	})
	bdb.Close()
	if err != nil {
		t.Fatalf("%s: bbolt's consistency check: %v", what, err)
	}

	db, err := bolt.Open(c.data, bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatalf("%s: the store does not open: %v", what, err)
	}
	defer db.Close()
	now := c.list(db, "")
	for title, s := range now {
		if s.Seq == 0 {
			t.Errorf("%s: %q has no Seq", what, title)
		}
	}
	// Nothing stored before is lost, unless retention took it: then only
	// the oldest ingested go, before anything younger.
	var gone []story.Story
	for title, s := range c.stored {
		if _, ok := now[title]; !ok {
			gone = append(gone, s)
		}
	}
	if len(gone) > 0 && !pruning {
		t.Fatalf("%s: %d stored stories are gone, e.g. %q", what, len(gone), gone[0].Title)
	}
	if len(gone) > 0 {
		oldestKept := uint64(1<<64 - 1)
		for _, s := range now {
			oldestKept = min(oldestKept, s.Seq)
		}
		for _, s := range gone {
			if s.Seq > oldestKept {
				t.Fatalf("%s: pruning removed %q (seq %d) but kept seq %d", what, s.Title, s.Seq, oldestKept)
			}
		}
	}
	for _, title := range served {
		if _, ok := now[title]; !ok && !(pruning && c.stored[title].Seq != 0) {
			t.Fatalf("%s: %q was served before the kill and is gone", what, title)
		}
	}
	// Every topic index lists stored stories only, once each, and all the
	// indexes follow one topic set: A or B, wholly.
	indexes := map[string]map[string]bool{}
	for _, slug := range []string{"harbour", "energy", "housing", "border", "election", "drought", "grid"} {
		indexes[slug] = map[string]bool{}
		for title := range c.list(db, slug) {
			if _, ok := now[title]; !ok {
				t.Fatalf("%s: topic %s lists %q, which is not stored", what, slug, title)
			}
			indexes[slug][title] = true
		}
	}
	var follows []string
	for _, name := range []string{"A", "B"} {
		if c.follows(indexes, now, c.sets[name]) == "" {
			follows = append(follows, name)
		}
	}
	if len(follows) == 0 {
		t.Fatalf("%s: the topic indexes follow neither topic set: A: %s; B: %s", what,
			c.follows(indexes, now, c.sets["A"]), c.follows(indexes, now, c.sets["B"]))
	}
	c.stored = now
}

// follows says how indexes disagree with what set makes of the stories, or
// "" when they agree.
func (c *crashRun) follows(indexes map[string]map[string]bool, stories map[string]story.Story, set *topic.Set) string {
	want := map[string]map[string]bool{}
	for slug := range indexes {
		want[slug] = map[string]bool{}
	}
	for title, s := range stories {
		for _, slug := range set.Classify(s) {
			want[slug][title] = true
		}
	}
	for slug, got := range indexes {
		for title := range want[slug] {
			if !got[title] {
				return fmt.Sprintf("%s lacks %q", slug, title)
			}
		}
		for title := range got {
			if !want[slug][title] {
				return fmt.Sprintf("%s lists %q", slug, title)
			}
		}
	}
	return ""
}

// list reads a whole index, failing on a story listed twice.
func (c *crashRun) list(db *bolt.DB, slug string) map[string]story.Story {
	out := map[string]story.Story{}
	for q := (store.Query{Topic: slug, Limit: store.MaxLimit}); ; {
		page, err := db.Recent(c.t.Context(), q)
		if err != nil {
			c.t.Fatalf("list %q: %v", slug, err)
		}
		for _, s := range page.Stories {
			if _, dup := out[s.Title]; dup {
				c.t.Fatalf("index %q lists %q twice", slug, s.Title)
			}
			out[s.Title] = s
		}
		if page.Next == "" {
			return out
		}
		q.Before = page.Next
	}
}

// firstIngest kills the daemon n times while it fetches the upstream for
// the first time, each time after a random number of sources are stored.
func (c *crashRun) firstIngest(n int) {
	p := c.phase("first ingest")
	newStories := regexp.MustCompile(`msg=refreshed source=\S+ status=ok .*\bnew=[1-9]`)
	for p.kills < n {
		left := crashFeeds - c.storedSources()
		if left == 0 {
			break // all ingested: the kills that remain go to the later phases
		}
		ch := c.serve()
		ch.serving(c.t)
		after := 1 + c.rnd.IntN(max(1, left/4))
		from := 0
		for seen := 0; seen < after; {
			line, next := ch.logs.waitFor(c.t, from, "msg=refreshed")
			from = next
			if newStories.MatchString(line) {
				seen++
			}
		}
		served := c.served(ch)
		if ch.kill() {
			p.kills++
		}
		c.check(fmt.Sprintf("first ingest, kill %d", p.kills), served, false)
	}
	c.end(p)
}

// settle runs the daemon without a kill while `newsdesk fetch --force`
// has it fetch every source, stops it with SIGTERM, and checks the store.
func (c *crashRun) settle(what string) {
	c.writeConfig(c.topics) // the default schedule and retention again
	ch := c.serve()
	ch.serving(c.t)
	fetch := c.start("fetch", "--config", c.cfg, "--data", c.data, "--force")
	select {
	case <-fetch.exit:
		if fetch.err != nil {
			c.t.Fatalf("%s: fetch --force through the daemon: %v\n%s", what, fetch.err, strings.Join(fetch.logs.lines, ""))
		}
	case <-time.After(2 * time.Minute):
		c.t.Fatalf("%s: fetch --force through the daemon did not finish", what)
	}
	if !ch.logs.has(0, "msg=refreshed") {
		c.t.Fatalf("%s: the daemon did not do the fetch", what)
	}
	ch.stop(c.t, what)
	c.check(what, nil, false)
}

// storedSources counts the sources all of whose stories were stored at the
// last check.
func (c *crashRun) storedSources() int {
	per := map[string]int{}
	for _, s := range c.stored {
		per[s.Source]++
	}
	n := 0
	for _, k := range per {
		if k == crashStories {
			n++
		}
	}
	return n
}

// reclassify edits the topics (A to B and back) under a running daemon and
// kills it at a random moment of the re-classification that follows; a
// kill that lands before the switch leaves the next start to re-classify,
// and that start is killed too, at a random moment.
func (c *crashRun) reclassify(n int) {
	live, startup := c.phase("live re-classification"), c.phase("start-up re-classification")
	// One uninterrupted edit measures how long a re-classification takes.
	took := c.timedReclassify()
	c.t.Logf("a re-classification of %d stories takes %v here", len(c.stored), took)
	for attempt := 0; live.kills+startup.kills < n; c.tries(&attempt, n) {
		ch := c.serve()
		ch.serving(c.t)
		next := map[string]string{"A": "B", "B": "A"}[c.topics]
		from := ch.logs.count()
		c.writeConfig(next)
		ch.cmd.Process.Signal(syscall.SIGHUP)
		c.sleepUpTo(took)
		finished := ch.logs.has(from, "msg=reclassified")
		served := c.served(ch)
		if ch.kill() && !finished {
			live.kills++
		}
		c.check(fmt.Sprintf("live re-classification, kill %d", live.kills), served, false)
		// If the switch did not happen, the next start re-classifies.
		if c.indexesFollow(c.topics) {
			continue
		}
		ch = c.serve()
		c.sleepUpTo(took)
		finished = ch.logs.has(0, "msg=reclassified")
		if ch.kill() && !finished {
			startup.kills++
		}
		c.check(fmt.Sprintf("start-up re-classification, kill %d", startup.kills), nil, false)
	}
	c.end(live)
	c.end(startup) // the two phases interleave: each shows the time of both
}

// terminate stops the daemon with SIGTERM, as an operator or a supervisor
// does, once a re-classification has begun — after a live edit, then at a
// start with edited topics, by turns. The daemon must end cleanly (exit 0,
// "stopped" its last line) within stop's 30 s, abandoning the work, and
// leave the store whole and following one topic set; the next start
// re-files. Issue 10 saw a daemon run on at 100% CPU for minutes after
// "shutting down". The longest stop is reported, not judged.
func (c *crashRun) terminate(n int) {
	p := c.phase("SIGTERM in re-classification")
	p.term = true
	for attempt := 0; p.kills < n; c.tries(&attempt, n) {
		// Start from the set the store follows (a stop abandoned the last
		// re-filing), so that the edit below is what re-files.
		other := map[string]string{"A": "B", "B": "A"}
		cur := c.topics
		if !c.indexesFollow(cur) {
			cur = other[cur]
		}
		c.writeConfig(cur)
		next := other[cur]
		var ch *child
		if attempt%2 == 0 {
			ch = c.serve()
			ch.serving(c.t)
			c.writeConfig(next)
			ch.cmd.Process.Signal(syscall.SIGHUP)
		} else {
			c.writeConfig(next)
			ch = c.serve()
		}
		_, from := ch.logs.waitFor(c.t, 0, `msg="reclassifying stored stories"`)
		start := time.Now()
		ch.stop(c.t, "SIGTERM during a re-classification")
		took := time.Since(start)
		if ch.logs.has(from, "msg=reclassified") {
			c.check("after a SIGTERM that came too late", nil, false)
			continue // it finished before the signal: not a stop inside the work
		}
		p.kills++
		p.longest = max(p.longest, took)
		ch.logs.mu.Lock()
		last := ch.logs.lines[len(ch.logs.lines)-1]
		ch.logs.mu.Unlock()
		if !strings.Contains(last, "msg=stopped") {
			c.t.Errorf("SIGTERM %d: the last line logged is %q, want stopped", p.kills, last)
		}
		c.check(fmt.Sprintf("SIGTERM during a re-classification, stop %d", p.kills), nil, false)
	}
	// The phases after this one start from a config the store follows:
	// a start-up re-filing under each of their kills would blur them.
	if !c.indexesFollow(c.topics) {
		c.writeConfig(map[string]string{"A": "B", "B": "A"}[c.topics])
	}
	c.end(p)
}

// timedReclassify switches the topics once, uninterrupted, and returns how
// long the daemon took from the signal to the end of the re-classification.
func (c *crashRun) timedReclassify() time.Duration {
	ch := c.serve()
	ch.serving(c.t)
	next := map[string]string{"A": "B", "B": "A"}[c.topics]
	from := ch.logs.count()
	c.writeConfig(next)
	start := time.Now()
	ch.cmd.Process.Signal(syscall.SIGHUP)
	ch.logs.waitFor(c.t, from, "msg=reclassified")
	took := time.Since(start)
	ch.kill()
	c.check("after an uninterrupted re-classification", nil, false)
	if !c.indexesFollow(next) {
		c.t.Fatalf("after an uninterrupted re-classification the indexes do not follow %s", next)
	}
	return took
}

// indexesFollow reports whether the stored topic indexes follow topic set
// name (as of the last check).
func (c *crashRun) indexesFollow(name string) bool {
	db, err := bolt.Open(c.data, bolt.Options{Timeout: time.Second})
	if err != nil {
		c.t.Fatal(err)
	}
	defer db.Close()
	indexes := map[string]map[string]bool{}
	for _, slug := range []string{"harbour", "energy", "housing", "border", "election", "drought", "grid"} {
		indexes[slug] = map[string]bool{}
		for title := range c.list(db, slug) {
			indexes[slug][title] = true
		}
	}
	return c.follows(indexes, c.stored, c.sets[name]) == ""
}

// sleepUpTo waits a random part of d (a kill's moment, not a timing).
func (c *crashRun) sleepUpTo(d time.Duration) {
	time.Sleep(time.Duration(c.rnd.Int64N(int64(d) + 1)))
}

// prune lowers retention.max_stories step by step and kills the daemon at a
// random moment of the pruning. Retention runs after each run of due
// sources, which the daemon logs as a "refresh run" line; the last feed
// (pulse) asks to be polled again at once, so with refresh every second a
// run, and a prune, follow every second.
func (c *crashRun) prune(n int) {
	p := c.phase("retention pruning")
	c.refresh = "@every 1s"
	defer func() { c.refresh, c.retention = "@every 1h", "" }()
	limit := len(c.stored)
	// Each step prunes a sixtieth of the store: a kill that lands after
	// its prune ended is not counted, and on a loaded machine many do, so
	// the steps must last for several times the kills wanted (300 a step
	// ran out of stories, to a refused max_stories: 0).
	cut := max(limit/60, 20)
	step := func() *child {
		limit -= cut
		if limit < 1 {
			c.t.Fatalf("retention pruning: the store ran out of stories to prune before %d kills landed", n)
		}
		c.retention = fmt.Sprintf(", max_stories: %d", limit)
		c.writeConfig(c.topics)
		ch := c.serve()
		ch.serving(c.t)
		return ch
	}
	// One uninterrupted prune measures how long pruning takes.
	ch := step()
	_, from := ch.logs.waitFor(c.t, 0, `msg="refresh run"`)
	start := time.Now()
	ch.logs.waitFor(c.t, from-1, "msg=pruned")
	took := time.Since(start)
	ch.stop(c.t, "an uninterrupted prune")
	c.check("after an uninterrupted prune", nil, true)
	c.t.Logf("a prune of %d stories takes %v here", cut, took)
	// The kill lands at a random moment of the window; a kill that comes
	// after the prune ended halves the window, since one measurement on a
	// loaded machine can be many times what a prune takes.
	window := took
	for attempt := 0; p.kills < n; c.tries(&attempt, n) {
		ch := step()
		ch.logs.waitFor(c.t, 0, `msg="refresh run"`)
		c.sleepUpTo(window)
		finished := ch.logs.has(0, "msg=pruned")
		served := c.served(ch)
		if ch.kill() && !finished {
			p.kills++
		} else if finished {
			window = max(window/2, time.Millisecond)
		}
		c.check(fmt.Sprintf("retention pruning, kill %d", p.kills), served, true)
		if len(c.stored) > limit {
			// A clean run finishes the pruning the kill stopped, so the
			// next kill lands in a prune of its own.
			ch = c.serve()
			ch.serving(c.t)
			ch.logs.waitFor(c.t, 0, "msg=pruned")
			ch.stop(c.t, "a clean run")
			c.check("after a clean run", nil, true)
		}
	}
	c.end(p)
}

// compact runs `newsdesk compact` on the stopped store and kills it at
// random moments; the store must come out whole either way.
func (c *crashRun) compact(n int) {
	p := c.phase("compact")
	start := time.Now()
	ch := c.start("compact", "--data", c.data)
	if <-ch.exit; ch.err != nil {
		c.t.Fatalf("compact: %v", ch.err)
	}
	took := time.Since(start)
	c.check("after an uninterrupted compact", nil, false)
	c.t.Logf("compacting the store takes %v here", took)
	for attempt := 0; p.kills < n; c.tries(&attempt, n) {
		ch := c.start("compact", "--data", c.data)
		c.sleepUpTo(took)
		if ch.kill() {
			p.kills++
		}
		c.check(fmt.Sprintf("compact, kill %d", p.kills), nil, false)
	}
	if left, _ := filepath.Glob(c.data + ".*"); len(slices.DeleteFunc(left, func(s string) bool { return strings.HasSuffix(s, ".admin") })) > 0 {
		c.t.Logf("files beside the store after the killed compacts: %v", left)
	}
	c.end(p)
}

// waitUntil re-checks cond each time the daemon logs a line, up to a minute.
func waitUntil(t *testing.T, logs *logWatch, what string, cond func() bool) {
	t.Helper()
	deadline := time.After(time.Minute)
	for !cond() {
		select {
		case <-logs.added:
		case <-deadline:
			logs.mu.Lock()
			defer logs.mu.Unlock()
			t.Fatalf("never %s; log:\n%s", what, strings.Join(logs.lines, ""))
		}
	}
}

// has reports whether a line from the from'th on contains want.
func (l *logWatch) has(from int, want string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.ContainsFunc(l.lines[min(from, len(l.lines)):], func(s string) bool { return strings.Contains(s, want) })
}
