package parse

import (
	"cmp"
	"strings"
	"time"

	"github.com/mmcdole/gofeed"

	"github.com/newsdesk/newsdesk/internal/story"
)

// normalizer turns gofeed's items into stories; it holds what every entry of
// one document shares.
type normalizer struct {
	in          Input
	doc         *document
	feed        *Feed
	now         time.Time
	base        string // for relative links: the absolute channel link, else the fetch URL
	sourceTitle string // the config's title of the source, else the feed's
}

func normalize(in Input, doc *document, gf *gofeed.Feed, now time.Time) *Feed {
	n := newNormalizer(in, doc, gf, now)
	f := n.feed
	seen := make(map[string]bool, len(gf.Items))
	f.Stories = make([]story.Story, 0, len(gf.Items))
	for i, item := range gf.Items {
		if item == nil {
			continue
		}
		s, ok := n.story(i, item)
		if !ok || seen[s.ID] {
			continue // the first of two entries with one GUID wins
		}
		seen[s.ID] = true
		f.Stories = append(f.Stories, s)
	}
	return f
}

// newNormalizer reads the feed-level fields of gf.
func newNormalizer(in Input, doc *document, gf *gofeed.Feed, now time.Time) *normalizer {
	f := &Feed{
		Title:    plain(gf.Title),
		Link:     CanonicalLink(gf.Link, in.URL),
		Language: language(gf.Language),
		TTL:      ttl(doc, gf),
	}
	return &normalizer{in: in, doc: doc, feed: f, now: now, base: feedBase(gf.Link, in.URL),
		sourceTitle: clean(cmp.Or(strings.TrimSpace(in.Source.Title), f.Title))}
}

// story normalizes the i-th item; false when the item carries nothing to show.
func (n *normalizer) story(i int, item *gofeed.Item) (story.Story, bool) {
	s := story.Story{
		Source:      n.in.Source.Name,
		SourceTitle: n.sourceTitle,
		SourceURL:   n.in.URL,
		SourceLink:  n.feed.Link,
		GUID:        clean(item.GUID),
		Title:       n.title(i, item),
		FirstSeen:   n.now,
		Language:    n.language(i),
	}
	s.Published, s.Updated = n.dates(i, item)
	link := n.link(i, item)
	s.Link = CanonicalLink(link, n.base)
	base := absURL(link, n.base, false) // relative content resolves against the article first
	if base == "" {
		base = n.base
	}

	summary, content := n.bodies(i, item, base)
	if summary.text == "" && summary.html == "" && content.text != "" {
		summary = textFragment(truncate(content.text, summaryRunes))
	}
	s.Summary, s.SummaryText = summary.html, summary.text
	s.Content, s.ContentText = content.html, content.text

	s.Authors = n.authors(i, item)
	s.Categories = categories(item.Categories)
	s.Enclosures = enclosures(item.Enclosures, base)
	s.Image = n.image(item, base, content.image, summary.image)

	if s.Title == "" && s.Link == "" && s.Summary == "" && s.Content == "" && len(s.Enclosures) == 0 {
		return story.Story{}, false
	}
	s.ID = story.NewID(s.Source, n.key(s, item))
	return s, true
}

// key is what identifies an entry within its source, most stable first: the
// upstream GUID, the canonical link, else the title and date as written.
func (n *normalizer) key(s story.Story, item *gofeed.Item) string {
	if guid := strings.TrimSpace(s.GUID); guid != "" {
		return guid
	}
	if s.Link != "" {
		return s.Link
	}
	key := s.Title + "\x00" + strings.TrimSpace(item.Published)
	if s.Title == "" && strings.TrimSpace(item.Published) == "" {
		key += "\x00" + s.ContentText + "\x00" + s.SummaryText // untitled, undated notes
	}
	return key
}

// link returns the i-th item's article link as upstream wrote it (xml:base
// applied by gofeed).
func (n *normalizer) link(i int, item *gofeed.Item) string {
	if item.Link != "" {
		return item.Link
	}
	if n.doc.rss != nil && i < len(n.doc.rss.Items) {
		// An RSS guid is a permalink unless it says otherwise.
		if g := n.doc.rss.Items[i].GUID; g != nil && !strings.EqualFold(strings.TrimSpace(g.IsPermalink), "false") &&
			absURL(g.Value, "", false) != "" {
			return g.Value
		}
	}
	if len(item.Links) > 0 {
		return item.Links[0] // JSON external_url, Atom rel="self"
	}
	return ""
}

// title returns the item's title as plain text. Atom says whether a title is
// text or HTML; RSS titles and JSON titles are treated as HTML, since
// publishers routinely put entities and tags there.
func (n *normalizer) title(i int, item *gofeed.Item) string {
	if t, ok := n.atomTypes(i); ok && !isHTMLType(t.title) {
		return collapse(clean(item.Title))
	}
	return plain(item.Title)
}

// bodies returns the item's summary and content, each sanitized as HTML or
// escaped as text according to what upstream declared it to be.
func (n *normalizer) bodies(i int, item *gofeed.Item, base string) (summary, content fragment) {
	switch {
	case n.doc.atom != nil && i < len(n.doc.atom.Entries):
		if t, ok := n.atomTypes(i); ok && !isHTMLType(t.summary) {
			summary = textFragment(item.Description)
		} else {
			summary = htmlFragment(item.Description, base)
		}
		if c := n.doc.atom.Entries[i].Content; c != nil && c.Src == "" {
			switch t := strings.ToLower(strings.TrimSpace(c.Type)); {
			case isHTMLType(t):
				content = htmlFragment(c.Value, base)
			case t == "" || t == "text" || strings.HasPrefix(t, "text/"):
				content = textFragment(c.Value)
			}
		}
	case n.doc.json != nil && i < len(n.doc.json.Items):
		ji := n.doc.json.Items[i]
		if ji == nil {
			break
		}
		// JSON summary is plain text by spec, but often carries markup.
		summary = textFragment(plain(ji.Summary))
		if ji.ContentHTML != "" {
			content = htmlFragment(ji.ContentHTML, base)
		} else {
			content = textFragment(ji.ContentText)
		}
	default:
		summary = htmlFragment(item.Description, base)
		content = htmlFragment(item.Content, base)
	}
	return summary, content
}

// atomTypes returns the pre-scanned text types of the i-th Atom entry; false
// when the document is not Atom or the scan and gofeed disagree on entries.
func (n *normalizer) atomTypes(i int) (textTypes, bool) {
	if n.doc.atom == nil || len(n.doc.entryTypes) != len(n.doc.atom.Entries) || i >= len(n.doc.entryTypes) {
		return textTypes{}, false
	}
	return n.doc.entryTypes[i], true
}

func isHTMLType(t string) bool {
	return t == "html" || strings.Contains(t, "xhtml") || t == "text/html"
}
