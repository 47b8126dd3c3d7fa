// Package status says what the daemon is doing, in one place: every
// source's health (status word, last HTTP code, last success, the full last
// error, the next poll and why, failures, a permanent move, stories stored
// and new stories per day), every topic's stories and activity, the config
// that runs (and the last edit that was refused, verbatim), and the process.
//
// Gather builds a Report from narrow views of the store and, in the daemon,
// of what the process saw (Live); the Report renders as an HTML page with
// inline SVG charts and no script (/status), as JSON (/status.json), and as a
// terminal table (`newsdesk status`). Expose decides who may read it on the
// public listener.
package status

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/newsdesk/newsdesk/internal/config"
	"github.com/newsdesk/newsdesk/internal/ingest"
	"github.com/newsdesk/newsdesk/internal/store"
	"github.com/newsdesk/newsdesk/internal/story"
)

// Days is how many days of new stories the charts show.
const Days = 30

// Report is the whole status at one moment. Its JSON form is /status.json,
// which `newsdesk status` also reads from a running daemon.
type Report struct {
	Generated time.Time `json:"generated"`
	Daemon    bool      `json:"daemon"`    // false: read from a stopped store by the command line
	DaysFrom  time.Time `json:"days_from"` // UTC midnight of the first day of every new_per_day list
	Summary   Summary   `json:"summary"`
	Sources   []Source  `json:"sources"`
	Topics    []Topic   `json:"topics"`
	Config    Config    `json:"config"`
	Process   Process   `json:"process"`
	// Cluster is set on a store several replicas share (PostgreSQL).
	Cluster *Cluster `json:"cluster,omitempty"`
}

// Cluster is what a replica of a shared store knows of the others: who
// leads, and whether this replica runs the config the leader classified
// with. Every replica must run the same file; a mismatch is a mistake
// to fix (copy the file), not a state to serve in.
type Cluster struct {
	Replica string `json:"replica"`          // this process (host, listen address, pid)
	Leader  string `json:"leader,omitempty"` // the leading replica; "" while none does (a takeover is under way)
	Leading bool   `json:"leading"`          // this replica leads
	// LeaderConfig is the fingerprint of the config file the leader runs
	// (Config.Fingerprint on the leader), as it recorded it in the store.
	LeaderConfig string `json:"leader_config_fingerprint,omitempty"`
	// Topics is the fingerprint of this replica's topic definitions;
	// Classified that of the definitions the stored stories were last
	// classified with (by the leader).
	Topics     string `json:"topics_fingerprint"`
	Classified string `json:"classified_fingerprint,omitempty"`
	// Mismatch says what differs from the leader, "" when nothing does.
	Mismatch string `json:"mismatch,omitempty"`
}

// Check fills Mismatch from the fingerprints; file is this replica's
// config fingerprint.
func (c *Cluster) Check(file string) {
	var out []string
	if c.LeaderConfig != "" && c.LeaderConfig != file {
		out = append(out, fmt.Sprintf("this replica runs config %s, the leader %s", file, c.LeaderConfig))
	}
	if c.Classified != "" && c.Classified != c.Topics {
		out = append(out, "the stored stories were classified with other topics than this replica's")
	}
	c.Mismatch = strings.Join(out, "; ")
}

// Summary counts sources by status word.
type Summary struct {
	Sources  int            `json:"sources"`
	ByStatus map[string]int `json:"by_status"` // "never fetched" for sources without state
	Failing  int            `json:"failing"`   // sources whose last refresh failed (failing, blocked, gone, refused)
}

// Source is one configured source.
type Source struct {
	Name        string       `json:"name"`
	Title       string       `json:"title,omitempty"`
	URL         string       `json:"url"` // credentials hidden
	Status      story.Status `json:"status"`
	HTTPStatus  int          `json:"http_status,omitempty"`
	LastAttempt time.Time    `json:"last_attempt,omitzero"`
	LastSuccess time.Time    `json:"last_success,omitzero"`
	LastError   string       `json:"last_error,omitempty"` // in full
	Failures    int          `json:"consecutive_failures"`
	NextPoll    time.Time    `json:"next_poll,omitzero"`
	NextWhy     Why          `json:"next_why"`
	MovedTo     string       `json:"moved_to,omitempty"` // a 301/308 target polled instead of URL; credentials hidden
	// Warnings name what the last parsed document had that was malformed
	// and skipped (an item's field of the wrong type): the stories were
	// stored without it. A source can be ok and have them.
	Warnings  []string `json:"warnings,omitempty"`
	Stored    int      `json:"stories_stored"`
	NewPerDay []int    `json:"new_per_day"`
}

