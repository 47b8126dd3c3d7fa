package ingest_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/newsdesk/newsdesk/internal/fetch"
	"github.com/newsdesk/newsdesk/internal/ingest"
	"github.com/newsdesk/newsdesk/internal/store"
	"github.com/newsdesk/newsdesk/internal/store/bolt"
	"github.com/newsdesk/newsdesk/internal/story"
	"github.com/newsdesk/newsdesk/internal/topic"
)

// localFeed writes a one-story feed file and opens a store beside it; both
// are removed with the test.
func localFeed(t *testing.T) (story.Source, *bolt.DB) {
	t.Helper()
	dir := t.TempDir()
	feed := filepath.Join(dir, "feed.xml")
	if err := os.WriteFile(feed, []byte(rss("Ice storm")), 0o644); err != nil {
		t.Fatal(err)
	}
	db, err := bolt.Open(filepath.Join(dir, "n.db"), bolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return story.Source{Name: "local", Title: "Local", URL: "file://" + feed}, db
}

func TestParseSpec(t *testing.T) {
	tests := []struct {
		name, spec string
		ok         bool
	}{
		{"five fields", "*/15 * * * *", true},
		{"seconds field", "0 */15 * * * *", true},
		{"descriptor", "@hourly", true},
		{"every", "@every 15m", true},
		{"zone prefix", "CRON_TZ=Asia/Tokyo 0 6 * * *", true},
		{"zone alone panics in cron v3.0.1", "CRON_TZ=Asia/Tokyo", false},
		{"space in duration", "@every 15 m", false},
		{"garbage", "every quarter hour", false},
		{"empty", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ingest.ParseSpec(tt.spec)
			if (err == nil) != tt.ok {
				t.Errorf("ParseSpec(%q) error = %v, want ok=%v", tt.spec, err, tt.ok)
			}
		})
	}
}

// TestScheduleRunsOnEveryTick runs ten fake minutes of "@every 1m" in a
// synctest bubble: one refresh at start-up, then one per tick.
func TestScheduleRunsOnEveryTick(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		src, db := localFeed(t)
		var mu sync.Mutex
		var statuses []string
		in := ingest.New(fetch.New(fetch.Options{}), db, topic.NewSet(), slog.New(slog.DiscardHandler), ingest.Options{
			Observe: func(r ingest.Report) {
				mu.Lock()
				defer mu.Unlock()
				statuses = append(statuses, string(r.Status))
			},
		})
		sched, err := in.Schedule(t.Context(), ingest.Plan{Spec: "@every 1m", Sources: []story.Source{src}})
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(10*time.Minute + 30*time.Second)
		synctest.Wait()
		sched.Stop()

		mu.Lock()
		defer mu.Unlock()
		if len(statuses) != 11 {
			t.Fatalf("refreshes = %d (%v), want 11: one at start-up and one per minute", len(statuses), statuses)
		}
		if statuses[0] != "ok" {
			t.Errorf("start-up refresh = %s, want ok", statuses[0])
		}
		for i, s := range statuses[1:] {
			if s != "not-modified" {
				t.Errorf("tick %d = %s, want not-modified: the file did not change", i+1, s)
			}
		}
	})
}

func TestReplaceRefusesBadSpecAndKeepsPlan(t *testing.T) {
	db, err := bolt.Open(filepath.Join(t.TempDir(), "n.db"), bolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	in := ingest.New(fetch.New(fetch.Options{}), db, topic.NewSet(), slog.New(slog.DiscardHandler), ingest.Options{})
	sched, err := in.Schedule(t.Context(), ingest.Plan{Spec: "@every 1h"})
	if err != nil {
		t.Fatal(err)
	}
	defer sched.Stop()
	before := sched.Next()
	if err := sched.Replace(ingest.Plan{Spec: "CRON_TZ=Asia/Tokyo"}); err == nil {
		t.Fatal("Replace accepted a spec that panics cron")
	}
	if err := sched.Replace(ingest.Plan{Spec: "@every 1h", Sources: []story.Source{{Name: "x", URL: "file:///nonexistent", Schedule: "61 * * * *"}}}); err == nil {
		t.Fatal("Replace accepted a bad per-source schedule")
	}
	if got := sched.Next(); !got.Equal(before) {
		t.Errorf("next run moved from %v to %v after refused replaces", before, got)
	}
}

// TestSchedulePanicDoesNotStopLaterRuns panics in the first scheduled run:
// cron's Recover must catch it and, with Skip before Recover in the chain,
// the next ticks must still run (the other order skips them forever).
func TestSchedulePanicDoesNotStopLaterRuns(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		src, db := localFeed(t)
		var mu sync.Mutex
		runs := 0
		in := ingest.New(fetch.New(fetch.Options{}), db, topic.NewSet(), slog.New(slog.DiscardHandler), ingest.Options{
			Observe: func(ingest.Report) {
				mu.Lock()
				runs++
				n := runs
				mu.Unlock()
				if n <= 2 { // the start-up run and the first tick
					panic("boom")
				}
			},
		})
		sched, err := in.Schedule(t.Context(), ingest.Plan{Spec: "@every 1m", Sources: []story.Source{src}})
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(3*time.Minute + 30*time.Second)
		synctest.Wait()
		sched.Stop()
		mu.Lock()
		defer mu.Unlock()
		if runs != 4 {
			t.Errorf("runs = %d, want 4: start-up and three ticks, panics notwithstanding", runs)
		}
	})
}

