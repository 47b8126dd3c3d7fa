package storetest

import (
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/newsdesk/newsdesk/internal/store"
	"github.com/newsdesk/newsdesk/internal/story"
)

// Fill writes into db a little of everything a store keeps: stories of
// several sources in several topics, a link group whose representative was
// replaced by a better copy (so a served id differs from the story's), an
// undated story, an edited one, pruned stories (tombstones), a failing
// source with no stories, meta keys and a re-classification. It returns the
// slugs it filed stories under and the ids it pruned.
func Fill(t testing.TB, db store.Store) (slugs, pruned []string) {
	t.Helper()
	ctx := t.Context()
	var batch []story.Story
	for i := range 30 {
		batch = append(batch, mk("wire", fmt.Sprint(i), t0.Add(time.Duration(i)*time.Minute), "politics", []string{"", "economy"}[i%2]))
	}
	put(t, db, "wire", t0, batch...)
	stub := copyOf("alpha", time.Time{}, "")
	put(t, db, "alpha", t0, stub)
	put(t, db, "zulu", t0.Add(time.Hour), copyOf("zulu", t0.Add(-24*time.Hour), "<p>the full text</p>"))
	undated := mk("agency", "undated", time.Time{}, "economy")
	put(t, db, "agency", t0.Add(2*time.Hour), undated, mk("agency", "dated", t0.Add(90*time.Minute), "science"))
	edited := batch[29]
	edited.Title = "an edited title"
	put(t, db, "wire", t0.Add(3*time.Hour), edited)
	if err := db.PutSource(ctx, "broken", store.SourceState{Status: story.StatusFailing, LastError: "timeout", Failures: 3,
		NextFetch: t0.Add(4 * time.Hour), ETag: `"e"`, Warnings: []string{"item 1 is a string, not an object; skipped"}}); err != nil {
		t.Fatal(err)
	}
	for _, kv := range [][2]string{{"topics-fingerprint", "abc"}, {"other", "value"}} {
		if err := db.SetMeta(ctx, kv[0], kv[1]); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.Prune(ctx, store.Retention{MaxStories: 28}, t0.Add(4*time.Hour)); err != nil {
		t.Fatal(err)
	}
	pruned = []string{batch[0].ID, batch[1].ID, batch[2].ID, batch[3].ID, batch[4].ID, batch[5].ID}
	if _, err := db.Reclassify(ctx, func(s story.Story) []string {
		out := slices.Clone(s.Topics)
		if s.Source == "zulu" {
			out = append(out, "reclassified")
		}
		return out
	}); err != nil {
		t.Fatal(err)
	}
	return []string{"politics", "economy", "science", "reclassified", "topic-alpha", "topic-zulu", "nowhere"}, pruned
}

// Same fails t unless a and b hold the same contents, as far as the
// contract shows them: the same stories (every field) listed the same way
// in every slug's Recent pages and Since from 0, the same summaries, the
// same duplicates behind every group, the same sources, the same meta
// values under keys, the same counts.
func Same(t testing.TB, a, b store.Store, slugs, keys []string) {
	t.Helper()
	ctx := t.Context()
	sa, err := a.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sb, err := b.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if sa.Stories != sb.Stories || sa.Tombstones != sb.Tombstones {
		t.Errorf("Stats: %d stories and %d tombstones, the copy %d and %d", sa.Stories, sa.Tombstones, sb.Stories, sb.Tombstones)
	}
	srcA, err := a.Sources(ctx)
	if err != nil {
		t.Fatal(err)
	}
	srcB, err := b.Sources(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(normalSources(srcA), normalSources(srcB)) {
		t.Errorf("Sources differ:\n%+v\n%+v", srcA, srcB)
	}
	for _, k := range keys {
		va, _ := a.Meta(ctx, k)
		vb, _ := b.Meta(ctx, k)
		if va != vb {
			t.Errorf("Meta(%q) = %q, the copy %q", k, va, vb)
		}
	}
	seen := map[string]bool{}
	for _, slug := range append([]string{""}, slugs...) {
		ia, err := a.Topic(ctx, slug)
		if err != nil {
			t.Fatal(err)
		}
		ib, err := b.Topic(ctx, slug)
		if err != nil {
			t.Fatal(err)
		}
		if ia.Count != ib.Count || !ia.Newest.Equal(ib.Newest) || !ia.Changed.Equal(ib.Changed) {
			t.Errorf("Topic(%q) = %+v, the copy %+v", slug, ia, ib)
		}
		la, lb := allPages(t, a, slug), allPages(t, b, slug)
		sameStories(t, "Recent("+slug+")", la, lb)
		fa, err := a.Since(ctx, slug, 0, store.MaxLimit)
		if err != nil {
			t.Fatal(err)
		}
		fb, err := b.Since(ctx, slug, 0, store.MaxLimit)
		if err != nil {
			t.Fatal(err)
		}
		sameStories(t, "Since("+slug+")", fa, fb)
		for _, s := range la {
			for _, r := range s.AlsoIn {
				if seen[r.ID] {
					continue
				}
				seen[r.ID] = true
				da, err := a.Get(ctx, r.ID)
				if err != nil {
					t.Fatal(err)
				}
				db, err := b.Get(ctx, r.ID)
				if err != nil {
					t.Errorf("Get(%s) of the copy: %v", r.ID, err)
					continue
				}
				sameStories(t, "Get", []story.Story{da}, []story.Story{db})
			}
		}
	}
}

func normalSources(m map[string]store.SourceState) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		out[k] = fmt.Sprintf("%+v", v)
		for _, t := range []time.Time{v.LastAttempt, v.LastSuccess, v.NextFetch, v.FeedUpdated} {
			out[k] += t.UTC().Format(time.RFC3339Nano)
		}
	}
	return out
}

