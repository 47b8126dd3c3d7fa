package parse

import (
	"cmp"
	"html"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/mmcdole/gofeed"
	ext "github.com/mmcdole/gofeed/extensions"
	"github.com/mmcdole/gofeed/json"

	"github.com/newsdesk/newsdesk/internal/story"
)

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
func (n *normalizer) authors(i int, item *gofeed.Item, base string) []story.Author {
	var out []story.Author
	links := n.links(base)
	add := func(name, email, uri string) {
		a := story.Author{Name: plain(name), Email: clean(strings.TrimSpace(email)), URL: links.abs(uri, false)}
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

// categories returns the item's categories as plain text, trimmed, without
// empties or case-insensitive repeats. Nested structures are flattened, so
// that nothing inside them is lost: an RSS <category> holding further
// elements (gofeed returns its inner markup as the value) gives each text
// in it as a category, and an itunes:category gives its text and its
// subcategories'.
func (n *normalizer) categories(i int, item *gofeed.Item) []string {
	var out []string
	seen := make(map[string]bool, len(item.Categories))
	add := func(c string) {
		c = plain(c)
		k := strings.ToLower(c)
		if c == "" || seen[k] {
			return
		}
		seen[k] = true
		out = append(out, c)
	}
	for _, c := range item.Categories {
		if strings.IndexByte(c, '<') < 0 {
			add(c)
			continue
		}
		for _, part := range markupTexts(c) {
			add(part)
		}
	}
	var itunes func(es []ext.Extension)
	itunes = func(es []ext.Extension) {
		for _, e := range es {
			add(e.Attrs["text"])
			itunes(e.Children["category"])
		}
	}
	itunes(item.Extensions["itunes"]["category"])
	return out
}

// markupTexts returns the runs of text between the tags of s, each with its
// entities as written ("News<category>World</category>" gives "News" and
// "World").
func markupTexts(s string) []string {
	var out []string
	for s != "" {
		lt := strings.IndexByte(s, '<')
		if lt < 0 {
			out = append(out, s)
			break
		}
		if lt > 0 {
			out = append(out, s[:lt])
		}
		if strings.HasPrefix(s[lt:], "<![CDATA[") {
			end := strings.Index(s[lt:], "]]>")
			if end < 0 {
				out = append(out, s[lt+9:])
				break
			}
			out = append(out, html.EscapeString(s[lt+9:lt+end]))
			s = s[lt+end+3:]
			continue
		}
		gt := strings.IndexByte(s[lt:], '>')
		if gt < 0 {
			break
		}
		s = s[lt+gt+1:]
	}
	return out
}

// enclosures returns the item's declared enclosures with absolute URLs,
// parsed lengths (0 when unknown), titles and durations, dropping those
// without a usable URL and repeats. JSON Feed attachments keep their title,
// size and duration; an Atom enclosure link its title; a podcast item's
// itunes:duration is its one enclosure's.
func (n *normalizer) enclosures(i int, item *gofeed.Item, base string) []story.Enclosure {
	links := n.links(base)
	var out []story.Enclosure
	seen := make(map[string]bool, len(item.Enclosures))
	add := func(e story.Enclosure) {
		e.URL = links.abs(e.URL, false)
		if e.URL == "" || seen[e.URL] {
			return
		}
		seen[e.URL] = true
		e.Type, e.Title = clean(strings.TrimSpace(e.Type)), plain(e.Title)
		e.Length, e.Duration = max(e.Length, 0), max(e.Duration, 0)
		out = append(out, e)
	}
	switch {
	case n.doc.json != nil && i < len(n.doc.json.Items) && n.doc.json.Items[i] != nil:
		if atts := n.doc.json.Items[i].Attachments; atts != nil {
			for _, a := range *atts {
				add(story.Enclosure{URL: a.URL, Type: a.MimeType, Length: a.SizeInBytes, Title: a.Title,
					Duration: seconds(a.DurationInSeconds)})
			}
		}
		return out
	case n.doc.atom != nil && i < len(n.doc.atom.Entries) && n.doc.atom.Entries[i] != nil:
		for _, l := range n.doc.atom.Entries[i].Links {
			if l != nil && strings.EqualFold(strings.TrimSpace(l.Rel), "enclosure") {
				add(story.Enclosure{URL: l.Href, Type: l.Type, Length: length(l.Length), Title: l.Title})
			}
		}
		return out
	}
	for _, e := range item.Enclosures {
		if e != nil {
			add(story.Enclosure{URL: e.URL, Type: e.Type, Length: length(e.Length)})
		}
	}
	if len(out) == 1 && item.ITunesExt != nil {
		out[0].Duration = itunesDuration(item.ITunesExt.Duration)
	}
	return out
}

// length reads an enclosure length in bytes; 0 when it is not a number.
func length(s string) int64 {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || n < 0 {
		return 0
	}
	return n
}

// seconds converts a count of seconds, bounded to what a Duration holds.
func seconds(s int64) time.Duration {
	const maxSeconds = int64(1<<63-1) / int64(time.Second)
	if s <= 0 || s > maxSeconds {
		return 0
	}
	return time.Duration(s) * time.Second
}

// itunesDuration reads itunes:duration: seconds, or [[h:]m:]s; 0 when it
// is neither.
func itunesDuration(s string) time.Duration {
	parts := strings.Split(strings.TrimSpace(s), ":")
	if len(parts) > 3 || parts[0] == "" {
		return 0
	}
	var total int64
	for _, p := range parts {
		v, err := strconv.ParseInt(p, 10, 64)
		if err != nil || v < 0 || v > 1<<31 {
			return 0
		}
		total = total*60 + v
	}
	return seconds(total)
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
	links := n.links(base)
	for _, c := range candidates {
		if u := links.abs(c, false); u != "" {
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

// dates returns the i-th item's publication and update times. gofeed reads
// one element for each (RSS pubDate, else dc:date; Atom published, else
// updated), and none of Dublin Core's terms; here every element that dates
// an entry is a candidate, in order of precedence, so that an unreadable
// pubDate gives way to a readable dc:date:
//
//	published: RSS pubDate, dc:date, atom:published; Atom published (0.3
//	issued); then dcterms:issued, dcterms:created, an unprefixed <published>
//	or <issued> in RSS; Atom's updated last
//	updated: RSS dc:date, atom:updated; Atom updated (0.3 modified); then
//	dcterms:modified, an unprefixed <updated> or <modified> in RSS
func (n *normalizer) dates(i int, item *gofeed.Item) (published, updated time.Time) {
	pub := make([]string, 0, 6)
	upd := make([]string, 0, 4)
	pub = append(pub, item.Published)
	upd = append(upd, item.Updated)
	var custom map[string]string
	switch {
	case n.doc.rss != nil && i < len(n.doc.rss.Items) && n.doc.rss.Items[i] != nil:
		ri := n.doc.rss.Items[i]
		pub = append(pub, ri.PubDate)
		if dc := ri.DublinCoreExt; dc != nil {
			pub = append(pub, dc.Date...)
		}
		custom = ri.Custom
	case n.doc.atom != nil && i < len(n.doc.atom.Entries) && n.doc.atom.Entries[i] != nil:
		e := n.doc.atom.Entries[i]
		pub = append(pub[:0], e.Published)
		upd = append(upd[:0], e.Updated)
	}
	terms := item.Extensions["dcterms"]
	for _, name := range []string{"issued", "created"} {
		for _, e := range terms[name] {
			pub = append(pub, e.Value)
		}
	}
	for _, e := range terms["modified"] {
		upd = append(upd, e.Value)
	}
	pub = append(pub, custom["published"], custom["issued"])
	upd = append(upd, custom["updated"], custom["modified"])
	if n.doc.atom != nil {
		pub = append(pub, upd[0]) // gofeed's rule: an entry with no published was published when updated
	}
	return date(n.now, item.PublishedParsed, pub...), date(n.now, item.UpdatedParsed, upd...)
}

// identity returns the upstream feed's own id and update time (see Feed).
func (n *normalizer) identity(gf *gofeed.Feed) (id string, updated time.Time) {
	switch {
	case n.doc.atom != nil:
		a := n.doc.atom
		return iri(a.ID), date(n.now, a.UpdatedParsed, a.Updated)
	case n.doc.rss != nil:
		r := n.doc.rss
		raws := []string{r.LastBuildDate, r.PubDate}
		if r.DublinCoreExt != nil {
			raws = append(raws, r.DublinCoreExt.Date...)
		}
		parsed := r.LastBuildDateParsed
		if parsed == nil {
			parsed = r.PubDateParsed
		}
		return n.feed.Link, date(n.now, parsed, raws...)
	case n.doc.json != nil:
		j := n.doc.json
		return cmp.Or(CanonicalLink(j.FeedURL, n.base), CanonicalLink(j.HomePageURL, n.base)), time.Time{}
	}
	return "", time.Time{}
}

// iri returns an upstream identifier as we write it: verbatim, except that
// a URL's internationalised host is written in punycode (gofeed hands it
// over percent-encoded, which validators reject).
func iri(id string) string {
	id = clean(strings.TrimSpace(id))
	if u, err := url.Parse(id); err == nil && u.Host != "" && !isASCII(u.Host) && punycodeHost(u) {
		return u.String()
	}
	return id
}

// ttl returns how long upstream asks readers to wait between polls: RSS
// <ttl> minutes, else sy:updatePeriod divided by sy:updateFrequency.
func ttl(doc *document, gf *gofeed.Feed) time.Duration {
	const maxTTL = 365 * 24 * time.Hour
	if doc.rss != nil {
		if m, err := strconv.ParseInt(strings.TrimSpace(doc.rss.TTL), 10, 64); err == nil && m > 0 {
			return time.Duration(min(m, int64(maxTTL/time.Minute))) * time.Minute
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
