package parse_test

import (
	"fmt"
	"testing"
	"time"
)

func TestDates(t *testing.T) {
	utc := func(s string) time.Time {
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			panic(err)
		}
		return t
	}
	tests := []struct {
		name, pubDate string
		want          time.Time
	}{
		{"numeric offset", "Thu, 29 Jan 2026 10:00:00 +0900", utc("2026-01-29T01:00:00Z")},
		{"GMT", "Thu, 29 Jan 2026 10:00:00 GMT", utc("2026-01-29T10:00:00Z")},
		{"US zone gofeed knows", "Thu, 29 Jan 2026 10:00:00 EST", utc("2026-01-29T15:00:00Z")},
		{"JST read as +09:00, not UTC", "Thu, 29 Jan 2026 10:00:00 JST", utc("2026-01-29T01:00:00Z")},
		{"KST", "Thu, 29 Jan 2026 10:00:00 KST", utc("2026-01-29T01:00:00Z")},
		{"AEST", "Thu, 29 Jan 2026 10:00:00 AEST", utc("2026-01-29T00:00:00Z")},
		{"AEDT", "Thu, 29 Jan 2026 10:00:00 AEDT", utc("2026-01-28T23:00:00Z")},
		{"IST is India", "Thu, 29 Jan 2026 10:00:00 IST", utc("2026-01-29T04:30:00Z")},
		{"ACST half hour", "Thu, 29 Jan 2026 10:00:00 ACST", utc("2026-01-29T00:30:00Z")},
		{"NZDT", "Thu, 29 Jan 2026 10:00:00 NZDT", utc("2026-01-28T21:00:00Z")},
		{"HKT without weekday", "29 Jan 2026 10:00:00 HKT", utc("2026-01-29T02:00:00Z")},
		{"SGT without seconds", "Thu, 29 Jan 2026 10:00 SGT", utc("2026-01-29T02:00:00Z")},
		{"ISO date with zone name", "2026-01-29 10:00:00 WIB", utc("2026-01-29T03:00:00Z")},
		{"RFC 3339", "2026-01-29T10:00:00-05:00", utc("2026-01-29T15:00:00Z")},
		{"missing", "", time.Time{}},
		{"unparseable", "sometime last week", time.Time{}},
		{"nine minutes ahead kept", "Fri, 30 Jan 2026 12:09:00 +0000", utc("2026-01-30T12:09:00Z")},
		{"future clamped to now", "Fri, 30 Jan 2026 13:00:00 +0000", now},
		{"far future clamped to now", "Sat, 01 Jan 2039 00:00:00 +0000", now},
		{"JST that gofeed would put in the future", "Fri, 30 Jan 2026 20:00:00 JST", utc("2026-01-30T11:00:00Z")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pub := ""
			if tt.pubDate != "" {
				pub = "<pubDate>" + tt.pubDate + "</pubDate>"
			}
			f := parseBytes(t, rssItems(fmt.Sprintf(`<item><title>x</title>%s</item>`, pub)), "")
			got := f.Stories[0].Published
			if !got.Equal(tt.want) || got.Location() != time.UTC {
				t.Errorf("Published = %v, want %v in UTC", got, tt.want)
			}
		})
	}
}

func TestUpdatedDates(t *testing.T) {
	f := parseFile(t, "xmlbase.atom.xml", "")
	s := byTitle(t, f, "HTML title & more")
	if want := time.Date(2026, 1, 28, 9, 0, 0, 0, time.UTC); !s.Published.Equal(want) {
		t.Errorf("Published = %v, want %v", s.Published, want)
	}
	if want := time.Date(2026, 1, 28, 10, 0, 0, 0, time.UTC); !s.Updated.Equal(want) {
		t.Errorf("Updated = %v, want %v", s.Updated, want)
	}
	s = byTitle(t, parseFile(t, "feed.json", ""), "HTML content")
	if !s.Published.IsZero() || !s.Updated.Equal(time.Date(2026, 1, 29, 11, 0, 0, 0, time.UTC)) {
		t.Errorf("json: Published %v (want zero), Updated %v", s.Published, s.Updated)
	}
	f = parseBytes(t, rssItems(`<item><title>x</title><dc:date xmlns:dc="http://purl.org/dc/elements/1.1/">2099-01-01T00:00:00Z</dc:date></item>`), "")
	if u := f.Stories[0].Updated; !u.Equal(now) {
		t.Errorf("future Updated = %v, want clamped to %v", u, now)
	}
}
