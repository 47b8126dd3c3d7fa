// Package postgres is the shared storage engine: stories, their indexes and
// per-source state in a PostgreSQL database, so that several newsdesk
// replicas can serve one store. It implements store.Store; the policies it
// applies (link groups, admission, retention, re-classification tallies) are
// the store package's functions, so this package only stores and indexes,
// as store/bolt does.
//
// # Schema
//
// newsdesk creates and migrates its own tables (schema.go): numbered
// migrations, recorded in nd_schema, applied under a lock row with a lease
// (nd_lock), so two replicas starting at once on an empty database apply
// each migration once and both open. Every key a caller hands in (story
// ids, slugs, source names, meta keys) is stored as BYTEA: the contract
// allows any bytes, and byte order is the order bbolt's cursors have, with
// no collation in the way.
//
//   - nd_stories: one row per story (JSON in body, like bbolt's stories/),
//     with the columns its indexes need: Published (nanos, for Recent),
//     Seq (for Since and Prune), FirstSeen (Activity) and dup_of (a
//     duplicate is listed nowhere, so the listing indexes are partial).
//   - nd_topics: per generation and Seq, the story's own topics and the
//     slugs it is listed under (NUL-separated: store.Slugs keeps NUL out); nd_index: the topic indexes, per generation,
//     (slug, published, id) with the Seq for Since; nd_topic_info: per
//     generation, each topic's count and change time. Reclassify builds
//     generation n+1 beside n and switches nd_state.gen in one statement.
//   - nd_links (link key → the story holding it), nd_sources, nd_tombstones,
//     nd_meta (the caller's keys only), nd_source_count and
//     nd_source_days (Activity's counters), nd_changes (per topic, the
//     change counter replicas poll: Changes).
//   - nd_state: one row, the writers' lock (every write transaction takes
//     it FOR UPDATE first, so writers of every process take turns and see
//     each other's commits), the active generation, the last Seq, the
//     counters Stats reads, and the re-classification flag (rebuild_by).
//
// # SQL
//
// Only what CockroachDB and YugabyteDB also run (see the README): plain
// tables and B-tree indexes (partial ones included), INSERT … ON CONFLICT,
// SELECT … FOR UPDATE / FOR SHARE, row-value comparisons, unnest of arrays,
// BYTEA, BIGINT and TEXT.
// No advisory locks, no LISTEN/NOTIFY, no stored functions or triggers:
// leases are rows updated with compare-and-set, and replicas learn about
// changes from a polled counter.
package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/newsdesk/newsdesk/internal/store"
)

// Options tunes Open.
type Options struct {
	// ReclassifyBatch bounds the stories per Reclassify transaction
	// [5,000]. Tests set it small to cross batch edges cheaply.
	ReclassifyBatch int
	// MigrateTimeout is how long Open waits for another process's
	// migration [1m].
	MigrateTimeout time.Duration
	// MaxConns bounds the connection pool [max(8, pgx's default)].
	MaxConns int32
}

// The idle-in-transaction limit newsdesk sets on its sessions (see Open).
const (
	idleInTx        = "idle_in_transaction_session_timeout"
	defaultIdleInTx = "30s"
)

// DB is an open store. Its methods are safe for concurrent use, and any
// number of processes may open the same database.
type DB struct {
	pool *pgxpool.Pool
	url  string // redacted
	opts Options
	me   string // this process's token: lease holder, rebuild flag
	// mu keeps this process's multi-transaction writers (Reclassify, Prune),
	// which hold it exclusively, apart from Put and PutSource, which share
	// it: a Put waits while this process re-classifies. Other processes'
	// writers are kept apart by nd_state's row lock and rebuild flag.
	mu    sync.RWMutex
	fence atomic.Pointer[fence] // set while this process leads: writes check the lease
	// campaigning is set by the first Lead: from then on this process
	// writes only while it holds the lease (see checkFence).
	campaigning atomic.Bool
	// sizeSQL is sizeQuery; tests set another statement.
	sizeSQL string
	// afterBatch, set by tests only, runs between two transactions of a
	// Reclassify.
	afterBatch func()
}

var _ store.Store = (*DB)(nil)

// IsURL reports whether data names a PostgreSQL server (postgres:// or
// postgresql://) rather than a file.
func IsURL(data string) bool {
	return strings.HasPrefix(data, "postgres://") || strings.HasPrefix(data, "postgresql://")
}

