package feedcheck

import (
	"strconv"
	"strings"
	"time"
)

const nsAtom = "http://www.w3.org/2005/Atom"

// RSS checks an RSS 2.0 document: well-formed XML; <rss version="2.0">; a
// channel with title, link and description and an atom:link rel="self"
// (RSS Profile); and for every item: a title or description, a guid with an
// explicit isPermaLink, a pubDate in RFC 822 form with a 4-digit year, a
// source with a url attribute, an enclosure with url, length and type, and
// an author that is an email address.
func RSS(doc []byte) error {
	root, err := parseXML(doc)
	if err != nil {
		return Problems{err.Error()}
	}
	var p Problems
	if root.name.Space != "" || root.name.Local != "rss" {
		p.add("root element is <%s>, want <rss>", root.name.Local)
		return p
	}
	if v, _ := root.get("version"); v != "2.0" {
		p.add("rss version is %q, want \"2.0\"", v)
	}
	ch := root.one("", "channel")
	if ch == nil {
		p.add("no <channel>")
		return p
	}
	for _, name := range []string{"title", "link", "description"} {
		if ch.one("", name) == nil {
			p.add("channel has no <%s>", name)
		}
	}
	if textOf(ch.one("", "title")) == "" {
		p.add("channel title is empty")
	}
	if d := ch.one("", "lastBuildDate"); d != nil && !rfc822(textOf(d)) {
		p.add("channel lastBuildDate %q is not RFC 822 with a 4-digit year", textOf(d))
	}
	if d := ch.one("", "pubDate"); d != nil && !rfc822(textOf(d)) {
		p.add("channel pubDate %q is not RFC 822 with a 4-digit year", textOf(d))
	}
	if ttl := ch.one("", "ttl"); ttl != nil {
		if n, err := strconv.Atoi(textOf(ttl)); err != nil || n < 0 {
			p.add("channel ttl %q is not a number of minutes", textOf(ttl))
		}
	}
	self := false
	for _, l := range ch.all(nsAtom, "link") {
		rel, _ := l.get("rel")
		href, _ := l.get("href")
		if href == "" {
			p.add("atom:link rel=%q has no href", rel)
		}
		self = self || rel == "self"
	}
	if !self {
		p.add("channel has no atom:link rel=\"self\"")
	}
	for i, it := range ch.all("", "item") {
		checkRSSItem(&p, i+1, it)
	}
	return p.err()
}

func checkRSSItem(p *Problems, n int, it *node) {
	if textOf(it.one("", "title")) == "" && textOf(it.one("", "description")) == "" {
		p.add("item %d has neither title nor description", n)
	}
	guid := it.one("", "guid")
	switch {
	case guid == nil:
		p.add("item %d has no guid", n)
	case textOf(guid) == "":
		p.add("item %d has an empty guid", n)
	default:
		perma, ok := guid.get("isPermaLink")
		if !ok {
			p.add("item %d guid has no explicit isPermaLink (missing means true)", n)
		} else if perma != "true" && perma != "false" {
			p.add("item %d guid isPermaLink is %q", n, perma)
		}
	}
	if d := it.one("", "pubDate"); d != nil && !rfc822(textOf(d)) {
		p.add("item %d pubDate %q is not RFC 822 with a 4-digit year", n, textOf(d))
	}
	for _, s := range it.all("", "source") {
		if u, _ := s.get("url"); u == "" {
			p.add("item %d source has no url attribute", n)
		}
	}
	encs := it.all("", "enclosure")
	if len(encs) > 1 {
		p.add("item %d has %d enclosures; the RSS Profile allows one", n, len(encs))
	}
	for _, e := range encs {
		if u, _ := e.get("url"); u == "" {
			p.add("item %d enclosure has no url", n)
		}
		if l, _ := e.get("length"); !digits(l) {
			p.add("item %d enclosure length %q is not a number of bytes", n, l)
		}
		if t, _ := e.get("type"); !strings.Contains(t, "/") {
			p.add("item %d enclosure type %q is not a media type", n, t)
		}
	}
	for _, a := range it.all("", "author") {
		if !strings.Contains(textOf(a), "@") {
			p.add("item %d author %q is not an email address (use dc:creator for names)", n, textOf(a))
		}
	}
}

// rfc822 reports whether s is an RSS date the validators accept: RFC 1123
// (a 4-digit year) with a numeric zone or an RFC 822 zone name; "UTC" and
// other names are not RFC 822.
func rfc822(s string) bool {
	if _, err := time.Parse(time.RFC1123Z, s); err == nil {
		return true
	}
	if _, err := time.Parse(time.RFC1123, s); err != nil {
		return false
	}
	return rfc822Zones[s[strings.LastIndexByte(s, ' ')+1:]]
}

var rfc822Zones = map[string]bool{"UT": true, "GMT": true, "EST": true, "EDT": true, "CST": true,
	"CDT": true, "MST": true, "MDT": true, "PST": true, "PDT": true}

func digits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
