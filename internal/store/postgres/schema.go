package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// migrations are the schema's versions, in order: migration i takes the
// schema from version i to i+1. A released migration is never edited; a
// change is a new one appended. Each runs in one transaction with the
// version row it records.
var migrations = []string{
	// 1: the first schema.
	`CREATE TABLE nd_state (
	id            INT PRIMARY KEY,
	gen           BIGINT NOT NULL,
	seq           BIGINT NOT NULL,
	stories       BIGINT NOT NULL,
	tombstones    BIGINT NOT NULL,
	newest_dated  BIGINT NOT NULL,
	all_count     BIGINT NOT NULL,
	all_changed   BIGINT NOT NULL,
	changes       BIGINT NOT NULL,
	rebuild_by    TEXT NOT NULL,
	rebuild_until TIMESTAMPTZ NOT NULL
);
INSERT INTO nd_state VALUES (1, 1, 0, 0, 0, 0, 0, 0, 0, '', '1970-01-01T00:00:00Z');
CREATE TABLE nd_stories (
	id         BYTEA PRIMARY KEY,
	seq        BIGINT NOT NULL UNIQUE,
	source     BYTEA NOT NULL,
	published  BIGINT NOT NULL,
	first_seen BIGINT NOT NULL,
	dup_of     BYTEA NOT NULL,
	body       BYTEA NOT NULL
);
CREATE INDEX nd_stories_time ON nd_stories (published, id) WHERE dup_of = '';
CREATE INDEX nd_stories_listed ON nd_stories (seq) WHERE dup_of = '';
CREATE INDEX nd_stories_first_seen ON nd_stories (first_seen);
CREATE TABLE nd_topics (
	gen BIGINT NOT NULL,
	seq BIGINT NOT NULL,
	own BYTEA NOT NULL,
	idx BYTEA NOT NULL,
	PRIMARY KEY (gen, seq)
);
CREATE TABLE nd_index (
	gen       BIGINT NOT NULL,
	slug      BYTEA NOT NULL,
	published BIGINT NOT NULL,
	id        BYTEA NOT NULL,
	seq       BIGINT NOT NULL,
	PRIMARY KEY (gen, slug, published, id)
);
CREATE INDEX nd_index_seq ON nd_index (gen, slug, seq);
CREATE TABLE nd_topic_info (
	gen     BIGINT NOT NULL,
	slug    BYTEA NOT NULL,
	count   BIGINT NOT NULL,
	changed BIGINT NOT NULL,
	PRIMARY KEY (gen, slug)
);
CREATE TABLE nd_links (
	hash BYTEA PRIMARY KEY,
	key  TEXT NOT NULL,
	id   BYTEA NOT NULL
);
CREATE TABLE nd_sources (
	name  BYTEA PRIMARY KEY,
	state BYTEA NOT NULL
);
CREATE TABLE nd_tombstones (
	id     BYTEA PRIMARY KEY,
	pruned BIGINT NOT NULL
);
CREATE INDEX nd_tombstones_pruned ON nd_tombstones (pruned, id);
CREATE TABLE nd_meta (
	key   BYTEA PRIMARY KEY,
	value BYTEA NOT NULL
);
CREATE TABLE nd_source_count (
	source BYTEA PRIMARY KEY,
	n      BIGINT NOT NULL
);
CREATE TABLE nd_source_days (
	day    BIGINT NOT NULL,
	source BYTEA NOT NULL,
	n      BIGINT NOT NULL,
	PRIMARY KEY (day, source)
);
CREATE TABLE nd_changes (
	slug    BYTEA PRIMARY KEY,
	version BIGINT NOT NULL
);
CREATE INDEX nd_changes_version ON nd_changes (version);`,
}

// SchemaVersion is the schema this newsdesk reads and writes.
var SchemaVersion = len(migrations)