// Redact returns a database URL with its password, and any password
// parameter, replaced by "xxxxx": the form every message shows.
func Redact(data string) string {
	u, err := url.Parse(data)
	if err != nil {
		// Keep only the scheme and what follows the last '@', which holds
		// no credentials.
		if i := strings.LastIndex(data, "@"); i >= 0 {
			scheme, _, _ := strings.Cut(data, "://")
			return scheme + "://xxxxx@" + data[i+1:]
		}
		return data
	}
	if u.User != nil {
		if _, ok := u.User.Password(); ok {
			u.User = url.UserPassword(u.User.Username(), "xxxxx")
		}
	}
	q := u.Query()
	if q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.String()
}

// Open connects to the database data names, creates or migrates newsdesk's
// tables, and returns the store. Errors name the database with its password
// hidden.
func Open(ctx context.Context, data string, opts Options) (*DB, error) {
	if opts.ReclassifyBatch <= 0 {
		opts.ReclassifyBatch = 5000
	}
	if opts.MigrateTimeout <= 0 {
		opts.MigrateTimeout = time.Minute
	}
	shown := Redact(data)
	cfg, err := pgxpool.ParseConfig(data)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", shown, errors.New(redactAll(err.Error(), data)))
	}
	// A process paused in the middle of a write transaction (SIGSTOP, a
	// VM frozen, a starved machine) holds the writers' lock, which every
	// other process's writes wait for: the replica that takes the lead over
	// could not write until the paused one resumed. PostgreSQL ends such a
	// session once it has sat idle in its transaction this long, and the
	// lock with it; newsdesk's own transactions never idle for more than
	// the time to classify one re-classification batch. A URL that sets the
	// parameter itself keeps its value.
	if _, ok := cfg.ConnConfig.RuntimeParams[idleInTx]; !ok {
		cfg.ConnConfig.RuntimeParams[idleInTx] = defaultIdleInTx
	}
	cfg.MaxConns = max(cfg.MaxConns, 8)
	if opts.MaxConns > 0 {
		cfg.MaxConns = opts.MaxConns
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", shown, err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("open %s: %w", shown, oneLine{redacted{err, data}})
	}
	db := &DB{pool: pool, url: shown, opts: opts, me: token(), sizeSQL: sizeQuery}
	if err := db.migrate(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("open %s: %w", shown, err)
	}
	if err := db.dropStale(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("open %s: %w", shown, err)
	}
	return db, nil
}

// redactAll removes data's password from msg, however a library quoted it.
func redactAll(msg, data string) string {
	if u, err := url.Parse(data); err == nil && u.User != nil {
		if pw, ok := u.User.Password(); ok && pw != "" {
			msg = strings.ReplaceAll(msg, pw, "xxxxx")
		}
	}
	return msg
}

// oneLine is an error whose message fits one line: pgx lists each address
// it tried on a line of its own.
type oneLine struct{ error }

func (e oneLine) Error() string {
	return strings.Join(strings.Fields(strings.ReplaceAll(e.error.Error(), "\n\t", "; ")), " ")
}
func (e oneLine) Unwrap() error { return e.error }

// redacted is an error whose message never holds data's password.
type redacted struct {
	error
	data string
}

func (e redacted) Error() string { return redactAll(e.error.Error(), e.data) }
func (e redacted) Unwrap() error { return e.error }

// token is a process-unique name: host, pid and 6 random bytes, so a
// restarted process never mistakes its predecessor's lease for its own.
func token() string {
	host, _ := os.Hostname()
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%s/%d/%s", host, os.Getpid(), hex.EncodeToString(b))
}

// Close closes the pool. A lease this process holds is left to expire:
// Lease.Run releases it when its context ends.
func (db *DB) Close() error {
	db.pool.Close()
	return nil
}

// URL is the database's URL with its password hidden.
func (db *DB) URL() string { return db.url }

// Stats reports counts from nd_state (one row read) and the size of
// newsdesk's tables, which PostgreSQL keeps without a scan.
func (db *DB) Stats(ctx context.Context) (store.Stats, error) {
	var s store.Stats
	err := db.pool.QueryRow(ctx, `SELECT stories, tombstones FROM nd_state WHERE id = 1`).Scan(&s.Stories, &s.Tombstones)
	if err != nil {
		return store.Stats{}, fmt.Errorf("stats: %w", err)
	}
	if err := db.pool.QueryRow(ctx, db.sizeSQL).Scan(&s.FileSize); err != nil {
		if !isUndefinedFunction(err) {
			return store.Stats{}, fmt.Errorf("stats: %w", err)
		}
		s.FileSize = 0 // unknown: see sizeQuery
	}
	return s, nil
}

