package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/newsdesk/newsdesk/internal/store"
	"github.com/newsdesk/newsdesk/internal/story"
)

// rebuildLease is how long the re-classification flag holds without a
// renewal: every batch renews it, and a process that died mid-rebuild
// frees the other processes' writers once it expires.
const rebuildLease = time.Minute

// Reclassify re-runs classify over every stored story and rebuilds the topic
// indexes, as store.Store's Reclassify describes. It builds generation n+1
// beside n, Options.ReclassifyBatch stories per transaction, then switches
// nd_state.gen in one statement, so readers see the old indexes or the new
// ones, never a mix. While it runs, nd_state.rebuild_by names this process:
// every other process's writers wait for it to end (or to expire, if this
// process dies), and this process's wait on db.mu.
func (db *DB) Reclassify(ctx context.Context, classify func(story.Story) []string) ([]string, error) {
	db.mu.Lock()
	defer db.mu.Unlock()
	var oldGen, newGen int64
	err := db.write(ctx, func(tx pgx.Tx, st *state) error {
		oldGen, newGen = st.gen, st.gen+1
		if _, err := tx.Exec(ctx, `UPDATE nd_state SET rebuild_by = $1,
	rebuild_until = now() + $2::BIGINT * INTERVAL '1 millisecond' WHERE id = 1`, db.me, rebuildLease.Milliseconds()); err != nil {
			return err
		}
		// What a crashed rebuild left: nothing reads a generation but the
		// active one.
		return dropGenerations(ctx, tx, `gen <> $1`, oldGen)
	})
	if err != nil {
		return nil, reclassifyError(ctx, err)
	}
	defer func() {
		_, _ = db.pool.Exec(context.WithoutCancel(ctx), `UPDATE nd_state SET rebuild_by = '',
	rebuild_until = '1970-01-01T00:00:00Z' WHERE id = 1 AND rebuild_by = $1`, db.me)
	}()

	now := time.Now().UTC()
	b := &rebuild{ctx: ctx, classify: classify, tally: store.NewTally(), size: db.opts.ReclassifyBatch}
	var after int64
	for done := false; !done; {
		err := db.write(ctx, func(tx pgx.Tx, st *state) error {
			if st.rebuildBy != db.me || st.gen != oldGen {
				return errors.New("another process took the re-classification over")
			}
			if _, err := tx.Exec(ctx, `UPDATE nd_state SET rebuild_until = now() + $1::BIGINT * INTERVAL '1 millisecond'
WHERE id = 1`, rebuildLease.Milliseconds()); err != nil {
				return err
			}
			var err error
			after, done, err = b.batch(tx, st, oldGen, newGen, after, now)
			return err
		})
		if err != nil {
			return nil, reclassifyError(ctx, errors.Join(err, db.dropHalfBuilt(ctx, newGen)))
		}
		if db.afterBatch != nil {
			db.afterBatch()
		}
	}

	var changed []string
	err = db.write(ctx, func(tx pgx.Tx, st *state) error {
		if st.gen != oldGen {
			return fmt.Errorf("generation moved from %d to %d during the rebuild", oldGen, st.gen)
		}
		prevs := map[string]int64{}
		rows, err := tx.Query(ctx, `SELECT slug, changed FROM nd_topic_info WHERE gen = $1`, oldGen)
		if err != nil {
			return err
		}
		for rows.Next() {
			var slug []byte
			var at int64
			if err := rows.Scan(&slug, &at); err != nil {
				return err
			}
			prevs[string(slug)] = at
		}
		if err := rows.Err(); err != nil {
			return err
		}
		prev := func(slug string) time.Time {
			if at := prevs[slug]; at != 0 {
				return time.Unix(0, at).UTC()
			}
			return time.Time{}
		}
		var infos map[string]store.TopicInfo
		infos, changed = b.tally.Result(prev, now)
		var slugs [][]byte
		var counts, ats []int64
		for slug, info := range infos {
			slugs, counts = append(slugs, []byte(slug)), append(counts, int64(info.Count))
			at := int64(0)
			if !info.Changed.IsZero() {
				at = nanos(info.Changed)
			}
			ats = append(ats, at)
		}
		bt := &pgx.Batch{}
		if len(slugs) > 0 {
			bt.Queue(`INSERT INTO nd_topic_info (gen, slug, count, changed)
SELECT $1, * FROM unnest($2::BYTEA[], $3::BIGINT[], $4::BIGINT[])`, newGen, slugs, counts, ats)
		}
		if len(changed) > 0 {
			st.changes++
			queueChanges(bt, changed, st.changes)
		}
		bt.Queue(`UPDATE nd_state SET gen = $1, changes = $2 WHERE id = 1`, newGen, st.changes)
		return tx.SendBatch(ctx, bt).Close()
	})
	if err != nil {
		return nil, reclassifyError(ctx, err)
	}
	// The retired generation: no reader looks at it any more.
	if err := dropGenerations(context.WithoutCancel(ctx), db.pool, `gen = $1`, oldGen); err != nil {
		return changed, fmt.Errorf("reclassify: drop generation %d: %w", oldGen, err)
	}
	return changed, nil
}

