package postgres

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/newsdesk/newsdesk/internal/store"
	"github.com/newsdesk/newsdesk/internal/story"
)

// writer is one write transaction's view of the rows it reads and writes:
// an overlay over the tables, read through on a miss, that records every
// change and writes them all at the end (flush) in a few statements. The
// write path (put.go, prune.go) reads like store/bolt's, bucket for table,
// and flush turns the changes into one multi-row statement per table, so a
// feed of a hundred stories costs a few round trips, not hundreds.
type writer struct {
	ctx context.Context
	tx  pgx.Tx
	st  *state
	gen int64 // the generation own/idx and the topic indexes are written in
	now time.Time

	stories map[string]*storyRow
	topics  map[uint64]*topicRow // by Seq, in gen
	index   map[indexKey]*indexRow
	links   map[string]*linkRow
	tombs   map[string]*tombRow

	sourceCount map[string]int64
	sourceDays  map[dayKey]int64

	delta      map[string]int // slug → change in index size
	allDelta   int
	allChanged bool
	newest     time.Time
	// infoFlush is false while Reclassify builds a generation: its counts
	// are written once, from the Tally, at the switch.
	infoFlush bool
}

type storyRow struct {
	orig, cur []byte // stored body, and the body to store; nil: no row
	s         story.Story
	seq       uint64
	source    string
	pub, seen int64
	dupOf     string
	dirty     bool
}

type topicRow struct {
	own, idx []string
	dirty    bool
}

type indexKey struct {
	slug string
	pub  int64
	id   string
}

type indexRow struct {
	seq     uint64
	present bool
}

type linkRow struct {
	key   string
	id    string // "" when no row
	dirty bool
}

type tombRow struct {
	pruned int64 // 0: none
	was    bool  // a row existed before this transaction
	dirty  bool
}

type dayKey struct {
	day    int64
	source string
}

func newWriter(ctx context.Context, tx pgx.Tx, st *state, gen int64, now time.Time) *writer {
	w := &writer{ctx: ctx, tx: tx, st: st, gen: gen, now: now.UTC(),
		stories: map[string]*storyRow{}, topics: map[uint64]*topicRow{}, index: map[indexKey]*indexRow{},
		links: map[string]*linkRow{}, tombs: map[string]*tombRow{},
		sourceCount: map[string]int64{}, sourceDays: map[dayKey]int64{}, delta: map[string]int{}, infoFlush: true}
	if st.newestDated != 0 {
		w.newest = time.Unix(0, st.newestDated).UTC()
	}
	return w
}

// nanos maps t onto the range UnixNano can represent, as bbolt's keys do,
// so both engines order the same times the same way.
func nanos(t time.Time) int64 {
	switch {
	case t.Before(time.Unix(0, 0)):
		return 0
	case t.After(time.Unix(0, math.MaxInt64)):
		return math.MaxInt64
	}
	return t.UnixNano()
}

// encode is the stored form of s: Topics left out (they live in the
// generation) and empty slices as nil, so equal stories encode to equal
// bytes and a body comparison is store.Equal.
func encode(s story.Story) ([]byte, error) {
	s.Topics = nil
	if len(s.Authors) == 0 {
		s.Authors = nil
	}
	if len(s.Categories) == 0 {
		s.Categories = nil
	}
	if len(s.Enclosures) == 0 {
		s.Enclosures = nil
	}
	if len(s.AlsoIn) == 0 {
		s.AlsoIn = nil
	}
	return json.Marshal(s)
}

func joinSlugs(s []string) []byte { return []byte(strings.Join(s, "\x00")) }

func splitSlugs(v []byte) []string {
	if len(v) == 0 {
		return nil
	}
	return strings.Split(string(v), "\x00")
}