func allPages(t testing.TB, db store.Store, slug string) []story.Story {
	t.Helper()
	var out []story.Story
	q := store.Query{Topic: slug, Limit: 7}
	for {
		page, err := db.Recent(t.Context(), q)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, page.Stories...)
		if page.Next == "" {
			return out
		}
		q.Before = page.Next
	}
}

func sameStories(t testing.TB, what string, a, b []story.Story) {
	t.Helper()
	if !slices.Equal(ids(a), ids(b)) {
		t.Errorf("%s lists %v, the copy %v", what, ids(a), ids(b))
		return
	}
	for i := range a {
		if !store.Equal(a[i], b[i]) || !slices.Equal(a[i].Topics, b[i].Topics) {
			t.Errorf("%s: story %s differs:\n%+v\n%+v", what, a[i].ID, a[i], b[i])
		}
	}
}

// testPort copies a filled store into a fresh one through Export and
// Import: the copy answers as the original does, keeps honouring the
// tombstones and goes on with the next Seq.
func testPort(t *testing.T, h harness) {
	src := h.open(t)
	p, ok := src.(store.Porter)
	if !ok {
		t.Skip("the engine cannot export its contents")
	}
	slugs, pruned := Fill(t, src)
	dst := h.open(t)
	if err := Copy(t, src, dst); err != nil {
		t.Fatal(err)
	}
	Same(t, src, dst, slugs, []string{"topics-fingerprint", "other", "missing"})
	check(t, dst)
	if err := Copy(t, src, dst); err == nil {
		t.Error("Import into a store that holds stories succeeded")
	}
	_ = p

	// Both go on alike: a pruned story stays out, a new one gets the next Seq.
	gone := mk("wire", "0", t0, "politics")
	if gone.ID != pruned[0] {
		t.Fatalf("the pruned id is %s, mk gives %s", pruned[0], gone.ID)
	}
	late := t0.Add(5 * time.Hour)
	for _, db := range []store.Store{src, dst} {
		res := put(t, db, "wire", late, gone, mk("wire", "new", late, "politics"))
		if res.Skipped != 1 || res.New != 1 {
			t.Errorf("Put after the copy = %+v, want the tombstoned story skipped and one new", res)
		}
	}
	a, b := get(t, src, mk("wire", "new", late).ID), get(t, dst, mk("wire", "new", late).ID)
	if a.Seq != b.Seq {
		t.Errorf("next Seq: %d, the copy %d", a.Seq, b.Seq)
	}
	Same(t, src, dst, slugs, nil)
}

// Copy exports src into dst, which must be empty; both must be Porters.
func Copy(t testing.TB, src, dst store.Store) error {
	t.Helper()
	var recs []store.Record
	if err := src.(store.Porter).Export(t.Context(), func(r store.Record) error {
		recs = append(recs, r)
		return nil
	}); err != nil {
		return err
	}
	return dst.(store.Porter).Import(t.Context(), func(yield func(store.Record, error) bool) {
		for _, r := range recs {
			if !yield(r, nil) {
				return
			}
		}
	})
}
