// Package render writes topic feeds as RSS 2.0, Atom 1.0 and JSON Feed 1.1,
// building on gorilla/feeds and filling in where it falls short of the specs.
//
// gorilla/feeds builds each document's head (feeds.RssFeed, feeds.AtomFeed,
// feeds.JSONFeed) and JSON Feed's item objects; this package wraps them in
// its own types that shadow the fields gorilla gets wrong (random Atom ids,
// a JSON feed without "items", wrong JSON keys) and add what it cannot
// express (self and hub links, RFC 5005 paging, the ?since cursor). RSS
// items and Atom entries are its own structs, in the element order the RSS
// Best Practices Profile lists and with no empty elements. Output is
// deterministic: the same input always gives the same bytes, so callers can
// hash it into an ETag.
//
// Every item has a title (story.Headline names an untitled one), a body
// where its format needs one, and its text once: a summary that repeats
// the content's opening is left out. A lead image is a thumbnail (JSON Feed
// "image"), never an enclosure the upstream did not declare.
//
// A story that other sources also carried (Story.AlsoIn) names them: its HTML
// content ends with a short "Also reported by: …" paragraph in every format,
// and the JSON Feed item carries them under "_newsdesk"."also_in".
package render

import (
	"fmt"
	"io"
	"time"

	"github.com/newsdesk/newsdesk/internal/story"
)

// Format is an output format.
type Format int

// The formats.
const (
	RSS Format = iota
	Atom
	JSON
)

// ParseFormat maps a URL extension ("rss", "atom", "json") to a Format.
func ParseFormat(ext string) (Format, bool) {
	switch ext {
	case "rss":
		return RSS, true
	case "atom":
		return Atom, true
	case "json":
		return JSON, true
	}
	return 0, false
}

// Ext returns the URL extension.
func (f Format) Ext() string {
	switch f {
	case RSS:
		return "rss"
	case Atom:
		return "atom"
	case JSON:
		return "json"
	}
	return ""
}

// ContentType returns the media type with charset.
func (f Format) ContentType() string {
	switch f {
	case RSS:
		// Not IANA-registered, but what readers and the RSS Profile expect.
		return "application/rss+xml; charset=utf-8"
	case Atom:
		return "application/atom+xml; charset=utf-8"
	case JSON:
		return "application/feed+json; charset=utf-8"
	}
	return ""
}

// String returns the URL extension, so a Format prints readably.
func (f Format) String() string {
	if ext := f.Ext(); ext != "" {
		return ext
	}
	return fmt.Sprintf("Format(%d)", int(f))
}

// Channel describes the feed document.
type Channel struct {
	ID                                              string
	ItemIDPrefix                                    string
	Title, Description, Language, Generator, Author string

	HTMLURL           string // the topic's web page
	SelfURL           string // this document's own address (a page's includes its query)
	FeedURL           string // the subscription address (JSON feed_url); "" means SelfURL
	FirstURL, NextURL string // RFC 5005 paging
	HubURLs           []string

	// Resume marks a ?since page: the document carries ResumeSeq, the
	// sequence number to ask for next (?since=ResumeSeq), and every item its
	// own sequence number, in every format.
	Resume    bool
	ResumeSeq uint64

	// Upstreams describe the upstream feeds the stories came from, by
	// story.Source: what an Atom <source> credits.
	Upstreams map[string]Upstream

	Updated time.Time
	TTL     time.Duration

	// Stylesheet, when set, is the address of an XSLT stylesheet that RSS
	// and Atom documents name in an xml-stylesheet processing instruction,
	// so that a browser opening the feed shows a page (see writeHead).
	Stylesheet string
}

// Upstream is what an upstream feed's document says about itself.
type Upstream struct {
	ID      string    // its own id (an Atom feed's <id>, an RSS channel's link); "" when it has none
	Updated time.Time // its own update time; zero when it gives none
}

// defaultAuthor credits the feed when Channel.Author is empty: Atom requires
// an author on the feed unless every entry has one.
const defaultAuthor = "newsdesk"

// Write renders stories as one feed document, in the order given.
//
// Every string is stripped of characters XML 1.0 cannot carry first, so one
// stray control character upstream cannot make the document malformed, and
// every URL's host is written in ASCII (punycode). Documents carry no
// indentation and declare only the namespaces they use; each item starts
// a line of its own, so diffs of rendered feeds stay readable.
// Write never reads the clock: when ch.Updated is zero the feed's update time
// is the newest story's, or the Unix epoch for an empty feed.
func Write(w io.Writer, f Format, ch Channel, stories []story.Story) error {
	ch = cleanChannel(ch)
	clean := make([]story.Story, len(stories))
	items := make([]item, len(stories))
	for i := range stories {
		clean[i] = cleanStory(stories[i])
		items[i] = newItem(&clean[i])
	}
	var err error
	switch f {
	case RSS:
		err = writeRSS(w, ch, items)
	case Atom:
		err = writeAtom(w, ch, items)
	case JSON:
		err = writeJSON(w, ch, items)
	default:
		return fmt.Errorf("render: unknown format %d", int(f))
	}
	if err != nil {
		return fmt.Errorf("render %s: %w", f, err)
	}
	return nil
}