// preload reads the rows a Put of these stories needs, in four queries:
// the stories, their topic rows, the holders of their link keys and their
// tombstones.
func (w *writer) preload(stories []story.Story) error {
	ids := make([][]byte, 0, len(stories))
	var hashes [][]byte
	var keys []string
	for _, s := range stories {
		ids = append(ids, []byte(s.ID))
		for _, k := range store.GroupKeys(s.Link) {
			hashes = append(hashes, linkHash(k))
			keys = append(keys, k)
		}
	}
	if err := w.loadStories(ids); err != nil {
		return err
	}
	for _, k := range keys {
		w.links[k] = &linkRow{key: k}
	}
	rows, err := w.tx.Query(w.ctx, `SELECT key, id FROM nd_links WHERE hash = ANY($1)`, hashes)
	if err != nil {
		return fmt.Errorf("read links: %w", err)
	}
	for rows.Next() {
		var k string
		var id []byte
		if err := rows.Scan(&k, &id); err != nil {
			return err
		}
		w.links[k] = &linkRow{key: k, id: string(id)}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read links: %w", err)
	}
	for _, id := range ids {
		w.tombs[string(id)] = &tombRow{}
	}
	rows, err = w.tx.Query(w.ctx, `SELECT id, pruned FROM nd_tombstones WHERE id = ANY($1)`, ids)
	if err != nil {
		return fmt.Errorf("read tombstones: %w", err)
	}
	for rows.Next() {
		var id []byte
		var at int64
		if err := rows.Scan(&id, &at); err != nil {
			return err
		}
		w.tombs[string(id)] = &tombRow{pruned: at, was: true}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read tombstones: %w", err)
	}
	return nil
}

// loadStories reads the stories with ids, and their topic rows, into the
// overlay; an id with no row is recorded as absent.
func (w *writer) loadStories(ids [][]byte) error {
	var want [][]byte
	for _, id := range ids {
		if _, ok := w.stories[string(id)]; !ok {
			want = append(want, id)
			w.stories[string(id)] = &storyRow{}
		}
	}
	if len(want) == 0 {
		return nil
	}
	rows, err := w.tx.Query(w.ctx, `SELECT s.id, s.body, t.own, t.idx FROM nd_stories s
LEFT JOIN nd_topics t ON t.gen = $2 AND t.seq = s.seq WHERE s.id = ANY($1)`, want, w.gen)
	if err != nil {
		return fmt.Errorf("read stories: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, body, own, idx []byte
		if err := rows.Scan(&id, &body, &own, &idx); err != nil {
			return fmt.Errorf("read stories: %w", err)
		}
		r, err := decodeRow(body)
		if err != nil {
			return fmt.Errorf("decode story %s: %w", id, err)
		}
		r.orig = body
		w.stories[string(id)] = r
		if _, ok := w.topics[r.seq]; !ok {
			w.topics[r.seq] = &topicRow{own: splitSlugs(own), idx: splitSlugs(idx)}
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read stories: %w", err)
	}
	return nil
}

func decodeRow(body []byte) (*storyRow, error) {
	var s story.Story
	if err := json.Unmarshal(body, &s); err != nil {
		return nil, err
	}
	return &storyRow{cur: body, s: s, seq: s.Seq, source: s.Source, pub: nanos(s.Published),
		seen: nanos(s.FirstSeen), dupOf: s.DuplicateOf}, nil
}

// load returns the story with id as this transaction sees it.
func (w *writer) load(id string) (story.Story, bool, error) {
	r, ok := w.stories[id]
	if !ok {
		if err := w.loadStories([][]byte{[]byte(id)}); err != nil {
			return story.Story{}, false, err
		}
		r = w.stories[id]
	}
	if r.cur == nil {
		return story.Story{}, false, nil
	}
	return r.s, true, nil
}

// body returns the stored form of the story with id as this transaction
// sees it; nil when none.
func (w *writer) body(id string) []byte {
	if r, ok := w.stories[id]; ok {
		return r.cur
	}
	return nil
}

// save stores s (its encoded form v when the caller has it).
func (w *writer) save(s story.Story, v []byte) error {
	if v == nil {
		var err error
		if v, err = encode(s); err != nil {
			return fmt.Errorf("encode story %s: %w", s.ID, err)
		}
	}
	r := w.stories[s.ID]
	if r == nil {
		r = &storyRow{}
		w.stories[s.ID] = r
	}
	orig := r.orig
	*r = storyRow{orig: orig, cur: v, s: s, seq: s.Seq, source: s.Source, pub: nanos(s.Published),
		seen: nanos(s.FirstSeen), dupOf: s.DuplicateOf, dirty: true}
	r.s.Topics = nil
	return nil
}

func (w *writer) deleteStory(id string) {
	r := w.stories[id]
	if r == nil {
		r = &storyRow{}
		w.stories[id] = r
	}
	r.cur, r.dirty = nil, true
}

// topicsOf returns the topic row of seq in w.gen, reading it on a miss.
func (w *writer) topicsOf(seq uint64) (*topicRow, error) {
	if r, ok := w.topics[seq]; ok {
		return r, nil
	}
	r := &topicRow{}
	var own, idx []byte
	err := w.tx.QueryRow(w.ctx, `SELECT own, idx FROM nd_topics WHERE gen = $1 AND seq = $2`, w.gen, int64(seq)).Scan(&own, &idx)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("read topics of %d: %w", seq, err)
	}
	r.own, r.idx = splitSlugs(own), splitSlugs(idx)
	w.topics[seq] = r
	return r, nil
}

func (w *writer) own(seq uint64) ([]string, error) {
	r, err := w.topicsOf(seq)
	if err != nil {
		return nil, err
	}
	return r.own, nil
}

func (w *writer) setOwn(seq uint64, own []string) error {
	r, err := w.topicsOf(seq)
	if err != nil {
		return err
	}
	r.own, r.dirty = slices.Clone(own), true
	return nil
}

func (w *writer) idx(seq uint64) ([]string, error) {
	r, err := w.topicsOf(seq)
	if err != nil {
		return nil, err
	}
	return r.idx, nil
}

func (w *writer) setIdx(seq uint64, idx []string) error {
	r, err := w.topicsOf(seq)
	if err != nil {
		return err
	}
	r.idx, r.dirty = slices.Clone(idx), true
	return nil
}

// linkHash is nd_links' key: a link key may be longer than a B-tree entry
// can be.
func linkHash(key string) []byte {
	h := sha256.Sum256([]byte(key))
	return h[:]
}

// link returns the id of the story holding key; "" when none.
func (w *writer) link(key string) (string, error) {
	if r, ok := w.links[key]; ok {
		return r.id, nil
	}
	var id []byte
	err := w.tx.QueryRow(w.ctx, `SELECT id FROM nd_links WHERE hash = $1`, linkHash(key)).Scan(&id)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return "", fmt.Errorf("read link: %w", err)
	}
	w.links[key] = &linkRow{key: key, id: string(id)}
	return string(id), nil
}

