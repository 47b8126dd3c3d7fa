// Package render writes topic feeds as RSS 2.0, Atom 1.0 and JSON Feed 1.1,
// building on gorilla/feeds and filling in where it falls short of the specs.
package render

import (
	"errors"
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
func ParseFormat(ext string) (Format, bool) { return 0, false }

// Ext returns the URL extension.
func (f Format) Ext() string { return "" }

// ContentType returns the media type with charset.
func (f Format) ContentType() string { return "" }

// Channel describes the feed document.
type Channel struct {
	ID                                              string
	ItemIDPrefix                                    string
	Title, Description, Language, Generator, Author string
	HTMLURL, SelfURL, FirstURL, NextURL             string
	HubURLs                                         []string
	Updated                                         time.Time
	TTL                                             time.Duration
}

// Write renders stories as one feed document.
func Write(w io.Writer, f Format, ch Channel, stories []story.Story) error {
	return errors.New("render: not implemented")
}
