package store

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/newsdesk/newsdesk/internal/story"
)

// reclassifyBatch bounds one Reclassify transaction: a million stories are
// reindexed in a hundred commits instead of one transaction holding every
// dirty page in memory. A variable so tests can cross batch edges cheaply.
var reclassifyBatch = 10_000

// Reclassify re-runs classify over every stored story and rebuilds the topic
// indexes. It builds a new generation of the indexes beside the active one,
// batch by batch, then makes it active in one small transaction, so readers
// see the old indexes or the new ones, never a mix. It returns the slugs
// whose membership changed (exactly: each story's old and new slugs are
// compared), sorted.
//
// Put, Prune and other writers wait until it finishes. classify runs inside
// write transactions, so it must not call the DB. Duplicates' topics are
// indexed on the story they duplicate, as in Put.
func (db *DB) Reclassify(classify func(story.Story) []string) ([]string, error) {
	db.mu.Lock()
	defer db.mu.Unlock()
	var oldGen, newGen uint64
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		oldGen = uint64At(tx.Bucket(bucketMeta).Get(metaGen))
		newGen = oldGen + 1
		if err := tx.DeleteBucket(genName(newGen)); err != nil && !errors.Is(err, bolterrors.ErrBucketNotFound) {
			return err
		}
		_, err := createGen(tx, newGen)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("reclassify: %w", err)
	}

	now := time.Now().UTC()
	b := &rebuild{classify: classify, counts: make(map[string]int), changed: make(map[string]bool)}
	var after []byte // last story id done
	for done := false; !done; {
		err := db.bolt.Update(func(tx *bolt.Tx) error {
			var err error
			after, done, err = b.batch(tx, newGen, after, now)
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("reclassify: %w", err)
		}
	}

	var changed []string
	err = db.bolt.Update(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		if got := uint64At(meta.Get(metaGen)); got != oldGen {
			return fmt.Errorf("generation moved from %d to %d during the rebuild", oldGen, got)
		}
		oldInfo := tx.Bucket(genName(oldGen)).Bucket(bucketTopInfo)
		newInfo := tx.Bucket(genName(newGen)).Bucket(bucketTopInfo)
		changed = changed[:0]
		for slug, n := range b.counts {
			_, at := splitInfoValue(oldInfo.Get([]byte(slug)))
			if b.changed[slug] {
				at = now
			}
			if err := newInfo.Put([]byte(slug), infoValue(n, at)); err != nil {
				return err
			}
		}
		for slug := range b.changed {
			changed = append(changed, slug)
			if b.counts[slug] == 0 { // emptied: keep its change time for Topic
				if err := newInfo.Put([]byte(slug), infoValue(0, now)); err != nil {
					return err
				}
			}
		}
		slices.Sort(changed)
		return meta.Put(metaGen, be64(newGen))
	})
	if err != nil {
		return nil, fmt.Errorf("reclassify: %w", err)
	}
	if err := db.dropGen(oldGen); err != nil {
		return changed, fmt.Errorf("reclassify: %w", err)
	}
	return changed, nil
}

// rebuild is the state of one Reclassify across its batches.
type rebuild struct {
	classify func(story.Story) []string
	counts   map[string]int  // slug → stories indexed in the new generation
	changed  map[string]bool // slugs some story joined or left
}

// batch reindexes up to reclassifyBatch stories after Seq key `after` into
// generation gen, and reports the last key done and whether all are done.
// It walks stories in Seq order so that every index it writes (own/ and idx/
// by Seq, topic seq/ by Seq, topic time/ by Published, which mostly follows
// ingest order) grows at its end: a million stories then cost a million
// appends, not a million random page rewrites.
func (b *rebuild) batch(tx *bolt.Tx, gen uint64, after []byte, now time.Time) ([]byte, bool, error) {
	w := newWriter(tx, tx.Bucket(genName(gen)), now)
	oldIdx := activeGen(tx).Bucket(bucketIdx)
	c := w.seq.Cursor()
	k, v := c.First()
	if after != nil {
		if k, v = c.Seek(after); bytes.Equal(k, after) {
			k, v = c.Next()
		}
	}
	var last []byte
	for n := 0; k != nil && n < reclassifyBatch; k, v = c.Next() {
		n++
		last = bytes.Clone(k)
		_, _, id := splitSeqValue(v)
		s, ok, err := w.load(id)
		if err != nil {
			return nil, false, err
		}
		if !ok {
			continue
		}
		own := slugs(b.classify(s))
		if err := w.setOwn(s.Seq, own); err != nil {
			return nil, false, err
		}
		if s.DuplicateOf != "" {
			continue
		}
		members := [][]string{own}
		for _, r := range s.AlsoIn {
			d, err := b.classifyID(w, r.ID)
			if err != nil {
				return nil, false, err
			}
			members = append(members, d)
		}
		got := union(members...)
		if err := w.reindex(s.ID, entry{}, entry{got, s.Published, s.Seq}); err != nil {
			return nil, false, err
		}
		was := splitSlugs(oldIdx.Get(k))
		for _, slug := range got {
			b.counts[slug]++
			if !slices.Contains(was, slug) {
				b.changed[slug] = true
			}
		}
		for _, slug := range was {
			if !slices.Contains(got, slug) {
				b.changed[slug] = true
			}
		}
	}
	// Counts go into the info bucket once, at the flip; w.delta is not flushed.
	return last, k == nil, nil
}

// classifyID classifies the stored story id; a missing story has no topics.
func (b *rebuild) classifyID(w *writer, id string) ([]string, error) {
	v := w.stories.Get([]byte(id))
	if v == nil {
		return nil, nil
	}
	var s story.Story
	if err := json.Unmarshal(v, &s); err != nil {
		return nil, fmt.Errorf("decode story %s: %w", id, err)
	}
	return slugs(b.classify(s)), nil
}

// dropGen deletes a retired generation, one sub-bucket per transaction, so
// no single commit frees the whole index at once.
func (db *DB) dropGen(gen uint64) error {
	name := genName(gen)
	var subs [][]byte
	if err := db.bolt.View(func(tx *bolt.Tx) error {
		g := tx.Bucket(name)
		if g == nil {
			return nil
		}
		for _, top := range [][]byte{bucketTopTime, bucketTopSeq} {
			if err := g.Bucket(top).ForEachBucket(func(k []byte) error {
				subs = append(subs, append(append(bytes.Clone(top), 0), k...))
				return nil
			}); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		return fmt.Errorf("drop generation %d: %w", gen, err)
	}
	for _, sub := range subs {
		top, slug, _ := bytes.Cut(sub, []byte{0})
		err := db.bolt.Update(func(tx *bolt.Tx) error {
			return tx.Bucket(name).Bucket(top).DeleteBucket(slug)
		})
		if err != nil {
			return fmt.Errorf("drop generation %d: %w", gen, err)
		}
	}
	for _, sub := range [][]byte{bucketOwn, bucketIdx, nil} {
		err := db.bolt.Update(func(tx *bolt.Tx) error {
			if sub == nil {
				return tx.DeleteBucket(name)
			}
			return tx.Bucket(name).DeleteBucket(sub)
		})
		if err != nil {
			return fmt.Errorf("drop generation %d: %w", gen, err)
		}
	}
	return nil
}