func (w *writer) setLink(key, id string) {
	w.links[key] = &linkRow{key: key, id: id, dirty: true}
}

// tomb reports whether id is tombstoned.
func (w *writer) tomb(id string) (bool, error) {
	if r, ok := w.tombs[id]; ok {
		return r.pruned != 0, nil
	}
	var at int64
	err := w.tx.QueryRow(w.ctx, `SELECT pruned FROM nd_tombstones WHERE id = $1`, []byte(id)).Scan(&at)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return false, fmt.Errorf("read tombstone: %w", err)
	}
	w.tombs[id] = &tombRow{pruned: at, was: err == nil}
	return err == nil, nil
}

// tombstone marks id pruned at w.now.
func (w *writer) tombstone(id string) error {
	had, err := w.tomb(id)
	if err != nil {
		return err
	}
	if !had {
		w.st.tombstones++
	}
	r := w.tombs[id]
	r.pruned, r.dirty = max(nanos(w.now), 1), true
	return nil
}

// day numbers the UTC day t falls on, from 1970-01-01 (earlier: day 0).
func day(t time.Time) int64 {
	if t.Before(time.Unix(0, 0)) {
		return 0
	}
	return t.Unix() / 86400
}

// countStory adds delta to the Activity counters of s's source.
func (w *writer) countStory(s story.Story, delta int64) {
	w.sourceCount[s.Source] += delta
	w.sourceDays[dayKey{day(s.FirstSeen), s.Source}] += delta
}

// dated notes s's Published when it is an upstream date.
func (w *writer) dated(s story.Story) {
	if !s.Undated && s.Published.After(w.newest) {
		w.newest = s.Published
	}
}

