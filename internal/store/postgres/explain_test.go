package postgres

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/newsdesk/newsdesk/internal/store"
	"github.com/newsdesk/newsdesk/internal/store/postgres/pgtest"
	"github.com/newsdesk/newsdesk/internal/story"
)

// TestPlansAreIndexScans asks PostgreSQL how it runs the newest-N and
// since statements on a store of some thousands of stories: each must
// walk an index (Index Scan or Index Only Scan), never read a table of
// stories or index rows whole (Seq Scan).
func TestPlansAreIndexScans(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, err := Open(ctx, pgtest.URL(t), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for src := range 20 {
		var batch []story.Story
		for i := range 250 {
			name := fmt.Sprintf("s%d", src)
			batch = append(batch, story.Story{ID: story.NewID(name, fmt.Sprint(i)), Source: name,
				Link: fmt.Sprintf("https://%s.example/%d", name, i), Title: "t",
				Published: t0.Add(time.Duration(src*250+i) * time.Minute), Topics: []string{fmt.Sprintf("topic-%d", i%10)}})
		}
		if _, err := db.Put(ctx, fmt.Sprintf("s%d", src), store.SourceState{}, batch, t0); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.pool.Exec(ctx, `ANALYZE`); err != nil {
		t.Fatal(err)
	}
	cursor := []any{int64(t0.Add(2000 * time.Minute).UnixNano()), []byte("m")}
	tests := []struct {
		name string
		sql  string
		args []any
	}{
		{"newest 50 of a topic", recentTopicTop, []any{[]byte("topic-3"), int64(0), 51}},
		{"next page of a topic", recentTopic, append(append([]any{[]byte("topic-3")}, cursor...), int64(0), 51)},
		{"newest 50 of all", recentAllTop, []any{int64(0), 51}},
		{"next page of all", recentAll, append(cursor, int64(0), 51)},
		{"since of a topic", sinceTopic, []any{[]byte("topic-3"), int64(4000), 50}},
		{"since of all", sinceAll, []any{int64(4000), 50}},
	}
	var mu sync.Mutex
	for _, tt := range tests {
		rows, err := db.pool.Query(ctx, "EXPLAIN "+tt.sql, tt.args...)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		var plan []string
		for rows.Next() {
			var line string
			if err := rows.Scan(&line); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, line)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		text := strings.Join(plan, "\n")
		mu.Lock()
		t.Logf("%s:\n%s", tt.name, text)
		mu.Unlock()
		if !strings.Contains(text, "Index Scan") && !strings.Contains(text, "Index Only Scan") {
			t.Errorf("%s: no index scan in the plan", tt.name)
		}
		// nd_state has one row by construction (the generation sub-select
		// reads it): a Seq Scan of it is one row. Any other is a table read
		// whole.
		for _, line := range plan {
			if strings.Contains(line, "Seq Scan") && !strings.Contains(line, "Seq Scan on nd_state ") {
				t.Errorf("%s: the plan reads a table whole: %s", tt.name, strings.TrimSpace(line))
			}
		}
	}
}

// TestOpensRace opens the same empty database from several goroutines at
// once, as replicas starting together do: every Open succeeds, and the
// schema is migrated once.
func TestOpensRace(t *testing.T) {
	t.Parallel()
	u := pgtest.URL(t)
	var wg sync.WaitGroup
	errs := make([]error, 4)
	dbs := make([]*DB, 4)
	for i := range errs {
		wg.Go(func() { dbs[i], errs[i] = Open(context.Background(), u, Options{}) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("Open %d: %v", i, err)
			continue
		}
		defer dbs[i].Close()
	}
	if t.Failed() {
		return
	}
	var n int
	if err := dbs[0].pool.QueryRow(context.Background(), `SELECT COUNT(*) FROM nd_schema`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != SchemaVersion {
		t.Errorf("nd_schema has %d rows, want %d: a migration ran twice or not at all", n, SchemaVersion)
	}
}
