package store

import "time"

// TombstoneTTL is the least time a pruned id stays tombstoned: far longer
// than any upstream keeps an entry in its feed, so a pruned story is not
// ingested again as new.
const TombstoneTTL = 180 * 24 * time.Hour

// Retention is how long stories are kept. The zero Retention keeps
// everything.
type Retention struct {
	// MaxAge prunes stories first seen longer ago. It goes by FirstSeen, not
	// Published, so that a story an upstream backdates stays as long as any
	// other (topic pages cut by Published with Query.NotBefore). 0 keeps
	// stories forever.
	MaxAge time.Duration
	// MaxStories prunes the oldest-ingested stories (lowest Seq) beyond
	// this many, duplicates counted; 0 means no cap.
	MaxStories int
}

// Off reports whether r prunes nothing (tombstones still expire).
func (r Retention) Off() bool { return r.MaxAge <= 0 && r.MaxStories <= 0 }

// Excess is how many of stored stories are over r.MaxStories.
func (r Retention) Excess(stored int) int {
	if r.MaxStories <= 0 {
		return 0
	}
	return max(stored-r.MaxStories, 0)
}

// Due reports whether the story first seen at firstSeen goes at now, when
// excess stories are still over the cap (Excess less those already chosen
// in this walk, which goes oldest Seq first and stops at the first story
// that is not Due).
func (r Retention) Due(firstSeen time.Time, excess int, now time.Time) bool {
	return excess > 0 || (r.MaxAge > 0 && firstSeen.Before(now.Add(-r.MaxAge)))
}

// TombstoneCutoff is the time before which tombstones are dropped: they
// live max(TombstoneTTL, 2×MaxAge), so an upstream that keeps entries as long
// as we do still cannot bring one back.
func (r Retention) TombstoneCutoff(now time.Time) time.Time {
	return now.Add(-max(TombstoneTTL, 2*r.MaxAge))
}
