package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// ErrNotLeader is the error of a write made by a process that led and has
// lost the lease: another replica may be leading, so nothing is written.
var ErrNotLeader = errors.New("this replica no longer holds the leader lease")

// fence is the lease this process holds while it leads. Every write
// transaction then reads the lease row FOR SHARE and commits only if it is
// still this process's, with the same epoch, unexpired by the database's
// clock: a leader that lost the lease (a pause, a partition) cannot write
// after another replica took over, and a takeover waits for a write that
// checked the lease to commit.
type fence struct{ epoch int64 }

// A process that campaigns (Lead) writes only while it leads: between
// leaderships, and after it lost the lease, every write is refused with
// ErrNotLeader, so nothing it still holds in memory (a source state it
// polled as leader) can reach the store behind the new leader's back. A
// process that never campaigns (`newsdesk fetch`, migrate-store) is not
// fenced.
func (db *DB) checkFence(ctx context.Context, tx pgx.Tx) error {
	f := db.fence.Load()
	if f == nil {
		if db.campaigning.Load() {
			return ErrNotLeader
		}
		return nil
	}
	var one int
	err := tx.QueryRow(ctx, `SELECT 1 FROM nd_lock
WHERE name = $1 AND holder = $2 AND epoch = $3 AND expires > now() FOR SHARE`, lockLeader, db.me, f.epoch).Scan(&one)
	if errors.Is(err, pgx.ErrNoRows) {
		return ErrNotLeader
	}
	if err != nil {
		return fmt.Errorf("check the leader lease: %w", err)
	}
	return nil
}

// Leadership is what a replica knows of the lease.
type Leadership struct {
	Holder  string    // the leading process's token (host/pid/random); "" when none leads
	Info    string    // what the leader said of itself (Lead's info: its address)
	Expires time.Time // by the database's clock
	Self    bool      // this process leads
}

// Leader reads the lease row: who leads now, if anyone.
func (db *DB) Leader(ctx context.Context) (Leadership, error) {
	var l Leadership
	err := db.pool.QueryRow(ctx, `SELECT holder, info, expires FROM nd_lock WHERE name = $1 AND expires > now()`,
		lockLeader).Scan(&l.Holder, &l.Info, &l.Expires)
	if errors.Is(err, pgx.ErrNoRows) {
		return Leadership{}, nil
	}
	if err != nil {
		return Leadership{}, fmt.Errorf("read the leader lease: %w", err)
	}
	l.Self = l.Holder == db.me
	return l, nil
}

// Self is this process's token, as Leadership.Holder names it.
func (db *DB) Self() string { return db.me }

