// Package store is the storage contract of newsdesk: what every storage
// engine keeps, what each of its operations guarantees, and the policies
// (which copy represents an article several sources carried, when a story is
// pruned, how a re-classification is tallied) that every engine applies by
// calling the plain functions in this package. Engines live below it
// (store/bolt, the embedded default) and only store and index; the conformance
// suite in store/storetest proves them alike.
//
// # What is stored
//
//   - Stories (story.Story), keyed by ID. The store assigns Seq, an ingest
//     sequence number (1, 2, 3, … in commit order, never reused, not even
//     after a story is pruned), fills FirstSeen, Published, Updated and
//     Undated (see Estimates, Admit and Merge), and keeps the link-group
//     fields DuplicateOf, AlsoIn, ServedID and Merged (see Regroup).
//   - Each story's own topics: the slugs the caller classified it under
//     (Story.Topics as given to Put, or what Reclassify's classify returns).
//   - Topic indexes. A story that is not a duplicate is listed in the
//     all-stories index and in the index of every slug in the union of its
//     own topics and its duplicates' own topics. A duplicate is listed in no
//     index.
//   - Link keys (GroupKeys): which group holds each link.
//   - Per-source state (SourceState), per-topic summaries (TopicInfo),
//     tombstones of pruned ids, the newest Published of a dated story
//     (for Estimates), and a few caller-owned meta strings.
//
// # Reading back
//
// Every story a reader gets (Get, Recent, Since) is as Listed returns it
// (a representative carries what its duplicates add), with Topics filled: a
// representative's is the union it is listed under, a duplicate's its own
// classification. Feeds serve each story under FeedID, which never changes
// once served.
//
// # Link groups
//
// Stories of different sources whose links share a key (GroupKeys: the link,
// and the link without its fragment) form a link group; one of them, the
// representative, is listed for the group and the others are duplicates,
// hidden from every listing. Who represents a group depends only on the
// copies stored, never on the order Puts committed in: see Prefer, Joins and
// Regroup, which engines call instead of deciding themselves. When another
// member takes over, the group is listed at that member's Published and Seq
// (a Since poller may meet it again, under the same FeedID, as an update).
//
// # Consistency
//
// Every method is safe for concurrent use. Each write (one Put, one
// PutSource, one SetMeta) is atomic: a reader sees all of it or none of it,
// and the indexes never disagree with the stories. A reader never sees a
// half-built re-classification: Reclassify switches every topic index at
// once. Writers may wait for one another; readers should not wait for
// writers (an engine may make them wait briefly, never for a whole
// Reclassify or Prune).
//
// # Writing an engine
//
// An engine is a package under store (store/bolt is one) whose type
// implements Store, opened by cmd/newsdesk's openStore, the one place that
// picks an engine from --data. It keeps, per story, the stored form (every
// field but Topics, which its indexes give back on reading, with Merged kept
// apart until Listed folds it in), and indexes: by Published then ID for
// Recent (both topic and all-stories), by Seq for Since and Prune, by link
// key, and per topic. It calls the policies here at the points Put, Prune and
// Reclassify name, and decides nothing of its own about dates, groups or
// retention. Its tests call storetest.Run with a constructor of fresh
// stores; implementing storetest.Checker (a full consistency check) lets
// the suite verify the engine's indexes after every test.
package store

import (
	"context"
	"errors"
	"io"
	"time"

	"github.com/newsdesk/newsdesk/internal/story"
)

