package render

import (
	"cmp"
	"encoding/xml"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/feeds"

	"github.com/newsdesk/newsdesk/internal/story"
)

// Namespaces the RSS document declares on its root.
const (
	nsContent = "http://purl.org/rss/1.0/modules/content/"
	nsAtom    = "http://www.w3.org/2005/Atom"
	nsDC      = "http://purl.org/dc/elements/1.1/"
	nsMedia   = "http://search.yahoo.com/mrss/"
)

// rssRoot replaces feeds.RssFeedXml so the root can declare the atom, dc and
// media namespaces; prefixed element names below rely on them.
type rssRoot struct {
	XMLName   xml.Name    `xml:"rss"`
	Version   string      `xml:"version,attr"`
	NSContent string      `xml:"xmlns:content,attr"`
	NSAtom    string      `xml:"xmlns:atom,attr"`
	NSDC      string      `xml:"xmlns:dc,attr"`
	NSMedia   string      `xml:"xmlns:media,attr"`
	Channel   *rssChannel `xml:"channel"`
}

// rssChannel adds atom:link (self, hub, RFC 5005 paging) to gorilla's channel.
type rssChannel struct {
	*feeds.RssFeed
	AtomLinks []rssAtomLink
	Items     []*rssItem `xml:"item"` // shadows RssFeed.Items
}

type rssAtomLink struct {
	XMLName xml.Name `xml:"atom:link"`
	Href    string   `xml:"href,attr"`
	Rel     string   `xml:"rel,attr"`
	Type    string   `xml:"type,attr,omitempty"`
}

// rssItem shadows the RssItem fields gorilla gets wrong or cannot express.
type rssItem struct {
	*feeds.RssItem
	Link        string        `xml:"link,omitempty"`        // no empty <link/> for link-less stories
	Description string        `xml:"description,omitempty"` // likewise
	Categories  []string      `xml:"category"`              // gorilla has one category at most
	Source      *rssSource    `xml:"source"`                // gorilla writes <source>URL</source> (G6)
	Creators    []string      `xml:"dc:creator"`            // names; <author> must be an email (G7)
	Thumbnail   *mediaThumb   `xml:"media:thumbnail"`
	Enclosure   *rssEnclosure `xml:"enclosure"` // gorilla drops one with no length (G8)
}

type rssSource struct {
	URL   string `xml:"url,attr"`
	Title string `xml:",chardata"`
}

type rssEnclosure struct {
	URL    string `xml:"url,attr"`
	Length string `xml:"length,attr"`
	Type   string `xml:"type,attr"`
}

type mediaThumb struct {
	URL string `xml:"url,attr"`
}

func writeRSS(w io.Writer, ch Channel, stories []story.Story) error {
	base := (&feeds.Rss{Feed: baseFeed(ch, stories)}).RssFeed()
	base.ManagingEditor = "" // gorilla writes "email (name)" even with no email
	base.PubDate = ""        // lastBuildDate says it; a channel pubDate adds nothing
	if ch.Updated.IsZero() && len(stories) == 0 {
		base.LastBuildDate = "" // no real time to report
	}
	base.Language = ch.Language
	base.Generator = ch.Generator
	if ch.TTL > 0 {
		base.Ttl = int((ch.TTL + time.Minute - 1) / time.Minute) // minutes, rounded up
	}
	c := &rssChannel{RssFeed: base, Items: make([]*rssItem, len(stories))}
	if ch.SelfURL != "" {
		c.AtomLinks = append(c.AtomLinks, rssAtomLink{Href: ch.SelfURL, Rel: "self", Type: "application/rss+xml"})
	}
	for _, hub := range ch.HubURLs {
		c.AtomLinks = append(c.AtomLinks, rssAtomLink{Href: hub, Rel: "hub"})
	}
	if ch.FirstURL != "" {
		c.AtomLinks = append(c.AtomLinks, rssAtomLink{Href: ch.FirstURL, Rel: "first"})
	}
	if ch.NextURL != "" {
		c.AtomLinks = append(c.AtomLinks, rssAtomLink{Href: ch.NextURL, Rel: "next"})
	}
	for i, it := range base.Items {
		c.Items[i] = newRSSItem(it, &stories[i])
	}
	base.Items = nil

	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(&rssRoot{Version: "2.0", NSContent: nsContent, NSAtom: nsAtom, NSDC: nsDC,
		NSMedia: nsMedia, Channel: c}); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

func newRSSItem(base *feeds.RssItem, s *story.Story) *rssItem {
	it := &rssItem{RssItem: base, Link: base.Link, Description: base.Description, Categories: s.Categories}
	if s.Title == "" && s.Summary == "" {
		it.Description = s.Content // an item needs a title or a description
	}
	base.Link, base.Description = "", ""
	base.Author = ""
	for _, a := range s.Authors {
		// <author> must be an email address; the first one with an address wins.
		if base.Author == "" && strings.Contains(a.Email, "@") {
			base.Author = a.Email
			if a.Name != "" {
				base.Author += " (" + a.Name + ")"
			}
		}
		if name := authorName(a); name != "" {
			it.Creators = append(it.Creators, name)
		}
	}
	// <source url> names the upstream feed; for a local file, its site instead.
	if u := cmp.Or(s.SourceURL, s.SourceLink); u != "" {
		it.Source = &rssSource{URL: u, Title: sourceTitle(s)}
	}
	// The RSS Profile allows one enclosure: prefer the first real one, else the lead image.
	switch {
	case len(s.Enclosures) > 0:
		e := s.Enclosures[0]
		it.Enclosure = &rssEnclosure{URL: e.URL, Length: strconv.FormatInt(max(e.Length, 0), 10), Type: enclosureType(e)}
	case s.Image != "":
		it.Enclosure = &rssEnclosure{URL: s.Image, Length: "0", Type: imageType(s.Image)}
	}
	if s.Image != "" {
		it.Thumbnail = &mediaThumb{URL: s.Image}
	}
	return it
}
