package status

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"strings"
	"time"

	"github.com/newsdesk/newsdesk/internal/story"
)

//go:embed templates/status.html
var templateFS embed.FS

var page = template.Must(template.New("status.html").Funcs(template.FuncMap{"date": date}).
	ParseFS(templateFS, "templates/status.html"))

// Page is what the HTML page shows besides the Report: the site it belongs
// to.
type Page struct {
	Site string // the site's title
	Home string // the site's home page
}

// sourceRow and topicRow are a Report's rows with every value the page
// shows made into text, times relative to the report.
type sourceRow struct {
	Name, Title, URL, Word, Class, HTTP, Why, Error, MovedTo string
	Warnings                                                 []string
	Attempt, Success, Next                                   when
	Failures, Stored                                         int
	Chart                                                    template.HTML
}

type topicRow struct {
	Slug, Title     string
	Newest, Changed when
	Stories         int
	Chart           template.HTML
}

// when is a time as the page shows it: relative to the report, with the
// exact time in a tooltip and machine-readable; Rel is "" for no time.
type when struct{ Rel, Abs, ISO string }

func at(t time.Time, rel string) when {
	if t.IsZero() {
		return when{}
	}
	return when{Rel: rel, Abs: date(t), ISO: t.UTC().Format(time.RFC3339)}
}

// HTML renders r as the status page.
func HTML(r Report, p Page) ([]byte, error) {
	now := r.Generated
	data := struct {
		R                                                        Report
		Site, Home, Summary, Generated, Applied                  string
		Uptime, StoreSize, FreeSize, LastFetch, LastRun, NextRun string
		Refiling                                                 string
		Days                                                     int
		Sources                                                  []sourceRow
		Topics                                                   []topicRow
	}{R: r, Site: p.Site, Home: p.Home, Summary: summary(r), Generated: date(now), Days: Days,
		StoreSize: bytesize(r.Process.StoreBytes), FreeSize: bytesize(r.Process.FreeBytes)}
	if data.Site == "" {
		data.Site = "newsdesk"
	}
	if data.Home == "" {
		data.Home = "/"
	}
	data.Applied = "at start-up"
	if !r.Config.AppliedAt.IsZero() {
		data.Applied = date(r.Config.AppliedAt) + " (" + ago(r.Config.AppliedAt, now) + ")"
	} else if !r.Daemon {
		data.Applied = "— (no daemon is running; this is the file as it is now)"
	}
	if r.Process.UptimeSeconds > 0 {
		data.Uptime = duration(time.Duration(r.Process.UptimeSeconds*float64(time.Second))) + ", since " + date(r.Process.Started)
	}
	if f := r.Process.LastFetch; f != nil {
		data.LastFetch = fmt.Sprintf("%s (%s): %s, %s, took %s", ago(f.At, now), date(f.At), f.Source, f.Status, f.Took.Round(time.Millisecond))
	}
	if run := r.Process.LastRun; run != nil {
		data.LastRun = fmt.Sprintf("%s (%s, %s): %s; %d new, %d updated, took %s", ago(run.Finished, now), run.Trigger,
			date(run.Finished), run.Summary, run.New, run.Updated, duration(run.Finished.Sub(run.Started)))
	}
	if rc := r.Process.Reclassifying; rc != nil {
		data.Refiling = fmt.Sprintf("%d of %d stories (%d%%), started %s (%s)", rc.Done, rc.Stories, rc.percent(), ago(rc.Started, now), date(rc.Started))
	}
	if !r.Process.NextRun.IsZero() {
		data.NextRun = until(r.Process.NextRun, now) + " (" + date(r.Process.NextRun) + ")"
	}
	for _, s := range r.Sources {
		row := sourceRow{Name: s.Name, URL: s.URL, Word: word(s.Status), Class: class(s.Status),
			HTTP: "–", Why: reason(s.NextWhy), Error: s.LastError, MovedTo: s.MovedTo, Warnings: s.Warnings,
			Attempt: at(s.LastAttempt, ago(s.LastAttempt, now)), Success: at(s.LastSuccess, ago(s.LastSuccess, now)),
			Next: at(s.NextPoll, until(s.NextPoll, now)), Failures: s.Failures, Stored: s.Stored,
			Chart: Chart(s.NewPerDay, r.DaysFrom, Sparkline)}
		if s.Title != s.Name {
			row.Title = s.Title
		}
		if s.HTTPStatus != 0 {
			row.HTTP = fmt.Sprint(s.HTTPStatus)
		}
		data.Sources = append(data.Sources, row)
	}
	for _, t := range r.Topics {
		data.Topics = append(data.Topics, topicRow{Slug: t.Slug, Title: t.Title, Stories: t.Stories,
			Newest: at(t.Newest, ago(t.Newest, now)), Changed: at(t.Changed, ago(t.Changed, now)),
			Chart: Chart(t.NewPerDay, r.DaysFrom, Wide)})
	}
	var buf bytes.Buffer
	if err := page.Execute(&buf, data); err != nil {
		return nil, fmt.Errorf("render status page: %w", err)
	}
	return buf.Bytes(), nil
}

