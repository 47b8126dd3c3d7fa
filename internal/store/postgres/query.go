package postgres

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/newsdesk/newsdesk/internal/store"
	"github.com/newsdesk/newsdesk/internal/story"
)

// Every read is one statement, so it sees one snapshot: the active
// generation (nd_state.gen, read in a sub-select) and the rows of that
// generation together. A Reclassify's switch is one UPDATE of nd_state, so
// a reader sees the old generation whole or the new one whole.
const activeGen = `(SELECT gen FROM nd_state WHERE id = 1)`

// scanStory decodes a row of (body, own, idx) as readers get it: Listed,
// with Topics filled (a representative's union, a duplicate's own).
func scanStory(row pgx.Row, extra ...any) (story.Story, error) {
	var body, own, idx []byte
	if err := row.Scan(append([]any{&body, &own, &idx}, extra...)...); err != nil {
		return story.Story{}, err
	}
	var s story.Story
	if err := json.Unmarshal(body, &s); err != nil {
		return story.Story{}, fmt.Errorf("decode story: %w", err)
	}
	s = store.Listed(s)
	if s.DuplicateOf == "" {
		s.Topics = splitSlugs(idx)
	} else {
		s.Topics = splitSlugs(own)
	}
	return s, nil
}

// Get returns the story with id, or an error wrapping store.ErrNotFound.
func (db *DB) Get(ctx context.Context, id string) (story.Story, error) {
	row := db.pool.QueryRow(ctx, `SELECT s.body, t.own, t.idx FROM nd_stories s
LEFT JOIN nd_topics t ON t.gen = `+activeGen+` AND t.seq = s.seq WHERE s.id = $1`, []byte(id))
	s, err := scanStory(row)
	if errors.Is(err, pgx.ErrNoRows) {
		err = store.ErrNotFound
	}
	if err != nil {
		return story.Story{}, fmt.Errorf("get %s: %w", id, err)
	}
	return s, nil
}

// The Recent statements walk an index back from the cursor: the topic
// index's primary key (gen, slug, published, id), or the partial index
// nd_stories_time for all stories. A row-value comparison bounds the walk,
// so the scan starts at the cursor instead of filtering from the top.
const (
	recentTopic = `SELECT s.body, t.own, t.idx, i.published, i.id FROM nd_index i
JOIN nd_stories s ON s.id = i.id
LEFT JOIN nd_topics t ON t.gen = i.gen AND t.seq = s.seq
WHERE i.gen = ` + activeGen + ` AND i.slug = $1 AND (i.published, i.id) < ($2, $3) AND i.published >= $4 AND s.dup_of = ''
ORDER BY i.published DESC, i.id DESC LIMIT $5`
	recentTopicTop = `SELECT s.body, t.own, t.idx, i.published, i.id FROM nd_index i
JOIN nd_stories s ON s.id = i.id
LEFT JOIN nd_topics t ON t.gen = i.gen AND t.seq = s.seq
WHERE i.gen = ` + activeGen + ` AND i.slug = $1 AND i.published >= $2 AND s.dup_of = ''
ORDER BY i.published DESC, i.id DESC LIMIT $3`
	recentAll = `SELECT s.body, t.own, t.idx, s.published, s.id FROM nd_stories s
LEFT JOIN nd_topics t ON t.gen = ` + activeGen + ` AND t.seq = s.seq
WHERE s.dup_of = '' AND (s.published, s.id) < ($1, $2) AND s.published >= $3
ORDER BY s.published DESC, s.id DESC LIMIT $4`
	recentAllTop = `SELECT s.body, t.own, t.idx, s.published, s.id FROM nd_stories s
LEFT JOIN nd_topics t ON t.gen = ` + activeGen + ` AND t.seq = s.seq
WHERE s.dup_of = '' AND s.published >= $1
ORDER BY s.published DESC, s.id DESC LIMIT $2`
)

// Recent returns a page of stories, newest Published first: an index walk
// back from q.Before of Limit+1 rows (the extra one says whether a next
// page exists).
func (db *DB) Recent(ctx context.Context, q store.Query) (store.Page, error) {
	limit := store.ClampLimit(q.Limit)
	var pub *int64
	var id []byte
	if q.Before != "" {
		p, i, err := decodeCursor(q.Before)
		if err != nil {
			return store.Page{}, err
		}
		pub, id = &p, i
	}
	floor, n := nanos(q.NotBefore), limit+1
	var sql string
	var args []any
	switch {
	case q.Topic != "" && pub != nil:
		sql, args = recentTopic, []any{[]byte(q.Topic), *pub, id, floor, n}
	case q.Topic != "":
		sql, args = recentTopicTop, []any{[]byte(q.Topic), floor, n}
	case pub != nil:
		sql, args = recentAll, []any{*pub, id, floor, n}
	default:
		sql, args = recentAllTop, []any{floor, n}
	}
	rows, err := db.pool.Query(ctx, sql, args...)
	if err != nil {
		return store.Page{}, fmt.Errorf("recent %q: %w", q.Topic, err)
	}
	defer rows.Close()
	var page store.Page
	var lastPub int64
	var lastID []byte
	for rows.Next() {
		if len(page.Stories) == limit {
			page.Next = encodeCursor(lastPub, lastID)
			break
		}
		s, err := scanStory(rows, &lastPub, &lastID)
		if err != nil {
			return store.Page{}, fmt.Errorf("recent %q: %w", q.Topic, err)
		}
		page.Stories = append(page.Stories, s)
	}
	if err := rows.Err(); err != nil {
		return store.Page{}, fmt.Errorf("recent %q: %w", q.Topic, err)
	}
	return page, nil
}

