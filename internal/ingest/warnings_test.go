package ingest_test

import (
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/newsdesk/newsdesk/internal/fetch"
	"github.com/newsdesk/newsdesk/internal/ingest"
)

// jsonFeed is a JSON Feed 1.1 of the given items, each already a JSON
// object (or a deliberately malformed value).
func jsonFeed(items ...string) string {
	return `{"version": "https://jsonfeed.org/version/1.1", "title": "Up", "home_page_url": "https://up.example/", "items": [` +
		strings.Join(items, ",") + `]}`
}

func jsonItem(id, title string) string {
	return fmt.Sprintf(`{"id": %q, "url": "https://up.example/%s", "title": %q, "content_text": "About %s.", "date_published": "2026-01-27T10:00:00Z"}`,
		id, id, title, title)
}

// badTags is the case: an item whose "tags" is a string, not a list.
const badTags = `{"id": "bad-2", "url": "https://up.example/bad-2", "title": "Ice on the bad item", "tags": "ice", "content_text": "x", "date_published": "2026-01-27T11:00:00Z"}`

const wantWarning = `item 2 (id "bad-2"): "tags" is a string, not an array; field ignored`

// TestParseWarningsAreKeptUntilTheNextParse: a JSON Feed with one malformed
// item keeps its other items and every field of the bad one but the
// malformed, and names the bad one in the source's state; a 304 or the same
// bytes again keep the warnings, a parse replaces them, and each change is
// logged once.
func TestParseWarningsAreKeptUntilTheNextParse(t *testing.T) {
	up := &upstream{}
	up.set(200, jsonFeed(jsonItem("a-1", "Ice storm"), badTags, jsonItem("c-3", "Border talks")), nil)
	f := newFixture(t, up)
	var logs syncBuffer
	f.in = ingest.New(fetch.New(fetch.Options{Allow: loopback}), f.db, f.topic,
		slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo})),
		ingest.Options{MinInterval: time.Minute, MaxInterval: time.Hour, Now: func() time.Time { return f.now }})
	const logged = "parts of the document skipped as malformed"

	rep := f.in.Refresh(t.Context(), f.src, false)
	if rep.Status != "ok" || rep.New != 3 || rep.Err != "" {
		t.Fatalf("refresh = %+v, want ok with all 3 items new", rep)
	}
	if !slices.Equal(rep.Warnings, []string{wantWarning}) {
		t.Errorf("report warnings = %q, want [%q]", rep.Warnings, wantWarning)
	}
	if got := f.stored(t, "ice"); !slices.Equal(got, []string{"Ice on the bad item", "Ice storm"}) {
		t.Errorf("topic ice = %q: the malformed item must be stored without its bad field", got)
	}
	st, err := f.source(t)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(st.Warnings, []string{wantWarning}) || st.LastError != "" || st.Status != "ok" {
		t.Errorf("stored state = %+v, want status ok, no error and the warning", st)
	}
	if n := logs.count(logged); n != 1 {
		t.Errorf("warnings logged %d times, want once:\n%s", n, logs.buf.String())
	}

	// A 304, then the same bytes without validators: nothing parsed, the
	// warnings still describe what is stored.
	f.now = f.now.Add(time.Minute)
	if rep = f.in.Refresh(t.Context(), f.src, false); rep.Status != "not-modified" || !slices.Equal(rep.Warnings, []string{wantWarning}) {
		t.Errorf("304 refresh = %+v, want not-modified keeping the warning", rep)
	}
	up.ignoreValidators = true
	f.now = f.now.Add(time.Minute)
	if rep = f.in.Refresh(t.Context(), f.src, false); rep.Status != "unchanged" || !slices.Equal(rep.Warnings, []string{wantWarning}) {
		t.Errorf("same-bytes refresh = %+v, want unchanged keeping the warning", rep)
	}
	if st, _ := f.source(t); !slices.Equal(st.Warnings, []string{wantWarning}) {
		t.Errorf("state after a 304 and the same bytes = %q, want the warning kept", st.Warnings)
	}
	// An upstream failure keeps them too: the stored stories came from
	// that document.
	up.set(500, "oops", nil)
	f.now = f.now.Add(time.Minute)
	if rep = f.in.Refresh(t.Context(), f.src, true); rep.Status != "failing" || !slices.Equal(rep.Warnings, []string{wantWarning}) {
		t.Errorf("failed refresh = %+v, want failing keeping the warning", rep)
	}
	if n := logs.count(logged); n != 1 {
		t.Errorf("warnings logged %d times after passes that did not change them, want once", n)
	}

	// The upstream fixes its feed: the next parse clears them, once.
	up.set(200, jsonFeed(jsonItem("a-1", "Ice storm"), jsonItem("c-3", "Border talks")), nil)
	f.now = f.now.Add(time.Hour)
	if rep = f.in.Refresh(t.Context(), f.src, true); rep.Status != "ok" || rep.Warnings != nil {
		t.Errorf("refresh of the fixed feed = %+v, want ok without warnings", rep)
	}
	if st, _ := f.source(t); st.Warnings != nil {
		t.Errorf("state after the fixed feed = %q, want no warnings", st.Warnings)
	}
	if n := logs.count("document no longer malformed"); n != 1 {
		t.Errorf("the clearing logged %d times, want once:\n%s", n, logs.buf.String())
	}
}

