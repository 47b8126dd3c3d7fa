package bolt

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"strings"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/newsdesk/newsdesk/internal/store"
	"github.com/newsdesk/newsdesk/internal/story"
)

var _ store.Porter = (*DB)(nil)

// Export calls yield with every record of the store from one read
// transaction, as store.Porter describes: writers go on meanwhile.
func (db *DB) Export(ctx context.Context, yield func(store.Record) error) error {
	err := db.view(ctx, func(tx *bbolt.Tx) error {
		meta, gen := tx.Bucket(bucketMeta), activeGen(tx)
		h := &store.Header{Format: store.DumpFormat, Version: store.DumpVersion,
			Seq: tx.Bucket(bucketStories).Sequence(), NewestDated: newestDated(tx),
			Stories: int(uint64At(meta.Get(metaStories)))}
		if err := yield(store.Record{Header: h}); err != nil {
			return err
		}
		c := meta.Cursor()
		for k, v := c.Seek([]byte(appMeta)); k != nil && strings.HasPrefix(string(k), appMeta); k, v = c.Next() {
			if err := yield(store.Record{Meta: &store.MetaEntry{Key: string(k[len(appMeta):]), Value: string(v)}}); err != nil {
				return err
			}
		}
		err := tx.Bucket(bucketSources).ForEach(func(k, v []byte) error {
			e := &store.SourceEntry{Name: string(k)}
			if err := json.Unmarshal(v, &e.State); err != nil {
				return fmt.Errorf("source %s: %w", k, err)
			}
			return yield(store.Record{Source: e})
		})
		if err != nil {
			return err
		}
		err = tx.Bucket(bucketTombstones).ForEach(func(k, v []byte) error {
			at := time.Unix(0, int64(uint64At(v))).UTC()
			return yield(store.Record{Tombstone: &store.Tombstone{ID: string(k), Pruned: at}})
		})
		if err != nil {
			return err
		}
		if v := meta.Get(metaAll); v != nil {
			if _, at := splitInfoValue(v); at.UnixNano() != 0 {
				if err := yield(store.Record{Topic: &store.TopicEntry{Changed: at}}); err != nil {
					return err
				}
			}
		}
		err = gen.Bucket(bucketTopInfo).ForEach(func(k, v []byte) error {
			if _, at := splitInfoValue(v); at.UnixNano() != 0 {
				return yield(store.Record{Topic: &store.TopicEntry{Slug: string(k), Changed: at}})
			}
			return nil
		})
		if err != nil {
			return err
		}
		stories, own := storiesOf(tx), gen.Bucket(bucketOwn)
		n := 0
		err = tx.Bucket(bucketSeq).ForEach(func(k, v []byte) error {
			if n++; n%1024 == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			_, _, id := splitSeqValue(v)
			s, err := decodeStory(stories.Get([]byte(id)))
			if err != nil {
				return fmt.Errorf("decode story %s: %w", id, err)
			}
			s.Topics = splitSlugs(own.Get(k))
			return yield(store.Record{Story: &s})
		})
		if err != nil {
			return err
		}
		return tx.Bucket(bucketLinks).ForEach(func(k, v []byte) error {
			return yield(store.Record{Link: &store.LinkEntry{Key: string(k), ID: string(v)}})
		})
	})
	if err != nil {
		return fmt.Errorf("export %s: %w", db.path, err)
	}
	return nil
}

// importBatch is how many records one Import transaction writes.
const importBatch = 10_000

