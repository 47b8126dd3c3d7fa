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

		// Numeric zones after a zone name: the number is the offset.
		{"GMT+0200", "Thu, 29 Jan 2026 10:00:00 GMT+0200", utc("2026-01-29T08:00:00Z")},
		{"GMT-05:00", "Thu, 29 Jan 2026 10:00:00 GMT-05:00", utc("2026-01-29T15:00:00Z")},
		{"UTC+5:30", "Thu, 29 Jan 2026 10:00:00 UTC+5:30", utc("2026-01-29T04:30:00Z")},
		{"UTC+2 one digit", "Thu, 29 Jan 2026 10:00:00 UTC+2", utc("2026-01-29T08:00:00Z")},
		{"javascript Date string", "Thu Jan 29 2026 10:00:00 GMT-0500 (Eastern Standard Time)", utc("2026-01-29T15:00:00Z")},
		{"name and offset, offset wins", "Thu, 29 Jan 2026 10:00:00 EST -0600", utc("2026-01-29T16:00:00Z")},

		// yyyy/m/d h:mm:ss, zoneless, is UTC.
		{"slashed date and time", "2026/1/29 9:05:07", utc("2026-01-29T09:05:07Z")},
		{"slashed, padded", "2026/01/29 10:00", utc("2026-01-29T10:00:00Z")},
		{"slashed with zone", "2026/1/29 10:00:00 +0100", utc("2026-01-29T09:00:00Z")},

		// RFC 822 military zones (RFC 822's table: A is -1, N is +1).
		{"military Z", "Thu, 29 Jan 2026 10:00:00 Z", utc("2026-01-29T10:00:00Z")},
		{"military A is -1", "Thu, 29 Jan 2026 10:00:00 A", utc("2026-01-29T11:00:00Z")},
		{"military M is -12", "Thu, 29 Jan 2026 10:00:00 M", utc("2026-01-29T22:00:00Z")},
		{"military N is +1", "Thu, 29 Jan 2026 10:00:00 N", utc("2026-01-29T09:00:00Z")},
		{"military Y is +12", "Thu, 29 Jan 2026 22:00:00 Y", utc("2026-01-29T10:00:00Z")},
		{"no letter J", "Thu, 29 Jan 2026 10:00:00 J", time.Time{}},

		// Two-digit years (RFC 822), read as RFC 2822 says.
		{"two-digit year 26", "Thu, 29 Jan 26 10:00:00 GMT", utc("2026-01-29T10:00:00Z")},
		{"two-digit year 99", "Fri, 31 Dec 99 23:59:59 GMT", utc("1999-12-31T23:59:59Z")},
		{"two-digit year 04 without weekday", "01 Jan 04 19:48 EST", utc("2004-01-02T00:48:00Z")},
		{"rfc 850", "Thursday, 29-Jan-26 10:00:00 GMT", utc("2026-01-29T10:00:00Z")},

		// ISO 8601 without a zone is UTC.
		{"iso without zone", "2026-01-29T10:00:00", utc("2026-01-29T10:00:00Z")},
		{"iso with space, no seconds", "2026-01-29 10:00", utc("2026-01-29T10:00:00Z")},
		{"iso fraction", "2026-01-29T10:00:00.123456+01:00", utc("2026-01-29T09:00:00.123456Z")},
		{"iso basic format", "20260129T100000Z", utc("2026-01-29T10:00:00Z")},
		{"iso offset without colon", "2026-01-29T10:00:00+0900", utc("2026-01-29T01:00:00Z")},
		{"iso offset hours only", "2026-01-29T10:00:00-03", utc("2026-01-29T13:00:00Z")},
		{"iso date only", "2026-01-29", utc("2026-01-29T00:00:00Z")},
		{"w3c-dtf year and month", "2026-01", utc("2026-01-01T00:00:00Z")},

		// Multi-line and padded dates.
		{"broken over lines", "\n      Thu, 29 Jan 2026\n      10:00:00 +0000\n    ", utc("2026-01-29T10:00:00Z")},
		{"tabs and double spaces", "\tThu,  29  Jan  2026\t10:00:00   GMT ", utc("2026-01-29T10:00:00Z")},
		{"iso padded", "   2026-01-29T10:00:00Z \n", utc("2026-01-29T10:00:00Z")},

		// Other word orders.
		{"asctime", "Thu Jan 29 10:00:00 2026", utc("2026-01-29T10:00:00Z")},
		{"unix date with zone", "Thu Jan 29 10:00:00 JST 2026", utc("2026-01-29T01:00:00Z")},
		{"month first with pm", "January 29, 2026 10:15 PM EST", utc("2026-01-30T03:15:00Z")},
		{"month first p.m.", "Jan. 29, 2026, 9:15 p.m.", utc("2026-01-29T21:15:00Z")},
		{"12 am is midnight", "Jan 29, 2026 12:05 AM", utc("2026-01-29T00:05:00Z")},
		{"fractional seconds", "Thu, 29 Jan 2026 10:00:00.250 +0000", utc("2026-01-29T10:00:00.25Z")},
		{"lower-case zone", "Thu, 29 Jan 2026 10:00:00 gmt", utc("2026-01-29T10:00:00Z")},
		{"wrong weekday ignored", "Mon, 29 Jan 2026 10:00:00 GMT", utc("2026-01-29T10:00:00Z")},
		{"day-first dotted (gofeed's layout)", "29.01.2026 10:00:00", utc("2026-01-29T10:00:00Z")},

		// Not dates.
		{"february 31st", "Sat, 31 Feb 2026 10:00:00 GMT", time.Time{}},
		{"month 13", "2026-13-01T10:00:00Z", time.Time{}},
		{"hour 25", "Thu, 29 Jan 2026 25:00:00 GMT", time.Time{}},
		{"unknown zone name", "Thu, 29 Jan 2026 10:00:00 XYZT", utc("2026-01-29T10:00:00Z")},
		{"zero date", "0000-00-00 00:00:00", time.Time{}},
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