// dropHalfBuilt deletes the rows of generation gen that a failed Reclassify
// of this process built, in a write of its own: fenced like every write, and
// only while gen is still unused. Another process may have taken the
// re-classification over meanwhile (this one paused past its flag, or lost
// the lead): its generation then has the same number, and is being built
// or already active, so it is left alone. Rows left behind are dropped by
// the next Reclassify or Open. A cancelled ctx does not stop the drop.
func (db *DB) dropHalfBuilt(ctx context.Context, gen int64) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	err := db.write(ctx, func(tx pgx.Tx, st *state) error {
		if st.gen >= gen || (st.rebuildLive && st.rebuildBy != db.me) {
			return nil
		}
		return dropGenerations(ctx, tx, `gen = $1`, gen)
	})
	if err != nil && !errors.Is(err, ErrNotLeader) && !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("drop the half-built generation %d: %w", gen, err)
	}
	return nil
}

func reclassifyError(ctx context.Context, err error) error {
	if ctx.Err() != nil && !errors.Is(err, ctx.Err()) {
		err = errors.Join(ctx.Err(), err)
	}
	return fmt.Errorf("reclassify: %w", err)
}

// execer is a pool or a transaction.
type execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// dropGenerations deletes the generation rows where cond (on gen, with $1
// as arg) holds.
func dropGenerations(ctx context.Context, e execer, cond string, arg int64) error {
	for _, table := range []string{"nd_index", "nd_topics", "nd_topic_info"} {
		if _, err := e.Exec(ctx, `DELETE FROM `+table+` WHERE `+cond, arg); err != nil {
			return fmt.Errorf("clear %s: %w", table, err)
		}
	}
	return nil
}

// rebuild is the state of one Reclassify across its batches.
type rebuild struct {
	ctx      context.Context
	classify func(story.Story) []string
	tally    *store.Tally
	size     int
}

// batch reindexes up to b.size stories with Seq after `after` into
// generation gen, and reports the last Seq done and whether all are done.
func (b *rebuild) batch(tx pgx.Tx, st *state, oldGen, gen, after int64, now time.Time) (int64, bool, error) {
	rows, err := tx.Query(b.ctx, `SELECT s.seq, s.body, o.idx FROM nd_stories s
LEFT JOIN nd_topics o ON o.gen = $1 AND o.seq = s.seq
WHERE s.seq > $2 ORDER BY s.seq LIMIT $3`, oldGen, after, b.size)
	if err != nil {
		return 0, false, err
	}
	type walked struct {
		r      *storyRow
		oldIdx []string
	}
	var batch []walked
	for rows.Next() {
		var seq int64
		var body, idx []byte
		if err := rows.Scan(&seq, &body, &idx); err != nil {
			return 0, false, err
		}
		r, err := decodeRow(body)
		if err != nil {
			return 0, false, fmt.Errorf("decode story %d: %w", seq, err)
		}
		r.orig = body
		batch = append(batch, walked{r, splitSlugs(idx)})
	}
	if err := rows.Err(); err != nil {
		return 0, false, err
	}
	w := newWriter(b.ctx, tx, st, gen, now)
	w.infoFlush = false
	var dups [][]byte
	for _, x := range batch {
		w.stories[x.r.s.ID] = x.r
		w.topics[x.r.seq] = &topicRow{} // the new generation has no row for it yet
		for _, ref := range x.r.s.AlsoIn {
			dups = append(dups, []byte(ref.ID))
		}
	}
	if err := w.loadStories(dups); err != nil { // rare: only stories other sources also carried
		return 0, false, err
	}
	last := after
	for _, x := range batch {
		if err := b.ctx.Err(); err != nil {
			return 0, false, err // a regex-heavy classify can take long: stop between stories
		}
		s := x.r.s
		last = int64(s.Seq)
		own := store.Slugs(b.classify(s))
		if err := w.setOwn(s.Seq, own); err != nil {
			return 0, false, err
		}
		if s.DuplicateOf != "" {
			continue
		}
		members := [][]string{own}
		for _, ref := range s.AlsoIn {
			d, ok, err := w.load(ref.ID)
			if err != nil {
				return 0, false, err
			}
			if ok {
				members = append(members, store.Slugs(b.classify(d)))
			}
		}
		got := store.Union(members...)
		if err := w.reindex(s.ID, entry{}, entry{got, s.Published, s.Seq}); err != nil {
			return 0, false, err
		}
		b.tally.Add(x.oldIdx, got)
	}
	if _, err := w.flush(); err != nil {
		return 0, false, err
	}
	return last, len(batch) < b.size, nil
}
