package store

import "time"

// MaxActivityDays bounds the window Store.Activity reports on.
const MaxActivityDays = 366

// Activity is what Store.Activity reports about the stories stored now: how
// many there are per source, and how many of them were first stored on each
// UTC day of a window, per source and per topic. It feeds the status page's
// charts ("new stories per day") and is cheap enough to ask for per request.
type Activity struct {
	// From is the UTC midnight that starts the window's first day; day i
	// of every Days slice is From.AddDate(0, 0, i).
	From time.Time
	Days int // the window's length; every Days slice has this many entries

	// Sources holds every source with at least one stored story, by the
	// stories' Source field.
	Sources map[string]SourceActivity
	// Topics holds, for every slug with a listed story first stored in the
	// window, the number of stories listed in its index now, by the day of
	// their FirstSeen; "" is the all-stories index. Duplicates are listed in
	// no index, so they are counted under their source only.
	Topics map[string][]int
}

// SourceActivity is one source's part of an Activity.
type SourceActivity struct {
	Stored int   // stories of the source stored now, duplicates included, whatever their age
	Days   []int // of those, how many were first stored (FirstSeen) on each day of the window
}

// NewActivity returns an empty Activity for the days UTC days ending with
// the day of now (days clamped to 1…MaxActivityDays), for an engine to fill
// with Add and AddTopic.
func NewActivity(now time.Time, days int) Activity {
	days = min(max(days, 1), MaxActivityDays)
	y, m, d := now.UTC().Date()
	return Activity{
		From:    time.Date(y, m, d, 0, 0, 0, 0, time.UTC).AddDate(0, 0, 1-days),
		Days:    days,
		Sources: map[string]SourceActivity{},
		Topics:  map[string][]int{},
	}
}

// Day is the index in the window of the day t falls on (UTC), or -1 when t
// lies outside the window.
func (a *Activity) Day(t time.Time) int {
	if t.Before(a.From) {
		return -1
	}
	// Days are counted on the calendar, not in 24-hour steps from From, so
	// that the answer does not depend on t's zone or a leap second.
	y, m, d := t.UTC().Date()
	i := int(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Sub(a.From) / (24 * time.Hour))
	if i >= a.Days {
		return -1
	}
	return i
}

// Through is the end of the window: the midnight after its last day.
func (a *Activity) Through() time.Time { return a.From.AddDate(0, 0, a.Days) }

// AddStored counts n stories of source stored now.
func (a *Activity) AddStored(source string, n int) {
	sa := a.source(source)
	sa.Stored += n
	a.Sources[source] = sa
}

// AddSourceDay counts n stories of source first stored on day i of the window.
func (a *Activity) AddSourceDay(source string, i, n int) {
	if i < 0 || i >= a.Days {
		return
	}
	sa := a.source(source)
	sa.Days[i] += n
	a.Sources[source] = sa
}

// AddTopicDay counts one story listed under each of slugs, first stored on
// day i of the window.
func (a *Activity) AddTopicDay(i int, slugs ...string) {
	if i < 0 || i >= a.Days {
		return
	}
	for _, slug := range slugs {
		days := a.Topics[slug]
		if days == nil {
			days = make([]int, a.Days)
			a.Topics[slug] = days
		}
		days[i]++
	}
}

func (a *Activity) source(name string) SourceActivity {
	sa := a.Sources[name]
	if sa.Days == nil {
		sa.Days = make([]int, a.Days)
	}
	return sa
}
