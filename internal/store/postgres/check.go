package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/newsdesk/newsdesk/internal/store"
	"github.com/newsdesk/newsdesk/internal/story"
)

// maxProblems bounds what Check reports.
const maxProblems = 20

// Check verifies, from one snapshot, every invariant the tables keep: that
// each story's columns agree with its body, that every representative is
// listed under the union of its group's own topics and every duplicate
// nowhere, that the topic indexes hold exactly those rows, and that the
// counters (nd_state, nd_topic_info, the Activity counters) agree with the
// rows. It reads every table, so it is for tests and maintenance.
func (db *DB) Check(ctx context.Context) error {
	var problems []error
	report := func(format string, args ...any) {
		if len(problems) < maxProblems {
			problems = append(problems, fmt.Errorf(format, args...))
		}
	}
	tx, err := db.pool.BeginTx(ctx, snapshot)
	if err != nil {
		return fmt.Errorf("check %s: %w", db.url, err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if err := check(ctx, tx, report); err != nil {
		return fmt.Errorf("check %s: %w", db.url, err)
	}
	if len(problems) > 0 {
		return fmt.Errorf("check %s: %w", db.url, errors.Join(problems...))
	}
	return nil
}

func check(ctx context.Context, tx pgx.Tx, report func(string, ...any)) error {
	var gen, nStories, nTombs, allCount int64
	if err := tx.QueryRow(ctx, `SELECT gen, stories, tombstones, all_count FROM nd_state WHERE id = 1`).
		Scan(&gen, &nStories, &nTombs, &allCount); err != nil {
		return err
	}
	type stored struct {
		s        story.Story
		own, idx []string
	}
	all := map[string]*stored{}
	rows, err := tx.Query(ctx, `SELECT s.id, s.seq, s.source, s.published, s.first_seen, s.dup_of, s.body, t.own, t.idx
FROM nd_stories s LEFT JOIN nd_topics t ON t.gen = $1 AND t.seq = s.seq`, gen)
	if err != nil {
		return err
	}
	for rows.Next() {
		var id, source, dup, body, own, idx []byte
		var seq, pub, seen int64
		if err := rows.Scan(&id, &seq, &source, &pub, &seen, &dup, &body, &own, &idx); err != nil {
			return err
		}
		var s story.Story
		if err := json.Unmarshal(body, &s); err != nil {
			report("story %s: %v", id, err)
			continue
		}
		if s.ID != string(id) || s.Seq != uint64(seq) || s.Source != string(source) || nanos(s.Published) != pub ||
			nanos(s.FirstSeen) != seen || s.DuplicateOf != string(dup) {
			report("story %s: columns (%d %s %d %d %q) disagree with its body", id, seq, source, pub, seen, dup)
		}
		all[string(id)] = &stored{s, splitSlugs(own), splitSlugs(idx)}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if int(nStories) != len(all) {
		report("story counter %d, %d stories stored", nStories, len(all))
	}
	want := map[string]map[string]int64{} // slug → id → published
	reps := 0
	for id, x := range all {
		s := x.s
		if s.DuplicateOf != "" {
			rep, ok := all[s.DuplicateOf]
			switch {
			case !ok:
				report("duplicate %s: representative %s is not stored", id, s.DuplicateOf)
			case rep.s.DuplicateOf != "":
				report("duplicate %s: representative %s is itself a duplicate", id, s.DuplicateOf)
			case !slices.ContainsFunc(rep.s.AlsoIn, func(r story.Ref) bool { return r.ID == id }):
				report("duplicate %s: representative %s does not list it in AlsoIn", id, s.DuplicateOf)
			}
			if s.ServedID != "" || s.Merged != nil || len(s.AlsoIn) > 0 || len(x.idx) > 0 {
				report("duplicate %s carries group fields or is listed (idx %v)", id, x.idx)
			}
			continue
		}
		reps++
		lists := [][]string{x.own}
		for _, r := range s.AlsoIn {
			d, ok := all[r.ID]
			if !ok || d.s.DuplicateOf != id {
				report("story %s: AlsoIn %s is not its duplicate", id, r.ID)
				continue
			}
			lists = append(lists, d.own)
		}
		members := store.Union(lists...)
		if !slices.Equal(x.idx, members) {
			report("story %s: idx %v, its group's topics are %v", id, x.idx, members)
		}
		for _, slug := range members {
			if want[slug] == nil {
				want[slug] = map[string]int64{}
			}
			want[slug][id] = nanos(s.Published)
		}
	}
	if int(allCount) != reps {
		report("all-stories counter %d, %d representatives", allCount, reps)
	}

	got := map[string]int{}
	rows, err = tx.Query(ctx, `SELECT slug, published, id, seq FROM nd_index WHERE gen = $1`, gen)
	if err != nil {
		return err
	}
	for rows.Next() {
		var slug, id []byte
		var pub, seq int64
		if err := rows.Scan(&slug, &pub, &id, &seq); err != nil {
			return err
		}
		got[string(slug)]++
		at, ok := want[string(slug)][string(id)]
		if x := all[string(id)]; !ok || at != pub || x == nil || x.s.Seq != uint64(seq) {
			report("topic %s's index lists %s at %d (Seq %d), which does not belong there", slug, id, pub, seq)
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	counts := map[string]int64{}
	rows, err = tx.Query(ctx, `SELECT slug, count FROM nd_topic_info WHERE gen = $1`, gen)
	if err != nil {
		return err
	}
	for rows.Next() {
		var slug []byte
		var n int64
		if err := rows.Scan(&slug, &n); err != nil {
			return err
		}
		counts[string(slug)] = n
	}
	if err := rows.Err(); err != nil {
		return err
	}
	slugs := map[string]bool{}
	for _, m := range []map[string]int{got} {
		for s := range m {
			slugs[s] = true
		}
	}
	for s := range want {
		slugs[s] = true
	}
	for s := range counts {
		slugs[s] = true
	}
	for slug := range slugs {
		if got[slug] != len(want[slug]) || counts[slug] != int64(len(want[slug])) {
			report("topic %s: %d index rows, counter %d; %d stories belong", slug, got[slug], counts[slug], len(want[slug]))
		}
	}

	rows, err = tx.Query(ctx, `SELECT key, id FROM nd_links`)
	if err != nil {
		return err
	}
	for rows.Next() {
		var key string
		var id []byte
		if err := rows.Scan(&key, &id); err != nil {
			return err
		}
		if x, ok := all[string(id)]; !ok || x.s.DuplicateOf != "" {
			report("link key %s is held by %s, which is not a stored representative", key, id)
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	var tombs int64
	var both bool
	if err := tx.QueryRow(ctx, `SELECT COUNT(*), EXISTS (SELECT 1 FROM nd_tombstones t JOIN nd_stories s ON s.id = t.id)
FROM nd_tombstones`).Scan(&tombs, &both); err != nil {
		return err
	}
	if tombs != nTombs || both {
		report("tombstones: %d stored, counter %d, some also stored as stories: %v", tombs, nTombs, both)
	}

	wantCount, wantDays := map[string]int64{}, map[dayKey]int64{}
	for _, x := range all {
		wantCount[x.s.Source]++
		wantDays[dayKey{day(x.s.FirstSeen), x.s.Source}]++
	}
	n := 0
	rows, err = tx.Query(ctx, `SELECT source, n FROM nd_source_count`)
	if err != nil {
		return err
	}
	for rows.Next() {
		var src []byte
		var c int64
		if err := rows.Scan(&src, &c); err != nil {
			return err
		}
		n++
		if wantCount[string(src)] != c {
			report("source %s: counter %d, %d stories", src, c, wantCount[string(src)])
		}
	}
	if n != len(wantCount) {
		report("source counters: %d, stories call for %d", n, len(wantCount))
	}
	n = 0
	rows, err = tx.Query(ctx, `SELECT day, source, n FROM nd_source_days`)
	if err != nil {
		return err
	}
	for rows.Next() {
		var d, c int64
		var src []byte
		if err := rows.Scan(&d, &src, &c); err != nil {
			return err
		}
		n++
		if wantDays[dayKey{d, string(src)}] != c {
			report("source %s day %d: counter %d, %d stories", src, d, c, wantDays[dayKey{d, string(src)}])
		}
	}
	if n != len(wantDays) {
		report("source day counters: %d, stories call for %d", n, len(wantDays))
	}
	return rows.Err()
}
