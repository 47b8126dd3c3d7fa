package store

import (
	"cmp"
	"slices"
	"strings"
	"time"

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

// GroupKeys are the keys under which a story's Link groups it with other
// sources' copies, most exact first: the link itself, and when it has a
// fragment, the link without it (the duplicate key: one article reached
// through #comments or #main). A story holds every key no other group
// holds; a new story of another source joins the group that holds the first
// of its keys any group holds, if Joins agrees. A link that cannot group
// (see Groupable) has no keys.
func GroupKeys(link string) []string {
	if !Groupable(link) {
		return nil
	}
	if page, _, ok := strings.Cut(link, "#"); ok {
		return []string{link, page}
	}
	return []string{link}
}

// fragment is the part of link after "#", "" when none.
func fragment(link string) string {
	_, f, _ := strings.Cut(link, "#")
	return f
}

// Joins reports whether incoming, a new story whose link key rep's group
// holds (rep being its representative), joins the group as a duplicate. It
// does unless its source already has a member (a source's second entry for
// one link is a story of its own: a page of several posts, or a correction
// published beside the original, whichever member represents the group),
// or both links name different fragments of one page (…/day.html#a1 and
// …/day.html#a2 are two posts, whoever carries them).
func Joins(rep, incoming story.Story) bool {
	if fa, fb := fragment(rep.Link), fragment(incoming.Link); fa != "" && fb != "" && fa != fb {
		return false
	}
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
// order, at now. The old representative is the member whose DuplicateOf is
// empty (a member joining the group is passed with DuplicateOf naming it).
// It returns the members as they must be stored:
//
//   - first the best by Prefer, as the representative: DuplicateOf "",
//     AlsoIn naming every other member (SortRefs order), Merged holding what
//     the others carry and it lacks (nil when nothing), and ServedID keeping
//     the id the group was listed under (the old representative's FeedID),
//     so feeds never list the group under a second id. When it takes over
//     from another member, its Updated moves to Later(the old one's
//     Updated, now): what readers see under that id changed;
//   - then the others, by source and id, each a duplicate naming it, with
//     no AlsoIn, ServedID or Merged.
//
// An engine stores every member whose stored form changed and, when the
// first member is not the old representative, moves to it what the
// representative is listed under.
func Regroup(members []story.Story, now time.Time) []story.Story {
	out := slices.Clone(members)
	best, old := 0, -1
	for i := range out {
		if Prefer(out[i], out[best]) < 0 {
			best = i
		}
		if old < 0 && out[i].DuplicateOf == "" {
			old = i
		}
	}
	served := ""
	if old >= 0 {
		served = out[old].FeedID()
		if old != best {
			out[best].Updated = maxTime(out[best].Updated, Later(out[old].Updated, now))
		}
	}
	out[0], out[best] = out[best], out[0]
	rep := &out[0]
	dups := out[1:]
	slices.SortFunc(dups, func(a, b story.Story) int {
		if c := strings.Compare(a.Source, b.Source); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	var refs []story.Ref
	for i := range dups {
		d := &dups[i]
		refs = append(refs, story.Ref{Source: d.Source, Title: d.SourceTitle, ID: d.ID})
		d.DuplicateOf, d.AlsoIn, d.ServedID, d.Merged = rep.ID, nil, "", nil
	}
	rep.DuplicateOf, rep.AlsoIn, rep.ServedID = "", refs, ""
	if served != rep.ID {
		rep.ServedID = served
	}
	rep.Merged = merged(*rep, dups)
	return out
}

// merged is what dups carry that rep lacks (see story.Merged), nil when
// nothing.
func merged(rep story.Story, dups []story.Story) *story.Merged {
	var m story.Merged
	urls := make(map[string]bool)
	for _, e := range rep.Enclosures {
		urls[e.URL] = true
	}
	cats := make(map[string]bool)
	for _, c := range rep.Categories {
		cats[strings.ToLower(c)] = true
	}
	for _, d := range dups {
		for _, e := range d.Enclosures {
			if e.URL != "" && !urls[e.URL] {
				urls[e.URL] = true
				m.Enclosures = append(m.Enclosures, e)
			}
		}
		for _, c := range d.Categories {
			if k := strings.ToLower(c); c != "" && !cats[k] {
				cats[k] = true
				m.Categories = append(m.Categories, c)
			}
		}
		if rep.Image == "" && m.Image == "" {
			m.Image = d.Image
		}
	}
	if m.Enclosures == nil && m.Categories == nil && m.Image == "" {
		return nil
	}
	return &m
}

// Listed is s as a store returns it to readers: a representative's Merged
// folded into its Enclosures (without repeating a URL), Categories
// (without repeating one, ignoring case) and Image (when it has none), and
// Merged cleared. Engines call it on every story they read back.
func Listed(s story.Story) story.Story {
	m := s.Merged
	if m == nil {
		return s
	}
	s.Merged = nil
	if len(m.Enclosures) > 0 {
		encs := slices.Clone(s.Enclosures)
		for _, e := range m.Enclosures {
			if !slices.ContainsFunc(encs, func(o story.Enclosure) bool { return o.URL == e.URL }) {
				encs = append(encs, e)
			}
		}
		s.Enclosures = encs
	}
	if len(m.Categories) > 0 {
		cats := slices.Clone(s.Categories)
		for _, c := range m.Categories {
			if !slices.ContainsFunc(cats, func(o string) bool { return strings.EqualFold(o, c) }) {
				cats = append(cats, c)
			}
		}
		s.Categories = cats
	}
	if s.Image == "" {
		s.Image = m.Image
	}
	return s
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
