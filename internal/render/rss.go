package render

import (
	"cmp"
	"encoding/xml"
	"io"
	"strconv"
	"time"

	"github.com/gorilla/feeds"
)

// Namespaces the documents declare on their root, each only when an
// element uses it.
const (
	nsContent = "http://purl.org/rss/1.0/modules/content/"
	nsAtom    = "http://www.w3.org/2005/Atom"
	nsDC      = "http://purl.org/dc/elements/1.1/"
	nsMedia   = "http://search.yahoo.com/mrss/"
	// nsNewsdesk holds our own extension elements: the sequence cursor of
	// a ?since page (JSON Feed carries it as "_newsdesk").
	nsNewsdesk = "https://github.com/newsdesk/newsdesk/xmlns/1"
)

// rssRoot replaces feeds.RssFeedXml so the root can declare the namespaces
// the prefixed element names below rely on.
type rssRoot struct {
	XMLName   xml.Name    `xml:"rss"`
	Version   string      `xml:"version,attr"`
	NSContent string      `xml:"xmlns:content,attr,omitempty"`
	NSAtom    string      `xml:"xmlns:atom,attr,omitempty"`
	NSDC      string      `xml:"xmlns:dc,attr,omitempty"`
	NSMedia   string      `xml:"xmlns:media,attr,omitempty"`
	NSND      string      `xml:"xmlns:nd,attr,omitempty"`
	Channel   *rssChannel `xml:"channel"`
}

// rssChannel adds atom:link (self, hub, RFC 5005 paging) to gorilla's channel.
type rssChannel struct {
	*feeds.RssFeed
	AtomLinks []rssAtomLink
	Since     *uint64    `xml:"nd:since"`
	Items     []*rssItem `xml:"item"` // shadows RssFeed.Items
}

type rssAtomLink struct {
	XMLName xml.Name `xml:"atom:link"`
	Href    string   `xml:"href,attr"`
	Rel     string   `xml:"rel,attr"`
	Type    string   `xml:"type,attr,omitempty"`
}

// rssItem is an item in the order the RSS Best Practices Profile lists the
// elements, description before content:encoded. Every person is credited
// once: the first with an address as <author> ("email (Name)", the form RSS
// defines), every other as <dc:creator>. The only enclosure is one the
// upstream declared (podcast clients download enclosures); a lead image is
// a media:thumbnail.
type rssItem struct {
	Title       string     `xml:"title"`
	Link        string     `xml:"link,omitempty"`
	Description string     `xml:"description,omitempty"`
	Content     *cdata     `xml:"content:encoded"`
	Author      string     `xml:"author,omitempty"`
	Creators    []string   `xml:"dc:creator"`
	Categories  []string   `xml:"category"`
	Enclosure   string     `xml:",innerxml"` // <enclosure/>, self-closing
	GUID        rssGUID    `xml:"guid"`
	PubDate     string     `xml:"pubDate,omitempty"`
	Source      *rssSource `xml:"source"`
	Thumbnail   string     `xml:",innerxml"` // <media:thumbnail/>, self-closing
	Seq         *uint64    `xml:"nd:seq"`
}

// plainRSSItem has rssItem's fields without its MarshalXML.
type plainRSSItem rssItem

// MarshalXML starts every item on a line of its own.
func (it *rssItem) MarshalXML(e *xml.Encoder, start xml.StartElement) error {
	if err := e.EncodeToken(xml.CharData("\n")); err != nil {
		return err
	}
	return e.EncodeElement((*plainRSSItem)(it), start)
}

// cdata is element text written as a CDATA section, as readers expect HTML
// in content:encoded; encoding/xml splits any "]]>" inside, and every
// string has been through clean, so no illegal character reaches it.
type cdata struct {
	Text string `xml:",cdata"`
}

type rssGUID struct {
	IsPermaLink string `xml:"isPermaLink,attr"`
	ID          string `xml:",chardata"`
}

type rssSource struct {
	URL   string `xml:"url,attr"`
	Title string `xml:",chardata"`
}

