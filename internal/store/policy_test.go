package store_test

import (
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/newsdesk/newsdesk/internal/store"
	"github.com/newsdesk/newsdesk/internal/story"
)

var t0 = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)

func TestAdmit(t *testing.T) {
	paris := time.FixedZone("CET", 3600)
	tests := []struct {
		name                     string
		in                       story.Story
		published, updated, seen time.Time
		undated                  bool
	}{
		{"dated", story.Story{Published: t0.Add(-time.Hour)}, t0.Add(-time.Hour), t0.Add(-time.Hour), t0, false},
		{"undated takes first seen", story.Story{}, t0, t0, t0, true},
		{"updated kept", story.Story{Published: t0.Add(-2 * time.Hour), Updated: t0.Add(-time.Hour)}, t0.Add(-2 * time.Hour), t0.Add(-time.Hour), t0, false},
		{"caller's first seen kept", story.Story{FirstSeen: t0.Add(-time.Minute)}, t0.Add(-time.Minute), t0.Add(-time.Minute), t0.Add(-time.Minute), true},
		{"group role dropped", story.Story{Published: t0, DuplicateOf: "x", AlsoIn: []story.Ref{{ID: "y"}}}, t0, t0, t0, false},
		{"times in UTC", story.Story{Published: t0.In(paris)}, t0, t0, t0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := store.Admit(tt.in, t0.In(paris), time.Time{})
			if !s.Published.Equal(tt.published) || !s.Updated.Equal(tt.updated) || !s.FirstSeen.Equal(tt.seen) || s.Undated != tt.undated {
				t.Errorf("Admit = published %v updated %v first seen %v undated %v", s.Published, s.Updated, s.FirstSeen, s.Undated)
			}
			if s.DuplicateOf != "" || s.AlsoIn != nil {
				t.Errorf("Admit kept a group role: %q %v", s.DuplicateOf, s.AlsoIn)
			}
			for _, at := range []time.Time{s.Published, s.Updated, s.FirstSeen} {
				if at.Location() != time.UTC {
					t.Errorf("time %v not in UTC", at)
				}
			}
		})
	}
}

func TestMerge(t *testing.T) {
	old := story.Story{ID: "a", Seq: 7, FirstSeen: t0, Published: t0, Updated: t0, Undated: true,
		DuplicateOf: "rep", Title: "old"}
	tests := []struct {
		name      string
		in        story.Story
		published time.Time
		undated   bool
	}{
		{"still undated keeps the estimate", story.Story{ID: "a", Title: "old"}, t0, true},
		{"a date replaces the estimate", story.Story{ID: "a", Title: "old", Published: t0.Add(-time.Hour)}, t0.Add(-time.Hour), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.in.FirstSeen = t0.Add(time.Hour) // what parse sets: the store keeps the first one
			s := store.Merge(old, tt.in, t0.Add(time.Hour))
			if s.Seq != 7 || !s.FirstSeen.Equal(t0) || s.DuplicateOf != "rep" {
				t.Errorf("Merge lost what the store decided: seq %d first seen %v duplicate of %q", s.Seq, s.FirstSeen, s.DuplicateOf)
			}
			// Updated never goes back: the estimate t0 stays the last change.
			if !s.Published.Equal(tt.published) || s.Undated != tt.undated || !s.Updated.Equal(t0) {
				t.Errorf("Merge = published %v updated %v undated %v", s.Published, s.Updated, s.Undated)
			}
		})
	}
}

// TestEqualSeesEveryField sets each field of a story in turn: Equal must
// notice all but Topics, so that a field added to Story later is compared
// too.
func TestEqualSeesEveryField(t *testing.T) {
	base := story.Story{ID: "a", Published: t0}
	typ := reflect.TypeOf(base)
	for i := range typ.NumField() {
		f := typ.Field(i)
		changed := base
		v := reflect.ValueOf(&changed).Elem().Field(i)
		switch v.Kind() {
		case reflect.String:
			v.SetString(v.String() + "x")
		case reflect.Uint64, reflect.Int64:
			if v.Kind() == reflect.Uint64 {
				v.SetUint(v.Uint() + 1)
			} else {
				v.SetInt(v.Int() + 1)
			}
		case reflect.Bool:
			v.SetBool(!v.Bool())
		case reflect.Slice:
			v.Set(reflect.Append(v, reflect.Zero(v.Type().Elem())))
		case reflect.Struct: // time.Time
			v.Set(reflect.ValueOf(t0.Add(time.Second)))
		case reflect.Pointer: // *Merged
			v.Set(reflect.ValueOf(&story.Merged{Image: "x"}))
		default:
			t.Fatalf("field %s: kind %s not covered by this test", f.Name, v.Kind())
		}
		want := f.Name == "Topics"
		if got := store.Equal(base, changed); got != want {
			t.Errorf("Equal with %s changed = %v, want %v", f.Name, got, want)
		}
	}
	same := base
	same.Published = t0.In(time.FixedZone("X", 7200))
	same.Authors = []story.Author{}
	if !store.Equal(base, same) {
		t.Error("Equal tells apart the same instant in two zones, or nil and empty slices")
	}
}

