package postgres

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/newsdesk/newsdesk/internal/store"
)

// pruneBatch bounds one Prune transaction, so readers and Puts are never
// held up for long.
const pruneBatch = 1000

// Prune applies the retention policy r at now, as store.Store's Prune
// describes, in transactions of about pruneBatch stories.
func (db *DB) Prune(ctx context.Context, r store.Retention, now time.Time) (int, error) {
	db.mu.Lock()
	defer db.mu.Unlock()
	now = now.UTC()
	deleted := 0
	for !r.Off() {
		if err := ctx.Err(); err != nil {
			return deleted, fmt.Errorf("prune: %w", err)
		}
		n := 0
		err := db.write(ctx, func(tx pgx.Tx, st *state) error {
			var err error
			n, err = pruneBatchTx(ctx, tx, st, r, now)
			return err
		})
		if err != nil {
			return deleted, fmt.Errorf("prune: %w", err)
		}
		if n == 0 {
			break
		}
		deleted += n
	}
	cutoff := nanos(r.TombstoneCutoff(now))
	for {
		if err := ctx.Err(); err != nil {
			return deleted, fmt.Errorf("prune tombstones: %w", err)
		}
		var n int64
		err := db.write(ctx, func(tx pgx.Tx, st *state) error {
			tag, err := tx.Exec(ctx, `DELETE FROM nd_tombstones WHERE id IN
	(SELECT id FROM nd_tombstones WHERE pruned < $1 ORDER BY pruned, id LIMIT $2)`, cutoff, pruneBatch)
			if err != nil {
				return err
			}
			n = tag.RowsAffected()
			if n == 0 {
				return nil
			}
			_, err = tx.Exec(ctx, `UPDATE nd_state SET tombstones = GREATEST(tombstones - $1, 0) WHERE id = 1`, n)
			return err
		})
		if err != nil {
			return deleted, fmt.Errorf("prune tombstones: %w", err)
		}
		if n == 0 {
			return deleted, nil
		}
	}
}

// pruneBatchTx deletes up to about pruneBatch stories, oldest ingested
// first: a walk of the Seq index that stops at the first story to keep.
func pruneBatchTx(ctx context.Context, tx pgx.Tx, st *state, r store.Retention, now time.Time) (int, error) {
	w := newWriter(ctx, tx, st, st.gen, now)
	excess := r.Excess(int(st.stories))
	rows, err := tx.Query(ctx, `SELECT id, first_seen FROM nd_stories ORDER BY seq LIMIT $1`, pruneBatch)
	if err != nil {
		return 0, err
	}
	var victims []string
	for rows.Next() {
		var id []byte
		var seen int64
		if err := rows.Scan(&id, &seen); err != nil {
			return 0, err
		}
		if !r.Due(time.Unix(0, seen).UTC(), excess-len(victims), now) {
			break
		}
		victims = append(victims, string(id))
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	ids := make([][]byte, len(victims))
	for i, id := range victims {
		ids[i] = []byte(id)
	}
	if err := w.loadStories(ids); err != nil {
		return 0, err
	}
	n := 0
	for _, id := range victims {
		m, err := w.remove(id, true)
		if err != nil {
			return n, fmt.Errorf("remove %s: %w", id, err)
		}
		n += m
	}
	if n == 0 {
		return 0, nil
	}
	_, err = w.flush()
	return n, err
}

// remove deletes a story, its index entries and its duplicates, and leaves
// tombstones. It returns how many stories it deleted (0 when id is gone).
func (w *writer) remove(id string, cascade bool) (int, error) {
	s, ok, err := w.load(id)
	if err != nil || !ok {
		return 0, err
	}
	n := 0
	if cascade {
		for _, r := range s.AlsoIn {
			// After a swap the representative may hold keys of a member's
			// link: they go with the group.
			if d, ok, err := w.load(r.ID); err != nil {
				return n, err
			} else if ok {
				if err := w.release(id, store.GroupKeys(d.Link)); err != nil {
					return n, err
				}
			}
			m, err := w.remove(r.ID, false)
			if err != nil {
				return n, err
			}
			n += m
		}
	}
	w.deleteStory(id)
	w.countStory(s, -1)
	w.st.stories = max(w.st.stories-1, 0)
	if err := w.release(id, store.GroupKeys(s.Link)); err != nil {
		return n, err
	}
	if err := w.setOwn(s.Seq, nil); err != nil {
		return n, err
	}
	if s.DuplicateOf == "" {
		w.allDelta--
		old, err := w.idx(s.Seq)
		if err != nil {
			return n, err
		}
		if err := w.reindex(id, entry{old, s.Published, s.Seq}, entry{}); err != nil {
			return n, err
		}
	} else if cascade {
		// A duplicate pruned on its own: the group is regrouped without it,
		// so its representative loses the Ref and the topics it brought.
		if f, ok, err := w.load(s.DuplicateOf); err != nil {
			return n, err
		} else if ok {
			if err := w.regroup(f, true); err != nil {
				return n, err
			}
			if err := w.releaseOrphans(f.ID, s.Link); err != nil {
				return n, err
			}
		}
	}
	if err := w.tombstone(id); err != nil {
		return n, err
	}
	return n + 1, nil
}

// releaseOrphans gives up the keys of link (a pruned member's) that the
// representative rep holds and no remaining member's link has.
func (w *writer) releaseOrphans(rep, link string) error {
	f, ok, err := w.load(rep)
	if err != nil || !ok {
		return err
	}
	keep := store.GroupKeys(f.Link)
	for _, r := range f.AlsoIn {
		d, ok, err := w.load(r.ID)
		if err != nil {
			return err
		}
		if ok {
			keep = append(keep, store.GroupKeys(d.Link)...)
		}
	}
	var orphans []string
	for _, key := range store.GroupKeys(link) {
		if !slices.Contains(keep, key) {
			orphans = append(orphans, key)
		}
	}
	return w.release(rep, orphans)
}
