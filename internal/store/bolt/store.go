// Package bolt is the embedded storage engine: stories, their indexes and
// per-source state in one bbolt file. It implements store.Store; the
// policies it applies (link groups, admission, retention, re-classification
// tallies) are the store package's functions, so this package only stores
// and indexes.
//
// Layout (see keys.go): stories/<id> refers to the story's body, stored
// under its Seq in bodies/ (see storyBucket; binary, see codec.go); time/
// and seq/ index every story by publication time and by ingest order;
// links/ maps a link to the story that represents its link group;
// sources/ holds fetch state; tombstones/ remembers pruned ids so an
// upstream that still lists them cannot bring them back. Topic membership lives in a generation bucket
// (gen/<n>) so Reclassify can build a new one beside the active one and
// switch readers over in one small transaction.
//
// Every query is a cursor walk over an index, never a scan: Recent costs
// O(limit) whatever the size of the file.
//
// One process owns the file: a second Open fails with store.ErrLocked.
// Writers (Put, PutSource, Reclassify, Prune, Compact) are serialised by a
// mutex, so a Put waits while a Reclassify or Prune runs; readers never wait
// for them.
//
// # Compaction
//
// bbolt files never shrink: pruned stories leave free pages that later writes
// reuse. To return the space to the disk, compact offline: stop the daemon,
// then either call Compact from a maintenance command (for example `newsdesk
// compact`) and rename the copy over the original, or do the same at startup
// before serving when Stats().FreeBytes exceeds about half of FileSize.
package bolt

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/newsdesk/newsdesk/internal/background"

	bbolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/newsdesk/newsdesk/internal/store"
)

// Options tunes Open.
type Options struct {
	Timeout time.Duration // wait for the file lock [2s]
	NoSync  bool          // skip fsync: tests and benchmarks only
	// ReclassifyBatch bounds the stories per Reclassify transaction
	// [10,000]: a million stories are reindexed in a hundred commits
	// instead of one transaction holding every dirty page in memory. Tests
	// set it small to cross batch edges cheaply.
	ReclassifyBatch int
	// Background, when set, is where the commits of Put and PutSource run
	// (the daemon's pool of low-priority workers, shared with ingest): a
	// first fetch's commits take as much CPU as its parsing. nil runs them
	// on a goroutine of the store's own.
	Background *background.Pool
}

// DB is an open store. Its methods are safe for concurrent use.
type DB struct {
	bolt *bbolt.DB
	path string
	opts Options
	// mu keeps multi-transaction writers (Reclassify, Prune, Compact), which
	// hold it exclusively, apart from Put and PutSource, which share it so
	// that concurrent feeds commit in one transaction.
	mu     sync.RWMutex
	commit *committer // Put's and PutSource's shared transactions
}

var _ store.Store = (*DB)(nil)

