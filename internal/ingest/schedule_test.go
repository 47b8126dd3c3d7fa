package ingest_test

import (
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/newsdesk/newsdesk/internal/fetch"
	"github.com/newsdesk/newsdesk/internal/ingest"
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