// TestSlowSourceDoesNotDelayOthers polls a source that, from its second poll
// on, answers one byte and then nothing (until the test ends), beside two
// healthy ones on "@every 1s",
// with two workers. The healthy sources must keep their cadence while the
// slow one hangs, and the slow one must never be fetched twice at once. With
// one cron run over all sources and skip-if-running, the healthy ones waited
// for the slow one. Real time, not synctest: a goroutine blocked on a real
// socket stops synctest's clock.
func TestSlowSourceDoesNotDelayOthers(t *testing.T) {
	release := make(chan struct{})
	var slowHits atomic.Int32
	polled := make(chan string, 100)
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" && slowHits.Add(1) > 1 { // healthy at start-up, hangs on its first tick
			w.Header().Set("Content-Type", "application/rss+xml")
			io.WriteString(w, "<")
			w.(http.Flusher).Flush()
			select {
			case <-release:
			case <-r.Context().Done():
			}
			return
		}
		io.WriteString(w, rss("Fast"))
		if r.URL.Path != "/slow" {
			polled <- r.URL.Path
		}
	}))
	defer up.Close()
	defer close(release) // before up.Close: its handler must return
	db, err := bolt.Open(filepath.Join(t.TempDir(), "n.db"), bolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	in := ingest.New(fetch.New(fetch.Options{Allow: loopback, Timeout: time.Hour, IdleTimeout: time.Hour}), db,
		topic.NewSet(), slog.New(slog.DiscardHandler), ingest.Options{Workers: 2, MinInterval: time.Second})
	sched, err := in.Schedule(t.Context(), ingest.Plan{Spec: "@every 1s", Sources: []story.Source{
		{Name: "slow", URL: up.URL + "/slow"},
		{Name: "a", URL: up.URL + "/a"},
		{Name: "b", URL: up.URL + "/b"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer sched.Stop()
	seen := map[string]int{}
	deadline := time.After(time.Minute)    // a hang guard, not a timing
	for seen["/a"] < 5 || seen["/b"] < 5 { // start-up and four ticks
		select {
		case p := <-polled:
			seen[p]++
		case <-deadline:
			t.Fatalf("healthy sources polled %v while the slow one hung; want 5 polls each", seen)
		}
	}
	if n := slowHits.Load(); n != 2 {
		t.Errorf("slow source fetched %d times, want twice (start-up, first tick): its later ticks are skipped while it hangs", n)
	}
}

// schedFixture is an ingester over local feed files, for synctest: file
// reads complete at once, so the fake clock moves as soon as every
// goroutine waits.
type schedFixture struct {
	dir     string
	db      *bolt.DB
	in      *ingest.Ingester
	mu      sync.Mutex
	reports []ingest.Report
	at      []time.Time // when each report came: in a bubble, when it started
	logs    syncBuffer
}

func newSchedFixture(t *testing.T, opts ingest.Options) *schedFixture {
	t.Helper()
	f := &schedFixture{dir: t.TempDir()}
	db, err := bolt.Open(filepath.Join(f.dir, "n.db"), bolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	f.db = db
	opts.Observe = func(r ingest.Report) {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.reports = append(f.reports, r)
		f.at = append(f.at, time.Now())
	}
	f.in = ingest.New(fetch.New(fetch.Options{}), db, topic.NewSet(), slog.New(slog.NewTextHandler(&f.logs, nil)), opts)
	return f
}

// feed writes a local feed file and returns a source reading it.
func (f *schedFixture) feed(t *testing.T, name, body string) story.Source {
	t.Helper()
	path := filepath.Join(f.dir, name+".xml")
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return story.Source{Name: name, Title: name, URL: "file://" + path}
}

// polls returns the minutes (since start) at which source was fetched.
func (f *schedFixture) polls(source string, start time.Time) []int {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []int
	for i, r := range f.reports {
		if r.Source == source && r.Status != story.StatusDeferred && r.Status != story.StatusBusy {
			out = append(out, int(f.at[i].Sub(start)/time.Minute))
		}
	}
	return out
}

func TestEachSourceOnItsOwnDueTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newSchedFixture(t, ingest.Options{MinInterval: time.Minute, MaxInterval: time.Hour})
		plain := f.feed(t, "plain", rss("Ice storm"))
		own := f.feed(t, "own", rss("Border talks"))
		own.Schedule = "*/5 * * * *"
		// RSS ttl 3 (minutes): honoured after the parse and after every
		// 304 the file transport answers later.
		ttl := f.feed(t, "ttl", strings.Replace(rss("Visa"), "<channel>", "<channel><ttl>3</ttl>", 1))
		start := time.Now()
		sched, err := f.in.Schedule(t.Context(), ingest.Plan{Spec: "@every 1m", Sources: []story.Source{plain, own, ttl}})
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(10*time.Minute + 30*time.Second)
		synctest.Wait()

		st, err := f.in.Status(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		sched.Stop()
		for _, tt := range []struct {
			source string
			want   []int
		}{
			{"plain", []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10}},
			{"own", []int{0, 5, 10}},
			{"ttl", []int{0, 3, 6, 9}},
		} {
			if got := f.polls(tt.source, start); !slices.Equal(got, tt.want) {
				t.Errorf("%s polled at minutes %v, want %v", tt.source, got, tt.want)
			}
		}
		// At 10m30s: plain is next polled on its schedule at 11m, own at
		// 15m; ttl's ticks at 11m and 12m come before its ttl allows.
		want := map[string]struct {
			next time.Duration
			why  ingest.Why
		}{
			"plain": {11 * time.Minute, ingest.WhySchedule},
			"own":   {15 * time.Minute, ingest.WhySchedule},
			"ttl":   {12 * time.Minute, ingest.WhyTTL},
		}
		if !st.Scheduled || len(st.Sources) != 3 {
			t.Fatalf("status = %+v, want 3 scheduled sources", st)
		}
		for _, s := range st.Sources {
			w := want[s.Name]
			if got := s.Next.Sub(start); got != w.next || s.Why != w.why {
				t.Errorf("status of %s: next in %v (%s), want %v (%s)", s.Name, got, s.Why, w.next, w.why)
			}
		}
		if r := st.LastRun; r.Trigger != ingest.TriggerSchedule || r.Sources != 2 || r.OK != 2 || r.Started.Sub(start) != 10*time.Minute {
			t.Errorf("last run = %+v, want the run of plain and own at 10m", r)
		}
	})
}

func TestReplaceAddsRemovesAndMovesSources(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newSchedFixture(t, ingest.Options{MinInterval: time.Minute})
		keep := f.feed(t, "keep", rss("Ice storm"))
		drop := f.feed(t, "drop", rss("Border talks"))
		start := time.Now()
		sched, err := f.in.Schedule(t.Context(), ingest.Plan{Spec: "@every 10m", Sources: []story.Source{keep, drop}})
		if err != nil {
			t.Fatal(err)
		}
		defer sched.Stop()
		time.Sleep(2 * time.Minute)
		synctest.Wait()

		// At 2m: a new source comes, drop goes, keep moves to another file.
		added := f.feed(t, "added", rss("Visa"))
		moved := f.feed(t, "moved", rss("Ice storm"))
		moved.Name = "keep"
		if err := sched.Replace(ingest.Plan{Spec: "@every 10m", Sources: []story.Source{moved, added}}); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		time.Sleep(10*time.Minute + 30*time.Second)
		synctest.Wait()
		for _, tt := range []struct {
			source string
			want   []int
		}{
			{"keep", []int{0, 2, 10}}, // its url changed at 2m: fetched at once, then on its ticks
			{"drop", []int{0}},
			{"added", []int{2, 10}},
		} {
			if got := f.polls(tt.source, start); !slices.Equal(got, tt.want) {
				t.Errorf("%s polled at minutes %v, want %v", tt.source, got, tt.want)
			}
		}
		// A bad spec is refused and the plan stays.
		before := sched.Next()
		if err := sched.Replace(ingest.Plan{Spec: "@every 10m", Sources: []story.Source{{Name: "x", URL: "file:///x", Schedule: "61 * * * *"}}}); err == nil {
			t.Error("Replace accepted a bad per-source schedule")
		}
		if got := sched.Next(); !got.Equal(before) {
			t.Errorf("next poll moved from %v to %v after a refused replace", before, got)
		}
	})
}

