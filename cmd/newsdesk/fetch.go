package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/newsdesk/newsdesk/internal/admin"
	"github.com/newsdesk/newsdesk/internal/config"
	"github.com/newsdesk/newsdesk/internal/fetch"
	"github.com/newsdesk/newsdesk/internal/ingest"
	"github.com/newsdesk/newsdesk/internal/store"
	"github.com/newsdesk/newsdesk/internal/store/postgres"
	"github.com/newsdesk/newsdesk/internal/story"
)

// names collects a repeatable, comma-separable flag.
type names []string

func (n *names) String() string { return strings.Join(*n, ",") }

func (n *names) Set(v string) error {
	for s := range strings.SplitSeq(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			*n = append(*n, s)
		}
	}
	return nil
}

// fetchCmd fetches sources once and prints a summary. When a running daemon
// holds the store, the daemon does the fetch and streams its progress here.
func fetchCmd(ctx context.Context, e env, args []string) error {
	var o options
	var only names
	fs := e.flags("fetch", &o)
	fs.Var(&only, "source", "fetch only the source `NAME` (repeatable, or comma-separated)")
	force := fs.Bool("force", false, "fetch even sources that asked to be left alone for now (backoff, Retry-After, ttl, gone)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := config.Load(o.config)
	if err != nil {
		return err
	}
	srcs, err := pickSources(cfg, only)
	if err != nil {
		return err
	}
	prog := newProgress(e.stderr, len(srcs))

	var reports []ingest.Report
	db, daemon, err := openOrDial(o.data)
	switch {
	case err != nil:
		return err
	case daemon != nil:
		fmt.Fprintln(e.stderr, "a running daemon holds the store; it does the fetch")
		reports, err = daemon.Fetch(ctx, admin.FetchRequest{Sources: only, Force: *force}, prog.report)
	default:
		defer db.Close()
		run := func(ctx context.Context, sync bool) ([]ingest.Report, error) {
			log := newLogger(io.Discard, cfg)
			in := ingest.New(fetch.New(fetchOptions(cfg)), db, cfg.Set, log, ingestOptions(cfg, func(...string) {}))
			if sync { // else the leader's topics, which are cfg's (fetchShared)
				if err := in.SyncTopics(ctx, cfg.Set, topicsFingerprint(cfg)); err != nil {
					return nil, err
				}
			}
			reports := in.RefreshAll(ctx, srcs, *force, prog.report)
			return reports, errors.Join(in.Prune(ctx), in.Close())
		}
		if sh, ok := db.(sharedStore); ok {
			reports, err = fetchShared(ctx, e, sh, db, cfg, run)
		} else {
			reports, err = run(ctx, true)
		}
	}
	prog.done()
	printSummary(e.stdout, reports)
	if err != nil {
		return err
	}
	failed := 0
	for _, r := range reports {
		if r.Err != "" {
			failed++
		}
	}
	if failed > 0 && failed == len(reports) {
		return fmt.Errorf("all %d sources failed", failed)
	}
	return nil
}

// fetchShared runs a fetch on a store replicas share. When a replica
// leads, the fetch writes beside it (story ids and per-feed transactions
// keep that from duplicating anything), but only with the topics the
// stored stories were classified with: re-classifying behind the leader's
// back, or filing stories under topics no replica serves, is refused.
// When none leads, the fetch holds the leader lease for its run, so that a
// replica starting meanwhile serves but neither fetches nor re-classifies
// until it is done; it re-classifies first if the topics changed, as a
// leader does.
func fetchShared(ctx context.Context, e env, sh sharedStore, db store.Store, cfg *config.Config,
	run func(ctx context.Context, sync bool) ([]ingest.Report, error)) ([]ingest.Report, error) {
	host, _ := os.Hostname()
	info := fmt.Sprintf("newsdesk fetch on %s pid %d", host, os.Getpid())
	lease := envDuration(e, "NEWSDESK_LEASE", defaultLease(cfg))
	for {
		l, err := sh.Leader(ctx)
		if err != nil {
			return nil, err
		}
		if l.Holder != "" {
			classified, err := db.Meta(ctx, ingest.TopicsKey)
			if err != nil {
				return nil, fmt.Errorf("read the topics fingerprint: %w", err)
			}
			if classified == "" {
				// The leader clears the fingerprint while it re-files (see
				// ingest.Ingester.SyncTopics): stories fetched now would be
				// filed under whichever topics win the race.
				return nil, fmt.Errorf("%s leads and is re-classifying the stored stories: run the fetch when it has finished (the status page shows it)", l.Info)
			}
			if classified != topicsFingerprint(cfg) {
				return nil, fmt.Errorf("%s leads, and the stored stories were classified with other topics than this config's: "+
					"run the fetch with the config the replicas run (a topic edit belongs in their config, where the leader re-classifies)", l.Info)
			}
			fmt.Fprintf(e.stderr, "%s leads; this fetch writes into the database beside it\n", l.Info)
			return run(ctx, false)
		}
		var reports []ingest.Report
		var runErr error
		led, err := sh.LeadOnce(ctx, lease, info, func(ctx context.Context) {
			reports, runErr = run(ctx, true)
			if cause := context.Cause(ctx); errors.Is(cause, postgres.ErrNotLeader) {
				runErr = errors.Join(runErr, fmt.Errorf("fetch: %w (paused longer than the lease, or the database unreachable)", cause))
			}
		})
		if err != nil {
			return nil, err
		}
		if led {
			return reports, runErr
		}
		// A replica took the lease between the two reads: ask again.
	}
}

// pickSources returns the named sources of cfg, all when names is empty.
func pickSources(cfg *config.Config, only []string) ([]story.Source, error) {
	if len(only) == 0 {
		return cfg.Sources, nil
	}
	var out []story.Source
	for _, name := range only {
		i := slices.IndexFunc(cfg.Sources, func(s story.Source) bool { return s.Name == name })
		if i < 0 {
			var all []string
			for _, s := range cfg.Sources {
				all = append(all, s.Name)
			}
			return nil, fmt.Errorf("no source %q in the config (sources: %s)", name, strings.Join(all, ", "))
		}
		out = append(out, cfg.Sources[i])
	}
	return out, nil
}

// progress shows a live count on a terminal, and nothing elsewhere.
type progress struct {
	w           io.Writer
	tty         bool
	n, finished int
}

func newProgress(w io.Writer, n int) *progress {
	p := &progress{w: w, n: n}
	if f, ok := w.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			p.tty = true
		}
	}
	return p
}