// Why says what decides a source's next poll.
type Why string

// The reasons for a next poll.
const (
	WhySchedule    Why = "schedule"     // the next tick of its cron schedule
	WhyTTL         Why = "ttl"          // upstream asked for a pause (RSS ttl, Cache-Control max-age, Expires)
	WhyMinInterval Why = "min-interval" // fetch.min_interval after the last good answer
	WhyRetryAfter  Why = "retry-after"  // upstream's Retry-After after a 429 or 503
	WhyBackoff     Why = "backoff"      // exponential backoff after consecutive failures
	WhyGone        Why = "gone"         // a 410: not polled again until forced or its URL changes
	// The running scheduler's own words too (ingest.Why): a source being
	// fetched now, the start-up poll, and a source a reload added or moved.
	WhyRunning Why = Why(ingest.WhyRunning)
	WhyStartup Why = Why(ingest.WhyStartup)
	WhyNew     Why = Why(ingest.WhyNew)
)

// Topic is one configured topic.
type Topic struct {
	Slug      string    `json:"slug"`
	Title     string    `json:"title"`
	Stories   int       `json:"stories"`
	Newest    time.Time `json:"newest,omitzero"`
	Changed   time.Time `json:"last_change,omitzero"` // the last time a story joined or left it (or a listed one changed)
	NewPerDay []int     `json:"new_per_day"`
}

// Config is the config that runs.
type Config struct {
	File        string    `json:"file"`
	Fingerprint string    `json:"fingerprint,omitempty"`
	AppliedAt   time.Time `json:"applied_at,omitzero"`
	// Refused is the last edit that did not load, until a good edit
	// replaces it: the daemon keeps running the config above.
	Refused *Refusal `json:"refused,omitempty"`
}

// Refusal is a config edit that was refused.
type Refusal struct {
	At       time.Time `json:"at"`
	Messages string    `json:"messages"` // verbatim, as `newsdesk validate` prints them: file:line:col, message, hint, snippet with caret
}

// Process describes the daemon and its store.
type Process struct {
	Version       string    `json:"version"`
	Started       time.Time `json:"started,omitzero"`
	UptimeSeconds float64   `json:"uptime_seconds,omitempty"`
	Store         string    `json:"store"`
	StoreBytes    int64     `json:"store_bytes"`
	FreeBytes     int64     `json:"store_free_bytes"`
	FreePages     int       `json:"store_free_pages"`
	Stories       int       `json:"stories"` // stored, duplicates included
	Listed        int       `json:"listed"`  // in the all-stories index: one per article
	Tombstones    int       `json:"tombstones"`
	LastFetch     *Fetch    `json:"last_fetch,omitempty"`
	LastRun       *Run      `json:"last_run,omitempty"` // the last batch of refreshes that ended
	NextRun       time.Time `json:"next_run,omitzero"`  // the next scheduled refresh of any source
	// Reclassifying is set while the stored stories are re-classified
	// (after a topic edit, or at start-up when the topics or the matching
	// engine changed since they were filed): the feeds serve the previous
	// filing until it ends, and then the new one whole.
	Reclassifying *Reclassification `json:"reclassifying,omitempty"`
}

// Reclassification is a re-classification under way.
type Reclassification struct {
	Started time.Time `json:"started"`
	Stories int       `json:"stories"` // stored as it began
	Done    int       `json:"done"`    // classified so far
}

// percent is how far r is, 0–99 until it ends.
func (r Reclassification) percent() int {
	if r.Stories <= 0 {
		return 0
	}
	return min(99, r.Done*100/r.Stories)
}

// Run is one batch of refreshes (ingest.Run): the sources that came due at
// one moment, the start-up poll, or one `newsdesk fetch`.
type Run struct {
	Trigger  string    `json:"trigger"` // start-up, schedule, reload, request
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished"`
	Sources  int       `json:"sources"`
	OK       int       `json:"ok"`
	Failing  int       `json:"failing"`
	New      int       `json:"new"`
	Updated  int       `json:"updated"`
	// Summary reads like "24 sources: 6 ok, 18 failing; 18 look offline: no
	// route to host", as the daemon logs it.
	Summary string `json:"summary"`
}

// Fetch is one refresh the daemon ran.
type Fetch struct {
	Source string        `json:"source"`
	Status story.Status  `json:"status"`
	At     time.Time     `json:"at"`
	Took   time.Duration `json:"took_ns"`
}

// Store is what Gather reads from the store.
type Store interface {
	Sources(ctx context.Context) (map[string]store.SourceState, error)
	Topic(ctx context.Context, slug string) (store.TopicInfo, error)
	Stats(ctx context.Context) (store.Stats, error)
	Activity(ctx context.Context, now time.Time, days int) (store.Activity, error)
}