// Store is the contract every engine implements. The methods' comments are
// the specification; storetest.Run checks an engine against it.
//
// Consumers do not use Store itself: each declares the few methods it calls
// as its own interface (ingest.Store, server.Store, preview.Store), which
// every engine satisfies.
type Store interface {
	// Put stores the stories of one fetched feed of source, with the
	// source's new state, atomically: all of it is committed or none of it
	// (an engine may commit several concurrent Puts in one transaction, as
	// long as each is all or nothing). now is the fetch time.
	//
	// Before anything is stored, every story's ID is checked (CheckID); one
	// bad ID fails the whole Put and stores nothing.
	//
	// Per story, in the order given:
	//   - an ID that is tombstoned (see Prune) is skipped and counted in
	//     Skipped; nothing of it is stored;
	//   - a new ID is stored as Admit(story, now, estimate) with the next
	//     Seq: New. estimate is the story's entry in Estimates(stories, now,
	//     backlog, newest), where backlog says that the store held no
	//     SourceState of source with a LastSuccess before this Put (its
	//     first fetch) and newest is the newest Published of a dated story
	//     (Undated false) the store holds;
	//   - a known ID is replaced by Merge(stored, story, now): Updated when
	//     the result differs from the stored story in any field but Topics
	//     (Equal), else Unchanged and not rewritten;
	//   - in both cases the story's own topics become Slugs(story.Topics),
	//     even for an Unchanged story (a re-classified feed is re-filed).
	//
	// Link groups: a story's Link gives it GroupKeys. A new story joins, as a
	// duplicate, the group that holds the first of its keys any group holds,
	// when Joins(that group's representative, story) says so; otherwise it
	// starts a group of its own and holds every key of its that no group
	// holds. Whenever a member of a group is stored new, or stored Updated,
	// the group's roles are decided again with Regroup(every stored member,
	// now), and every member whose stored form changed is rewritten; an
	// Unchanged re-Put never moves them. When the representative changes,
	// everything it is listed under and the keys it holds move to the new
	// one in the same transaction: the all-stories index, the topic indexes
	// (under the union of every member's own topics) and the link keys. A
	// representative whose Link changed gives up the keys it no longer has
	// and holds the new ones no group holds; it keeps its group.
	//
	// PutResult.Topics lists, sorted, every slug whose feed changed: a
	// story joined or left its index, or a story listed in it was stored
	// Updated or had its group fields (AlsoIn, ServedID, Merged) change. The all-stories index is
	// summarised by Topic("") but never named in Topics.
	Put(ctx context.Context, source string, st SourceState, stories []story.Story, now time.Time) (PutResult, error)

	// PutSource replaces the state of source alone (fetches that bring no
	// stories: errors, 304s). An empty source name is an error.
	PutSource(ctx context.Context, source string, st SourceState) error

	// Source returns the state of source; the zero SourceState when the
	// store has never seen it (not an error).
	Source(ctx context.Context, source string) (SourceState, error)

	// Sources returns every source's state, by name.
	Sources(ctx context.Context) (map[string]SourceState, error)

	// Get returns the story with id, Topics filled as described in the
	// package doc, or an error wrapping ErrNotFound. It returns duplicates
	// too.
	Get(ctx context.Context, id string) (story.Story, error)

	// Recent returns a page of the stories listed in q.Topic's index ("" is
	// the all-stories index), newest Published first, ties broken by the
	// greater ID first. Duplicates are never listed.
	//
	// q.Limit is clamped by ClampLimit. q.Before is a cursor from an earlier
	// Page.Next of the same topic: the page starts with the first story
	// strictly after it in this order, so paging a topic whose index does not
	// change gives every story exactly once. A cursor names a position
	// (a Published time and an ID), not a story: paging goes on correctly
	// after the story it came from was removed or moved. A cursor that the
	// engine did not make gives an error wrapping ErrBadCursor (servers
	// answer it with 400), never a panic or a silently empty page.
	// q.NotBefore, when set, ends the walk at the first story published
	// before it.
	//
	// Page.Next is set when, and only when, at least one more story of the
	// index (at or after NotBefore) follows the page. Recent must cost
	// O(Limit) index steps, whatever the size of the store: an index walk,
	// never a scan. An unknown topic gives an empty page.
	Recent(ctx context.Context, q Query) (Page, error)

	// Since returns the stories listed in topic's index ("" is all stories)
	// whose Seq is greater than afterSeq, in ascending Seq order, at most
	// ClampLimit(limit) of them: "everything ingested since my last visit",
	// resumed from the last Seq seen. Duplicates are never listed. Like
	// Recent it is an index walk from afterSeq, and an unknown topic gives
	// nothing.
	Since(ctx context.Context, topic string, afterSeq uint64, limit int) ([]story.Story, error)

	// Topic summarises slug's index ("" is all stories) in O(1): the
	// number of stories listed, the newest Published among them and the last
	// time the topic's feed changed (as PutResult.Topics defines a change,
	// at the write's now; Reclassify and Prune use their own clock or now).
	// A slug no story was ever listed in gives the zero TopicInfo.
	Topic(ctx context.Context, slug string) (TopicInfo, error)

	// Reclassify runs classify over every stored story, duplicates
	// included, and rebuilds every topic index from the results: each
	// story's own topics become Slugs(classify(story)), and each
	// representative is listed under the union of its own and its
	// duplicates' new topics. Readers see the old indexes until the new
	// ones are complete and then all of the new ones at once (a generation
	// swap); a crash or a cancelled ctx leaves the old indexes in place.
	// TopicInfo summaries follow Tally. It returns the slugs whose
	// membership changed (a story joined or left), sorted.
	//
	// Puts, Prunes and other Reclassifys wait while it runs, so a story Put
	// during the rebuild is filed under the new topics once it ends. classify
	// may run inside the engine's transactions: it must not call the Store.
	// Reclassify stops soon after ctx is cancelled and returns ctx's error.
	Reclassify(ctx context.Context, classify func(story.Story) []string) ([]string, error)

	// Prune applies r at now: it deletes the stories r.Due says go, oldest
	// Seq first, and stops at the first story that stays. A representative
	// takes every duplicate of its group with it, and the link keys it
	// holds; a duplicate goes alone and its group is regrouped (Regroup)
	// without it. Every deleted ID leaves a
	// tombstone dated now, so a Put of the same ID is skipped while the
	// upstream still lists it; tombstones older than r.TombstoneCutoff(now)
	// are dropped. Work is split into short transactions so readers and
	// Puts are not held up; each leaves the store consistent. It returns the
	// number of stories deleted.
	Prune(ctx context.Context, r Retention, now time.Time) (int, error)

	// Meta returns the caller's value under key, "" when none. SetMeta
	// stores it. Keys are the caller's own: they never collide with the
	// engine's bookkeeping, whatever they are.
	Meta(ctx context.Context, key string) (string, error)
	SetMeta(ctx context.Context, key, value string) error

	// Stats reports counts and size. Stories counts every stored story,
	// duplicates included; Tombstones every live tombstone. It must be cheap
	// (counters, not scans): metrics call it.
	Stats(ctx context.Context) (Stats, error)

	// Activity sums up the stories stored now over a window of days UTC
	// days ending with the day of now (days clamped to 1…MaxActivityDays;
	// see NewActivity): per source, how many stories are stored (its
	// Source field; duplicates included) and how many of those were first
	// stored (FirstSeen) on each day of the window; per topic index ("" is
	// all stories), how many stories listed there now were first stored on
	// each day. A pruned story counts nowhere any more, so retention
	// shortens the history; a re-classification moves the topic counts at
	// once. Sources holds every source with a stored story; Topics every
	// slug with a listed story in the window.
	//
	// It is asked for per status request, so it must not cost a scan of
	// the store: at most O(sources × days) for the sources, plus one index
	// step per story first stored in the window for the topics. bbolt
	// keeps per-source day counters that Put and Prune update and walks its
	// ingest-order index back from the newest story (ingest order follows
	// FirstSeen, as Prune assumes); a SQL engine answers with two GROUP BY
	// queries over an index on (first_seen), the topics' joined to the
	// topic membership table.
	Activity(ctx context.Context, now time.Time, days int) (Activity, error)

	// Backup writes a consistent copy of the whole store to w while the store
	// stays in use (writers may wait): for bbolt the file itself, which
	// `newsdesk --data COPY` can open. Other engines write their own format
	// and say so.
	Backup(ctx context.Context, w io.Writer) error

	// Close releases the store. Calls after Close fail.
	Close() error
}

