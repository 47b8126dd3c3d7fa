package bolt

import (
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/newsdesk/newsdesk/internal/store"
)

// maxIDLen bounds story ids (store.MaxIDLen), so index keys stay far below
// bbolt's key limit.
const maxIDLen = store.MaxIDLen

// Bucket and meta key names. Every index is derivable from stories/, so a
// schema change can rebuild them; schemaVersion guards the layout.
var (
	bucketStories    = []byte("stories")    // id → refTag|be64(Seq) of its body in bodies/; in older files the story itself (JSON, or binary: codec.go)
	bucketTime       = []byte("time")       // timeKey(Published, id) → nil, non-duplicates only: Recent("")
	bucketSeq        = []byte("seq")        // be64(Seq) → seqValue: Since("") and Prune, in ingest order
	bucketLinks      = []byte("links")      // link key (store.GroupKeys) → id of the representative of the group holding it
	bucketSources    = []byte("sources")    // source name → JSON SourceState
	bucketTombstones = []byte("tombstones") // id → be64(UnixNano pruned)
	bucketTombTime   = []byte("tombtime")   // timeKey(pruned, id) → nil: expires tombstones without a scan
	bucketMeta       = []byte("meta")
	bucketBodies     = []byte("bodies") // be64(Seq) → story.Story, binary, that stories/<id> refers to (see storyBucket)

	// Inside a generation bucket (see genName). own/ and idx/ are keyed by
	// be64(Seq), not id, so Reclassify, which walks stories in Seq order,
	// appends to them instead of rewriting a random page per story.
	bucketOwn      = []byte("own")  // be64(Seq) → slugs the caller or classify gave this story
	bucketIdx      = []byte("idx")  // be64(Seq) → slugs the story is indexed under (own ∪ its duplicates' own)
	bucketTopTime  = []byte("time") // slug → bucket of timeKey(Published, id) → nil
	bucketTopSeq   = []byte("seq")  // slug → bucket of be64(Seq) → id
	bucketTopInfo  = []byte("info") // slug → infoValue
	metaSchema     = []byte("schema")
	metaGen        = []byte("gen")     // be64 active generation
	metaAll        = []byte("all")     // infoValue of the all-stories index
	metaStories    = []byte("n")       // be64 number of stored stories, duplicates included
	metaTombstones = []byte("ntomb")   // be64 number of tombstones
	metaUndated    = []byte("undated") // present once every seq/ value carries seqUndated where due (older files)
	// be64 nanos of the newest Published of a dated story stored: caps the
	// estimate of an undated backlog (store.Estimates)
	metaNewestDated = []byte("newest-dated")
	// present once every undated story says so in its JSON (Story.Undated)
	metaUndatedStory = []byte("undated-story")
)

// schemaVersion is the layout this package writes. Schema 1 (schemaJSON)
// held stories as JSON; 2 holds them binary (codec.go) and still reads
// JSON ones, so Open takes a schema-1 file as it is and marks it 2.
const (
	schemaVersion = 2
	schemaJSON    = 1
)

// genName names the bucket that holds topic generation n. Reclassify builds
// generation n+1 beside n and flips meta/gen, so readers see one or the other.
func genName(n uint64) []byte {
	return binary.BigEndian.AppendUint64([]byte("gen/"), n)
}

// nanos maps t onto the range UnixNano can represent, so keys of times
// before 1970 or after 2262 still sort in time order (a negative int64 would
// sort after every positive one as unsigned bytes).
func nanos(t time.Time) uint64 {
	switch {
	case t.Before(time.Unix(0, 0)):
		return 0
	case t.After(time.Unix(0, math.MaxInt64)):
		return math.MaxInt64
	}
	return uint64(t.UnixNano())
}

// timeKey is be64(nanos(t)) | id: later times sort after earlier ones, and the
// id keeps stories with equal times apart.
func timeKey(t time.Time, id string) []byte {
	k := make([]byte, 0, 8+len(id))
	k = binary.BigEndian.AppendUint64(k, nanos(t))
	return append(k, id...)
}

// splitTimeKey returns the time and id in a timeKey.
func splitTimeKey(k []byte) (time.Time, string) {
	return time.Unix(0, int64(binary.BigEndian.Uint64(k))).UTC(), string(k[8:])
}

func be64(n uint64) []byte { return binary.BigEndian.AppendUint64(nil, n) }

// Flags in a seqValue.
const (
	seqDup byte = 1 << iota // a duplicate: Since("") skips it
	// seqUndated is what files written before Story.Undated used to record
	// that Published is only the FirstSeen fallback. Open carries it over to
	// the stories once (markUndated); nothing sets it any more.
	seqUndated
)

// seqValue is the value of seq/<be64 Seq>: FirstSeen lets Prune decide
// without decoding the story, and the flags let Since skip duplicates.
func seqValue(firstSeen time.Time, flags byte, id string) []byte {
	v := binary.BigEndian.AppendUint64(nil, nanos(firstSeen))
	return append(append(v, flags), id...)
}

func splitSeqValue(v []byte) (firstSeen time.Time, flags byte, id string) {
	return time.Unix(0, int64(binary.BigEndian.Uint64(v))).UTC(), v[8], string(v[9:])
}

// infoValue is be64(count) | be64(nanos of last change).
func infoValue(count int, changed time.Time) []byte {
	v := binary.BigEndian.AppendUint64(nil, uint64(max(count, 0)))
	return binary.BigEndian.AppendUint64(v, nanos(changed))
}

func splitInfoValue(v []byte) (int, time.Time) {
	if len(v) != 16 {
		return 0, time.Time{}
	}
	return int(binary.BigEndian.Uint64(v)), time.Unix(0, int64(binary.BigEndian.Uint64(v[8:]))).UTC()
}

// encodeCursor makes the opaque Page.Next for an index key.
func encodeCursor(key []byte) string {
	return base64.RawURLEncoding.EncodeToString(key)
}

// decodeCursor checks a client's cursor before it positions a bbolt cursor.
func decodeCursor(s string) ([]byte, error) {
	k, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(k) <= 8 || len(k) > 8+maxIDLen {
		return nil, fmt.Errorf("%w %q", store.ErrBadCursor, truncate(s, 40))
	}
	return k, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

func joinSlugs(s []string) []byte { return []byte(strings.Join(s, "\x00")) }

func splitSlugs(v []byte) []string {
	if len(v) == 0 {
		return nil
	}
	return strings.Split(string(v), "\x00")
}