func TestPreferIsATotalOrder(t *testing.T) {
	jan, feb := time.Date(2026, 1, 15, 0, 0, 0, 0, time.UTC), time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	copies := []story.Story{
		{ID: "1", Source: "a", Published: feb, Content: "xx"},
		{ID: "2", Source: "b", Published: jan},
		{ID: "3", Source: "c", Published: t0, Undated: true, Content: "xxxxxxxx"},
		{ID: "4", Source: "d", Published: t0.Add(-time.Hour), Undated: true, Content: "xxxxxxxx"},
		{ID: "5", Source: "e", Published: jan, Content: "x"},
		{ID: "6", Source: "e", Published: jan, Content: "x"},
	}
	// Expected order: dated before undated; earlier date first; longer
	// content; then source, then id. Undated copies ignore their dates.
	want := []string{"5", "6", "2", "1", "3", "4"}
	got := slices.Clone(copies)
	slices.SortFunc(got, store.Prefer)
	var ids []string
	for _, s := range got {
		ids = append(ids, s.ID)
	}
	if !slices.Equal(ids, want) {
		t.Errorf("Prefer orders %v, want %v", ids, want)
	}
	for _, a := range copies {
		if store.Prefer(a, a) != 0 {
			t.Errorf("Prefer(%s, %s) != 0", a.ID, a.ID)
		}
		for _, b := range copies {
			if a.ID != b.ID && store.Prefer(a, b) != -store.Prefer(b, a) {
				t.Errorf("Prefer(%s, %s) is not antisymmetric", a.ID, b.ID)
			}
		}
	}
}

func TestRegroup(t *testing.T) {
	stub := story.Story{ID: "s", Source: "alpha", SourceTitle: "Alpha", Published: t0, Undated: true, DuplicateOf: ""}
	full := story.Story{ID: "f", Source: "zulu", SourceTitle: "Zulu", Published: t0.Add(-time.Hour), Content: "full", DuplicateOf: "s"}
	mid := story.Story{ID: "m", Source: "mid", SourceTitle: "Mid", Published: t0, DuplicateOf: "s"}
	for _, order := range [][]story.Story{{stub, full, mid}, {mid, stub, full}, {full, mid, stub}} {
		before := slices.Clone(order)
		got := store.Regroup(order, t0)
		if !reflect.DeepEqual(order, before) {
			t.Error("Regroup changed its input")
		}
		if got[0].ID != "f" || got[0].DuplicateOf != "" {
			t.Fatalf("representative = %s (duplicate of %q), want f", got[0].ID, got[0].DuplicateOf)
		}
		want := []story.Ref{{Source: "alpha", Title: "Alpha", ID: "s"}, {Source: "mid", Title: "Mid", ID: "m"}}
		if !slices.Equal(got[0].AlsoIn, want) {
			t.Errorf("AlsoIn = %v, want %v", got[0].AlsoIn, want)
		}
		for _, d := range got[1:] {
			if d.DuplicateOf != "f" || d.AlsoIn != nil {
				t.Errorf("member %s: duplicate of %q, AlsoIn %v", d.ID, d.DuplicateOf, d.AlsoIn)
			}
		}
	}
	alone := store.Regroup([]story.Story{{ID: "x", DuplicateOf: "gone", AlsoIn: []story.Ref{{ID: "y"}}}}, t0)
	if alone[0].DuplicateOf != "" || alone[0].AlsoIn != nil {
		t.Errorf("a group of one = %+v, want a plain story", alone[0])
	}
}

