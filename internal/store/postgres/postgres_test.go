package postgres_test

import (
	"context"
	"testing"

	"github.com/newsdesk/newsdesk/internal/store"
	"github.com/newsdesk/newsdesk/internal/store/postgres"
	"github.com/newsdesk/newsdesk/internal/store/postgres/pgtest"
	"github.com/newsdesk/newsdesk/internal/store/storetest"
)

// engine is storetest's way to open PostgreSQL stores with opts, each test
// in a schema of its own.
func engine(opts postgres.Options) storetest.NewStore {
	return func(t *testing.T) func() (store.Store, error) {
		u := pgtest.URL(t)
		return func() (store.Store, error) { return postgres.Open(context.Background(), u, opts) }
	}
}

func TestConformance(t *testing.T) {
	t.Parallel()
	storetest.Run(t, engine(postgres.Options{}))
}

// TestConformanceSmallBatches runs the suite again with re-classification
// batches of 7 stories, so that every Reclassify crosses batch edges.
func TestConformanceSmallBatches(t *testing.T) {
	if testing.Short() {
		t.Skip("the suite with small batches; -short runs it once")
	}
	t.Parallel()
	storetest.Run(t, engine(postgres.Options{ReclassifyBatch: 7}))
}