// Lead campaigns for the leader lease until ctx ends. period is the longest
// a replica waits, after the leader dies, before it leads instead: the
// lease row expires three fifths of a period after its last renewal, and
// every replica tries to take it every fifth of a period.
//
// While this process holds the lease, lead runs with a context that ends
// when the lease is lost: a renewal finds another holder, or renewals fail
// (the database unreachable) until the lease would expire within a fifth of
// a period, well before any other replica could take it. The context's
// cause (context.Cause) is then ErrNotLeader; it is context.Canceled when
// the lease was given up (ctx ended, or lead returned). Writes are fenced
// meanwhile (see fence), and from the first call on, this process's writes
// outside a lease it holds are refused. Lead waits for lead to return before campaigning
// again; when ctx ends it then gives the lease up, so another replica takes
// over at once.
func (db *DB) Lead(ctx context.Context, period time.Duration, info string, lead func(context.Context)) error {
	db.campaigning.Store(true)
	step := max(period/5, 10*time.Millisecond)
	ttl := 3 * step
	tick := time.NewTicker(step)
	defer tick.Stop()
	for {
		start := time.Now()
		epoch, ok, err := db.take(ctx, ttl, info)
		if err == nil && ok {
			db.hold(ctx, epoch, start, step, ttl, lead)
		}
		if ctx.Err() != nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// LeadOnce is Lead for a one-shot writer (`newsdesk fetch`): it takes the
// leader lease if no process holds it, runs lead while holding it (renewed,
// fenced and ended on loss as Lead does), then gives it up. It reports
// false, without running lead, when another process leads. Once it has
// led, this process's writes outside the lease are refused, as after Lead:
// lead must do every write.
func (db *DB) LeadOnce(ctx context.Context, period time.Duration, info string, lead func(context.Context)) (bool, error) {
	step := max(period/5, 10*time.Millisecond)
	ttl := 3 * step
	start := time.Now()
	epoch, ok, err := db.take(ctx, ttl, info)
	if err != nil {
		return false, fmt.Errorf("take the leader lease: %w", err)
	}
	if !ok {
		return false, nil
	}
	db.campaigning.Store(true)
	db.hold(ctx, epoch, start, step, ttl, lead)
	return true, nil
}

// take acquires the leader lease when it is free or expired.
func (db *DB) take(ctx context.Context, ttl time.Duration, info string) (int64, bool, error) {
	var epoch int64
	err := db.pool.QueryRow(ctx, `INSERT INTO nd_lock (name, holder, epoch, expires, info)
VALUES ($1, $2, 1, now() + $3::BIGINT * INTERVAL '1 millisecond', $4)
ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, epoch = nd_lock.epoch + 1,
	expires = excluded.expires, info = excluded.info
WHERE nd_lock.expires < now()
RETURNING epoch`, lockLeader, db.me, ttl.Milliseconds(), info).Scan(&epoch)
	if errors.Is(err, pgx.ErrNoRows) || isDuplicate(err) || isRetryable(err) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	return epoch, true, nil
}

// renew extends the lease this process holds at epoch; false when it is
// no longer held.
func (db *DB) renew(ctx context.Context, epoch int64, ttl time.Duration) (bool, error) {
	tag, err := db.pool.Exec(ctx, `UPDATE nd_lock SET expires = now() + $4::BIGINT * INTERVAL '1 millisecond'
WHERE name = $1 AND holder = $2 AND epoch = $3 AND expires > now()`, lockLeader, db.me, epoch, ttl.Milliseconds())
	if err != nil {
		return false, err
	}
	return tag.RowsAffected() == 1, nil
}

// hold runs lead while the lease taken at start (local clock) with epoch
// holds, renewing it every step.
func (db *DB) hold(ctx context.Context, epoch int64, start time.Time, step, ttl time.Duration, lead func(context.Context)) {
	db.fence.Store(&fence{epoch: epoch})
	leadCtx, cancel := context.WithCancelCause(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		lead(leadCtx)
	}()
	// The lease row expires ttl after the database ran the statement, which
	// is after start: stopping at start+ttl-step by this clock is early by
	// the database's.
	deadline := start.Add(ttl - step)
	tick := time.NewTicker(step)
	lost := false
loop:
	for {
		select {
		case <-done:
			break loop
		case <-ctx.Done():
			break loop
		case <-tick.C:
		}
		at := time.Now()
		rctx, rcancel := context.WithDeadline(ctx, deadline)
		ok, err := db.renew(rctx, epoch, ttl)
		rcancel()
		switch {
		case err == nil && ok:
			deadline = at.Add(ttl - step)
		case err == nil && !ok:
			lost = true
		case time.Now().After(deadline):
			lost = true
		}
		if lost {
			break
		}
	}
	tick.Stop()
	if lost {
		cancel(ErrNotLeader)
	} else {
		cancel(nil)
	}
	<-done // lead's writes end (or fail, fenced) before the lease goes
	if !lost {
		// Given up (shutdown, or lead returned): another replica may take
		// over at once instead of waiting for the expiry.
		_, _ = db.pool.Exec(context.WithoutCancel(ctx), `UPDATE nd_lock SET expires = now() - INTERVAL '1 second'
WHERE name = $1 AND holder = $2 AND epoch = $3`, lockLeader, db.me, epoch)
	}
	db.fence.Store(nil)
}

// Changes reports what changed since the change counter stood at after:
// the counter now and the slugs of the topics whose feeds changed since
// ("" the all-stories index). Every write that changes a feed bumps the
// counter in its transaction; replicas poll it to drop cached renders.
// With after 0 it returns the counter and no slugs.
func (db *DB) Changes(ctx context.Context, after int64) (int64, []string, error) {
	var now int64
	if err := db.pool.QueryRow(ctx, `SELECT changes FROM nd_state WHERE id = 1`).Scan(&now); err != nil {
		return 0, nil, fmt.Errorf("read change counter: %w", err)
	}
	if now <= after || after == 0 {
		return now, nil, nil
	}
	rows, err := db.pool.Query(ctx, `SELECT slug FROM nd_changes WHERE version > $1 AND version <= $2`, after, now)
	if err != nil {
		return 0, nil, fmt.Errorf("read changes: %w", err)
	}
	slugs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (string, error) {
		var b []byte
		err := r.Scan(&b)
		return string(b), err
	})
	if err != nil {
		return 0, nil, fmt.Errorf("read changes: %w", err)
	}
	return now, slugs, nil
}