func TestJoins(t *testing.T) {
	rep := story.Story{Source: "alpha", AlsoIn: []story.Ref{{Source: "bravo"}}}
	for source, want := range map[string]bool{"alpha": false, "bravo": false, "charlie": true} {
		if got := store.Joins(rep, story.Story{Source: source}); got != want {
			t.Errorf("Joins(%s) = %v, want %v", source, got, want)
		}
	}
}

func TestRetention(t *testing.T) {
	r := store.Retention{MaxAge: 24 * time.Hour, MaxStories: 10}
	tests := []struct {
		name      string
		firstSeen time.Time
		excess    int
		want      bool
	}{
		{"young, within the cap", t0.Add(-time.Hour), 0, false},
		{"old", t0.Add(-25 * time.Hour), 0, true},
		{"young, over the cap", t0.Add(-time.Hour), 1, true},
		{"exactly max age", t0.Add(-24 * time.Hour), 0, false},
	}
	for _, tt := range tests {
		if got := r.Due(tt.firstSeen, tt.excess, t0); got != tt.want {
			t.Errorf("%s: Due = %v, want %v", tt.name, got, tt.want)
		}
	}
	if r.Excess(25) != 15 || r.Excess(5) != 0 || (store.Retention{}).Excess(1e6) != 0 {
		t.Error("Excess is off")
	}
	if !(store.Retention{}).Off() || r.Off() {
		t.Error("Off is off")
	}
	if got := (store.Retention{}).TombstoneCutoff(t0); !got.Equal(t0.Add(-store.TombstoneTTL)) {
		t.Errorf("TombstoneCutoff = %v", got)
	}
	long := store.Retention{MaxAge: store.TombstoneTTL}
	if got := long.TombstoneCutoff(t0); !got.Equal(t0.Add(-2 * store.TombstoneTTL)) {
		t.Errorf("TombstoneCutoff with a long MaxAge = %v, want twice MaxAge", got)
	}
}

func TestTally(t *testing.T) {
	tl := store.NewTally()
	tl.Add([]string{"a", "b"}, []string{"a", "c"}) // left b, joined c
	tl.Add([]string{"a"}, []string{"a"})
	tl.Add([]string{"d"}, nil) // d empties
	then := t0.Add(-time.Hour)
	infos, changed := tl.Result(func(string) time.Time { return then }, t0)
	if !slices.Equal(changed, []string{"b", "c", "d"}) {
		t.Errorf("changed = %v", changed)
	}
	want := map[string]store.TopicInfo{
		"a": {Count: 2, Changed: then}, "b": {Changed: t0}, "c": {Count: 1, Changed: t0}, "d": {Changed: t0},
	}
	if !reflect.DeepEqual(infos, want) {
		t.Errorf("infos = %v, want %v", infos, want)
	}
}

func TestSlugs(t *testing.T) {
	long := string(make([]byte, store.MaxIDLen+1))
	got := store.Slugs([]string{"b", "a", "", "b", "x\x00y", long, "a"})
	if !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("Slugs = %q", got)
	}
	if got := store.Union([]string{"b"}, nil, []string{"a", "b"}); !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("Union = %q", got)
	}
}

func TestClampLimit(t *testing.T) {
	for n, want := range map[int]int{-1: store.DefaultLimit, 0: store.DefaultLimit, 7: 7, store.MaxLimit + 1: store.MaxLimit} {
		if got := store.ClampLimit(n); got != want {
			t.Errorf("ClampLimit(%d) = %d, want %d", n, got, want)
		}
	}
}

