package bolt

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"

	bbolt "go.etcd.io/bbolt"

	"github.com/newsdesk/newsdesk/internal/store"
	"github.com/newsdesk/newsdesk/internal/story"
)

// maxProblems bounds what Check reports: one broken invariant is usually
// broken for many stories.
const maxProblems = 20

// Check verifies the file and every invariant the indexes keep, in one read
// transaction: bbolt's own page check, then that every index entry names a
// stored story that belongs there, that every story is indexed where it
// should be (a link group's representative under the union of its members'
// topics, a duplicate nowhere), and that the counters agree. It reads the
// whole file, so it is for tests, crash drills and maintenance, not for a
// request path. The error lists the first problems found.
func (db *DB) Check(ctx context.Context) error {
	var problems []error
	report := func(format string, args ...any) {
		if len(problems) < maxProblems {
			problems = append(problems, fmt.Errorf(format, args...))
		}
	}
	err := db.view(ctx, func(tx *bbolt.Tx) error {
		for err := range tx.Check() {
			report("bbolt: %w", err)
		}
		if len(problems) > 0 {
			return nil // the pages are broken: the buckets cannot be trusted
		}
		checkIndexes(tx, report)
		return nil
	})
	if err != nil {
		return fmt.Errorf("check %s: %w", db.path, err)
	}
	if len(problems) > 0 {
		return fmt.Errorf("check %s: %w", db.path, errors.Join(problems...))
	}
	return nil
}

