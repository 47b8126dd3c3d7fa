package parse

import (
	"testing"
	"time"
)

// FuzzParseDate checks parseDate's invariants on any text: it never panics,
// what it reads is UTC-representable and reads back the same from RFC 3339.
func FuzzParseDate(f *testing.F) {
	for _, s := range []string{
		"Thu, 29 Jan 2026 10:00:00 GMT+0200", "2026/1/29 9:05:07", "Thu, 29 Jan 26 10:00:00 A",
		"20260129T100000Z", "Thu Jan 29 2026 10:00:00 GMT-0500 (EST)", "Jan. 29, 2026, 9:15 p.m.",
		"2026-01-29T10:00:00.123456+01:00", "\n Thu, 29 Jan 2026\n 10:00:00 +0000 ", "29-Jan-26 10:00 UTC+5:30",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, ok := parseDate(s)
		if !ok {
			return
		}
		if v.Year() < 999 || v.Year() > 10000 {
			t.Fatalf("parseDate(%q) = %v: out of range", s, v)
		}
		back, ok := parseDate(v.UTC().Format(time.RFC3339Nano))
		if !ok || !back.Equal(v) {
			t.Fatalf("parseDate(%q) = %v, which reads back as %v, %v", s, v, back, ok)
		}
	})
}
