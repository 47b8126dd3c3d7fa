package bolt

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/newsdesk/newsdesk/internal/store"
	"github.com/newsdesk/newsdesk/internal/story"
)

// Put stores the stories of one fetched feed, with the source's state, in one
// transaction (shared with other feeds' Puts running at the same moment), as
// store.Store's Put describes.
func (db *DB) Put(ctx context.Context, source string, st store.SourceState, stories []story.Story, now time.Time) (store.PutResult, error) {
	if err := ctx.Err(); err != nil {
		return store.PutResult{}, fmt.Errorf("put %s: %w", source, err)
	}
	for i, s := range stories {
		if err := store.CheckID(s.ID); err != nil {
			return store.PutResult{}, fmt.Errorf("put %s: story %d (%q): %w", source, i, truncate(s.Title, 40), err)
		}
	}
	db.mu.RLock()
	defer db.mu.RUnlock()
	var res store.PutResult
	// Batch commits the Puts of concurrent fetches together: one fsync for
	// several feeds. It may run this function more than once, so it only
	// sets res, never appends to it.
	err := db.bolt.Batch(func(tx *bbolt.Tx) error {
		res = store.PutResult{}
		if err := putSource(tx, source, st); err != nil {
			return err
		}
		w := newWriter(tx, activeGen(tx), now)
		tomb := tx.Bucket(bucketTombstones)
		for i := range stories {
			if tomb.Get([]byte(stories[i].ID)) != nil {
				res.Skipped++
				continue
			}
			if err := w.put(stories[i], &res); err != nil {
				return fmt.Errorf("story %s: %w", stories[i].ID, err)
			}
		}
		var err error
		res.Topics, err = w.flush()
		return err
	})
	if err != nil {
		return store.PutResult{}, fmt.Errorf("put %s: %w", source, err)
	}
	return res, nil
}

// put stores one story and counts it in res.
func (w *writer) put(in story.Story, res *store.PutResult) error {
	own := store.Slugs(in.Topics)
	old, exists, err := w.load(in.ID)
	if err != nil {
		return err
	}
	if !exists {
		res.New++
		return w.insert(store.Admit(in, w.now), own)
	}

	s := store.Merge(old, in)
	v, err := encode(s)
	if err != nil {
		return fmt.Errorf("encode: %w", err)
	}
	changed := !bytes.Equal(v, w.stories.Get([]byte(s.ID)))
	if changed {
		res.Updated++
		if err := w.stories.Put([]byte(s.ID), v); err != nil {
			return err
		}
	} else {
		res.Unchanged++
	}
	ownChanged := !slices.Equal(own, splitSlugs(w.own.Get(be64(s.Seq))))
	if ownChanged {
		if err := w.setOwn(s.Seq, own); err != nil {
			return err
		}
	}

	if s.DuplicateOf != "" {
		// A duplicate's topics are indexed on its representative; its
		// content is not what that story's feeds show, unless it now makes
		// the better copy.
		if !ownChanged && !changed {
			return nil
		}
		f, ok, err := w.load(s.DuplicateOf)
		if err != nil || !ok {
			return err
		}
		if !changed {
			return w.refresh(f, false)
		}
		return w.regroup(f, false)
	}

	if changed {
		if err := w.relink(old, s); err != nil {
			return err
		}
		w.allChanged = true
	}
	if nanos(old.Published) != nanos(s.Published) {
		if err := w.time.Delete(timeKey(old.Published, s.ID)); err != nil {
			return err
		}
		if err := w.time.Put(timeKey(s.Published, s.ID), nil); err != nil {
			return err
		}
	}
	members, err := w.members(s)
	if err != nil {
		return err
	}
	oldMembers := splitSlugs(w.idx.Get(be64(s.Seq)))
	if err := w.reindex(s.ID, entry{oldMembers, old.Published, old.Seq}, entry{members, s.Published, s.Seq}); err != nil {
		return err
	}
	if changed {
		w.touch(members)
		if len(s.AlsoIn) > 0 {
			return w.regroup(s, true) // the new content may make another copy the better one
		}
	}
	return nil
}

// insert stores s, a story the store has never seen, as store.Admit made it.
func (w *writer) insert(s story.Story, own []string) error {
	seq, err := w.stories.NextSequence()
	if err != nil {
		return err
	}
	s.Seq = seq
	rep, err := w.claimLink(s)
	if err != nil {
		return err
	}
	var flags byte
	if rep != nil {
		// A duplicate until regroup says otherwise, which needs it stored.
		s.DuplicateOf = rep.ID
		flags |= seqDup
	}
	if err := w.save(s); err != nil {
		return err
	}
	if err := w.seq.Put(be64(s.Seq), seqValue(s.FirstSeen, flags, s.ID)); err != nil {
		return err
	}
	if err := addCounter(w.meta, metaStories, 1); err != nil {
		return err
	}
	if err := w.setOwn(s.Seq, own); err != nil {
		return err
	}
	if rep != nil {
		// The group gained a member: what its feeds show changed (AlsoIn),
		// and s may be the better copy.
		return w.regroup(*rep, true, s)
	}
	if err := w.time.Put(timeKey(s.Published, s.ID), nil); err != nil {
		return err
	}
	w.allDelta++
	members, err := w.members(s)
	if err != nil {
		return err
	}
	return w.reindex(s.ID, entry{}, entry{members, s.Published, s.Seq})
}

// claimLink records s as the holder of its Link, or returns the
// representative of the link group s joins as a duplicate (see store.Joins).
func (w *writer) claimLink(s story.Story) (*story.Story, error) {
	if !store.Groupable(s.Link) {
		return nil, nil
	}
	if id := w.links.Get([]byte(s.Link)); id != nil {
		f, ok, err := w.load(string(id))
		if err != nil {
			return nil, err
		}
		if ok && f.DuplicateOf == "" {
			if !store.Joins(f, s) {
				return nil, nil // one source's two entries for one link are two stories
			}
			return &f, nil
		}
	}
	return nil, w.links.Put([]byte(s.Link), []byte(s.ID))
}

// relink moves a representative's claim when its Link changed.
func (w *writer) relink(old, s story.Story) error {
	if old.Link == s.Link {
		return nil
	}
	if store.Groupable(old.Link) && string(w.links.Get([]byte(old.Link))) == s.ID {
		if err := w.links.Delete([]byte(old.Link)); err != nil {
			return err
		}
	}
	if store.Groupable(s.Link) && w.links.Get([]byte(s.Link)) == nil {
		return w.links.Put([]byte(s.Link), []byte(s.ID))
	}
	return nil
}

func (w *writer) setOwn(seq uint64, own []string) error {
	if len(own) == 0 {
		return w.own.Delete(be64(seq))
	}
	return w.own.Put(be64(seq), joinSlugs(own))
}