// migrate brings the schema up to SchemaVersion. Two processes may run it
// at once: the one that takes the lock row applies what is missing, the
// others wait for the lock and find nothing left to do.
func (db *DB) migrate(ctx context.Context) error {
	if err := db.bootstrap(ctx); err != nil {
		return fmt.Errorf("create nd_lock: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, db.opts.MigrateTimeout)
	defer cancel()
	for {
		ok, err := db.acquire(ctx, lockMigrate, 30*time.Second)
		if err != nil {
			return fmt.Errorf("lock schema: %w", err)
		}
		if ok {
			break
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for another process's schema migration: %w", ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
	defer db.release(context.WithoutCancel(ctx), lockMigrate)
	var have int
	err := db.pool.QueryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM nd_schema`).Scan(&have)
	if err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if have > SchemaVersion {
		return fmt.Errorf("database schema %d is newer than this newsdesk's %d: run the newer newsdesk", have, SchemaVersion)
	}
	for v := have; v < SchemaVersion; v++ {
		err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, migrations[v]); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `INSERT INTO nd_schema (version) VALUES ($1)`, v+1)
			return err
		})
		if err != nil {
			return fmt.Errorf("migrate schema to %d: %w", v+1, err)
		}
	}
	return nil
}

// bootstrap creates the two tables every version has: the version record
// and the lock rows. CREATE TABLE IF NOT EXISTS itself races in PostgreSQL
// (two sessions may both find the name free and one fails on the catalog's
// unique index), so a duplicate-object error from a concurrent creator
// counts as done, and is retried once to be sure.
func (db *DB) bootstrap(ctx context.Context) error {
	var err error
	for range 3 {
		_, err = db.pool.Exec(ctx, `CREATE TABLE IF NOT EXISTS nd_schema (
	version INT PRIMARY KEY,
	applied TIMESTAMPTZ NOT NULL DEFAULT now()
)`)
		if err == nil {
			_, err = db.pool.Exec(ctx, `CREATE TABLE IF NOT EXISTS nd_lock (
	name    TEXT PRIMARY KEY,
	holder  TEXT NOT NULL,
	epoch   BIGINT NOT NULL,
	expires TIMESTAMPTZ NOT NULL,
	info    TEXT NOT NULL
)`)
		}
		if err == nil || !isDuplicate(err) {
			return err
		}
	}
	return err
}

// isDuplicate reports a unique violation or an object that exists: what a
// concurrent CREATE leaves the loser of the race. A table's row type is
// created with it, so the loser may be told of the type (42710) rather
// than the table (42P07).
func isDuplicate(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "23505" || pe.Code == "42P07" || pe.Code == "42710")
}

// Lock row names in nd_lock.
const (
	lockMigrate = "migrate"
	lockLeader  = "leader"
)

// acquire takes the lock row name for ttl when it is free or expired, by
// compare-and-set on its expiry; it reports whether this process holds it.
func (db *DB) acquire(ctx context.Context, name string, ttl time.Duration) (bool, error) {
	tag, err := db.pool.Exec(ctx, `INSERT INTO nd_lock (name, holder, epoch, expires, info)
VALUES ($1, $2, 1, now() + $3::BIGINT * INTERVAL '1 millisecond', '')
ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, epoch = nd_lock.epoch + 1, expires = excluded.expires
WHERE nd_lock.expires < now()`, name, db.me, ttl.Milliseconds())
	if isDuplicate(err) || isRetryable(err) {
		return false, nil // another process inserted it at the same moment
	}
	if err != nil {
		return false, err
	}
	return tag.RowsAffected() == 1, nil
}

// release gives up the lock row name if this process holds it.
func (db *DB) release(ctx context.Context, name string) {
	_, _ = db.pool.Exec(ctx, `DELETE FROM nd_lock WHERE name = $1 AND holder = $2`, name, db.me)
}

// dropStale deletes the generations a crashed Reclassify left beside the
// active one, unless a re-classification is under way in some process.
func (db *DB) dropStale(ctx context.Context) error {
	var gen int64
	var live bool
	err := db.pool.QueryRow(ctx, `SELECT gen, rebuild_until > now() FROM nd_state WHERE id = 1`).Scan(&gen, &live)
	if err != nil {
		return fmt.Errorf("read state: %w", err)
	}
	if live {
		return nil
	}
	var stale bool
	err = db.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM nd_topic_info WHERE gen <> $1)
	OR EXISTS (SELECT 1 FROM nd_topics WHERE gen <> $1) OR EXISTS (SELECT 1 FROM nd_index WHERE gen <> $1)`, gen).Scan(&stale)
	if err != nil || !stale {
		return err
	}
	return db.write(ctx, func(tx pgx.Tx, st *state) error {
		if st.rebuildLive {
			return nil
		}
		for _, table := range []string{"nd_index", "nd_topics", "nd_topic_info"} {
			if _, err := tx.Exec(ctx, `DELETE FROM `+table+` WHERE gen <> $1`, st.gen); err != nil {
				return fmt.Errorf("drop stale generations: %w", err)
			}
		}
		return nil
	})
}
