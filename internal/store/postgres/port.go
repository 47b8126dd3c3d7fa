package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/newsdesk/newsdesk/internal/store"
	"github.com/newsdesk/newsdesk/internal/story"
)

var _ store.Porter = (*DB)(nil)

// Backup writes the whole store as a store export (store.WriteDump: JSON
// Lines, one record a line) from one snapshot, while the store stays in
// use. `newsdesk migrate-store --from FILE --to URL-or-PATH` restores it
// into either engine. pg_dump of newsdesk's tables (nd_*) is the other
// way, and the usual one for a database administrator.
func (db *DB) Backup(ctx context.Context, w io.Writer) error {
	if err := store.WriteDump(ctx, db, w); err != nil {
		return fmt.Errorf("backup %s: %w", db.url, err)
	}
	return nil
}

// Export calls yield with every record of one snapshot of the store, as
// store.Porter describes.
func (db *DB) Export(ctx context.Context, yield func(store.Record) error) error {
	tx, err := db.pool.BeginTx(ctx, snapshot)
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	var gen, seq, newest, allChanged, n int64
	err = tx.QueryRow(ctx, `SELECT gen, seq, newest_dated, all_changed, stories FROM nd_state WHERE id = 1`).
		Scan(&gen, &seq, &newest, &allChanged, &n)
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	h := &store.Header{Format: store.DumpFormat, Version: store.DumpVersion, Seq: uint64(seq), Stories: int(n)}
	if newest != 0 {
		h.NewestDated = time.Unix(0, newest).UTC()
	}
	if err := yield(store.Record{Header: h}); err != nil {
		return err
	}
	each := func(sql string, scan func(pgx.Rows) (store.Record, error), args ...any) error {
		rows, err := tx.Query(ctx, sql, args...)
		if err != nil {
			return fmt.Errorf("export: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			r, err := scan(rows)
			if err != nil {
				return fmt.Errorf("export: %w", err)
			}
			if err := yield(r); err != nil {
				return err
			}
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("export: %w", err)
		}
		return nil
	}
	err = each(`SELECT key, value FROM nd_meta ORDER BY key`, func(r pgx.Rows) (store.Record, error) {
		var k, v []byte
		err := r.Scan(&k, &v)
		return store.Record{Meta: &store.MetaEntry{Key: string(k), Value: string(v)}}, err
	})
	if err != nil {
		return err
	}
	err = each(`SELECT name, state FROM nd_sources ORDER BY name`, func(r pgx.Rows) (store.Record, error) {
		var name, v []byte
		if err := r.Scan(&name, &v); err != nil {
			return store.Record{}, err
		}
		e := &store.SourceEntry{Name: string(name)}
		err := json.Unmarshal(v, &e.State)
		return store.Record{Source: e}, err
	})
	if err != nil {
		return err
	}
	err = each(`SELECT id, pruned FROM nd_tombstones ORDER BY id`, func(r pgx.Rows) (store.Record, error) {
		var id []byte
		var at int64
		err := r.Scan(&id, &at)
		return store.Record{Tombstone: &store.Tombstone{ID: string(id), Pruned: time.Unix(0, at).UTC()}}, err
	})
	if err != nil {
		return err
	}
	if allChanged != 0 {
		if err := yield(store.Record{Topic: &store.TopicEntry{Changed: time.Unix(0, allChanged).UTC()}}); err != nil {
			return err
		}
	}
	err = each(`SELECT slug, changed FROM nd_topic_info WHERE gen = $1 AND changed <> 0 ORDER BY slug`, func(r pgx.Rows) (store.Record, error) {
		var slug []byte
		var at int64
		err := r.Scan(&slug, &at)
		return store.Record{Topic: &store.TopicEntry{Slug: string(slug), Changed: time.Unix(0, at).UTC()}}, err
	}, gen)
	if err != nil {
		return err
	}
	err = each(`SELECT s.body, t.own FROM nd_stories s LEFT JOIN nd_topics t ON t.gen = $1 AND t.seq = s.seq ORDER BY s.seq`,
		func(r pgx.Rows) (store.Record, error) {
			var body, own []byte
			if err := r.Scan(&body, &own); err != nil {
				return store.Record{}, err
			}
			var s story.Story
			if err := json.Unmarshal(body, &s); err != nil {
				return store.Record{}, err
			}
			s.Topics = splitSlugs(own)
			return store.Record{Story: &s}, nil
		}, gen)
	if err != nil {
		return err
	}
	return each(`SELECT key, id FROM nd_links ORDER BY key`, func(r pgx.Rows) (store.Record, error) {
		var key string
		var id []byte
		err := r.Scan(&key, &id)
		return store.Record{Link: &store.LinkEntry{Key: key, ID: string(id)}}, err
	})
}

// importBatch is how many stories one Import transaction writes.
const importBatch = 5000

// grouped is a representative whose index rows wait for its duplicates'
// own topics.
type grouped struct {
	s   story.Story
	own []string
}

// Import fills an empty store with an Export's records, as store.Porter
// describes, importBatch stories per transaction.
func (db *DB) Import(ctx context.Context, records iter.Seq2[store.Record, error]) error {
	db.mu.Lock()
	defer db.mu.Unlock()
	var empty bool
	if err := db.pool.QueryRow(ctx, `SELECT NOT EXISTS (SELECT 1 FROM nd_stories) AND NOT EXISTS (SELECT 1 FROM nd_sources)`).Scan(&empty); err != nil {
		return fmt.Errorf("import: %w", err)
	}
	if !empty {
		return fmt.Errorf("import: %s already holds stories or sources; import into an empty store", db.url)
	}
	im := &importer{db: db, changed: map[string]int64{}, counts: map[string]int64{},
		groups: []grouped{}, dupOwn: map[string][]string{}}
	first := true
	for r, err := range records {
		if err != nil {
			return fmt.Errorf("import: %w", err)
		}
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("import: %w", err)
		}
		if first {
			h, err := store.CheckHeader(r)
			if err != nil {
				return fmt.Errorf("import: %w", err)
			}
			im.header, first = h, false
			continue
		}
		if err := im.add(ctx, r); err != nil {
			return fmt.Errorf("import: %w", err)
		}
	}
	if first {
		return errors.New("import: empty record stream")
	}
	if err := im.finish(ctx); err != nil {
		return fmt.Errorf("import: %w", err)
	}
	return nil
}