// isUndefinedFunction reports whether err is the server's "function does
// not exist" (42883).
func isUndefinedFunction(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "42883"
}

// sizeQuery sums the on-disk size of newsdesk's tables and their indexes in
// the current schema. pg_total_relation_size reads the relation's files'
// sizes, not its rows. It is PostgreSQL's own: CockroachDB releases before
// 2026 lack it (the statement fails with 42883, and Stats reports the size
// as 0, unknown) and YugabyteDB answers 0.
const sizeQuery = `SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), 0)::BIGINT
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind = 'r' AND c.relname LIKE 'nd\_%' AND n.nspname = current_schema()`

// Meta returns the caller's value under key, "" when none.
func (db *DB) Meta(ctx context.Context, key string) (string, error) {
	var v []byte
	err := db.pool.QueryRow(ctx, `SELECT value FROM nd_meta WHERE key = $1`, []byte(key)).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read meta %s: %w", key, err)
	}
	return string(v), nil
}

// SetMeta stores value under key. It is a write like any other: while this
// process leads, it is fenced by the lease.
func (db *DB) SetMeta(ctx context.Context, key, value string) error {
	err := db.write(ctx, func(tx pgx.Tx, _ *state) error {
		_, err := tx.Exec(ctx, `INSERT INTO nd_meta (key, value) VALUES ($1, $2)
ON CONFLICT (key) DO UPDATE SET value = excluded.value`, []byte(key), []byte(value))
		return err
	})
	if err != nil {
		return fmt.Errorf("write meta %s: %w", key, err)
	}
	return nil
}

// state is nd_state's row as a write transaction locked it.
type state struct {
	gen                  int64
	seq                  int64
	stories, tombstones  int64
	newestDated          int64 // nanos; 0 when no dated story was stored
	allCount, allChanged int64
	changes              int64
	rebuildBy            string
	rebuildLive          bool // rebuild_until is in the future
}

// lockState takes the writers' lock and reads the state row.
func lockState(ctx context.Context, tx pgx.Tx) (*state, error) {
	var s state
	err := tx.QueryRow(ctx, `SELECT gen, seq, stories, tombstones, newest_dated, all_count, all_changed, changes,
	rebuild_by, rebuild_until > now()
FROM nd_state WHERE id = 1 FOR UPDATE`).Scan(&s.gen, &s.seq, &s.stories, &s.tombstones, &s.newestDated,
		&s.allCount, &s.allChanged, &s.changes, &s.rebuildBy, &s.rebuildLive)
	if err != nil {
		return nil, fmt.Errorf("lock store: %w", err)
	}
	return &s, nil
}

// saveState writes back what a transaction changed in the state row.
func saveState(ctx context.Context, tx pgx.Tx, s *state) error {
	_, err := tx.Exec(ctx, `UPDATE nd_state SET seq = $1, stories = $2, tombstones = $3, newest_dated = $4,
	all_count = $5, all_changed = $6, changes = $7 WHERE id = 1`,
		s.seq, s.stories, s.tombstones, s.newestDated, s.allCount, s.allChanged, s.changes)
	return err
}

// rebuildWait is how often a writer of another process looks again while a
// re-classification runs.
const rebuildWait = 100 * time.Millisecond

// write runs fn in a transaction holding the writers' lock, committing when
// fn returns nil. While another process re-classifies it waits (Puts wait
// for a Reclassify, whoever runs it); while this process leads, it first
// checks the lease (see fence).
func (db *DB) write(ctx context.Context, fn func(pgx.Tx, *state) error) error {
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		wait, err := db.tryWrite(ctx, fn)
		if err != nil || !wait {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(rebuildWait):
		}
	}
}

func (db *DB) tryWrite(ctx context.Context, fn func(pgx.Tx, *state) error) (wait bool, err error) {
	tx, err := db.pool.Begin(ctx)
	if err != nil {
		return false, err
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	st, err := lockState(ctx, tx)
	if err != nil {
		return false, err
	}
	// The fence first: a process that may not write has nothing to wait
	// for.
	if err := db.checkFence(ctx, tx); err != nil {
		return false, err
	}
	if st.rebuildLive && st.rebuildBy != db.me {
		return true, nil
	}
	if err := fn(tx, st); err != nil {
		return false, err
	}
	return false, tx.Commit(ctx)
}

// isRetryable reports whether err is a conflict the database asks the
// client to retry: a serialization failure or a deadlock (CockroachDB
// reports its transaction restarts as serialization failures too).
func isRetryable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40001" || pe.Code == "40P01")
}
