package bolt

import (
	"fmt"

	"github.com/newsdesk/newsdesk/internal/store"
	"github.com/newsdesk/newsdesk/internal/story"
)

// regroup applies store.Regroup to the link group that rep represents, with
// joining (new members already stored as provisional duplicates of rep)
// added: it stores every member whose role changed and, when another member
// wins, moves the representative's place in the indexes to it.
// contentChanged says whether what the group's feeds show changed when rep
// stays.
func (w *writer) regroup(rep story.Story, contentChanged bool, joining ...story.Story) error {
	members := []story.Story{rep}
	for _, r := range rep.AlsoIn {
		d, ok, err := w.load(r.ID) // rare: only stories other sources also carried
		if err != nil {
			return err
		}
		if ok {
			members = append(members, d)
		}
	}
	members = append(members, joining...)
	roles := store.Regroup(members, w.now)
	for i, m := range roles {
		v, err := encode(m)
		if err != nil {
			return fmt.Errorf("encode story %s: %w", m.ID, err)
		}
		if same, err := w.stored(m.ID, v); err != nil {
			return err
		} else if same {
			continue
		}
		if err := w.stories.Put([]byte(m.ID), v); err != nil {
			return err
		}
		if i == 0 {
			contentChanged = true // what the group's feeds show (merged fields, roles)
		}
	}
	if best := roles[0]; best.ID != rep.ID {
		return w.swap(rep, best)
	}
	return w.refresh(roles[0], contentChanged)
}

// swap moves what a representative holds from a, the group's old
// representative, to b, its new one (both as regroup stored them): the link
// claim, the all-stories index entry, the Seq index flag and the topic
// index entries.
func (w *writer) swap(a, b story.Story) error {
	aIdx := splitSlugs(w.idx.Get(be64(a.Seq)))
	for _, key := range append(store.GroupKeys(a.Link), store.GroupKeys(b.Link)...) {
		if string(w.links.Get([]byte(key))) == a.ID {
			if err := w.links.Put([]byte(key), []byte(b.ID)); err != nil {
				return err
			}
		}
	}
	if err := w.claim(b.ID, store.GroupKeys(b.Link)); err != nil {
		return err
	}
	if err := w.time.Delete(timeKey(a.Published, a.ID)); err != nil {
		return err
	}
	if err := w.time.Put(timeKey(b.Published, b.ID), nil); err != nil {
		return err
	}
	w.allChanged = true
	if err := w.seq.Put(be64(a.Seq), seqValue(a.FirstSeen, w.seqFlags(a.Seq)|seqDup, a.ID)); err != nil {
		return err
	}
	if err := w.seq.Put(be64(b.Seq), seqValue(b.FirstSeen, w.seqFlags(b.Seq)&^seqDup, b.ID)); err != nil {
		return err
	}

	if err := w.reindex(a.ID, entry{aIdx, a.Published, a.Seq}, entry{}); err != nil {
		return err
	}
	members, err := w.members(b) // b's own topics, a's and the other duplicates'
	if err != nil {
		return err
	}
	if err := w.reindex(b.ID, entry{}, entry{members, b.Published, b.Seq}); err != nil {
		return err
	}
	w.touch(members)
	return nil
}

// seqFlags returns the flags in the Seq index entry of the story with seq.
func (w *writer) seqFlags(seq uint64) byte {
	v := w.seq.Get(be64(seq))
	if len(v) < 9 {
		return 0
	}
	return v[8]
}
