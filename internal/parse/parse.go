// Package parse turns the bytes of an upstream feed (RSS 0.9x/1.0/2.0, Atom,
// JSON Feed) into normalized stories, using gofeed.
package parse

import (
	"errors"
	"time"

	"github.com/newsdesk/newsdesk/internal/story"
)

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
func Stories(in Input, now time.Time) (*Feed, error) {
	return nil, errors.New("parse: not implemented")
}
