package bolt

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/newsdesk/newsdesk/internal/store"
)

// pruneBatch bounds one Prune transaction, so readers and Put are never
// held up for long and a huge backlog does not need one huge transaction.
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
		err := db.bolt.Update(func(tx *bbolt.Tx) error {
			var err error
			n, err = pruneBatchTx(tx, r, now)
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
		n := 0
		err := db.bolt.Update(func(tx *bbolt.Tx) error {
			var err error
			n, err = expireTombstones(tx, cutoff)
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

// pruneBatchTx deletes up to about pruneBatch stories, oldest ingested first.
// Seq order is FirstSeen order, so the walk stops at the first story that is
// young enough and within the count.
func pruneBatchTx(tx *bbolt.Tx, r store.Retention, now time.Time) (int, error) {
	w := newWriter(tx, activeGen(tx), now)
	excess := r.Excess(int(uint64At(w.meta.Get(metaStories))))
	var victims []string // collect first: deleting under a cursor skips keys
	c := w.seq.Cursor()
	for k, v := c.First(); k != nil && len(victims) < pruneBatch; k, v = c.Next() {
		firstSeen, _, id := splitSeqValue(v)
		if !r.Due(firstSeen, excess-len(victims), now) {
			break
		}
		victims = append(victims, id)
	}
	n := 0
	for _, id := range victims {
		m, err := w.remove(id, true)
		if err != nil {
			return n, fmt.Errorf("remove %s: %w", id, err)
		}
		n += m
	}
	_, err := w.flush()
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
	key := []byte(id)
	if err := w.stories.Delete(key); err != nil {
		return n, err
	}
	if err := countStory(w.tx, s, -1); err != nil {
		return n, err
	}
	if err := w.seq.Delete(be64(s.Seq)); err != nil {
		return n, err
	}
	if err := addCounter(w.meta, metaStories, -1); err != nil {
		return n, err
	}
	if err := w.release(id, store.GroupKeys(s.Link)); err != nil {
		return n, err
	}
	if err := w.own.Delete(be64(s.Seq)); err != nil {
		return n, err
	}
	if s.DuplicateOf == "" {
		if err := w.time.Delete(timeKey(s.Published, id)); err != nil {
			return n, err
		}
		w.allDelta--
		old := splitSlugs(w.idx.Get(be64(s.Seq)))
		if err := w.reindex(id, entry{old, s.Published, s.Seq}, entry{}); err != nil {
			return n, err
		}
	} else if cascade {
		// A duplicate pruned on its own: the group is regrouped without it
		// (it is gone from stories/ already), so its representative loses
		// the Ref and the topics the duplicate brought.
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

func (w *writer) tombstone(id string) error {
	tomb := w.tx.Bucket(bucketTombstones)
	if old := tomb.Get([]byte(id)); old != nil {
		if err := w.tx.Bucket(bucketTombTime).Delete(timeKey(time.Unix(0, int64(uint64At(old))), id)); err != nil {
			return err
		}
	} else if err := addCounter(w.meta, metaTombstones, 1); err != nil {
		return err
	}
	if err := tomb.Put([]byte(id), be64(nanos(w.now))); err != nil {
		return err
	}
	return w.tx.Bucket(bucketTombTime).Put(timeKey(w.now, id), nil)
}

// expireTombstones drops up to pruneBatch tombstones set before cutoff.
func expireTombstones(tx *bbolt.Tx, cutoff uint64) (int, error) {
	tomb, byTime := tx.Bucket(bucketTombstones), tx.Bucket(bucketTombTime)
	floor := be64(cutoff)
	var keys [][]byte
	c := byTime.Cursor()
	for k, _ := c.First(); k != nil && bytes.Compare(k[:8], floor) < 0 && len(keys) < pruneBatch; k, _ = c.Next() {
		keys = append(keys, bytes.Clone(k))
	}
	for _, k := range keys {
		if err := byTime.Delete(k); err != nil {
			return 0, err
		}
		if err := tomb.Delete(k[8:]); err != nil {
			return 0, err
		}
	}
	if err := addCounter(tx.Bucket(bucketMeta), metaTombstones, -len(keys)); err != nil {
		return 0, err
	}
	return len(keys), nil
}

// releaseOrphans gives up the keys of link (a pruned member's) that the
// representative rep holds and no remaining member's link has: a key left
// with a group that no longer carries the link would outlive the group.
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
