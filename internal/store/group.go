package store

import (
	"cmp"
	"slices"
	"strings"

	"github.com/newsdesk/newsdesk/internal/story"
)

// A link group is the set of stories different sources carried with one
// Link. One member, the representative, is listed for the group (under the
// union of every member's own topics) and names the others in AlsoIn; the
// others are duplicates, hidden from every listing, that name it in
// DuplicateOf.
//
// Which copy represents the group is decided by Prefer over the stored
// copies, never by which one was Put first: concurrent fetches commit in a
// racy order, and the first copy is often the worst one.

// Joins reports whether incoming, a new story whose Link rep's group holds
// (rep being its representative), joins the group as a duplicate. It does
// unless its source already has a member: a source's second entry for one
// link is a story of its own (a page of several posts, or a correction
// published beside the original), whichever member represents the group.
func Joins(rep, incoming story.Story) bool {
	return rep.Source != incoming.Source &&
		!slices.ContainsFunc(rep.AlsoIn, func(r story.Ref) bool { return r.Source == incoming.Source })
}

// Prefer orders two copies of one link group, best first: a negative result
// means a should represent the group rather than b. It is a total order on
// distinct ids, so the representative depends only on the copies stored:
//
//  1. a copy with an upstream date beats an Undated one (whose Published is
//     only when newsdesk first saw it);
//  2. between dated copies, the earlier Published (the original, not a
//     later republication) wins; two undated copies skip this rule;
//  3. the longer Content, then the longer Summary, wins (the full text over
//     a stub);
//  4. the smaller Source name, then the smaller ID, wins.
func Prefer(a, b story.Story) int {
	if a.Undated != b.Undated {
		if b.Undated {
			return -1
		}
		return 1
	}
	if !a.Undated {
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

// Regroup decides the roles in a link group from its stored members, in any
// order, and returns the members as they must be stored: the best by Prefer
// first, as the representative (DuplicateOf "", AlsoIn naming every other
// member, sorted by SortRefs), then the others, each a duplicate naming it
// (AlsoIn nil). An engine stores every member whose role fields changed,
// and when the first member is not the old representative, moves to it
// what the representative is listed under.
func Regroup(members []story.Story) []story.Story {
	out := slices.Clone(members)
	best := 0
	for i := range out {
		if Prefer(out[i], out[best]) < 0 {
			best = i
		}
	}
	out[0], out[best] = out[best], out[0]
	rep := &out[0]
	var refs []story.Ref
	for i := range out[1:] {
		d := &out[i+1]
		refs = append(refs, story.Ref{Source: d.Source, Title: d.SourceTitle, ID: d.ID})
		d.DuplicateOf, d.AlsoIn = rep.ID, nil
	}
	SortRefs(refs)
	rep.DuplicateOf, rep.AlsoIn = "", refs
	return out
}

// SortRefs puts AlsoIn in its stable order, by source name then id, so the
// list does not depend on the order the copies arrived in either.
func SortRefs(refs []story.Ref) {
	slices.SortFunc(refs, func(a, b story.Ref) int {
		if c := strings.Compare(a.Source, b.Source); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
}
