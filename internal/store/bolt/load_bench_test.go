package bolt_test

import (
	"path/filepath"
	"testing"

	"github.com/newsdesk/newsdesk/internal/store/bolt"
	"github.com/newsdesk/newsdesk/internal/store/storebench"
)

// BenchmarkLoad is storebench's workload on bbolt, fsync on as the daemon
// runs it: compare with store/postgres's BenchmarkLoad on the same data.
//
//	NEWSDESK_BENCH_SOURCES=10000 go test -run '^$' -bench Load -benchtime 1x -timeout 2h ./internal/store/bolt
func BenchmarkLoad(b *testing.B) {
	storebench.Run(b, func(b *testing.B) storebench.Store {
		db, err := bolt.Open(filepath.Join(b.TempDir(), "load.db"), bolt.Options{})
		if err != nil {
			b.Fatal(err)
		}
		return db
	})
}
