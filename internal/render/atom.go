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

	"github.com/newsdesk/newsdesk/internal/story"
)

// atomFeed shadows the AtomFeed fields gorilla fills wrongly: its id is the
// site link (G2) and it has a single link, so no self, hub or paging links.
type atomFeed struct {
	*feeds.AtomFeed
	Lang      string           `xml:"xml:lang,attr,omitempty"`
	Generator string           `xml:"generator,omitempty"`
	Links     []feeds.AtomLink `xml:"link"` // shadows the single Link
	Entries   []*atomEntry     `xml:"entry"`
}

// atomEntry shadows the string-typed category and source (invalid Atom, G14)
// and the single author.
type atomEntry struct {
	*feeds.AtomEntry
	Lang       string              `xml:"xml:lang,attr,omitempty"`
	Authors    []*feeds.AtomAuthor `xml:"author"`
	Categories []atomCategory      `xml:"category"`
	Source     *atomSource         `xml:"source"`
	Content    *atomText           `xml:"content"` // shadows gorilla's, pre-escaped
	Summary    *atomText           `xml:"summary"`
}

// atomText is an html text construct written as CDATA, like RSS
// content:encoded: encoding/xml's escaping decodes and checks every rune,
// which made it the largest cost of an Atom render, while CDATA is copied
// as is (encoding/xml splits any "]]>" inside). Every string has already
// been through clean, so no illegal character can reach the section.
type atomText struct {
	Type string `xml:"type,attr"`
	Body string `xml:",cdata"`
}

func htmlText(html string) *atomText {
	return &atomText{Type: "html", Body: html}
}

type atomCategory struct {
	Term  string `xml:"term,attr"`
	Label string `xml:"label,attr,omitempty"`
}

// atomSource credits the upstream feed (RFC 4287 §4.2.11).
type atomSource struct {
	ID    string           `xml:"id,omitempty"`
	Title string           `xml:"title,omitempty"`
	Links []feeds.AtomLink `xml:"link"`
}

func writeAtom(w io.Writer, ch Channel, stories []story.Story) error {
	base := (&feeds.Atom{Feed: baseFeed(ch, stories)}).AtomFeed()
	// gorilla uses the site link as the feed id (G2); ours is ch.ID. The
	// fallbacks keep a caller that forgot it valid, if less stable.
	base.Id = cmp.Or(ch.ID, ch.SelfURL, ch.HTMLURL)
	if base.Id == "" {
		return errors.New("atom feed needs an id: Channel.ID is empty")
	}
	base.Link = nil
	f := &atomFeed{AtomFeed: base, Lang: languageTag(ch.Language), Generator: ch.Generator,
		Entries: make([]*atomEntry, len(stories))}
	if ch.HTMLURL != "" {
		f.Links = append(f.Links, feeds.AtomLink{Href: ch.HTMLURL, Rel: "alternate", Type: "text/html"})
	}
	if ch.SelfURL != "" {
		f.Links = append(f.Links, feeds.AtomLink{Href: ch.SelfURL, Rel: "self", Type: "application/atom+xml"})
	}
	for _, hub := range ch.HubURLs {
		f.Links = append(f.Links, feeds.AtomLink{Href: hub, Rel: "hub"})
	}
	if ch.FirstURL != "" {
		f.Links = append(f.Links, feeds.AtomLink{Href: ch.FirstURL, Rel: "first"})
	}
	if ch.NextURL != "" {
		f.Links = append(f.Links, feeds.AtomLink{Href: ch.NextURL, Rel: "next"})
	}
	for i, e := range base.Entries {
		f.Entries[i] = newAtomEntry(e, &stories[i], f.Lang)
	}
	base.Entries = nil

	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(f); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

func newAtomEntry(base *feeds.AtomEntry, s *story.Story, feedLang string) *atomEntry {
	e := &atomEntry{AtomEntry: base}
	if lang := languageTag(s.Language); lang != "" && lang != feedLang {
		e.Lang = lang
	}
	// gorilla leaves <updated> empty without dates (G4, invalid) and never
	// writes <published> (G13).
	if base.Updated == "" {
		base.Updated = epoch.Format(time.RFC3339)
	}
	if p := storyPublished(s); !p.IsZero() {
		base.Published = p.Format(time.RFC3339)
	}
	base.Author = nil
	for _, a := range s.Authors {
		name := authorName(a)
		if name == "" {
			continue // atom:name is required
		}
		p := feeds.AtomPerson{Name: name, Uri: a.URL}
		if strings.Contains(a.Email, "@") {
			p.Email = a.Email
		}
		e.Authors = append(e.Authors, &feeds.AtomAuthor{AtomPerson: p})
	}
	for _, c := range s.Categories {
		if c != "" {
			e.Categories = append(e.Categories, atomCategory{Term: c})
		}
	}
	base.Links = base.Links[:0]
	if s.Link != "" {
		base.Links = append(base.Links, feeds.AtomLink{Href: s.Link, Rel: "alternate", Type: "text/html"})
	}
	for _, enc := range s.Enclosures {
		l := feeds.AtomLink{Href: enc.URL, Rel: "enclosure", Type: enclosureType(enc)}
		if enc.Length > 0 {
			l.Length = strconv.FormatInt(enc.Length, 10)
		}
		base.Links = append(base.Links, l)
	}
	if len(s.Enclosures) == 0 && s.Image != "" {
		base.Links = append(base.Links, feeds.AtomLink{Href: s.Image, Rel: "enclosure", Type: imageType(s.Image)})
	}
	if hasContent(s) || s.Link == "" {
		// An entry needs an alternate link or content (RFC 4287 §4.1.1).
		e.Content = htmlText(contentHTML(s))
	}
	if s.Summary != "" {
		e.Summary = htmlText(s.Summary)
	}
	base.Content, base.Summary = nil, nil
	if s.SourceURL != "" || s.SourceLink != "" || sourceTitle(s) != "" {
		src := &atomSource{ID: cmp.Or(s.SourceURL, s.SourceLink), Title: sourceTitle(s)}
		if s.SourceURL != "" {
			src.Links = append(src.Links, feeds.AtomLink{Href: s.SourceURL, Rel: "self"})
		}
		if s.SourceLink != "" {
			src.Links = append(src.Links, feeds.AtomLink{Href: s.SourceLink, Rel: "alternate", Type: "text/html"})
		}
		e.Source = src
	}
	return e
}
