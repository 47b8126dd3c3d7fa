package parse

import (
	"strconv"
	"strings"
	"time"

	"github.com/mmcdole/gofeed"
	ext "github.com/mmcdole/gofeed/extensions"
	"github.com/mmcdole/gofeed/json"

	"github.com/newsdesk/newsdesk/internal/story"
)

// normalizer turns gofeed's items into stories; it holds what every entry of
// one document shares.
type normalizer struct {
	in   Input
	doc  *document
	gf   *gofeed.Feed
	feed *Feed
	now  time.Time
	base string // for relative links: the absolute channel link, else the fetch URL
}

func normalize(in Input, doc *document, gf *gofeed.Feed, now time.Time) *Feed {
	f := &Feed{
		Title:    plain(gf.Title),
		Link:     CanonicalLink(gf.Link, in.URL),
		Language: language(gf.Language),
		TTL:      ttl(doc, gf),
	}
	n := &normalizer{in: in, doc: doc, gf: gf, feed: f, now: now, base: feedBase(gf.Link, in.URL)}
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

// story normalizes the i-th item; false when the item carries nothing to show.
func (n *normalizer) story(i int, item *gofeed.Item) (story.Story, bool) {
	title := strings.TrimSpace(n.in.Source.Title)
	if title == "" {
		title = n.feed.Title
	}
	s := story.Story{
		Source:      n.in.Source.Name,
		SourceTitle: clean(title),
		SourceURL:   n.in.URL,
		SourceLink:  n.feed.Link,
		GUID:        clean(item.GUID),
		Title:       n.title(i, item),
		Published:   date(item.Published, item.PublishedParsed, n.now),
		Updated:     date(item.Updated, item.UpdatedParsed, n.now),
		FirstSeen:   n.now,
		Language:    n.language(i),
	}
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

// language returns the i-th item's language, else the feed's.
func (n *normalizer) language(i int) string {
	if n.doc.json != nil && i < len(n.doc.json.Items) && n.doc.json.Items[i] != nil {
		if l := language(n.doc.json.Items[i].Language); l != "" {
			return l
		}
	}
	return n.feed.Language
}

// language returns tag as a BCP 47 tag in its usual case ("en-US" for RSS's
// "en-us" or "en_US"), or "" when it does not look like one.
func language(tag string) string {
	tag = strings.ReplaceAll(strings.TrimSpace(tag), "_", "-")
	if len(tag) == 0 || len(tag) > 35 {
		return ""
	}
	for _, r := range tag {
		if !(r == '-' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return ""
		}
	}
	parts := strings.Split(tag, "-")
	for i, p := range parts {
		switch {
		case i == 0:
			parts[i] = strings.ToLower(p)
		case len(p) == 2:
			parts[i] = strings.ToUpper(p) // region
		case len(p) == 4:
			parts[i] = strings.ToUpper(p[:1]) + strings.ToLower(p[1:]) // script
		default:
			parts[i] = strings.ToLower(p)
		}
	}
	return strings.Join(parts, "-")
}

// authors returns the item's authors with name, email and URL. gofeed's
// universal item drops Atom and JSON author URLs, so those come from the
// original entry; Atom and JSON entries without authors inherit the feed's.
func (n *normalizer) authors(i int, item *gofeed.Item) []story.Author {
	var out []story.Author
	add := func(name, email, uri string) {
		a := story.Author{Name: plain(name), Email: clean(strings.TrimSpace(email)), URL: absURL(uri, n.base, false)}
		if a == (story.Author{}) {
			return
		}
		for _, b := range out {
			if a == b {
				return
			}
		}
		out = append(out, a)
	}
	switch {
	case n.doc.atom != nil && i < len(n.doc.atom.Entries):
		persons := n.doc.atom.Entries[i].Authors
		if len(persons) == 0 {
			persons = n.doc.atom.Authors
		}
		for _, p := range persons {
			if p != nil {
				add(p.Name, p.Email, p.URI)
			}
		}
	case n.doc.json != nil && i < len(n.doc.json.Items) && n.doc.json.Items[i] != nil:
		ji, jf := n.doc.json.Items[i], n.doc.json
		people := ji.Authors
		if len(people) == 0 && ji.Author != nil {
			people = []*json.Author{ji.Author}
		}
		if len(people) == 0 {
			people = jf.Authors
		}
		if len(people) == 0 && jf.Author != nil {
			people = []*json.Author{jf.Author}
		}
		for _, a := range people {
			if a != nil {
				add(a.Name, "", a.URL)
			}
		}
	default:
		for _, p := range item.Authors {
			if p != nil {
				add(p.Name, p.Email, "")
			}
		}
	}
	return out
}

// categories returns cats as plain text, trimmed, without empties or
// case-insensitive repeats.
func categories(cats []string) []string {
	var out []string
	seen := make(map[string]bool, len(cats))
	for _, c := range cats {
		c = plain(c)
		k := strings.ToLower(c)
		if c == "" || seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, c)
	}
	return out
}

// enclosures returns encs with absolute URLs and parsed lengths (0 when
// unknown), dropping those without a usable URL and repeats.
func enclosures(encs []*gofeed.Enclosure, base string) []story.Enclosure {
	var out []story.Enclosure
	seen := make(map[string]bool, len(encs))
	for _, e := range encs {
		if e == nil {
			continue
		}
		u := absURL(e.URL, base, false)
		if u == "" || seen[u] {
			continue
		}
		seen[u] = true
		length, err := strconv.ParseInt(strings.TrimSpace(e.Length), 10, 64)
		if err != nil || length < 0 {
			length = 0
		}
		out = append(out, story.Enclosure{URL: u, Type: clean(strings.TrimSpace(e.Type)), Length: length})
	}
	return out
}

// image returns the story's lead image: the item's own (itunes:image,
// media:content, image enclosure, JSON image), else a media:thumbnail, else
// the first <img> of the content or summary; absolute, or "".
func (n *normalizer) image(item *gofeed.Item, base string, fromHTML ...string) string {
	candidates := make([]string, 0, 4)
	if item.Image != nil {
		candidates = append(candidates, item.Image.URL)
	}
	candidates = append(candidates, mediaImages(item.Extensions)...)
	for _, e := range item.Enclosures {
		if e != nil && strings.HasPrefix(e.Type, "image/") {
			candidates = append(candidates, e.URL)
		}
	}
	candidates = append(candidates, fromHTML...)
	for _, c := range candidates {
		if u := absURL(c, base, false); u != "" {
			return u
		}
	}
	return ""
}

// mediaImages returns the Media RSS thumbnails and image contents of an
// item, including those inside media:group, which gofeed does not map.
func mediaImages(exts ext.Extensions) []string {
	media := exts["media"]
	if media == nil {
		return nil
	}
	var out []string
	collect := func(m map[string][]ext.Extension) {
		for _, t := range m["thumbnail"] {
			out = append(out, t.Attrs["url"])
		}
		for _, c := range m["content"] {
			if strings.HasPrefix(c.Attrs["type"], "image/") || c.Attrs["medium"] == "image" {
				out = append(out, c.Attrs["url"])
			}
		}
	}
	collect(media)
	for _, g := range media["group"] {
		collect(g.Children)
	}
	return out
}

// ttl returns how long upstream asks readers to wait between polls: RSS
// <ttl> minutes, else sy:updatePeriod divided by sy:updateFrequency.
func ttl(doc *document, gf *gofeed.Feed) time.Duration {
	const maxTTL = 365 * 24 * time.Hour
	if doc.rss != nil {
		if m, err := strconv.ParseInt(strings.TrimSpace(doc.rss.TTL), 10, 64); err == nil && m > 0 {
			return min(time.Duration(min(m, int64(maxTTL/time.Minute)))*time.Minute, maxTTL)
		}
	}
	sy := gf.Extensions["sy"]
	if len(sy["updatePeriod"]) == 0 && len(sy["updateFrequency"]) == 0 {
		return 0
	}
	period := syPeriods["daily"] // the module's default
	if p := sy["updatePeriod"]; len(p) > 0 {
		var ok bool
		if period, ok = syPeriods[strings.ToLower(strings.TrimSpace(p[0].Value))]; !ok {
			return 0
		}
	}
	freq := int64(1)
	if f := sy["updateFrequency"]; len(f) > 0 {
		if v, err := strconv.ParseInt(strings.TrimSpace(f[0].Value), 10, 64); err == nil && v > 0 {
			freq = v
		}
	}
	return period / time.Duration(freq)
}

// syPeriods are the sy:updatePeriod values of the RSS 1.0 Syndication module.
var syPeriods = map[string]time.Duration{
	"hourly": time.Hour, "daily": 24 * time.Hour, "weekly": 7 * 24 * time.Hour,
	"monthly": 30 * 24 * time.Hour, "yearly": 365 * 24 * time.Hour,
}
