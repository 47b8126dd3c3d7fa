package parse

import "github.com/newsdesk/newsdesk/internal/story"

// fallbackTitle makes a title for an entry that has none, so that no output
// format ever shows an empty one: story.FallbackTitle, the one rule render
// and the pages apply too. "" only for an entry with no text, link,
// enclosure or image, which normalize drops.
func fallbackTitle(s story.Story) string { return story.FallbackTitle(&s) }