// Import fills an empty store with an Export's records, as store.Porter
// describes, in transactions of importBatch records.
func (db *DB) Import(ctx context.Context, records iter.Seq2[store.Record, error]) error {
	db.mu.Lock()
	defer db.mu.Unlock()
	err := db.bolt.View(func(tx *bbolt.Tx) error {
		if uint64At(tx.Bucket(bucketMeta).Get(metaStories)) != 0 || tx.Bucket(bucketSources).Stats().KeyN != 0 {
			return errors.New("the store already holds stories or sources; import into an empty store")
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("import %s: %w", db.path, err)
	}
	im := &importer{changed: map[string]time.Time{}, counts: map[string]int{}, dupOwn: map[string][]string{}}
	var batch []store.Record
	first := true
	for r, err := range records {
		if err != nil {
			return fmt.Errorf("import %s: %w", db.path, err)
		}
		if first {
			if im.header, err = store.CheckHeader(r); err != nil {
				return fmt.Errorf("import %s: %w", db.path, err)
			}
			first = false
			continue
		}
		batch = append(batch, r)
		if len(batch) == importBatch {
			if err := db.importBatch(ctx, im, batch); err != nil {
				return fmt.Errorf("import %s: %w", db.path, err)
			}
			batch = batch[:0]
		}
	}
	if first {
		return fmt.Errorf("import %s: empty record stream", db.path)
	}
	if err := db.importBatch(ctx, im, batch); err != nil {
		return fmt.Errorf("import %s: %w", db.path, err)
	}
	if err := db.bolt.Update(im.finish); err != nil {
		return fmt.Errorf("import %s: %w", db.path, err)
	}
	return nil
}

// importer carries an Import across its transactions.
type importer struct {
	header   *store.Header
	stories  int
	reps     int
	changed  map[string]time.Time // slug → change time from Topic records
	counts   map[string]int       // slug → stories listed
	groups   []story.Story        // representatives whose duplicates' topics are needed
	groupOwn [][]string
	dupOwn   map[string][]string // duplicate id → own topics
}

func (db *DB) importBatch(ctx context.Context, im *importer, batch []store.Record) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return db.bolt.Update(func(tx *bbolt.Tx) error {
		w := newWriter(tx, activeGen(tx), time.Now())
		for _, r := range batch {
			if err := im.add(w, r); err != nil {
				return err
			}
		}
		return nil
	})
}

func (im *importer) add(w *writer, r store.Record) error {
	switch {
	case r.Meta != nil:
		return w.meta.Put([]byte(appMeta+r.Meta.Key), []byte(r.Meta.Value))
	case r.Source != nil:
		return putSource(w.tx, r.Source.Name, r.Source.State)
	case r.Tombstone != nil:
		w.now = r.Tombstone.Pruned.UTC()
		if err := store.CheckID(r.Tombstone.ID); err != nil {
			return fmt.Errorf("tombstone: %w", err)
		}
		return w.tombstone(r.Tombstone.ID)
	case r.Topic != nil:
		im.changed[r.Topic.Slug] = r.Topic.Changed
		return nil
	case r.Story != nil:
		return im.story(w, *r.Story)
	case r.Link != nil:
		return w.links.Put([]byte(r.Link.Key), []byte(r.Link.ID))
	}
	return errors.New("a record with nothing in it")
}

func (im *importer) story(w *writer, s story.Story) error {
	if err := store.CheckID(s.ID); err != nil {
		return fmt.Errorf("story %q: %w", truncate(s.ID, 40), err)
	}
	if s.Seq == 0 || s.Seq > im.header.Seq {
		return fmt.Errorf("story %s: Seq %d outside 1…%d", s.ID, s.Seq, im.header.Seq)
	}
	own := store.Slugs(s.Topics)
	s.Topics = nil
	if err := w.save(s); err != nil {
		return err
	}
	if err := countStory(w.tx, s, 1); err != nil {
		return err
	}
	var flags byte
	if s.DuplicateOf != "" {
		flags |= seqDup
	}
	if err := w.seq.Put(be64(s.Seq), seqValue(s.FirstSeen, flags, s.ID)); err != nil {
		return err
	}
	if err := addCounter(w.meta, metaStories, 1); err != nil {
		return err
	}
	im.stories++
	if err := w.setOwn(s.Seq, own); err != nil {
		return err
	}
	switch {
	case s.DuplicateOf != "":
		im.dupOwn[s.ID] = own
		return nil
	case len(s.AlsoIn) > 0:
		im.groups, im.groupOwn = append(im.groups, s), append(im.groupOwn, own)
		return nil
	}
	return im.list(w, s, own)
}

// list puts a representative in the all-stories and topic indexes.
func (im *importer) list(w *writer, s story.Story, slugs []string) error {
	im.reps++
	if err := w.time.Put(timeKey(s.Published, s.ID), nil); err != nil {
		return err
	}
	for _, slug := range slugs {
		im.counts[slug]++
	}
	return w.reindex(s.ID, entry{}, entry{slugs, s.Published, s.Seq})
}

// finish lists the representatives of link groups, now that every
// duplicate's topics are known, and writes the counters.
func (im *importer) finish(tx *bbolt.Tx) error {
	if im.stories != im.header.Stories {
		return fmt.Errorf("the export says %d stories and holds %d: it was cut short", im.header.Stories, im.stories)
	}
	w := newWriter(tx, activeGen(tx), time.Now())
	for i, s := range im.groups {
		lists := [][]string{im.groupOwn[i]}
		for _, r := range s.AlsoIn {
			lists = append(lists, im.dupOwn[r.ID])
		}
		if err := im.list(w, s, store.Union(lists...)); err != nil {
			return err
		}
	}
	for slug := range im.changed {
		if _, ok := im.counts[slug]; !ok && slug != "" {
			im.counts[slug] = 0
		}
	}
	for slug, n := range im.counts {
		if err := w.tinfo.Put([]byte(slug), infoValue(n, im.changed[slug])); err != nil {
			return err
		}
	}
	if err := w.meta.Put(metaAll, infoValue(im.reps, im.changed[""])); err != nil {
		return err
	}
	if err := tx.Bucket(bucketStories).SetSequence(im.header.Seq); err != nil {
		return err
	}
	return w.meta.Put(metaNewestDated, be64(nanos(im.header.NewestDated)))
}
