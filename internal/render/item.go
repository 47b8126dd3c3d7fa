package render

import (
	"html"
	"path"
	"strings"
	"time"

	"github.com/gorilla/feeds"

	"github.com/newsdesk/newsdesk/internal/story"
)

// epoch is the update time of an empty feed with no Channel.Updated: fixed,
// so rendering never depends on the clock.
var epoch = time.Unix(0, 0).UTC()

// baseFeed builds gorilla's feed model, which each format's wrapper starts
// from. Every item gets our stable id and both dates: without them gorilla
// invents ids (random UUIDs, or tag: URIs under the upstream's domain, G3).
func baseFeed(ch Channel, stories []story.Story) *feeds.Feed {
	f := &feeds.Feed{
		Title:       ch.Title,
		Link:        &feeds.Link{Href: ch.HTMLURL},
		Description: ch.Description,
		Author:      &feeds.Author{Name: channelAuthor(ch)},
		Updated:     feedUpdated(ch, stories),
		Id:          ch.ID,
		Items:       make([]*feeds.Item, len(stories)),
	}
	for i := range stories {
		s := &stories[i]
		it := &feeds.Item{
			Title:       s.Title,
			Description: s.Summary,
			Id:          ch.ItemIDPrefix + s.FeedID(), // the id first served for its link group
			IsPermaLink: "false",                      // a tag: or hash id is never a URL (G5)
			Updated:     storyUpdated(s),
			Created:     storyPublished(s),
		}
		if s.Link != "" {
			it.Link = &feeds.Link{Href: s.Link}
		}
		if hasContent(s) {
			it.Content = contentHTML(s)
		}
		f.Items[i] = it
	}
	return f
}

func channelAuthor(ch Channel) string {
	if ch.Author != "" {
		return ch.Author
	}
	return defaultAuthor
}

// utc normalises a time for output: UTC, whole seconds (JSON Feed readers
// choke on nanoseconds less often than they choke on offsets, but both are noise).
func utc(t time.Time) time.Time {
	return t.UTC().Truncate(time.Second)
}

// firstTime returns the first non-zero time, in UTC, or the zero time.
func firstTime(ts ...time.Time) time.Time {
	for _, t := range ts {
		if !t.IsZero() {
			return utc(t)
		}
	}
	return time.Time{}
}

// storyPublished is when the story first appeared; the store fills Published
// from FirstSeen, the fallbacks only matter for callers that skip the store.
func storyPublished(s *story.Story) time.Time {
	return firstTime(s.Published, s.Updated, s.FirstSeen)
}

// storyUpdated is the story's last significant change.
func storyUpdated(s *story.Story) time.Time {
	return firstTime(s.Updated, s.Published, s.FirstSeen)
}

// feedUpdated is ch.Updated, else the newest story's update, else the epoch.
func feedUpdated(ch Channel, stories []story.Story) time.Time {
	if !ch.Updated.IsZero() {
		return utc(ch.Updated)
	}
	var newest time.Time
	for i := range stories {
		if t := storyUpdated(&stories[i]); t.After(newest) {
			newest = t
		}
	}
	if newest.IsZero() {
		return epoch
	}
	return newest
}

// hasContent reports whether the story has a body beyond its summary worth a
// content element: its own content, or the note naming other sources.
func hasContent(s *story.Story) bool {
	return s.Content != "" || len(s.AlsoIn) > 0
}

// contentHTML is the story's full HTML: the content (else the summary),
// followed by a paragraph naming the other sources that carried it.
func contentHTML(s *story.Story) string {
	body := s.Content
	if body == "" {
		body = s.Summary
	}
	if len(s.AlsoIn) == 0 {
		return body
	}
	var b strings.Builder
	b.WriteString(body)
	b.WriteString("\n<p>Also reported by: ")
	for i, r := range s.AlsoIn {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(html.EscapeString(refTitle(r)))
	}
	b.WriteString(".</p>")
	return b.String()
}

func refTitle(r story.Ref) string {
	if r.Title != "" {
		return r.Title
	}
	return r.Source
}

// sourceTitle is the human name of the story's upstream.
func sourceTitle(s *story.Story) string {
	if s.SourceTitle != "" {
		return s.SourceTitle
	}
	return s.Source
}

// authorName is what to print for a person: the name, else the address.
func authorName(a story.Author) string {
	if a.Name != "" {
		return a.Name
	}
	return a.Email
}

// mediaTypes guesses enclosure types from the URL's extension. A fixed table
// rather than mime.TypeByExtension, which reads the host's mime.types and so
// would make output differ between machines.
var mediaTypes = map[string]string{
	".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png", ".gif": "image/gif",
	".webp": "image/webp", ".avif": "image/avif", ".svg": "image/svg+xml",
	".mp3": "audio/mpeg", ".m4a": "audio/mp4", ".aac": "audio/aac", ".ogg": "audio/ogg",
	".oga": "audio/ogg", ".opus": "audio/ogg", ".wav": "audio/wav", ".flac": "audio/flac",
	".mp4": "video/mp4", ".m4v": "video/mp4", ".webm": "video/webm", ".mov": "video/quicktime",
	".pdf": "application/pdf",
}

// guessType returns the media type for url's extension, or fallback.
func guessType(url, fallback string) string {
	if i := strings.IndexAny(url, "?#"); i >= 0 {
		url = url[:i]
	}
	if t, ok := mediaTypes[strings.ToLower(path.Ext(url))]; ok {
		return t
	}
	return fallback
}

// enclosureType is e's declared type, else a guess; never empty, because RSS
// requires the attribute and JSON Feed requires mime_type.
func enclosureType(e story.Enclosure) string {
	if strings.Contains(e.Type, "/") {
		return e.Type
	}
	return guessType(e.URL, "application/octet-stream")
}

// imageType is the type of a lead image given only by URL. Unknown extensions
// are called image/jpeg, the common case, so readers still show it as an image.
func imageType(url string) string {
	return guessType(url, "image/jpeg")
}

// languageTag returns tag if it is a well-formed language tag for xml:lang
// (RFC 4287 atomLanguageTag), with "_" read as "-"; otherwise "".
func languageTag(tag string) string {
	tag = strings.ReplaceAll(tag, "_", "-")
	if tag == "" {
		return ""
	}
	for i, part := range strings.Split(tag, "-") {
		if len(part) < 1 || len(part) > 8 {
			return ""
		}
		for _, c := range part {
			letter := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
			digit := c >= '0' && c <= '9'
			if !letter && (i == 0 || !digit) {
				return ""
			}
		}
	}
	return tag
}