// TestStopAndScheduleAgain is a replica losing and regaining the lead:
// after Stop nothing is polled, the state is in the store, and a new
// Schedule resumes from it (a source polled a minute ago is not polled at
// once).
func TestStopAndScheduleAgain(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newSchedFixture(t, ingest.Options{MinInterval: 5 * time.Minute})
		src := f.feed(t, "src", rss("Ice storm"))
		plan := ingest.Plan{Spec: "@every 10m", Sources: []story.Source{src}}
		start := time.Now()
		sched, err := f.in.Schedule(t.Context(), plan)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.in.Schedule(t.Context(), plan); err == nil {
			t.Error("a second Schedule while one runs was accepted")
		}
		time.Sleep(time.Minute)
		synctest.Wait()
		sched.Stop()
		sched.Stop() // twice is harmless
		st, err := f.db.Source(t.Context(), "src")
		if err != nil {
			t.Fatal(err)
		}
		if !st.LastAttempt.Equal(start) || !st.NextFetch.Equal(start.Add(5*time.Minute)) {
			t.Errorf("stored state after Stop = %+v, want the start-up poll's times", st)
		}
		if s, _ := f.in.Status(t.Context()); s.Scheduled {
			t.Error("status says scheduled after Stop")
		}
		time.Sleep(30 * time.Minute) // not the leader: nothing polled
		synctest.Wait()
		if got := f.polls("src", start); !slices.Equal(got, []int{0}) {
			t.Fatalf("polled at minutes %v while stopped, want [0]", got)
		}

		// Regained at 31m, right after another process polled at 30m.
		st.LastAttempt, st.NextFetch = time.Now().Add(-time.Minute), time.Now().Add(4*time.Minute)
		if err := f.db.PutSource(t.Context(), "src", st); err != nil {
			t.Fatal(err)
		}
		sched, err = f.in.Schedule(t.Context(), plan)
		if err != nil {
			t.Fatal(err)
		}
		defer sched.Stop()
		// Not at 31m: the other process polled a minute ago, not before 35m
		// says its state. The first tick of the new plan (@every 10m from
		// 31m) at or after that is 41m.
		time.Sleep(9*time.Minute + 30*time.Second)
		synctest.Wait()
		if got := f.polls("src", start); !slices.Equal(got, []int{0}) {
			t.Errorf("after regaining, by 40m30s: polled at minutes %v, want [0]", got)
		}
		time.Sleep(time.Minute)
		synctest.Wait()
		if got := f.polls("src", start); !slices.Equal(got, []int{0, 41}) {
			t.Errorf("after regaining: polled at minutes %v, want [0 41]", got)
		}
	})
}