// flush writes every change the transaction made: one statement per table
// and kind, and the state row. It returns the slugs whose feeds changed,
// sorted.
func (w *writer) flush() ([]string, error) {
	b := &pgx.Batch{}
	w.flushStories(b)
	w.flushTopics(b)
	w.flushIndex(b)
	w.flushLinks(b)
	w.flushTombs(b)
	w.flushCounts(b)

	changed := make([]string, 0, len(w.delta))
	for slug := range w.delta {
		changed = append(changed, slug)
	}
	slices.Sort(changed)
	if w.infoFlush && len(changed) > 0 {
		slugs := make([][]byte, len(changed))
		deltas := make([]int64, len(changed))
		for i, slug := range changed {
			slugs[i], deltas[i] = []byte(slug), int64(w.delta[slug])
		}
		b.Queue(`INSERT INTO nd_topic_info (gen, slug, count, changed)
SELECT $1, * , $4 FROM unnest($2::BYTEA[], $3::BIGINT[])
ON CONFLICT (gen, slug) DO UPDATE SET count = nd_topic_info.count + excluded.count, changed = excluded.changed`,
			w.gen, slugs, deltas, nanos(w.now))
		b.Queue(`UPDATE nd_topic_info SET count = 0 WHERE gen = $1 AND slug = ANY($2) AND count < 0`, w.gen, slugs)
	}
	if w.infoFlush && (w.allChanged || w.allDelta != 0) {
		w.st.allCount = max(w.st.allCount+int64(w.allDelta), 0)
		w.st.allChanged = nanos(w.now)
	}
	if nanos(w.newest) != w.st.newestDated && !w.newest.IsZero() {
		w.st.newestDated = nanos(w.newest)
	}
	var bump []string
	if w.infoFlush {
		bump = slices.Clone(changed)
		if w.allChanged || w.allDelta != 0 {
			bump = append(bump, "")
		}
	}
	if len(bump) > 0 {
		w.st.changes++
		queueChanges(b, bump, w.st.changes)
	}
	b.Queue(`UPDATE nd_state SET seq = $1, stories = $2, tombstones = $3, newest_dated = $4,
	all_count = $5, all_changed = $6, changes = $7 WHERE id = 1`,
		w.st.seq, w.st.stories, w.st.tombstones, w.st.newestDated, w.st.allCount, w.st.allChanged, w.st.changes)
	if err := w.tx.SendBatch(w.ctx, b).Close(); err != nil {
		return nil, fmt.Errorf("write: %w", err)
	}
	return changed, nil
}

// queueChanges records that slugs changed at version v of the change
// counter.
func queueChanges(b *pgx.Batch, slugs []string, v int64) {
	bs := make([][]byte, len(slugs))
	for i, s := range slugs {
		bs[i] = []byte(s)
	}
	b.Queue(`INSERT INTO nd_changes (slug, version) SELECT u.slug, $2 FROM unnest($1::BYTEA[]) AS u(slug)
ON CONFLICT (slug) DO UPDATE SET version = excluded.version`, bs, v)
}

func (w *writer) flushStories(b *pgx.Batch) {
	var del [][]byte
	var ids, sources, dups, bodies [][]byte
	var seqs, pubs, seens []int64
	for id, r := range w.stories {
		if !r.dirty {
			continue
		}
		if r.cur == nil {
			if r.orig != nil {
				del = append(del, []byte(id))
			}
			continue
		}
		ids = append(ids, []byte(id))
		seqs = append(seqs, int64(r.seq))
		sources = append(sources, []byte(r.source))
		pubs = append(pubs, r.pub)
		seens = append(seens, r.seen)
		dups = append(dups, []byte(r.dupOf))
		bodies = append(bodies, r.cur)
	}
	if len(del) > 0 {
		b.Queue(`DELETE FROM nd_stories WHERE id = ANY($1)`, del)
	}
	if len(ids) > 0 {
		b.Queue(`INSERT INTO nd_stories (id, seq, source, published, first_seen, dup_of, body)
SELECT * FROM unnest($1::BYTEA[], $2::BIGINT[], $3::BYTEA[], $4::BIGINT[], $5::BIGINT[], $6::BYTEA[], $7::BYTEA[])
ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, source = excluded.source, published = excluded.published,
	first_seen = excluded.first_seen, dup_of = excluded.dup_of, body = excluded.body`,
			ids, seqs, sources, pubs, seens, dups, bodies)
	}
}

func (w *writer) flushTopics(b *pgx.Batch) {
	var del, seqs []int64
	var owns, idxs [][]byte
	for seq, r := range w.topics {
		if !r.dirty {
			continue
		}
		if len(r.own) == 0 && len(r.idx) == 0 {
			del = append(del, int64(seq))
			continue
		}
		seqs = append(seqs, int64(seq))
		owns = append(owns, joinSlugs(r.own))
		idxs = append(idxs, joinSlugs(r.idx))
	}
	if len(del) > 0 {
		b.Queue(`DELETE FROM nd_topics WHERE gen = $1 AND seq = ANY($2)`, w.gen, del)
	}
	if len(seqs) > 0 {
		b.Queue(`INSERT INTO nd_topics (gen, seq, own, idx)
SELECT $1, * FROM unnest($2::BIGINT[], $3::BYTEA[], $4::BYTEA[])
ON CONFLICT (gen, seq) DO UPDATE SET own = excluded.own, idx = excluded.idx`, w.gen, seqs, owns, idxs)
	}
}

