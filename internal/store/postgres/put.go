package postgres

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/newsdesk/newsdesk/internal/store"
	"github.com/newsdesk/newsdesk/internal/story"
)

// Put stores the stories of one fetched feed, with the source's state, in
// one transaction, as store.Store's Put describes.
func (db *DB) Put(ctx context.Context, source string, st store.SourceState, stories []story.Story, now time.Time) (store.PutResult, error) {
	if err := ctx.Err(); err != nil {
		return store.PutResult{}, fmt.Errorf("put %s: %w", source, err)
	}
	if source == "" {
		return store.PutResult{}, errors.New("put: empty source name")
	}
	for i, s := range stories {
		if err := store.CheckID(s.ID); err != nil {
			return store.PutResult{}, fmt.Errorf("put %s: story %d (%q): %w", source, i, truncate(s.Title, 40), err)
		}
	}
	stateJSON, err := json.Marshal(st)
	if err != nil {
		return store.PutResult{}, fmt.Errorf("put %s: %w", source, err)
	}
	db.mu.RLock()
	defer db.mu.RUnlock()
	var res store.PutResult
	err = db.write(ctx, func(tx pgx.Tx, state *state) error {
		res = store.PutResult{}
		backlog, err := firstFetch(ctx, tx, source)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, putSourceSQL, []byte(source), stateJSON); err != nil {
			return fmt.Errorf("write source: %w", err)
		}
		w := newWriter(ctx, tx, state, state.gen, now)
		if err := w.preload(stories); err != nil {
			return err
		}
		estimates := store.Estimates(stories, now, backlog, w.newest)
		for i := range stories {
			if gone, err := w.tomb(stories[i].ID); err != nil {
				return err
			} else if gone {
				res.Skipped++
				continue
			}
			if err := w.put(stories[i], estimates[i], &res); err != nil {
				return fmt.Errorf("story %s: %w", stories[i].ID, err)
			}
		}
		res.Topics, err = w.flush()
		return err
	})
	if err != nil {
		return store.PutResult{}, fmt.Errorf("put %s: %w", source, err)
	}
	return res, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

const putSourceSQL = `INSERT INTO nd_sources (name, state) VALUES ($1, $2)
ON CONFLICT (name) DO UPDATE SET state = excluded.state`

// firstFetch reports whether source has never been fetched successfully
// before: its stories are a backlog of unknown age (see store.Estimates).
func firstFetch(ctx context.Context, tx pgx.Tx, source string) (bool, error) {
	var v []byte
	err := tx.QueryRow(ctx, `SELECT state FROM nd_sources WHERE name = $1`, []byte(source)).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("read source %s: %w", source, err)
	}
	var prev store.SourceState
	if err := json.Unmarshal(v, &prev); err != nil {
		return false, fmt.Errorf("read source %s: %w", source, err)
	}
	return prev.LastSuccess.IsZero(), nil
}

// put stores one story and counts it in res; estimate is its Published if
// it is new and undated.
func (w *writer) put(in story.Story, estimate time.Time, res *store.PutResult) error {
	own := store.Slugs(in.Topics)
	old, exists, err := w.load(in.ID)
	if err != nil {
		return err
	}
	if !exists {
		res.New++
		return w.insert(store.Admit(in, w.now, estimate), own)
	}

	s := store.Merge(old, in, w.now)
	w.dated(s)
	v, err := encode(s)
	if err != nil {
		return fmt.Errorf("encode: %w", err)
	}
	changed := !bytes.Equal(v, w.body(s.ID))
	if changed {
		res.Updated++
		if err := w.save(s, v); err != nil {
			return err
		}
		if old.Source != s.Source {
			w.countStory(old, -1)
			w.countStory(s, 1)
		}
	} else {
		res.Unchanged++
	}
	stored, err := w.own(s.Seq)
	if err != nil {
		return err
	}
	ownChanged := !slices.Equal(own, stored)
	if ownChanged {
		if err := w.setOwn(s.Seq, own); err != nil {
			return err
		}
	}

	if s.DuplicateOf != "" {
		// A duplicate's topics are indexed on its representative; its
		// content is not what that story's feeds show, unless it now makes
		// the better copy.
		if !ownChanged && !changed {
			return nil
		}
		f, ok, err := w.load(s.DuplicateOf)
		if err != nil || !ok {
			return err
		}
		if !changed {
			return w.refresh(f, false)
		}
		return w.regroup(f, false)
	}

	if changed {
		if err := w.relink(old, s); err != nil {
			return err
		}
		w.allChanged = true
	}
	members, err := w.members(s)
	if err != nil {
		return err
	}
	oldMembers, err := w.idx(s.Seq)
	if err != nil {
		return err
	}
	if err := w.reindex(s.ID, entry{oldMembers, old.Published, old.Seq}, entry{members, s.Published, s.Seq}); err != nil {
		return err
	}
	if changed {
		w.touch(members)
		if len(s.AlsoIn) > 0 {
			return w.regroup(s, true) // the new content may make another copy the better one
		}
	}
	return nil
}

