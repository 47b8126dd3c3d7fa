// Package store keeps stories, their indexes and per-source state in one bbolt file.
package store

import (
	"errors"
	"time"

	"github.com/newsdesk/newsdesk/internal/story"
)

// ErrLocked means another process holds the file.
var ErrLocked = errors.New("store is in use by another newsdesk process")

// ErrNotFound means no story has the id.
var ErrNotFound = errors.New("story not found")

// Options tunes Open.
type Options struct {
	Timeout time.Duration // wait for the file lock [2s]
	NoSync  bool          // skip fsync: tests and benchmarks only
}

// DB is an open store.
type DB struct{}

// Open opens or creates the store at path.
func Open(path string, opts Options) (*DB, error) { return nil, errors.New("store: not implemented") }

// Close closes the file.
func (db *DB) Close() error { return nil }

// SourceState is what the store remembers about one source between fetches.
type SourceState struct {
	ETag, LastModified string
	BodyHash           string // hex sha256 of the last parsed body
	FinalURL           string
	Title, Link        string // upstream channel title and site link
	LastAttempt        time.Time
	LastSuccess        time.Time
	LastStatus         int
	LastError          string
	Failures           int
	Status             string    // "ok", "not-modified", "failing", "blocked", "gone"; "" before the first fetch
	NextFetch          time.Time // not before this
}

// PutResult counts what a Put did.
type PutResult struct {
	New, Updated, Unchanged, Skipped int
	Topics                           []string // slugs whose index changed
}

// Query selects a page of stories.
type Query struct {
	Topic     string // "" means all stories
	Limit     int
	Before    string // cursor from Page.Next; "" means newest
	NotBefore time.Time
}

// Page is one page of stories, newest first.
type Page struct {
	Stories []story.Story
	Next    string
}

// TopicInfo summarises a topic's index.
type TopicInfo struct {
	Count   int
	Newest  time.Time
	Changed time.Time
}

// Stats reports the file's size and health.
type Stats struct {
	Stories, Tombstones int
	FileSize            int64
	FreeBytes           int64
}

// Source returns the state of the named source.
func (db *DB) Source(name string) (SourceState, error) { return SourceState{}, nil }

// Sources returns every source's state.
func (db *DB) Sources() (map[string]SourceState, error) { return nil, nil }

// PutSource records state only.
func (db *DB) PutSource(name string, st SourceState) error { return nil }

// Put stores the stories of one fetched feed in one transaction.
func (db *DB) Put(source string, st SourceState, stories []story.Story, now time.Time) (PutResult, error) {
	return PutResult{}, errors.New("store: not implemented")
}

// Get returns the story with id.
func (db *DB) Get(id string) (story.Story, error) { return story.Story{}, ErrNotFound }

// Recent returns a page of stories, newest first.
func (db *DB) Recent(q Query) (Page, error) { return Page{}, nil }

// Since returns the topic's stories with Seq > afterSeq, oldest first.
func (db *DB) Since(topic string, afterSeq uint64, limit int) ([]story.Story, error) { return nil, nil }

// Topic summarises a topic's index.
func (db *DB) Topic(slug string) (TopicInfo, error) { return TopicInfo{}, nil }

// Reclassify rebuilds every topic index.
func (db *DB) Reclassify(classify func(story.Story) []string) ([]string, error) { return nil, nil }

// Prune deletes old stories.
func (db *DB) Prune(maxAge time.Duration, maxStories int, now time.Time) (int, error) { return 0, nil }

// Compact writes a compacted copy to dst.
func (db *DB) Compact(dst string) error { return nil }

// Stats reports the file's size and health.
func (db *DB) Stats() Stats { return Stats{} }
