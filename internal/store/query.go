package store

import (
	"time"

	"github.com/newsdesk/newsdesk/internal/story"
)

// Page sizes for Recent and Since.
const (
	DefaultLimit = 50
	MaxLimit     = 1000
)

// Query selects a page of stories for Recent.
type Query struct {
	Topic     string    // "" means all stories
	Limit     int       // [DefaultLimit], at most MaxLimit: see ClampLimit
	Before    string    // cursor from Page.Next; "" means newest
	NotBefore time.Time // stop at stories published before this
}

// Page is one page of stories, newest first.
type Page struct {
	Stories []story.Story
	// Next is an opaque cursor for the next older page; "" when there is
	// none. It is URL-safe (servers put it in a query string as is) and at
	// most a few hundred bytes.
	Next string
}

// TopicInfo summarises a topic's index.
type TopicInfo struct {
	Count   int
	Newest  time.Time // newest Published in the index
	Changed time.Time // last time the topic's feed changed (index entry added or removed, member updated)
}

// ClampLimit is the number of stories a Recent or Since page holds when asked
// for n: DefaultLimit for n ≤ 0, at most MaxLimit.
func ClampLimit(n int) int {
	if n <= 0 {
		return DefaultLimit
	}
	return min(n, MaxLimit)
}