func TestMergeSignalsEdits(t *testing.T) {
	pub := t0.Add(-48 * time.Hour)
	old := store.Admit(story.Story{ID: "a", Title: "Headline", Content: "<p>text</p>", Published: pub}, t0, time.Time{})
	later := t0.Add(time.Hour)
	tests := []struct {
		name    string
		edit    func(*story.Story)
		updated time.Time
	}{
		{"unchanged", func(*story.Story) {}, pub},
		{"title edited, no upstream update time", func(s *story.Story) { s.Title = "Headline, corrected" }, later},
		{"content edited", func(s *story.Story) { s.Content = "<p>more text</p>" }, later},
		{"upstream says when", func(s *story.Story) { s.Title = "New"; s.Updated = t0.Add(-time.Minute) }, t0.Add(-time.Minute)},
		{"upstream's time is older than the stored one", func(s *story.Story) { s.Title = "New"; s.Updated = pub.Add(-time.Hour) }, later},
		{"only an enclosure", func(s *story.Story) { s.Enclosures = []story.Enclosure{{URL: "https://x/a.mp3"}} }, pub},
	}
	// An edit in the second the story was last updated still moves the
	// printed time.
	if got := store.Merge(old, story.Story{ID: "a", Title: "New", Published: pub}, pub.Add(300*time.Millisecond)); !got.Updated.Equal(pub.Add(time.Second)) {
		t.Errorf("edit within the same second: updated %v, want %v", got.Updated, pub.Add(time.Second))
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := story.Story{ID: "a", Title: "Headline", Content: "<p>text</p>", Published: pub}
			tt.edit(&in)
			s := store.Merge(old, in, later)
			if !s.Updated.Equal(tt.updated) || !s.Published.Equal(pub) || s.ID != "a" {
				t.Errorf("Merge: updated %v published %v, want updated %v published %v", s.Updated, s.Published, tt.updated, pub)
			}
		})
	}
	// A later re-fetch of the edit changes nothing more: Updated never goes back.
	edited := store.Merge(old, story.Story{ID: "a", Title: "Headline, corrected", Content: "<p>text</p>", Published: pub}, later)
	again := store.Merge(edited, story.Story{ID: "a", Title: "Headline, corrected", Content: "<p>text</p>", Published: pub}, later.Add(time.Hour))
	if !store.Equal(edited, again) {
		t.Errorf("re-fetch of an edit moved the story: %v → %v", edited.Updated, again.Updated)
	}
}

func TestEstimates(t *testing.T) {
	undated := story.Story{}
	dated := func(at time.Time) story.Story { return story.Story{Published: at} }
	step := store.UndatedStep
	tests := []struct {
		name    string
		feed    []story.Story
		backlog bool
		newest  time.Time
		want    []time.Time
	}{
		{"undated feed keeps its order, one step apart", []story.Story{undated, undated, undated}, false, time.Time{},
			[]time.Time{t0, t0.Add(-step), t0.Add(-2 * step)}},
		{"below the dated story above", []story.Story{dated(t0.Add(-time.Hour)), undated, undated}, false, time.Time{},
			[]time.Time{{}, t0.Add(-time.Hour - step), t0.Add(-time.Hour - 2*step)}},
		{"a dated story below does not pull it down", []story.Story{undated, dated(t0.Add(-time.Hour))}, false, time.Time{},
			[]time.Time{t0, {}}},
		{"backlog stays below the newest dated story", []story.Story{undated, undated}, true, t0.Add(-time.Hour),
			[]time.Time{t0.Add(-time.Hour - step), t0.Add(-time.Hour - 2*step)}},
		{"a later fetch is not a backlog", []story.Story{undated}, false, t0.Add(-time.Hour), []time.Time{t0}},
		{"backlog with nothing dated stored", []story.Story{undated, undated}, true, time.Time{}, []time.Time{t0, t0.Add(-step)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := store.Estimates(tt.feed, t0, tt.backlog, tt.newest)
			if !slices.EqualFunc(got, tt.want, time.Time.Equal) {
				t.Errorf("Estimates = %v, want %v", got, tt.want)
			}
		})
	}
	at := store.Admit(undated, t0, t0.Add(-time.Minute))
	if !at.Undated || !at.Published.Equal(t0.Add(-time.Minute)) || !at.FirstSeen.Equal(t0) {
		t.Errorf("Admit with an estimate = published %v first seen %v undated %v", at.Published, at.FirstSeen, at.Undated)
	}
}

