// Package story defines the vocabulary every stage of newsdesk shares:
// an upstream Source and the normalized Story read from it.
// It has no I/O and depends on the standard library only.
package story

import (
	"crypto/sha256"
	"encoding/hex"
	"time"
)

// Source is one upstream feed, as the config names it.
type Source struct {
	Name     string        // unique key in config and store, e.g. "sample-wire"
	Title    string        // human name, shown as the story's source
	URL      string        // http(s):// URL, or file:// URL of a local file (absolute path)
	Schedule string        // cron spec overriding the global refresh; "" uses the global one
	MaxBody  int64         // body cap in bytes; 0 means the fetcher's default
	Timeout  time.Duration // total fetch timeout; 0 means the fetcher's default
}

// Story is one upstream entry after normalization.
//
// Published, Updated and FirstSeen are UTC. Text fields are valid UTF-8 with no
// characters that XML 1.0 cannot carry.
type Story struct {
	ID  string // NewID(source, key): stable across re-fetches, restarts and re-classification
	Seq uint64 // ingest sequence assigned by the store on first insert; never changes

	Source      string // Source.Name
	SourceTitle string // Source.Title
	SourceURL   string // the feed URL the story was fetched from (final URL after redirects)
	SourceLink  string // the upstream site's home page (channel <link>), absolute

	GUID string // upstream guid / Atom id / JSON id, verbatim; "" when absent
	Link string // canonical article link: absolute http(s), ASCII (punycode) host, no tracking parameters; its fragment kept (two posts of one page differ by it)

	Title       string // plain text
	Summary     string // sanitized HTML (may be plain text without tags)
	Content     string // sanitized HTML, the full article when upstream gives it
	SummaryText string // plain text of Summary, for matching and plain-text outputs
	ContentText string // plain text of Content, for matching

	Authors    []Author
	Categories []string
	Enclosures []Enclosure
	Image      string // absolute URL of a lead image
	Language   string // BCP 47 tag when known ("en", "en-US")

	Published time.Time // upstream publication time; zero from parse when upstream has none (the store fills it in)
	// Updated is the upstream update time from parse (zero when upstream has
	// none); as stored, the last time the story changed: the store moves it
	// when a re-fetch brings another title or text, or when another copy
	// takes over its link group, and it never goes back.
	Updated   time.Time
	FirstSeen time.Time // when newsdesk first stored the story; kept across re-fetches
	// Undated is set by the store when upstream gave no date, so Published is
	// newsdesk's estimate (see store.Admit): pages say "date unknown". The
	// tags keep stories stored before a field existed encoding as before.
	Undated bool `json:",omitempty"`

	Topics      []string // slugs of the topics the story belongs to
	DuplicateOf string   // ID of the story that represents this Link's group (another source's copy), if any
	AlsoIn      []Ref    // other sources that carried the same Link (set on the group's representative)
	// ServedID is set by the store on a link group's representative when
	// feeds have listed the group under another member's ID: a better copy
	// took over, and readers must keep seeing the id they saw. FeedID says
	// which id to serve.
	ServedID string `json:",omitempty"`
	// Merged is what a link group's representative lists on behalf of its
	// duplicates. Stores keep it apart from the story's own fields and fold
	// it into Enclosures, Categories and Image when they read a story back
	// (store.Listed), so readers never see it set.
	Merged *Merged `json:",omitempty"`
}

// FeedID is the id feeds serve for s (RSS guid, Atom id, JSON Feed id): the
// id its link group was first listed under, so it never changes once served.
func (s *Story) FeedID() string {
	if s.ServedID != "" {
		return s.ServedID
	}
	return s.ID
}

// Merged holds what the duplicates of a link group carry and its
// representative lacks, so that the one item listed for the group loses
// nothing: enclosures (told apart by URL), categories (told apart
// ignoring case) and, when the representative has none, an image.
type Merged struct {
	Enclosures []Enclosure `json:",omitempty"`
	Categories []string    `json:",omitempty"`
	Image      string      `json:",omitempty"`
}

// Author is a person or organisation credited with a story.
type Author struct {
	Name  string
	Email string
	URL   string
}

// Enclosure is a media file the upstream attached to a story (RSS
// <enclosure>, Atom rel="enclosure", JSON Feed attachments); never an image
// found in the content, which is Story.Image.
type Enclosure struct {
	URL      string
	Type     string        // MIME type as upstream declared it; "" when unknown (never guessed)
	Length   int64         // bytes; 0 when unknown
	Title    string        `json:",omitempty"` // plain text; "" when none (JSON Feed title, Atom link title)
	Duration time.Duration `json:",omitempty"` // playing time; 0 when unknown (JSON Feed duration_in_seconds, itunes:duration)
}

// Ref names a source that carried a story, and the story's ID there.
type Ref struct {
	Source string // Source.Name
	Title  string // Source.Title
	ID     string // Story.ID of that copy
}

// NewID returns the stable identifier of the story that source identifies by key
// (its GUID, else canonical link, else title and date). The same pair always
// gives the same 32 hex characters; ids are scoped by source, so two sources
// reusing one GUID do not collide.
func NewID(source, key string) string {
	// sha256(source NUL key), the first 16 bytes in hex. The input is
	// gathered in a buffer on the stack when it fits (a source name and
	// a GUID or link mostly do), so an ID costs one allocation, the
	// string itself.
	var buf [512]byte
	b := append(append(append(buf[:0], source...), 0), key...)
	sum := sha256.Sum256(b)
	var id [32]byte
	hex.Encode(id[:], sum[:16])
	return string(id[:])
}
