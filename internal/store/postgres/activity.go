package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/newsdesk/newsdesk/internal/store"
)

// activitySlack is how far before the window the first_seen walk starts:
// as in bbolt, FirstSeen is a Put's now, and concurrent fetches hand those
// in a little out of order.
const activitySlack = time.Hour

// Activity reports the stored stories per source and per day of a window,
// and per topic and day, as store.Store's Activity describes: the sources'
// part from the counters Put and Prune keep (nd_source_count,
// nd_source_days: O(sources × days) rows), the topics' part from one walk of
// nd_stories_first_seen over the window joined to the active generation's
// topic rows.
func (db *DB) Activity(ctx context.Context, now time.Time, days int) (store.Activity, error) {
	a := store.NewActivity(now, days)
	// One snapshot for the three reads, so the counts agree.
	tx, err := db.pool.BeginTx(ctx, snapshot)
	if err != nil {
		return store.Activity{}, fmt.Errorf("activity: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	rows, err := tx.Query(ctx, `SELECT source, n FROM nd_source_count`)
	if err != nil {
		return store.Activity{}, fmt.Errorf("activity: %w", err)
	}
	for rows.Next() {
		var src []byte
		var n int64
		if err := rows.Scan(&src, &n); err != nil {
			return store.Activity{}, fmt.Errorf("activity: %w", err)
		}
		a.AddStored(string(src), int(n))
	}
	if err := rows.Err(); err != nil {
		return store.Activity{}, fmt.Errorf("activity: %w", err)
	}
	first := day(a.From)
	rows, err = tx.Query(ctx, `SELECT day, source, n FROM nd_source_days WHERE day >= $1 AND day < $2`, first, first+int64(a.Days))
	if err != nil {
		return store.Activity{}, fmt.Errorf("activity: %w", err)
	}
	for rows.Next() {
		var d, n int64
		var src []byte
		if err := rows.Scan(&d, &src, &n); err != nil {
			return store.Activity{}, fmt.Errorf("activity: %w", err)
		}
		a.AddSourceDay(string(src), int(d-first), int(n))
	}
	if err := rows.Err(); err != nil {
		return store.Activity{}, fmt.Errorf("activity: %w", err)
	}
	rows, err = tx.Query(ctx, `SELECT s.first_seen, t.idx FROM nd_stories s
LEFT JOIN nd_topics t ON t.gen = `+activeGen+` AND t.seq = s.seq
WHERE s.first_seen >= $1 AND s.first_seen < $2 AND s.dup_of = ''`,
		nanos(a.From.Add(-activitySlack)), nanos(a.Through()))
	if err != nil {
		return store.Activity{}, fmt.Errorf("activity: %w", err)
	}
	for rows.Next() {
		var seen int64
		var idx []byte
		if err := rows.Scan(&seen, &idx); err != nil {
			return store.Activity{}, fmt.Errorf("activity: %w", err)
		}
		i := a.Day(time.Unix(0, seen))
		if i < 0 {
			continue
		}
		a.AddTopicDay(i, "")
		a.AddTopicDay(i, splitSlugs(idx)...)
	}
	if err := rows.Err(); err != nil {
		return store.Activity{}, fmt.Errorf("activity: %w", err)
	}
	return a, nil
}
