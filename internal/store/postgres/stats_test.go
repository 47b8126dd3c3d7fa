package postgres

import (
	"context"
	"testing"

	"github.com/newsdesk/newsdesk/internal/store/postgres/pgtest"
)

// TestStatsWithoutRelationSizes is Stats on an engine that lacks
// pg_total_relation_size (CockroachDB before 2026): the size is unknown
// (0) and everything else is reported; another failure still fails.
func TestStatsWithoutRelationSizes(t *testing.T) {
	t.Parallel()
	db, err := Open(context.Background(), pgtest.URL(t), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	st, err := db.Stats(t.Context())
	if err != nil || st.FileSize <= 0 {
		t.Fatalf("Stats on PostgreSQL = %+v, %v; want a size", st, err)
	}
	db.sizeSQL = `SELECT no_such_size_function()::BIGINT`
	st, err = db.Stats(t.Context())
	if err != nil || st.FileSize != 0 {
		t.Errorf("Stats without the size function = %+v, %v; want size 0 and no error", st, err)
	}
	db.sizeSQL = `SELECT 1/0`
	if _, err := db.Stats(t.Context()); err == nil {
		t.Error("Stats hid a division by zero")
	}
}