// TestMinIntervalBoundsAFastSchedule polls a source on "@every 1m" with a
// min_interval of 5m: it is polled every fifth tick, and the status says
// why the ticks between are skipped.
func TestMinIntervalBoundsAFastSchedule(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newSchedFixture(t, ingest.Options{MinInterval: 5 * time.Minute})
		src := f.feed(t, "src", rss("Ice storm"))
		start := time.Now()
		sched, err := f.in.Schedule(t.Context(), ingest.Plan{Spec: "@every 1m", Sources: []story.Source{src}})
		if err != nil {
			t.Fatal(err)
		}
		defer sched.Stop()
		time.Sleep(11*time.Minute + 30*time.Second)
		synctest.Wait()
		if got := f.polls("src", start); !slices.Equal(got, []int{0, 5, 10}) {
			t.Errorf("polled at minutes %v, want [0 5 10]", got)
		}
		st, err := f.in.Status(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if s := st.Sources[0]; s.Next.Sub(start) != 15*time.Minute || s.Why != ingest.WhyMinInterval {
			t.Errorf("next poll in %v (%s), want 15m (min-interval)", s.Next.Sub(start), s.Why)
		}
	})
}

// TestResumeAtStoredNextPoll is a replica taking over a shared store: with
// Options.Resume its scheduler polls each source at the next poll its
// stored state implies (the first tick of its schedule after its last
// poll, not before its not-before), so a source the previous leader polled
// ten minutes ago on an hourly schedule is not fetched again at once, while a
// source never polled, or whose next poll has passed, is. Without Resume
// (a process's own store starting) every source is fetched at start-up.
func TestResumeAtStoredNextPoll(t *testing.T) {
	now := time.Date(2026, 6, 1, 12, 20, 0, 0, time.UTC)
	for _, resume := range []bool{true, false} {
		var mu sync.Mutex
		hits := map[string]int{}
		up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			hits[strings.TrimPrefix(r.URL.Path, "/")]++
			mu.Unlock()
			io.WriteString(w, rss("Ice storm "+r.URL.Path))
		}))
		db, err := bolt.Open(filepath.Join(t.TempDir(), "n.db"), bolt.Options{NoSync: true})
		if err != nil {
			t.Fatal(err)
		}
		src := func(name, schedule string) story.Source {
			return story.Source{Name: name, Title: name, URL: up.URL + "/" + name, Schedule: schedule}
		}
		sources := []story.Source{
			src("recent", ""),          // @every 1h, polled 10m ago: next in 50m
			src("hourly", "0 * * * *"), // polled at 12:00: next at 13:00
			src("never", ""),           // no state: at once
			src("overdue", ""),         // polled 2h ago: its next poll has passed
			src("missed", "0 * * * *"), // polled at 11:00: the 12:00 tick was missed
		}
		last := map[string]time.Time{
			"recent":  now.Add(-10 * time.Minute),
			"hourly":  time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC),
			"overdue": now.Add(-2 * time.Hour),
			"missed":  time.Date(2026, 6, 1, 11, 0, 0, 0, time.UTC),
		}
		for name, at := range last {
			// min_interval (5m) after the poll: passed for every one.
			st := store.SourceState{Status: story.StatusOK, LastAttempt: at, LastSuccess: at, NextFetch: at.Add(5 * time.Minute)}
			if err := db.PutSource(t.Context(), name, st); err != nil {
				t.Fatal(err)
			}
		}
		runs := make(chan ingest.Run, 8)
		in := ingest.New(fetch.New(fetch.Options{Allow: loopback}), db, topic.NewSet(), slog.New(slog.DiscardHandler),
			ingest.Options{MinInterval: 5 * time.Minute, MaxInterval: 24 * time.Hour, Resume: resume,
				Now: func() time.Time { return now }, ObserveRun: func(r ingest.Run) { runs <- r }})
		sched, err := in.Schedule(t.Context(), ingest.Plan{Spec: "@every 1h", Sources: sources})
		if err != nil {
			t.Fatal(err)
		}
		// Every source due at once is in the first Run; the others are an
		// hour or so away on a clock that does not move.
		first := <-runs
		st, err := in.Status(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		sched.Stop()
		in.Close()
		up.Close()
		db.Close()

		want := map[string]int{"recent": 0, "hourly": 0, "never": 1, "overdue": 1, "missed": 1}
		if !resume {
			want["recent"], want["hourly"] = 1, 1
		}
		total := 0
		for name, n := range want {
			total += n
			if hits[name] != n {
				t.Errorf("resume=%v: %s requested %d times, want %d", resume, name, hits[name], n)
			}
		}
		if first.Sources != total {
			t.Errorf("resume=%v: first run polled %d sources, want %d", resume, first.Sources, total)
		}
		if !resume {
			continue
		}
		next := map[string]time.Time{"recent": now.Add(50 * time.Minute), "hourly": time.Date(2026, 6, 1, 13, 0, 0, 0, time.UTC)}
		for _, s := range st.Sources {
			if at, ok := next[s.Name]; ok && (!s.Next.Equal(at) || s.Why != ingest.WhySchedule) {
				t.Errorf("status of %s: next %v (%s), want %v (%s)", s.Name, s.Next, s.Why, at, ingest.WhySchedule)
			}
		}
	}
}
