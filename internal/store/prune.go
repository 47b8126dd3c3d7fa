package store

import (
	"bytes"
	"fmt"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/newsdesk/newsdesk/internal/story"
)

const (
	// pruneBatch bounds one Prune transaction, so readers and Put are never
	// held up for long and a huge backlog does not need one huge transaction.
	pruneBatch = 1000
	// TombstoneTTL is the least time a pruned id stays tombstoned: far longer
	// than any upstream keeps an entry in its feed, so a pruned story is not
	// ingested again as new.
	TombstoneTTL = 180 * 24 * time.Hour
)

// Prune deletes stories first seen more than maxAge before now, and the
// oldest-ingested stories beyond the newest maxStories; zero disables either
// rule. It goes by FirstSeen rather than Published so a story an upstream
// backdates stays as long as any other (topic pages cut by Published with
// Query.NotBefore). A link group's representative takes its duplicates
// with it; a duplicate goes alone.
//
// Every pruned id leaves a tombstone so Put skips it when the upstream still
// lists it; tombstones older than max(TombstoneTTL, 2×maxAge) are dropped.
// Work is done in transactions of about 1000 stories. Prune returns the
// number of stories deleted.
func (db *DB) Prune(maxAge time.Duration, maxStories int, now time.Time) (int, error) {
	db.mu.Lock()
	defer db.mu.Unlock()
	now = now.UTC()
	cutoff := uint64(0)
	if maxAge > 0 {
		cutoff = nanos(now.Add(-maxAge))
	}
	deleted := 0
	for {
		n := 0
		err := db.bolt.Update(func(tx *bolt.Tx) error {
			var err error
			n, err = pruneBatchTx(tx, cutoff, maxStories, now)
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
	ttl := max(TombstoneTTL, 2*maxAge)
	for {
		n := 0
		err := db.bolt.Update(func(tx *bolt.Tx) error {
			var err error
			n, err = expireTombstones(tx, nanos(now.Add(-ttl)))
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
func pruneBatchTx(tx *bolt.Tx, cutoff uint64, maxStories int, now time.Time) (int, error) {
	w := newWriter(tx, activeGen(tx), now)
	excess := 0
	if maxStories > 0 {
		excess = int(uint64At(w.meta.Get(metaStories))) - maxStories
	}
	var victims []string // collect first: deleting under a cursor skips keys
	c := w.seq.Cursor()
	for k, v := c.First(); k != nil && len(victims) < pruneBatch; k, v = c.Next() {
		firstSeen, _, id := splitSeqValue(v)
		if len(victims) >= excess && nanos(firstSeen) >= cutoff {
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
	if err := w.seq.Delete(be64(s.Seq)); err != nil {
		return n, err
	}
	if err := addCounter(w.meta, metaStories, -1); err != nil {
		return n, err
	}
	if s.Link != "" && len(s.Link) <= maxLinkLen && string(w.links.Get([]byte(s.Link))) == id {
		if err := w.links.Delete([]byte(s.Link)); err != nil {
			return n, err
		}
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
		// A duplicate pruned on its own: its representative loses its Ref and
		// the topics the duplicate brought.
		if f, ok, err := w.load(s.DuplicateOf); err != nil {
			return n, err
		} else if ok {
			f.AlsoIn = slices.DeleteFunc(f.AlsoIn, func(r story.Ref) bool { return r.ID == id })
			if err := w.save(f); err != nil {
				return n, err
			}
			if err := w.refresh(f, true); err != nil {
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
func expireTombstones(tx *bolt.Tx, cutoff uint64) (int, error) {
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