// ErrLocked means another process holds the store (an engine that allows
// one process at a time: bbolt).
var ErrLocked = errors.New("store is in use by another newsdesk process")

// ErrNotFound means no story has the id.
var ErrNotFound = errors.New("story not found")

// ErrBadCursor means a Query.Before cursor was not made by the engine.
// Servers answer it with 400: it comes from a client, not from the store.
var ErrBadCursor = errors.New("bad cursor")

// SourceState is what the store remembers about one source between fetches.
// The store keeps it verbatim; ingest decides its meaning.
type SourceState struct {
	ETag, LastModified string
	BodyHash           string // hex sha256 of the last parsed body
	// TTL is how long the last parsed body asked readers to wait between
	// polls (RSS ttl, sy:updatePeriod): a 304 or the same bytes again mean
	// the same document, so its ttl still holds though nothing is parsed.
	TTL                time.Duration `json:",omitempty"`
	FinalURL           string
	Title, Link        string    // upstream channel title and site link
	FeedID             string    `json:",omitempty"` // the upstream document's own id (Atom feed id; parse.Feed.ID)
	FeedUpdated        time.Time `json:",omitzero"`  // when the upstream document says it last changed
	LastAttempt        time.Time
	LastSuccess        time.Time
	LastStatus         int
	LastError          string
	Failures           int
	Status             story.Status
	NextFetch          time.Time // not before this
	MovedFrom, MovedTo string    // a 301/308 chain from the configured URL MovedFrom ends at MovedTo, polled instead
	// Warnings name what the last parsed document had that was malformed
	// and skipped (parse.Feed.Warnings: an item with a string where a list
	// belongs keeps its other fields, and this says so). They describe the
	// stored stories' document, so a parse replaces them and a 304 or the
	// same bytes again keep them; a fetch or parse failure keeps them too.
	// nil when the document had none. (SourceState is therefore not
	// comparable with ==.)
	Warnings []string `json:",omitempty"`
}

// PutResult counts what a Put did.
type PutResult struct {
	New, Updated, Unchanged, Skipped int
	// Topics are the slugs whose feeds changed: index entries added or
	// removed, or a listed story updated. Sorted.
	Topics []string
}

// Stats reports a store's size and health.
type Stats struct {
	Stories, Tombstones int
	FileSize            int64 // bytes the store occupies on disk (bbolt: the file)
	FreeBytes           int64 // bytes in free pages: what a compaction would give back, roughly
	FreePages           int   // free pages (bbolt); 0 where the engine has none
}
