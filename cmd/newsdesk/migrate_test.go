package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/newsdesk/newsdesk/internal/store"
	"github.com/newsdesk/newsdesk/internal/store/bolt"
	"github.com/newsdesk/newsdesk/internal/store/postgres"
	"github.com/newsdesk/newsdesk/internal/store/postgres/pgtest"
	"github.com/newsdesk/newsdesk/internal/store/storetest"
)

// TestMigrateStoreRoundTrip moves a bbolt store up to PostgreSQL and back
// down to a new bbolt file with `newsdesk migrate-store`, and compares the
// three through the contract: every story in every topic's pages, Since from
// 0, the duplicates behind each group, sources, meta, counts; then the
// stores go on alike (a pruned story stays out, the next Seq follows on).
// A PostgreSQL backup restores through migrate-store too.
func TestMigrateStoreRoundTrip(t *testing.T) {
	pg := pgtest.URL(t)
	dir := t.TempDir()
	first := filepath.Join(dir, "first.db")
	db, err := bolt.Open(first, bolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	slugs, pruned := storetest.Fill(t, db)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	out, err := newsdesk(t, "migrate-store", "--from", first, "--to", pg)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "copied 28 stories, 5 sources, 6 tombstones") {
		t.Errorf("migrate-store said %q", out)
	}
	if _, err := newsdesk(t, "migrate-store", "--from", first, "--to", pg); err == nil {
		t.Error("a second migrate-store into the same database succeeded")
	}
	back := filepath.Join(dir, "back.db")
	if _, err := newsdesk(t, "migrate-store", "--from", pg, "--to", back); err != nil {
		t.Fatal(err)
	}
	backup := filepath.Join(dir, "pg.export")
	if _, err := newsdesk(t, "backup", "--data", pg, backup); err != nil {
		t.Fatal(err)
	}
	restored := filepath.Join(dir, "restored.db")
	if _, err := newsdesk(t, "migrate-store", "--from", backup, "--to", restored); err != nil {
		t.Fatal(err)
	}

	open := func(data string) store.Store {
		s, err := openStore(data, 0)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	a, p, b, r := open(first), open(pg), open(back), open(restored)
	keys := []string{"topics-fingerprint", "other"}
	storetest.Same(t, a, p, slugs, keys)
	storetest.Same(t, a, b, slugs, keys)
	storetest.Same(t, a, r, slugs, keys)
	for _, s := range []store.Store{a, p, b, r} {
		if _, err := s.Get(t.Context(), pruned[0]); err == nil {
			t.Errorf("a pruned story came back in %T", s)
		}
	}
	if err := p.(*postgres.DB).Check(t.Context()); err != nil {
		t.Error(err)
	}
}

// TestMigrateStoreRefuses: bad --from and --to give one clear line, and
// the password of a database URL is never in it.
func TestMigrateStoreRefuses(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.db")
	garbage := filepath.Join(dir, "garbage.db")
	if err := os.WriteFile(garbage, []byte("not a store at all, but long enough to be looked at"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"migrate-store"},
		{"migrate-store", "--from", missing, "--to", filepath.Join(dir, "x.db")},
		{"migrate-store", "--from", garbage, "--to", filepath.Join(dir, "y.db")},
		{"migrate-store", "--from", "postgres://newsdesk:s3cr3t-pw@127.0.0.1:1/newsdesk?connect_timeout=2", "--to", filepath.Join(dir, "z.db")},
		{"migrate-store", "--from", garbage, "--to", "postgresql://newsdesk:s3cr3t-pw@127.0.0.1:1/newsdesk"},
	} {
		_, err := newsdesk(t, args...)
		if err == nil {
			t.Errorf("newsdesk %v succeeded", args)
			continue
		}
		if strings.Contains(err.Error(), "s3cr3t-pw") || strings.Count(err.Error(), "\n") > 0 {
			t.Errorf("newsdesk %v: %q shows the password or is not one line", args, err)
		}
	}
}