// TestDateElements covers the elements that date an entry besides the two
// gofeed reads: Dublin Core terms, Atom 0.3, a readable dc:date behind an
// unreadable pubDate.
func TestDateElements(t *testing.T) {
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			panic(err)
		}
		return v.UTC()
	}
	tests := []struct {
		file, title        string
		published, updated time.Time
	}{
		{"dcterms.rss.xml", "Created only", at("2026-01-20T08:00:00Z"), time.Time{}},
		{"dcterms.rss.xml", "Issued and modified", at("2026-01-21T07:00:00Z"), at("2026-01-22T08:30:00Z")},
		{"dcterms.rss.xml", "Unreadable pubDate, readable dc:date", at("2026-01-23T10:00:00Z"), at("2026-01-23T10:00:00Z")},
		{"dcterms.rss.xml", "Unprefixed updated", time.Time{}, at("2026-01-24T11:00:00Z")},
		{"dcterms.rss.xml", "pubDate wins over dcterms", at("2026-01-25T12:00:00Z"), time.Time{}},
		{"dcterms.atom.xml", "dcterms:issued, no published", at("2026-01-27T10:00:00Z"), at("2026-01-28T10:00:00Z")},
		{"dcterms.atom.xml", "dcterms only", at("2026-01-26T10:00:00Z"), at("2026-01-26T12:00:00Z")},
		{"atom03.xml", "Issued and modified", at("2026-01-29T08:00:00Z"), at("2026-01-29T08:00:00Z")},
	}
	for _, tt := range tests {
		t.Run(tt.file+"/"+tt.title, func(t *testing.T) {
			s := byTitle(t, parseFile(t, tt.file, ""), tt.title)
			if !s.Published.Equal(tt.published) || !s.Updated.Equal(tt.updated) {
				t.Errorf("Published %v, Updated %v; want %v, %v", s.Published, s.Updated, tt.published, tt.updated)
			}
		})
	}
}