// insert stores s, a story the store has never seen, as store.Admit made it.
func (w *writer) insert(s story.Story, own []string) error {
	w.st.seq++
	s.Seq = uint64(w.st.seq)
	w.dated(s)
	rep, err := w.claimLink(s)
	if err != nil {
		return err
	}
	if rep != nil {
		// A duplicate until regroup says otherwise, which needs it stored.
		s.DuplicateOf = rep.ID
	}
	w.topics[s.Seq] = &topicRow{} // a new Seq has no row yet
	if err := w.save(s, nil); err != nil {
		return err
	}
	w.countStory(s, 1)
	w.st.stories++
	if err := w.setOwn(s.Seq, own); err != nil {
		return err
	}
	if rep != nil {
		// The group gained a member: what its feeds show changed (AlsoIn),
		// and s may be the better copy.
		return w.regroup(*rep, true, s)
	}
	w.allDelta++
	members, err := w.members(s)
	if err != nil {
		return err
	}
	return w.reindex(s.ID, entry{}, entry{members, s.Published, s.Seq})
}

// claimLink records s as the holder of its link keys that no group holds,
// or returns the representative of the link group s joins as a duplicate.
func (w *writer) claimLink(s story.Story) (*story.Story, error) {
	keys := store.GroupKeys(s.Link)
	for _, key := range keys {
		id, err := w.link(key)
		if err != nil {
			return nil, err
		}
		if id == "" {
			continue
		}
		f, ok, err := w.load(id)
		if err != nil {
			return nil, err
		}
		if !ok || f.DuplicateOf != "" {
			continue // a stale claim: free to take below
		}
		if store.Joins(f, s) {
			return &f, nil
		}
		break // a story of its own (one source's second entry, another post of the page)
	}
	return nil, w.claim(s.ID, keys)
}

// claim makes id the holder of every key in keys that no live
// representative holds.
func (w *writer) claim(id string, keys []string) error {
	for _, key := range keys {
		held, err := w.link(key)
		if err != nil {
			return err
		}
		if held != "" && held != id {
			if f, ok, err := w.load(held); err != nil {
				return err
			} else if ok && f.DuplicateOf == "" {
				continue
			}
		}
		w.setLink(key, id)
	}
	return nil
}

// release gives up the keys in keys that id holds.
func (w *writer) release(id string, keys []string) error {
	for _, key := range keys {
		held, err := w.link(key)
		if err != nil {
			return err
		}
		if held == id {
			w.setLink(key, "")
		}
	}
	return nil
}

// relink moves a representative's claims when its Link changed.
func (w *writer) relink(old, s story.Story) error {
	if old.Link == s.Link {
		return nil
	}
	keep := store.GroupKeys(s.Link)
	var gone []string
	for _, key := range store.GroupKeys(old.Link) {
		if !slices.Contains(keep, key) {
			gone = append(gone, key)
		}
	}
	if err := w.release(s.ID, gone); err != nil {
		return err
	}
	return w.claim(s.ID, keep)
}

// regroup applies store.Regroup to the link group that rep represents, with
// joining added, stores every member whose role changed and, when another
// member wins, moves the representative's place in the indexes to it.
func (w *writer) regroup(rep story.Story, contentChanged bool, joining ...story.Story) error {
	members := []story.Story{rep}
	for _, r := range rep.AlsoIn {
		d, ok, err := w.load(r.ID)
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
		if bytes.Equal(v, w.body(m.ID)) {
			continue
		}
		if err := w.save(m, v); err != nil {
			return err
		}
		if i == 0 {
			contentChanged = true
		}
	}
	if best := roles[0]; best.ID != rep.ID {
		return w.swap(rep, best)
	}
	return w.refresh(roles[0], contentChanged)
}