// importer accumulates an Import's rows and writes them in batches.
type importer struct {
	db      *DB
	header  *store.Header
	pending *pgx.Batch
	n       int // rows queued in pending

	stories, tombs, all int64
	changed             map[string]int64 // slug → change time (nanos) from Topic records
	counts              map[string]int64 // slug → stories listed
	sourceCount         map[string]int64
	sourceDays          map[dayKey]int64
	groups              []grouped           // representatives with duplicates
	dupOwn              map[string][]string // duplicate id → own topics
}

func (im *importer) queue(sql string, args ...any) {
	if im.pending == nil {
		im.pending = &pgx.Batch{}
	}
	im.pending.Queue(sql, args...)
	im.n++
}

// flush writes what is queued in one transaction.
func (im *importer) flush(ctx context.Context) error {
	if im.pending == nil {
		return nil
	}
	b := im.pending
	im.pending, im.n = nil, 0
	return im.db.write(ctx, func(tx pgx.Tx, _ *state) error { return tx.SendBatch(ctx, b).Close() })
}

func (im *importer) add(ctx context.Context, r store.Record) error {
	switch {
	case r.Meta != nil:
		im.queue(`INSERT INTO nd_meta (key, value) VALUES ($1, $2)`, []byte(r.Meta.Key), []byte(r.Meta.Value))
	case r.Source != nil:
		v, err := json.Marshal(r.Source.State)
		if err != nil {
			return err
		}
		im.queue(putSourceSQL, []byte(r.Source.Name), v)
	case r.Tombstone != nil:
		im.tombs++
		im.queue(`INSERT INTO nd_tombstones (id, pruned) VALUES ($1, $2)`, []byte(r.Tombstone.ID), max(nanos(r.Tombstone.Pruned), 1))
	case r.Topic != nil:
		im.changed[r.Topic.Slug] = nanos(r.Topic.Changed)
	case r.Story != nil:
		if err := im.story(*r.Story); err != nil {
			return err
		}
	case r.Link != nil:
		im.queue(`INSERT INTO nd_links (hash, key, id) VALUES ($1, $2, $3) ON CONFLICT (hash) DO UPDATE SET id = excluded.id`,
			linkHash(r.Link.Key), r.Link.Key, []byte(r.Link.ID))
	default:
		return errors.New("a record with nothing in it")
	}
	if im.n >= importBatch {
		return im.flush(ctx)
	}
	return nil
}

