package parse

import (
	"strings"
	"time"
)

// futureSkew is how far ahead of the fetch time an upstream date may be
// before it is treated as a clock or typing error and clamped to now.
const futureSkew = 10 * time.Minute

// zoneOffsets maps the zone abbreviations gofeed does not know (it knows UT,
// GMT, UTC, the US zones and WET/WEST/BST/CET/CEST/EET/EEST) to their UTC
// offsets in minutes. gofeed reads the unknown ones as UTC, which puts a Tokyo
// story nine hours in the future. Ambiguous names take the reading most
// common in news feeds (IST is India, not Ireland or Israel); names with no
// dominant reading (AST, CCT) are left as gofeed parsed them.
var zoneOffsets = map[string]int{
	"JST": 9 * 60, "KST": 9 * 60, "HKT": 8 * 60, "SGT": 8 * 60, "MYT": 8 * 60, "PHT": 8 * 60,
	"AWST": 8 * 60, "WITA": 8 * 60, "WIB": 7 * 60, "WIT": 9 * 60, "ICT": 7 * 60,
	"IST": 5*60 + 30, "PKT": 5 * 60, "NPT": 5*60 + 45, "AEST": 10 * 60, "AEDT": 11 * 60,
	"ACST": 9*60 + 30, "ACDT": 10*60 + 30, "NZST": 12 * 60, "NZDT": 13 * 60, "ChST": 10 * 60,
	"MSK": 3 * 60, "EAT": 3 * 60, "SAST": 2 * 60, "CAT": 2 * 60, "WAT": 1 * 60, "IDT": 3 * 60,
	"NST": -(3*60 + 30), "NDT": -(2*60 + 30),
	"AKST": -9 * 60, "AKDT": -8 * 60, "HST": -10 * 60, "BRT": -3 * 60, "ART": -3 * 60,
}

// zonelessLayouts are the date shapes seen before a zone abbreviation.
var zonelessLayouts = []string{
	"Mon, 2 Jan 2006 15:04:05",
	"Mon, 2 Jan 2006 15:04",
	"Mon, 2 January 2006 15:04:05",
	"Monday, 2 January 2006 15:04:05",
	"2 Jan 2006 15:04:05",
	"2 Jan 2006 15:04",
	"2 January 2006 15:04:05",
	"Mon, 2 Jan 06 15:04:05",
	"Mon Jan 2 15:04:05 2006",
	"Jan 2, 2006 15:04:05",
	"Jan 2, 2006 3:04:05 PM",
	"January 2, 2006 15:04:05",
	"2006-01-02 15:04:05",
	"2006-01-02T15:04:05",
	"2006-01-02 15:04",
}

// date returns the UTC time of an upstream date: gofeed's parse, corrected
// when raw ends in a zone abbreviation gofeed read as UTC, and clamped to now
// when it lies further in the future than clocks plausibly drift. Missing and
// unparseable dates give the zero time (the store substitutes first-seen).
func date(raw string, parsed *time.Time, now time.Time) time.Time {
	var t time.Time
	if parsed != nil {
		t = *parsed
	}
	if fixed, ok := fixZone(raw, t); ok {
		t = fixed
	}
	if t.IsZero() {
		return time.Time{}
	}
	t = t.UTC()
	if t.After(now.Add(futureSkew)) {
		return now
	}
	return t
}

// fixZone re-reads raw when it ends in an abbreviation from zoneOffsets,
// first with our own layouts, then by shifting gofeed's result, which kept the
// wall clock with a zero offset.
func fixZone(raw string, parsed time.Time) (time.Time, bool) {
	raw = strings.TrimSpace(raw)
	i := strings.LastIndexAny(raw, " \t")
	if i < 0 {
		return time.Time{}, false
	}
	minutes, ok := zoneOffsets[raw[i+1:]]
	if !ok {
		return time.Time{}, false
	}
	zone := time.FixedZone(raw[i+1:], minutes*60)
	rest := strings.TrimSpace(raw[:i])
	for _, layout := range zonelessLayouts {
		if t, err := time.ParseInLocation(layout, rest, zone); err == nil {
			return t, true
		}
	}
	if _, offset := parsed.Zone(); !parsed.IsZero() && offset == 0 {
		return parsed.Add(-time.Duration(minutes) * time.Minute), true
	}
	return time.Time{}, false
}