// Options configures a Gatherer.
type Options struct {
	Store  Store
	Config func() *config.Config // the running config
	Live   *Live                 // what the daemon saw; nil when the command line reads a stopped store
	// Schedule, when set, is the running ingester's own account of each
	// source's next poll and why (ingest.Ingester.Status): while a
	// scheduler runs, Gather shows it instead of deriving it from the
	// state (see nextPoll), so the page says what the scheduler will do.
	Schedule  func(ctx context.Context) (ingest.Status, error)
	Version   string
	StorePath string // the --data value, shown as is (a database URL without its password)
	// Cluster, when set, reports on the replicas of a shared store.
	Cluster func(ctx context.Context) (*Cluster, error)
	Now     func() time.Time // [time.Now]
	// ActivityTTL is how long a read of Store.Activity is reused while no
	// story arrives [1m]. It costs one index step per story of the last
	// Days days, so a page reloaded in a loop does not redo it.
	ActivityTTL time.Duration
}

// Gatherer builds Reports. It is safe for concurrent use.
type Gatherer struct {
	o Options

	mu  sync.Mutex
	act cachedActivity
}

type cachedActivity struct {
	a       store.Activity
	at      time.Time
	day     time.Time
	changes uint64
	ok      bool
}

// New returns a Gatherer.
func New(o Options) *Gatherer {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.ActivityTTL <= 0 {
		o.ActivityTTL = time.Minute
	}
	return &Gatherer{o: o}
}

// Gather reads the status now.
func (g *Gatherer) Gather(ctx context.Context) (Report, error) {
	now := g.o.Now().UTC()
	cfg := g.o.Config()
	rep := Report{Generated: now, Daemon: g.o.Live != nil}

	states, err := g.o.Store.Sources(ctx)
	if err != nil {
		return Report{}, fmt.Errorf("status: %w", err)
	}
	act, err := g.activity(ctx, now)
	if err != nil {
		return Report{}, fmt.Errorf("status: %w", err)
	}
	rep.DaysFrom = act.From
	stats, err := g.o.Store.Stats(ctx)
	if err != nil {
		return Report{}, fmt.Errorf("status: %w", err)
	}

	planned := map[string]ingest.SourceStatus{}
	var lastRun *Run
	var refiling *Reclassification
	if g.o.Schedule != nil {
		is, err := g.o.Schedule(ctx)
		if err != nil {
			return Report{}, fmt.Errorf("status: %w", err)
		}
		if r := is.Reclassifying; r != nil {
			refiling = &Reclassification{Started: r.Started.UTC(), Stories: r.Stories, Done: r.Done}
		}
		for _, s := range is.Sources {
			if is.Scheduled {
				planned[s.Name] = s
			}
		}
		if r := is.LastRun; !r.Started.IsZero() {
			lastRun = &Run{Trigger: string(r.Trigger), Started: r.Started.UTC(), Finished: r.Finished.UTC(),
				Sources: r.Sources, OK: r.OK, Failing: r.Failing, New: r.New, Updated: r.Updated, Summary: r.String()}
		}
	}

	rep.Summary = Summary{Sources: len(cfg.Sources), ByStatus: map[string]int{}}
	for _, src := range cfg.Sources {
		st := states[src.Name]
		if g.o.Live != nil {
			st = g.o.Live.overlay(src.Name, st)
		}
		s := Source{
			Name: src.Name, Title: src.Title, URL: hideCredentials(src.URL),
			Status: st.Status, HTTPStatus: st.LastStatus, LastAttempt: st.LastAttempt, LastSuccess: st.LastSuccess,
			LastError: hideCredentials(st.LastError), Failures: st.Failures,
			Stored: act.Sources[src.Name].Stored, NewPerDay: days(act.Sources[src.Name].Days, act.Days),
		}
		if st.MovedTo != "" && st.MovedFrom == src.URL {
			s.MovedTo = hideCredentials(st.MovedTo)
		}
		for _, w := range st.Warnings {
			s.Warnings = append(s.Warnings, hideCredentials(w)) // item ids are often URLs
		}
		s.NextPoll, s.NextWhy = nextPoll(cfg, src, st, now)
		if p, ok := planned[src.Name]; ok {
			s.NextPoll, s.NextWhy = p.Next.UTC(), Why(p.Why)
		}
		rep.Sources = append(rep.Sources, s)
		word := string(st.Status)
		if word == "" {
			word = "never fetched"
		}
		rep.Summary.ByStatus[word]++
		if failed(st.Status) {
			rep.Summary.Failing++
		}
	}

	for _, t := range cfg.Topics {
		info, err := g.o.Store.Topic(ctx, t.Slug)
		if err != nil {
			return Report{}, fmt.Errorf("status: %w", err)
		}
		title := t.Title
		if title == "" {
			title = t.Slug
		}
		rep.Topics = append(rep.Topics, Topic{Slug: t.Slug, Title: title, Stories: info.Count, Newest: info.Newest,
			Changed: info.Changed, NewPerDay: days(act.Topics[t.Slug], act.Days)})
	}
	all, err := g.o.Store.Topic(ctx, "")
	if err != nil {
		return Report{}, fmt.Errorf("status: %w", err)
	}

	rep.Config = Config{File: cfg.Path, Fingerprint: cfg.Fingerprint}
	rep.Process = Process{Version: g.o.Version, Store: g.o.StorePath, StoreBytes: stats.FileSize, FreeBytes: stats.FreeBytes,
		FreePages: stats.FreePages, Stories: stats.Stories, Listed: all.Count, Tombstones: stats.Tombstones}
	rep.Process.LastRun, rep.Process.Reclassifying = lastRun, refiling
	if g.o.Cluster != nil {
		c, err := g.o.Cluster(ctx)
		if err != nil {
			return Report{}, fmt.Errorf("status: %w", err)
		}
		if c != nil {
			c.Check(cfg.Fingerprint)
		}
		rep.Cluster = c
	}
	if g.o.Live != nil {
		g.o.Live.fill(&rep, now)
	}
	return rep, nil
}