func (p *progress) report(r ingest.Report) {
	p.finished++
	if p.tty {
		fmt.Fprintf(p.w, "\r\033[K[%d/%d] %s: %s", p.finished, p.n, r.Source, r.Status)
	}
}

func (p *progress) done() {
	if p.tty && p.finished > 0 {
		fmt.Fprint(p.w, "\r\033[K")
	}
}

// printSummary writes one row per source and a total line.
func printSummary(w io.Writer, reports []ingest.Report) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SOURCE\tSTATUS\tHTTP\tNEW\tUPDATED\tTOOK\tNOTE")
	var nw, up, failed int
	for _, r := range reports {
		code := "-"
		if r.HTTPStatus != 0 {
			code = fmt.Sprint(r.HTTPStatus)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%s\t%s\n", r.Source, r.Status, code, r.New, r.Updated,
			r.Took.Round(time.Millisecond), note(r))
		nw, up = nw+r.New, up+r.Updated
		if r.Err != "" {
			failed++
		}
	}
	tw.Flush()
	fmt.Fprintf(w, "%d sources: %d new, %d updated stories; %d failing\n", len(reports), nw, up, failed)
}

// noteLimit is how long a full error may be in the NOTE column; a longer one
// is shown by its cause (ingest.Cause), which the column never cuts: "GET
// https://…/a-long-path: dial tcp 203.0.113.7:443: connect: no route to
// host" cut at 90 characters would keep the URL and lose why.
const noteLimit = 90

// note is the NOTE column of r: the error, or why the source was not
// fetched and what it last failed with, and a permanent move.
func note(r ingest.Report) string {
	short := func(full, cause string) string {
		if len(full) <= noteLimit || cause == "" {
			return full
		}
		return cause
	}
	var n string
	switch {
	case r.Err != "":
		return short(r.Err, r.Cause)
	case r.Status == story.StatusGone:
		n = "upstream said 410 Gone: no longer polled (--force tries again)"
	case r.Status == story.StatusDeferred && !r.Next.IsZero():
		why := string(r.Why)
		switch r.Why {
		case ingest.WhyBackoff:
			why = fmt.Sprintf("backoff after %d failures", r.Failures)
			if r.Failures == 1 {
				why = "backoff after 1 failure"
			}
		case ingest.WhyRetryAfter:
			why = "upstream's Retry-After"
		case ingest.WhyTTL:
			why = "upstream's ttl or max-age"
		case ingest.WhyMinInterval:
			why = "polled less than fetch.min_interval ago"
		case "":
			why = "backoff, Retry-After or ttl"
		}
		n = "not before " + r.Next.UTC().Format(time.RFC3339) + " (" + why
		if r.LastErr != "" {
			n += ": " + short(r.LastErr, r.Cause)
		}
		n += "; --force ignores it)"
	case r.Status == story.StatusBusy:
		return "a refresh of this source is already running"
	}
	if r.MovedTo != "" {
		n = join(n, "moved permanently to "+r.MovedTo+": polled there; update the source's url in the config")
	}
	if w := warnings(r.Warnings); w != "" {
		n = join(n, w)
	}
	return n
}

// warnings is the NOTE's account of a source's parse warnings: the first
// one whole (cut, it would keep the item's name and lose what is wrong
// with it) and how many there are; `newsdesk status` lists them all.
func warnings(ws []string) string {
	switch n := ingest.WarningCount(ws); n {
	case 0:
		return ""
	case 1:
		return "skipped as malformed: " + ws[0]
	default:
		return fmt.Sprintf("%d parts skipped as malformed (newsdesk status lists them), the first: %s", n, ws[0])
	}
}

// join joins two parts of a note.
func join(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}