// The Since statements walk nd_index_seq, or the partial index
// nd_stories_listed for all stories, forward from the Seq given.
const (
	sinceTopic = `SELECT s.body, t.own, t.idx FROM nd_index i
JOIN nd_stories s ON s.id = i.id
LEFT JOIN nd_topics t ON t.gen = i.gen AND t.seq = s.seq
WHERE i.gen = ` + activeGen + ` AND i.slug = $1 AND i.seq > $2 AND s.dup_of = ''
ORDER BY i.seq LIMIT $3`
	sinceAll = `SELECT s.body, t.own, t.idx FROM nd_stories s
LEFT JOIN nd_topics t ON t.gen = ` + activeGen + ` AND t.seq = s.seq
WHERE s.dup_of = '' AND s.seq > $1
ORDER BY s.seq LIMIT $2`
)

// Since returns the topic's stories with Seq > afterSeq, oldest first: a
// walk of nd_index_seq, or of the partial index nd_stories_listed for all
// stories.
func (db *DB) Since(ctx context.Context, topic string, afterSeq uint64, limit int) ([]story.Story, error) {
	limit = store.ClampLimit(limit)
	if afterSeq >= math.MaxInt64 {
		return nil, nil
	}
	sql := sinceTopic
	if topic == "" {
		sql = sinceAll
	}
	args := []any{[]byte(topic), int64(afterSeq), limit}
	if topic == "" {
		args = args[1:]
	}
	rows, err := db.pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("since %q: %w", topic, err)
	}
	defer rows.Close()
	var out []story.Story
	for rows.Next() {
		s, err := scanStory(rows)
		if err != nil {
			return nil, fmt.Errorf("since %q: %w", topic, err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("since %q: %w", topic, err)
	}
	return out, nil
}

// Topic summarises a topic's index from nd_topic_info (nd_state for all
// stories) and the first row of its index: two index lookups.
func (db *DB) Topic(ctx context.Context, slug string) (store.TopicInfo, error) {
	var count, changed, newest *int64
	var err error
	if slug == "" {
		err = db.pool.QueryRow(ctx, `SELECT all_count, all_changed,
	(SELECT published FROM nd_stories WHERE dup_of = '' ORDER BY published DESC, id DESC LIMIT 1)
FROM nd_state WHERE id = 1`).Scan(&count, &changed, &newest)
	} else {
		err = db.pool.QueryRow(ctx, `SELECT i.count, i.changed,
	(SELECT x.published FROM nd_index x WHERE x.gen = g.gen AND x.slug = $1 ORDER BY x.published DESC, x.id DESC LIMIT 1)
FROM (SELECT gen FROM nd_state WHERE id = 1) g LEFT JOIN nd_topic_info i ON i.gen = g.gen AND i.slug = $1`,
			[]byte(slug)).Scan(&count, &changed, &newest)
	}
	if err != nil {
		return store.TopicInfo{}, fmt.Errorf("topic %q: %w", slug, err)
	}
	var info store.TopicInfo
	if count != nil {
		info.Count = int(*count)
	}
	if changed != nil && *changed != 0 {
		info.Changed = time.Unix(0, *changed).UTC()
	}
	if newest != nil {
		info.Newest = time.Unix(0, *newest).UTC()
	}
	return info, nil
}

// encodeCursor makes the opaque Page.Next for a position: the same bytes
// bbolt's cursors are made of (be64 nanos | id), base64url.
func encodeCursor(pub int64, id []byte) string {
	k := binary.BigEndian.AppendUint64(make([]byte, 0, 8+len(id)), uint64(pub))
	return base64.RawURLEncoding.EncodeToString(append(k, id...))
}

func decodeCursor(s string) (int64, []byte, error) {
	k, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(k) <= 8 || len(k) > 8+store.MaxIDLen || k[0]&0x80 != 0 {
		return 0, nil, fmt.Errorf("%w %q", store.ErrBadCursor, truncate(s, 40))
	}
	return int64(binary.BigEndian.Uint64(k)), k[8:], nil
}

// snapshot is a read-only transaction that sees one snapshot throughout.
var snapshot = pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}
