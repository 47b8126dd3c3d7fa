package store

import (
	"slices"
	"time"
)

// Tally counts a re-classification as an engine rebuilds the topic indexes
// into a new generation, so that every engine summarises the new generation
// the same way. Add each representative's old and new slugs; Result then
// gives the summaries and the slugs that changed.
type Tally struct {
	counts  map[string]int  // slug → stories listed in the new generation
	changed map[string]bool // slugs some story joined or left
}

// NewTally returns an empty Tally.
func NewTally() *Tally {
	return &Tally{counts: make(map[string]int), changed: make(map[string]bool)}
}

// Add counts one representative that was listed under was and is now listed
// under now (both as Slugs or Union return them).
func (t *Tally) Add(was, now []string) {
	for _, slug := range now {
		t.counts[slug]++
		if !slices.Contains(was, slug) {
			t.changed[slug] = true
		}
	}
	for _, slug := range was {
		if !slices.Contains(now, slug) {
			t.changed[slug] = true
		}
	}
}

// Result returns the TopicInfo of every slug the new generation summarises
// (Newest left for the engine to read from its index) and the changed slugs,
// sorted. A slug some story joined or left changed at now; any other keeps
// prev(slug), its change time in the old generation. A slug that lost every
// story is kept with Count 0 and Changed now, so a reader sees when it
// emptied; a slug that was already empty and stays so is dropped.
func (t *Tally) Result(prev func(slug string) time.Time, now time.Time) (map[string]TopicInfo, []string) {
	infos := make(map[string]TopicInfo, len(t.counts))
	for slug, n := range t.counts {
		at := prev(slug)
		if t.changed[slug] {
			at = now
		}
		infos[slug] = TopicInfo{Count: n, Changed: at}
	}
	changed := make([]string, 0, len(t.changed))
	for slug := range t.changed {
		changed = append(changed, slug)
		if t.counts[slug] == 0 {
			infos[slug] = TopicInfo{Changed: now}
		}
	}
	slices.Sort(changed)
	return infos, changed
}
