package bolt

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	bbolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/newsdesk/newsdesk/internal/store"
	"github.com/newsdesk/newsdesk/internal/story"
)

// Reclassify re-runs classify over every stored story and rebuilds the topic
// indexes, as store.Store's Reclassify describes. It builds a new generation
// of the indexes beside the active one, Options.ReclassifyBatch stories per
// transaction, then makes it active in one small transaction, so readers see
// the old indexes or the new ones, never a mix.
func (db *DB) Reclassify(ctx context.Context, classify func(story.Story) []string) ([]string, error) {
	db.mu.Lock()
	defer db.mu.Unlock()
	var oldGen, newGen uint64
	err := db.bolt.Update(func(tx *bbolt.Tx) error {
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
	b := &rebuild{ctx: ctx, classify: classify, tally: store.NewTally(), size: db.opts.ReclassifyBatch}
	var after []byte // last story id done
	for done := false; !done; {
		err := db.bolt.Update(func(tx *bbolt.Tx) error {
			var err error
			after, done, err = b.batch(tx, newGen, after, now)
			return err
		})
		if err != nil {
			// The half-built generation is never read; drop it now rather
			// than at the next Open. A cancelled ctx does not stop the drop.
			if derr := db.dropGen(newGen); derr != nil {
				err = errors.Join(err, derr)
			}
			return nil, fmt.Errorf("reclassify: %w", err)
		}
	}

	var changed []string
	err = db.bolt.Update(func(tx *bbolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		if got := uint64At(meta.Get(metaGen)); got != oldGen {
			return fmt.Errorf("generation moved from %d to %d during the rebuild", oldGen, got)
		}
		oldInfo := tx.Bucket(genName(oldGen)).Bucket(bucketTopInfo)
		newInfo := tx.Bucket(genName(newGen)).Bucket(bucketTopInfo)
		prev := func(slug string) time.Time {
			_, at := splitInfoValue(oldInfo.Get([]byte(slug)))
			return at
		}
		var infos map[string]store.TopicInfo
		infos, changed = b.tally.Result(prev, now)
		for slug, info := range infos {
			if err := newInfo.Put([]byte(slug), infoValue(info.Count, info.Changed)); err != nil {
				return err
			}
		}
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
	ctx      context.Context
	classify func(story.Story) []string
	tally    *store.Tally
	size     int // stories per batch
}

// batch reindexes up to b.size stories after Seq key `after` into
// generation gen, and reports the last key done and whether all are done.
// It walks stories in Seq order so that every index it writes (own/ and idx/
// by Seq, topic seq/ by Seq, topic time/ by Published, which mostly follows
// ingest order) grows at its end: a million stories then cost a million
// appends, not a million random page rewrites.
func (b *rebuild) batch(tx *bbolt.Tx, gen uint64, after []byte, now time.Time) ([]byte, bool, error) {
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
	for n := 0; k != nil && n < b.size; k, v = c.Next() {
		if err := b.ctx.Err(); err != nil {
			return nil, false, err // a regex-heavy classify can take long: stop between stories
		}
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
		own := store.Slugs(b.classify(s))
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
		got := store.Union(members...)
		if err := w.reindex(s.ID, entry{}, entry{got, s.Published, s.Seq}); err != nil {
			return nil, false, err
		}
		b.tally.Add(splitSlugs(oldIdx.Get(k)), got)
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
	s, err := decodeStory(v)
	if err != nil {
		return nil, fmt.Errorf("decode story %s: %w", id, err)
	}
	return store.Slugs(b.classify(s)), nil
}

// dropGen deletes a retired generation, one sub-bucket per transaction, so
// no single commit frees the whole index at once.
func (db *DB) dropGen(gen uint64) error {
	name := genName(gen)
	var subs [][]byte
	if err := db.bolt.View(func(tx *bbolt.Tx) error {
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
		err := db.bolt.Update(func(tx *bbolt.Tx) error {
			return tx.Bucket(name).Bucket(top).DeleteBucket(slug)
		})
		if err != nil {
			return fmt.Errorf("drop generation %d: %w", gen, err)
		}
	}
	for _, sub := range [][]byte{bucketOwn, bucketIdx, nil} {
		err := db.bolt.Update(func(tx *bbolt.Tx) error {
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