// TestParseWarningsAreBounded: a document with many malformed items (or
// huge item ids) keeps a bounded account of them, which still counts all.
func TestParseWarningsAreBounded(t *testing.T) {
	var items []string
	for i := range 50 {
		items = append(items, fmt.Sprintf(`{"id": "bad-%d", "title": "Item %d", "url": "https://up.example/%d", "tags": "x", "content_text": "x"}`, i, i, i))
	}
	items = append(items, fmt.Sprintf(`{"id": %q, "title": "Long", "url": "https://up.example/long", "tags": "x", "content_text": "x"}`, strings.Repeat("é", 10_000)))
	up := &upstream{}
	up.set(200, jsonFeed(items...), nil)
	f := newFixture(t, up)
	rep := f.in.Refresh(t.Context(), f.src, false)
	if rep.Status != "ok" || rep.New != 51 {
		t.Fatalf("refresh = %+v, want ok with 51 new", rep)
	}
	if len(rep.Warnings) != 20 || rep.Warnings[19] != "and 32 more" || ingest.WarningCount(rep.Warnings) != 51 {
		t.Errorf("warnings = %d, last %q, count %d; want 20 kept, the last saying 32 more, 51 counted",
			len(rep.Warnings), rep.Warnings[len(rep.Warnings)-1], ingest.WarningCount(rep.Warnings))
	}
	if ingest.WarningCount([]string{wantWarning}) != 1 || ingest.WarningCount(nil) != 0 {
		t.Error("WarningCount miscounts a short list")
	}

	// A single warning quoting a 20 KB id is cut, on a character boundary.
	up.set(200, jsonFeed(items[50]), nil)
	f.now = f.now.Add(time.Hour)
	rep = f.in.Refresh(t.Context(), f.src, true)
	if len(rep.Warnings) != 1 || len(rep.Warnings[0]) > 310 || !strings.HasSuffix(rep.Warnings[0], "…") ||
		!strings.HasPrefix(rep.Warnings[0], `item 1 (id "éé`) {
		t.Errorf("warning of a huge id = %q (%d bytes), want it cut to about 300 bytes", rep.Warnings, len(strings.Join(rep.Warnings, "")))
	}
	for _, w := range rep.Warnings {
		if !strings.ContainsRune(w, '…') || strings.ContainsRune(w, '\uFFFD') {
			t.Errorf("warning %q was cut inside a character", w)
		}
	}
}
