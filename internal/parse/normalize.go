package parse

import (
	"bytes"
	"cmp"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/mmcdole/gofeed"
	"golang.org/x/net/html/atom"

	"github.com/newsdesk/newsdesk/internal/story"
)

// normalizer turns gofeed's items into stories; it holds what every entry of
// one document shares.
type normalizer struct {
	in          Input
	doc         *document
	feed        *Feed
	now         time.Time
	base        string   // for relative links without an xml:base: the fetch URL (see feedBase)
	legacy      resolver // the base IDs resolve against (see idLink)
	sourceURL   string   // in.URL with an ASCII host
	sourceTitle string   // the config's title of the source, else the feed's

	// linksBase, parsed as linksAt: the base the last item's links
	// resolved against, which is every item's base but in documents
	// with xml:base (see links).
	linksBase string
	linksAt   resolver
	scan      tagScanner // the buffer every HTML fragment of the document is scanned in
}

// links returns a resolver against base, parsed once for the items that
// share it.
func (n *normalizer) links(base string) resolver {
	if base != n.linksBase || n.linksAt.base == nil {
		n.linksBase, n.linksAt = base, newResolver(base)
	}
	return n.linksAt
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
	n := &normalizer{in: in, doc: doc, feed: f, now: now, base: feedBase(gf.Link, in.URL),
		legacy: newResolver(legacyBase(gf.Link, in.URL)), sourceURL: in.URL,
		sourceTitle: clean(cmp.Or(strings.TrimSpace(in.Source.Title), f.Title))}
	if u, err := url.Parse(in.URL); err == nil && punycodeHost(u) {
		n.sourceURL = u.String()
	}
	f.ID, f.Updated = n.identity(gf)
	return n
}

// story normalizes the i-th item; false when the item carries nothing to
// show: no title, link, words, enclosure or image.
func (n *normalizer) story(i int, item *gofeed.Item) (story.Story, bool) {
	title := n.title(i, item)
	s := story.Story{
		Source:      n.in.Source.Name,
		SourceTitle: n.sourceTitle,
		SourceURL:   n.sourceURL,
		SourceLink:  n.feed.Link,
		GUID:        clean(item.GUID),
		Title:       title,
		FirstSeen:   n.now,
		Language:    n.language(i),
	}
	s.Published, s.Updated = n.dates(i, item)
	base := n.itemBase(i)
	link := n.link(i, item)
	s.Link = canonicalLink(link, n.links(base))

	summary, content := n.bodies(i, item, base)
	if summary.text == "" && summary.html == "" && content.text != "" {
		summary = textFragment(truncate(content.text, summaryRunes))
	}
	s.Summary, s.SummaryText = summary.html, summary.text
	s.Content, s.ContentText = content.html, content.text

	s.Authors = n.authors(i, item, base)
	s.Categories = n.categories(i, item)
	s.Enclosures = n.enclosures(i, item, base)
	s.Image = n.image(item, base, content.image, summary.image)

	if s.Title == "" && s.Link == "" && s.SummaryText == "" && s.ContentText == "" && len(s.Enclosures) == 0 && s.Image == "" {
		return story.Story{}, false // markup without words ("<span></span>") is nothing to show either
	}
	s.ID = story.NewID(s.Source, n.key(s, title, link, item))
	if s.Title == "" {
		s.Title = fallbackTitle(s)
	}
	return s, true
}

// key is what identifies an entry within its source, most stable first: the
// upstream GUID, the link (see idLink), else the title and date as written.
// title is the upstream's (never the one fallbackTitle makes up), so that
// IDs computed before titles were made up stay as they were.
func (n *normalizer) key(s story.Story, title, link string, item *gofeed.Item) string {
	if guid := strings.TrimSpace(s.GUID); guid != "" {
		return guid
	}
	if l := idLink(link, n.legacy); l != "" {
		return l
	}
	key := title + "\x00" + strings.TrimSpace(item.Published)
	if title == "" && strings.TrimSpace(item.Published) == "" {
		key += "\x00" + s.ContentText + "\x00" + s.SummaryText // untitled, undated notes
	}
	return key
}

// itemBase returns the base of the i-th item's relative links: the
// document's, with the xml:base attributes in scope at the item applied.
func (n *normalizer) itemBase(i int) string {
	if i >= len(n.doc.entries) || len(n.doc.entries[i].bases) == 0 || !n.entriesAligned() {
		return n.base
	}
	base := n.base
	for _, b := range n.doc.entries[i].bases {
		if u := resolve(b, base); u != nil && u.IsAbs() {
			base = u.String()
		}
	}
	return base
}

