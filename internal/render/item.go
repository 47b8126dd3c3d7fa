package render

import (
	"cmp"
	"html"
	"path"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gorilla/feeds"

	"github.com/newsdesk/newsdesk/internal/story"
)

// epoch is the update time of an empty feed with no Channel.Updated: fixed,
// so rendering never depends on the clock.
var epoch = time.Unix(0, 0).UTC()

// baseFeed builds gorilla's feed model for the document's head; each
// format's writer takes its channel struct from it and writes the items
// itself (gorilla's item structs would need every field shadowed to get
// the element order and the omissions right).
func baseFeed(ch Channel, items []item) *feeds.Feed {
	return &feeds.Feed{
		Title:       ch.Title,
		Link:        &feeds.Link{Href: ch.HTMLURL},
		Description: ch.Description,
		Author:      &feeds.Author{Name: channelAuthor(ch)},
		Updated:     feedUpdated(ch, items),
		Id:          ch.ID,
	}
}

func channelAuthor(ch Channel) string {
	if ch.Author != "" {
		return ch.Author
	}
	return defaultAuthor
}

// item is a story as every format presents it, worked out once per story:
// its title, which of its summary and content are worth writing, and its
// dates. Each writer then only chooses elements.
type item struct {
	s         *story.Story
	title     string // never empty
	summary   string // HTML summary to write beside the content; "" when the content says it all
	body      string // the full HTML (content, else summary, plus the also-reported paragraph); "" when none
	content   bool   // body is the story's own content, so summary can stand beside it
	published time.Time
	updated   time.Time
}

func newItem(s *story.Story) item {
	it := item{s: s, title: story.Headline(s), body: contentHTML(s), content: s.Content != "",
		published: storyPublished(s), updated: storyUpdated(s)}
	if it.content && !redundantSummary(s, it.title) {
		it.summary = s.Summary
	}
	return it
}

// summaryText is the plain-text summary for JSON Feed, "" when the content
// says it all (or is the summary itself).
func (it *item) summaryText() string {
	if it.summary == "" {
		return ""
	}
	return it.s.SummaryText
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

// feedUpdated is ch.Updated, else the newest item's update, else the epoch.
func feedUpdated(ch Channel, items []item) time.Time {
	if !ch.Updated.IsZero() {
		return utc(ch.Updated)
	}
	var newest time.Time
	for i := range items {
		if t := items[i].updated; t.After(newest) {
			newest = t
		}
	}
	if newest.IsZero() {
		return epoch
	}
	return newest
}

// contentHTML is the story's full HTML: the content (else the summary),
// followed by a paragraph naming the other sources that carried it.
func contentHTML(s *story.Story) string {
	body := cmp.Or(s.Content, s.Summary)
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

// redundantSummary reports whether the story's summary adds nothing to its
// content or title: the same text, or the content's opening words cut short
// (an excerpt, often ending in "…"). RFC 4287 §4.2.13 advises against a
// summary that duplicates the title or content, and every format then
// carries the text once.
func redundantSummary(s *story.Story, title string) bool {
	if s.Summary == "" || s.Summary == s.Content {
		return true
	}
	sum, text := s.SummaryText, s.ContentText
	if sum == "" || text == "" { // plain text unknown: compare the HTML
		sum, text = s.Summary, s.Content
	}
	sum = trimEllipsis(sum)
	return sum == "" || sameText(sum, title) || hasPrefixText(text, sum)
}

// trimEllipsis removes the marks an excerpt ends with and trailing space.
func trimEllipsis(s string) string {
	for {
		t := strings.TrimRightFunc(s, unicode.IsSpace)
		for _, mark := range []string{"[…]", "[...]", "…", "..."} {
			t = strings.TrimSuffix(t, mark)
		}
		if t == s {
			return s
		}
		s = t
	}
}

// sameText reports whether a and b are the same text up to white space.
func sameText(a, b string) bool {
	return hasPrefixText(a, b) && hasPrefixText(b, a)
}

// hasPrefixText reports whether text starts with prefix, reading every run
// of white space in either as one space and ignoring it at the start. It
// allocates nothing: the content it reads can be long.
func hasPrefixText(text, prefix string) bool {
	i, j := skipSpace(text, 0), skipSpace(prefix, 0)
	for j < len(prefix) {
		if i >= len(text) {
			return false
		}
		a, na := utf8.DecodeRuneInString(text[i:])
		b, nb := utf8.DecodeRuneInString(prefix[j:])
		if unicode.IsSpace(a) && unicode.IsSpace(b) {
			i, j = skipSpace(text, i), skipSpace(prefix, j)
			continue
		}
		if a != b {
			return false
		}
		i, j = i+na, j+nb
	}
	return true
}

func skipSpace(s string, i int) int {
	for i < len(s) {
		r, n := utf8.DecodeRuneInString(s[i:])
		if !unicode.IsSpace(r) {
			break
		}
		i += n
	}
	return i
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

// hasEmail reports whether a's address looks like one (RSS <author> and
// Atom <email> need a real address).
func hasEmail(a story.Author) bool {
	at := strings.IndexByte(a.Email, '@')
	return at > 0 && at < len(a.Email)-1 && !strings.ContainsAny(a.Email, " \t<>()")
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

// enclosureType is e's declared type, else one guessed from a known
// extension, else application/octet-stream: never empty, because RSS
// requires the attribute and JSON Feed requires mime_type, and never a
// guess from a URL without an extension.
func enclosureType(e story.Enclosure) string {
	if strings.Contains(e.Type, "/") {
		return e.Type
	}
	u := e.URL
	if i := strings.IndexAny(u, "?#"); i >= 0 {
		u = u[:i]
	}
	if t, ok := mediaTypes[strings.ToLower(path.Ext(u))]; ok {
		return t
	}
	return "application/octet-stream"
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
