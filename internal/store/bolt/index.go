package bolt

import (
	"bytes"
	"fmt"
	"slices"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/newsdesk/newsdesk/internal/store"
	"github.com/newsdesk/newsdesk/internal/story"
)

// writer carries one write transaction's buckets and the index changes it has
// made, so counts and change times are written once per transaction.
type writer struct {
	tx                    *bbolt.Tx
	stories               storyBucket
	time, seq             *bbolt.Bucket
	links, meta           *bbolt.Bucket
	own, idx, ttime, tseq *bbolt.Bucket
	tinfo                 *bbolt.Bucket
	now                   time.Time
	delta                 map[string]int // slug → change in index size
	allDelta              int
	allChanged            bool
	newest                time.Time // newest dated Published stored (meta/newest-dated)
	newestMoved           bool
	// Stories inserted, by source and by source and day (countStory's
	// counters), and in all (meta/n): written once, by flush, not once a
	// story, since a Put's stories share them.
	added        int
	sourceNew    map[string]int
	sourceDayNew map[string]int
}

func newWriter(tx *bbolt.Tx, gen *bbolt.Bucket, now time.Time) *writer {
	w := &writer{
		tx:      tx,
		stories: storiesOf(tx),
		time:    tx.Bucket(bucketTime),
		seq:     tx.Bucket(bucketSeq),
		links:   tx.Bucket(bucketLinks),
		meta:    tx.Bucket(bucketMeta),
		own:     gen.Bucket(bucketOwn),
		idx:     gen.Bucket(bucketIdx),
		ttime:   gen.Bucket(bucketTopTime),
		tseq:    gen.Bucket(bucketTopSeq),
		tinfo:   gen.Bucket(bucketTopInfo),
		now:     now.UTC(),
		delta:   make(map[string]int),
		newest:  newestDated(tx),
	}
	// These are keyed by Seq, which only grows: new keys go at the end, so
	// full pages (not bbolt's half-full default) are fewer to write.
	for _, b := range []*bbolt.Bucket{w.seq, w.own, w.idx} {
		b.FillPercent = appendFill
	}
	return w
}

// appendFill is the FillPercent of buckets whose new keys come last.
const appendFill = 0.95

// countNew counts s, just inserted, in the per-source counters and the
// story count, for flush to write.
func (w *writer) countNew(s story.Story) {
	if w.sourceNew == nil {
		w.sourceNew, w.sourceDayNew = make(map[string]int), make(map[string]int)
	}
	w.added++
	w.sourceNew[s.Source]++
	w.sourceDayNew[string(sourceDayKey(day(s.FirstSeen), s.Source))]++
}

// newestDated reads meta/newest-dated; the zero time when no dated story was
// ever stored.
func newestDated(tx *bbolt.Tx) time.Time {
	n := uint64At(tx.Bucket(bucketMeta).Get(metaNewestDated))
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, int64(n)).UTC()
}

// dated notes s's Published when it is an upstream date: the newest one
// caps the estimate of an undated backlog (store.Estimates).
func (w *writer) dated(s story.Story) {
	if !s.Undated && s.Published.After(w.newest) {
		w.newest, w.newestMoved = s.Published, true
	}
}

// load decodes the stored story with id; ok is false when there is none.
func (w *writer) load(id string) (s story.Story, ok bool, err error) {
	v := w.stories.Get([]byte(id))
	if v == nil {
		return story.Story{}, false, nil
	}
	s, err = decodeStory(v)
	if err != nil {
		return story.Story{}, false, fmt.Errorf("decode story %s: %w", id, err)
	}
	return s, true, nil
}

// stored reports whether v is what the store holds for story id: its bytes
// or, for a story still in the older JSON form, the same story.
func (w *writer) stored(id string, v []byte) (bool, error) {
	raw := w.stories.Get([]byte(id))
	if !isJSON(raw) {
		return bytes.Equal(v, raw), nil
	}
	old, err := decodeStory(raw)
	if err != nil {
		return false, fmt.Errorf("decode story %s: %w", id, err)
	}
	ov, err := encode(old)
	if err != nil {
		return false, err
	}
	return bytes.Equal(v, ov), nil
}

func (w *writer) save(s story.Story) error {
	v, err := encode(s)
	if err != nil {
		return fmt.Errorf("encode story %s: %w", s.ID, err)
	}
	return w.stories.Put([]byte(s.ID), v)
}

// members is what a story that is not a duplicate is indexed under: its own
// topics and those of every duplicate in its link group.
func (w *writer) members(s story.Story) ([]string, error) {
	lists := [][]string{splitSlugs(w.own.Get(be64(s.Seq)))}
	for _, r := range s.AlsoIn {
		d, ok, err := w.load(r.ID) // rare: only stories other sources also carried
		if err != nil {
			return nil, err
		}
		if ok {
			lists = append(lists, splitSlugs(w.own.Get(be64(d.Seq))))
		}
	}
	return store.Union(lists...), nil
}