func checkIndexes(tx *bbolt.Tx, report func(string, ...any)) {
	meta := tx.Bucket(bucketMeta)
	gen := activeGen(tx)
	if gen == nil {
		report("active generation %d is missing", uint64At(meta.Get(metaGen)))
		return
	}
	own, idx := gen.Bucket(bucketOwn), gen.Bucket(bucketIdx)
	ttime, tseq, tinfo := gen.Bucket(bucketTopTime), gen.Bucket(bucketTopSeq), gen.Bucket(bucketTopInfo)

	all := make(map[string]story.Story)
	err := storiesOf(tx).ForEach(func(k, v []byte) error {
		s, err := decodeStory(v)
		if err != nil {
			report("story %s: %v", k, err)
			return nil
		}
		if s.ID != string(k) {
			report("story under key %s has id %s", k, s.ID)
		}
		all[string(k)] = s
		return nil
	})
	if err != nil {
		report("walk stories: %v", err)
	}
	if n := int(uint64At(meta.Get(metaStories))); n != len(all) {
		report("story counter %d, %d stories stored", n, len(all))
	}
	// Every body belongs to the one story that refers to it.
	refs := 0
	tx.Bucket(bucketStories).ForEach(func(k, v []byte) error {
		if seq, ok := ref(v); ok {
			refs++
			if s, found := all[string(k)]; found && s.Seq != seq {
				report("story %s refers to body %d, its Seq is %d", k, seq, s.Seq)
			}
		}
		return nil
	})
	if n := tx.Bucket(bucketBodies).Stats().KeyN; n != refs {
		report("%d story bodies stored, %d stories refer to one", n, refs)
	}

	// Expected topic index contents, built from the stories.
	want := make(map[string]map[string]bool) // slug → ids
	reps := 0
	for id, s := range all {
		v := tx.Bucket(bucketSeq).Get(be64(s.Seq))
		if v == nil {
			report("story %s: no seq/%d entry", id, s.Seq)
			continue
		}
		_, flags, sid := splitSeqValue(v)
		if sid != id {
			report("seq/%d names %s, story %s has that Seq", s.Seq, sid, id)
		}
		if (flags&seqDup != 0) != (s.DuplicateOf != "") {
			report("story %s: seq duplicate flag %v, DuplicateOf %q", id, flags&seqDup != 0, s.DuplicateOf)
		}
		inTime := tx.Bucket(bucketTime).Get(timeKey(s.Published, id)) != nil
		if s.DuplicateOf != "" {
			rep, ok := all[s.DuplicateOf]
			switch {
			case !ok:
				report("duplicate %s: representative %s is not stored", id, s.DuplicateOf)
			case rep.DuplicateOf != "":
				report("duplicate %s: representative %s is itself a duplicate", id, s.DuplicateOf)
			case !slices.ContainsFunc(rep.AlsoIn, func(r story.Ref) bool { return r.ID == id }):
				report("duplicate %s: representative %s does not list it in AlsoIn", id, s.DuplicateOf)
			}
			if s.ServedID != "" || s.Merged != nil {
				report("duplicate %s carries group fields (ServedID %q, Merged %v)", id, s.ServedID, s.Merged)
			}
			if inTime || idx.Get(be64(s.Seq)) != nil || len(s.AlsoIn) > 0 {
				report("duplicate %s is indexed (time %v, idx %v) or has AlsoIn %v", id, inTime, idx.Get(be64(s.Seq)) != nil, s.AlsoIn)
			}
			continue
		}
		reps++
		if !inTime {
			report("story %s: not in the time index at %v", id, s.Published)
		}
		lists := [][]string{splitSlugs(own.Get(be64(s.Seq)))}
		for _, r := range s.AlsoIn {
			d, ok := all[r.ID]
			if !ok || d.DuplicateOf != id {
				report("story %s: AlsoIn %s is not its duplicate", id, r.ID)
				continue
			}
			lists = append(lists, splitSlugs(own.Get(be64(d.Seq))))
		}
		members := store.Union(lists...)
		if got := splitSlugs(idx.Get(be64(s.Seq))); !slices.Equal(got, members) {
			report("story %s: idx %v, its group's topics are %v", id, got, members)
		}
		for _, slug := range members {
			if want[slug] == nil {
				want[slug] = make(map[string]bool)
			}
			want[slug][id] = true
			if b := ttime.Bucket([]byte(slug)); b == nil || b.Get(timeKey(s.Published, id)) == nil {
				report("story %s: missing from topic %s's time index", id, slug)
			}
			if b := tseq.Bucket([]byte(slug)); b == nil || string(b.Get(be64(s.Seq))) != id {
				report("story %s: missing from topic %s's seq index", id, slug)
			}
		}
	}

	n := 0
	_ = tx.Bucket(bucketTime).ForEach(func(k, _ []byte) error {
		n++
		pub, id := splitTimeKey(k)
		if s, ok := all[id]; !ok || s.DuplicateOf != "" || nanos(s.Published) != nanos(pub) {
			report("time index entry %v %s has no listed story at that time", pub, id)
		}
		return nil
	})
	if count, _ := splitInfoValue(meta.Get(metaAll)); n != reps || count != reps {
		report("all-stories index: %d entries, counter %d, %d representatives", n, count, reps)
	}
	_ = tx.Bucket(bucketSeq).ForEach(func(k, v []byte) error {
		if _, _, id := splitSeqValue(v); all[id].Seq != uint64At(k) {
			report("seq/%d names %s, which is not stored with that Seq", uint64At(k), id)
		}
		return nil
	})
	_ = tx.Bucket(bucketLinks).ForEach(func(k, v []byte) error {
		if s, ok := all[string(v)]; !ok || s.DuplicateOf != "" {
			report("link key %s is held by %s, which is not a stored representative", k, v)
		}
		return nil
	})

	// Every topic index holds exactly the expected ids, and its counter
	// agrees.
	slugsSeen := make(map[string]bool)
	_ = ttime.ForEachBucket(func(slug []byte) error {
		slugsSeen[string(slug)] = true
		return nil
	})
	_ = tseq.ForEachBucket(func(slug []byte) error {
		slugsSeen[string(slug)] = true
		return nil
	})
	_ = tinfo.ForEach(func(slug, _ []byte) error {
		slugsSeen[string(slug)] = true
		return nil
	})
	for slug := range want {
		slugsSeen[slug] = true
	}
	for slug := range slugsSeen {
		byTime, bySeq := 0, 0
		if b := ttime.Bucket([]byte(slug)); b != nil {
			_ = b.ForEach(func(k, _ []byte) error {
				byTime++
				if _, id := splitTimeKey(k); !want[slug][id] {
					report("topic %s's time index lists %s, which does not belong there", slug, id)
				}
				return nil
			})
		}
		if b := tseq.Bucket([]byte(slug)); b != nil {
			_ = b.ForEach(func(k, v []byte) error {
				bySeq++
				if !want[slug][string(v)] || all[string(v)].Seq != uint64At(k) {
					report("topic %s's seq index lists %s at %d, which does not belong there", slug, v, uint64At(k))
				}
				return nil
			})
		}
		count, _ := splitInfoValue(tinfo.Get([]byte(slug)))
		if byTime != len(want[slug]) || bySeq != len(want[slug]) || count != len(want[slug]) {
			report("topic %s: %d time entries, %d seq entries, counter %d; %d stories belong", slug, byTime, bySeq, count, len(want[slug]))
		}
	}

	tombs := 0
	_ = tx.Bucket(bucketTombstones).ForEach(func(k, v []byte) error {
		tombs++
		if _, ok := all[string(k)]; ok {
			report("story %s is stored and tombstoned", k)
		}
		return nil
	})
	byTime := 0
	_ = tx.Bucket(bucketTombTime).ForEach(func(k, _ []byte) error {
		byTime++
		if v := tx.Bucket(bucketTombstones).Get(k[8:]); v == nil || !bytes.Equal(v, k[:8]) {
			report("tombstone time entry for %s has no matching tombstone", k[8:])
		}
		return nil
	})
	if n := int(uint64At(meta.Get(metaTombstones))); n != tombs || byTime != tombs {
		report("tombstones: %d stored, %d by time, counter %d", tombs, byTime, n)
	}
	checkActivity(tx, all, report)
}
