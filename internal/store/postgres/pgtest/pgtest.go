// Package pgtest gives tests a PostgreSQL database of their own: a fresh
// schema on the server NEWSDESK_TEST_PG names, dropped when the test ends.
// Without NEWSDESK_TEST_PG the test is skipped, unless NEWSDESK_REQUIRE_PG
// is 1 (CI sets it), when it fails: CI never skips the PostgreSQL half.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"
)

// URL returns the URL of a new, empty schema on the test server for t; the
// schema is dropped when t ends. Every store opened on the URL works in
// that schema only (search_path), so tests and packages run in parallel.
func URL(t testing.TB) string {
	t.Helper()
	base := os.Getenv("NEWSDESK_TEST_PG")
	if base == "" {
		if os.Getenv("NEWSDESK_REQUIRE_PG") == "1" {
			t.Fatal("NEWSDESK_TEST_PG is not set and NEWSDESK_REQUIRE_PG=1: the PostgreSQL tests must run")
		}
		t.Skip("NEWSDESK_TEST_PG is not set: the PostgreSQL half of the tests is skipped")
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	schema := "t_" + hex.EncodeToString(b)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("connect to NEWSDESK_TEST_PG: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("NEWSDESK_TEST_PG: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