// entry is where a story sits in the topic indexes.
type entry struct {
	slugs []string
	pub   time.Time
	seq   uint64
}

// reindex moves story id's topic index keys from old to new, touching only
// the keys that differ, and records the story's new slugs in idx/. A story's
// Seq never changes, so old.seq and new.seq differ only when one is empty.
func (w *writer) reindex(id string, old, new entry) error {
	moved := nanos(old.pub) != nanos(new.pub) || old.seq != new.seq
	for _, slug := range old.slugs {
		if moved || !slices.Contains(new.slugs, slug) {
			if err := w.unindex(slug, id, old.pub, old.seq); err != nil {
				return err
			}
		}
	}
	for _, slug := range new.slugs {
		if moved || !slices.Contains(old.slugs, slug) {
			if err := w.index(slug, id, new.pub, new.seq); err != nil {
				return err
			}
		}
	}
	if len(new.slugs) == 0 {
		return w.idx.Delete(be64(max(old.seq, new.seq)))
	}
	if slices.Equal(old.slugs, new.slugs) && !moved {
		return nil
	}
	return w.idx.Put(be64(new.seq), joinSlugs(new.slugs))
}

func (w *writer) index(slug, id string, pub time.Time, seq uint64) error {
	tb, err := w.ttime.CreateBucketIfNotExists([]byte(slug))
	if err != nil {
		return fmt.Errorf("index topic %s: %w", slug, err)
	}
	sb, err := w.tseq.CreateBucketIfNotExists([]byte(slug))
	if err != nil {
		return fmt.Errorf("index topic %s: %w", slug, err)
	}
	sb.FillPercent = appendFill // keyed by Seq
	if err := tb.Put(timeKey(pub, id), nil); err != nil {
		return err
	}
	if err := sb.Put(be64(seq), []byte(id)); err != nil {
		return err
	}
	w.delta[slug]++
	return nil
}

func (w *writer) unindex(slug, id string, pub time.Time, seq uint64) error {
	if tb := w.ttime.Bucket([]byte(slug)); tb != nil {
		if err := tb.Delete(timeKey(pub, id)); err != nil {
			return err
		}
	}
	if sb := w.tseq.Bucket([]byte(slug)); sb != nil {
		if err := sb.Delete(be64(seq)); err != nil {
			return err
		}
	}
	w.delta[slug]--
	return nil
}

// touch marks topics whose feeds changed without their index changing (a
// member story was updated).
func (w *writer) touch(slugs []string) {
	for _, slug := range slugs {
		w.delta[slug] += 0
	}
}

// refresh recomputes representative f's topic membership after its own or a
// duplicate's topics changed, and marks its feeds changed when content says so.
func (w *writer) refresh(f story.Story, contentChanged bool) error {
	old := splitSlugs(w.idx.Get(be64(f.Seq)))
	now, err := w.members(f)
	if err != nil {
		return err
	}
	if err := w.reindex(f.ID, entry{old, f.Published, f.Seq}, entry{now, f.Published, f.Seq}); err != nil {
		return err
	}
	if contentChanged {
		w.touch(now)
		w.allChanged = true
	}
	return nil
}

// flush writes the topic counts and change times the transaction altered and
// returns the changed slugs, sorted.
func (w *writer) flush() ([]string, error) {
	changed := make([]string, 0, len(w.delta))
	for slug, d := range w.delta {
		count, _ := splitInfoValue(w.tinfo.Get([]byte(slug)))
		if err := w.tinfo.Put([]byte(slug), infoValue(count+d, w.now)); err != nil {
			return nil, err
		}
		changed = append(changed, slug)
	}
	slices.Sort(changed)
	if w.added > 0 {
		days, sources := w.tx.Bucket(bucketSourceDays), w.tx.Bucket(bucketSourceCount)
		for k, n := range w.sourceDayNew {
			if err := addCount(days, []byte(k), n); err != nil {
				return nil, fmt.Errorf("count stories: %w", err)
			}
		}
		for k, n := range w.sourceNew {
			if err := addCount(sources, []byte(k), n); err != nil {
				return nil, fmt.Errorf("count stories of %s: %w", k, err)
			}
		}
		if err := addCounter(w.meta, metaStories, w.added); err != nil {
			return nil, err
		}
		w.added, w.sourceNew, w.sourceDayNew = 0, nil, nil
	}
	if w.newestMoved {
		if err := w.meta.Put(metaNewestDated, be64(nanos(w.newest))); err != nil {
			return nil, err
		}
	}
	if w.allChanged || w.allDelta != 0 {
		count, _ := splitInfoValue(w.meta.Get(metaAll))
		if err := w.meta.Put(metaAll, infoValue(count+w.allDelta, w.now)); err != nil {
			return nil, err
		}
	}
	return changed, nil
}