// summary is the one line above everything: how many sources are in what
// state, and the stories.
func summary(r Report) string {
	var parts []string
	for _, w := range []string{"ok", "not-modified", "failing", "blocked", "refused", "gone", "never fetched"} {
		if n := r.Summary.ByStatus[w]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, w))
		}
	}
	s := fmt.Sprintf("%d sources", r.Summary.Sources)
	if len(parts) > 0 {
		s += ": " + strings.Join(parts, ", ")
	}
	s = fmt.Sprintf("%s. %d topics, %d stories.", s, len(r.Topics), r.Process.Listed)
	if rc := r.Process.Reclassifying; rc != nil {
		s += " " + refiling(*rc)
	}
	return s
}

// refiling says how far a re-classification is, and what readers get
// meanwhile.
func refiling(rc Reclassification) string {
	return fmt.Sprintf("Re-classifying the stored stories: %d of %d (%d%%); the feeds serve the previous topics until it ends.",
		rc.Done, rc.Stories, rc.percent())
}

// word is the status word a person reads.
func word(s story.Status) string {
	if s == "" {
		return "never fetched"
	}
	return string(s)
}

func class(s story.Status) string {
	switch s {
	case story.StatusOK, story.StatusNotModified, story.StatusUnchanged:
		return "ok"
	case story.StatusBlocked, story.StatusGone:
		return "warn"
	case "":
		return "never"
	}
	return "bad"
}

// reason says in words what decides the next poll.
func reason(w Why) string {
	switch w {
	case WhySchedule:
		return "its schedule's next tick"
	case WhyTTL:
		return "upstream asked to wait (ttl or max-age)"
	case WhyMinInterval:
		return "fetch.min_interval since the last good answer"
	case WhyRetryAfter:
		return "upstream's Retry-After"
	case WhyBackoff:
		return "backoff after failures"
	case WhyGone:
		return "gone (410): not polled until `newsdesk fetch --force` or a new url"
	case WhyRunning:
		return "being fetched now"
	case WhyStartup:
		return "the start-up poll"
	case WhyNew:
		return "added or moved by a reload: polled at once"
	}
	return string(w)
}

func date(t time.Time) string { return t.UTC().Format("2 Jan 2006 15:04:05 UTC") }

// ago and until say how far t is from now, in the largest unit that fits.
func ago(t, now time.Time) string {
	if d := now.Sub(t); d >= 0 {
		if d < 5*time.Second {
			return "just now"
		}
		return duration(d) + " ago"
	}
	return "in " + duration(t.Sub(now))
}

func until(t, now time.Time) string {
	if d := t.Sub(now); d > 0 {
		return "in " + duration(d)
	}
	return "due now"
}

func duration(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%d s", int(d/time.Second))
	case d < time.Hour:
		return fmt.Sprintf("%d min", int(d/time.Minute))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h %d min", int(d/time.Hour), int(d%time.Hour/time.Minute))
	}
	return fmt.Sprintf("%d days", int(d/(24*time.Hour)))
}

func bytesize(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}
