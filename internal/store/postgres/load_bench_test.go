package postgres

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/newsdesk/newsdesk/internal/store/postgres/pgtest"
	"github.com/newsdesk/newsdesk/internal/store/storebench"
)

// BenchmarkLoad is storebench's workload on the server NEWSDESK_TEST_PG
// names, in a schema of its own: compare with store/bolt's BenchmarkLoad
// on the same data. The server's fsync setting decides durability; say
// which when quoting a figure. At the end it logs EXPLAIN ANALYZE of the
// newest-50 and Since statements on the loaded store, the plans the
// figures come from.
//
//	NEWSDESK_TEST_PG=postgres://… NEWSDESK_BENCH_SOURCES=10000 go test -run '^$' -bench Load -benchtime 1x -timeout 3h ./internal/store/postgres
func BenchmarkLoad(b *testing.B) {
	size := storebench.SizeFromEnv()
	stories := int64(size.Sources * size.PerSource)
	storebench.Run(b, func(b *testing.B) storebench.Store {
		url := pgtest.URL(b)
		db, err := Open(b.Context(), url, Options{})
		if err != nil {
			b.Fatal(err)
		}
		// Runs before pgtest drops the schema (cleanups run last first).
		b.Cleanup(func() {
			explainLoad(b, url, []struct {
				name string
				sql  string
				args []any
			}{
				{"newest 50 of a topic", recentTopicTop, []any{[]byte("t00"), int64(0), 51}},
				{"newest 50 of all", recentAllTop, []any{int64(0), 51}},
				{"since of a topic", sinceTopic, []any{[]byte("t00"), stories - stories/10, 50}},
			})
		})
		return db
	})
}

func explainLoad(b *testing.B, url string, stmts []struct {
	name string
	sql  string
	args []any
}) {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		b.Errorf("explain: %v", err)
		return
	}
	defer conn.Close(ctx)
	for _, s := range stmts {
		rows, err := conn.Query(ctx, "EXPLAIN (ANALYZE, BUFFERS) "+s.sql, s.args...)
		if err != nil {
			b.Errorf("explain %s: %v", s.name, err)
			return
		}
		lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			b.Errorf("explain %s: %v", s.name, err)
			return
		}
		plan := strings.Join(lines, "\n")
		b.Logf("EXPLAIN ANALYZE %s:\n%s", s.name, plan)
		if strings.Contains(plan, "Seq Scan on nd_index") || strings.Contains(plan, "Seq Scan on nd_stories") {
			b.Errorf("%s reads a table whole", s.name)
		}
	}
}
