package bolt

import (
	"context"
	"encoding/json"
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
	// The Puts of concurrent fetches commit together: one fsync for several
	// feeds (see committer). This function may run more than once, so it
	// only sets res, never appends to it.
	err := db.commit.do(func(tx *bbolt.Tx) error {
		res = store.PutResult{}
		backlog, err := firstFetch(tx, source)
		if err != nil {
			return err
		}
		if err := putSource(tx, source, st); err != nil {
			return err
		}
		w := newWriter(tx, activeGen(tx), now)
		estimates := store.Estimates(stories, now, backlog, w.newest)
		tomb := tx.Bucket(bucketTombstones)
		for i := range stories {
			if tomb.Get([]byte(stories[i].ID)) != nil {
				res.Skipped++
				continue
			}
			if err := w.put(stories[i], estimates[i], &res); err != nil {
				return fmt.Errorf("story %s: %w", stories[i].ID, err)
			}
		}
		res.Topics, err = w.flush()
		return err
	}, len(stories))
	if err != nil {
		return store.PutResult{}, fmt.Errorf("put %s: %w", source, err)
	}
	return res, nil
}

// firstFetch reports whether source has never been fetched successfully
// before: its stories are a backlog of unknown age (see store.Estimates).
func firstFetch(tx *bbolt.Tx, source string) (bool, error) {
	v := tx.Bucket(bucketSources).Get([]byte(source))
	if v == nil {
		return true, nil
	}
	var prev store.SourceState
	if err := json.Unmarshal(v, &prev); err != nil {
		return false, fmt.Errorf("read source %s: %w", source, err)
	}
	return prev.LastSuccess.IsZero(), nil
}

// put stores one story and counts it in res; estimate is its Published if
// it is new and undated.
func (w *writer) put(in story.Story, estimate time.Time, res *store.PutResult) error {
	own := store.Slugs(in.Topics)
	old, exists, err := w.load(in.ID)
	if err != nil {
		return err
	}
	if !exists {
		res.New++
		return w.insert(store.Admit(in, w.now, estimate), own)
	}

	s := store.Merge(old, in, w.now)
	w.dated(s)
	v, err := encode(s)
	if err != nil {
		return fmt.Errorf("encode: %w", err)
	}
	same, err := w.stored(s.ID, v)
	if err != nil {
		return err
	}
	changed := !same
	if changed {
		res.Updated++
		if err := w.stories.Put([]byte(s.ID), v); err != nil {
			return err
		}
		if err := recount(w.tx, old, s); err != nil {
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
	w.dated(s)
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
	w.countNew(s)
	if err := w.seq.Put(be64(s.Seq), seqValue(s.FirstSeen, flags, s.ID)); err != nil {
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

// claimLink records s as the holder of its link keys (store.GroupKeys)
// that no group holds, or returns the representative of the link group s
// joins as a duplicate: the group holding the first of its keys held, if
// store.Joins agrees.
func (w *writer) claimLink(s story.Story) (*story.Story, error) {
	keys := store.GroupKeys(s.Link)
	for _, key := range keys {
		id := w.links.Get([]byte(key))
		if id == nil {
			continue
		}
		f, ok, err := w.load(string(id))
		if err != nil {
			return nil, err
		}
		if !ok || f.DuplicateOf != "" {
			continue // a stale claim: free to take below
		}
		if store.Joins(f, s) {
			return &f, nil
		}
		break // a story of its own (one source's second entry, another post of the page)
	}
	return nil, w.claim(s.ID, keys)
}

// claim makes id the holder of every key in keys that no live
// representative holds.
func (w *writer) claim(id string, keys []string) error {
	for _, key := range keys {
		if held := w.links.Get([]byte(key)); held != nil && string(held) != id {
			if f, ok, err := w.load(string(held)); err != nil {
				return err
			} else if ok && f.DuplicateOf == "" {
				continue
			}
		}
		if err := w.links.Put([]byte(key), []byte(id)); err != nil {
			return err
		}
	}
	return nil
}

// release gives up the keys in keys that id holds.
func (w *writer) release(id string, keys []string) error {
	for _, key := range keys {
		if string(w.links.Get([]byte(key))) == id {
			if err := w.links.Delete([]byte(key)); err != nil {
				return err
			}
		}
	}
	return nil
}

// relink moves a representative's claims when its Link changed.
func (w *writer) relink(old, s story.Story) error {
	if old.Link == s.Link {
		return nil
	}
	keep := store.GroupKeys(s.Link)
	var gone []string
	for _, key := range store.GroupKeys(old.Link) {
		if !slices.Contains(keep, key) {
			gone = append(gone, key)
		}
	}
	if err := w.release(s.ID, gone); err != nil {
		return err
	}
	return w.claim(s.ID, keep)
}

func (w *writer) setOwn(seq uint64, own []string) error {
	if len(own) == 0 {
		return w.own.Delete(be64(seq))
	}
	return w.own.Put(be64(seq), joinSlugs(own))
}
