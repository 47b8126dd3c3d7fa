package bolt

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/newsdesk/newsdesk/internal/store"
	"github.com/newsdesk/newsdesk/internal/story"
)

// Per-source counters for Activity. Nothing else in the file says which
// source a story came from without decoding it, so Put and Prune keep these
// up to date (countStory) in the transaction that adds or removes the story.
var (
	// day(FirstSeen) | source → be64 stories of source first stored that
	// day and stored now. Day-major, so a window is one range of keys; a
	// count that falls to zero is deleted, so the bucket holds no more days
	// than the stories do.
	bucketSourceDays = []byte("sourcedays")
	// source → be64 stories of source stored now, duplicates included.
	bucketSourceCount = []byte("sourcecount")
	// present once the counters cover every stored story (files written
	// before they existed are counted once, at Open).
	metaActivity = []byte("activity")
)

// activitySlack is how far before the window the walk of the ingest-order
// index goes on. Seq follows commit order and FirstSeen the Put's now, which
// concurrent fetches hand in a little out of order.
const activitySlack = time.Hour

// day numbers the UTC day t falls on, counted from 1970-01-01 (earlier
// times count as day 0).
func day(t time.Time) uint32 {
	if t.Before(time.Unix(0, 0)) {
		return 0
	}
	return uint32(t.Unix() / 86400)
}

func sourceDayKey(d uint32, source string) []byte {
	return append(binary.BigEndian.AppendUint32(make([]byte, 0, 4+len(source)), d), source...)
}

// countStory adds delta (1 when s is stored, -1 when it is removed) to the
// counters of s's source.
func countStory(tx *bbolt.Tx, s story.Story, delta int) error {
	if err := addCount(tx.Bucket(bucketSourceDays), sourceDayKey(day(s.FirstSeen), s.Source), delta); err != nil {
		return fmt.Errorf("count stories of %s: %w", s.Source, err)
	}
	if err := addCount(tx.Bucket(bucketSourceCount), []byte(s.Source), delta); err != nil {
		return fmt.Errorf("count stories of %s: %w", s.Source, err)
	}
	return nil
}

// addCount adds delta to the be64 counter at b/key, deleting it at zero.
func addCount(b *bbolt.Bucket, key []byte, delta int) error {
	n := int64(uint64At(b.Get(key))) + int64(delta)
	if n <= 0 {
		return b.Delete(key)
	}
	return b.Put(key, be64(uint64(n)))
}

// initActivity creates the counter buckets and, in a file written before
// they existed, counts every stored story once.
func initActivity(tx *bbolt.Tx) error {
	for _, name := range [][]byte{bucketSourceDays, bucketSourceCount} {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return fmt.Errorf("create bucket %s: %w", name, err)
		}
	}
	meta := tx.Bucket(bucketMeta)
	if meta.Get(metaActivity) != nil {
		return nil
	}
	err := storiesOf(tx).ForEach(func(k, v []byte) error {
		s, err := decodeStory(v)
		if err != nil {
			return fmt.Errorf("decode story %s: %w", k, err)
		}
		return countStory(tx, story.Story{Source: s.Source, FirstSeen: s.FirstSeen}, 1)
	})
	if err != nil {
		return fmt.Errorf("count stories per source: %w", err)
	}
	return meta.Put(metaActivity, []byte{1})
}

// Activity reports the stored stories per source and per day of a window,
// and per topic and day, as store.Store's Activity describes. The sources'
// part reads the counters; the topics' part walks seq/ back from the newest
// story while stories are first seen within the window (less activitySlack),
// reading each one's topics from the generation's idx/, which is keyed the
// same way: no story is decoded.
func (db *DB) Activity(ctx context.Context, now time.Time, days int) (store.Activity, error) {
	a := store.NewActivity(now, days)
	first := day(a.From)
	err := db.view(ctx, func(tx *bbolt.Tx) error {
		err := tx.Bucket(bucketSourceCount).ForEach(func(k, v []byte) error {
			a.AddStored(string(k), int(uint64At(v)))
			return nil
		})
		if err != nil {
			return err
		}
		c := tx.Bucket(bucketSourceDays).Cursor()
		for k, v := c.Seek(binary.BigEndian.AppendUint32(nil, first)); k != nil; k, v = c.Next() {
			i := int(binary.BigEndian.Uint32(k) - first)
			if i >= a.Days {
				break
			}
			a.AddSourceDay(string(k[4:]), i, int(uint64At(v)))
		}

		// seq/ and the generation's idx/ are both keyed by be64(Seq), and
		// idx/ holds a subset of seq/'s keys (listed stories with topics):
		// one cursor on each, walked back together, reads both in order.
		ic := activeGen(tx).Bucket(bucketIdx).Cursor()
		ik, iv := ic.Last()
		stop := nanos(a.From.Add(-activitySlack))
		sc := tx.Bucket(bucketSeq).Cursor()
		n := 0
		for k, v := sc.Last(); k != nil; k, v = sc.Prev() {
			if n++; n%4096 == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			if uint64At(v) < stop {
				break
			}
			if v[8]&seqDup != 0 {
				continue
			}
			i := a.Day(time.Unix(0, int64(uint64At(v))))
			if i < 0 {
				continue
			}
			a.AddTopicDay(i, "")
			for ik != nil && bytes.Compare(ik, k) > 0 {
				ik, iv = ic.Prev()
			}
			if bytes.Equal(ik, k) {
				addTopics(&a, i, iv)
			}
		}
		return nil
	})
	if err != nil {
		return store.Activity{}, fmt.Errorf("activity: %w", err)
	}
	return a, nil
}

// addTopics counts one story on day i under each slug of an idx/ value,
// without allocating per story.
func addTopics(a *store.Activity, i int, slugs []byte) {
	for len(slugs) > 0 {
		var slug []byte
		slug, slugs, _ = bytes.Cut(slugs, []byte{0})
		if days := a.Topics[string(slug)]; days != nil {
			days[i]++
			continue
		}
		a.AddTopicDay(i, string(slug))
	}
}

// checkActivity verifies the counters against the stories (Check).
func checkActivity(tx *bbolt.Tx, all map[string]story.Story, report func(string, ...any)) {
	if tx.Bucket(bucketMeta).Get(metaActivity) == nil {
		report("per-source counters were never built")
		return
	}
	wantDays, wantCount := map[string]uint64{}, map[string]uint64{}
	for _, s := range all {
		wantDays[string(sourceDayKey(day(s.FirstSeen), s.Source))]++
		wantCount[s.Source]++
	}
	compare := func(name []byte, want map[string]uint64) {
		got := 0
		_ = tx.Bucket(name).ForEach(func(k, v []byte) error {
			got++
			if n := uint64At(v); n != want[string(k)] {
				report("%s %q: counter %d, %d stories", name, k, n, want[string(k)])
			}
			return nil
		})
		if got != len(want) {
			report("%s: %d counters, stories call for %d", name, got, len(want))
		}
	}
	compare(bucketSourceDays, wantDays)
	compare(bucketSourceCount, wantCount)
}

// recount moves a stored story's count when a re-Put changed its Source
// (FirstSeen never changes).
func recount(tx *bbolt.Tx, old, s story.Story) error {
	if old.Source == s.Source {
		return nil
	}
	if err := countStory(tx, old, -1); err != nil {
		return err
	}
	return countStory(tx, s, 1)
}
