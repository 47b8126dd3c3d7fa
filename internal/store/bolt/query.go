package bolt

import (
	"bytes"
	"context"
	"fmt"
	"math"

	bbolt "go.etcd.io/bbolt"

	"github.com/newsdesk/newsdesk/internal/store"
	"github.com/newsdesk/newsdesk/internal/story"
)

// reader decodes stories inside one read transaction (bbolt's byte slices
// die with it) and fills Topics from the active generation.
type reader struct {
	stories  storyBucket
	own, idx *bbolt.Bucket
}

func newReader(tx *bbolt.Tx) reader {
	g := activeGen(tx)
	return reader{stories: storiesOf(tx), own: g.Bucket(bucketOwn), idx: g.Bucket(bucketIdx)}
}

func (r reader) get(id []byte) (story.Story, bool, error) {
	v := r.stories.Get(id)
	if v == nil {
		return story.Story{}, false, nil
	}
	s, err := decodeStory(v)
	if err != nil {
		return story.Story{}, false, fmt.Errorf("decode story %s: %w", id, err)
	}
	s = store.Listed(s)
	// A representative shows what it is indexed under (its duplicates'
	// topics included); a duplicate shows its own classification.
	if s.DuplicateOf == "" {
		s.Topics = splitSlugs(r.idx.Get(be64(s.Seq)))
	} else {
		s.Topics = splitSlugs(r.own.Get(be64(s.Seq)))
	}
	return s, true, nil
}

// Get returns the story with id, or an error wrapping store.ErrNotFound.
func (db *DB) Get(ctx context.Context, id string) (story.Story, error) {
	var s story.Story
	err := db.view(ctx, func(tx *bbolt.Tx) error {
		var ok bool
		var err error
		s, ok, err = newReader(tx).get([]byte(id))
		if err == nil && !ok {
			err = store.ErrNotFound
		}
		return err
	})
	if err != nil {
		return story.Story{}, fmt.Errorf("get %s: %w", id, err)
	}
	return s, nil
}

// Recent returns a page of stories, newest Published first: a cursor walk
// back from q.Before, so it costs O(Limit) whatever the store holds. A bad
// cursor gives an error wrapping store.ErrBadCursor. Duplicates are never
// listed.
func (db *DB) Recent(ctx context.Context, q store.Query) (store.Page, error) {
	limit := store.ClampLimit(q.Limit)
	var before []byte
	if q.Before != "" {
		var err error
		if before, err = decodeCursor(q.Before); err != nil {
			return store.Page{}, err
		}
	}
	floor := timeKey(q.NotBefore, "")
	var page store.Page
	err := db.view(ctx, func(tx *bbolt.Tx) error {
		page = store.Page{}
		index := tx.Bucket(bucketTime)
		if q.Topic != "" {
			index = activeGen(tx).Bucket(bucketTopTime).Bucket([]byte(q.Topic))
			if index == nil {
				return nil // no story has ever been in the topic
			}
		}
		r := newReader(tx)
		c := index.Cursor()
		var k, last []byte
		if before == nil {
			k, _ = c.Last()
		} else if k, _ = c.Seek(before); k == nil {
			k, _ = c.Last() // every key is older than the cursor
		} else {
			k, _ = c.Prev() // Seek lands on the first key ≥ cursor
		}
		for ; k != nil && bytes.Compare(k, floor) >= 0; k, _ = c.Prev() {
			if len(page.Stories) == limit {
				page.Next = encodeCursor(last)
				return nil
			}
			s, ok, err := r.get(k[8:])
			if err != nil {
				return err
			}
			if !ok || s.DuplicateOf != "" {
				continue // an index that outlived its story would be a bug; don't fail the page for it
			}
			page.Stories = append(page.Stories, s)
			last = bytes.Clone(k)
		}
		return nil
	})
	if err != nil {
		return store.Page{}, fmt.Errorf("recent %q: %w", q.Topic, err)
	}
	return page, nil
}

// Since returns the topic's stories with Seq > afterSeq, oldest first, at
// most store.ClampLimit(limit) of them. Topic "" means all stories;
// duplicates are skipped.
func (db *DB) Since(ctx context.Context, topic string, afterSeq uint64, limit int) ([]story.Story, error) {
	limit = store.ClampLimit(limit)
	if afterSeq == math.MaxUint64 {
		return nil, nil
	}
	var out []story.Story
	err := db.view(ctx, func(tx *bbolt.Tx) error {
		out = nil
		r := newReader(tx)
		var c *bbolt.Cursor
		if topic == "" {
			c = tx.Bucket(bucketSeq).Cursor()
		} else {
			b := activeGen(tx).Bucket(bucketTopSeq).Bucket([]byte(topic))
			if b == nil {
				return nil
			}
			c = b.Cursor()
		}
		for k, v := c.Seek(be64(afterSeq + 1)); k != nil && len(out) < limit; k, v = c.Next() {
			id := v
			if topic == "" {
				_, flags, sid := splitSeqValue(v)
				if flags&seqDup != 0 {
					continue
				}
				id = []byte(sid)
			}
			s, ok, err := r.get(id)
			if err != nil {
				return err
			}
			if ok && s.DuplicateOf == "" {
				out = append(out, s)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("since %q: %w", topic, err)
	}
	return out, nil
}

// Topic summarises a topic's index in O(1): the count and change time are
// kept by every write, and the newest story is the index's last key.
// Slug "" means all stories. An unknown slug gives the zero TopicInfo.
func (db *DB) Topic(ctx context.Context, slug string) (store.TopicInfo, error) {
	var info store.TopicInfo
	err := db.view(ctx, func(tx *bbolt.Tx) error {
		info = store.TopicInfo{}
		index := tx.Bucket(bucketTime)
		v := tx.Bucket(bucketMeta).Get(metaAll)
		if slug != "" {
			g := activeGen(tx)
			index = g.Bucket(bucketTopTime).Bucket([]byte(slug))
			v = g.Bucket(bucketTopInfo).Get([]byte(slug))
		}
		info.Count, info.Changed = splitInfoValue(v)
		if index != nil {
			if k, _ := index.Cursor().Last(); k != nil {
				info.Newest, _ = splitTimeKey(k)
			}
		}
		return nil
	})
	if err != nil {
		return store.TopicInfo{}, fmt.Errorf("topic %q: %w", slug, err)
	}
	return info, nil
}