// States returns the current state of every configured source, as the
// status shows it (the store's, brought up to date by what Live saw): what
// the metrics' per-source gauges read at each scrape.
func (g *Gatherer) States(ctx context.Context) (map[string]store.SourceState, error) {
	states, err := g.o.Store.Sources(ctx)
	if err != nil {
		return nil, fmt.Errorf("status: %w", err)
	}
	out := make(map[string]store.SourceState, len(states))
	for _, src := range g.o.Config().Sources {
		st := states[src.Name]
		if g.o.Live != nil {
			st = g.o.Live.overlay(src.Name, st)
		}
		out[src.Name] = st
	}
	return out, nil
}

// activity returns the store's Activity, reused for ActivityTTL while the
// day and the stories stay the same.
func (g *Gatherer) activity(ctx context.Context, now time.Time) (store.Activity, error) {
	day := now.Truncate(24 * time.Hour)
	var changes uint64
	if g.o.Live != nil {
		changes = g.o.Live.changes.Load()
	}
	g.mu.Lock()
	c := g.act
	g.mu.Unlock()
	if c.ok && c.day.Equal(day) && c.changes == changes && now.Sub(c.at) < g.o.ActivityTTL {
		return c.a, nil
	}
	a, err := g.o.Store.Activity(ctx, now, Days)
	if err != nil {
		return store.Activity{}, err
	}
	g.mu.Lock()
	g.act = cachedActivity{a: a, at: now, day: day, changes: changes, ok: true}
	g.mu.Unlock()
	return a, nil
}

// days is a window's counts, all zero when the store had none.
func days(counts []int, n int) []int {
	if len(counts) == n {
		return slices.Clone(counts)
	}
	return make([]int, n)
}

// failed reports whether a status word means the last refresh failed.
func failed(s story.Status) bool {
	switch s {
	case story.StatusFailing, story.StatusBlocked, story.StatusGone, story.StatusRefused:
		return true
	}
	return false
}

// secretParam matches the value of a query parameter whose name says it is
// a credential (?token=…, &api_key=…, &X-Amz-Signature=…), in a URL or in
// an error quoting one: a credential word ending the name, alone or after a
// separator or a qualifier (apikey, accesstoken), so ?keyword= stays.
var secretParam = regexp.MustCompile(`(?i)([?&;](?:[a-z0-9_.-]*[_.-]|api|access|auth|client|private|app|x)?` +
	`(?:token|key|secret|passw(?:or)?d|pass|auth|sig|signature|session|sid|credentials?)=)[^&#\s"'<>]*`)

// userinfo matches the user:password@ of every URL in a text.
var userinfo = regexp.MustCompile(`(://)[^/?#\s"'<>@]*@`)

// hideCredentials removes what a status reader must not see from a URL or a
// message that quotes URLs: the whole userinfo (the user name too, not only
// the password that fetch.Redact hides) and the values of credential-like
// query parameters. It only replaces those parts, so a message keeps its
// wording.
func hideCredentials(s string) string {
	s = userinfo.ReplaceAllString(s, "${1}")
	return secretParam.ReplaceAllString(s, "${1}xxxxx")
}
