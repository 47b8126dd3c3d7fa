package render

import (
	"cmp"
	"encoding/xml"
	"errors"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/feeds"
)

// atomFeed shadows the AtomFeed fields gorilla fills wrongly: its id is the
// site link (G2) and it has a single link, so no self, hub or paging links.
type atomFeed struct {
	*feeds.AtomFeed
	Lang      string           `xml:"xml:lang,attr,omitempty"`
	NSMedia   string           `xml:"xmlns:media,attr,omitempty"`
	NSND      string           `xml:"xmlns:nd,attr,omitempty"`
	Generator string           `xml:"generator,omitempty"`
	Links     []feeds.AtomLink `xml:"link"` // shadows the single Link
	Since     *uint64          `xml:"nd:since"`
	Entries   []*atomEntry     `xml:"entry"`
}

// atomEntry is an entry with everything gorilla's cannot express: several
// authors and categories, a real <source>, <published>, a thumbnail.
type atomEntry struct {
	Lang      string       `xml:"xml:lang,attr,omitempty"`
	Title     string       `xml:"title"`
	ID        string       `xml:"id"`
	Updated   string       `xml:"updated"`
	Published string       `xml:"published,omitempty"`
	Authors   []atomPerson `xml:"author"`
	Links     string       `xml:",innerxml"` // <link/>s and <category/>s, self-closing
	Summary   *atomText    `xml:"summary"`
	Content   *atomText    `xml:"content"`
	Source    *atomSource  `xml:"source"`
	Thumbnail string       `xml:",innerxml"` // <media:thumbnail/>
	Seq       *uint64      `xml:"nd:seq"`
}

// plainAtomEntry has atomEntry's fields without its MarshalXML.
type plainAtomEntry atomEntry

// MarshalXML starts every entry on a line of its own.
func (e *atomEntry) MarshalXML(enc *xml.Encoder, start xml.StartElement) error {
	if err := enc.EncodeToken(xml.CharData("\n")); err != nil {
		return err
	}
	return enc.EncodeElement((*plainAtomEntry)(e), start)
}

type atomPerson struct {
	Name  string `xml:"name"`
	URI   string `xml:"uri,omitempty"`
	Email string `xml:"email,omitempty"`
}

// atomText is a text construct. HTML is written as CDATA, like RSS
// content:encoded: encoding/xml's escaping decodes and checks every rune,
// which made it the largest cost of an Atom render, while CDATA is copied
// as is (encoding/xml splits any "]]>" inside). Every string has already
// been through clean, so no illegal character can reach the section.
type atomText struct {
	Type string `xml:"type,attr"`
	Body string `xml:",cdata"`
}

// atomSource credits the upstream feed (RFC 4287 §4.2.11) with its own id
// and update time, when its document gives them.
type atomSource struct {
	ID      string `xml:"id,omitempty"`
	Title   string `xml:"title,omitempty"`
	Updated string `xml:"updated,omitempty"`
	Links   string `xml:",innerxml"` // self-closing <link/>s
}

func writeAtom(w io.Writer, ch Channel, items []item) error {
	base := (&feeds.Atom{Feed: baseFeed(ch, items)}).AtomFeed()
	// gorilla uses the site link as the feed id (G2); ours is ch.ID. The
	// fallbacks keep a caller that forgot it valid, if less stable.
	base.Id = cmp.Or(ch.ID, ch.SelfURL, ch.HTMLURL)
	if base.Id == "" {
		return errors.New("atom feed needs an id: Channel.ID is empty")
	}
	base.Link = nil
	f := &atomFeed{AtomFeed: base, Lang: languageTag(ch.Language), Generator: ch.Generator,
		Entries: make([]*atomEntry, len(items))}
	link := func(href, rel, typ string) {
		if href != "" {
			f.Links = append(f.Links, feeds.AtomLink{Href: href, Rel: rel, Type: typ})
		}
	}
	link(ch.HTMLURL, "alternate", "text/html")
	link(ch.SelfURL, "self", "application/atom+xml")
	for _, hub := range ch.HubURLs {
		link(hub, "hub", "")
	}
	link(ch.FirstURL, "first", "")
	link(ch.NextURL, "next", "")
	if ch.Resume {
		f.Since = &ch.ResumeSeq
		f.NSND = nsNewsdesk
	}
	for i := range items {
		e := newAtomEntry(ch, &items[i], f.Lang)
		if e.Thumbnail != "" {
			f.NSMedia = nsMedia
		}
		f.Entries[i] = e
	}

	if err := writeHead(w, ch); err != nil {
		return err
	}
	if err := xml.NewEncoder(w).Encode(f); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

func newAtomEntry(ch Channel, v *item, feedLang string) *atomEntry {
	s := v.s
	// gorilla leaves <updated> empty without dates (G4, invalid) and never
	// writes <published> (G13).
	updated := v.updated
	if updated.IsZero() {
		updated = epoch
	}
	e := &atomEntry{Title: v.title, ID: ch.ItemIDPrefix + s.FeedID(), Updated: updated.Format(time.RFC3339)}
	if lang := languageTag(s.Language); lang != "" && lang != feedLang {
		e.Lang = lang
	}
	if !v.published.IsZero() {
		e.Published = v.published.Format(time.RFC3339)
	}
	for _, a := range s.Authors {
		name := authorName(a)
		if name == "" {
			continue // atom:name is required
		}
		p := atomPerson{Name: name, URI: a.URL}
		if hasEmail(a) {
			p.Email = a.Email
		}
		e.Authors = append(e.Authors, p)
	}
	var links emptyElements
	if s.Link != "" {
		links.link(s.Link, "alternate", "text/html", "")
	}
	for _, enc := range s.Enclosures {
		length := ""
		if enc.Length > 0 {
			length = strconv.FormatInt(enc.Length, 10)
		}
		links.link(enc.URL, "enclosure", enclosureType(enc), length)
	}
	for _, c := range s.Categories {
		if c != "" {
			links.add("category", "term", c)
		}
	}
	e.Links = links.String()
	switch {
	case v.content:
		e.Content = &atomText{Type: "html", Body: v.body}
		if v.summary != "" {
			e.Summary = &atomText{Type: "html", Body: v.summary}
		}
	case v.body != "" && s.Link == "":
		// An entry needs an alternate link or content (RFC 4287 §4.1.1).
		e.Content = &atomText{Type: "html", Body: v.body}
	case v.body != "":
		e.Summary = &atomText{Type: "html", Body: v.body}
	case s.Link == "":
		e.Content = &atomText{Type: "text", Body: v.title} // nothing else to show, and content is required
	}
	if s.SourceURL != "" || s.SourceLink != "" || sourceTitle(s) != "" {
		up := ch.Upstreams[s.Source]
		src := &atomSource{ID: cmp.Or(up.ID, s.SourceURL, s.SourceLink), Title: sourceTitle(s)}
		if !up.Updated.IsZero() {
			src.Updated = utc(up.Updated).Format(time.RFC3339)
		}
		var links emptyElements
		if s.SourceURL != "" {
			links.link(s.SourceURL, "self", "", "")
		}
		if s.SourceLink != "" {
			links.link(s.SourceLink, "alternate", "text/html", "")
		}
		src.Links = links.String()
		if src.ID != "" && !strings.Contains(src.ID, ":") {
			src.ID = "" // atom:id must be an IRI
		}
		e.Source = src
	}
	e.Thumbnail = thumbnail(s.Image)
	if ch.Resume {
		e.Seq = &s.Seq
	}
	return e
}
