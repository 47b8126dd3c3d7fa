// Package parse turns the bytes of an upstream feed (RSS 0.9x/1.0/2.0, Atom,
// JSON Feed) into normalized stories, using gofeed.
//
// gofeed does the format work; this package defends it against hostile input
// (nesting depth, entity declarations, charsets gofeed cannot read such as
// UTF-16 and UTF-32, panics) and repairs what it gets wrong or leaves undone:
// dates in shapes and elements it does not read, relative links (xml:base,
// the fetch URL), tracking parameters and internationalised hosts, HTML
// versus plain text, Base64 Atom content, unsanitized markup, untitled
// entries, and a JSON Feed in which one item is malformed.
package parse

import (
	"errors"
	"fmt"
	"time"

	"github.com/mmcdole/gofeed"
	"github.com/mmcdole/gofeed/atom"
	"github.com/mmcdole/gofeed/rss"

	"github.com/newsdesk/newsdesk/internal/story"
)

// ErrTooDeep reports an XML document nested deeper than gofeed can safely
// parse: its recursive extension parser can exhaust the stack, which recover
// cannot catch.
var ErrTooDeep = errors.New("xml nested too deep")

// ErrNotFeed reports a body that is not RSS, Atom or JSON Feed: empty, an HTML
// page, or a document whose type cannot be detected.
var ErrNotFeed = errors.New("not a feed")

// ErrEntities reports a document that declares XML entities in an internal
// DTD subset: billion-laughs expansion, external entities. Nothing of it is
// read.
var ErrEntities = errors.New("declares XML entities; refused")

// Input is one fetched document.
type Input struct {
	Source      story.Source
	Body        []byte
	ContentType string // HTTP Content-Type, for its charset
	URL         string // final fetch URL: the base for relative links after the channel link
}

// Feed is the parsed document.
type Feed struct {
	Title    string
	Link     string // absolute home page of the upstream site
	Language string
	TTL      time.Duration // RSS <ttl>/sy:updatePeriod; 0 when absent

	// ID is the upstream feed's own identity, what an Atom <source> names
	// as its id: the Atom feed's <id> verbatim, else an RSS channel's
	// <link> (as Link), else a JSON Feed's feed_url, else its
	// home_page_url; "" when the document has none of them.
	ID string
	// Updated is when the upstream feed says it last changed (Atom
	// <updated>, RSS lastBuildDate, else pubDate, else dc:date), UTC and
	// clamped like story dates; zero when it does not say. It belongs to
	// the feed, not to its stories: it moves with every new entry, and an
	// unchanged story must not be rewritten because it moved.
	Updated time.Time

	Stories []story.Story

	// Warnings name the parts of an accepted document that were skipped
	// as malformed, one sentence each ("item 3 (id \"a1\"): \"tags\" is a
	// string, not an array; field ignored"); nil when nothing was.
	Warnings []string
}

// Stories parses in and normalizes every entry. now is the fetch time.
//
// Entries repeating an earlier entry's ID (the same GUID twice in one
// document) are dropped, so every returned story has a distinct ID.
func Stories(in Input, now time.Time) (feed *Feed, err error) {
	// Upstream bytes are hostile: a panic anywhere in here (gofeed, x/net/html,
	// bluemonday or our own code) fails this document, not the daemon.
	defer func() {
		if r := recover(); r != nil {
			feed, err = nil, fmt.Errorf("parse %s: panic: %v", in.Source.Name, r)
		}
	}()
	doc, err := prepare(in.Body, in.ContentType)
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", in.Source.Name, err)
	}
	gf, err := decode(doc)
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", in.Source.Name, err)
	}
	feed = normalize(in, doc, gf, now.UTC())
	feed.Warnings = doc.warnings
	return feed, nil
}

// decode runs the gofeed parser and translator for doc's format. It calls the
// format parsers directly rather than gofeed.Parser.Parse, whose type
// detection reads only the first 4 KiB (a long comment or DOCTYPE hides the
// root) and which would hide the original, typed document from us.
func decode(doc *document) (*gofeed.Feed, error) {
	switch doc.kind {
	case kindRSS:
		rf, err := (&rss.Parser{}).Parse(doc.reader())
		if err != nil {
			return nil, fmt.Errorf("read rss: %w", err)
		}
		doc.rss = rf
		// Image scanning of content is our job (we resolve it against the
		// item link); gofeed's would cost one more HTML parse per item.
		return (&gofeed.DefaultRSSTranslator{DisableContentImageScan: true}).Translate(rf)
	case kindAtom:
		af, err := (&atom.Parser{}).Parse(doc.reader())
		if err != nil {
			return nil, fmt.Errorf("read atom: %w", err)
		}
		doc.atom = af
		return (&gofeed.DefaultAtomTranslator{}).Translate(af)
	default:
		jf, warnings, err := decodeJSONFeed(doc.body)
		if err != nil {
			return nil, err
		}
		doc.json, doc.warnings = jf, warnings
		return (&gofeed.DefaultJSONTranslator{}).Translate(jf)
	}
}
