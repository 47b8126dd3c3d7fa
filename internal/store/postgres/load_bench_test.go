package postgres_test

import (
	"testing"

	"github.com/newsdesk/newsdesk/internal/store/postgres"
	"github.com/newsdesk/newsdesk/internal/store/postgres/pgtest"
	"github.com/newsdesk/newsdesk/internal/store/storebench"
)

// BenchmarkLoad is storebench's workload on the server NEWSDESK_TEST_PG
// names, in a schema of its own: compare with store/bolt's BenchmarkLoad
// on the same data. The server's fsync setting decides durability; say
// which when quoting a figure.
//
//	NEWSDESK_TEST_PG=postgres://… NEWSDESK_BENCH_SOURCES=10000 go test -run '^$' -bench Load -benchtime 1x -timeout 2h ./internal/store/postgres
func BenchmarkLoad(b *testing.B) {
	storebench.Run(b, func(b *testing.B) storebench.Store {
		db, err := postgres.Open(b.Context(), pgtest.URL(b), postgres.Options{})
		if err != nil {
			b.Fatal(err)
		}
		return db
	})
}