// entriesAligned reports whether the scan met as many entries as gofeed
// read, so that the i-th of each is the same entry.
func (n *normalizer) entriesAligned() bool {
	switch {
	case n.doc.atom != nil:
		return len(n.doc.entries) == len(n.doc.atom.Entries)
	case n.doc.rss != nil:
		return len(n.doc.entries) == len(n.doc.rss.Items)
	}
	return false
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
			summary = htmlFragmentAt(item.Description, base, n.links(base), &n.scan)
		}
		if c := n.doc.atom.Entries[i].Content; c != nil && c.Src == "" {
			switch t := strings.ToLower(strings.TrimSpace(c.Type)); {
			case isHTMLType(t):
				content = htmlFragmentAt(c.Value, base, n.links(base), &n.scan)
			case t == "" || t == "text" || strings.HasPrefix(t, "text/"):
				content = textFragment(c.Value)
			case strings.Contains(t, "/") && !strings.Contains(t, "xml"):
				content = encodedContent(c.Value, t, base)
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
			content = htmlFragmentAt(ji.ContentHTML, base, n.links(base), &n.scan)
		} else {
			content = textFragment(ji.ContentText)
		}
	default:
		summary = htmlFragmentAt(item.Description, base, n.links(base), &n.scan)
		content = htmlFragmentAt(item.Content, base, n.links(base), &n.scan)
	}
	return summary, content
}

// atomTypes returns the pre-scanned text types of the i-th Atom entry; false
// when the document is not Atom or the scan and gofeed disagree on entries.
func (n *normalizer) atomTypes(i int) (entryMeta, bool) {
	if n.doc.atom == nil || !n.entriesAligned() || i >= len(n.doc.entries) {
		return entryMeta{}, false
	}
	return n.doc.entries[i], true
}

func isHTMLType(t string) bool {
	return t == "html" || strings.Contains(t, "xhtml") || t == "text/html"
}

// encodedContent reads Atom content of a media type that is neither text
// nor XML, which RFC 4287 §4.1.3.3 has Base64-encode: shown when the
// decoded bytes are text or HTML, dropped when they are anything else.
// gofeed v1.4.2 decodes it only for the binary types it lists
// (gofeedDecodes); the rest arrive still encoded.
func encodedContent(v, mediaType, base string) fragment {
	b := []byte(v)
	if !gofeedDecodes(mediaType) {
		d, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(v), ""))
		if err != nil {
			return fragment{}
		}
		b = d
	}
	if !utf8.Valid(b) || bytes.IndexByte(b, 0) >= 0 {
		return fragment{}
	}
	switch sniffed := http.DetectContentType(b); {
	case strings.HasPrefix(sniffed, "text/html"), strings.HasPrefix(sniffed, "text/plain") && hasTag(b):
		return htmlFragment(string(b), base)
	case strings.HasPrefix(sniffed, "text/plain"):
		return textFragment(string(b))
	}
	return fragment{}
}

// gofeedDecodes reports whether gofeed's Atom parser has already decoded
// content of type t from Base64 (its isBinaryMediaType).
func gofeedDecodes(t string) bool {
	if strings.HasPrefix(t, "image/") || strings.HasPrefix(t, "audio/") || strings.HasPrefix(t, "video/") {
		return true
	}
	switch t {
	case "application/octet-stream", "application/pdf", "application/zip", "application/gzip",
		"application/x-gzip", "application/ogg":
		return true
	}
	return false
}

// hasTag reports whether b holds a start or end tag of an HTML element.
func hasTag(b []byte) bool {
	for i := bytes.IndexByte(b, '<'); i >= 0; {
		j := i + 1
		if j < len(b) && b[j] == '/' {
			j++
		}
		k := j
		for k < len(b) && (b[k]|0x20 >= 'a' && b[k]|0x20 <= 'z' || k > j && b[k] >= '0' && b[k] <= '9') {
			k++
		}
		if k > j && k < len(b) && (b[k] == '>' || b[k] == ' ' || b[k] == '/') && atom.Lookup(bytes.ToLower(b[j:k])) != 0 {
			return true
		}
		next := bytes.IndexByte(b[i+1:], '<')
		if next < 0 {
			break
		}
		i += 1 + next
	}
	return false
}
