// Package parse turns the bytes of an upstream feed (RSS 0.9x/1.0/2.0, Atom,
// JSON Feed) into normalized stories, using gofeed.
//
// gofeed does the format work; this package defends it against hostile input
// (nesting depth, charsets, panics) and repairs what it gets wrong or leaves
// undone: zone abbreviations outside the US/EU table, relative and tracking
// links, HTML versus plain text, and unsanitized markup.
package parse

import (
	"errors"
	"fmt"
	"time"

	"github.com/mmcdole/gofeed"
	"github.com/mmcdole/gofeed/atom"
	"github.com/mmcdole/gofeed/json"
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
	Stories  []story.Story
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
	return normalize(in, doc, gf, now.UTC()), nil
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
		jf, err := (&json.Parser{}).Parse(doc.reader())
		if err != nil {
			return nil, fmt.Errorf("read json feed: %w", err)
		}
		doc.json = jf
		return (&gofeed.DefaultJSONTranslator{}).Translate(jf)
	}
}