func (im *importer) story(s story.Story) error {
	if err := store.CheckID(s.ID); err != nil {
		return fmt.Errorf("story %q: %w", truncate(s.ID, 40), err)
	}
	if s.Seq == 0 || s.Seq > im.header.Seq {
		return fmt.Errorf("story %s: Seq %d outside 1…%d", s.ID, s.Seq, im.header.Seq)
	}
	own := store.Slugs(s.Topics)
	s.Topics = nil
	body, err := encode(s)
	if err != nil {
		return err
	}
	im.stories++
	if im.sourceCount == nil {
		im.sourceCount, im.sourceDays = map[string]int64{}, map[dayKey]int64{}
	}
	im.sourceCount[s.Source]++
	im.sourceDays[dayKey{day(s.FirstSeen), s.Source}]++
	im.queue(`INSERT INTO nd_stories (id, seq, source, published, first_seen, dup_of, body) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		[]byte(s.ID), int64(s.Seq), []byte(s.Source), nanos(s.Published), nanos(s.FirstSeen), []byte(s.DuplicateOf), body)
	switch {
	case s.DuplicateOf != "":
		im.dupOwn[s.ID] = own
		im.topics(s.Seq, own, nil)
	case len(s.AlsoIn) > 0:
		im.groups = append(im.groups, grouped{s, own})
	default:
		im.listed(s, own, own)
	}
	return nil
}

// topics queues a story's topic row.
func (im *importer) topics(seq uint64, own, idx []string) {
	if len(own) == 0 && len(idx) == 0 {
		return
	}
	im.queue(`INSERT INTO nd_topics (gen, seq, own, idx) VALUES (`+activeGen+`, $1, $2, $3)`, int64(seq), joinSlugs(own), joinSlugs(idx))
}

// listed queues a representative's topic row and index rows.
func (im *importer) listed(s story.Story, own, idx []string) {
	im.all++
	im.topics(s.Seq, own, idx)
	for _, slug := range idx {
		im.counts[slug]++
		im.queue(`INSERT INTO nd_index (gen, slug, published, id, seq) VALUES (`+activeGen+`, $1, $2, $3, $4)`,
			[]byte(slug), nanos(s.Published), []byte(s.ID), int64(s.Seq))
	}
}

// finish lists the representatives of link groups, now that every
// duplicate's topics are known, and writes the counters.
func (im *importer) finish(ctx context.Context) error {
	if im.stories != int64(im.header.Stories) {
		return fmt.Errorf("the export says %d stories and holds %d: it was cut short", im.header.Stories, im.stories)
	}
	for _, g := range im.groups {
		lists := [][]string{g.own}
		for _, r := range g.s.AlsoIn {
			lists = append(lists, im.dupOwn[r.ID])
		}
		im.listed(g.s, g.own, store.Union(lists...))
	}
	for src, n := range im.sourceCount {
		im.queue(`INSERT INTO nd_source_count (source, n) VALUES ($1, $2)`, []byte(src), n)
	}
	for k, n := range im.sourceDays {
		im.queue(`INSERT INTO nd_source_days (day, source, n) VALUES ($1, $2, $3)`, k.day, []byte(k.source), n)
	}
	slugs := map[string]bool{}
	for slug := range im.counts {
		slugs[slug] = true
	}
	for slug := range im.changed {
		if slug != "" {
			slugs[slug] = true
		}
	}
	for slug := range slugs {
		im.queue(`INSERT INTO nd_topic_info (gen, slug, count, changed) VALUES (`+activeGen+`, $1, $2, $3)`,
			[]byte(slug), im.counts[slug], im.changed[slug])
	}
	newest := int64(0)
	if !im.header.NewestDated.IsZero() {
		newest = nanos(im.header.NewestDated)
	}
	im.queue(`UPDATE nd_state SET seq = $1, stories = $2, tombstones = $3, newest_dated = $4, all_count = $5,
	all_changed = $6, changes = changes + 1 WHERE id = 1`,
		int64(im.header.Seq), im.stories, im.tombs, newest, im.all, im.changed[""])
	return im.flush(ctx)
}
