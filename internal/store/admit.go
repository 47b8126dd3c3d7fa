package store

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/newsdesk/newsdesk/internal/story"
)

// MaxIDLen bounds story ids and topic slugs, so that index keys stay small
// and a cursor cannot smuggle in an arbitrary blob.
const MaxIDLen = 256

// MaxLinkLen bounds the links that group stories (see Put): a story with a
// longer link is stored but never grouped.
const MaxLinkLen = 4096

// CheckID refuses an id Put cannot store: it must be 1 to MaxIDLen bytes.
func CheckID(id string) error {
	if id == "" || len(id) > MaxIDLen {
		return fmt.Errorf("id must be 1 to %d bytes", MaxIDLen)
	}
	return nil
}

// Groupable reports whether link can group stories: it is not empty and at
// most MaxLinkLen bytes.
func Groupable(link string) bool { return link != "" && len(link) <= MaxLinkLen }

// UndatedStep is the time between two undated stories of one fetched
// document: each gets its own timestamp, one step below the story above it,
// so upstream's order is kept and no two items share a date (the W3C
// validator flags a feed whose entries do: DuplicateUpdated). A second, since
// feeds print whole seconds.
const UndatedStep = time.Second

// Estimates returns, for each story of one fetched feed in document order
// (newest first, as feeds list them), the Published that Put gives it if it
// is new and has no date (Admit). Dated stories get the zero time.
//
// An undated story's date is an estimate, and it must never make a story
// look newer than the evidence says (an undated story is never a topic's
// newest merely because newsdesk just saw it):
//
//   - the story at position i is placed at its first-seen time less i
//     steps (UndatedStep), so a document keeps its order;
//   - if a dated story stands above it in the document, it is placed below
//     that story (its Published less one step per position between them):
//     upstream says it is older;
//   - in backlog (the source's first successful fetch, whose items may be
//     of any age) it is placed below newest, the newest dated story the
//     store lists, by i+1 steps: nothing says it is newer than what the
//     store already had. A story that appears in a later fetch of the same
//     source has been published since the previous fetch, so its
//     first-seen time is an honest estimate and stands.
func Estimates(stories []story.Story, now time.Time, backlog bool, newest time.Time) []time.Time {
	out := make([]time.Time, len(stories))
	above, aboveAt := time.Time{}, -1
	for i, s := range stories {
		if !s.Published.IsZero() {
			above, aboveAt = s.Published.UTC(), i
			continue
		}
		seen := s.FirstSeen
		if seen.IsZero() {
			seen = now
		}
		t := seen.UTC().Add(-time.Duration(i) * UndatedStep)
		if aboveAt >= 0 {
			t = minTime(t, above.Add(-time.Duration(i-aboveAt)*UndatedStep))
		}
		if backlog && !newest.IsZero() {
			t = minTime(t, newest.UTC().Add(-time.Duration(i+1)*UndatedStep))
		}
		out[i] = t
	}
	return out
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// Admit is a story as Put first stores it. Times are UTC; FirstSeen is now
// unless the caller set it. A story upstream gave no date is Undated, and
// its Published is estimate (from Estimates; its FirstSeen when estimate is
// zero); Updated defaults to Published. It has no group role yet (Put
// decides DuplicateOf, AlsoIn, ServedID and Merged with Regroup), and its Seq
// is the engine's to assign.
func Admit(s story.Story, now, estimate time.Time) story.Story {
	s.DuplicateOf, s.AlsoIn, s.ServedID, s.Merged = "", nil, "", nil
	s.FirstSeen, s.Published, s.Updated = s.FirstSeen.UTC(), s.Published.UTC(), s.Updated.UTC()
	if s.FirstSeen.IsZero() {
		s.FirstSeen = now.UTC()
	}
	s.Undated = s.Published.IsZero()
	if s.Undated {
		s.Published = estimate.UTC()
		if estimate.IsZero() {
			s.Published = s.FirstSeen
		}
	}
	if s.Updated.IsZero() {
		s.Updated = s.Published
	}
	return s
}

// Merge is incoming as it replaces old, the stored story with the same ID,
// in a Put at now. It keeps what the store decided about old: Seq,
// FirstSeen and its group role (DuplicateOf, AlsoIn, ServedID, Merged).
// When incoming has no date it keeps old's Published (and whether that was
// an estimate), so a re-fetch of an undated story does not move it; a date
// that arrives later replaces the estimate.
//
// Updated is upstream's (else Published) but never goes back, and an edit
// is signalled: when the title or the text changed and upstream did not
// move its own update time past the stored one, Updated becomes now (see
// Later). The ID and Published stay, so a reader sees the same item,
// updated.
func Merge(old, incoming story.Story, now time.Time) story.Story {
	s := incoming
	s.Published, s.Updated = s.Published.UTC(), s.Updated.UTC()
	s.Seq, s.FirstSeen, s.DuplicateOf, s.AlsoIn = old.Seq, old.FirstSeen, old.DuplicateOf, old.AlsoIn
	s.ServedID, s.Merged = old.ServedID, old.Merged
	if s.Published.IsZero() {
		s.Published, s.Undated = old.Published, old.Undated
	} else {
		s.Undated = false
	}
	if s.Updated.IsZero() {
		s.Updated = s.Published
	}
	if Edited(old, s) && !s.Updated.After(old.Updated) {
		s.Updated = Later(old.Updated, now)
	}
	s.Updated = maxTime(s.Updated, old.Updated)
	return s
}

// Later is the Updated of a story that changed at now and was last served
// as updated at prev: now, but at least the second after prev, since feeds
// print whole seconds and a reader must see the time move.
func Later(prev, now time.Time) time.Time {
	return maxTime(now.UTC(), prev.UTC().Truncate(time.Second).Add(time.Second))
}

// Edited reports whether b reads differently from a: another title, summary
// or content. Other fields (dates, enclosures, authors) change what Put
// stores, not the text a reader saw.
func Edited(a, b story.Story) bool {
	return a.Title != b.Title || a.Summary != b.Summary || a.Content != b.Content
}

// Equal reports whether a and b are the same stored story: every field but
// Topics (which the indexes hold) is equal, times as instants and empty
// slices as nil. Put counts a story whose Merge is Equal to the stored one
// as Unchanged.
func Equal(a, b story.Story) bool {
	va, vb := reflect.ValueOf(a), reflect.ValueOf(b)
	for i := range va.NumField() {
		if va.Type().Field(i).Name == "Topics" {
			continue
		}
		fa, fb := va.Field(i), vb.Field(i)
		switch x := fa.Interface().(type) {
		case time.Time:
			if !x.Equal(fb.Interface().(time.Time)) {
				return false
			}
		default:
			if fa.Kind() == reflect.Slice && fa.Len() == 0 && fb.Len() == 0 {
				continue
			}
			if !reflect.DeepEqual(fa.Interface(), fb.Interface()) {
				return false
			}
		}
	}
	return true
}

// Slugs is the set of topics a story is filed under when given in: the
// slugs of 1 to MaxIDLen bytes without a NUL byte (engines may use NUL as a
// separator), sorted, each once. Others are dropped, not refused: they come
// from a classifier, not from upstream.
func Slugs(in []string) []string {
	out := make([]string, 0, len(in))
	for _, s := range in {
		if s != "" && len(s) <= MaxIDLen && !strings.Contains(s, "\x00") {
			out = append(out, s)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Union returns the sorted union of slug lists: what a representative is
// listed under, given its own topics and its duplicates'.
func Union(lists ...[]string) []string {
	var out []string
	for _, l := range lists {
		out = append(out, l...)
	}
	slices.Sort(out)
	return slices.Compact(out)
}
