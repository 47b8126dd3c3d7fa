package store

import (
	"bytes"
	"fmt"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/newsdesk/newsdesk/internal/story"
)

// maxLinkLen bounds the links/ keys; longer links are stored but not deduped.
const maxLinkLen = 4096

// PutResult counts what a Put did.
type PutResult struct {
	New, Updated, Unchanged, Skipped int
	// Topics are the slugs whose feeds changed: index entries added or
	// removed, or a member story updated. Sorted.
	Topics []string
}

// Put stores the stories of one fetched feed, with the source's state, in one
// transaction (shared with other feeds' Puts running at the same moment), so
// the indexes never disagree with the stories.
//
// Per story: an existing id keeps its Seq, FirstSeen, DuplicateOf and AlsoIn
// and is rewritten only when its upstream content changed (else it counts as
// Unchanged); a new id gets the next Seq and FirstSeen = now unless set.
// A zero Published becomes the stored Published, else FirstSeen; a zero
// Updated becomes Published. Ids Prune tombstoned are Skipped.
//
// story.Topics, as the caller classified them, are indexed even for an
// unchanged story.
//
// Cross-source dedupe: a new story whose Link a story of another source
// already holds joins that story's link group; a source that already has a
// story in the group (the representative or a duplicate) keeps its second
// entry for the link as a story of its own. One member represents the group
// (listed once by Recent and Since, AlsoIn naming the others, indexed under
// every member's topics); the others are duplicates (DuplicateOf set, hidden).
// The representative is the best copy by a fixed preference, not the first
// one Put, so concurrent fetches committing in any order give the same feeds:
// a copy with an upstream date beats one whose Published is only the
// FirstSeen fallback; then, between dated copies, the earlier Published; then
// the longer Content, then Summary; then the smaller Source name, then ID.
// The choice is made again whenever a member of the group is stored new or
// with changed content (an unchanged re-Put never moves it); when another
// copy wins, roles swap in the same transaction and the topics of both
// representatives count as changed. AlsoIn is sorted by source name.
func (db *DB) Put(source string, st SourceState, stories []story.Story, now time.Time) (PutResult, error) {
	db.mu.RLock()
	defer db.mu.RUnlock()
	var res PutResult
	// Batch commits the Puts of concurrent fetches together: one fsync for
	// several feeds. It may run this function more than once, so it only
	// sets res, never appends to it.
	err := db.bolt.Batch(func(tx *bolt.Tx) error {
		res = PutResult{}
		if err := putSource(tx, source, st); err != nil {
			return err
		}
		w := newWriter(tx, activeGen(tx), now)
		tomb := tx.Bucket(bucketTombstones)
		for i := range stories {
			s := stories[i] // a copy: the caller's slice stays as given
			if s.ID == "" || len(s.ID) > maxIDLen {
				return fmt.Errorf("story %d (%q): id must be 1 to %d bytes", i, truncate(s.Title, 40), maxIDLen)
			}
			if tomb.Get([]byte(s.ID)) != nil {
				res.Skipped++
				continue
			}
			if err := w.put(s, &res); err != nil {
				return fmt.Errorf("story %s: %w", s.ID, err)
			}
		}
		var err error
		res.Topics, err = w.flush()
		return err
	})
	if err != nil {
		return PutResult{}, fmt.Errorf("put %s: %w", source, err)
	}
	return res, nil
}

// put stores one story and counts it in res.
func (w *writer) put(s story.Story, res *PutResult) error {
	own := slugs(s.Topics)
	s.Published, s.Updated, s.FirstSeen = s.Published.UTC(), s.Updated.UTC(), s.FirstSeen.UTC()
	old, exists, err := w.load(s.ID)
	if err != nil {
		return err
	}
	if !exists {
		res.New++
		return w.insert(s, own)
	}

	s.Seq, s.FirstSeen, s.DuplicateOf, s.AlsoIn = old.Seq, old.FirstSeen, old.DuplicateOf, old.AlsoIn
	if s.Published.IsZero() {
		s.Published = old.Published // and stays undated if it was
	} else if flags := w.seqFlags(s.Seq); flags&seqUndated != 0 {
		// Upstream dated a story it first gave without a date.
		if err := w.seq.Put(be64(s.Seq), seqValue(s.FirstSeen, flags&^seqUndated, s.ID)); err != nil {
			return err
		}
	}
	if s.Updated.IsZero() {
		s.Updated = s.Published
	}
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
		return w.elect(f, false)
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
			return w.elect(s, true) // the new content may make another copy the better one
		}
	}
	return nil
}

// insert stores a story the store has never seen.
func (w *writer) insert(s story.Story, own []string) error {
	seq, err := w.stories.NextSequence()
	if err != nil {
		return err
	}
	s.Seq, s.DuplicateOf, s.AlsoIn = seq, "", nil
	if s.FirstSeen.IsZero() {
		s.FirstSeen = w.now
	}
	var flags byte
	if s.Published.IsZero() {
		s.Published = s.FirstSeen
		flags |= seqUndated
	}
	if s.Updated.IsZero() {
		s.Updated = s.Published
	}

	first, err := w.claimLink(s)
	if err != nil {
		return err
	}
	if first != nil {
		s.DuplicateOf = first.ID
		if !slices.ContainsFunc(first.AlsoIn, func(r story.Ref) bool { return r.ID == s.ID }) {
			first.AlsoIn = append(first.AlsoIn, story.Ref{Source: s.Source, Title: s.SourceTitle, ID: s.ID})
			sortRefs(first.AlsoIn)
		}
	}
	if err := w.save(s); err != nil {
		return err
	}
	if first != nil {
		flags |= seqDup
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
	if first != nil {
		if err := w.save(*first); err != nil {
			return err
		}
		// AlsoIn changed what its feeds show, and s may be the better copy.
		return w.elect(*first, true)
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
// representative of the link group s joins as a duplicate (see Put).
func (w *writer) claimLink(s story.Story) (*story.Story, error) {
	if s.Link == "" || len(s.Link) > maxLinkLen {
		return nil, nil
	}
	if id := w.links.Get([]byte(s.Link)); id != nil {
		f, ok, err := w.load(string(id))
		if err != nil {
			return nil, err
		}
		if ok && f.DuplicateOf == "" {
			if inGroup(f, s.Source) {
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
	if old.Link != "" && len(old.Link) <= maxLinkLen && string(w.links.Get([]byte(old.Link))) == s.ID {
		if err := w.links.Delete([]byte(old.Link)); err != nil {
			return err
		}
	}
	if s.Link != "" && len(s.Link) <= maxLinkLen && w.links.Get([]byte(s.Link)) == nil {
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
