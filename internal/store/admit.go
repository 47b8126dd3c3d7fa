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

// Admit is a story as Put first stores it. Times are UTC; FirstSeen is now
// unless the caller set it. A story upstream gave no date is Undated, and its
// Published is its FirstSeen; Updated defaults to Published. It has no group
// role yet (Put decides DuplicateOf and AlsoIn with Regroup), and its Seq is
// the engine's to assign.
func Admit(s story.Story, now time.Time) story.Story {
	s.DuplicateOf, s.AlsoIn = "", nil
	s.FirstSeen, s.Published, s.Updated = s.FirstSeen.UTC(), s.Published.UTC(), s.Updated.UTC()
	if s.FirstSeen.IsZero() {
		s.FirstSeen = now.UTC()
	}
	s.Undated = s.Published.IsZero()
	if s.Undated {
		s.Published = s.FirstSeen
	}
	if s.Updated.IsZero() {
		s.Updated = s.Published
	}
	return s
}

// Merge is incoming as it replaces old, the stored story with the same ID.
// It keeps what the store decided about old: Seq, FirstSeen and its group
// role. When incoming has no date it keeps old's Published (and whether that
// was an estimate), so a re-fetch of an undated story does not move it; a
// date that arrives later replaces the estimate. Updated defaults to
// Published.
func Merge(old, incoming story.Story) story.Story {
	s := incoming
	s.Published, s.Updated = s.Published.UTC(), s.Updated.UTC()
	s.Seq, s.FirstSeen, s.DuplicateOf, s.AlsoIn = old.Seq, old.FirstSeen, old.DuplicateOf, old.AlsoIn
	if s.Published.IsZero() {
		s.Published, s.Undated = old.Published, old.Undated
	} else {
		s.Undated = false
	}
	if s.Updated.IsZero() {
		s.Updated = s.Published
	}
	return s
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
