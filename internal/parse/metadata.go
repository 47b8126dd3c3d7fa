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