// swap moves what a representative holds from a, the group's old
// representative, to b, its new one: the link claims and the topic index
// entries (the all-stories indexes follow dup_of on their own).
func (w *writer) swap(a, b story.Story) error {
	aIdx, err := w.idx(a.Seq)
	if err != nil {
		return err
	}
	for _, key := range append(store.GroupKeys(a.Link), store.GroupKeys(b.Link)...) {
		held, err := w.link(key)
		if err != nil {
			return err
		}
		if held == a.ID {
			w.setLink(key, b.ID)
		}
	}
	if err := w.claim(b.ID, store.GroupKeys(b.Link)); err != nil {
		return err
	}
	w.allChanged = true
	if err := w.reindex(a.ID, entry{aIdx, a.Published, a.Seq}, entry{}); err != nil {
		return err
	}
	members, err := w.members(b)
	if err != nil {
		return err
	}
	if err := w.reindex(b.ID, entry{}, entry{members, b.Published, b.Seq}); err != nil {
		return err
	}
	w.touch(members)
	return nil
}

// members is what a story that is not a duplicate is indexed under: its own
// topics and those of every duplicate in its link group.
func (w *writer) members(s story.Story) ([]string, error) {
	own, err := w.own(s.Seq)
	if err != nil {
		return nil, err
	}
	lists := [][]string{own}
	for _, r := range s.AlsoIn {
		d, ok, err := w.load(r.ID)
		if err != nil {
			return nil, err
		}
		if ok {
			o, err := w.own(d.Seq)
			if err != nil {
				return nil, err
			}
			lists = append(lists, o)
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

// reindex moves story id's topic index rows from old to new, touching only
// the rows that differ, and records the story's new slugs.
func (w *writer) reindex(id string, old, new entry) error {
	moved := nanos(old.pub) != nanos(new.pub) || old.seq != new.seq
	for _, slug := range old.slugs {
		if moved || !slices.Contains(new.slugs, slug) {
			w.unindex(slug, id, old.pub)
		}
	}
	for _, slug := range new.slugs {
		if moved || !slices.Contains(old.slugs, slug) {
			w.indexAt(slug, id, new.pub, new.seq)
		}
	}
	if slices.Equal(old.slugs, new.slugs) && !moved {
		return nil
	}
	return w.setIdx(max(old.seq, new.seq), new.slugs)
}

func (w *writer) indexAt(slug, id string, pub time.Time, seq uint64) {
	w.index[indexKey{slug, nanos(pub), id}] = &indexRow{seq: seq, present: true}
	w.delta[slug]++
}

func (w *writer) unindex(slug, id string, pub time.Time) {
	w.index[indexKey{slug, nanos(pub), id}] = &indexRow{}
	w.delta[slug]--
}

// touch marks topics whose feeds changed without their index changing.
func (w *writer) touch(slugs []string) {
	for _, slug := range slugs {
		w.delta[slug] += 0
	}
}

// refresh recomputes representative f's topic membership after its own or
// a duplicate's topics changed, and marks its feeds changed when content
// says so.
func (w *writer) refresh(f story.Story, contentChanged bool) error {
	old, err := w.idx(f.Seq)
	if err != nil {
		return err
	}
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

// PutSource replaces the state of source alone.
func (db *DB) PutSource(ctx context.Context, source string, st store.SourceState) error {
	if source == "" {
		return errors.New("put source: empty source name")
	}
	v, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("put source %s: %w", source, err)
	}
	db.mu.RLock()
	defer db.mu.RUnlock()
	err = db.write(ctx, func(tx pgx.Tx, _ *state) error {
		_, err := tx.Exec(ctx, putSourceSQL, []byte(source), v)
		return err
	})
	if err != nil {
		return fmt.Errorf("put source %s: %w", source, err)
	}
	return nil
}

// Source returns the state of source; the zero state when none is stored.
func (db *DB) Source(ctx context.Context, source string) (store.SourceState, error) {
	var v []byte
	err := db.pool.QueryRow(ctx, `SELECT state FROM nd_sources WHERE name = $1`, []byte(source)).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.SourceState{}, nil
	}
	var st store.SourceState
	if err == nil {
		err = json.Unmarshal(v, &st)
	}
	if err != nil {
		return store.SourceState{}, fmt.Errorf("read source %s: %w", source, err)
	}
	return st, nil
}

// Sources returns every source's state, by name.
func (db *DB) Sources(ctx context.Context) (map[string]store.SourceState, error) {
	rows, err := db.pool.Query(ctx, `SELECT name, state FROM nd_sources`)
	if err != nil {
		return nil, fmt.Errorf("read sources: %w", err)
	}
	defer rows.Close()
	out := map[string]store.SourceState{}
	for rows.Next() {
		var name, v []byte
		if err := rows.Scan(&name, &v); err != nil {
			return nil, fmt.Errorf("read sources: %w", err)
		}
		var st store.SourceState
		if err := json.Unmarshal(v, &st); err != nil {
			return nil, fmt.Errorf("read sources: source %s: %w", name, err)
		}
		out[string(name)] = st
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read sources: %w", err)
	}
	return out, nil
}