func writeRSS(w io.Writer, ch Channel, items []item) error {
	base := (&feeds.Rss{Feed: baseFeed(ch, items)}).RssFeed()
	base.ManagingEditor = "" // gorilla writes "email (name)" even with no email
	base.PubDate = ""        // lastBuildDate says it; a channel pubDate adds nothing
	if ch.Updated.IsZero() && len(items) == 0 {
		base.LastBuildDate = "" // no real time to report
	}
	base.Language = ch.Language
	base.Generator = ch.Generator
	if ch.TTL > 0 {
		base.Ttl = int((ch.TTL + time.Minute - 1) / time.Minute) // minutes, rounded up
	}
	c := &rssChannel{RssFeed: base, Items: make([]*rssItem, len(items))}
	root := &rssRoot{Version: "2.0", Channel: c}
	link := func(href, rel, typ string) {
		if href != "" {
			c.AtomLinks = append(c.AtomLinks, rssAtomLink{Href: href, Rel: rel, Type: typ})
		}
	}
	link(ch.SelfURL, "self", "application/rss+xml")
	for _, hub := range ch.HubURLs {
		link(hub, "hub", "")
	}
	link(ch.FirstURL, "first", "")
	link(ch.NextURL, "next", "")
	if len(c.AtomLinks) > 0 {
		root.NSAtom = nsAtom
	}
	if ch.Resume {
		c.Since = &ch.ResumeSeq
		root.NSND = nsNewsdesk
	}
	for i := range items {
		it := newRSSItem(ch, &items[i])
		if it.Content != nil {
			root.NSContent = nsContent
		}
		if len(it.Creators) > 0 {
			root.NSDC = nsDC
		}
		if it.Thumbnail != "" {
			root.NSMedia = nsMedia
		}
		c.Items[i] = it
	}

	if err := writeHead(w, ch); err != nil {
		return err
	}
	if err := xml.NewEncoder(w).Encode(root); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

func newRSSItem(ch Channel, v *item) *rssItem {
	s := v.s
	it := &rssItem{Title: v.title, Link: s.Link, Categories: nonEmpty(s.Categories),
		GUID: rssGUID{IsPermaLink: "false", ID: ch.ItemIDPrefix + s.FeedID()}} // the id first served for its link group; never a URL
	if v.content {
		it.Description = v.summary
		it.Content = &cdata{v.body}
	} else {
		it.Description = v.body // the summary is all there is: no content:encoded to repeat it
	}
	if !v.published.IsZero() {
		it.PubDate = v.published.Format(time.RFC1123Z)
	}
	for _, a := range s.Authors {
		switch {
		case it.Author == "" && hasEmail(a):
			it.Author = a.Email
			if a.Name != "" {
				it.Author += " (" + a.Name + ")"
			}
		case authorName(a) != "":
			it.Creators = append(it.Creators, authorName(a))
		}
	}
	// <source url> names the upstream feed; for a local file, its site instead.
	if u := cmp.Or(s.SourceURL, s.SourceLink); u != "" {
		it.Source = &rssSource{URL: u, Title: sourceTitle(s)}
	}
	// The RSS Profile allows one enclosure per item.
	if len(s.Enclosures) > 0 {
		e, el := s.Enclosures[0], emptyElements{}
		el.add("enclosure", "url", e.URL, "length", strconv.FormatInt(max(e.Length, 0), 10), "type", enclosureType(e))
		it.Enclosure = el.String()
	}
	it.Thumbnail = thumbnail(s.Image)
	if ch.Resume {
		it.Seq = &s.Seq
	}
	return it
}

// nonEmpty returns ss without its empty strings, copying only when needed.
func nonEmpty(ss []string) []string {
	for i, s := range ss {
		if s == "" {
			out := append([]string(nil), ss[:i]...)
			for _, s := range ss[i+1:] {
				if s != "" {
					out = append(out, s)
				}
			}
			return out
		}
	}
	return ss
}