func TestRegroupKeepsTheServedID(t *testing.T) {
	stub := story.Story{ID: "stub", Source: "alpha", Published: t0, Undated: true, Updated: t0}
	full := story.Story{ID: "full", Source: "zulu", Published: t0.Add(-time.Hour), Updated: t0.Add(-time.Hour),
		Content: "text", DuplicateOf: "stub"}
	later := t0.Add(2 * time.Hour)
	got := store.Regroup([]story.Story{stub, full}, later)
	rep := got[0]
	if rep.ID != "full" || rep.ServedID != "stub" || rep.FeedID() != "stub" {
		t.Fatalf("after the better copy took over: rep %s ServedID %q, want full serving stub", rep.ID, rep.ServedID)
	}
	if !rep.Updated.Equal(later) || !rep.Published.Equal(full.Published) {
		t.Errorf("new representative: updated %v published %v, want updated %v and its own date", rep.Updated, rep.Published, later)
	}
	if got[1].ServedID != "" || got[1].FeedID() != "stub" {
		t.Errorf("demoted copy: ServedID %q", got[1].ServedID)
	}
	// A third copy, better still, keeps the first id too; a regroup that
	// keeps the representative moves nothing.
	orig := story.Story{ID: "orig", Source: "mid", Published: t0.Add(-2 * time.Hour), Content: "text", DuplicateOf: "full"}
	again := store.Regroup([]story.Story{got[1], orig, rep}, later.Add(time.Hour))
	if again[0].ID != "orig" || again[0].FeedID() != "stub" {
		t.Errorf("third copy: rep %s serves %s, want orig serving stub", again[0].ID, again[0].FeedID())
	}
	same := store.Regroup(again, later.Add(2*time.Hour))
	if !store.Equal(same[0], again[0]) {
		t.Errorf("a regroup that keeps the representative changed it: %+v", same[0])
	}
}

func TestRegroupMergesWhatCopiesCarry(t *testing.T) {
	mp3 := story.Enclosure{URL: "https://x.example/a.mp3", Type: "audio/mpeg"}
	ogg := story.Enclosure{URL: "https://x.example/a.ogg", Type: "audio/ogg"}
	rep := story.Story{ID: "r", Source: "alpha", Published: t0, Enclosures: []story.Enclosure{mp3}, Categories: []string{"World"}}
	d1 := story.Story{ID: "d1", Source: "bravo", Published: t0.Add(time.Hour), DuplicateOf: "r",
		Enclosures: []story.Enclosure{mp3, ogg}, Categories: []string{"world", "Politics"}, Image: "https://x.example/i.jpg"}
	d2 := story.Story{ID: "d2", Source: "charlie", Published: t0.Add(time.Hour), DuplicateOf: "r",
		Enclosures: []story.Enclosure{ogg}, Categories: []string{"politics", "Europe"}}
	got := store.Regroup([]story.Story{d2, rep, d1}, t0)
	want := &story.Merged{Enclosures: []story.Enclosure{ogg}, Categories: []string{"Politics", "Europe"}, Image: "https://x.example/i.jpg"}
	if !reflect.DeepEqual(got[0].Merged, want) {
		t.Fatalf("Merged = %+v, want %+v", got[0].Merged, want)
	}
	listed := store.Listed(got[0])
	if listed.Merged != nil || len(listed.Enclosures) != 2 || !slices.Equal(listed.Categories, []string{"World", "Politics", "Europe"}) ||
		listed.Image != want.Image {
		t.Errorf("Listed = enclosures %v categories %v image %q merged %v", listed.Enclosures, listed.Categories, listed.Image, listed.Merged)
	}
	if got[0].Enclosures[0] != mp3 || len(got[0].Enclosures) != 1 {
		t.Error("Regroup changed the representative's own enclosures")
	}
	if store.Regroup([]story.Story{rep}, t0)[0].Merged != nil {
		t.Error("a group of one has something merged")
	}
}

func TestGroupKeysAndFragments(t *testing.T) {
	if got := store.GroupKeys("https://x.example/day.html#a1"); !slices.Equal(got, []string{"https://x.example/day.html#a1", "https://x.example/day.html"}) {
		t.Errorf("GroupKeys with a fragment = %q", got)
	}
	if got := store.GroupKeys("https://x.example/a"); !slices.Equal(got, []string{"https://x.example/a"}) {
		t.Errorf("GroupKeys = %q", got)
	}
	if got := store.GroupKeys(""); got != nil {
		t.Errorf("GroupKeys of no link = %q", got)
	}
	a1 := story.Story{Source: "alpha", Link: "https://x.example/day.html#a1"}
	tests := []struct {
		name string
		link string
		want bool
	}{
		{"same fragment", "https://x.example/day.html#a1", true},
		{"no fragment", "https://x.example/day.html", true},
		{"another post of the page", "https://x.example/day.html#a2", false},
	}
	for _, tt := range tests {
		if got := store.Joins(a1, story.Story{Source: "bravo", Link: tt.link}); got != tt.want {
			t.Errorf("%s: Joins = %v, want %v", tt.name, got, tt.want)
		}
	}
}