func (w *writer) flushIndex(b *pgx.Batch) {
	var dslugs, dids, slugs, ids [][]byte
	var dpubs, pubs, seqs []int64
	for k, r := range w.index {
		if r.present {
			slugs, pubs, ids, seqs = append(slugs, []byte(k.slug)), append(pubs, k.pub), append(ids, []byte(k.id)), append(seqs, int64(r.seq))
		} else {
			dslugs, dpubs, dids = append(dslugs, []byte(k.slug)), append(dpubs, k.pub), append(dids, []byte(k.id))
		}
	}
	if len(dslugs) > 0 {
		b.Queue(`DELETE FROM nd_index WHERE gen = $1 AND (slug, published, id) IN
	(SELECT * FROM unnest($2::BYTEA[], $3::BIGINT[], $4::BYTEA[]))`, w.gen, dslugs, dpubs, dids)
	}
	if len(slugs) > 0 {
		b.Queue(`INSERT INTO nd_index (gen, slug, published, id, seq)
SELECT $1, * FROM unnest($2::BYTEA[], $3::BIGINT[], $4::BYTEA[], $5::BIGINT[])
ON CONFLICT (gen, slug, published, id) DO UPDATE SET seq = excluded.seq`, w.gen, slugs, pubs, ids, seqs)
	}
}

func (w *writer) flushLinks(b *pgx.Batch) {
	var del, hashes, ids [][]byte
	var keys []string
	for _, r := range w.links {
		if !r.dirty {
			continue
		}
		if r.id == "" {
			del = append(del, linkHash(r.key))
			continue
		}
		hashes, keys, ids = append(hashes, linkHash(r.key)), append(keys, r.key), append(ids, []byte(r.id))
	}
	if len(del) > 0 {
		b.Queue(`DELETE FROM nd_links WHERE hash = ANY($1)`, del)
	}
	if len(hashes) > 0 {
		b.Queue(`INSERT INTO nd_links (hash, key, id) SELECT * FROM unnest($1::BYTEA[], $2::TEXT[], $3::BYTEA[])
ON CONFLICT (hash) DO UPDATE SET id = excluded.id`, hashes, keys, ids)
	}
}

func (w *writer) flushTombs(b *pgx.Batch) {
	var ids [][]byte
	var ats []int64
	for id, r := range w.tombs {
		if r.dirty && r.pruned != 0 {
			ids, ats = append(ids, []byte(id)), append(ats, r.pruned)
		}
	}
	if len(ids) > 0 {
		b.Queue(`INSERT INTO nd_tombstones (id, pruned) SELECT * FROM unnest($1::BYTEA[], $2::BIGINT[])
ON CONFLICT (id) DO UPDATE SET pruned = excluded.pruned`, ids, ats)
	}
}

func (w *writer) flushCounts(b *pgx.Batch) {
	var srcs [][]byte
	var ns []int64
	for src, n := range w.sourceCount {
		if n != 0 {
			srcs, ns = append(srcs, []byte(src)), append(ns, n)
		}
	}
	if len(srcs) > 0 {
		b.Queue(`INSERT INTO nd_source_count (source, n) SELECT * FROM unnest($1::BYTEA[], $2::BIGINT[])
ON CONFLICT (source) DO UPDATE SET n = nd_source_count.n + excluded.n`, srcs, ns)
		b.Queue(`DELETE FROM nd_source_count WHERE source = ANY($1) AND n <= 0`, srcs)
	}
	var days []int64
	var dsrcs [][]byte
	var dns []int64
	for k, n := range w.sourceDays {
		if n != 0 {
			days, dsrcs, dns = append(days, k.day), append(dsrcs, []byte(k.source)), append(dns, n)
		}
	}
	if len(days) > 0 {
		b.Queue(`INSERT INTO nd_source_days (day, source, n) SELECT * FROM unnest($1::BIGINT[], $2::BYTEA[], $3::BIGINT[])
ON CONFLICT (day, source) DO UPDATE SET n = nd_source_days.n + excluded.n`, days, dsrcs, dns)
		b.Queue(`DELETE FROM nd_source_days WHERE (day, source) IN (SELECT * FROM unnest($1::BIGINT[], $2::BYTEA[])) AND n <= 0`, days, dsrcs)
	}
}
