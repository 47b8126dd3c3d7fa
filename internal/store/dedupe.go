package store

import (
	"cmp"
	"slices"
	"strings"

	"github.com/newsdesk/newsdesk/internal/story"
)

// A link group is the set of stories different sources carried with one
// canonical Link. One of them, the representative, holds links/<link>, the
// all-stories index entry and the topic index entries (under the union of
// every member's own topics); the others are duplicates, hidden from Recent
// and Since, that name it in DuplicateOf and are listed in its AlsoIn.
//
// Which copy represents the group is decided by prefer over the stored
// copies, never by which one was Put first: concurrent fetches commit in a
// racy order, and the first copy is often the worst one.

// candidate is one copy of a link group, as prefer weighs it.
type candidate struct {
	story.Story
	undated bool // Published is the FirstSeen fallback (seqUndated)
}

// prefer orders two copies of one link group, best first: a negative result
// means a should represent the group rather than b. It is a total order on
// distinct ids, so the representative depends only on the copies stored:
//
//  1. a copy with an upstream date beats one whose Published is only the
//     first-seen fallback (Put records which in the Seq index);
//  2. between dated copies, the earlier Published (the original, not a
//     later republication) wins; two undated copies skip this rule, since
//     their Published says only when newsdesk happened to fetch them;
//  3. the longer Content, then the longer Summary, wins (the full text over
//     a stub);
//  4. the smaller Source name, then the smaller ID, wins.
func prefer(a, b candidate) int {
	if a.undated != b.undated {
		if b.undated {
			return -1
		}
		return 1
	}
	if !a.undated {
		if c := a.Published.Compare(b.Published); c != 0 {
			return c
		}
	}
	if c := cmp.Compare(len(b.Content), len(a.Content)); c != 0 {
		return c
	}
	if c := cmp.Compare(len(b.Summary), len(a.Summary)); c != 0 {
		return c
	}
	if c := strings.Compare(a.Source, b.Source); c != 0 {
		return c
	}
	return strings.Compare(a.ID, b.ID)
}

// seqFlags returns the flags in the Seq index entry of the story with seq.
func (w *writer) seqFlags(seq uint64) byte {
	v := w.seq.Get(be64(seq))
	if len(v) < 9 {
		return 0
	}
	return v[8]
}

// candidate weighs stored story s.
func (w *writer) candidate(s story.Story) candidate {
	return candidate{s, w.seqFlags(s.Seq)&seqUndated != 0}
}

// sortRefs puts AlsoIn in its stable order, by source name then id, so the
// list does not depend on the order the copies arrived in either.
func sortRefs(refs []story.Ref) {
	slices.SortFunc(refs, func(a, b story.Ref) int {
		if c := strings.Compare(a.Source, b.Source); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
}

// inGroup reports whether source already has a story in rep's group: a
// source's second entry for one link is a story of its own, not a
// duplicate, whichever member happens to represent the group.
func inGroup(rep story.Story, source string) bool {
	return rep.Source == source || slices.ContainsFunc(rep.AlsoIn, func(r story.Ref) bool { return r.Source == source })
}

// elect makes the best stored copy of rep's group its representative. rep
// is the current representative as just saved; contentChanged says whether
// what its feeds show changed (its content or its AlsoIn) when it stays.
func (w *writer) elect(rep story.Story, contentChanged bool) error {
	best := w.candidate(rep)
	var dups []story.Story
	for _, r := range rep.AlsoIn {
		d, ok, err := w.load(r.ID) // rare: only stories other sources also carried
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		dups = append(dups, d)
		if c := w.candidate(d); prefer(c, best) < 0 {
			best = c
		}
	}
	if best.ID == rep.ID {
		return w.refresh(rep, contentChanged)
	}
	return w.swap(rep, best.Story, dups)
}

// swap demotes representative a to a duplicate of b, a member of its group,
// and moves to b everything the representative holds: the link claim, the
// AlsoIn list, the all-stories index entry, the Seq index flag and the topic
// index entries. dups are a's duplicates (b among them).
func (w *writer) swap(a, b story.Story, dups []story.Story) error {
	refs := []story.Ref{{Source: a.Source, Title: a.SourceTitle, ID: a.ID}}
	for _, r := range a.AlsoIn {
		if r.ID != b.ID {
			refs = append(refs, r)
		}
	}
	sortRefs(refs)
	aIdx := splitSlugs(w.idx.Get(be64(a.Seq)))
	b.DuplicateOf, b.AlsoIn = "", refs
	a.DuplicateOf, a.AlsoIn = b.ID, nil
	if err := w.save(a); err != nil {
		return err
	}
	if err := w.save(b); err != nil {
		return err
	}
	for _, d := range dups {
		if d.ID == b.ID || d.DuplicateOf == b.ID {
			continue
		}
		d.DuplicateOf = b.ID
		if err := w.save(d); err != nil {
			return err
		}
	}

	for _, link := range []string{a.Link, b.Link} {
		if link != "" && len(link) <= maxLinkLen && string(w.links.Get([]byte(link))) == a.ID {
			if err := w.links.Put([]byte(link), []byte(b.ID)); err != nil {
				return err
			}
		}
	}
	if err := w.time.Delete(timeKey(a.Published, a.ID)); err != nil {
		return err
	}
	if err := w.time.Put(timeKey(b.Published, b.ID), nil); err != nil {
		return err
	}
	w.allChanged = true
	if err := w.seq.Put(be64(a.Seq), seqValue(a.FirstSeen, w.seqFlags(a.Seq)|seqDup, a.ID)); err != nil {
		return err
	}
	if err := w.seq.Put(be64(b.Seq), seqValue(b.FirstSeen, w.seqFlags(b.Seq)&^seqDup, b.ID)); err != nil {
		return err
	}

	if err := w.reindex(a.ID, entry{aIdx, a.Published, a.Seq}, entry{}); err != nil {
		return err
	}
	members, err := w.members(b) // b's own topics, a's and the other duplicates'
	if err != nil {
		return err
	}
	if err := w.reindex(b.ID, entry{}, entry{members, b.Published, b.Seq}); err != nil {
		return err
	}
	w.touch(members)
	return nil
}