// Open opens or creates the store at path, creating its parent directory.
// When another process holds the file, Open fails after opts.Timeout with an
// error that wraps store.ErrLocked.
//
// A file that is not a sound store is refused before bbolt maps it (see
// probe), with a one-line error naming the file and the way out: ErrEmpty
// for a 0-byte file, ErrDamaged for a file cut short or with broken pages.
// A new store is created whole (built as path.new, then renamed), so a crash
// during creation never leaves such a file behind. Leftovers of a killed
// Compact or creation beside path are removed once Open holds the lock.
func Open(path string, opts Options) (*DB, error) {
	if opts.Timeout <= 0 {
		opts.Timeout = 2 * time.Second
	}
	if opts.ReclassifyBatch <= 0 {
		opts.ReclassifyBatch = 10_000
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	if err := probe(path, opts.Timeout); err != nil {
		return nil, openError(path, err)
	}
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		if err := create(path, opts); err != nil {
			return nil, openError(path, err)
		}
	}
	bdb, err := bbolt.Open(path, 0o600, boltOptions(opts))
	if err != nil {
		return nil, openError(path, err)
	}
	db := &DB{bolt: bdb, path: path, opts: opts, commit: &committer{db: bdb, cpu: opts.Background}}
	if err := db.init(); err != nil {
		bdb.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	// We hold the lock, so no Compact or creation is under way: what they
	// left is stale.
	for _, leftover := range []string{path + compactSuffix, path + newSuffix} {
		os.Remove(leftover)
	}
	return db, nil
}

// Suffixes of the files Open and CompactFile build beside a store.
const (
	compactSuffix = ".compact"
	newSuffix     = ".new"
	damagedSuffix = ".damaged"
)

func boltOptions(opts Options) *bbolt.Options {
	return &bbolt.Options{
		Timeout:      opts.Timeout, // without it a second daemon blocks forever on flock
		FreelistType: bbolt.FreelistMapType,
		// Skip writing the freelist on each commit (as etcd does); Open
		// rebuilds it by walking the pages instead.
		NoFreelistSync: true,
		// No InitialMmapSize: bbolt grows a file to its mapping while that is
		// under AllocSize (16 MiB), doubling from 32 KiB, and by AllocSize
		// after, so a large initial mapping made every new store a 16 MiB
		// file. The doubling costs a dozen remaps in a store's life.
		NoSync:     opts.NoSync,
		NoGrowSync: opts.NoSync, // growing the file fsyncs too
	}
}

// openError is err from opening path, as the one line a user reads.
func openError(path string, err error) error {
	switch {
	case errors.Is(err, errLockHeld), errors.Is(err, bolterrors.ErrTimeout):
		return fmt.Errorf("open %s: %w (is `newsdesk serve` running?)", path, store.ErrLocked)
	case errors.Is(err, ErrEmpty):
		return fmt.Errorf("open %s: %w (0 bytes): remove it to start a new store, or restore a backup over it", path, err)
	case errors.Is(err, ErrDamaged):
		return fmt.Errorf("open %s: %w; restore a backup, or run `newsdesk compact` to copy out what can still be read", path, err)
	case errors.Is(err, bolterrors.ErrInvalid), errors.Is(err, bolterrors.ErrChecksum), errors.Is(err, bolterrors.ErrVersionMismatch):
		return fmt.Errorf("open %s: %w: %w; restore a backup", path, ErrDamaged, err)
	}
	return fmt.Errorf("open %s: %w", path, err)
}

// create makes a new, empty store at path: built and made durable as
// path.new, then renamed into place.
func create(path string, opts Options) error {
	tmp := path + newSuffix
	if err := os.Remove(tmp); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	bdb, err := bbolt.Open(tmp, 0o600, boltOptions(opts))
	if err != nil {
		return err
	}
	if err := (&DB{bolt: bdb, path: tmp, opts: opts}).init(); err != nil {
		bdb.Close()
		os.Remove(tmp)
		return err
	}
	if err := bdb.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	return syncDir(filepath.Dir(path))
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}

// init creates the buckets of a new file, checks the schema of an old one,
// brings an older layout up to date and drops any generation a crashed
// Reclassify left behind.
func (db *DB) init() error {
	return db.bolt.Update(func(tx *bbolt.Tx) error {
		for _, name := range [][]byte{bucketStories, bucketTime, bucketSeq, bucketLinks, bucketSources,
			bucketTombstones, bucketTombTime, bucketMeta, bucketBodies} {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return fmt.Errorf("create bucket %s: %w", name, err)
			}
		}
		meta := tx.Bucket(bucketMeta)
		switch got := int(uint64At(meta.Get(metaSchema))); {
		case got == schemaVersion:
		case got == 0 || got == schemaJSON:
			// A new file, or one whose stories are JSON: it reads as it is,
			// and from now on holds binary stories, which a newsdesk that
			// reads schema 1 only would fail to decode: it refuses the file.
			if err := meta.Put(metaSchema, be64(schemaVersion)); err != nil {
				return err
			}
		default:
			return fmt.Errorf("store schema %d, this newsdesk reads %d and older", got, schemaVersion)
		}
		gen := uint64At(meta.Get(metaGen))
		if gen == 0 {
			gen = 1
			if err := meta.Put(metaGen, be64(gen)); err != nil {
				return err
			}
		}
		// A Reclassify that crashed leaves its half-built generation (gen+1)
		// or, after the switch, the retired one (gen-1).
		for _, stale := range []uint64{gen + 1, gen - 1} {
			if err := tx.DeleteBucket(genName(stale)); err != nil && !errors.Is(err, bolterrors.ErrBucketNotFound) {
				return fmt.Errorf("drop stale generation %d: %w", stale, err)
			}
		}
		if _, err := createGen(tx, gen); err != nil {
			return err
		}
		if err := initActivity(tx); err != nil {
			return err
		}
		if meta.Get(metaNewestDated) == nil {
			if err := markNewestDated(tx); err != nil {
				return fmt.Errorf("find the newest dated story: %w", err)
			}
		}
		if meta.Get(metaUndatedStory) == nil {
			if err := markUndated(tx, meta.Get(metaUndated) == nil); err != nil {
				return fmt.Errorf("mark undated stories: %w", err)
			}
			if err := meta.Put(metaUndated, []byte{1}); err != nil {
				return err
			}
			return meta.Put(metaUndatedStory, []byte{1})
		}
		return nil
	})
}

