package status

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"

	"github.com/newsdesk/newsdesk/internal/story"
)

// Text writes r as `newsdesk status` prints it: a table of sources, each
// failing source's last error in full below it, a table of topics, the
// config (with a refused edit verbatim) and the process.
func Text(w io.Writer, r Report) error {
	r = terminalSafe(r)
	now := r.Generated
	ew := &errWriter{w: w}
	if ref := r.Config.Refused; ref != nil {
		fmt.Fprintf(ew, "REFUSED: the edit of %s at %s was refused; the config applied %s keeps running.\n%s\n\n",
			r.Config.File, date(ref.At), applied(r), ref.Messages)
	}
	fmt.Fprintf(ew, "%s\n\n", summary(r))

	tw := tabwriter.NewWriter(ew, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "SOURCE\tSTATUS\tHTTP\tLAST SUCCESS\tNEXT POLL\tFAILURES\tSTORED\tNEW/DAY (%d DAYS)\n", Days)
	for _, s := range r.Sources {
		code, success, next := "-", "never", "-"
		if s.HTTPStatus != 0 {
			code = fmt.Sprint(s.HTTPStatus)
		}
		if !s.LastSuccess.IsZero() {
			success = ago(s.LastSuccess, now)
		}
		if !s.NextPoll.IsZero() {
			next = until(s.NextPoll, now) + " (" + string(s.NextWhy) + ")"
		} else if s.NextWhy == WhyGone {
			next = "not polled (gone)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%d\t%s\n", s.Name, word(s.Status), code, success, next, s.Failures, s.Stored, bars(s.NewPerDay))
	}
	tw.Flush()
	for _, s := range r.Sources {
		if s.MovedTo != "" {
			fmt.Fprintf(ew, "\n%s moved permanently to %s: polled there; update its url in the config", s.Name, s.MovedTo)
		}
		if s.LastError != "" {
			fmt.Fprintf(ew, "\n%s (%s): %s", s.Name, s.URL, s.LastError)
		}
		for _, w := range s.Warnings {
			fmt.Fprintf(ew, "\n%s: skipped as malformed: %s", s.Name, w)
		}
	}

	fmt.Fprintln(ew)
	fmt.Fprintln(ew)
	tw = tabwriter.NewWriter(ew, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "TOPIC\tSTORIES\tNEWEST\tLAST CHANGE\tNEW/DAY (%d DAYS)\n", Days)
	for _, t := range r.Topics {
		newest, changed := "-", "-"
		if !t.Newest.IsZero() {
			newest = t.Newest.UTC().Format("2006-01-02 15:04")
		}
		if !t.Changed.IsZero() {
			changed = ago(t.Changed, now)
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\n", t.Slug, t.Stories, newest, changed, bars(t.NewPerDay))
	}
	tw.Flush()

	p := r.Process
	fmt.Fprintf(ew, "\nconfig   %s (fingerprint %s), applied %s\n", r.Config.File, r.Config.Fingerprint, applied(r))
	if c := r.Cluster; c != nil {
		role := "follows"
		if c.Leading {
			role = "leads"
		}
		leader := c.Leader
		if leader == "" {
			leader = "none (a takeover is under way)"
		}
		fmt.Fprintf(ew, "replica  %s (%s); leader %s\n", c.Replica, role, leader)
		fmt.Fprintf(ew, "         leader's config %s, classified with topics %s, this replica's topics %s\n",
			or(c.LeaderConfig, "-"), or(c.Classified, "-"), c.Topics)
		if c.Mismatch != "" {
			fmt.Fprintf(ew, "MISMATCH %s\n", c.Mismatch)
		}
	}
	fmt.Fprintf(ew, "version  %s\n", p.Version)
	if p.UptimeSeconds > 0 {
		fmt.Fprintf(ew, "up       %s, since %s\n", duration(time.Duration(p.UptimeSeconds*float64(time.Second))), date(p.Started))
	} else if !r.Daemon {
		fmt.Fprintln(ew, "daemon   not running: read from the store")
	}
	fmt.Fprintf(ew, "store    %s: %s, %d free pages (%s); %d stories stored, %d listed, %d tombstones\n",
		p.Store, bytesize(p.StoreBytes), p.FreePages, bytesize(p.FreeBytes), p.Stories, p.Listed, p.Tombstones)
	if run := p.LastRun; run != nil {
		fmt.Fprintf(ew, "run      last %s (%s): %s; %d new, %d updated\n", ago(run.Finished, now), run.Trigger, run.Summary, run.New, run.Updated)
	}
	if rc := p.Reclassifying; rc != nil {
		fmt.Fprintf(ew, "refile   re-classifying since %s: %d of %d stories (%d%%); the feeds serve the previous topics until it ends\n",
			ago(rc.Started, now), rc.Done, rc.Stories, rc.percent())
	}
	if f := p.LastFetch; f != nil {
		fmt.Fprintf(ew, "refresh  last %s (%s %s)", ago(f.At, now), f.Source, f.Status)
		if !p.NextRun.IsZero() {
			fmt.Fprintf(ew, ", next scheduled %s", until(p.NextRun, now))
		}
		fmt.Fprintln(ew)
	}
	return ew.err
}

func applied(r Report) string {
	switch {
	case !r.Config.AppliedAt.IsZero():
		return date(r.Config.AppliedAt)
	case r.Daemon:
		return "at start-up"
	}
	return "- (no daemon)"
}

// bars draws counts as a line of block characters, one per day, the
// highest the day with the most; a day with none is a dot.
func bars(counts []int) string {
	const blocks = "▁▂▃▄▅▆▇█"
	peak := 0
	for _, n := range counts {
		peak = max(peak, n)
	}
	var b strings.Builder
	for _, n := range counts {
		if n == 0 {
			b.WriteString("·")
			continue
		}
		i := (n*8 - 1) / peak // 1…peak onto 0…7
		b.WriteString(string([]rune(blocks)[i]))
	}
	return b.String()
}

// errWriter keeps the first write error, so Text can write freely.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}

// terminalSafe is r with every control character in its text replaced, but
// for newlines and tabs: an upstream's error message (or a report read from
// a daemon) must not be able to move the cursor, recolour or clear the
// terminal it is printed on.
func terminalSafe(r Report) Report {
	r.Sources = slices.Clone(r.Sources)
	for i := range r.Sources {
		s := &r.Sources[i]
		s.Name, s.Title, s.URL, s.LastError, s.MovedTo = safe(s.Name), safe(s.Title), safe(s.URL), safe(s.LastError), safe(s.MovedTo)
		s.Status, s.NextWhy = story.Status(safe(string(s.Status))), Why(safe(string(s.NextWhy)))
		s.Warnings = slices.Clone(s.Warnings)
		for j, w := range s.Warnings {
			s.Warnings[j] = safe(w)
		}
	}
	r.Topics = slices.Clone(r.Topics)
	for i := range r.Topics {
		r.Topics[i].Slug, r.Topics[i].Title = safe(r.Topics[i].Slug), safe(r.Topics[i].Title)
	}
	if ref := r.Config.Refused; ref != nil {
		r.Config.Refused = &Refusal{At: ref.At, Messages: safe(ref.Messages)}
	}
	r.Config.File, r.Config.Fingerprint = safe(r.Config.File), safe(r.Config.Fingerprint)
	if c := r.Cluster; c != nil {
		cc := *c
		cc.Replica, cc.Leader, cc.Mismatch = safe(cc.Replica), safe(cc.Leader), safe(cc.Mismatch)
		r.Cluster = &cc
	}
	r.Process.Version, r.Process.Store = safe(r.Process.Version), safe(r.Process.Store)
	if run := r.Process.LastRun; run != nil {
		c := *run
		c.Trigger, c.Summary = safe(c.Trigger), safe(c.Summary)
		r.Process.LastRun = &c
	}
	if f := r.Process.LastFetch; f != nil {
		r.Process.LastFetch = &Fetch{Source: safe(f.Source), Status: story.Status(safe(string(f.Status))), At: f.At, Took: f.Took}
	}
	return r
}

func safe(s string) string {
	return strings.Map(func(c rune) rune {
		if c == '\n' || c == '\t' || !unicode.IsControl(c) {
			return c
		}
		return '\uFFFD'
	}, s)
}

// or is s, or fallback when s is empty.
func or(s, fallback string) string {
	if s == "" {
		return fallback
	}
	return s
}