// markUndated sets Story.Undated on the stories of a file written before the
// field existed. Such files flagged those stories seqUndated in seq/; files
// older still (guess, set) recorded nothing, so a Published equal to
// FirstSeen to the nanosecond, which is what Put's fallback leaves, stands
// for "no date" there. It runs once per file; a new file has nothing to walk.
func markUndated(tx *bbolt.Tx, guess bool) error {
	seq, stories := tx.Bucket(bucketSeq), storiesOf(tx)
	var ids [][]byte // collect first: writing under a cursor may skip keys
	err := seq.ForEach(func(k, v []byte) error {
		_, flags, id := splitSeqValue(v)
		if flags&seqUndated != 0 || guess {
			ids = append(ids, []byte(id))
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, id := range ids {
		raw := stories.Get(id)
		if raw == nil {
			continue
		}
		s, err := decodeStory(raw)
		if err != nil {
			return fmt.Errorf("decode story %s: %w", id, err)
		}
		if s.Undated || s.FirstSeen.IsZero() || !s.Published.Equal(s.FirstSeen) {
			continue
		}
		s.Undated = true
		v, err := encode(s)
		if err != nil {
			return err
		}
		if err := stories.Put(bytes.Clone(id), v); err != nil {
			return err
		}
	}
	return nil
}

// markNewestDated records the newest dated story of a file written before
// meta/newest-dated existed: the first dated story walking the time index
// back from its end. Undated stories at the top are few (they are capped
// below dated ones), so the walk is short; it gives up after a while, which
// only leaves the backlog of a new source uncapped until a dated story
// arrives.
func markNewestDated(tx *bbolt.Tx) error {
	stories := storiesOf(tx)
	c := tx.Bucket(bucketTime).Cursor()
	n := 0
	for k, _ := c.Last(); k != nil && n < 10_000; k, _ = c.Prev() {
		n++
		s, err := decodeStory(stories.Get(k[8:]))
		if err != nil {
			continue
		}
		if !s.Undated {
			return tx.Bucket(bucketMeta).Put(metaNewestDated, be64(nanos(s.Published)))
		}
	}
	return tx.Bucket(bucketMeta).Put(metaNewestDated, be64(0))
}

// createGen creates (or opens) generation n and its sub-buckets.
func createGen(tx *bbolt.Tx, n uint64) (*bbolt.Bucket, error) {
	g, err := tx.CreateBucketIfNotExists(genName(n))
	if err != nil {
		return nil, fmt.Errorf("create generation %d: %w", n, err)
	}
	for _, name := range [][]byte{bucketOwn, bucketIdx, bucketTopTime, bucketTopSeq, bucketTopInfo} {
		if _, err := g.CreateBucketIfNotExists(name); err != nil {
			return nil, fmt.Errorf("create generation %d: %w", n, err)
		}
	}
	return g, nil
}

// activeGen returns the generation readers and Put use.
func activeGen(tx *bbolt.Tx) *bbolt.Bucket {
	return tx.Bucket(genName(uint64At(tx.Bucket(bucketMeta).Get(metaGen))))
}

// uint64At reads a be64 value; nil or short values read as 0.
func uint64At(v []byte) uint64 {
	if len(v) < 8 {
		return 0
	}
	return uint64(v[0])<<56 | uint64(v[1])<<48 | uint64(v[2])<<40 | uint64(v[3])<<32 |
		uint64(v[4])<<24 | uint64(v[5])<<16 | uint64(v[6])<<8 | uint64(v[7])
}

// addCounter adds delta to the be64 counter at meta/key.
func addCounter(meta *bbolt.Bucket, key []byte, delta int) error {
	n := int64(uint64At(meta.Get(key))) + int64(delta)
	return meta.Put(key, be64(uint64(max(n, 0))))
}

// Close closes the file.
func (db *DB) Close() error {
	if err := db.bolt.Close(); err != nil {
		return fmt.Errorf("close store: %w", err)
	}
	return nil
}

// Path is the file the store lives in.
func (db *DB) Path() string { return db.path }

// Source returns the state of the named source: the zero state when the
// store has never seen it.
func (db *DB) Source(ctx context.Context, name string) (store.SourceState, error) {
	var st store.SourceState
	err := db.view(ctx, func(tx *bbolt.Tx) error {
		v := tx.Bucket(bucketSources).Get([]byte(name))
		if v == nil {
			return nil
		}
		return json.Unmarshal(v, &st)
	})
	if err != nil {
		return store.SourceState{}, fmt.Errorf("read source %s: %w", name, err)
	}
	return st, nil
}

// Sources returns every source's state, by name.
func (db *DB) Sources(ctx context.Context) (map[string]store.SourceState, error) {
	out := make(map[string]store.SourceState)
	err := db.view(ctx, func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketSources).ForEach(func(k, v []byte) error {
			var st store.SourceState
			if err := json.Unmarshal(v, &st); err != nil {
				return fmt.Errorf("source %s: %w", k, err)
			}
			out[string(k)] = st
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("read sources: %w", err)
	}
	return out, nil
}

// PutSource records state only, for fetches that bring no stories (errors,
// 304s).
func (db *DB) PutSource(ctx context.Context, name string, st store.SourceState) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("put source %s: %w", name, err)
	}
	db.mu.RLock()
	defer db.mu.RUnlock()
	err := db.commit.do(func(tx *bbolt.Tx) error { return putSource(tx, name, st) }, 0)
	if err != nil {
		return fmt.Errorf("put source %s: %w", name, err)
	}
	return nil
}

func putSource(tx *bbolt.Tx, name string, st store.SourceState) error {
	if name == "" {
		return errors.New("empty source name")
	}
	v, err := json.Marshal(st)
	if err != nil {
		return err
	}
	return tx.Bucket(bucketSources).Put([]byte(name), v)
}

// Stats reports the file's size and health. It reads counters, not buckets,
// so it is cheap enough for a metrics endpoint.
func (db *DB) Stats(ctx context.Context) (store.Stats, error) {
	var s store.Stats
	var used int64
	err := db.view(ctx, func(tx *bbolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		s.Stories = int(uint64At(meta.Get(metaStories)))
		s.Tombstones = int(uint64At(meta.Get(metaTombstones)))
		used = tx.Size()
		return nil
	})
	if err != nil {
		return store.Stats{}, fmt.Errorf("stats: %w", err)
	}
	info, err := os.Stat(db.path)
	if err != nil {
		return store.Stats{}, fmt.Errorf("stats: %w", err)
	}
	bs := db.bolt.Stats()
	s.FileSize = info.Size()
	// Free pages inside the used part, and the file's tail bbolt grew into
	// but has not used yet: both go when the file is compacted.
	s.FreeBytes = int64(bs.FreeAlloc) + max(s.FileSize-used, 0)
	s.FreePages = bs.FreePageN
	return s, nil
}

// Backup writes a consistent copy of the file to w from one read
// transaction: writers go on meanwhile, and the copy is a bbolt file that
// Open reads as it is.
func (db *DB) Backup(ctx context.Context, w io.Writer) error {
	err := db.view(ctx, func(tx *bbolt.Tx) error {
		_, err := tx.WriteTo(ctxWriter{ctx, w})
		return err
	})
	if err != nil {
		return fmt.Errorf("backup %s: %w", db.path, err)
	}
	return nil
}

// ctxWriter stops a long copy when its context ends.
type ctxWriter struct {
	ctx context.Context
	w   io.Writer
}

func (c ctxWriter) Write(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.w.Write(p)
}

// view runs fn in a read transaction unless ctx has ended.
func (db *DB) view(ctx context.Context, fn func(*bbolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return db.bolt.View(fn)
}
